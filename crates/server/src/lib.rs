//! Centroid's HTTP API: the axum router, its handlers and the server around them.
//!
//! - [`routes`]: one module per resource under `/v1`, plus health, metrics and OpenAPI;
//! - [`state::AppState`]: the store, the configuration, the served model (swapped atomically,
//!   see [`serving`]), the catalogue cache, the group-commit event writer ([`ingest`]) and the
//!   training jobs ([`training`]);
//! - [`config`]: the TOML/environment/flag configuration;
//! - [`serve`]: binds, runs the background tasks and shuts down gracefully.
//!
//! Store calls block, so handlers run them with `spawn_blocking`; K-means training runs on a
//! thread of its own, never on the request workers.

pub mod api;
pub mod auth;
pub mod catalogue;
pub mod config;
pub mod error;
pub mod extract;
pub mod ingest;
pub mod metrics;
pub mod openapi;
pub mod personalize;
pub mod routes;
pub mod serving;
pub mod state;
pub mod training;

use std::net::SocketAddr;
use std::time::Duration;

pub use config::{Config, ConfigError, Overrides};
pub use error::ApiError;
pub use routes::router;
pub use serving::Serving;
pub use state::{AppState, StartError};

/// Serves `state` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish (up to `server.shutdown_grace_secs`).
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let background = tokio::spawn(training::background(state.clone(), stop_rx));
    let grace = Duration::from_secs(state.config.server.shutdown_grace_secs);

    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let shutdown_state = state.clone();
    let (drained_tx, drained_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        shutdown_state.set_ready(false);
        tracing::info!("shutting down; finishing in-flight requests");
        let _ = stop_tx.send(true);
        let _ = drained_tx.send(());
    });

    let result = tokio::select! {
        result = server => result,
        _ = async {
            // After the signal, in-flight requests get the grace period, then we stop anyway.
            let _ = drained_rx.await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still running at the end of the grace period");
            Ok(())
        }
    };
    background.abort();
    if state.jobs.is_running() {
        tracing::warn!("a training run is still going; it publishes nothing unless it completes");
    }
    result
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
