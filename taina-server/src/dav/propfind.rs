//! PROPFIND (Depth 0 and 1; infinity is refused, as RFC 4918 §9.1 allows) and PROPPATCH.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use taina::core::Timestamp;
use taina::ybira::dav::{DeadProp, Member, Resolved, Shown, not_patchable};
use taina::ybira::{Item, ItemKind};
use taina_ybira::dav::headers::{Depth, parse_depth};
use taina_ybira::dav::locks::{HeldLock, activelock_xml};
use taina_ybira::dav::multistatus::{Multistatus, PropValue};
use taina_ybira::dav::path::{DavPath, Root};
use taina_ybira::dav::props::{self, QuotaShown, Resource};
use taina_ybira::dav::xml::{Propfind, parse_propfind, parse_proppatch};
use taina_ybira::dav::{BODY_MAX_BYTES, PropName};

use super::{Ctx, plain, status};
use crate::error::ApiError;

/// Reads a request body as XML, within [`BODY_MAX_BYTES`].
pub(super) async fn xml_body(body: Body) -> Result<Vec<u8>, Response> {
    axum::body::to_bytes(body, BODY_MAX_BYTES)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| {
            plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the request body is larger than {BODY_MAX_BYTES} bytes"),
            )
        })
}

/// One resource to describe: where it is, what it shows, and its dead properties.
struct Described {
    href: String,
    resource: Resource,
    dead: Vec<DeadProp>,
    locks: Vec<HeldLock>,
}

