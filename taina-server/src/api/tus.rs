//! Resumable uploads with the tus 1.0 protocol (core, creation, termination, checksum) at
//! `/api/v1/uploads`, for large files and flaky mobile networks. `Upload-Metadata` may carry
//! `filename`, `folder_id` (`root`, `community` or a folder id), `photo` (`true` to add the file to
//! the photo library) and `modified_at` (RFC 3339). When the last byte arrives, the answer carries
//! `Taina-File-Id` (and `Taina-Photo-Id`).

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use taina::core::app_password::Area;
use taina::core::wire::ErrorCode;
use taina::core::{Error as DomainError, ErrorKind, Timestamp, UploadId};
use taina::ybira::{Appended, NewResumable, tus};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::PathId;
use super::constraints::string_schema;
use crate::auth::Auth;
use crate::openapi::ErrorBody;
use crate::{ApiError, AppState};

const TUS_VERSION: &str = "1.0.0";

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, options))
        .routes(routes!(status, append, cancel).layer(DefaultBodyLimit::disable()))
        .layer(no_store())
        .layer(tus_resumable())
}

/// tus wants `Tus-Resumable` on every answer, errors included.
fn tus_resumable() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static("tus-resumable"),
        HeaderValue::from_static(TUS_VERSION),
    )
}

/// Upload state is never cached.
fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    )
}

fn tus(status: StatusCode) -> Response {
    let mut response = status.into_response();
    response
        .headers_mut()
        .insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn set(response: &mut Response, name: &'static str, value: impl ToString) {
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        response.headers_mut().insert(name, v);
    }
}

string_schema!(TusResumable, "The tus version spoken: `1.0.0`.", enum "1.0.0");
string_schema!(UploadChecksum, "`sha256 <base64 of the 32-byte digest>`.", pattern "^sha256 [A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$");

string_schema!(UploadMetadata, "tus `Upload-Metadata`: comma-separated `key base64(value)` pairs; \
    the values are UTF-8 and each is checked as its key says.", format "tus-upload-metadata");

/// Requests must speak our tus version: the 412 answer otherwise.
fn version_refused(headers: &HeaderMap) -> Option<Response> {
    if headers.get("tus-resumable").and_then(|v| v.to_str().ok()) == Some(TUS_VERSION) {
        return None;
    }
    let mut response = tus(StatusCode::PRECONDITION_FAILED);
    set(&mut response, "tus-version", TUS_VERSION);
    Some(response)
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    tus::parse_upload_offset(headers.get(name)?.to_str().ok()?)
}

fn bad(message: &str) -> ApiError {
    ApiError::request(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
}

/// What this tus server supports (no session needed).
#[utoipa::path(options, path = "/uploads", tag = "uploads", security(()),
    responses(
        (status = 204, description = "The tus capabilities",
            headers(
                ("Tus-Resumable" = String, description = "`1.0.0`"),
                ("Tus-Version" = String, description = "`1.0.0`"),
                ("Tus-Extension" = String, description = "`creation,termination,checksum`"),
                ("Tus-Max-Size" = u64, description = "The largest upload, in bytes"),
                ("Tus-Checksum-Algorithm" = String, description = "`sha256`"),
            )),
    ))]
async fn options(State(state): State<AppState>) -> Response {
    let mut response = tus(StatusCode::NO_CONTENT);
    set(&mut response, "tus-version", TUS_VERSION);
    set(
        &mut response,
        "tus-extension",
        "creation,termination,checksum",
    );
    set(
        &mut response,
        "tus-max-size",
        state.taina.config().max_upload_bytes,
    );
    set(&mut response, "tus-checksum-algorithm", "sha256");
    response
}

/// `Upload-Metadata`: `key base64,key base64,...` (read by `taina_ybira::tus`).
fn metadata(headers: &HeaderMap) -> Result<Vec<(String, String)>, ApiError> {
    let Some(raw) = headers.get("upload-metadata") else {
        return Ok(Vec::new());
    };
    let raw = raw
        .to_str()
        .map_err(|_| bad("Upload-Metadata is not ASCII"))?;
    // An empty header carries no metadata (tus asks for at least one pair; clients send it empty).
    if raw.trim().is_empty() {
        return Ok(Vec::new());
    }
    tus::parse_upload_metadata(raw).map_err(|e| bad(&e.to_string()))
}

