//! Jaci over HTTP: the timeline, photo upload and detail, the map, and albums.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use taina::core::{Actor, AlbumId, Error as DomainError, PhotoId};
use taina::jaci::{
    Album, AlbumUpdate, MapPoint, NewAlbum, NewPhoto, Photo, Scope, TimelinePage, Visibility,
};
use taina::ybira::Location;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{IntoParams, PartialSchema, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::constraints;
use super::form::BoundedForm;
use super::{Body, List, PathId, Query, path_id};
use crate::auth::Auth;
use crate::openapi::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(timeline, upload).layer(DefaultBodyLimit::disable()))
        .routes(routes!(map))
        .routes(routes!(known))
        .routes(routes!(photo, delete_photo))
        .routes(routes!(albums, create_album))
        .routes(routes!(album, update_album, delete_album))
        .routes(routes!(add_photos))
        .routes(routes!(remove_photo))
        .routes(routes!(reorder))
}

/// Content hashes a device holds.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct KnownBody {
    /// SHA-256 hashes (hex) of the device's photos, at most 500 a call.
    #[schema(schema_with = constraints::sha256_hashes)]
    hashes: Vec<String>,
}

/// Which of the hashes asked about my library already holds.
#[derive(Serialize, ToSchema)]
struct KnownView {
    /// The hashes (lower-case hex) already in my library; upload only the others.
    known: Vec<String>,
}

/// Which of these content hashes my library already holds: a phone's photo backup asks before
/// uploading, and sends only what is new.
#[utoipa::path(post, path = "/photos/known", tag = "photos", request_body = KnownBody,
    responses(
        (status = 200, description = "The hashes already there", body = KnownView),
        (status = 413, description = "More than 500 hashes", body = ErrorBody),
    ))]
async fn known(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Body(body): Body<KnownBody>,
) -> Result<Response, ApiError> {
    let known = state
        .taina
        .jaci()
        .known_content(&actor, &body.hashes)
        .await?;
    Ok(axum::Json(KnownView { known }).into_response())
}

/// Whose photos: mine (my private space, the default) or the community's shared space.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum ScopeParam {
    /// My private space.
    Mine,
    /// The community's shared space.
    Shared,
}

/// A page of the timeline.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TimelineQuery {
    /// Whose photos (default `mine`).
    #[param(inline)]
    scope: Option<ScopeParam>,
    /// The `next_cursor` of the previous page.
    #[param(schema_with = constraints::cursor)]
    cursor: Option<String>,
    /// How many photos to answer (default 50, at most 500).
    #[param(schema_with = constraints::timeline_limit)]
    limit: Option<u32>,
    /// The viewer's offset from UTC in minutes, for date headings (JavaScript's
    /// `-new Date().getTimezoneOffset()`).
    #[param(schema_with = constraints::utc_offset)]
    utc_offset: Option<i16>,
}

fn scope(param: Option<ScopeParam>) -> Scope {
    match param {
        Some(ScopeParam::Shared) => Scope::Shared,
        _ => Scope::Mine,
    }
}

/// A page of the timeline as the API shows it: the library's [`TimelinePage`] with `photos`
/// named `items`, like every other list. (Its heading types are not exported by the library, so
/// the field names are mapped here, and the schema is the page's with the same renaming.)
struct TimelineView(TimelinePage);

impl Serialize for TimelineView {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("TimelineView", 3)?;
        out.serialize_field("items", &self.0.photos)?;
        out.serialize_field("groups", &self.0.groups)?;
        out.serialize_field("next_cursor", &self.0.next_cursor)?;
        out.end()
    }
}

impl PartialSchema for TimelineView {
    fn schema() -> RefOr<Schema> {
        let rename = |name: String| {
            if name == "photos" {
                "items".to_owned()
            } else {
                name
            }
        };
        let mut schema = TimelinePage::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.properties = std::mem::take(&mut object.properties)
                .into_iter()
                .map(|(name, property)| (rename(name), property))
                .collect();
            object.required = std::mem::take(&mut object.required)
                .into_iter()
                .map(rename)
                .collect();
        }
        schema
    }
}

impl ToSchema for TimelineView {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        TimelinePage::schemas(schemas);
    }
}

