//! A stock OAuth 2 / OpenID Connect client against a live hub: Python's
//! Authlib, unmodified, in the virtualenv that `.ci/run` creates from
//! `stock-clients/requirements.txt`. `stock-clients/authlib_flow.py` runs
//! discovery, authorization code + PKCE (signing in through the HTML form
//! as a browser would), validates the id_token against the JWKS, calls
//! userinfo, refreshes, and checks that replaying a rotated-out refresh
//! token is refused. This test provisions a member and a client with the
//! CLI, on SQLite and on PostgreSQL, and requires the script to pass.
//!
//! The interpreter is `$ROSEFED_AUTHLIB_PYTHON` (the virtualenv's python).
//! Without it the test uses, or creates once with `python3 -m venv` and
//! pip, `target/authlib-venv` (the one `.ci/run` makes), so plain
//! `cargo test --workspace` runs it too. If that is impossible (no python3,
//! no package index) it prints a loud SKIPPED line and passes, unless
//! `ROSEFED_REQUIRE_AUTHLIB=1` (as in CI), when it fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use federation_tests::database::TestDatabase;
use federation_tests::hub::{binary, cli, Hub};
use federation_tests::on_both_databases;

/// Nothing listens here: the script reads the redirect, never follows it.
const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
/// The whole Python flow is a dozen local requests; this only stops a hang.
const FLOW_TIMEOUT: Duration = Duration::from_secs(120);

on_both_databases!(authlib_runs_the_oidc_flow);

/// The virtualenv's interpreter, or `None` (after saying so) when the
/// stock-client test is not set up and not required.
fn authlib_python() -> Option<PathBuf> {
    let required = std::env::var("ROSEFED_REQUIRE_AUTHLIB").is_ok_and(|v| v == "1" || v == "true");
    match std::env::var_os("ROSEFED_AUTHLIB_PYTHON").filter(|v| !v.is_empty()) {
        Some(python) => {
            let python = PathBuf::from(python);
            assert!(
                python.exists(),
                "ROSEFED_AUTHLIB_PYTHON={} does not exist: create the virtualenv with \
                 `python3 -m venv target/authlib-venv && target/authlib-venv/bin/pip install \
                 -r federation-tests/stock-clients/requirements.txt` (as .ci/run does)",
                python.display()
            );
            Some(python)
        }
        None => match default_venv() {
            Ok(python) => Some(python),
            Err(why) => skip_or_fail(required, &why),
        },
    }
}

/// `target/authlib-venv`, created on first use. Both tests of this binary
/// share one attempt.
fn default_venv() -> Result<PathBuf, String> {
    static VENV: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    VENV.get_or_init(|| {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .ok_or("no workspace directory")?
            .to_path_buf();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace.join("target"));
        let venv = target.join("authlib-venv");
        let python = venv.join("bin").join("python");
        let ready = |python: &Path| {
            Command::new(python)
                .args(["-c", "import authlib, joserfc, requests"])
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if ready(&python) {
            return Ok(python);
        }
        let _ = writeln!(
            std::io::stderr(),
            "creating {} for the Authlib stock-client test",
            venv.display()
        );
        let run = |cmd: &mut Command| -> Result<(), String> {
            let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{cmd:?} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
        };
        run(Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv))?;
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(workspace.join("federation-tests/stock-clients/requirements.txt")))?;
        if ready(&python) {
            Ok(python)
        } else {
            Err("the virtualenv was created but cannot import authlib".into())
        }
    })
    .clone()
}

fn skip_or_fail(required: bool, why: &str) -> Option<PathBuf> {
    match required {
        true => panic!(
            "ROSEFED_REQUIRE_AUTHLIB=1 but no Authlib virtualenv: {why}. Point \
             ROSEFED_AUTHLIB_PYTHON at the python of a virtualenv with \
             federation-tests/stock-clients/requirements.txt installed"
        ),
        false => {
            // Past the harness's capture, so a skip is never silent.
            let _ = writeln!(
                std::io::stderr(),
                "\n!!!!!!!! SKIPPED the Authlib stock-client test: set ROSEFED_AUTHLIB_PYTHON \
                 to the python of a virtualenv with federation-tests/stock-clients/requirements.txt \
                 installed (.ci/run creates target/authlib-venv). Set ROSEFED_REQUIRE_AUTHLIB=1 \
                 to make this a failure. !!!!!!!!\n"
            );
            None
        }
    }
}

/// `rosefed users add` with the password on standard input (the harness's
/// `cli` gives the command no stdin).
fn add_member(hub: &Hub, db: &TestDatabase, name: &str, email: &str, password: &str) {
    let mut child = Command::new(binary())
        .args(["--public-url", &hub.base, "--database-url", &db.url])
        .arg("--data-dir")
        .arg(db.dir.path())
        .args(["users", "add", name, "--email", email, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rosefed users add");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write the password");
    let out = child
        .wait_with_output()
        .expect("wait for rosefed users add");
    assert!(
        out.status.success(),
        "rosefed users add {name} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The value of a `key: value` line of `rosefed apps oauth` output.
fn field<'a>(output: &'a str, key: &str) -> &'a str {
    output
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no `{key}:` line in rosefed apps oauth output:\n{output}"))
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("stock-clients/authlib_flow.py")
}

async fn authlib_runs_the_oidc_flow(db: TestDatabase) {
    let Some(python) = authlib_python() else {
        return;
    };
    let hub = Hub::start(&db.url, db.dir.path(), &[]).await;

    let username = "alice";
    let password = format!("stock-client-{}", uuid::Uuid::new_v4().simple());
    add_member(&hub, &db, username, "alice@example.org", &password);
    let creds = cli(
        &hub.base,
        &db.url,
        db.dir.path(),
        &["apps", "oauth", "blog", "--redirect-uri", REDIRECT_URI],
    );
    let client_id = field(&creds, "client_id");
    let client_secret = field(&creds, "client_secret");

    // Arguments go through the environment, so the secret and the password
    // stay out of process listings.
    let mut flow = tokio::process::Command::new(&python);
    flow.arg(script())
        .env("ROSEFED_BASE_URL", &hub.base)
        .env("ROSEFED_CLIENT_ID", client_id)
        .env("ROSEFED_CLIENT_SECRET", client_secret)
        .env("ROSEFED_USERNAME", username)
        .env("ROSEFED_PASSWORD", &password)
        .env("ROSEFED_REDIRECT_URI", REDIRECT_URI)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(FLOW_TIMEOUT, flow.output())
        .await
        .unwrap_or_else(|_| panic!("authlib_flow.py did not finish within {FLOW_TIMEOUT:?}"))
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} {}: {e}",
                python.display(),
                script().display()
            )
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // On failure the hub's own output follows: `Hub` prints it when dropped
    // during a panic.
    assert!(
        out.status.success(),
        "the Authlib flow failed on {:?} ({}):\n--- authlib_flow.py stdout ---\n{stdout}\
         --- authlib_flow.py stderr ---\n{stderr}",
        db.backend,
        out.status
    );
    assert!(
        stdout.contains("[authlib] PASS"),
        "authlib_flow.py exited 0 without its PASS line:\n{stdout}{stderr}"
    );
    println!("{stdout}");
}
