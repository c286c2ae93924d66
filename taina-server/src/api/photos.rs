//! Jaci over HTTP: the timeline, photo upload and detail, the map, and albums.

use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use futures::TryStreamExt;
use serde::Deserialize;
use serde_json::json;
use taina::core::{AlbumId, Error as DomainError, PhotoId};
use taina::jaci::{AlbumUpdate, NewAlbum, NewPhoto, Scope, Visibility};
use taina::ybira::Location;

use super::{Body, List, path_id};
use crate::auth::Auth;
use crate::{ApiError, AppState};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/photos",
            get(timeline)
                .post(upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/photos/map", get(map))
        .route("/photos/{id}", get(photo).delete(delete_photo))
        .route("/albums", get(albums).post(create_album))
        .route(
            "/albums/{id}",
            get(album).patch(update_album).delete(delete_album),
        )
        .route("/albums/{id}/photos", post(add_photos))
        .route("/albums/{id}/photos/{photo_id}", delete(remove_photo))
        .route("/albums/{id}/order", put(reorder))
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ScopeParam {
    Mine,
    Shared,
}

#[derive(Deserialize)]
struct TimelineQuery {
    scope: Option<ScopeParam>,
    cursor: Option<String>,
    limit: Option<u32>,
    /// The viewer's offset from UTC in minutes, for date headings (JavaScript's
    /// `-new Date().getTimezoneOffset()`).
    utc_offset: Option<i16>,
}

fn scope(param: Option<ScopeParam>) -> Scope {
    match param {
        Some(ScopeParam::Shared) => Scope::Shared,
        _ => Scope::Mine,
    }
}

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
    Ok(axum::Json(json!({
        "items": page.photos,
        "groups": page.groups,
        "next_cursor": page.next_cursor,
    }))
    .into_response())
}

/// `POST /photos`: the multipart of `POST /files` (`folder_id`, then `file`), plus an optional
/// `modified_at` (RFC 3339, the file's time on the device: a fallback for when it was taken).
async fn upload(
    State(state): State<AppState>,
    Auth(actor): Auth,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let mut location = Location::MyFiles;
    let mut file_time = None;
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| ApiError::request(e.status(), "bad_request", e.body_text()))?;
        let Some(field) = field else {
            return Err(DomainError::invalid("file", "is required").into());
        };
        let text = |e: axum::extract::multipart::MultipartError| {
            ApiError::request(e.status(), "bad_request", e.body_text())
        };
        match field.name() {
            Some("folder_id") => {
                location = super::files::location(Some(field.text().await.map_err(text)?.trim()))?;
            }
            Some("modified_at") => {
                let raw = field.text().await.map_err(text)?;
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
                let name = field.file_name().unwrap_or("photo").to_owned();
                let stream = Box::pin(field.map_err(std::io::Error::other));
                let photo = state
                    .taina
                    .jaci()
                    .import(
                        &actor,
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
            _ => {
                let _ = field.bytes().await.map_err(text)?;
            }
        }
    }
}

async fn photo(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, PhotoId::parse)?;
    let detail = state.taina.jaci().photo(&actor, &id).await?;
    let mut body = serde_json::to_value(&detail.photo)
        .map_err(|e| ApiError::from(taina::Error::Corrupt(e.to_string())))?;
    body["previous_id"] = json!(detail.previous);
    body["next_id"] = json!(detail.next);
    Ok(axum::Json(body).into_response())
}

async fn delete_photo(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, PhotoId::parse)?;
    state.taina.jaci().delete(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct MapQuery {
    scope: Option<ScopeParam>,
}

async fn map(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(query): Query<MapQuery>,
) -> Result<Response, ApiError> {
    let points = state.taina.jaci().map(&actor, scope(query.scope)).await?;
    Ok(axum::Json(List::all(points)).into_response())
}

async fn albums(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    Ok(axum::Json(List::all(state.taina.jaci().albums(&actor).await?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlbumBody {
    name: String,
    #[serde(default)]
    description: String,
    visibility: Option<Visibility>,
}

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

async fn album(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, AlbumId::parse)?;
    let jaci = state.taina.jaci();
    let album = jaci.album(&actor, &id).await?;
    let photos = jaci.album_photos(&actor, &id).await?;
    let mut body = serde_json::to_value(&album)
        .map_err(|e| ApiError::from(taina::Error::Corrupt(e.to_string())))?;
    body["photos"] = json!(photos);
    Ok(axum::Json(body).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlbumPatch {
    name: Option<String>,
    description: Option<String>,
    visibility: Option<Visibility>,
    /// `null` resets the cover to the first photo.
    #[serde(default, with = "double_option")]
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

async fn update_album(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Body(body): Body<AlbumPatch>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, AlbumId::parse)?;
    let cover = match body.cover_photo_id {
        None => None,
        Some(None) => Some(None),
        Some(Some(photo)) => Some(Some(path_id(&photo, PhotoId::parse)?)),
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

async fn delete_album(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, AlbumId::parse)?;
    state.taina.jaci().delete_album(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhotoIds {
    photo_ids: Vec<String>,
}

fn photo_ids(raw: &[String]) -> Result<Vec<PhotoId>, ApiError> {
    raw.iter()
        .map(|id| PhotoId::parse(id).map_err(|_| ApiError::from(DomainError::not_found("photo"))))
        .collect()
}

async fn add_photos(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Body(body): Body<PhotoIds>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, AlbumId::parse)?;
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

async fn remove_photo(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((id, photo)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, AlbumId::parse)?;
    let photo = path_id(&photo, PhotoId::parse)?;
    Ok(axum::Json(
        state
            .taina
            .jaci()
            .remove_from_album(&actor, &id, &photo)
            .await?,
    )
    .into_response())
}

async fn reorder(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Body(body): Body<PhotoIds>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, AlbumId::parse)?;
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
