//! Who is calling: a bearer token (apps, scripts) or the session cookie (the web app), with CSRF
//! protection for cookie-authenticated requests that change something.
//!
//! Cookies: `taina_session` (the session token; HttpOnly, SameSite=Lax) and `taina_csrf` (a random
//! value the web app reads and echoes in the `X-CSRF-Token` header on unsafe requests: a cross-site
//! page can neither read it nor set the header). Over HTTPS (our TLS, an `https` public URL, or a
//! trusted proxy's word) they are `__Host-taina_session` and `__Host-taina_csrf`, `Secure`, and
//! only those names count: a browser keeps `__Host-` cookies only from this very origin over
//! HTTPS, so a sibling subdomain or a plain-HTTP page cannot plant a session or a CSRF value.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use taina::accounts::SignedIn;
use taina::core::app_password::Area;
use taina::core::{Actor, Error as DomainError, Timestamp};

use crate::AppState;
use crate::client::Client;
use crate::error::ApiError;

/// The session cookie's name over plain HTTP.
pub const SESSION_COOKIE: &str = "taina_session";
/// The CSRF cookie's name over plain HTTP.
pub const CSRF_COOKIE: &str = "taina_csrf";
/// The session cookie's name over HTTPS.
pub const SECURE_SESSION_COOKIE: &str = "__Host-taina_session";
/// The CSRF cookie's name over HTTPS.
pub const SECURE_CSRF_COOKIE: &str = "__Host-taina_csrf";

/// The session and CSRF cookies' names, over HTTPS (`secure`) or not.
pub fn cookie_names(secure: bool) -> (&'static str, &'static str) {
    if secure {
        (SECURE_SESSION_COOKIE, SECURE_CSRF_COOKIE)
    } else {
        (SESSION_COOKIE, CSRF_COOKIE)
    }
}

/// Whether `client` talks to us over HTTPS as far as cookies go: the server or its public URL is
/// HTTPS, or a trusted proxy says the client came over HTTPS.
pub fn secure(state: &AppState, client: &Client) -> bool {
    state.secure_cookies || client.https
}
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

/// The token a request carries (a bearer token, or a session cookie of either name), and whether
/// it came from a cookie. To authenticate, use [`request_token`], which takes only the cookie name
/// of the request's scheme.
pub fn token(headers: &HeaderMap) -> Option<(&str, bool)> {
    bearer(headers).map(|t| (t, false)).or_else(|| {
        cookie(headers, SECURE_SESSION_COOKIE)
            .or_else(|| cookie(headers, SESSION_COOKIE))
            .map(|t| (t, true))
    })
}

/// The token a request authenticates with: the bearer token, or the session cookie of the
/// request's scheme (`__Host-taina_session` over HTTPS); and whether it came from the cookie.
pub fn request_token(headers: &HeaderMap, secure: bool) -> Option<(&str, bool)> {
    bearer(headers)
        .map(|t| (t, false))
        .or_else(|| cookie(headers, cookie_names(secure).0).map(|t| (t, true)))
}

/// Refuses a cookie-authenticated unsafe request whose `X-CSRF-Token` does not echo the CSRF cookie
/// (of the request's scheme: `__Host-taina_csrf` over HTTPS).
pub fn check_csrf(method: &Method, headers: &HeaderMap, secure: bool) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let expected = cookie(headers, cookie_names(secure).1);
    let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    match (expected, sent) {
        (Some(expected), Some(sent)) if !expected.is_empty() && expected == sent => Ok(()),
        _ => Err(ApiError::from(taina::Error::from(DomainError::Forbidden {
            reason: "missing or wrong CSRF token (send the taina_csrf cookie's value, __Host-taina_csrf over HTTPS, as X-CSRF-Token)",
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
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<crate::client::Peer>>()
            .map(|c| c.0.0.ip());
        let client = crate::client::resolve(peer, &parts.headers, &state.reach);
        let secure = secure(&state, &client);
        let Some((token, from_cookie)) = request_token(&parts.headers, secure) else {
            return Err(ApiError::from(taina::Error::from(
                DomainError::Unauthenticated {
                    reason: "sign in first",
                },
            )));
        };
        if from_cookie {
            check_csrf(&parts.method, &parts.headers, secure)?;
        }
        // The route's area (set per router in `api::routes`); none counts as the credentials',
        // which only sessions reach.
        let area = parts
            .extensions
            .get::<Area>()
            .copied()
            .unwrap_or(Area::Credentials);
        let actor = state.taina.accounts().authenticate_in(token, area).await?;
        Ok(Auth(actor))
    }
}

/// Checks that the request's credentials (already authenticated for its route) also reach
/// `area`: for a call that reaches two areas, such as a resumable upload into the photo library
/// (files and photos), which a files-only app password may not make.
pub async fn also_reaches(
    state: &AppState,
    headers: &HeaderMap,
    area: Area,
) -> Result<(), ApiError> {
    let Some((token, _)) = token(headers) else {
        return Err(ApiError::from(taina::Error::from(
            DomainError::Unauthenticated {
                reason: "sign in first",
            },
        )));
    };
    state.taina.accounts().authenticate_in(token, area).await?;
    Ok(())
}

/// The `Set-Cookie` headers that start a web session; over HTTPS (`secure`) with the `__Host-`
/// names (`Secure`, `Path=/`, no `Domain`).
pub fn session_cookies(signed_in: &SignedIn, now: Timestamp, secure: bool) -> Vec<HeaderValue> {
    let (session, csrf_name) = cookie_names(secure);
    let flag = if secure { "; Secure" } else { "" };
    let max_age = ((signed_in.expires_at.as_millis() - now.as_millis()) / 1000).max(0);
    let csrf = taina::random::secret_token();
    [
        format!(
            "{session}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{flag}",
            signed_in.token
        ),
        format!("{csrf_name}={csrf}; Path=/; SameSite=Strict; Max-Age={max_age}{flag}"),
    ]
    .into_iter()
    .filter_map(|c| HeaderValue::from_str(&c).ok())
    .collect()
}

/// The `Set-Cookie` headers that end a web session: over HTTPS (`secure`) the `__Host-` cookies
/// (a browser takes their removal only with `Secure`) and any plain ones left from before.
pub fn clear_cookies(secure: bool) -> Vec<HeaderValue> {
    let mut cleared: Vec<String> = [SESSION_COOKIE, CSRF_COOKIE]
        .into_iter()
        .map(|name| format!("{name}=; Path=/; Max-Age=0"))
        .collect();
    if secure {
        cleared.extend(
            [SECURE_SESSION_COOKIE, SECURE_CSRF_COOKIE]
                .into_iter()
                .map(|name| format!("{name}=; Path=/; Max-Age=0; Secure")),
        );
    }
    cleared
        .into_iter()
        .filter_map(|c| HeaderValue::from_str(&c).ok())
        .collect()
}
