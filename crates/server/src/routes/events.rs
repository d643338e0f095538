//! `POST /v1/events`: collection of one event or a batch, JSON or `text/plain` (beacon).

use axum::extract::{Request, State};
use axum::http::header::USER_AGENT;
use axum::routing::post;
use axum::{Json, Router};
use centroid_core::parse::ParseContext;

use crate::api::{EventStatus, EventsResponse};
use crate::auth::{authorize, client_ip, header_key, Role};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{read_body, BodyKind};
use crate::ingest::{parse_batch, settle, split_body, IdDefaults};
use crate::state::AppState;
use crate::training::now_ms;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/events", post(events_ingest))
}

/// Stores events; answers once every accepted event is durable.
#[utoipa::path(
    post, path = "/v1/events", tag = "events",
    request_body(content = Object, description = "One event, an array of events, or \
        {\"writeKey\", \"batch\": [...]}; `application/json` or `text/plain`"),
    responses(
        (status = 200, body = EventsResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
    ),
    security(("write_key" = []))
)]
pub(crate) async fn events_ingest(
    State(state): State<AppState>,
    req: Request,
) -> Result<Json<EventsResponse>, ApiError> {
    let (parts, body) = req.into_parts();
    let ip = client_ip(&parts, state.config.rate_limit.trust_forwarded_for);
    let user_agent =
        parts.headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let header_key = header_key(&parts.headers).map(str::to_owned);
    // A header key is checked before the body is read; a beacon's key is in the body.
    if let Some(key) = &header_key {
        authorize(&state, Some(key), ip, Role::Write)?;
    }
    let bytes = read_body(Request::from_parts(parts, body), &state, BodyKind::JsonOrText).await?;
    let raw = split_body(&bytes, &state.config.limits)?;
    if header_key.is_none() {
        authorize(&state, raw.write_key.as_deref(), ip, Role::Write)?;
    }

    let response = ingest(&state, &raw.events, &user_agent, None).await?;
    Ok(Json(response))
}

/// Parses, stores and merges; shared with `/v1/context`.
pub(crate) async fn ingest(
    state: &AppState,
    raw: &[&serde_json::value::RawValue],
    user_agent: &str,
    defaults: Option<&IdDefaults>,
) -> Result<EventsResponse, ApiError> {
    let ctx =
        ParseContext { received_at_ms: now_ms(), max_future_ms: state.config.limits.max_future_ms };
    let drop_bots = state.config.ingest.drop_bots;
    let request_is_bot = drop_bots && state.bots.is_bot(user_agent);
    let bots = drop_bots.then_some(&state.bots);
    let mut parsed = parse_batch(raw, &ctx, bots, request_is_bot, defaults, &state.event_ids);

    let (indices, events): (Vec<usize>, Vec<_>) =
        std::mem::take(&mut parsed.events).into_iter().unzip();
    let outcomes = state.writer.append(events).await?;
    settle(&mut parsed.results, &indices, &outcomes);

    // After the append, so the identified visitor's events of this batch move too.
    let identifies = std::mem::take(&mut parsed.identifies);
    if !identifies.is_empty() {
        state
            .blocking(move |store| {
                for (_, anonymous_id, user_id) in &identifies {
                    store.merge_profiles(anonymous_id, user_id)?;
                }
                Ok(())
            })
            .await?;
    }

    let response = EventsResponse::from_results(parsed.results, parsed.bots_dropped);
    let metrics = &state.metrics;
    metrics.count_events("accepted", response.accepted);
    metrics.count_events("duplicate", response.duplicates);
    metrics.count_events("rejected", response.rejected);
    metrics.count_events("bot", response.bots_dropped);
    metrics.count_events("clamped", response.clamped);
    let ignored = response.results.iter().filter(|r| r.status == EventStatus::Ignored).count();
    metrics.count_events("ignored", ignored as u64);
    tracing::debug!(
        accepted = response.accepted,
        duplicates = response.duplicates,
        rejected = response.rejected,
        bots_dropped = response.bots_dropped,
        "events ingested"
    );
    Ok(response)
}
