//! WebDAV at `/dav/` (RFC 4918 class 1 and 2): Finder, Windows, iOS Files, Android file managers and
//! rclone reach Ybira with what they already have. Every method calls the library — the same
//! authorization, quota, dedup, versions and trash as the web app — and shows what it decided;
//! the protocol's rules and formats are `taina_ybira::dav`'s.
//!
//! Credentials: HTTP Basic with the account's email and an **app password** (never the account
//! password), or a bearer token (a session's, or an app password). Basic over plain HTTP to a
//! client that is not this machine is refused unless `basic_auth_over_http` is set.
//!
//! Written here rather than with `dav-server`: its DELETE and COPY walk the tree file by file (a
//! deleted folder must reach the trash as one entry that can be restored whole, and a copied file
//! must share its content), its locks live in one process's memory, and its XML is read without
//! the bounds this project sets on untrusted input.

mod chunked;
mod litter;
mod locking;
mod nextcloud;
mod propfind;
mod write;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine;
use taina::core::app_password::Area;
use taina::core::{Actor, ErrorKind};
use taina::ybira::dav::Resolved;
use taina_ybira::dav::headers::{IfHeader, ResourceState, parse_if};
use taina_ybira::dav::path::{DavPath, PathError};

use crate::AppState;
use crate::client::Client;
use crate::download::{Plan, plan, respond};
use crate::error::ApiError;

/// Where the tree is served.
pub const PREFIX: &str = "/dav/";
/// Where Nextcloud's clients find the same tree: the old WebDAV root, and the per-person one
/// (`/remote.php/dav/files/{user id}/`).
const NEXTCLOUD_WEBDAV: &str = "/remote.php/webdav/";
const NEXTCLOUD_FILES: &str = "/remote.php/dav/files/";

/// The methods `/dav/` answers.
const ALLOW: &str =
    "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK";

/// The WebDAV routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dav", any(handle))
        .route("/dav/", any(handle))
        .route("/dav/{*path}", any(handle))
        .route("/remote.php/webdav", any(handle))
        .route("/remote.php/webdav/", any(handle))
        .route("/remote.php/webdav/{*path}", any(handle))
        .route("/remote.php/dav/{*path}", any(handle))
        .merge(nextcloud::routes())
        // PUT streams to storage; the library bounds the file as its bytes arrive.
        .layer(DefaultBodyLimit::disable())
}

/// A request on its way through: who asks, for what path, with which headers.
pub(crate) struct Ctx {
    pub(crate) state: AppState,
    pub(crate) actor: Actor,
    /// Where the tree is served for this request (`/dav/`, or a Nextcloud root).
    pub(crate) prefix: String,
    /// The login name of Basic credentials (Nextcloud's paths may name the person by it).
    pub(crate) login: Option<String>,
    pub(crate) path: DavPath,
    pub(crate) headers: HeaderMap,
}

async fn handle(State(state): State<AppState>, client: Client, request: Request) -> Response {
    let method = request.method().clone();
    if method == Method::OPTIONS {
        return options();
    }
    let (actor, login) = match authenticate(&state, &client, request.headers()).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let request_path = request.uri().path().to_owned();
    if request_path.starts_with(chunked::UPLOADS) {
        let user_ok = |user: &str| {
            user == actor.user_id.as_str()
                || login
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(user))
        };
        let Some(upload) = chunked::parse(&request_path, user_ok) else {
            return status(StatusCode::NOT_FOUND);
        };
        let (parts, body) = request.into_parts();
        let ctx = Ctx {
            state,
            actor,
            prefix: String::new(),
            login,
            path: DavPath::top(),
            headers: parts.headers,
        };
        return chunked::handle(&ctx, method.as_str(), &upload, body)
            .await
            .unwrap_or_else(error_response);
    }
    let Some(prefix) = tree_prefix(&request_path, &actor, login.as_deref()) else {
        return status(StatusCode::NOT_FOUND);
    };
    let path = match DavPath::parse(&prefix, request.uri().path()) {
        Ok(path) => path,
        Err(PathError::NoRoot) => return status(StatusCode::NOT_FOUND),
        Err(e) => return plain(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let (parts, body) = request.into_parts();
    let ctx = Ctx {
        state,
        actor,
        prefix,
        login,
        path,
        headers: parts.headers,
    };
    if litter::concerns(&ctx.path)
        && !matches!(method.as_str(), "MKCOL" | "PROPPATCH")
        && !litter::is_real_file(&ctx).await
    {
        return litter::handle(&ctx, method.as_str(), body)
            .await
            .unwrap_or_else(error_response);
    }
    let result = match method.as_str() {
        "GET" => get(&ctx, false).await,
        "HEAD" => get(&ctx, true).await,
        "PROPFIND" => propfind::propfind(&ctx, body).await,
        "PROPPATCH" => propfind::proppatch(&ctx, body).await,
        "PUT" => write::put(&ctx, body).await,
        "MKCOL" => write::mkcol(&ctx, body).await,
        "DELETE" => write::delete(&ctx).await,
        "COPY" => write::copy_or_move(&ctx, false).await,
        "MOVE" => write::copy_or_move(&ctx, true).await,
        "LOCK" => locking::lock(&ctx, body).await,
        "UNLOCK" => locking::unlock(&ctx).await,
        _ => {
            let mut response = status(StatusCode::METHOD_NOT_ALLOWED);
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(ALLOW));
            Ok(response)
        }
    };
    result.unwrap_or_else(error_response)
}

