//! What a photo's or a video's bytes tell about it — when it was taken, the camera, the place,
//! the exposure — as the types both readers fill in: EXIF and image headers
//! ([`crate::metadata`]) and the `moov` box ([`crate::video`]). Neither reader imports the other.

use serde::{Deserialize, Serialize};
use taina_core::Timestamp;

use crate::orientation::Orientation;

/// Where a photo's taken-at time came from, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum TakenAtSource {
    /// EXIF `DateTimeOriginal` (with `OffsetTimeOriginal` when present).
    DateTimeOriginal,
    /// EXIF `CreateDate` (`DateTimeDigitized`).
    CreateDate,
    /// The file's modification time, as the uploading client reported it.
    FileTime,
    /// When it was uploaded.
    UploadTime,
}

/// When a photo was taken: an instant, and the offset of the place it was taken when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TakenAt {
    /// The instant. When the offset is unknown, the camera's local time read as UTC.
    pub instant: Timestamp,
    /// Minutes east of UTC where it was taken, when known.
    pub offset_minutes: Option<i16>,
    /// Where this came from.
    pub source: TakenAtSource,
}

impl TakenAt {
    /// RFC 3339 in the local time of the place: `2008-05-30T15:56:01+02:00`; with `-00:00` (RFC 3339's
    /// "offset unknown") when the camera did not record one.
    pub fn to_rfc3339(&self) -> String {
        let offset = i64::from(self.offset_minutes.unwrap_or(0));
        let local = Timestamp::from_millis(self.instant.as_millis() + offset * 60_000).to_rfc3339();
        // `local` is `YYYY-MM-DDTHH:MM:SS[.mmm]Z`.
        let clock = local.trim_end_matches('Z');
        match self.offset_minutes {
            None => format!("{clock}-00:00"),
            Some(m) => {
                let sign = if m < 0 { '-' } else { '+' };
                let m = m.unsigned_abs();
                format!("{clock}{sign}{:02}:{:02}", m / 60, m % 60)
            }
        }
    }
}

/// The camera that took it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Camera {
    /// Maker, e.g. `Canon`.
    pub make: Option<String>,
    /// Model, e.g. `Canon EOS 40D`.
    pub model: Option<String>,
    /// Lens model.
    pub lens: Option<String>,
}

/// Where it was taken, in signed decimal degrees (north and east positive) and metres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi(name = "GeoLocation"))]
pub struct Location {
    /// Latitude, -90 to 90.
    pub latitude: f64,
    /// Longitude, -180 to 180.
    pub longitude: f64,
    /// Altitude above sea level (negative below), when recorded.
    pub altitude: Option<f64>,
}

/// How it was exposed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Exposure {
    /// ISO sensitivity.
    pub iso: Option<u32>,
    /// Aperture as an f-number, e.g. 2.8.
    pub f_number: Option<f64>,
    /// Exposure time in seconds, e.g. 0.008 for 1/125.
    pub exposure_time: Option<f64>,
    /// Focal length in millimetres.
    pub focal_length: Option<f64>,
}

/// What a photo's bytes say about it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PhotoMetadata {
    /// Taken-at from EXIF, if it has one (see [`crate::metadata::resolve_taken_at`] for the fallbacks).
    pub exif_taken_at: Option<TakenAt>,
    /// Width as displayed (after orientation), in pixels.
    pub width: Option<u32>,
    /// Height as displayed (after orientation), in pixels.
    pub height: Option<u32>,
    /// EXIF orientation (1 when absent or invalid).
    pub orientation: Orientation,
    /// The camera, when any of its fields is recorded.
    pub camera: Option<Camera>,
    /// Where, when GPS coordinates are recorded and valid.
    pub location: Option<Location>,
    /// The exposure, when any of its fields is recorded.
    pub exposure: Option<Exposure>,
    /// A video's length in milliseconds.
    pub duration_ms: Option<u64>,
}

/// A taken-at from a local date and time and, when known, its offset (offsets beyond ±18 hours are
/// dropped as nonsense).
pub(crate) fn taken_at_from(dt: &exif::DateTime, source: TakenAtSource) -> Option<TakenAt> {
    let local = civil_to_millis(dt)?;
    let offset_minutes = dt.offset.filter(|m| m.abs() <= 18 * 60);
    let instant = local - i64::from(offset_minutes.unwrap_or(0)) * 60_000;
    Some(TakenAt {
        instant: Timestamp::from_millis(instant),
        offset_minutes,
        source,
    })
}

/// Milliseconds since the epoch of a calendar date and time read as UTC, if it is a real one.
fn civil_to_millis(dt: &exif::DateTime) -> Option<i64> {
    let month = time::Month::try_from(dt.month).ok()?;
    let date = time::Date::from_calendar_date(i32::from(dt.year), month, dt.day).ok()?;
    let t = time::Time::from_hms(dt.hour, dt.minute, dt.second).ok()?;
    let seconds = time::PrimitiveDateTime::new(date, t)
        .assume_utc()
        .unix_timestamp();
    let millis = dt.nanosecond.map_or(0, |n| i64::from(n / 1_000_000));
    Some(seconds * 1000 + millis)
}
