//! The router: one module per resource, nested under `/v1`, plus the tower layers every
//! request passes (tracing, metrics, timeout, origin guard, CORS).

pub(crate) mod assign;
pub(crate) mod content;
pub(crate) mod context;
pub(crate) mod events;
pub(crate) mod frontend;
pub(crate) mod health;
pub(crate) mod ops;
pub(crate) mod profiles;
pub(crate) mod recommendations;

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::auth::is_non_simple;
use crate::error::ApiError;
use crate::state::AppState;

/// The whole API, ready to serve.
pub fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .merge(events::routes())
        .merge(assign::routes())
        .merge(recommendations::routes())
        .merge(content::routes())
        .merge(context::routes())
        .merge(profiles::routes())
        .merge(ops::routes());

    Router::new()
        .nest("/v1", v1)
        .merge(health::routes())
        .merge(frontend::routes(&state))
        .fallback(not_found)
        .layer(cors_layer(&state))
        .layer(from_fn_with_state(state.clone(), origin_guard))
        .layer(from_fn_with_state(state.clone(), timeout))
        .layer(from_fn_with_state(state.clone(), record_metrics))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let route = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or("unmatched", MatchedPath::as_str);
                    tracing::info_span!("request", method = %req.method(), route)
                })
                .on_request(())
                .on_failure(()),
        )
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint; see /openapi.json".into())
}

fn cors_layer(state: &AppState) -> CorsLayer {
    let origins = state.origins.clone();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, parts| {
            let host = parts.headers.get(HOST).and_then(|h| h.to_str().ok());
            origin.to_str().is_ok_and(|o| origins.allows(o, host))
        }))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
            HeaderName::from_static("x-centroid-key"),
        ])
        .max_age(Duration::from_secs(3600))
}

/// Refuses browser requests from other origins that a browser would have preflighted; simple
/// ones pass and get no CORS headers, so the page cannot read the answer.
async fn origin_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(origin) = req.headers().get(ORIGIN).and_then(|o| o.to_str().ok()) {
        let host = req.headers().get(HOST).and_then(|h| h.to_str().ok());
        if !state.origins.allows(origin, host) && is_non_simple(req.method(), req.headers()) {
            return ApiError::OriginNotAllowed(origin.to_owned()).into_response();
        }
    }
    next.run(req).await
}

async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = Duration::from_millis(state.config.server.request_timeout_ms);
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::Unavailable(format!(
            "the request took longer than `server.request_timeout_ms` = {}",
            limit.as_millis()
        ))
        .into_response(),
    }
}

async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().clone();
    let response = next.run(req).await;
    let status = response.status().as_u16();
    state.metrics.observe_request(&route, method.as_str(), status, started.elapsed());
    tracing::debug!(status, elapsed_us = started.elapsed().as_micros() as u64, "request answered");
    response
}