/// `OPTIONS`: what the tree speaks (answered without credentials: it tells nothing of anyone's
/// files).
fn options() -> Response {
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    headers.insert("dav", HeaderValue::from_static("1, 2, 3"));
    headers.insert(header::ALLOW, HeaderValue::from_static(ALLOW));
    headers.insert("ms-author-via", HeaderValue::from_static("DAV"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    response
}

/// Where the tree is served for a request's path: `/dav/`, `/remote.php/webdav/`, or
/// `/remote.php/dav/files/{user}/` when `{user}` names the actor (their id, or the login they
/// gave). `None`: not a tree of theirs.
pub(crate) fn tree_prefix(path: &str, actor: &Actor, login: Option<&str>) -> Option<String> {
    if path == "/dav" || path.starts_with(PREFIX) {
        return Some(PREFIX.to_owned());
    }
    if path == "/remote.php/webdav" || path.starts_with(NEXTCLOUD_WEBDAV) {
        return Some(NEXTCLOUD_WEBDAV.to_owned());
    }
    let rest = path.strip_prefix(NEXTCLOUD_FILES)?;
    let raw_user = rest.split('/').next()?;
    let user = percent_encoding::percent_decode_str(raw_user)
        .decode_utf8()
        .ok()?;
    let theirs = user == actor.user_id.as_str()
        || login.is_some_and(|login| login.eq_ignore_ascii_case(&user));
    theirs.then(|| format!("{NEXTCLOUD_FILES}{raw_user}/"))
}

/// The actor behind a request's credentials (and the login name of Basic credentials), or the
/// answer that asks for them.
pub(crate) async fn authenticate(
    state: &AppState,
    client: &Client,
    headers: &HeaderMap,
) -> Result<(Actor, Option<String>), Response> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let accounts = state.taina.accounts();
    let bearer = strip_scheme(authorization, "bearer");
    // Basic credentials travel in the clear without TLS: over plain HTTP from elsewhere they are
    // refused, and not even asked for (a challenge would make Finder or Windows send them).
    let basic_allowed =
        client.https || client.is_local() || state.taina.config().basic_auth_over_http;
    if bearer.is_none() && !basic_allowed {
        return Err(plain(
            StatusCode::FORBIDDEN,
            "sign-in over plain HTTP is refused: connect with https:// (or set \
             basic_auth_over_http on a network you trust)",
        ));
    }
    let result = if let Some(encoded) = strip_scheme(authorization, "basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        let Some((login, password)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
            return Err(challenge("malformed Basic credentials"));
        };
        accounts
            .authenticate_basic(login, password, Area::Files)
            .await
            .map(|actor| (actor, Some(login.to_owned())))
    } else if let Some(token) = bearer {
        accounts
            .authenticate_in(token.trim(), Area::Files)
            .await
            .map(|actor| (actor, None))
    } else {
        return Err(challenge(
            "sign in with your email and an app password (Settings → App passwords)",
        ));
    };
    result.map_err(|e| match e.kind() {
        ErrorKind::Unauthenticated => challenge(&e.public().to_string()),
        _ => error_response(e.into()),
    })
}

fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}

/// 401 with the Basic challenge WebDAV clients answer with a password prompt.
fn challenge(message: &str) -> Response {
    let mut response = plain(StatusCode::UNAUTHORIZED, message);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Taina\", charset=\"UTF-8\""),
    );
    response
}

/// A status with no body.
pub(crate) fn status(code: StatusCode) -> Response {
    let mut response = code.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    response
}

/// A status with a line of text saying why.
pub(crate) fn plain(code: StatusCode, message: &str) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

/// An error in the API's one shape, with WebDAV's status where it has its own: a full quota is
/// 507 Insufficient Storage (RFC 4918 §11.5).
pub(crate) fn error_response(error: ApiError) -> Response {
    let quota = matches!(&error, ApiError::Taina(e) if e.kind() == ErrorKind::QuotaExceeded);
    let mut response = error.into_response();
    if quota {
        *response.status_mut() = StatusCode::INSUFFICIENT_STORAGE;
    }
    response
}

