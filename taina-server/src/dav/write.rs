//! The methods that change the tree: PUT (streaming, with the library's limits, quota, dedup and
//! versions), MKCOL, DELETE (to the trash, as one entry that can be restored whole), COPY and
//! MOVE (`Overwrite`, `Depth`).

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::TryStreamExt;
use taina::ybira::dav::{Resolved, same_name};
use taina::ybira::{ItemKind, NewUpload, OnConflict};
use taina_ybira::dav::headers::{Depth, parse_depth, parse_overwrite};
use taina_ybira::dav::path::{DavPath, PathError};

use super::locking::{Touches, locked};
use super::{Ctx, plain, preconditions, status};
use crate::error::ApiError;

pub(super) async fn put(ctx: &Ctx, body: Body) -> Result<Response, ApiError> {
    let ybira = ctx.state.taina.ybira();
    let target = ybira.resolve_dav(&ctx.actor, &ctx.path).await?;
    if let Some(refused) = preconditions(ctx, &target).await? {
        return Ok(refused);
    }
    let declared_size = ctx
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let touches = match &target {
        Resolved::Item(item) => vec![Touches::Item(item, false)],
        Resolved::Missing {
            parent: Some(location),
            ..
        } => vec![Touches::MembersOf(location.clone())],
        _ => Vec::new(),
    };
    if let Some(refused) = locked(ctx, &touches).await? {
        return Ok(refused);
    }
    let content = body.into_data_stream().map_err(std::io::Error::other);
    let (item, created) = match target {
        Resolved::Item(item) if item.kind == ItemKind::File => {
            let item = ybira
                .replace(&ctx.actor, &item.id, declared_size, content)
                .await?;
            (item, false)
        }
        Resolved::Missing {
            parent: Some(location),
            name,
        } => {
            let upload = NewUpload {
                location,
                name,
                declared_size,
                // Another client's file of the same name, made meanwhile, is replaced (and kept
                // as a version), as a PUT means.
                on_conflict: OnConflict::Replace,
            };
            (ybira.upload(&ctx.actor, upload, content).await?, true)
        }
        Resolved::ParentMissing => {
            return Ok(plain(
                StatusCode::CONFLICT,
                "the folder to put this file in does not exist",
            ));
        }
        Resolved::Missing { parent: None, .. } => {
            return Ok(plain(
                StatusCode::FORBIDDEN,
                "files go in My files, Community, or a folder shared with you",
            ));
        }
        _ => return Ok(plain(StatusCode::METHOD_NOT_ALLOWED, "this is a folder")),
    };
    let mut response = status(if created {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    });
    identify(&mut response, item.id.as_str(), item.etag.as_deref());
    keep_client_time(ctx, &item, &mut response).await?;
    Ok(response)
}

/// Keeps the file's time on the client (`X-OC-Mtime`) with what was just written, and says so
/// (`X-OC-MTime: accepted`), as Nextcloud's clients expect.
pub(super) async fn keep_client_time(
    ctx: &Ctx,
    item: &taina::ybira::Item,
    response: &mut Response,
) -> Result<(), ApiError> {
    let Some(at) = ctx
        .headers
        .get("x-oc-mtime")
        .and_then(|v| v.to_str().ok())
        .and_then(taina_ybira::dav::headers::parse_client_mtime)
    else {
        return Ok(());
    };
    let Some(etag) = item.etag.as_deref() else {
        return Ok(());
    };
    let ybira = ctx.state.taina.ybira();
    if ybira
        .set_client_modified(&ctx.actor, &item.id, etag, at)
        .await?
    {
        response
            .headers_mut()
            .insert("x-oc-mtime", HeaderValue::from_static("accepted"));
    }
    Ok(())
}

/// What was made or written, in the headers: its entity tag (`ETag`, and `OC-ETag` for Nextcloud's
/// clients) and its id (`OC-FileId`), so that a sync client need not ask again.
pub(super) fn identify(response: &mut Response, id: &str, etag: Option<&str>) {
    let headers = response.headers_mut();
    if let Some(etag) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
        headers.insert(header::ETAG, etag.clone());
        headers.insert("oc-etag", etag);
    }
    if let Ok(id) = HeaderValue::from_str(id) {
        headers.insert("oc-fileid", id);
    }
}

