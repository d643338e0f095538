//! The catalogue: attribute reads (write key) and writes (admin key).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use centroid_core::ContentItem;

use crate::api::{ContentBody, ContentList, ContentQuery, ContentUpsert, ContentWritten};
use crate::auth::{AdminAccess, WriteAccess};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::personalize::split_ids;
use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/content", get(content_list).post(content_upsert))
        .route("/content/{id}", get(content_get).put(content_put).delete(content_delete))
}

/// One catalogue entry.
#[utoipa::path(
    get, path = "/v1/content/{id}", tag = "content",
    params(("id" = String, Path, description = "Content id")),
    responses((status = 200, body = ContentBody), (status = 404, body = ErrorBody)),
    security(("write_key" = []))
)]
pub(crate) async fn content_get(
    State(state): State<AppState>,
    _access: WriteAccess,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ContentBody>, ApiError> {
    if let Some(item) = state.catalogue.get(&id) {
        return Ok(Json(ContentBody::from(&*item)));
    }
    let lookup = id.clone();
    let found = state.blocking(move |store| Ok(store.content(&[lookup.as_str()])?)).await?;
    match found.first() {
        Some(item) => Ok(Json(ContentBody::from(item))),
        None => Err(ApiError::NotFound(format!("content `{id}` is not in the catalogue"))),
    }
}

/// Several catalogue entries at once.
#[utoipa::path(
    get, path = "/v1/content", tag = "content",
    params(ContentQuery),
    responses((status = 200, body = ContentList), (status = 413, body = ErrorBody)),
    security(("write_key" = []))
)]
pub(crate) async fn content_list(
    State(state): State<AppState>,
    _access: WriteAccess,
    ApiQuery(query): ApiQuery<ContentQuery>,
) -> Result<Json<ContentList>, ApiError> {
    let ids = split_ids(Some(&query.ids));
    let max = state.config.limits.max_ids;
    if ids.len() > max {
        return Err(ApiError::PayloadTooLarge {
            what: "the `ids` list",
            limit: "limits.max_ids",
            value: max,
        });
    }
    if ids.is_empty() {
        return Err(ApiError::field("ids", "give at least one content id"));
    }
    let asked = ids.clone();
    let found = state
        .blocking(move |store| {
            let refs: Vec<&str> = asked.iter().map(String::as_str).collect();
            Ok(store.content(&refs)?)
        })
        .await?;
    let missing = ids.iter().filter(|id| !found.iter().any(|f| &f.content_id == *id)).cloned();
    Ok(Json(ContentList {
        missing: missing.collect(),
        items: found.iter().map(ContentBody::from).collect(),
    }))
}

/// Inserts or replaces one entry (admin).
#[utoipa::path(
    put, path = "/v1/content/{id}", tag = "content",
    params(("id" = String, Path, description = "Content id")),
    request_body = ContentBody,
    responses((status = 200, body = ContentWritten), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("admin_key" = []))
)]
pub(crate) async fn content_put(
    State(state): State<AppState>,
    _access: AdminAccess,
    ApiPath(id): ApiPath<String>,
    ApiJson(mut body): ApiJson<ContentBody>,
) -> Result<Json<ContentWritten>, ApiError> {
    if !body.content_id.is_empty() && body.content_id != id {
        return Err(ApiError::field("content_id", "differs from the id in the path"));
    }
    body.content_id = id;
    upsert(&state, vec![body]).await
}

/// Inserts or replaces entries in bulk (admin).
#[utoipa::path(
    post, path = "/v1/content", tag = "content",
    request_body = ContentUpsert,
    responses((status = 200, body = ContentWritten), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("admin_key" = []))
)]
pub(crate) async fn content_upsert(
    State(state): State<AppState>,
    _access: AdminAccess,
    ApiJson(body): ApiJson<ContentUpsert>,
) -> Result<Json<ContentWritten>, ApiError> {
    upsert(&state, body.items).await
}

async fn upsert(
    state: &AppState,
    bodies: Vec<ContentBody>,
) -> Result<Json<ContentWritten>, ApiError> {
    let mut items = Vec::with_capacity(bodies.len());
    for (index, body) in bodies.into_iter().enumerate() {
        let item = ContentItem::from(body);
        item.validate()
            .map_err(|e| ApiError::field(&format!("items[{index}].{}", e.field), e.reason))?;
        items.push(item);
    }
    let n = items.len();
    let write_state = state.clone();
    state
        .blocking(move |store| {
            store.upsert_content(&items)?;
            write_state.catalogue.upserted(&items);
            write_state.catalogue.refresh_hidden(store)?;
            Ok(())
        })
        .await?;
    Ok(Json(ContentWritten { upserted: n, deleted: 0 }))
}

/// Deletes an entry; it leaves every recommendation at once (admin).
#[utoipa::path(
    delete, path = "/v1/content/{id}", tag = "content",
    params(("id" = String, Path, description = "Content id")),
    responses((status = 200, body = ContentWritten), (status = 404, body = ErrorBody)),
    security(("admin_key" = []))
)]
pub(crate) async fn content_delete(
    State(state): State<AppState>,
    _access: AdminAccess,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ContentWritten>, ApiError> {
    let write_state = state.clone();
    let target = id.clone();
    let deleted = state
        .blocking(move |store| {
            let deleted = store.delete_content(&target)?;
            if deleted {
                write_state.catalogue.deleted(&target);
                write_state.catalogue.refresh_hidden(store)?;
            }
            Ok(deleted)
        })
        .await?;
    if !deleted {
        return Err(ApiError::NotFound(format!("content `{id}` is not in the catalogue")));
    }
    Ok(Json(ContentWritten { upserted: 0, deleted: 1 }))
}