/// The request's `If` header, read (`None`: absent), or why it is refused (400).
pub(crate) fn if_header(headers: &HeaderMap) -> Result<Option<IfHeader>, &'static str> {
    match headers.get("if").map(|v| v.to_str()) {
        None => Ok(None),
        Some(Ok(value)) => parse_if(value).map(Some),
        Some(Err(_)) => Err("the If header is not text"),
    }
}

/// Checks the request's preconditions on what `target` resolved to: `If` (entity tags and lock
/// tokens, for the request's resource and any it tags), `If-Match` and `If-None-Match`.
/// `None`: go on.
pub(crate) async fn preconditions(
    ctx: &Ctx,
    target: &Resolved,
) -> Result<Option<Response>, ApiError> {
    let etag = match target {
        Resolved::Item(item) => item.etag.clone(),
        _ => None,
    };
    let failed = || Ok(Some(status(StatusCode::PRECONDITION_FAILED)));
    let header = match if_header(&ctx.headers) {
        Err(why) => return Ok(Some(plain(StatusCode::BAD_REQUEST, why))),
        Ok(header) => header,
    };
    if let Some(header) = header {
        let mut states: Vec<(Option<String>, ResourceState)> =
            vec![(None, state_of(ctx, target).await?)];
        for list in &header.lists {
            if let Some(url) = &list.resource
                && !states.iter().any(|(r, _)| r.as_deref() == Some(url))
            {
                let state = match DavPath::parse_destination(&ctx.prefix, url) {
                    Ok(path) => {
                        let resolved = ctx
                            .state
                            .taina
                            .ybira()
                            .resolve_dav(&ctx.actor, &path)
                            .await?;
                        state_of(ctx, &resolved).await?
                    }
                    Err(_) => ResourceState::default(),
                };
                states.push((Some(url.clone()), state));
            }
        }
        let holds = header.holds(|resource| {
            states
                .iter()
                .find(|(r, _)| r.as_deref() == resource)
                .map(|(_, s)| s.clone())
                .unwrap_or_default()
        });
        if !holds {
            return failed();
        }
    }
    let list = |name: header::HeaderName| {
        ctx.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(',')
                    .map(|t| t.trim().trim_start_matches("W/").to_owned())
                    .collect::<Vec<_>>()
            })
    };
    let matches = |tags: &[String]| {
        target.exists()
            && tags
                .iter()
                .any(|t| t == "*" || etag.as_deref() == Some(t.as_str()))
    };
    if list(header::IF_MATCH).is_some_and(|tags| !matches(&tags)) {
        return failed();
    }
    if list(header::IF_NONE_MATCH).is_some_and(|tags| matches(&tags)) {
        return failed();
    }
    Ok(None)
}

/// A resource's entity tag and the tokens of the locks over it, for the `If` header.
async fn state_of(ctx: &Ctx, resolved: &Resolved) -> Result<ResourceState, ApiError> {
    Ok(match resolved {
        Resolved::Item(item) => ResourceState {
            etag: item.etag.clone(),
            lock_tokens: ctx
                .state
                .taina
                .ybira()
                .dav_locks_over(&ctx.actor, &item.id, false)
                .await?
                .into_iter()
                .map(|l| l.token)
                .collect(),
        },
        _ => ResourceState::default(),
    })
}

/// GET and HEAD: a file's content, with ranges and validators as the API sends it.
async fn get(ctx: &Ctx, head: bool) -> Result<Response, ApiError> {
    let ybira = ctx.state.taina.ybira();
    let target = ybira.resolve_dav(&ctx.actor, &ctx.path).await?;
    let item = match target {
        Resolved::Item(item) if item.kind == taina::ybira::ItemKind::File => item,
        Resolved::Missing { .. } | Resolved::ParentMissing => {
            return Ok(status(StatusCode::NOT_FOUND));
        }
        _ => {
            return Ok(plain(
                StatusCode::OK,
                "This is a folder of Tainá's WebDAV tree: open it with a WebDAV client (Finder, \
                 Windows Explorer, rclone ...).",
            ));
        }
    };
    let mut response = match plan(&ctx.headers, &item) {
        Plan::Answer(response) => response,
        Plan::Stream(range) => {
            let download = ybira.download(&ctx.actor, &item.id, range).await?;
            respond(download, range.is_some(), false)?
        }
    };
    if head {
        let (parts, _) = response.into_parts();
        response = Response::from_parts(parts, Body::empty());
    }
    Ok(response)
}
