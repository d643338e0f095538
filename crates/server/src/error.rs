//! The one error type of the API: every failure becomes `{"code": ..., "message": ...}` with a
//! stable code and an HTTP status.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer. Internal failures are logged here, once, and answered without detail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A field or parameter is missing or invalid.
    #[error("{0}")]
    BadRequest(String),
    /// The body is not the JSON the endpoint expects.
    #[error("{0}")]
    InvalidJson(String),
    /// The body's content type is not accepted.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// No key, or an unknown one.
    #[error("missing or unknown API key")]
    Unauthorized,
    /// The key does not allow this endpoint.
    #[error("this endpoint needs the admin key")]
    Forbidden,
    /// The resource does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A size limit was exceeded; the message names the limit.
    #[error("{what} exceeds the limit `{limit}` = {value}")]
    PayloadTooLarge {
        /// What was too large.
        what: &'static str,
        /// The configuration key of the limit.
        limit: &'static str,
        /// The limit's value.
        value: usize,
    },
    /// Too many requests for this key and address.
    #[error("too many requests; retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a request would be allowed.
        retry_after_secs: u64,
    },
    /// A browser request from an origin that is not configured.
    #[error("origin `{0}` is not allowed; add it to `cors.allowed_origins`")]
    OriginNotAllowed(String),
    /// No model has been trained yet and the request needs one.
    #[error("no model has been trained yet; run `centroid train` or POST /v1/train")]
    NoModel,
    /// The request conflicts with the server's state (a training run is already going).
    #[error("{0}")]
    Conflict(String),
    /// The server cannot answer now (overloaded, shutting down, timed out).
    #[error("{0}")]
    Unavailable(String),
    /// Anything else; the detail is logged, not answered.
    #[error("internal error")]
    Internal(String),
}

/// The JSON body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code.
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
}

impl ApiError {
    /// The stable code of the answer.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::OriginNotAllowed(_) => "origin_not_allowed",
            ApiError::NoModel => "no_model",
            ApiError::Conflict(_) => "conflict",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::InvalidJson(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::OriginNotAllowed(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NoModel | ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// An internal error from anything displayable (logged when answered).
    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(error.to_string())
    }

    /// A bad request naming a field.
    pub fn field(field: &str, reason: impl std::fmt::Display) -> ApiError {
        ApiError::BadRequest(format!("`{field}`: {reason}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "request failed");
        }
        let body = ErrorBody { code: self.code(), message: self.to_string() };
        let mut response = (status, axum::Json(body)).into_response();
        let retry_after = match &self {
            ApiError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            ApiError::Unavailable(_) | ApiError::NoModel => Some(5),
            _ => None,
        };
        if let Some(secs) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<centroid_store::StoreError> for ApiError {
    fn from(error: centroid_store::StoreError) -> Self {
        ApiError::internal(format!("store: {error}"))
    }
}

impl From<centroid_pipeline::PipelineError> for ApiError {
    fn from(error: centroid_pipeline::PipelineError) -> Self {
        ApiError::internal(format!("pipeline: {error}"))
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(error: tokio::task::JoinError) -> Self {
        ApiError::internal(format!("blocking task: {error}"))
    }
}
