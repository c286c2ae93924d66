//! The JSON API, `/api/v1`: routes by service, the request body extractor that answers malformed
//! input in the API's error shape, bounded upload forms ([`form`]), and the list shape
//! `{"items": [...], "next_cursor"}`.
//!
//! Every route is registered through [`OpenApiRouter`] with its `#[utoipa::path]` description, so
//! the router and the OpenAPI document (`/api/v1/openapi.json`, [`crate::openapi`]) come from the
//! same declarations.

mod accounts;
mod app_passwords;
pub(crate) mod constraints;
mod files;
mod form;
mod limits;
mod messages;
mod photos;
mod sessions;
mod tus;
mod ws;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use taina::core::app_password::Area;
use taina::core::wire::ErrorCode;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use crate::client::Client;
use crate::{ApiError, AppState};

/// Every `/api/v1` route, with its OpenAPI description.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    // Each route's area, for app passwords, whose scope reaches only some (none reaches the
    // credentials'); a route with none counts as the credentials', which only sessions reach.
    let area = |area: Area| axum::Extension(area);
    OpenApiRouter::new()
        .merge(accounts::routes().layer(area(Area::Account)))
        .merge(sessions::routes().layer(area(Area::Credentials)))
        .merge(app_passwords::routes().layer(area(Area::Credentials)))
        .merge(files::routes().layer(area(Area::Files)))
        .merge(limits::routes())
        .merge(messages::routes().layer(area(Area::Messages)))
        .merge(photos::routes().layer(area(Area::Photos)))
        .merge(tus::routes().layer(area(Area::Files)))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(ws::upgrade))
                .layer(area(Area::Messages)),
        )
}

/// A JSON request body; malformed bodies are answered 400, a wrong content type 415, bodies that
/// do not fit the expected shape 422, all in the API's error shape.
///
/// Every body is a JSON object (serde would also read a struct from an array, which no client
/// means and the document does not allow), and a number with a zero fraction (`3.0`) is the
/// integer it equals, as JSON Schema says.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let invalid = |message: String| {
            ApiError::request(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::Invalid,
                message,
            )
        };
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(value)) => value,
            Err(rejection) => {
                return Err(match rejection {
                    JsonRejection::MissingJsonContentType(_) => ApiError::request(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        ErrorCode::UnsupportedMediaType,
                        "send JSON with Content-Type: application/json",
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
                });
            }
        };
        if !value.is_object() {
            return Err(invalid("the body must be a JSON object".to_owned()));
        }
        let value = integral_numbers(value);
        serde_path_to_error::deserialize(value)
            .map(Body)
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                if path == "." {
                    invalid(inner.to_string())
                } else {
                    invalid(format!("{path}: {inner}"))
                }
            })
    }
}

/// `value` with every number that has a zero fraction and fits an `i64` made that integer.
fn integral_numbers(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    /// Integers up to 2^53 are exact in an `f64`; past that a zero fraction says nothing.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() <= EXACT => Value::from(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(integral_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, integral_numbers(v)))
                .collect(),
        ),
        other => other,
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

/// The route's one path parameter, an id, parsed into its type ([`path_id`]).
pub struct PathId<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for PathId<T>
where
    T: std::str::FromStr,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|rejection| {
                    // A route with other than one parameter is the server's bug, not the client's.
                    let status = rejection.status();
                    let code = if status.is_server_error() {
                        ErrorCode::Internal
                    } else {
                        ErrorCode::BadRequest
                    };
                    ApiError::request(status, code, rejection.body_text())
                })?;
        path_id(&raw).map(PathId)
    }
}

/// An id from a path (or a body's reference) parsed into its type: one that cannot exist names
/// nothing, so it is answered 404 like one that does not. [`PathId`] reads a route's only
/// parameter with it; routes with two parameters call it for each.
pub fn path_id<T: std::str::FromStr>(raw: &str) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::from(taina::core::Error::not_found("resource")))
}
