//! Ybira over HTTP: folders (my space, the community's, any folder), streaming multipart uploads,
//! downloads, thumbnails, rename and move, copy, versions and the trash.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use taina::core::{Actor, Error as DomainError, ItemId, ShareId, UserId, VersionId};
use taina::jaci::Size;
use taina::ybira::{Item, Location, NewUpload, OnConflict, Share, ShareAccess, Version};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::constraints;
use super::form::BoundedForm;
use super::{Body, List, PathId, Query, path_id};
use crate::auth::Auth;
use crate::download::{Plan, not_modified, plan, respond};
use crate::openapi::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_root))
        .routes(routes!(community_root))
        .routes(routes!(create_folder))
        .routes(routes!(folder, update_folder, delete_folder))
        // Uploads stream to storage; the form bounds the body (`form`) and the library the file
        // as bytes arrive.
        .routes(routes!(upload).layer(DefaultBodyLimit::disable()))
        .routes(routes!(file, update_file, delete_file))
        .routes(routes!(content))
        .routes(routes!(thumbnail))
        .routes(routes!(copy))
        .routes(routes!(versions))
        .routes(routes!(restore_version))
        .routes(routes!(trash))
        .routes(routes!(restore))
        .routes(routes!(purge))
        .routes(routes!(shares, share))
        .routes(routes!(unshare))
}

/// What an upload does with a taken name: `rename` (the default) or `replace`.
pub(super) fn on_conflict(value: Option<&str>) -> Result<OnConflict, ApiError> {
    match value {
        None | Some("rename") => Ok(OnConflict::Rename),
        Some("replace") => Ok(OnConflict::Replace),
        Some(_) => Err(DomainError::invalid("on_conflict", "is `rename` or `replace`").into()),
    }
}

/// Where a `parent_id` points: `root` (my files, the default), `community`, or a folder id.
pub(super) fn location(parent: Option<&str>) -> Result<Location, ApiError> {
    Ok(match parent {
        None | Some("root") => Location::MyFiles,
        Some("community") => Location::Shared,
        Some(id) => Location::Folder(path_id::<ItemId>(id)?),
    })
}

/// A page of a folder's children.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// The `next_cursor` of the previous page.
    #[param(schema_with = constraints::cursor)]
    cursor: Option<String>,
    /// How many items to answer (default 100, at most 1000).
    #[param(schema_with = constraints::folder_limit)]
    limit: Option<u32>,
}

/// A folder as the API shows it: the folder, its breadcrumbs and a page of its children.
#[derive(Serialize, ToSchema)]
struct FolderView {
    /// The folder's id, or `root` (my files) or `community` for the roots.
    id: String,
    /// The folder's name (`My files` and `Community` for the roots).
    name: String,
    /// The folder itself (`null` for the roots).
    folder: Option<Item>,
    /// The folders above it, outermost first (empty for the roots).
    breadcrumbs: Vec<Item>,
    /// A page of its children: folders first, then files, by name.
    items: Vec<Item>,
    /// Pass back as `cursor` for the next page; `null` on the last.
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

/// My files: the root of my private space.
#[utoipa::path(get, path = "/folders/root", tag = "files", params(PageQuery),
    responses(
        (status = 200, description = "My files and a page of what is in it", body = FolderView),
        (status = 400, description = "A query parameter does not parse", body = ErrorBody),
        (status = 422, description = "The cursor is not one this server gave out", body = ErrorBody),
    ))]
async fn my_root(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    view(&state, &actor, Location::MyFiles, query).await
}

/// The community's shared files: the root of the shared space.
#[utoipa::path(get, path = "/folders/community", tag = "files", params(PageQuery),
    responses(
        (status = 200, description = "The community's root and a page of what is in it", body = FolderView),
        (status = 400, description = "A query parameter does not parse", body = ErrorBody),
        (status = 422, description = "The cursor is not one this server gave out", body = ErrorBody),
    ))]
async fn community_root(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    view(&state, &actor, Location::Shared, query).await
}

/// A folder, its breadcrumbs and a page of its children.
#[utoipa::path(get, path = "/folders/{id}", tag = "files",
    params(("id" = inline(taina::core::ItemId), Path, description = "The folder's id"), PageQuery),
    responses(
        (status = 200, description = "The folder and a page of what is in it", body = FolderView),
        (status = 400, description = "A query parameter does not parse", body = ErrorBody),
        (status = 422, description = "Not a folder, or the cursor is not one this server gave out", body = ErrorBody),
    ))]
