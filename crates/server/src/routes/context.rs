//! `POST /v1/context`: the page's events in; cluster, recommendations and version out, in one
//! round trip.

use axum::extract::State;
use axum::http::header::USER_AGENT;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use centroid_core::parse::ParseContext;
use serde_json::value::RawValue;

use crate::api::{ContextRequest, ContextResponse};
use crate::auth::{authorize, header_key, ClientIp, Role};
use crate::error::{ApiError, ErrorBody};
use crate::extract::BeaconJson;
use crate::ingest::{check_sizes, IdDefaults};
use crate::personalize::{
    consumed_by, place_posted, place_state, profile_state, recommend, RecParams, RecRequest,
};
use crate::routes::events::ingest;
use crate::state::AppState;
use crate::training::now_ms;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/context", post(context_post))
}

/// Stores the page's events, places the visitor and answers their recommendations.
///
/// A visitor with a stored profile (by `user_id`, else `anonymous_id`) is placed from it plus
/// the new events; otherwise from the posted events or the session summary.
#[utoipa::path(
    post, path = "/v1/context", tag = "context",
    request_body = ContextRequest,
    responses(
        (status = 200, body = ContextResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody),
    ),
    security(("write_key" = []))
)]
pub(crate) async fn context_post(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    BeaconJson(request): BeaconJson<ContextRequest>,
) -> Result<Json<ContextResponse>, ApiError> {
    let key = header_key(&headers).or(request.write_key.as_deref());
    authorize(&state, key, ip, Role::Write)?;
    let recommendation = RecRequest::parse(
        &state,
        RecParams {
            metric: request.metric.as_deref(),
            ranking: request.ranking.as_deref(),
            limit: request.limit,
            category: request.category.as_deref(),
            exclude: request.exclude.clone(),
            include: Some("attributes"),
            ..RecParams::default()
        },
    )?;
    let raw: Vec<Box<RawValue>> = request
        .events
        .iter()
        .map(|e| serde_json::value::to_raw_value(e).map_err(ApiError::internal))
        .collect::<Result<_, _>>()?;
    let raw_refs: Vec<&RawValue> = raw.iter().map(AsRef::as_ref).collect();
    check_sizes(&raw_refs, &state.config.limits)?;

    // One version for the whole answer.
    let serving = state.models.current();
    let user_agent = headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let defaults =
        IdDefaults { user_id: request.user_id.clone(), anonymous_id: request.anonymous_id.clone() };
    let events = ingest(&state, &raw_refs, user_agent, Some(&defaults)).await?;

    let profile_id = request.user_id.as_deref().or(request.anonymous_id.as_deref());
    let profile = match profile_id {
        Some(id) => profile_state(&state, id).await?,
        None => None,
    };
    let assignment = match &profile {
        Some(profile) => place_state(&serving, Some(profile))?,
        None => {
            let ctx = ParseContext {
                received_at_ms: now_ms(),
                max_future_ms: state.config.limits.max_future_ms,
            };
            place_posted(&serving, &request.events, request.summary.as_ref(), &ctx)?
        }
    };
    let mut recommendation = recommendation;
    recommendation.cluster = assignment.cluster.index();
    let consumed = consumed_by(&state, profile.as_ref());
    let recommendations = recommend(&state, &serving, &recommendation, Some(&consumed))?;

    Ok(Json(ContextResponse {
        model_version: serving.version,
        assignment,
        recommendations,
        events,
    }))
}
