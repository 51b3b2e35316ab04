//! The container side of the Docker harness (`federation-tests/docker/run.sh`).
//!
//! Fault scenarios run inside the federation-tests container, where the
//! hubs answer to their service names, but the faults themselves (killing
//! a container, cutting one off the network, stopping a database) can only
//! be done from the host. So a scenario asks: it prints one line
//!
//! ```text
//! @@fault VERB SERVICE
//! ```
//!
//! on stdout, and the host script performs it and answers `@@ok DETAIL`
//! or `@@err MESSAGE` on the scenario's stdin. Verbs: `kill` (SIGKILL),
//! `start`, `stop`, `disconnect` and `connect` (the `federation` network),
//! and `started` (the container's start time, to prove it was not
//! restarted).

use std::io::{BufRead, Write};
use std::time::Duration;

/// How long the host may take to carry out a fault.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

/// Asks the host to perform `VERB SERVICE` and returns its answer's detail;
/// panics if the host refuses, or if nothing drives this scenario.
pub async fn fault(request: &str) -> String {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (asked, request) = (request.to_string(), request.to_string());
    // A plain thread, not spawn_blocking: a read that never returns must not
    // keep the runtime (and so the test process) from ending.
    std::thread::spawn(move || {
        let mut out = std::io::stdout().lock();
        // On a line of its own: the test harness has printed `test NAME ... `.
        let sent = writeln!(out, "\n@@fault {request}").and_then(|()| out.flush());
        drop(out);
        let mut line = String::new();
        let read = sent.and_then(|()| std::io::stdin().lock().read_line(&mut line));
        let _ = tx.send(read.map(|_| line));
    });
    let line = match tokio::time::timeout(ANSWER_TIMEOUT, rx).await {
        Ok(Ok(Ok(line))) => line,
        Ok(Ok(Err(e))) => panic!("asking the host for `{asked}`: {e}"),
        Ok(Err(_)) => panic!("asking the host for `{asked}`: the reader thread died"),
        Err(_) => panic!("the host did not carry out `{asked}` within {ANSWER_TIMEOUT:?}"),
    };
    let line = line.trim_end();
    if line.is_empty() {
        panic!(
            "no answer to `@@fault {asked}` (stdin closed): this scenario runs under \
             federation-tests/docker/run.sh, which performs the faults"
        );
    }
    if let Some(detail) = line.strip_prefix("@@ok") {
        return detail.trim().to_string();
    }
    panic!("the host could not `{asked}`: {line}");
}

/// The name the hubs reach this container by (`ROSEFED_PEER_HOST`).
pub fn peer_host() -> String {
    std::env::var("ROSEFED_PEER_HOST")
        .expect("ROSEFED_PEER_HOST names this container on the federation network")
}

/// The Prometheus scrape of the hub `ROSEFED_{prefix}_METRICS_URL` names.
pub async fn scrape(prefix: &str) -> String {
    let var = format!("ROSEFED_{prefix}_METRICS_URL");
    let url = std::env::var(&var).unwrap_or_else(|_| panic!("{var} is not set"));
    crate::metrics::scrape(&url).await
}