async fn folder(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ItemId>,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    view(&state, &actor, Location::Folder(id), query).await
}

/// A new folder.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewFolder {
    #[schema(schema_with = constraints::item_name)]
    name: String,
    /// Where it goes: `root` (my files, the default), `community`, or a folder id.
    #[schema(schema_with = constraints::place_or_null)]
    parent_id: Option<String>,
}

/// Creates a folder.
#[utoipa::path(post, path = "/folders", tag = "files", request_body = NewFolder,
    responses(
        (status = 201, description = "The folder", body = Item),
        (status = 404, description = "The parent folder names nothing", body = ErrorBody),
        (status = 409, description = "The name is taken in that folder", body = ErrorBody),
    ))]
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

/// A rename and/or a move; what is left out stays.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ItemChange {
    /// The new name.
    #[schema(schema_with = constraints::item_name_or_null)]
    name: Option<String>,
    /// Where it moves: `root` (my files), `community`, or a folder id.
    #[schema(schema_with = constraints::place_or_null)]
    parent_id: Option<String>,
}

/// Renames and/or moves a file or folder, both at once or not at all.
async fn update_item(
    state: &AppState,
    actor: &Actor,
    id: &ItemId,
    body: ItemChange,
) -> Result<Response, ApiError> {
    let change = taina::ybira::ItemChange {
        parent: body
            .parent_id
            .as_deref()
            .map(|p| location(Some(p)))
            .transpose()?,
        name: body.name,
    };
    let item = state.taina.ybira().update_item(actor, id, &change).await?;
    Ok(axum::Json(item).into_response())
}

/// Puts a file or folder in the trash.
async fn delete_item(state: &AppState, actor: &Actor, id: &ItemId) -> Result<StatusCode, ApiError> {
    state.taina.ybira().delete(actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Renames and/or moves a folder.
#[utoipa::path(patch, path = "/folders/{id}", tag = "files", request_body = ItemChange,
    params(("id" = inline(taina::core::ItemId), Path, description = "The folder's id")),
    responses(
        (status = 200, description = "The folder, changed", body = Item),
        (status = 409, description = "The name is taken in the destination", body = ErrorBody),
    ))]
async fn update_folder(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ItemId>,
    Body(body): Body<ItemChange>,
) -> Result<Response, ApiError> {
    update_item(&state, &actor, &id, body).await
}

/// Puts a folder, with everything in it, in the trash.
#[utoipa::path(delete, path = "/folders/{id}", tag = "files",
    params(("id" = inline(taina::core::ItemId), Path, description = "The folder's id")),
    responses((status = 204, description = "In the trash")))]
async fn delete_folder(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ItemId>,
) -> Result<StatusCode, ApiError> {
    delete_item(&state, &actor, &id).await
}

/// Renames and/or moves a file.
#[utoipa::path(patch, path = "/files/{id}", tag = "files", request_body = ItemChange,
    params(("id" = inline(taina::core::ItemId), Path, description = "The file's id")),
    responses(
        (status = 200, description = "The file, changed", body = Item),
        (status = 409, description = "The name is taken in the destination", body = ErrorBody),
    ))]
async fn update_file(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ItemId>,
    Body(body): Body<ItemChange>,
) -> Result<Response, ApiError> {
    update_item(&state, &actor, &id, body).await
}

/// Puts a file in the trash.
#[utoipa::path(delete, path = "/files/{id}", tag = "files",
    params(("id" = inline(taina::core::ItemId), Path, description = "The file's id")),
    responses((status = 204, description = "In the trash")))]
async fn delete_file(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ItemId>,
) -> Result<StatusCode, ApiError> {
    delete_item(&state, &actor, &id).await
}

