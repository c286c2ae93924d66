//! A photo as the database holds it: the columns read, the row, and how it becomes a [`Photo`].

use sqlx::AnyConnection;
use taina_core::{Error as DomainError, ItemId, PhotoId, Timestamp};
use taina_jaci::media::MediaKind;
use taina_jaci::metadata::{Camera, Exposure, Location as GeoLocation, TakenAt, TakenAtSource};
use taina_ybira::access::Space;

use super::Photo;
use crate::db::parse_id;
use crate::{Error, Result};

/// A nullable DOUBLE PRECISION parameter, sent as text and cast in SQL. sqlx 0.8.6's `Any` driver
/// binds a NULL `f64` as a PostgreSQL `float4`, so a statement first prepared with a NULL there
/// (a photo without GPS) then refuses the 8-byte `float8` of the next photo that has one
/// ("incorrect binary data format"). Text has one type whether NULL or not; `f64`'s `Display`
/// round-trips exactly.
pub(super) fn nullable_double(value: Option<f64>) -> Option<String> {
    value.filter(|v| v.is_finite()).map(|v| v.to_string())
}

pub(super) const PHOTO_COLUMNS: &str = "p.id, p.file_id, p.media_kind, p.taken_at, p.taken_offset_minutes, \
     p.taken_at_source, p.width, p.height, p.orientation, p.camera_make, p.camera_model, p.lens, \
     p.latitude, p.longitude, p.altitude, p.iso, p.f_number, p.exposure_time, p.focal_length, \
     p.duration_ms, p.processed_at, p.processing_error, p.created_at, i.name, i.mime_type, i.space_owner_id, \
     i.owner_id FROM photos p JOIN items i ON i.id = p.file_id";

#[derive(sqlx::FromRow)]
pub(super) struct PhotoRow {
    pub(super) id: String,
    pub(super) file_id: String,
    pub(super) media_kind: String,
    pub(super) taken_at: i64,
    pub(super) taken_offset_minutes: Option<i64>,
    pub(super) taken_at_source: String,
    pub(super) width: Option<i64>,
    pub(super) height: Option<i64>,
    pub(super) orientation: i64,
    pub(super) camera_make: Option<String>,
    pub(super) camera_model: Option<String>,
    pub(super) lens: Option<String>,
    pub(super) latitude: Option<f64>,
    pub(super) longitude: Option<f64>,
    pub(super) altitude: Option<f64>,
    pub(super) iso: Option<i64>,
    pub(super) f_number: Option<f64>,
    pub(super) exposure_time: Option<f64>,
    pub(super) focal_length: Option<f64>,
    pub(super) duration_ms: Option<i64>,
    pub(super) processed_at: Option<i64>,
    pub(super) processing_error: Option<String>,
    pub(super) created_at: i64,
    pub(super) name: String,
    pub(super) mime_type: Option<String>,
    pub(super) space_owner_id: Option<String>,
    pub(super) owner_id: Option<String>,
}

impl PhotoRow {
    pub(super) fn into_photo(self) -> Result<Photo> {
        let corrupt = |what: &str| Error::Corrupt(format!("photo {}: {what}", self.id));
        let source: TakenAtSource =
            serde_json::from_value(serde_json::Value::String(self.taken_at_source.clone()))
                .map_err(|_| corrupt("taken_at_source"))?;
        let taken = TakenAt {
            instant: Timestamp::from_millis(self.taken_at),
            offset_minutes: self
                .taken_offset_minutes
                .and_then(|m| i16::try_from(m).ok()),
            source,
        };
        let camera = Camera {
            make: self.camera_make,
            model: self.camera_model,
            lens: self.lens,
        };
        let exposure = Exposure {
            iso: self.iso.and_then(|n| u32::try_from(n).ok()),
            f_number: self.f_number,
            exposure_time: self.exposure_time,
            focal_length: self.focal_length,
        };
        Ok(Photo {
            id: parse_id(&self.id, PhotoId::parse)?,
            file_id: parse_id(&self.file_id, ItemId::parse)?,
            kind: MediaKind::parse(&self.media_kind).ok_or_else(|| corrupt("media_kind"))?,
            name: self.name,
            mime_type: self.mime_type,
            taken_at: taken.to_rfc3339(),
            taken_at_source: source,
            width: self.width.and_then(|n| u32::try_from(n).ok()),
            height: self.height.and_then(|n| u32::try_from(n).ok()),
            orientation: u8::try_from(self.orientation).unwrap_or(1),
            camera: (camera != Camera::default()).then_some(camera),
            location: match (self.latitude, self.longitude) {
                (Some(latitude), Some(longitude)) => Some(GeoLocation {
                    latitude,
                    longitude,
                    altitude: self.altitude,
                }),
                _ => None,
            },
            exposure: (exposure != Exposure::default()).then_some(exposure),
            duration_ms: self.duration_ms.and_then(|n| u64::try_from(n).ok()),
            processed: self.processed_at.is_some(),
            processing_error: self.processing_error,
            space: Space::from_owner(crate::ybira::rows_opt_user(self.space_owner_id.as_deref())?),
            owner_id: crate::ybira::rows_opt_user(self.owner_id.as_deref())?,
            created_at: Timestamp::from_millis(self.created_at),
        })
    }
}

pub(super) fn source_name(source: TakenAtSource) -> String {
    match serde_json::to_value(source) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "upload_time".to_owned(),
    }
}

pub(super) async fn load_photo(conn: &mut AnyConnection, id: &PhotoId) -> Result<Photo> {
    let row: PhotoRow = sqlx::query_as(&format!("SELECT {PHOTO_COLUMNS} WHERE p.id = $1"))
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| DomainError::not_found("photo"))?;
    row.into_photo()
}