/// A page of the timeline, newest first, with date headings for the viewer's time zone.
#[utoipa::path(get, path = "/photos", tag = "photos", params(TimelineQuery),
    responses(
        (status = 200, description = "A page of photos (`items`) and their date headings (`groups`)", body = TimelineView),
        (status = 400, description = "A query parameter does not parse", body = ErrorBody),
        (status = 422, description = "The cursor is not one this server gave out, or `utc_offset` is outside -720..=840", body = ErrorBody),
    ))]
async fn timeline(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(query): Query<TimelineQuery>,
) -> Result<Response, ApiError> {
    let page = state
        .taina
        .jaci()
        .timeline(
            &actor,
            scope(query.scope),
            query.cursor.as_deref(),
            query.limit,
            query.utc_offset.unwrap_or(0),
        )
        .await?;
    Ok(axum::Json(TimelineView(page)).into_response())
}

/// The multipart form of a photo upload (documentation only: the parts are read as they stream in).
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "describes the multipart form in the OpenAPI document only"
)]
#[serde(deny_unknown_fields)]
struct PhotoUploadForm {
    /// Where the file goes: `root` (my files, the default), `community`, or a folder id. Must come
    /// before `file`, which is the last part.
    #[schema(schema_with = constraints::place_or_null)]
    folder_id: Option<String>,
    /// The file's time on the device (RFC 3339): when it was taken, if its metadata does not say.
    /// Must come before `file`.
    #[schema(schema_with = constraints::time)]
    modified_at: Option<String>,
    /// The photo or video, with its name in the part's `filename`.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Uploads a photo or video (multipart, streamed) and adds it to the library.
#[utoipa::path(post, path = "/photos", tag = "photos",
    request_body(content = PhotoUploadForm, content_type = "multipart/form-data",
        description = "Optional `folder_id` and `modified_at` parts (4 KiB each at most), then the `file` part; any other part is refused"),
    responses(
        (status = 201, description = "The photo", body = Photo),
        (status = 400, description = "A part the form does not know, or a body that does not parse as multipart or breaks off", body = ErrorBody),
        (status = 404, description = "The folder names nothing", body = ErrorBody),
        (status = 409, description = "The upload collided with a concurrent change; retry", body = ErrorBody),
        (status = 413, description = "The file is larger than the instance allows, or a text part or the form before `file` is larger than the form allows (`too_large`), or the community's quota is used up (`quota_exceeded`)", body = ErrorBody),
        (status = 415, description = "The body is not `multipart/form-data`", body = ErrorBody),
        (status = 422, description = "No `file` part, a bad `modified_at`, a name that is not allowed, or bytes that are not a photo or video the library takes (told by their content, not their name)", body = ErrorBody),
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
    let mut location = Location::MyFiles;
    let mut file_time = None;
    loop {
        let Some(part) = form.next().await? else {
            return Err(DomainError::invalid("file", "is required").into());
        };
        match part.name() {
            Some("folder_id") => {
                location = super::files::location(Some(part.text().await?.trim()))?;
            }
            Some("modified_at") => {
                let raw = part.text().await?;
                file_time = Some(
                    taina::core::Timestamp::parse_rfc3339(raw.trim()).ok_or_else(|| {
                        ApiError::from(DomainError::invalid(
                            "modified_at",
                            "must be an RFC 3339 time",
                        ))
                    })?,
                );
            }
            Some("file") => {
                let name = part.file_name().unwrap_or("photo").to_owned();
                let stream = part.into_stream();
                let photo = state
                    .taina
                    .jaci()
                    .import(
                        actor,
                        NewPhoto {
                            location,
                            name,
                            declared_size: None,
                            client_file_time: file_time,
                        },
                        stream,
                    )
                    .await?;
                state.metrics.uploads.inc();
                return Ok((StatusCode::CREATED, axum::Json(photo)).into_response());
            }
            _ => return Err(part.refuse("`folder_id`, `modified_at` and `file`")),
        }
    }
}

/// A photo with its neighbours in its timeline.
#[derive(Serialize, ToSchema)]
struct PhotoView {
    #[serde(flatten)]
    photo: Photo,
    /// The newer neighbour (`null` for the newest, and for a photo I see only through a share).
    previous_id: Option<PhotoId>,
    /// The older neighbour (`null` for the oldest, and for a photo I see only through a share).
    next_id: Option<PhotoId>,
}

/// A photo, with the ids of its neighbours in the timeline it belongs to.
#[utoipa::path(get, path = "/photos/{id}", tag = "photos",
    params(("id" = inline(taina::core::PhotoId), Path, description = "The photo's id")),
    responses((status = 200, description = "The photo", body = PhotoView)))]