/// The multipart form of an upload (documentation only: the parts are read as they stream in).
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "describes the multipart form in the OpenAPI document only"
)]
#[serde(deny_unknown_fields)]
struct UploadForm {
    /// Where the file goes: `root` (my files, the default), `community`, or a folder id. Must come
    /// before `file`, which is the last part.
    #[schema(schema_with = constraints::place_or_null)]
    folder_id: Option<String>,
    /// When the name is taken: `rename` (the default: `name (2).ext`) or `replace` (the file
    /// gets the new content; the old one is kept as a version). Must come before `file`.
    #[schema(schema_with = constraints::on_conflict)]
    on_conflict: Option<String>,
    /// The file, with its name in the part's `filename`.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Uploads a file (multipart, streamed to storage as it arrives); a taken name gets a number.
#[utoipa::path(post, path = "/files", tag = "files",
    request_body(content = UploadForm, content_type = "multipart/form-data",
        description = "Optional `folder_id` and `on_conflict` parts (4 KiB each at most), then the `file` part; any other part is refused"),
    responses(
        (status = 201, description = "The file", body = Item),
        (status = 400, description = "A part the form does not know, or a body that does not parse as multipart or breaks off", body = ErrorBody),
        (status = 404, description = "The folder names nothing", body = ErrorBody),
        (status = 409, description = "The upload collided with a concurrent change; retry", body = ErrorBody),
        (status = 413, description = "The file is larger than the instance allows, or a text part or the form before `file` is larger than the form allows (`too_large`), or the community's quota is used up (`quota_exceeded`)", body = ErrorBody),
        (status = 415, description = "The body is not `multipart/form-data`", body = ErrorBody),
        (status = 422, description = "No `file` part, or its name is not allowed", body = ErrorBody),
    ))]
async fn upload(
    State(state): State<AppState>,
    Auth(actor): Auth,
    mut form: BoundedForm,
) -> Response {
    let errors = form.errors();
    receive_upload(&state, &actor, &mut form)
        .await
        .unwrap_or_else(|e| errors.answer(e))
}

async fn receive_upload(
    state: &AppState,
    actor: &Actor,
    form: &mut BoundedForm,
) -> Result<Response, ApiError> {
    let mut to = Location::MyFiles;
    let mut conflict = OnConflict::Rename;
    loop {
        let Some(part) = form.next().await? else {
            return Err(DomainError::invalid("file", "is required").into());
        };
        match part.name() {
            Some("folder_id") => {
                let value = part.text().await?;
                to = location(Some(value.trim()))?;
            }
            Some("on_conflict") => {
                let value = part.text().await?;
                conflict = on_conflict(Some(value.trim()))?;
            }
            Some("file") => {
                let name = part.file_name().unwrap_or("upload").to_owned();
                let stream = part.into_stream();
                let item = state
                    .taina
                    .ybira()
                    .upload(
                        actor,
                        NewUpload {
                            location: to,
                            name,
                            declared_size: None,
                            on_conflict: conflict,
                        },
                        stream,
                    )
                    .await?;
                state.metrics.uploads.inc();
                return Ok((StatusCode::CREATED, axum::Json(item)).into_response());
            }
            _ => return Err(part.refuse("`folder_id`, `on_conflict` and `file`")),
        }
    }
}

/// A file (or folder) by id.
#[utoipa::path(get, path = "/files/{id}", tag = "files",
    params(("id" = inline(taina::core::ItemId), Path, description = "The file's id")),
    responses((status = 200, description = "The file", body = Item)))]
async fn file(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ItemId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(state.taina.ybira().item(&actor, &id).await?).into_response())
}

/// How to send a file's content.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ContentQuery {
    /// `true`: always as an attachment to save, even for types a browser could show.
    #[serde(default)]
    download: bool,
}

