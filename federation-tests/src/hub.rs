//! A real `rosefed serve` process on a port of its own, with its output
//! captured to files that are printed if the test fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::{eventually, free_port};

/// How long a hub may take to answer `/health` after starting.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The rosefed binary: `$ROSEFED_BIN`, else the one cargo built beside this
/// test binary (`target/<profile>/rosefed`).
pub fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("ROSEFED_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("current test executable");
    // target/<profile>/deps/<test-binary> → target/<profile>/rosefed
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps");
    let bin = profile_dir.join(format!("rosefed{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} does not exist: run the tests with `cargo test --workspace` (which builds it) or set ROSEFED_BIN",
        bin.display()
    );
    bin
}

pub struct Hub {
    child: Option<Child>,
    /// Public URL, e.g. `http://127.0.0.1:40123`.
    pub base: String,
    pub port: u16,
    /// Where this process listens (differs from `port` behind a balancer).
    pub bind_port: u16,
    logs: tempfile::TempDir,
}

impl Hub {
    /// Starts a hub on a fresh port with `database_url`, plus `extra` flags,
    /// and waits until `/health` answers 200.
    pub async fn start(database_url: &str, data_dir: &Path, extra: &[&str]) -> Hub {
        let port = free_port();
        Hub::start_on(port, database_url, data_dir, extra).await
    }

    /// As [`Hub::start`], on a given port (to restart a hub at the same URL).
    pub async fn start_on(port: u16, database_url: &str, data_dir: &Path, extra: &[&str]) -> Hub {
        let mut hub = Hub::spawn(port, database_url, data_dir, extra);
        hub.wait_healthy().await;
        hub
    }

    /// Starts the process without waiting for it to be ready.
    pub fn spawn(port: u16, database_url: &str, data_dir: &Path, extra: &[&str]) -> Hub {
        Hub::spawn_behind(port, port, database_url, data_dir, extra)
    }

    /// A process listening on `bind_port` for the public URL on
    /// `public_port`: several of these make one scaled-out instance.
    pub fn spawn_behind(
        public_port: u16,
        bind_port: u16,
        database_url: &str,
        data_dir: &Path,
        extra: &[&str],
    ) -> Hub {
        Hub::spawn_as(
            "127.0.0.1",
            public_port,
            bind_port,
            database_url,
            data_dir,
            extra,
        )
    }

    /// As [`Hub::start_on`], with the public URL `http://{host}:{port}` (e.g.
    /// `localhost`, which reaches the same loopback address under another
    /// name, so one hub can moderate the other's domain).
    pub async fn start_named_on(
        host: &str,
        port: u16,
        database_url: &str,
        data_dir: &Path,
        extra: &[&str],
    ) -> Hub {
        let mut hub = Hub::spawn_as(host, port, port, database_url, data_dir, extra);
        hub.wait_healthy().await;
        hub
    }

    fn spawn_as(
        host: &str,
        public_port: u16,
        bind_port: u16,
        database_url: &str,
        data_dir: &Path,
        extra: &[&str],
    ) -> Hub {
        let port = public_port;
        let base = format!("http://{host}:{port}");
        let logs = tempfile::tempdir().expect("log directory");
        let stdout = std::fs::File::create(logs.path().join("stdout")).expect("stdout file");
        let stderr = std::fs::File::create(logs.path().join("stderr")).expect("stderr file");
        let child = Command::new(binary())
            .arg("serve")
            .args(["--public-url", &base])
            .args(["--database-url", database_url])
            .args(["--bind", &format!("127.0.0.1:{bind_port}")])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("spawn rosefed");
        Hub {
            child: Some(child),
            base,
            port,
            bind_port,
            logs,
        }
    }

    /// Waits until `/health` answers 200; panics with the process output if
    /// it exits or takes longer than [`START_TIMEOUT`].
    pub async fn wait_healthy(&mut self) {
        let client = crate::http();
        let health = format!("http://127.0.0.1:{}/health", self.bind_port);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(r) = client.get(&health).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "rosefed exited with {status} before it was healthy\n{}",
                    self.output()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "rosefed was not healthy within {START_TIMEOUT:?}\n{}",
                    self.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: the process gets no chance to clean up, like a crash or an
    /// OOM kill.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What the process printed so far.
    pub fn output(&self) -> String {
        let read =
            |name: &str| std::fs::read_to_string(self.logs.path().join(name)).unwrap_or_default();
        format!(
            "--- stdout ---\n{}--- stderr ---\n{}",
            read("stdout"),
            read("stderr")
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub async fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("hub is running");
        let signalled = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(signalled.success(), "kill -TERM failed");
        eventually(
            "rosefed to exit after SIGTERM",
            Duration::from_secs(40),
            || {
                let status = child.try_wait().ok().flatten();
                async move { status }
            },
        )
        .await
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("rosefed output at {}:\n{}", self.base, self.output());
        }
    }
}

/// Runs a rosefed command (not `serve`) against a database and returns its
/// stdout, panicking with its stderr on failure.
pub fn cli(public_url: &str, database_url: &str, data_dir: &Path, args: &[&str]) -> String {
    cli_with_input(public_url, database_url, data_dir, args, "")
}

/// As [`cli`], with `input` on its standard input (e.g. a password for
/// `users add --password-stdin`).
pub fn cli_with_input(
    public_url: &str,
    database_url: &str,
    data_dir: &Path,
    args: &[&str],
    input: &str,
) -> String {
    use std::io::Write;
    let mut child = Command::new(binary())
        .args(["--public-url", public_url, "--database-url", database_url])
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rosefed");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("run rosefed");
    assert!(
        out.status.success(),
        "rosefed {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
