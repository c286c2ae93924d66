//! LOCK and UNLOCK (RFC 4918 §9.10, §9.11), and the check every change makes: the tokens of the
//! locks over what it changes must be submitted in its `If` header, or it is refused 423.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use taina::ybira::dav::{LockRequest, Locked, Resolved};
use taina::ybira::{Item, ItemKind, Location, NewUpload, OnConflict};
use taina_ybira::dav::headers::{Depth, parse_depth};
use taina_ybira::dav::locks::{self, HeldLock, activelock_xml};
use taina_ybira::dav::xml::{escape, parse_lockinfo};

use super::propfind::{xml, xml_body};
use super::{Ctx, if_header, plain, preconditions, status};
use crate::error::ApiError;

/// What a change touches, as far as locks go.
pub(super) enum Touches<'a> {
    /// A file or folder itself; with `true`, everything in it too (a DELETE or MOVE of a folder).
    Item(&'a Item, bool),
    /// A folder's list of members (adding or removing one).
    MembersOf(Location),
}

impl<'a> Touches<'a> {
    /// The members of the folder an item is in (its removal or a move away changes them).
    pub(super) fn parent_of(item: &'a Item) -> Touches<'a> {
        Touches::MembersOf(match &item.parent_id {
            Some(parent) => Location::Folder(parent.clone()),
            None => Location::Shared,
        })
    }
}

/// Refuses a change (423 Locked) when a lock over what it touches was not submitted.
pub(super) async fn locked(
    ctx: &Ctx,
    touches: &[Touches<'_>],
) -> Result<Option<Response>, ApiError> {
    let ybira = ctx.state.taina.ybira();
    let mut covering: Vec<HeldLock> = Vec::new();
    for touch in touches {
        let found = match touch {
            Touches::Item(item, beneath) => {
                ybira.dav_locks_over(&ctx.actor, &item.id, *beneath).await?
            }
            // A folder the person cannot read (above something shared with them) asks nothing of
            // them: they cannot add to it or take from it anyway, and the library says so.
            Touches::MembersOf(Location::Folder(id)) => {
                match ybira.dav_locks_over(&ctx.actor, id, false).await {
                    Ok(found) => found,
                    Err(e) if e.kind() == taina::core::ErrorKind::NotFound => Vec::new(),
                    Err(e) => return Err(e.into()),
                }
            }
            // Space roots cannot be locked.
            Touches::MembersOf(_) => Vec::new(),
        };
        covering.extend(found);
    }
    if covering.is_empty() {
        return Ok(None);
    }
    let header = match if_header(&ctx.headers) {
        Err(why) => return Ok(Some(plain(StatusCode::BAD_REQUEST, why))),
        Ok(header) => header.unwrap_or_default(),
    };
    let submitted: Vec<&str> = header.tokens().collect();
    Ok(locks::unsubmitted(&covering, &submitted, &ctx.actor.user_id).map(|lock| {
        xml(
            StatusCode::LOCKED,
            format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\"><D:lock-token-submitted><D:href>{}</D:href></D:lock-token-submitted></D:error>\n",
                escape(&lock.root_href)
            ),
        )
    }))
}

pub(super) async fn lock(ctx: &Ctx, body: Body) -> Result<Response, ApiError> {
    let body = match xml_body(body).await {
        Ok(body) => body,
        Err(response) => return Ok(response),
    };
    let info = match parse_lockinfo(&body) {
        Ok(info) => info,
        Err(e) => return Ok(plain(StatusCode::BAD_REQUEST, &e.to_string())),
    };
    let timeout = locks::timeout_secs(ctx.headers.get("timeout").and_then(|v| v.to_str().ok()));
    let ybira = ctx.state.taina.ybira();
    let target = ybira.resolve_dav(&ctx.actor, &ctx.path).await?;
    let Some(info) = info else {
        // A refresh: the lock's token comes in the If header.
        let Resolved::Item(item) = &target else {
            return Ok(status(StatusCode::PRECONDITION_FAILED));
        };
        let header = match if_header(&ctx.headers) {
            Err(why) => return Ok(plain(StatusCode::BAD_REQUEST, why)),
            Ok(header) => header.unwrap_or_default(),
        };
        let tokens: Vec<&str> = header.tokens().collect();
        return Ok(
            match ybira
                .dav_refresh_lock(&ctx.actor, &item.id, &tokens, timeout)
                .await?
            {
                Some(lock) => granted(StatusCode::OK, &lock),
                None => status(StatusCode::PRECONDITION_FAILED),
            },
        );
    };
    let depth = match parse_depth(ctx.headers.get("depth").and_then(|v| v.to_str().ok())) {
        Ok(Some(Depth::One)) | Err(_) => {
            return Ok(plain(
                StatusCode::BAD_REQUEST,
                "Depth must be 0 or infinity",
            ));
        }
        Ok(depth) => depth.unwrap_or(Depth::Infinity),
    };
    if let Some(refused) = preconditions(ctx, &target).await? {
        return Ok(refused);
    }
    let (item, created) = match target {
        Resolved::Item(item) => (item, false),
        Resolved::Missing {
            parent: Some(location),
            name,
        } => {
            // Locking a name that maps to nothing makes an empty file there (RFC 4918 §7.3).
            if let Some(refused) = locked(ctx, &[Touches::MembersOf(location.clone())]).await? {
                return Ok(refused);
            }
            let upload = NewUpload {
                location,
                name,
                declared_size: Some(0),
                on_conflict: OnConflict::Replace,
            };
            let empty = futures::stream::empty::<std::io::Result<bytes::Bytes>>();
            (ybira.upload(&ctx.actor, upload, empty).await?, true)
        }
        Resolved::ParentMissing => {
            return Ok(plain(StatusCode::CONFLICT, "the folder does not exist"));
        }
        _ => {
            return Ok(plain(
                StatusCode::FORBIDDEN,
                "the roots of the tree cannot be locked",
            ));
        }
    };
    let request = LockRequest {
        shared: info.shared,
        deep: depth == Depth::Infinity && item.kind == ItemKind::Folder,
        owner: info.owner,
        timeout_secs: timeout,
        root_href: ctx.path.href(&ctx.prefix, item.kind == ItemKind::Folder),
    };
    Ok(match ybira.dav_lock(&ctx.actor, &item.id, request).await? {
        Locked::Granted(lock) => granted(
            if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            },
            &lock,
        ),
        Locked::Conflict(lock) => xml(
            StatusCode::LOCKED,
            format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\"><D:no-conflicting-lock><D:href>{}</D:href></D:no-conflicting-lock></D:error>\n",
                escape(&lock.root_href)
            ),
        ),
    })
}

