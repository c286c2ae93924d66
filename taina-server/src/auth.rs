//! Who is calling: a bearer token (apps, scripts) or the session cookie (the web app), with CSRF
//! protection for cookie-authenticated requests that change something.
//!
//! Cookies: `taina_session` (the session token; HttpOnly, SameSite=Lax, Secure under TLS) and
//! `taina_csrf` (a random value the web app reads and echoes in the `X-CSRF-Token` header on
//! unsafe requests: a cross-site page can neither read it nor set the header).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use taina::accounts::SignedIn;
use taina::core::{Actor, Error as DomainError, Timestamp};

use crate::AppState;
use crate::error::ApiError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "taina_session";
/// The CSRF cookie's name.
pub const CSRF_COOKIE: &str = "taina_csrf";
/// The header that must echo the CSRF cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Auth(pub Actor);

/// A cookie's value from a request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The bearer token of an `Authorization` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The token a request authenticates with, and whether it came from the cookie.
pub fn token(headers: &HeaderMap) -> Option<(&str, bool)> {
    bearer(headers)
        .map(|t| (t, false))
        .or_else(|| cookie(headers, SESSION_COOKIE).map(|t| (t, true)))
}

/// Refuses a cookie-authenticated unsafe request whose `X-CSRF-Token` does not echo the CSRF cookie.
pub fn check_csrf(method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let expected = cookie(headers, CSRF_COOKIE);
    let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    match (expected, sent) {
        (Some(expected), Some(sent)) if !expected.is_empty() && expected == sent => Ok(()),
        _ => Err(ApiError::from(taina::Error::from(DomainError::Forbidden {
            reason: "missing or wrong CSRF token (send the taina_csrf cookie's value as X-CSRF-Token)",
        }))),
    }
}

impl<S> FromRequestParts<S> for Auth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let Some((token, from_cookie)) = token(&parts.headers) else {
            return Err(ApiError::from(taina::Error::from(
                DomainError::Unauthenticated {
                    reason: "sign in first",
                },
            )));
        };
        if from_cookie {
            check_csrf(&parts.method, &parts.headers)?;
        }
        let actor = state.taina.accounts().authenticate(token).await?;
        Ok(Auth(actor))
    }
}

/// The `Set-Cookie` headers that start a web session.
pub fn session_cookies(signed_in: &SignedIn, now: Timestamp, secure: bool) -> Vec<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    let max_age = ((signed_in.expires_at.as_millis() - now.as_millis()) / 1000).max(0);
    let csrf = taina::random::secret_token();
    [
        format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
            signed_in.token
        ),
        format!("{CSRF_COOKIE}={csrf}; Path=/; SameSite=Strict; Max-Age={max_age}{secure}"),
    ]
    .into_iter()
    .filter_map(|c| HeaderValue::from_str(&c).ok())
    .collect()
}

/// The `Set-Cookie` headers that end a web session.
pub fn clear_cookies() -> Vec<HeaderValue> {
    [SESSION_COOKIE, CSRF_COOKIE]
        .into_iter()
        .filter_map(|name| HeaderValue::from_str(&format!("{name}=; Path=/; Max-Age=0")).ok())
        .collect()
}