/// Starts a resumable upload (tus creation); its length is reserved against the quota.
#[utoipa::path(post, path = "/uploads", tag = "uploads",
    params(
        ("Tus-Resumable" = inline(TusResumable), Header, description = "`1.0.0`"),
        ("Upload-Length" = u64, Header, description = "The whole file's size in bytes (`Upload-Defer-Length` is not supported)"),
        ("Upload-Metadata" = inline(Option<UploadMetadata>), Header, description = "`key base64,key base64,...`: \
            `filename` (or `name`), `folder_id` (`root`, `community` or a folder id), `on_conflict` \
            (`rename`, the default, or `replace`: a new version of the file of that name), `photo` \
            (`true` or `1`: add it to the photo library), `modified_at` (RFC 3339); a key without a value \
            is the same as leaving it out"),
    ),
    responses(
        (status = 201, description = "Created; send the content to `Location`",
            headers(
                ("Location" = String, description = "The upload's URL, `/api/v1/uploads/{id}`"),
                ("Upload-Offset" = u64, description = "`0`"),
                ("Tus-Resumable" = String, description = "`1.0.0`"),
            )),
        (status = 400, description = "No `Upload-Length`, an `Upload-Defer-Length`, or a malformed `Upload-Metadata`", body = ErrorBody),
        (status = 404, description = "The `folder_id` names nothing", body = ErrorBody),
        (status = 412, description = "`Tus-Resumable` is missing or not `1.0.0` (no body)",
            headers(("Tus-Version" = String, description = "`1.0.0`"))),
        (status = 409, description = "The person already has `resumable_uploads_per_user` uploads unfinished", body = ErrorBody),
        (status = 413, description = "`Upload-Length` is larger than the instance allows (`too_large`), \
            than the person's unfinished uploads may announce together \
            (`resumable_upload_bytes_per_user`, `too_large`), or than the community's quota can hold \
            (`quota_exceeded`)", body = ErrorBody),
        (status = 422, description = "A bad `modified_at`, `folder_id` or `on_conflict`, or a file name that is not allowed", body = ErrorBody),
    ))]
async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(response) = version_refused(&headers) {
        return Ok(response);
    }
    if headers.contains_key("upload-defer-length") {
        return Err(bad(
            "Upload-Defer-Length is not supported: send Upload-Length",
        ));
    }
    let length =
        header_u64(&headers, "upload-length").ok_or_else(|| bad("Upload-Length is required"))?;
    let meta = metadata(&headers)?;
    let get = |key: &str| tus::metadata_value(&meta, key);
    let location = super::files::location(get("folder_id"))?;
    let client_file_time = match get("modified_at") {
        Some(t) => Some(Timestamp::parse_rfc3339(t).ok_or_else(|| {
            ApiError::from(DomainError::invalid(
                "modified_at",
                "must be an RFC 3339 time",
            ))
        })?),
        None => None,
    };
    let as_photo = matches!(get("photo"), Some("true" | "1"));
    if as_photo {
        crate::auth::also_reaches(&state, &headers, Area::Photos).await?;
    }
    let upload = state
        .taina
        .ybira()
        .create_resumable(
            &actor,
            NewResumable {
                location,
                name: get("filename")
                    .or(get("name"))
                    .unwrap_or("upload")
                    .to_owned(),
                length,
                as_photo,
                client_file_time,
                on_conflict: super::files::on_conflict(get("on_conflict"))?,
            },
        )
        .await?;
    let mut response = tus(StatusCode::CREATED);
    set(
        &mut response,
        "location",
        format!("/api/v1/uploads/{}", upload.id),
    );
    set(&mut response, "upload-offset", 0);
    Ok(response)
}

/// Where a resumable upload stands (tus core).
#[utoipa::path(head, path = "/uploads/{id}", tag = "uploads",
    params(
        ("id" = inline(taina::core::UploadId), Path, description = "The upload's id"),
        ("Tus-Resumable" = inline(TusResumable), Header, description = "`1.0.0`"),
    ),
    responses(
        (status = 200, description = "Its offset and length (no body)",
            headers(
                ("Upload-Offset" = u64, description = "The bytes received so far"),
                ("Upload-Length" = u64, description = "The whole file's size"),
                ("Tus-Resumable" = String, description = "`1.0.0`"),
                ("Cache-Control" = String, description = "`no-store`"),
            )),
        (status = 412, description = "`Tus-Resumable` is missing or not `1.0.0` (no body)",
            headers(("Tus-Version" = String, description = "`1.0.0`"))),
    ))]
async fn status(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<UploadId>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(response) = version_refused(&headers) {
        return Ok(response);
    }
    let status = state.taina.ybira().resumable_status(&actor, &id).await?;
    let mut response = tus(StatusCode::OK);
    set(&mut response, "upload-offset", status.offset);
    set(&mut response, "upload-length", status.length);
    Ok(response)
}

/// `Upload-Checksum: sha256 <base64>` (read by `taina_ybira::tus`).
fn checksum(headers: &HeaderMap) -> Result<Option<[u8; 32]>, ApiError> {
    let Some(raw) = headers.get("upload-checksum") else {
        return Ok(None);
    };
    let raw = raw
        .to_str()
        .map_err(|_| bad("Upload-Checksum is not ASCII"))?;
    // An empty header carries no checksum.
    if raw.trim().is_empty() {
        return Ok(None);
    }
    tus::parse_upload_checksum(raw)
        .map(Some)
        .map_err(|e| bad(&e.to_string()))
}