pub(super) async fn mkcol(ctx: &Ctx, body: Body) -> Result<Response, ApiError> {
    let has_body = ctx
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v != "0")
        || ctx.headers.contains_key(header::TRANSFER_ENCODING);
    // Drain what came (up to the bound on XML bodies), whatever it was.
    let _ = axum::body::to_bytes(body, taina_ybira::dav::BODY_MAX_BYTES).await;
    if has_body {
        return Ok(plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "MKCOL takes no body",
        ));
    }
    let ybira = ctx.state.taina.ybira();
    let target = ybira.resolve_dav(&ctx.actor, &ctx.path).await?;
    if let Some(refused) = preconditions(ctx, &target).await? {
        return Ok(refused);
    }
    match target {
        Resolved::Missing {
            parent: Some(location),
            name,
        } => {
            if let Some(refused) = locked(ctx, &[Touches::MembersOf(location.clone())]).await? {
                return Ok(refused);
            }
            let folder = ybira.create_folder(&ctx.actor, &location, &name).await?;
            let shown = ybira.dav_shown(&ctx.actor, &folder).await?;
            let mut response = status(StatusCode::CREATED);
            identify(&mut response, folder.id.as_str(), shown.etag.as_deref());
            Ok(response)
        }
        Resolved::ParentMissing => Ok(plain(
            StatusCode::CONFLICT,
            "the folder to make this folder in does not exist",
        )),
        Resolved::Missing { parent: None, .. } => Ok(plain(
            StatusCode::FORBIDDEN,
            "folders go in My files, Community, or a folder shared with you",
        )),
        _ => Ok(plain(StatusCode::METHOD_NOT_ALLOWED, "it exists already")),
    }
}

pub(super) async fn delete(ctx: &Ctx) -> Result<Response, ApiError> {
    let ybira = ctx.state.taina.ybira();
    let target = ybira.resolve_dav(&ctx.actor, &ctx.path).await?;
    if let Some(refused) = preconditions(ctx, &target).await? {
        return Ok(refused);
    }
    match target {
        Resolved::Item(item) => {
            let touches = [Touches::Item(&item, true), Touches::parent_of(&item)];
            if let Some(refused) = locked(ctx, &touches).await? {
                return Ok(refused);
            }
            ybira.dav_delete(&ctx.actor, &item.id).await?;
            Ok(status(StatusCode::NO_CONTENT))
        }
        Resolved::Missing { .. } | Resolved::ParentMissing => Ok(status(StatusCode::NOT_FOUND)),
        _ => Ok(plain(
            StatusCode::FORBIDDEN,
            "the roots of the tree cannot be deleted",
        )),
    }
}

