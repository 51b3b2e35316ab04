//! Harness for black-box tests of rosefed: fresh databases on SQLite and
//! PostgreSQL ([`database`]) and real hub processes started from the built
//! binary ([`hub`]). It never links rosefed itself, so what it tests is
//! exactly what an operator runs. rosefed's own integration tests reuse
//! [`database`] so both suites create and drop databases the same way.

pub mod database;
pub mod hub;

use std::time::{Duration, Instant};

/// A port that was free a moment ago (the OS picks it). Used where a
/// process must know its public URL before it binds.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// Polls `check` until it returns `Some`, or panics with `what` after
/// `timeout`. Tests wait on conditions, never on fixed sleeps.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