/// A file's content: single byte ranges, `If-None-Match` and `If-Range` are honoured.
#[utoipa::path(get, path = "/files/{id}/content", tag = "files",
    params(
        ("id" = inline(taina::core::ItemId), Path, description = "The file's id"),
        ContentQuery,
        ("Range" = Option<String>, Header, description = "One byte range, `bytes=start-end`"),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` already held: 304 if it still matches"),
        ("If-Range" = Option<String>, Header, description = "The `ETag` the range is for; a stale one gets the whole file"),
    ),
    responses(
        (status = 200, description = "The whole file, in its own content type (types that could \
            run script as `application/octet-stream`)",
            content_type = "*/*",
            headers(
                ("ETag" = String, description = "The content's SHA-256, in quotes"),
                ("Last-Modified" = String, description = "When the file last changed"),
                ("Content-Disposition" = String, description = "`inline` for types safe to show, else `attachment`, with the file name"),
                ("Accept-Ranges" = String, description = "`bytes`"),
            )),
        (status = 206, description = "The range asked for", content_type = "*/*",
            headers(("Content-Range" = String, description = "`bytes start-end/size`"))),
        (status = 302, description = "With `download=true`, on object storage configured for it \
            (`storage_presigned_downloads_from_bytes`), for a file that large: the bytes are at \
            `Location`, a URL of the bucket valid for five minutes that answers with the file's name",
            headers(("Location" = String, description = "The presigned URL"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current `ETag`"),
        (status = 400, description = "A query parameter does not parse", body = ErrorBody),
        (status = 416, description = "The range is outside the file (no body)",
            headers(("Content-Range" = String, description = "`bytes */size`"))),
    ))]
async fn content(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ItemId>,
    Query(query): Query<ContentQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ybira = state.taina.ybira();
    let item = ybira.item(&actor, &id).await?;
    match plan(&headers, &item) {
        Plan::Answer(response) => Ok(response),
        Plan::Stream(None) if query.download => {
            let disposition = crate::download::content_disposition(&item.name, false);
            let presigned = ybira
                .presigned_download(
                    &actor,
                    &id,
                    disposition.to_str().unwrap_or("attachment"),
                    "application/octet-stream",
                )
                .await?;
            match presigned {
                Some(url) => Ok(crate::download::redirect_to_store(&url)),
                None => respond(ybira.download(&actor, &id, None).await?, false, true),
            }
        }
        Plan::Stream(range) => {
            let download = ybira.download(&actor, &id, range).await?;
            respond(download, range.is_some(), query.download)
        }
    }
}

/// A thumbnail of an image or a PDF, as WebP (404 until it is made).
#[utoipa::path(get, path = "/files/{id}/thumbnail/{size}", tag = "files",
    params(
        ("id" = inline(taina::core::ItemId), Path, description = "The file's id"),
        ("size" = inline(taina::jaci::Size), Path, description = "`small` (200 × 200, cropped), `medium` (800 px) or `large` (1600 px on the long side)"),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` already held: 304 if it still matches"),
    ),
    responses(
        (status = 200, description = "The thumbnail", content_type = "image/webp",
            headers(
                ("ETag" = String, description = "The thumbnail's SHA-256, in quotes: it changes when the file's content is replaced or a version restored"),
                ("Cache-Control" = String, description = "`private, no-cache`: kept, but checked again each time (the URL stays when the content changes)"),
            )),
        (status = 304, description = "Not modified: `If-None-Match` names the current `ETag`"),
    ))]
async fn thumbnail(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((id, size)): Path<(String, String)>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    let id = path_id::<ItemId>(&id)?;
    let size = Size::parse(&size).ok_or_else(|| ApiError::from(DomainError::not_found("size")))?;
    let bytes = state.taina.jaci().thumbnail(&actor, &id, size).await?;
    let etag = format!("\"{}\"", hex::encode(sha2::Sha256::digest(&bytes)));
    let mut response = if not_modified(&request, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = bytes.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/webp"));
        response
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    // Not `immutable`: the URL names the file, whose content (and so its thumbnail) can change.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}

/// Where a copy goes.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CopyBody {
    /// The destination: `root` (my files, the default), `community`, or a folder id.
    #[schema(schema_with = constraints::place_or_null)]
    parent_id: Option<String>,
    /// The copy's name (default: the file's); a taken name gets a number.
    #[schema(schema_with = constraints::item_name_or_null)]
    name: Option<String>,
}

/// Copies a file (the copy shares the content; no bytes are copied).
#[utoipa::path(post, path = "/files/{id}/copy", tag = "files", request_body = CopyBody,
    params(("id" = inline(taina::core::ItemId), Path, description = "The file's id")),
    responses((status = 201, description = "The copy", body = Item)))]
async fn copy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ItemId>,
    Body(body): Body<CopyBody>,
) -> Result<Response, ApiError> {
    let to = location(body.parent_id.as_deref())?;
    let copied = state
        .taina
        .ybira()
        .copy(&actor, &id, &to, body.name.as_deref())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(copied)).into_response())
}

/// A file's earlier contents.
#[utoipa::path(get, path = "/files/{id}/versions", tag = "files",
    params(("id" = inline(taina::core::ItemId), Path, description = "The file's id")),
    responses((status = 200, description = "Its earlier versions", body = List<Version>)))]
async fn versions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ItemId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(List::all(state.taina.ybira().versions(&actor, &id).await?)).into_response())
}

