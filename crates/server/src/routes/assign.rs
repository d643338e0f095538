//! `POST /v1/assign` (a visitor with no stored profile) and `GET /v1/users/{id}/cluster`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use centroid_core::parse::ParseContext;

use crate::api::{AssignRequest, Assignment};
use crate::auth::{authorize, header_key, ClientIp, Role};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, BeaconJson};
use crate::personalize::{place_posted, place_state, profile_state};
use crate::state::AppState;
use crate::training::now_ms;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/assign", post(assign_post))
        .route("/users/{id}/cluster", get(user_cluster_get))
}

/// Places a visitor from posted events or a session summary, with the saved model scaling.
#[utoipa::path(
    post, path = "/v1/assign", tag = "assignment",
    request_body = AssignRequest,
    responses(
        (status = 200, body = Assignment),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody),
    ),
    security(("write_key" = []))
)]
pub(crate) async fn assign_post(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    BeaconJson(request): BeaconJson<AssignRequest>,
) -> Result<Json<Assignment>, ApiError> {
    let key = header_key(&headers).or(request.write_key.as_deref());
    authorize(&state, key, ip, Role::Write)?;
    let max = state.config.limits.max_assign_events;
    if request.events.len() > max {
        return Err(ApiError::PayloadTooLarge {
            what: "the number of events",
            limit: "limits.max_assign_events",
            value: max,
        });
    }

    let serving = state.models.current();
    let ctx =
        ParseContext { received_at_ms: now_ms(), max_future_ms: state.config.limits.max_future_ms };
    let assignment = place_posted(&serving, &request.events, request.summary.as_ref(), &ctx)?;
    Ok(Json(assignment))
}

/// A stored profile's cluster, including events that arrived since the last fold.
#[utoipa::path(
    get, path = "/v1/users/{id}/cluster", tag = "assignment",
    params(("id" = String, Path, description = "User or anonymous id")),
    responses((status = 200, body = Assignment), (status = 401, body = ErrorBody)),
    security(("write_key" = []))
)]
pub(crate) async fn user_cluster_get(
    State(state): State<AppState>,
    _access: crate::auth::WriteAccess,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Assignment>, ApiError> {
    let serving = state.models.current();
    let profile = profile_state(&state, &id).await?;
    Ok(Json(place_state(&serving, profile.as_ref())?))
}