pub(super) async fn copy_or_move(ctx: &Ctx, moving: bool) -> Result<Response, ApiError> {
    let Some(destination) = ctx.headers.get("destination").and_then(|v| v.to_str().ok()) else {
        return Ok(plain(
            StatusCode::BAD_REQUEST,
            "a Destination header is needed",
        ));
    };
    let dest_path = match DavPath::parse_destination(&ctx.prefix, destination) {
        Ok(path) => path,
        Err(PathError::Outside) => {
            return Ok(plain(
                StatusCode::BAD_GATEWAY,
                "the destination is not in this WebDAV tree",
            ));
        }
        Err(PathError::NoRoot) => {
            return Ok(plain(
                StatusCode::CONFLICT,
                "the destination's folder does not exist",
            ));
        }
        Err(e) => return Ok(plain(StatusCode::BAD_REQUEST, &e.to_string())),
    };
    let overwrite =
        match parse_overwrite(ctx.headers.get("overwrite").and_then(|v| v.to_str().ok())) {
            Ok(overwrite) => overwrite,
            Err(e) => return Ok(plain(StatusCode::BAD_REQUEST, e)),
        };
    let depth = match parse_depth(ctx.headers.get("depth").and_then(|v| v.to_str().ok())) {
        Ok(depth) => depth.unwrap_or(Depth::Infinity),
        Err(e) => return Ok(plain(StatusCode::BAD_REQUEST, e)),
    };
    let ybira = ctx.state.taina.ybira();
    let source = ybira.resolve_dav(&ctx.actor, &ctx.path).await?;
    if let Some(refused) = preconditions(ctx, &source).await? {
        return Ok(refused);
    }
    let source = match source {
        Resolved::Item(item) => item,
        Resolved::Missing { .. } | Resolved::ParentMissing => {
            return Ok(status(StatusCode::NOT_FOUND));
        }
        _ => {
            return Ok(plain(
                StatusCode::FORBIDDEN,
                "the roots of the tree cannot be copied or moved",
            ));
        }
    };
    let folder = source.kind == ItemKind::Folder;
    if depth == Depth::One || (moving && folder && depth != Depth::Infinity) {
        return Ok(plain(
            StatusCode::BAD_REQUEST,
            "Depth must be infinity here (or 0 to copy a folder alone)",
        ));
    }
    if dest_path == ctx.path || (folder && dest_path.is_within(&ctx.path, same_name)) {
        return Ok(plain(
            StatusCode::FORBIDDEN,
            "a file or folder cannot be copied or moved onto or into itself",
        ));
    }
    let target = match ybira.resolve_dav(&ctx.actor, &dest_path).await? {
        // The same item under another letter case: a rename, nothing is replaced.
        Resolved::Item(existing) if existing.id == source.id => {
            if !moving {
                return Ok(plain(
                    StatusCode::FORBIDDEN,
                    "a file or folder cannot be copied onto itself",
                ));
            }
            let Some((parent, name)) = dest_path.split_last() else {
                return Ok(status(StatusCode::FORBIDDEN));
            };
            Resolved::Missing {
                parent: ybira.resolve_dav(&ctx.actor, &parent).await?.as_location(),
                name: name.to_owned(),
            }
        }
        other => other,
    };
    let mut touches = Vec::new();
    if moving {
        touches.push(Touches::Item(&source, true));
        touches.push(Touches::parent_of(&source));
    }
    match &target {
        Resolved::Item(existing) => {
            touches.push(Touches::Item(existing, true));
            touches.push(Touches::parent_of(existing));
        }
        Resolved::Missing {
            parent: Some(location),
            ..
        } => touches.push(Touches::MembersOf(location.clone())),
        _ => {}
    }
    if let Some(refused) = locked(ctx, &touches).await? {
        return Ok(refused);
    }
    drop(touches);
    let (location, name, replaced) = match target {
        Resolved::Missing {
            parent: Some(location),
            name,
        } => (location, name, None),
        Resolved::Item(existing) => {
            if !overwrite {
                return Ok(status(StatusCode::PRECONDITION_FAILED));
            }
            let Some((parent_path, name)) = dest_path.split_last() else {
                return Ok(status(StatusCode::FORBIDDEN));
            };
            let parent = ybira.resolve_dav(&ctx.actor, &parent_path).await?;
            let Some(location) = parent.as_location() else {
                return Ok(status(StatusCode::FORBIDDEN));
            };
            (location, name.to_owned(), Some(existing))
        }
        Resolved::ParentMissing => {
            return Ok(plain(
                StatusCode::CONFLICT,
                "the destination's folder does not exist",
            ));
        }
        _ => return Ok(plain(StatusCode::FORBIDDEN, "nothing can be put there")),
    };
    // What stood there goes to the trash only as the change succeeds (the library puts it back
    // otherwise).
    if moving {
        ybira
            .dav_move(&ctx.actor, &source, &location, &name, replaced.as_ref())
            .await?;
    } else {
        let deep = depth == Depth::Infinity;
        ybira
            .dav_copy(
                &ctx.actor,
                &source,
                &location,
                &name,
                deep,
                replaced.as_ref(),
            )
            .await?;
    }
    let replaced = replaced.is_some();
    Ok(status(if replaced {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::CREATED
    }))
}
