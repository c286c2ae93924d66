//! Ybira over HTTP: folders (my space, the community's, any folder), streaming multipart uploads,
//! downloads, thumbnails, rename and move, copy, versions and the trash.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use taina::core::{Actor, Error as DomainError, ItemId, ShareId, UserId, VersionId};
use taina::jaci::Size;
use taina::ybira::{Item, Location, NewUpload, OnConflict};

use super::{Body, List, path_id};
use crate::auth::Auth;
use crate::download::{Plan, plan, respond};
use crate::{ApiError, AppState};

pub(super) fn routes(_state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/folders/root", get(my_root))
        .route("/folders/community", get(community_root))
        .route("/folders", post(create_folder))
        .route(
            "/folders/{id}",
            get(folder).patch(update_item).delete(delete_item),
        )
        .route(
            "/files",
            // Uploads stream to storage; the library enforces the size limit as bytes arrive.
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/files/{id}",
            get(file).patch(update_item).delete(delete_item),
        )
        .route("/files/{id}/content", get(content))
        .route("/files/{id}/thumbnail/{size}", get(thumbnail))
        .route("/files/{id}/copy", post(copy))
        .route("/files/{id}/versions", get(versions))
        .route(
            "/files/{id}/versions/{version}/restore",
            post(restore_version),
        )
        .route("/trash", get(trash))
        .route("/trash/{id}/restore", post(restore))
        .route("/trash/{id}", axum::routing::delete(purge))
        .route("/shares", get(shares).post(share))
        .route("/shares/{id}", axum::routing::delete(unshare))
}

/// Where a `parent_id` points: `root` (my files, the default), `community`, or a folder id.
pub(super) fn location(parent: Option<&str>) -> Result<Location, ApiError> {
    Ok(match parent {
        None | Some("root") => Location::MyFiles,
        Some("community") => Location::Shared,
        Some(id) => Location::Folder(path_id(id, ItemId::parse)?),
    })
}

#[derive(Deserialize)]
struct PageQuery {
    cursor: Option<String>,
    limit: Option<u32>,
}

/// A folder as the API shows it: the folder, its breadcrumbs and a page of its children.
#[derive(Serialize)]
struct FolderView {
    id: String,
    name: String,
    folder: Option<Item>,
    breadcrumbs: Vec<Item>,
    items: Vec<Item>,
    next_cursor: Option<String>,
}

async fn view(
    state: &AppState,
    actor: &Actor,
    location: Location,
    query: PageQuery,
) -> Result<Response, ApiError> {
    let ybira = state.taina.ybira();
    let page = ybira
        .list(actor, &location, query.cursor.as_deref(), query.limit)
        .await?;
    let (id, name, folder, breadcrumbs) = match &location {
        Location::MyFiles => ("root".to_owned(), "My files".to_owned(), None, Vec::new()),
        Location::Shared => (
            "community".to_owned(),
            "Community".to_owned(),
            None,
            Vec::new(),
        ),
        Location::Folder(id) => {
            let folder = ybira.item(actor, id).await?;
            let trail = ybira.breadcrumbs(actor, id).await?;
            (id.to_string(), folder.name.clone(), Some(folder), trail)
        }
    };
    Ok(axum::Json(FolderView {
        id,
        name,
        folder,
        breadcrumbs,
        items: page.items,
        next_cursor: page.next_cursor,
    })
    .into_response())
}

async fn my_root(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    view(&state, &actor, Location::MyFiles, query).await
}

async fn community_root(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    view(&state, &actor, Location::Shared, query).await
}

async fn folder(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, ItemId::parse)?;
    view(&state, &actor, Location::Folder(id), query).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewFolder {
    name: String,
    parent_id: Option<String>,
}

async fn create_folder(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Body(body): Body<NewFolder>,
) -> Result<Response, ApiError> {
    let to = location(body.parent_id.as_deref())?;
    let folder = state
        .taina
        .ybira()
        .create_folder(&actor, &to, &body.name)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(folder)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemChange {
    name: Option<String>,
    parent_id: Option<String>,
}

/// Renames and/or moves a file or folder.
async fn update_item(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Body(body): Body<ItemChange>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, ItemId::parse)?;
    let ybira = state.taina.ybira();
    let mut item = ybira.item(&actor, &id).await?;
    if let Some(parent) = body.parent_id.as_deref() {
        item = ybira
            .move_item(&actor, &id, &location(Some(parent))?)
            .await?;
    }
    if let Some(name) = &body.name {
        item = ybira.rename(&actor, &id, name).await?;
    }
    Ok(axum::Json(item).into_response())
}

