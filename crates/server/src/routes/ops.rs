//! Operations (admin): training jobs and model versions.

use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use crate::api::{CurrentModel, JobView, ModelView, ModelsResponse, TrainRequest};
use crate::auth::AdminAccess;
use crate::config::parse_k;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{parse_json_body, read_body, ApiPath, BodyKind};
use crate::state::AppState;
use crate::training::{start_job, TrainSpec};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/train", post(train_start))
        .route("/jobs/{id}", get(job_get))
        .route("/models", get(models_list))
        .route("/models/current", get(model_current))
}

/// Starts a training run in the background and answers its job id.
#[utoipa::path(
    post, path = "/v1/train", tag = "operations",
    request_body = TrainRequest,
    responses((status = 202, body = JobView), (status = 409, body = ErrorBody)),
    security(("admin_key" = []))
)]
pub(crate) async fn train_start(
    State(state): State<AppState>,
    _access: AdminAccess,
    req: Request,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    // Every field is optional, so an empty body (with or without a content type) is fine.
    let empty = req.headers().get(CONTENT_LENGTH).is_some_and(|v| v == "0")
        || !req.headers().contains_key(CONTENT_TYPE);
    let request: TrainRequest = if empty {
        TrainRequest::default()
    } else {
        parse_json_body(&read_body(req, &state, BodyKind::Json).await?)?
    };
    let k = match &request.k {
        None => state.config.k_choice().map_err(|e| ApiError::internal(e.to_string()))?,
        Some(Value::String(text)) => parse_k(text).map_err(|e| ApiError::field("k", e))?,
        Some(Value::Number(n)) => parse_k(&n.to_string()).map_err(|e| ApiError::field("k", e))?,
        Some(_) => return Err(ApiError::field("k", "expected `auto` or a number")),
    };
    let spec = TrainSpec {
        k,
        seed: request.seed.unwrap_or(state.config.training.seed),
        full: request.full,
    };
    let last_seq = state.blocking(|store| Ok(store.last_seq()?)).await?;
    let job = start_job(&state, spec, "request", last_seq)?;
    tracing::info!(job = job.id, "training requested");
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// A training job's state.
#[utoipa::path(
    get, path = "/v1/jobs/{id}", tag = "operations",
    params(("id" = u64, Path, description = "Job id")),
    responses((status = 200, body = JobView), (status = 404, body = ErrorBody)),
    security(("admin_key" = []))
)]
pub(crate) async fn job_get(
    State(state): State<AppState>,
    _access: AdminAccess,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<JobView>, ApiError> {
    state.jobs.get(id).map(Json).ok_or_else(|| ApiError::NotFound(format!("no job {id}")))
}

/// Every published model version.
#[utoipa::path(
    get, path = "/v1/models", tag = "operations",
    responses((status = 200, body = ModelsResponse)),
    security(("admin_key" = []))
)]
pub(crate) async fn models_list(
    State(state): State<AppState>,
    _access: AdminAccess,
) -> Result<Json<ModelsResponse>, ApiError> {
    let serving_version = state.models.current().version;
    let models = state.blocking(|store| Ok(store.list_models()?)).await?;
    let models = models
        .into_iter()
        .map(|m| ModelView {
            version: m.version,
            trained_at_ms: m.trained_at_ms,
            published_at_ms: m.published_at_ms,
            k: m.k,
            n_users: m.n_users,
            n_events: m.n_events,
            inertia: m.inertia,
            silhouette: m.silhouette,
            converged: m.converged,
            has_view: m.has_view,
        })
        .collect();
    Ok(Json(ModelsResponse { serving_version, models }))
}

/// The model this server answers with.
#[utoipa::path(
    get, path = "/v1/models/current", tag = "operations",
    responses((status = 200, body = CurrentModel), (status = 503, body = ErrorBody)),
    security(("admin_key" = []))
)]
pub(crate) async fn model_current(
    State(state): State<AppState>,
    _access: AdminAccess,
) -> Result<Json<CurrentModel>, ApiError> {
    let serving = state.models.current();
    let model = serving.placer.as_ref().map(|p| p.model()).ok_or(ApiError::NoModel)?;
    Ok(Json(CurrentModel {
        version: model.version,
        trained_at_ms: model.trained_at_ms,
        k: model.k,
        cluster_sizes: model.cluster_sizes.clone(),
        n_users: model.n_users,
        n_events: model.n_events,
        inertia: model.inertia,
        silhouette: model.silhouette,
        converged: model.converged,
        features: model.spec.names(),
    }))
}