/// The answer to a granted (or refreshed) lock: its discovery, and its token in `Lock-Token`.
fn granted(code: StatusCode, lock: &HeldLock) -> Response {
    let mut response = xml(
        code,
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>{}</D:lockdiscovery></D:prop>\n",
            activelock_xml(lock)
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("<{}>", lock.token)) {
        response.headers_mut().insert("lock-token", v);
    }
    response
}

pub(super) async fn unlock(ctx: &Ctx) -> Result<Response, ApiError> {
    let Some(token) = ctx
        .headers
        .get("lock-token")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
        .filter(|t| !t.is_empty())
    else {
        return Ok(plain(
            StatusCode::BAD_REQUEST,
            "a Lock-Token header is needed",
        ));
    };
    let ybira = ctx.state.taina.ybira();
    let Resolved::Item(item) = ybira.resolve_dav(&ctx.actor, &ctx.path).await? else {
        return Ok(status(StatusCode::NOT_FOUND));
    };
    if ybira.dav_unlock(&ctx.actor, &item.id, &token).await? {
        Ok(status(StatusCode::NO_CONTENT))
    } else {
        Ok(xml(
            StatusCode::CONFLICT,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\"><D:lock-token-matches-request-uri/></D:error>\n".to_owned(),
        ))
    }
}
