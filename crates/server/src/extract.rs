//! Extractors that answer bad input with our JSON errors instead of axum's plain-text ones.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// Which body encodings an endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/json` only.
    Json,
    /// `application/json` or `text/plain` holding JSON (for `navigator.sendBeacon`).
    JsonOrText,
}

/// Reads a body within `limits.max_body_bytes`, checking its content type.
pub async fn read_body(req: Request, state: &AppState, kind: BodyKind) -> Result<Bytes, ApiError> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    let accepted = match content_type.as_deref() {
        Some("application/json") => true,
        Some(ct) if ct.starts_with("application/") && ct.ends_with("+json") => true,
        Some("text/plain") => kind == BodyKind::JsonOrText,
        _ => false,
    };
    if !accepted {
        let expected = match kind {
            BodyKind::Json => "`application/json`",
            BodyKind::JsonOrText => "`application/json` or `text/plain`",
        };
        let found = content_type.unwrap_or_else(|| "none".into());
        return Err(ApiError::UnsupportedMediaType(format!(
            "content type `{found}` is not accepted; send {expected}"
        )));
    }

    let limit = state.config.limits.max_body_bytes;
    axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| ApiError::PayloadTooLarge {
        what: "the request body",
        limit: "limits.max_body_bytes",
        value: limit,
    })
}

/// `axum::Json` with our errors for wrong content types, oversized and malformed bodies.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = read_body(req, state, BodyKind::Json).await?;
        parse_json_body(&bytes).map(ApiJson)
    }
}

/// Like [`ApiJson`], but also accepts `text/plain` (for `sendBeacon`).
#[derive(Debug, Clone, Copy, Default)]
pub struct BeaconJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for BeaconJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = read_body(req, state, BodyKind::JsonOrText).await?;
        parse_json_body(&bytes).map(BeaconJson)
    }
}

/// Parses a JSON body; the error names the position and the field serde complained about.
pub fn parse_json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::BadRequest(e.to_string()),
        _ => ApiError::InvalidJson(format!("malformed JSON: {e}")),
    })
}

/// `axum::extract::Query` answering `bad_request`.
#[derive(Debug, Clone, Default)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// `axum::extract::Path` answering `bad_request`.
#[derive(Debug, Clone, Default)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}
