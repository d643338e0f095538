//! Unversioned operational endpoints: liveness, readiness, metrics and the OpenAPI document.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::api::Health;
use crate::openapi::ApiDoc;
use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_get))
        .route("/openapi.json", get(openapi_get))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".into(), model_version: None })
}

/// The server can answer: started, not shutting down, and the database answers.
#[utoipa::path(
    get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Health))
)]
pub(crate) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let model_version = state.models.current().version;
    let not_ready = |status: &str| {
        (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: status.into(), model_version }))
    };
    if !state.ready.load(Ordering::Relaxed) {
        return not_ready("shutting down");
    }
    if state.blocking(|store| Ok(store.last_seq()?)).await.is_err() {
        return not_ready("database unavailable");
    }
    (StatusCode::OK, Json(Health { status: "ok".into(), model_version }))
}

/// Prometheus text exposition.
pub(crate) async fn metrics_get(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
}

/// The OpenAPI description, generated from the handlers' types.
pub(crate) async fn openapi_get() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
