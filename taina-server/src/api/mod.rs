//! The JSON API, `/api/v1`: routes by service, the request body extractor that answers malformed
//! input in the API's error shape, bounded upload forms ([`form`]), and the list shape
//! `{"items": [...], "next_cursor"}`.
//!
//! Every route is registered through [`OpenApiRouter`] with its `#[utoipa::path]` description, so
//! the router and the OpenAPI document (`/api/v1/openapi.json`, [`crate::openapi`]) come from the
//! same declarations.

mod accounts;
mod files;
mod form;
mod messages;
mod photos;
mod tus;
mod ws;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use taina::core::wire::ErrorCode;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use crate::client::Client;
use crate::{ApiError, AppState};

/// Every `/api/v1` route, with its OpenAPI description.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(accounts::routes())
        .merge(files::routes())
        .merge(messages::routes())
        .merge(photos::routes())
        .merge(tus::routes())
        .routes(routes!(ws::upgrade))
}

/// A JSON request body; malformed bodies are answered 400, a wrong content type 415, bodies that
/// do not fit the expected shape 422, all in the API's error shape.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => ApiError::request(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    ErrorCode::UnsupportedMediaType,
                    "send JSON with Content-Type: application/json",
                ),
                JsonRejection::JsonDataError(e) => ApiError::request(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::Invalid,
                    e.body_text(),
                ),
                JsonRejection::BytesRejection(_) => ApiError::request(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::TooLarge,
                    "the request body is too large",
                ),
                other => ApiError::request(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadRequest,
                    other.body_text(),
                ),
            }),
        }
    }
}

/// Query parameters; a query that does not parse is answered 400 in the API's error shape.
pub struct Query<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(ApiError::request(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                rejection.body_text(),
            )),
        }
    }
}

/// A list: `{"items": [...], "next_cursor": ...}` (the wire type, shared with clients).
pub use taina::core::wire::List;

/// A path id parsed into its type, or 404 (an id that cannot exist names nothing).
pub fn path_id<T>(
    raw: &str,
    parse: fn(&str) -> Result<T, taina::core::id::IdError>,
) -> Result<T, ApiError> {
    parse(raw).map_err(|_| ApiError::from(taina::core::Error::not_found("resource")))
}
