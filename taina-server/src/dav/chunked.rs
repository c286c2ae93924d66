//! Nextcloud's chunked uploads at `/remote.php/dav/uploads/{user}/{transfer}/`: MKCOL with
//! `OC-Total-Length` starts one, PUT `{n}` sends a chunk (where it begins in `OC-Chunk-Offset`), PROPFIND
//! tells how much arrived (a resuming client starts from there), MOVE `.file` stores the file where
//! its `Destination` says, DELETE cancels. The library keeps it as a resumable upload (the tus
//! machinery) whose destination is named at the end.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use futures::TryStreamExt;
use taina::ybira::ItemKind;
use taina::ybira::dav::Resolved;
use taina_ybira::dav::PropName;
use taina_ybira::dav::multistatus::{Multistatus, PropValue};
use taina_ybira::dav::path::{DavPath, PathError};

use super::locking::{Touches, locked};
use super::propfind::xml;
use super::write::identify;
use super::{Ctx, plain, preconditions, status};
use crate::error::ApiError;

/// Where chunked uploads live.
pub(super) const UPLOADS: &str = "/remote.php/dav/uploads/";

/// The parts of an uploads path: the transfer id and, below it, a chunk's name.
pub(super) struct UploadPath {
    /// The upload folder's path, with a trailing `/` (for hrefs).
    pub(super) href: String,
    /// The client's transfer id.
    pub(super) transfer: String,
    /// A chunk (or `.file`), when the path names one.
    pub(super) chunk: Option<String>,
}

/// Reads `/remote.php/dav/uploads/{user}/{transfer}[/{chunk}]` once `{user}` is known to be the
/// actor (`user_ok`).
pub(super) fn parse(path: &str, user_ok: impl Fn(&str) -> bool) -> Option<UploadPath> {
    let rest = path.strip_prefix(UPLOADS)?;
    let mut parts = rest.split('/').filter(|p| !p.is_empty());
    let user = parts.next()?;
    let decoded = percent_encoding::percent_decode_str(user)
        .decode_utf8()
        .ok()?;
    if !user_ok(&decoded) {
        return None;
    }
    let transfer = parts.next()?.to_owned();
    let chunk = parts.next().map(str::to_owned);
    if parts.next().is_some() {
        return None;
    }
    Some(UploadPath {
        href: format!("{UPLOADS}{user}/{transfer}/"),
        transfer,
        chunk,
    })
}

pub(super) async fn handle(
    ctx: &Ctx,
    method: &str,
    upload: &UploadPath,
    body: Body,
) -> Result<Response, ApiError> {
    let ybira = ctx.state.taina.ybira();
    match (method, upload.chunk.as_deref()) {
        ("MKCOL", None) => {
            let Some(length) = ctx
                .headers
                .get("oc-total-length")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
            else {
                return Ok(plain(
                    StatusCode::BAD_REQUEST,
                    "send the file's whole length as OC-Total-Length",
                ));
            };
            ybira
                .dav_start_chunked(&ctx.actor, &upload.transfer, length)
                .await?;
            Ok(status(StatusCode::CREATED))
        }
        ("PROPFIND", None) => {
            let Some(state) = ybira.dav_chunked(&ctx.actor, &upload.transfer).await? else {
                return Ok(status(StatusCode::NOT_FOUND));
            };
            let mut doc = Multistatus::new();
            let collection = PropValue {
                name: PropName::dav("resourcetype"),
                value: Some("<D:collection/>".to_owned()),
            };
            doc.props(&upload.href, &[(200, vec![collection])]);
            let depth_one = ctx.headers.get("depth").and_then(|v| v.to_str().ok()) != Some("0");
            if depth_one && state.offset > 0 {
                // What arrived, as one chunk from the start: a resuming client sends the rest.
                doc.props(
                    &format!("{}{:016}", upload.href, 0),
                    &[(
                        200,
                        vec![
                            PropValue {
                                name: PropName::dav("resourcetype"),
                                value: None,
                            },
                            PropValue {
                                name: PropName::dav("getcontentlength"),
                                value: Some(state.offset.to_string()),
                            },
                        ],
                    )],
                );
            }
            Ok(xml(StatusCode::MULTI_STATUS, doc.finish()))
        }
        ("PUT", Some(chunk)) => {
            // Chunks are numbered; where each begins comes in OC-Chunk-Offset (older clients
            // named them by that offset instead).
            let offset = ctx
                .headers
                .get("oc-chunk-offset")
                .and_then(|v| v.to_str().ok())
                .map_or_else(|| chunk.parse::<u64>(), |v| v.trim().parse::<u64>());
            let Ok(offset) = offset else {
                return Ok(plain(
                    StatusCode::BAD_REQUEST,
                    "say where the chunk begins in OC-Chunk-Offset",
                ));
            };
            let content = body.into_data_stream().map_err(std::io::Error::other);
            ybira
                .dav_chunk(&ctx.actor, &upload.transfer, offset, content)
                .await?;
            Ok(status(StatusCode::CREATED))
        }
        ("MOVE", Some(".file")) => finish(ctx, upload).await,
        ("DELETE", None) => {
            ybira
                .dav_cancel_chunked(&ctx.actor, &upload.transfer)
                .await?;
            Ok(status(StatusCode::NO_CONTENT))
        }
        _ => Ok(plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "chunked uploads take MKCOL, PROPFIND, PUT of a chunk, MOVE of .file and DELETE",
        )),
    }
}