/// Appends a piece at `Upload-Offset` (tus core and checksum); the last piece stores the file.
#[utoipa::path(patch, path = "/uploads/{id}", tag = "uploads",
    params(
        ("id" = inline(taina::core::UploadId), Path, description = "The upload's id"),
        ("Tus-Resumable" = inline(TusResumable), Header, description = "`1.0.0`"),
        ("Upload-Offset" = u64, Header, description = "Where the piece starts: the upload's current offset"),
        ("Upload-Checksum" = inline(Option<UploadChecksum>), Header, description = "`sha256 <base64>` of the piece: a piece that does not match is dropped"),
    ),
    request_body(content_type = "application/offset+octet-stream", description = "The piece's bytes"),
    responses(
        (status = 204, description = "Received; after the last piece the file is stored",
            headers(
                ("Upload-Offset" = u64, description = "The bytes received so far"),
                ("Tus-Resumable" = String, description = "`1.0.0`"),
                ("Taina-File-Id" = String, description = "After the last piece: the stored file's id"),
                ("Taina-Photo-Id" = String, description = "After the last piece of a `photo` upload: the photo's id"),
            )),
        (status = 400, description = "No `Upload-Offset`, or a malformed or non-sha256 `Upload-Checksum`", body = ErrorBody),
        (status = 409, description = "`Upload-Offset` is not where the upload stands, another piece \
            is being received, or the upload expired", body = ErrorBody),
        (status = 412, description = "`Tus-Resumable` is missing or not `1.0.0` (no body)",
            headers(("Tus-Version" = String, description = "`1.0.0`"))),
        (status = 415, description = "The body is not `application/offset+octet-stream`", body = ErrorBody),
        (status = 404, description = "No such upload: finished, cancelled, someone else's, or expired \
            (`resumable_upload_lifetime_hours` after its creation, or `resumable_upload_idle_minutes` \
            after its last byte)", body = ErrorBody),
        (status = 422, description = "More bytes than `Upload-Length`, or (for a `photo` upload) \
            content that is not a photo or video: refused before anything is stored", body = ErrorBody),
        (status = 460, description = "Checksum mismatch: the piece was dropped; send it again", body = ErrorBody),
    ))]
async fn append(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<UploadId>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if let Some(response) = version_refused(&headers) {
        return Ok(response);
    }
    if headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some("application/offset+octet-stream")
    {
        return Err(ApiError::request(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "send pieces as application/offset+octet-stream",
        ));
    }
    let offset =
        header_u64(&headers, "upload-offset").ok_or_else(|| bad("Upload-Offset is required"))?;
    let sha256 = checksum(&headers)?;
    let stream = Box::pin(body.into_data_stream().map_err(std::io::Error::other));
    let appended = match state
        .taina
        .ybira()
        .append(&actor, &id, offset, sha256, stream)
        .await
    {
        Ok(appended) => appended,
        Err(e)
            if e.kind() == ErrorKind::Invalid && e.public().field() == Some("upload_checksum") =>
        {
            // tus: 460 Checksum Mismatch.
            let status = StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST);
            return Err(ApiError::request(
                status,
                ErrorCode::ChecksumMismatch,
                e.public().to_string(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let mut response = tus(StatusCode::NO_CONTENT);
    match appended {
        Appended::Partial(status) => set(&mut response, "upload-offset", status.offset),
        Appended::Finished {
            status,
            item,
            photo,
        } => {
            set(&mut response, "upload-offset", status.offset);
            set(&mut response, "taina-file-id", &item.id);
            state.metrics.uploads.inc();
            if let Some(photo) = photo {
                set(&mut response, "taina-photo-id", &photo.id);
            }
        }
    }
    Ok(response)
}

/// Abandons a resumable upload (tus termination): its bytes go and its reservation is given back.
#[utoipa::path(delete, path = "/uploads/{id}", tag = "uploads",
    params(
        ("id" = inline(taina::core::UploadId), Path, description = "The upload's id"),
        ("Tus-Resumable" = inline(TusResumable), Header, description = "`1.0.0`"),
    ),
    responses(
        (status = 204, description = "Cancelled",
            headers(("Tus-Resumable" = String, description = "`1.0.0`"))),
        (status = 409, description = "A piece is being received; retry", body = ErrorBody),
        (status = 412, description = "`Tus-Resumable` is missing or not `1.0.0` (no body)",
            headers(("Tus-Version" = String, description = "`1.0.0`"))),
    ))]
async fn cancel(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<UploadId>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(response) = version_refused(&headers) {
        return Ok(response);
    }
    state.taina.ybira().cancel_resumable(&actor, &id).await?;
    Ok(tus(StatusCode::NO_CONTENT))
}
