//! The JSON API, `/api/v1`: routes by service, the request body extractor that answers malformed
//! input in the API's error shape, and the list shape `{"items": [...], "next_cursor"}`.

mod accounts;
mod files;
mod messages;
mod photos;
mod tus;
mod ws;

use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{ApiError, AppState};

/// Every `/api/v1` route.
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(accounts::routes())
        .merge(files::routes(state))
        .merge(messages::routes())
        .merge(photos::routes())
        .merge(tus::routes())
        .route("/ws", axum::routing::get(ws::upgrade))
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
                    "unsupported_media_type",
                    "send JSON with Content-Type: application/json",
                ),
                JsonRejection::JsonDataError(e) => {
                    ApiError::request(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.body_text())
                }
                JsonRejection::BytesRejection(_) => ApiError::request(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    "the request body is too large",
                ),
                other => {
                    ApiError::request(StatusCode::BAD_REQUEST, "bad_request", other.body_text())
                }
            }),
        }
    }
}

/// A list: `{"items": [...], "next_cursor": ...}`.
#[derive(Debug, Serialize)]
pub struct List<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass back as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    /// A list that is whole.
    pub fn all(items: Vec<T>) -> List<T> {
        List {
            items,
            next_cursor: None,
        }
    }
}

/// Who is on the other end: their address (for the login throttle) and user agent.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The peer's IP address.
    pub ip: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(300).collect());
        Ok(Client { ip, user_agent })
    }
}

/// A path id parsed into its type, or 404 (an id that cannot exist names nothing).
pub fn path_id<T>(
    raw: &str,
    parse: fn(&str) -> Result<T, taina::core::id::IdError>,
) -> Result<T, ApiError> {
    parse(raw).map_err(|_| ApiError::from(taina::core::Error::not_found("resource")))
}
