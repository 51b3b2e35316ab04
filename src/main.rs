//! The `rosefed` binary: parse the command line, set up logging, run, and
//! turn any error into one line on stderr and a non-zero exit status.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use rosefed::cli::{self, Cli, LogFormat};
use tracing_subscriber::EnvFilter;

/// glibc gives threads malloc arenas of their own, up to eight per core,
/// and memory freed in one is not reused by another: under a fan-out the
/// hub's ten-odd threads (runtime, SQLite connections) held 15 MiB more
/// than with two arenas, at the same speed. Two, as Mastodon's units set
/// with `MALLOC_ARENA_MAX`, unless the operator set that variable.
fn bound_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only changes a malloc tunable, and runs before
        // any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

fn main() -> ExitCode {
    bound_malloc_arenas();
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    cli.public_url_defaulted = matches!(
        matches.value_source("public_url"),
        Some(ValueSource::DefaultValue) | None
    );
    // Held until the command has run: dropping it flushes the last lines.
    let log = init_logging(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(cli::run(cli));
    // Every queued log line out before the last word.
    drop(log);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr through a writer thread, so a request never waits
/// on the terminal or the log collector; when its queue is full, loggers
/// wait rather than lose lines.
///
/// The queue holds [`LOG_QUEUE_LINES`] lines. tracing-appender's default,
/// 128,000, allocates (and touches) 4 MiB at start: a fifth of an idle
/// hub's memory, for bursts the writer thread absorbs anyway.
/// Log lines queued for the writer thread before loggers wait: about a
/// second of the inbox's busiest logging, in 256 KiB.
const LOG_QUEUE_LINES: usize = 8192;

fn init_logging(cli: &Cli) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(cli.default_log_filter()));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .finish(std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal());
    match cli.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    guard
}
