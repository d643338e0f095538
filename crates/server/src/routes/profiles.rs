//! Profiles (admin): read, merge an anonymous id into a user, delete.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use centroid_core::event::EventType;
use centroid_core::reducer::CATEGORY_UNIT;

use crate::api::{DeletedProfile, MergeRequest, MergeResponse, ProfileResponse, SessionView};
use crate::auth::AdminAccess;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::personalize::{place_state, profile_state};
use crate::state::AppState;

/// Sessions listed in a profile.
const MAX_SESSIONS: usize = 50;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/profiles/merge", post(profile_merge))
        .route("/profiles/{id}", get(profile_get).delete(profile_delete))
}

/// A profile's aggregates, cluster and sessions.
#[utoipa::path(
    get, path = "/v1/profiles/{id}", tag = "profiles",
    params(("id" = String, Path, description = "User or anonymous id")),
    responses((status = 200, body = ProfileResponse), (status = 404, body = ErrorBody)),
    security(("admin_key" = []))
)]
pub(crate) async fn profile_get(
    State(state): State<AppState>,
    _access: AdminAccess,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ProfileResponse>, ApiError> {
    let serving = state.models.current();
    let lookup = id.clone();
    let (merged_into, events, prediction) = state
        .blocking(move |store| {
            let merged_into = store.linked_user(&lookup)?;
            let events = store.user_events(&lookup, 0)?;
            let prediction = store.user_prediction(&lookup)?;
            Ok((merged_into, events, prediction))
        })
        .await?;
    let profile = profile_state(&state, &id).await?;
    let Some(profile) = profile else {
        let reason = match &merged_into {
            Some(_) => "was merged into another profile",
            None => "has no events",
        };
        return Err(ApiError::NotFound(format!("profile `{id}` {reason}")));
    };

    let mut sessions: BTreeMap<Option<String>, SessionView> = BTreeMap::new();
    for stored in &events {
        let event = &stored.event;
        let session = sessions.entry(event.session_id.clone()).or_insert_with(|| SessionView {
            session_id: event.session_id.clone(),
            n_events: 0,
            first_ts: event.timestamp_ms,
            last_ts: event.timestamp_ms,
        });
        session.n_events += 1;
        session.first_ts = session.first_ts.min(event.timestamp_ms);
        session.last_ts = session.last_ts.max(event.timestamp_ms);
    }
    let mut sessions: Vec<SessionView> = sessions.into_values().collect();
    sessions.sort_by_key(|s| std::cmp::Reverse(s.last_ts));
    sessions.truncate(MAX_SESSIONS);

    let aggregate = &profile.aggregate;
    let counts = EventType::ALL
        .iter()
        .filter(|t| aggregate.counts[t.index()] > 0)
        .map(|t| (t.as_str().to_owned(), aggregate.counts[t.index()]))
        .collect();
    let categories = aggregate
        .category_weights
        .iter()
        .map(|(name, units)| (name.clone(), *units as f64 / CATEGORY_UNIT as f64))
        .collect();
    let trained_cluster =
        prediction.filter(|(version, _)| Some(*version) == serving.version).map(|(_, p)| p.cluster);
    Ok(Json(ProfileResponse {
        profile_id: id,
        merged_into,
        counts,
        rating_sum: aggregate.rating_sum.to_f64(),
        watch_seconds: aggregate.watch_seconds.to_f64(),
        categories,
        n_items: profile.interactions.len(),
        first_ts: aggregate.first_ts,
        last_ts: aggregate.last_ts,
        cluster: place_state(&serving, Some(&profile))?,
        trained_cluster,
        sessions,
    }))
}

/// Merges an anonymous id into a user on login; the user's cluster is re-assigned at once.
#[utoipa::path(
    post, path = "/v1/profiles/merge", tag = "profiles",
    request_body = MergeRequest,
    responses((status = 200, body = MergeResponse), (status = 400, body = ErrorBody)),
    security(("admin_key" = []))
)]
pub(crate) async fn profile_merge(
    State(state): State<AppState>,
    _access: AdminAccess,
    ApiJson(request): ApiJson<MergeRequest>,
) -> Result<Json<MergeResponse>, ApiError> {
    for (field, value) in [("anonymous_id", &request.anonymous_id), ("user_id", &request.user_id)] {
        centroid_core::parse::check_id(value, field)
            .map_err(|e| ApiError::field(field, e.reason))?;
    }
    if request.anonymous_id == request.user_id {
        return Err(ApiError::field("anonymous_id", "must differ from `user_id`"));
    }
    let serving = state.models.current();
    let (anonymous_id, user_id) = (request.anonymous_id.clone(), request.user_id.clone());
    let outcome =
        state.blocking(move |store| Ok(store.merge_profiles(&anonymous_id, &user_id)?)).await?;
    let profile = profile_state(&state, &request.user_id).await?;
    Ok(Json(MergeResponse {
        events_moved: outcome.events_moved,
        state_merged: outcome.state_merged,
        assignment: place_state(&serving, profile.as_ref())?,
    }))
}

/// Deletes a visitor's events, aggregates and predictions; the next model cannot see them.
#[utoipa::path(
    delete, path = "/v1/profiles/{id}", tag = "profiles",
    params(("id" = String, Path, description = "User or anonymous id")),
    responses((status = 200, body = DeletedProfile), (status = 403, body = ErrorBody)),
    security(("admin_key" = []))
)]
pub(crate) async fn profile_delete(
    State(state): State<AppState>,
    _access: AdminAccess,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DeletedProfile>, ApiError> {
    let target = id.clone();
    let counts = state.blocking(move |store| Ok(store.delete_profile(&target)?)).await?;
    tracing::info!(events = counts.events, "profile deleted");
    Ok(Json(DeletedProfile {
        profile_id: id,
        events: counts.events,
        states: counts.states,
        predictions: counts.predictions,
        identity_links: counts.identity_links,
    }))
}