async fn photo(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<PhotoId>,
) -> Result<Response, ApiError> {
    let detail = state.taina.jaci().photo(&actor, &id).await?;
    Ok(axum::Json(PhotoView {
        photo: detail.photo,
        previous_id: detail.previous,
        next_id: detail.next,
    })
    .into_response())
}

/// Deletes a photo: its file goes to the trash (restoring the file brings the photo back).
#[utoipa::path(delete, path = "/photos/{id}", tag = "photos",
    params(("id" = inline(taina::core::PhotoId), Path, description = "The photo's id")),
    responses((status = 204, description = "Deleted")))]
async fn delete_photo(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<PhotoId>,
) -> Result<StatusCode, ApiError> {
    state.taina.jaci().delete(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whose photos the map shows.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct MapQuery {
    /// Whose photos (default `mine`).
    #[param(inline)]
    scope: Option<ScopeParam>,
}

/// The photos that have a location, for a map.
#[utoipa::path(get, path = "/photos/map", tag = "photos", params(MapQuery),
    responses(
        (status = 200, description = "Every located photo", body = List<MapPoint>),
        (status = 400, description = "A query parameter does not parse", body = ErrorBody),
    ))]
async fn map(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(query): Query<MapQuery>,
) -> Result<Response, ApiError> {
    let points = state.taina.jaci().map(&actor, scope(query.scope)).await?;
    Ok(axum::Json(List::all(points)).into_response())
}

/// The albums I may see: mine and the community's shared ones.
#[utoipa::path(get, path = "/albums", tag = "photos",
    responses((status = 200, description = "The albums", body = List<Album>)))]
async fn albums(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    Ok(axum::Json(List::all(state.taina.jaci().albums(&actor).await?)).into_response())
}

/// A new album.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AlbumBody {
    #[schema(schema_with = constraints::album_name)]
    name: String,
    #[serde(default)]
    #[schema(schema_with = constraints::album_description)]
    description: String,
    /// Who sees it (default `private`).
    visibility: Option<Visibility>,
}

/// Creates an album.
#[utoipa::path(post, path = "/albums", tag = "photos", request_body = AlbumBody,
    responses((status = 201, description = "The album", body = Album)))]
async fn create_album(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Body(body): Body<AlbumBody>,
) -> Result<Response, ApiError> {
    let album = state
        .taina
        .jaci()
        .create_album(
            &actor,
            NewAlbum {
                name: body.name,
                description: body.description,
                visibility: body.visibility.unwrap_or(Visibility::Private),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(album)).into_response())
}

/// An album with its photos.
#[derive(Serialize, ToSchema)]
struct AlbumView {
    #[serde(flatten)]
    album: Album,
    /// The photos in it that I may see, in the album's order.
    photos: Vec<Photo>,
}

/// An album and its photos.
#[utoipa::path(get, path = "/albums/{id}", tag = "photos",
    params(("id" = inline(taina::core::AlbumId), Path, description = "The album's id")),
    responses((status = 200, description = "The album and its photos", body = AlbumView)))]
async fn album(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<AlbumId>,
) -> Result<Response, ApiError> {
    let jaci = state.taina.jaci();
    let album = jaci.album(&actor, &id).await?;
    let photos = jaci.album_photos(&actor, &id).await?;
    Ok(axum::Json(AlbumView { album, photos }).into_response())
}

/// Changes to an album; what is left out stays.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AlbumPatch {
    #[schema(schema_with = constraints::album_name_or_null)]
    name: Option<String>,
    #[schema(schema_with = constraints::album_description_or_null)]
    description: Option<String>,
    visibility: Option<Visibility>,
    /// A photo in the album to be its cover; `null` resets the cover to the first photo.
    #[serde(default, with = "double_option")]
    #[schema(schema_with = constraints::id_or_null)]
    cover_photo_id: Option<Option<String>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Ok(Some(Option::<String>::deserialize(d)?))
    }
}

