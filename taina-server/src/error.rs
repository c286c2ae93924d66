//! Mapping errors to HTTP: a precise status and one JSON shape,
//! `{"error": {"code", "message", "field"?}}`. Internal failures are logged once, here, and shown
//! without details.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use taina::core::wire::{ErrorBody, ErrorCode};
use taina::core::{Error as DomainError, ErrorKind};

/// An error on its way to the client.
#[derive(Debug)]
pub enum ApiError {
    /// What the library answered.
    Taina(taina::Error),
    /// A request the HTTP layer refused before reaching the library (malformed JSON, a wrong
    /// content type, a body too large).
    Request {
        /// The status.
        status: StatusCode,
        /// The stable code.
        code: ErrorCode,
        /// What is wrong, for the person.
        message: String,
    },
}

impl From<taina::Error> for ApiError {
    fn from(e: taina::Error) -> Self {
        ApiError::Taina(e)
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::Taina(e.into())
    }
}

impl ApiError {
    /// A refused request.
    pub fn request(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError::Request {
            status,
            code,
            message: message.into(),
        }
    }
}

/// The status for an error kind (its code is [`ErrorCode::from`], in `taina_core::wire`).
pub fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        // Like a file over the size limit, an upload past the quota is too large to take; the
        // code (`quota_exceeded`) tells the two apart.
        ErrorKind::QuotaExceeded => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = match self {
            ApiError::Request {
                status,
                code,
                message,
            } => {
                return (status, Json(ErrorBody::new(code, message, None))).into_response();
            }
            ApiError::Taina(error) => error,
        };
        let kind = error.kind();
        match kind {
            ErrorKind::Internal => tracing::error!(error = %error, "request failed"),
            // The operator must act (free or add disk); the person only sees "storage full".
            ErrorKind::StorageFull => tracing::error!(error = %error, "storage full"),
            _ => {}
        }
        let public = error.public();
        let body = ErrorBody::new(
            ErrorCode::from(kind),
            public.to_string(),
            public.field().map(str::to_owned),
        );
        let mut response = (status(kind), Json(body)).into_response();
        if matches!(
            kind,
            ErrorKind::TooLarge | ErrorKind::QuotaExceeded | ErrorKind::StorageFull
        ) {
            // Refused before the body was read: the rest of it is still on its way, so this
            // connection cannot carry another request. Say so, or a client would reuse it.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let DomainError::RateLimited { retry_after } = public
            && let Ok(v) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}
