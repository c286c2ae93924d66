//! Desktop litter over WebDAV (`._` AppleDouble companions, `.DS_Store`, `Thumbs.db`,
//! `desktop.ini`): written, read, listed alone, locked, moved and deleted as the clients expect,
//! but kept aside by the library, never as files in Ybira.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use taina_ybira::dav::PropName;
use taina_ybira::dav::litter::{LITTER_MAX_BYTES, is_litter};
use taina_ybira::dav::locks::{self, HeldLock, activelock_xml};
use taina_ybira::dav::multistatus::{Multistatus, PropValue};
use taina_ybira::dav::path::DavPath;
use taina_ybira::dav::props::http_date;

use super::propfind::xml;
use super::{Ctx, plain, status};
use crate::error::ApiError;

/// Whether a request is about desktop litter (its path's last name is).
pub(super) fn concerns(path: &DavPath) -> bool {
    path.split_last().is_some_and(|(_, name)| is_litter(name))
}

/// Whether a real file or folder stands at the path (an upload from the web app may be named
/// like litter): then it is served like any other.
pub(super) async fn is_real_file(ctx: &Ctx) -> bool {
    matches!(
        ctx.state
            .taina
            .ybira()
            .resolve_dav(&ctx.actor, &ctx.path)
            .await,
        Ok(taina::ybira::dav::Resolved::Item(_))
    )
}

pub(super) async fn handle(ctx: &Ctx, method: &str, body: Body) -> Result<Response, ApiError> {
    let ybira = ctx.state.taina.ybira();
    match method {
        "PUT" => {
            let Ok(bytes) = axum::body::to_bytes(body, LITTER_MAX_BYTES).await else {
                return Ok(plain(
                    StatusCode::INSUFFICIENT_STORAGE,
                    &format!(
                        "desktop litter files larger than {LITTER_MAX_BYTES} bytes are not kept"
                    ),
                ));
            };
            let created = ybira.dav_put_litter(&ctx.actor, &ctx.path, &bytes).await?;
            Ok(status(if created {
                StatusCode::CREATED
            } else {
                StatusCode::NO_CONTENT
            }))
        }
        "GET" | "HEAD" => {
            let Some(litter) = ybira.dav_litter(&ctx.actor, &ctx.path).await? else {
                return Ok(status(StatusCode::NOT_FOUND));
            };
            let length = litter.content.len();
            let body = if method == "HEAD" {
                Body::empty()
            } else {
                Body::from(litter.content)
            };
            let mut response = (StatusCode::OK, body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
            if let Ok(v) = HeaderValue::from_str(&http_date(litter.updated_at)) {
                headers.insert(header::LAST_MODIFIED, v);
            }
            Ok(response)
        }
        "PROPFIND" => {
            let Some(litter) = ybira.dav_litter(&ctx.actor, &ctx.path).await? else {
                return Ok(status(StatusCode::NOT_FOUND));
            };
            let mut doc = Multistatus::new();
            let props = vec![
                PropValue {
                    name: PropName::dav("resourcetype"),
                    value: None,
                },
                PropValue {
                    name: PropName::dav("getcontentlength"),
                    value: Some(litter.content.len().to_string()),
                },
                PropValue {
                    name: PropName::dav("getlastmodified"),
                    value: Some(http_date(litter.updated_at)),
                },
                PropValue {
                    name: PropName::dav("getetag"),
                    value: Some(format!("\"l-{}\"", litter.updated_at.as_millis())),
                },
            ];
            doc.props(&ctx.path.href(&ctx.prefix, false), &[(200, props)]);
            Ok(xml(StatusCode::MULTI_STATUS, doc.finish()))
        }
        "DELETE" => Ok(status(
            if ybira.dav_delete_litter(&ctx.actor, &ctx.path).await? {
                StatusCode::NO_CONTENT
            } else {
                StatusCode::NOT_FOUND
            },
        )),
        "LOCK" => {
            // Nobody else sees this person's litter: a lock always holds, and is not kept.
            let lock = HeldLock {
                token: taina::random::lock_token(),
                item_id: taina::core::ItemId::from_random([0; 21]),
                root_href: ctx.path.href(&ctx.prefix, false),
                deep: false,
                shared: false,
                owner: None,
                user_id: ctx.actor.user_id.clone(),
                timeout_secs: locks::timeout_secs(
                    ctx.headers.get("timeout").and_then(|v| v.to_str().ok()),
                ),
                expires_at: taina::core::Timestamp::EPOCH,
            };
            let mut response = xml(
                StatusCode::OK,
                format!(
                    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>{}</D:lockdiscovery></D:prop>\n",
                    activelock_xml(&lock)
                ),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("<{}>", lock.token)) {
                response.headers_mut().insert("lock-token", v);
            }
            Ok(response)
        }
        "UNLOCK" => Ok(status(StatusCode::NO_CONTENT)),
        "MOVE" | "COPY" => {
            let Some(destination) = ctx.headers.get("destination").and_then(|v| v.to_str().ok())
            else {
                return Ok(plain(
                    StatusCode::BAD_REQUEST,
                    "a Destination header is needed",
                ));
            };
            let Ok(to) = DavPath::parse_destination(&ctx.prefix, destination) else {
                return Ok(plain(
                    StatusCode::BAD_GATEWAY,
                    "the destination is not in this tree",
                ));
            };
            if !concerns(&to) {
                return Ok(plain(
                    StatusCode::FORBIDDEN,
                    "desktop litter is kept aside; it cannot become a file",
                ));
            }
            let Some(litter) = ybira.dav_litter(&ctx.actor, &ctx.path).await? else {
                return Ok(status(StatusCode::NOT_FOUND));
            };
            let created = ybira
                .dav_put_litter(&ctx.actor, &to, &litter.content)
                .await?;
            if method == "MOVE" {
                ybira.dav_delete_litter(&ctx.actor, &ctx.path).await?;
            }
            Ok(status(if created {
                StatusCode::CREATED
            } else {
                StatusCode::NO_CONTENT
            }))
        }
        _ => Ok(plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "desktop litter takes PUT, GET, HEAD, PROPFIND, DELETE, LOCK, UNLOCK, MOVE and COPY",
        )),
    }
}