/// Renames an album, changes its description, visibility or cover.
#[utoipa::path(patch, path = "/albums/{id}", tag = "photos", request_body = AlbumPatch,
    params(("id" = inline(taina::core::AlbumId), Path, description = "The album's id")),
    responses(
        (status = 409, description = "The album changed: the order must list exactly its photos, the cover must be one of them", body = ErrorBody),(status = 200, description = "The album, changed", body = Album)))]
async fn update_album(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<AlbumId>,
    Body(body): Body<AlbumPatch>,
) -> Result<Response, ApiError> {
    let cover = match body.cover_photo_id {
        None => None,
        Some(None) => Some(None),
        Some(Some(photo)) => Some(Some(path_id::<PhotoId>(&photo)?)),
    };
    let album = state
        .taina
        .jaci()
        .update_album(
            &actor,
            &id,
            AlbumUpdate {
                name: body.name,
                description: body.description,
                visibility: body.visibility,
                cover_photo_id: cover,
            },
        )
        .await?;
    Ok(axum::Json(album).into_response())
}

/// Deletes an album (its photos stay).
#[utoipa::path(delete, path = "/albums/{id}", tag = "photos",
    params(("id" = inline(taina::core::AlbumId), Path, description = "The album's id")),
    responses((status = 204, description = "Deleted")))]
async fn delete_album(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<AlbumId>,
) -> Result<StatusCode, ApiError> {
    state.taina.jaci().delete_album(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Photos, by id.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PhotoIds {
    #[schema(schema_with = constraints::photo_ids)]
    photo_ids: Vec<String>,
}

/// An album's photos in their new order.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PhotoOrder {
    /// Every photo of the album, each once, in the order to show them.
    #[schema(schema_with = constraints::photo_order)]
    photo_ids: Vec<String>,
}

fn photo_ids(raw: &[String]) -> Result<Vec<PhotoId>, ApiError> {
    raw.iter()
        .map(|id| PhotoId::parse(id).map_err(|_| ApiError::from(DomainError::not_found("photo"))))
        .collect()
}

/// Adds photos to an album (at its end; those already in it stay where they are).
#[utoipa::path(post, path = "/albums/{id}/photos", tag = "photos", request_body = PhotoIds,
    params(("id" = inline(taina::core::AlbumId), Path, description = "The album's id")),
    responses((status = 200, description = "The album, changed", body = Album)))]
async fn add_photos(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<AlbumId>,
    Body(body): Body<PhotoIds>,
) -> Result<Response, ApiError> {
    let photos = photo_ids(&body.photo_ids)?;
    Ok(axum::Json(
        state
            .taina
            .jaci()
            .add_to_album(&actor, &id, &photos)
            .await?,
    )
    .into_response())
}

/// Takes a photo out of an album (the photo stays in the library).
#[utoipa::path(delete, path = "/albums/{id}/photos/{photo_id}", tag = "photos",
    params(
        ("id" = inline(taina::core::AlbumId), Path, description = "The album's id"),
        ("photo_id" = inline(taina::core::PhotoId), Path, description = "The photo's id"),
    ),
    responses((status = 200, description = "The album, changed", body = Album)))]
async fn remove_photo(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((id, photo)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = path_id::<AlbumId>(&id)?;
    let photo = path_id::<PhotoId>(&photo)?;
    Ok(axum::Json(
        state
            .taina
            .jaci()
            .remove_from_album(&actor, &id, &photo)
            .await?,
    )
    .into_response())
}

/// Puts an album's photos in a new order (exactly the photos it holds, each once).
#[utoipa::path(put, path = "/albums/{id}/order", tag = "photos", request_body = PhotoOrder,
    params(("id" = inline(taina::core::AlbumId), Path, description = "The album's id")),
    responses(
        (status = 409, description = "The album changed: the order must list exactly its photos, the cover must be one of them", body = ErrorBody),(status = 200, description = "The album, reordered", body = Album)))]
async fn reorder(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<AlbumId>,
    Body(body): Body<PhotoOrder>,
) -> Result<Response, ApiError> {
    let photos = photo_ids(&body.photo_ids)?;
    Ok(axum::Json(
        state
            .taina
            .jaci()
            .reorder_album(&actor, &id, &photos)
            .await?,
    )
    .into_response())
}
