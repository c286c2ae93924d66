//! Mapping `taina` errors to HTTP: a precise status and one JSON shape,
//! `{"error": {"code", "message", "field"?}}`. Internal failures are logged once, here, and shown
//! without details.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use taina::core::{Error as DomainError, ErrorKind};

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub taina::Error);

impl From<taina::Error> for ApiError {
    fn from(e: taina::Error) -> Self {
        ApiError(e)
    }
}

/// The status for an error kind.
pub fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::QuotaExceeded => StatusCode::INSUFFICIENT_STORAGE,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The stable machine-readable code for an error kind.
pub fn code(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotFound => "not_found",
        ErrorKind::Unauthenticated => "unauthenticated",
        ErrorKind::Forbidden => "forbidden",
        ErrorKind::Conflict => "conflict",
        ErrorKind::Invalid => "invalid",
        ErrorKind::QuotaExceeded => "quota_exceeded",
        ErrorKind::TooLarge => "too_large",
        ErrorKind::RateLimited => "rate_limited",
        ErrorKind::Internal => "internal",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let kind = self.0.kind();
        if kind == ErrorKind::Internal {
            tracing::error!(error = %self.0, "request failed");
        }
        let public = self.0.public();
        let mut body = json!({ "code": code(kind), "message": public.to_string() });
        if let Some(field) = public.field() {
            body["field"] = json!(field);
        }
        let mut response = (status(kind), Json(json!({ "error": body }))).into_response();
        if let DomainError::RateLimited { retry_after } = public {
            let secs = retry_after.as_secs().max(1).to_string();
            if let Ok(v) = HeaderValue::from_str(&secs) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}