pub(super) async fn propfind(ctx: &Ctx, body: Body) -> Result<Response, ApiError> {
    let depth = match parse_depth(ctx.headers.get("depth").and_then(|v| v.to_str().ok())) {
        Ok(depth) => depth.unwrap_or(Depth::Infinity),
        Err(e) => return Ok(plain(StatusCode::BAD_REQUEST, e)),
    };
    if depth == Depth::Infinity {
        return Ok(xml(
            StatusCode::FORBIDDEN,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\"><D:propfind-finite-depth/></D:error>\n".to_owned(),
        ));
    }
    let body = match xml_body(body).await {
        Ok(body) => body,
        Err(response) => return Ok(response),
    };
    let asked = match parse_propfind(&body) {
        Ok(asked) => asked,
        Err(e) => return Ok(plain(StatusCode::BAD_REQUEST, &e.to_string())),
    };
    let ybira = ctx.state.taina.ybira();
    let target = ybira.resolve_dav(&ctx.actor, &ctx.path).await?;
    if !target.exists() {
        return Ok(status(StatusCode::NOT_FOUND));
    }
    let quota = if target.is_collection() {
        Some(ybira.dav_quota(&ctx.actor).await?)
    } else {
        None
    };
    let mut described = vec![describe_target(ctx, &target, quota).await?];
    if depth == Depth::One && target.is_collection() {
        let members = match ybira.dav_members(&ctx.actor, &target).await {
            Ok(members) => members,
            Err(e) if e.kind() == taina::core::ErrorKind::TooLarge => {
                return Ok(xml(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\"><D:number-of-matches-within-limits/></D:error>\n".to_owned(),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        for member in members {
            described.push(describe_member(ctx, member, quota).await?);
        }
    }
    let mut doc = Multistatus::new();
    for d in &described {
        doc.props(&d.href, &groups(d, &asked));
    }
    Ok(xml(StatusCode::MULTI_STATUS, doc.finish()))
}

/// The properties of one resource by status, as the request asks.
fn groups(d: &Described, asked: &Propfind) -> Vec<(u16, Vec<PropValue>)> {
    let collection = d.resource.collection;
    let dead = d.dead.iter().map(|(name, value)| PropValue {
        name: name.clone(),
        value: Some(value.clone()),
    });
    match asked {
        Propfind::PropName => {
            let mut names = props::live_names(collection);
            for (name, _) in &d.dead {
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
            let names = names
                .into_iter()
                .map(|name| PropValue { name, value: None })
                .collect();
            vec![(200, names)]
        }
        Propfind::AllProp => {
            let mut found: Vec<PropValue> = props::allprop_names(collection)
                .into_iter()
                .filter_map(|name| live(d, name))
                .collect();
            found.extend(dead);
            vec![(200, found)]
        }
        Propfind::Prop(names) => {
            let (mut found, mut missing) = (Vec::new(), Vec::new());
            for name in names {
                // What a client set wins over what is computed (Windows' attributes).
                let value = d
                    .dead
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(n, v)| PropValue {
                        name: n.clone(),
                        value: Some(v.clone()),
                    })
                    .or_else(|| live(d, name.clone()));
                match value {
                    Some(v) => found.push(v),
                    None => missing.push(PropValue {
                        name: name.clone(),
                        value: None,
                    }),
                }
            }
            vec![(200, found), (404, missing)]
        }
    }
}

fn live(d: &Described, name: PropName) -> Option<PropValue> {
    let value = if name == PropName::dav("lockdiscovery") {
        Some(d.locks.iter().map(activelock_xml).collect())
    } else {
        props::live_value(&d.resource, &name)
    }?;
    Some(PropValue {
        name,
        value: Some(value),
    })
}

async fn describe_target(
    ctx: &Ctx,
    target: &Resolved,
    quota: Option<QuotaShown>,
) -> Result<Described, ApiError> {
    let href = ctx.path.href(&ctx.prefix, target.is_collection());
    Ok(match target {
        Resolved::Item(item) => {
            let ybira = ctx.state.taina.ybira();
            let shown = ybira.dav_shown(&ctx.actor, item).await?;
            Described {
                href,
                resource: item_resource(&item.name, item, quota, shown),
                dead: ybira.dav_dead_props(&ctx.actor, &item.id).await?,
                locks: ybira.dav_locks_over(&ctx.actor, &item.id, false).await?,
            }
        }
        Resolved::SpaceRoot(root, _) => root_described(ctx, href, *root, quota).await?,
        Resolved::SharedRoot => root_described(ctx, href, Root::SharedWithMe, quota).await?,
        _ => {
            let etag = ctx.state.taina.ybira().dav_top_etag(&ctx.actor).await?;
            Described {
                href,
                resource: collection_resource(String::new(), quota, "G", etag, "top"),
                dead: Vec::new(),
                locks: Vec::new(),
            }
        }
    })
}

async fn describe_member(
    ctx: &Ctx,
    member: Member,
    quota: Option<QuotaShown>,
) -> Result<Described, ApiError> {
    Ok(match member {
        Member::Root(root) => {
            let path = DavPath {
                root: Some(root),
                names: Vec::new(),
            };
            root_described(ctx, path.href(&ctx.prefix, true), root, quota).await?
        }
        Member::Item {
            name,
            item,
            dead,
            locks,
            shown,
        } => {
            let collection = item.kind == ItemKind::Folder;
            Described {
                href: ctx.path.child(&name).href(&ctx.prefix, collection),
                resource: item_resource(&name, &item, quota, shown),
                dead,
                locks,
            }
        }
    })
}

async fn root_described(
    ctx: &Ctx,
    href: String,
    root: Root,
    quota: Option<QuotaShown>,
) -> Result<Described, ApiError> {
    let etag = ctx
        .state
        .taina
        .ybira()
        .dav_root_etag(&ctx.actor, root)
        .await?;
    let permissions = props::root_permissions(&ctx.actor, root);
    let id = match root {
        Root::MyFiles => "my-files",
        Root::Community => "community",
        Root::SharedWithMe => "shared-with-me",
    };
    Ok(Described {
        href,
        resource: collection_resource(root.name().to_owned(), quota, permissions, etag, id),
        dead: Vec::new(),
        locks: Vec::new(),
    })
}

fn collection_resource(
    name: String,
    quota: Option<QuotaShown>,
    permissions: &str,
    etag: String,
    id: &str,
) -> Resource {
    Resource {
        name,
        collection: true,
        size: 0,
        mime_type: None,
        etag: Some(etag),
        created: Timestamp::EPOCH,
        modified: Timestamp::EPOCH,
        quota,
        id: Some(id.to_owned()),
        permissions: Some(permissions.to_owned()),
        total_size: 0,
    }
}

fn item_resource(name: &str, item: &Item, quota: Option<QuotaShown>, shown: Shown) -> Resource {
    let collection = item.kind == ItemKind::Folder;
    Resource {
        name: name.to_owned(),
        collection,
        size: item.size_bytes,
        mime_type: item.mime_type.clone(),
        etag: shown.etag,
        created: item.created_at,
        // The time the file had on the device it came from, when its client said.
        modified: item.client_modified_at.unwrap_or(item.updated_at),
        quota: if collection { quota } else { None },
        id: Some(item.id.to_string()),
        permissions: Some(shown.permissions),
        total_size: shown.total_size,
    }
}

pub(super) async fn proppatch(ctx: &Ctx, body: Body) -> Result<Response, ApiError> {
    let body = match xml_body(body).await {
        Ok(body) => body,
        Err(response) => return Ok(response),
    };
    let ops = match parse_proppatch(&body) {
        Ok(ops) => ops,
        Err(e) => return Ok(plain(StatusCode::BAD_REQUEST, &e.to_string())),
    };
    let ybira = ctx.state.taina.ybira();
    let target = ybira.resolve_dav(&ctx.actor, &ctx.path).await?;
    if let Some(refused) = super::preconditions(ctx, &target).await? {
        return Ok(refused);
    }
    let item = match &target {
        Resolved::Item(item) => item,
        Resolved::Missing { .. } | Resolved::ParentMissing => {
            return Ok(status(StatusCode::NOT_FOUND));
        }
        _ => return Err(not_patchable().into()),
    };
    let touches = [super::locking::Touches::Item(item, false)];
    if let Some(refused) = super::locking::locked(ctx, &touches).await? {
        return Ok(refused);
    }
    let outcomes = ybira.dav_patch_props(&ctx.actor, &item.id, &ops).await?;
    let mut by_status: Vec<(u16, Vec<PropValue>)> = Vec::new();
    for (name, code) in outcomes {
        let value = PropValue { name, value: None };
        match by_status.iter_mut().find(|(c, _)| *c == code) {
            Some((_, list)) => list.push(value),
            None => by_status.push((code, vec![value])),
        }
    }
    let mut doc = Multistatus::new();
    doc.props(
        &ctx.path.href(&ctx.prefix, item.kind == ItemKind::Folder),
        &by_status,
    );
    Ok(xml(StatusCode::MULTI_STATUS, doc.finish()))
}

/// An XML answer.
pub(super) fn xml(code: StatusCode, body: String) -> Response {
    let mut response = (code, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    response
}