/// `MOVE .file`: the upload is stored where `Destination` says (under the person's files).
async fn finish(ctx: &Ctx, upload: &UploadPath) -> Result<Response, ApiError> {
    let Some(destination) = ctx.headers.get("destination").and_then(|v| v.to_str().ok()) else {
        return Ok(plain(
            StatusCode::BAD_REQUEST,
            "a Destination header is needed",
        ));
    };
    // The destination is in the person's files tree, as the client addresses it.
    let dest_path = destination
        .find("/remote.php/")
        .map(|i| &destination[i..])
        .unwrap_or(destination);
    let Some(prefix) = super::tree_prefix(dest_path, &ctx.actor, ctx.login.as_deref()) else {
        return Ok(plain(
            StatusCode::BAD_GATEWAY,
            "the destination is not in your files",
        ));
    };
    let path = match DavPath::parse_destination(&prefix, destination) {
        Ok(path) => path,
        Err(PathError::Outside) => {
            return Ok(plain(
                StatusCode::BAD_GATEWAY,
                "the destination is not in your files",
            ));
        }
        Err(e) => return Ok(plain(StatusCode::CONFLICT, &e.to_string())),
    };
    let ybira = ctx.state.taina.ybira();
    let target = ybira.resolve_dav(&ctx.actor, &path).await?;
    if let Some(refused) = preconditions(ctx, &target).await? {
        return Ok(refused);
    }
    let (location, name, created) = match &target {
        Resolved::Missing {
            parent: Some(location),
            name,
        } => (location.clone(), name.clone(), true),
        Resolved::Item(item) if item.kind == ItemKind::File => {
            let Some((parent_path, _)) = path.split_last() else {
                return Ok(status(StatusCode::FORBIDDEN));
            };
            let Some(location) = ybira
                .resolve_dav(&ctx.actor, &parent_path)
                .await?
                .as_location()
            else {
                return Ok(status(StatusCode::FORBIDDEN));
            };
            (location, item.name.clone(), false)
        }
        Resolved::ParentMissing => {
            return Ok(plain(
                StatusCode::CONFLICT,
                "the destination's folder does not exist",
            ));
        }
        _ => return Ok(plain(StatusCode::FORBIDDEN, "nothing can be put there")),
    };
    let touches = match &target {
        Resolved::Item(item) => vec![Touches::Item(item, false)],
        _ => vec![Touches::MembersOf(location.clone())],
    };
    if let Some(refused) = locked(ctx, &touches).await? {
        return Ok(refused);
    }
    let item = ybira
        .dav_finish_chunked(&ctx.actor, &upload.transfer, &location, &name)
        .await?;
    let mut response = status(if created {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    });
    identify(&mut response, item.id.as_str(), item.etag.as_deref());
    super::write::keep_client_time(ctx, &item, &mut response).await?;
    Ok(response)
}
