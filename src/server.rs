//! `rosefed serve`: bind, bootstrap, print the banner, serve until SIGTERM or
//! Ctrl-C, then stop accepting and let in-flight requests finish.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::db;
use crate::error::AppError;
use crate::http;
use crate::instance::{self, AppState, Bootstrap};

/// How long in-flight requests get after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn serve(
    config: Config,
    bind: Option<SocketAddr>,
    metrics_bind: Option<SocketAddr>,
    app_tokens: Vec<(crate::actors::AppName, String)>,
) -> Result<(), AppError> {
    let bind = bind.unwrap_or_else(|| config.default_bind());
    // Bind before the (slower) bootstrap so a taken port fails at once.
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|e| AppError::Unavailable(format!("cannot listen on {bind}: {e}")))?;
    let metrics_listener = match metrics_bind {
        Some(addr) => Some(TcpListener::bind(addr).await.map_err(|e| {
            AppError::Unavailable(format!("cannot listen for metrics on {addr}: {e}"))
        })?),
        None => None,
    };
    let (state, boot) = instance::prepare(config).await?;
    let base = state.config.base();
    match db::settings::set(&state.db, db::settings::PUBLIC_URL, base).await? {
        Some(old) if old != base => tracing::warn!(
            old = %old,
            new = %base,
            "the public URL changed: ids minted before keep the old address, and remote servers know this hub's actors by it"
        ),
        _ => {}
    }
    for (app, token) in &app_tokens {
        db::activities::ensure_token(&state.db, app, &crate::outbox::app_token::token_hash(token))
            .await?;
    }
    let local = listener
        .local_addr()
        .map_err(|e| AppError::Unavailable(format!("cannot read the listening address: {e}")))?;
    print_banner(&state, local, &boot).await;
    tracing::info!(%local, public_url = %state.config.base(), "serving");

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    if let Some(listener) = metrics_listener {
        let mut rx = stop_rx.clone();
        let router = http::metrics::router(state.clone());
        if let Ok(addr) = listener.local_addr() {
            println!("  metrics         http://{addr}/metrics\n");
        }
        tokio::spawn(async move {
            let stopped = async move {
                let _ = rx.wait_for(|stop| *stop).await;
            };
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(stopped)
                .await
            {
                tracing::error!(error = %e, "metrics listener failed");
            }
        });
    }
    let worker = tokio::spawn(crate::delivery::run(state.clone(), stop_rx.clone()));
    let mut drain_rx = stop_rx.clone();
    let graceful = run(listener, state.clone(), async move {
        let mut rx = stop_rx;
        let _ = rx.wait_for(|stop| *stop).await;
        tracing::info!("shutting down: no new connections, finishing in-flight requests");
    });
    let deadline = async move {
        let _ = drain_rx.wait_for(|stop| *stop).await;
        tokio::time::sleep(DRAIN_TIMEOUT).await;
    };
    tokio::select! {
        result = graceful => result.map_err(|e| AppError::Internal(format!("server failed: {e}")))?,
        () = deadline => tracing::warn!(timeout = ?DRAIN_TIMEOUT, "in-flight requests did not finish in time; stopping anyway"),
    }
    // Deliveries in flight finish (or their leases expire and another
    // process, or the next start, retries them).
    if tokio::time::timeout(DRAIN_TIMEOUT, worker).await.is_err() {
        tracing::warn!("deliveries in flight did not finish in time; they will be retried");
    }
    state.db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Serves the application on `listener` until `shutdown` resolves. Tests use
/// this directly with a port-0 listener.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Revocations by other processes reach this one's caches at once (on
    // PostgreSQL); the listener stops with the server.
    let _revocations = db::revocations::listen(&state.db, {
        let oauth = std::sync::Arc::downgrade(&state.oauth);
        move || {
            if let Some(oauth) = oauth.upgrade() {
                oauth.drop_caches();
            }
        }
    });
    axum::serve(
        listener,
        http::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("received Ctrl-C"),
        () = terminate => tracing::info!("received SIGTERM"),
    }
}

/// What a person starting the hub needs to see: where it listens and what
/// to try first.
async fn print_banner(state: &AppState, local: SocketAddr, boot: &Bootstrap) {
    let config = &state.config;
    let allowed = &config.federation.allowed_private_addresses;
    let mode = match config.mode {
        crate::config::Mode::Development => {
            "development mode: plain http and private addresses allowed".to_string()
        }
        crate::config::Mode::Production if allowed.is_empty() => "production mode".to_string(),
        // An exemption from the SSRF guard is worth seeing at every start.
        crate::config::Mode::Production => format!(
            "production mode; internal addresses allowed: {}",
            allowed.join(",")
        ),
    };
    let apps = match db::apps::list(&state.db).await {
        Ok(apps) => apps,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list apps for the banner");
            Vec::new()
        }
    };
    let mut out = String::new();
    out.push_str(&format!(
        "\nrosefed {} is running\n  listening on    http://{local}\n  public URL      {} ({mode})\n  database        {} ({})\n  instance key    sha256:{}{}\n  instance actor  {}\n",
        env!("CARGO_PKG_VERSION"),
        config.base(),
        db::redact(&config.database_url),
        state.db.backend().name(),
        state.keys.rsa_fingerprint(),
        if boot.keys_created { " (new)" } else { "" },
        config.instance_actor_id(),
    ));
    if apps.is_empty() {
        out.push_str("  apps            none yet: add one with `rosefed apps add NAME`\n");
    }
    for app in &apps {
        out.push_str(&format!(
            "  app             {:<28} {}\n",
            config.handle(&app.name),
            config.actor_id(&app.name)
        ));
    }
    if let Some(first) = apps.first() {
        out.push_str(&format!(
            "\n  try: curl '{}/.well-known/webfinger?resource=acct:{}@{}'\n       curl -H 'Accept: application/activity+json' {}\n",
            config.base(),
            first.name,
            config.authority(),
            config.actor_id(&first.name),
        ));
    }
    out.push_str(&format!(
        "  sign-in (OIDC) {}\n  members        rosefed users add NAME --email ADDR; clients: rosefed apps oauth APP --redirect-uri URI\n",
        config.url("/.well-known/openid-configuration"),
    ));
    out.push_str("  stop with Ctrl-C\n");
    println!("{out}");
}