/// Makes an earlier content the file's current one (the current one becomes a version).
#[utoipa::path(post, path = "/files/{id}/versions/{version}/restore", tag = "files",
    params(
        ("id" = inline(taina::core::ItemId), Path, description = "The file's id"),
        ("version" = inline(taina::core::VersionId), Path, description = "The version's id"),
    ),
    responses((status = 200, description = "The file, restored", body = Item)))]
async fn restore_version(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = path_id::<ItemId>(&id)?;
    let version = path_id::<VersionId>(&version)?;
    let item = state
        .taina
        .ybira()
        .restore_version(&actor, &id, &version)
        .await?;
    Ok(axum::Json(item).into_response())
}

/// What I can restore from the trash (admins: also the shared space's), newest first.
#[utoipa::path(get, path = "/trash", tag = "files",
    responses((status = 200, description = "The items in the trash", body = List<Item>)))]
async fn trash(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    Ok(axum::Json(List::all(state.taina.ybira().trash(&actor).await?)).into_response())
}

/// Takes an item out of the trash, back to its folder (or, if the folder is in the trash or gone,
/// its space's root, for those who may add there).
#[utoipa::path(post, path = "/trash/{id}/restore", tag = "files",
    params(("id" = inline(taina::core::ItemId), Path, description = "The item's id")),
    responses(
        (status = 200, description = "The item, restored", body = Item),
        (status = 409, description = "The folder it was in is in the trash (or gone) and I may not add to its space's root: restore the folder first", body = ErrorBody),
    ))]
async fn restore(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ItemId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(state.taina.ybira().restore(&actor, &id).await?).into_response())
}

/// Deletes an item in the trash for good.
#[utoipa::path(delete, path = "/trash/{id}", tag = "files",
    params(("id" = inline(taina::core::ItemId), Path, description = "The item's id")),
    responses((status = 204, description = "Deleted")))]
async fn purge(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ItemId>,
) -> Result<StatusCode, ApiError> {
    state.taina.ybira().purge(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which shares to list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SharesQuery {
    /// Whom this item is shared with; without it, what is shared with me.
    #[param(schema_with = constraints::id)]
    item_id: Option<String>,
}

/// The shares of an item, or the items shared with me.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
enum SharesView {
    /// With `item_id`: whom the item is shared with.
    Shares(List<Share>),
    /// Without: the items shared with me.
    SharedWithMe(List<Item>),
}

/// With `item_id`, whom that item is shared with; without, the items shared with me.
#[utoipa::path(get, path = "/shares", tag = "files", params(SharesQuery),
    responses(
        (status = 200, description = "A list of shares (with `item_id`) or of items (without)", body = SharesView),
        (status = 404, description = "The item names nothing", body = ErrorBody),
    ))]
async fn shares(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(query): Query<SharesQuery>,
) -> Result<Response, ApiError> {
    let ybira = state.taina.ybira();
    let view = match query.item_id {
        Some(item) => {
            let item = path_id::<ItemId>(&item)?;
            SharesView::Shares(List::all(ybira.shares(&actor, &item).await?))
        }
        None => SharesView::SharedWithMe(List::all(ybira.shared_with_me(&actor).await?)),
    };
    Ok(axum::Json(view).into_response())
}

/// A new share.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ShareBody {
    /// The file or folder to share.
    #[schema(schema_with = constraints::id)]
    item_id: String,
    /// The member to share it with.
    #[schema(schema_with = constraints::id)]
    user_id: String,
    access: ShareAccess,
}

/// Shares a file or folder with a member (or changes their access).
#[utoipa::path(post, path = "/shares", tag = "files", request_body = ShareBody,
    responses(
        (status = 201, description = "The share", body = Share),
        (status = 404, description = "The item or the member names nothing", body = ErrorBody),
    ))]
async fn share(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Body(body): Body<ShareBody>,
) -> Result<Response, ApiError> {
    let item = path_id::<ItemId>(&body.item_id)?;
    let with = path_id::<UserId>(&body.user_id)?;
    let share = state
        .taina
        .ybira()
        .share(&actor, &item, &with, body.access)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(share)).into_response())
}

/// Ends a share.
#[utoipa::path(delete, path = "/shares/{id}", tag = "files",
    params(("id" = inline(taina::core::ShareId), Path, description = "The share's id")),
    responses((status = 204, description = "Ended")))]
async fn unshare(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ShareId>,
) -> Result<StatusCode, ApiError> {
    state.taina.ybira().unshare_by_id(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