async fn delete_item(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, ItemId::parse)?;
    state.taina.ybira().delete(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /files`: multipart with an optional `folder_id` field (before the file) and a `file` part,
/// streamed to storage as it arrives.
async fn upload(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let limit = state.taina.config().max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Refuse early what cannot fit, before reading a byte (the multipart framing is small).
    if declared.is_some_and(|n| n > limit.saturating_add(64 * 1024)) {
        return Err(DomainError::TooLarge {
            what: "file",
            limit_bytes: limit,
        }
        .into());
    }
    let mut to = Location::MyFiles;
    loop {
        let field = multipart.next_field().await.map_err(multipart_error)?;
        let Some(field) = field else {
            return Err(DomainError::invalid("file", "is required").into());
        };
        match field.name() {
            Some("folder_id") => {
                let value = field.text().await.map_err(multipart_error)?;
                to = location(Some(value.trim()))?;
            }
            Some("file") => {
                let name = field.file_name().unwrap_or("upload").to_owned();
                let stream = Box::pin(field.map_err(std::io::Error::other));
                let item = state
                    .taina
                    .ybira()
                    .upload(
                        &actor,
                        NewUpload {
                            location: to,
                            name,
                            declared_size: None,
                            on_conflict: OnConflict::Rename,
                        },
                        stream,
                    )
                    .await?;
                state.metrics.uploads.inc();
                return Ok((StatusCode::CREATED, axum::Json(item)).into_response());
            }
            _ => {
                // Unknown parts are skipped.
                let _ = field.bytes().await.map_err(multipart_error)?;
            }
        }
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::request(e.status(), "bad_request", e.body_text())
}

async fn file(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, ItemId::parse)?;
    Ok(axum::Json(state.taina.ybira().item(&actor, &id).await?).into_response())
}

#[derive(Deserialize)]
struct ContentQuery {
    #[serde(default)]
    download: bool,
}

async fn content(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Query(query): Query<ContentQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = path_id(&id, ItemId::parse)?;
    let ybira = state.taina.ybira();
    let item = ybira.item(&actor, &id).await?;
    match plan(&headers, &item) {
        Plan::Answer(response) => Ok(response),
        Plan::Stream(range) => {
            let download = ybira.download(&actor, &id, range).await?;
            respond(download, range.is_some(), query.download)
        }
    }
}

async fn thumbnail(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((id, size)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, ItemId::parse)?;
    let size = Size::parse(&size).ok_or_else(|| ApiError::from(DomainError::not_found("size")))?;
    let bytes = state.taina.jaci().thumbnail(&actor, &id, size).await?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/webp"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CopyBody {
    parent_id: Option<String>,
    name: Option<String>,
}

async fn copy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Body(body): Body<CopyBody>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, ItemId::parse)?;
    let to = location(body.parent_id.as_deref())?;
    let copied = state
        .taina
        .ybira()
        .copy(&actor, &id, &to, body.name.as_deref())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(copied)).into_response())
}

async fn versions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, ItemId::parse)?;
    Ok(axum::Json(List::all(state.taina.ybira().versions(&actor, &id).await?)).into_response())
}

async fn restore_version(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, ItemId::parse)?;
    let version = path_id(&version, VersionId::parse)?;
    let item = state
        .taina
        .ybira()
        .restore_version(&actor, &id, &version)
        .await?;
    Ok(axum::Json(item).into_response())
}

async fn trash(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    Ok(axum::Json(List::all(state.taina.ybira().trash(&actor).await?)).into_response())
}

async fn restore(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, ItemId::parse)?;
    Ok(axum::Json(state.taina.ybira().restore(&actor, &id).await?).into_response())
}

async fn purge(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, ItemId::parse)?;
    state.taina.ybira().purge(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct SharesQuery {
    /// Whom this item is shared with; without it, what is shared with me.
    item_id: Option<String>,
}

async fn shares(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(query): Query<SharesQuery>,
) -> Result<Response, ApiError> {
    let ybira = state.taina.ybira();
    Ok(match query.item_id {
        Some(item) => {
            let item = path_id(&item, ItemId::parse)?;
            axum::Json(List::all(ybira.shares(&actor, &item).await?)).into_response()
        }
        None => axum::Json(List::all(ybira.shared_with_me(&actor).await?)).into_response(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareBody {
    item_id: String,
    user_id: String,
    access: taina::ybira::ShareAccess,
}

async fn share(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Body(body): Body<ShareBody>,
) -> Result<Response, ApiError> {
    let item = path_id(&body.item_id, ItemId::parse)?;
    let with = path_id(&body.user_id, UserId::parse)?;
    let share = state
        .taina
        .ybira()
        .share(&actor, &item, &with, body.access)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(share)).into_response())
}

async fn unshare(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, ShareId::parse)?;
    state.taina.ybira().unshare_by_id(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
