//! `GET /v1/recommendations` (a cluster's list) and `GET /v1/users/{id}/recommendations`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::api::{
    RecommendationsQuery, RecommendationsResponse, UserRecommendationsQuery,
    UserRecommendationsResponse,
};
use crate::auth::WriteAccess;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::personalize::{
    consumed_by, place_state, profile_state, recommend, serving_for, split_ids, RecParams,
    RecRequest,
};
use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/recommendations", get(recommendations_list))
        .route("/users/{id}/recommendations", get(user_recommendations_list))
}

/// A page of a cluster's (or the global) list, from the served view.
#[utoipa::path(
    get, path = "/v1/recommendations", tag = "recommendations",
    params(RecommendationsQuery),
    responses(
        (status = 200, body = RecommendationsResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("write_key" = []))
)]
pub(crate) async fn recommendations_list(
    State(state): State<AppState>,
    _access: WriteAccess,
    ApiQuery(query): ApiQuery<RecommendationsQuery>,
) -> Result<Json<RecommendationsResponse>, ApiError> {
    let params = RecParams {
        cluster: query.cluster.as_deref(),
        metric: query.metric.as_deref(),
        ranking: query.ranking.as_deref(),
        limit: query.limit,
        cursor: query.cursor.as_deref(),
        category: query.category.as_deref(),
        exclude: split_ids(query.exclude.as_deref()),
        include: query.include.as_deref(),
    };
    let request = RecRequest::parse(&state, params)?;
    let serving = serving_for(&state, request.cursor)?;
    Ok(Json(recommend(&state, &serving, &request, None)?))
}

/// A known user's list: their current cluster, without what they already consumed.
#[utoipa::path(
    get, path = "/v1/users/{id}/recommendations", tag = "recommendations",
    params(("id" = String, Path, description = "User or anonymous id"), UserRecommendationsQuery),
    responses(
        (status = 200, body = UserRecommendationsResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    ),
    security(("write_key" = []))
)]
pub(crate) async fn user_recommendations_list(
    State(state): State<AppState>,
    _access: WriteAccess,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<UserRecommendationsQuery>,
) -> Result<Json<UserRecommendationsResponse>, ApiError> {
    let mut request = RecRequest::parse(
        &state,
        RecParams {
            metric: query.metric.as_deref(),
            ranking: query.ranking.as_deref(),
            limit: query.limit,
            cursor: query.cursor.as_deref(),
            category: query.category.as_deref(),
            exclude: split_ids(query.exclude.as_deref()),
            include: query.include.as_deref(),
            ..RecParams::default()
        },
    )?;
    let serving = serving_for(&state, request.cursor)?;
    let profile = profile_state(&state, &id).await?;

    let assignment = place_state(&serving, profile.as_ref())?;
    request.cluster = assignment.cluster.index();
    let consumed = consumed_by(&state, profile.as_ref());
    let recommendations = recommend(&state, &serving, &request, Some(&consumed))?;
    Ok(Json(UserRecommendationsResponse { assignment, recommendations }))
}
