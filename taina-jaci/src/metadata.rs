//! Photo metadata from EXIF (kamadak-exif) and the image header: when it was taken, its displayed
//! size and orientation, the camera, where, and the exposure.
//!
//! Hostile or broken EXIF never fails an import: [`extract`] keeps whatever fields parse and drops
//! the rest. The parser only reads inside the bytes it is given, so nothing here allocates more
//! than a small multiple of the input.

use std::io::Cursor;

use exif::{Exif, In, Tag, Value};
use taina_core::Timestamp;

use crate::facts::taken_at_from;
pub use crate::facts::{Camera, Exposure, Location, PhotoMetadata, TakenAt, TakenAtSource};
use crate::orientation::Orientation;

/// Reads what it can from a photo's bytes (JPEG, PNG, WebP, GIF, TIFF, HEIF/HEIC), or from a video's
/// (MP4, MOV) when its `moov` box is among them.
///
/// ```
/// let m = taina_jaci::metadata::extract(b"not a photo");
/// assert_eq!(m, taina_jaci::metadata::PhotoMetadata::default());
/// ```
pub fn extract(bytes: &[u8]) -> PhotoMetadata {
    if crate::video::is_video_container(bytes) {
        // Videos whose `moov` box is past these bytes are read box by box by the shell.
        return crate::bmff::find(bytes, b"moov")
            .map(crate::video::metadata_from_moov)
            .unwrap_or_default();
    }
    let exif = read_exif(bytes);
    let orientation = exif
        .as_ref()
        .and_then(|e| uint(e, Tag::Orientation))
        .and_then(|n| u8::try_from(n).ok())
        .and_then(Orientation::from_exif)
        .unwrap_or_default();
    // HEIF says its displayed size (its own rotation applied) in the container.
    let heif = crate::heif::is_heif(bytes);
    let stored = if heif {
        crate::heif::primary_size(bytes)
    } else {
        stored_dimensions(bytes)
    };
    let stored = stored.or_else(|| {
        let e = exif.as_ref()?;
        Some((
            uint(e, Tag::PixelXDimension)?,
            uint(e, Tag::PixelYDimension)?,
        ))
    });
    let displayed = stored.map(|(w, h)| {
        if heif {
            (w, h)
        } else {
            orientation.displayed(w, h)
        }
    });
    let (width, height) = match displayed {
        Some((w, h)) => (Some(w), Some(h)),
        None => (None, None),
    };
    let Some(exif) = exif else {
        return PhotoMetadata {
            width,
            height,
            orientation,
            ..PhotoMetadata::default()
        };
    };
    PhotoMetadata {
        exif_taken_at: exif_taken_at(&exif),
        width,
        height,
        orientation,
        camera: camera(&exif),
        location: location(&exif),
        exposure: exposure(&exif),
        duration_ms: None,
    }
}

/// The EXIF of a photo, keeping what parses when parts are broken.
fn read_exif(bytes: &[u8]) -> Option<Exif> {
    let mut reader = exif::Reader::new();
    reader.continue_on_error(true);
    match reader.read_from_container(&mut Cursor::new(bytes)) {
        Ok(exif) => Some(exif),
        Err(e) => e.distill_partial_result(|_| {}).ok(),
    }
}

/// Width and height as stored (before orientation), from the image header.
pub(crate) fn stored_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()
        .filter(|(w, h)| *w > 0 && *h > 0)
}

/// Picks the taken-at time: EXIF first, then the file time the client sent, then the upload time.
pub fn resolve_taken_at(
    exif: Option<TakenAt>,
    client_file_time: Option<Timestamp>,
    uploaded_at: Timestamp,
) -> TakenAt {
    exif.unwrap_or(match client_file_time {
        Some(t) => TakenAt {
            instant: t,
            offset_minutes: None,
            source: TakenAtSource::FileTime,
        },
        None => TakenAt {
            instant: uploaded_at,
            offset_minutes: None,
            source: TakenAtSource::UploadTime,
        },
    })
}

fn field(exif: &Exif, tag: Tag) -> Option<&Value> {
    exif.get_field(tag, In::PRIMARY).map(|f| &f.value)
}

fn uint(exif: &Exif, tag: Tag) -> Option<u32> {
    field(exif, tag)?.get_uint(0)
}

fn ascii(exif: &Exif, tag: Tag) -> Option<String> {
    match field(exif, tag)? {
        Value::Ascii(parts) => {
            let first = parts.first()?;
            let text: String = String::from_utf8_lossy(first)
                .chars()
                .filter(|c| !c.is_control())
                .take(256)
                .collect();
            let text = text.trim().to_owned();
            (!text.is_empty()).then_some(text)
        }
        _ => None,
    }
}

fn ascii_bytes(exif: &Exif, tag: Tag) -> Option<&[u8]> {
    match field(exif, tag)? {
        Value::Ascii(parts) => parts.first().map(Vec::as_slice),
        _ => None,
    }
}

/// The `n`-th rational of a field as a finite number.
fn rational(exif: &Exif, tag: Tag, n: usize) -> Option<f64> {
    let v = match field(exif, tag)? {
        Value::Rational(r) => r.get(n).filter(|r| r.denom != 0).map(|r| r.to_f64()),
        Value::SRational(r) => r.get(n).filter(|r| r.denom != 0).map(|r| r.to_f64()),
        other => other.get_uint(n).map(f64::from),
    }?;
    v.is_finite().then_some(v)
}

fn exif_taken_at(exif: &Exif) -> Option<TakenAt> {
    [
        (
            Tag::DateTimeOriginal,
            Tag::OffsetTimeOriginal,
            TakenAtSource::DateTimeOriginal,
        ),
        (
            Tag::DateTimeDigitized,
            Tag::OffsetTimeDigitized,
            TakenAtSource::CreateDate,
        ),
    ]
    .into_iter()
    .find_map(|(tag, offset_tag, source)| {
        let mut dt = exif::DateTime::from_ascii(ascii_bytes(exif, tag)?).ok()?;
        if let Some(offset) = ascii_bytes(exif, offset_tag) {
            // A malformed offset is ignored: the time stays, its zone unknown.
            if dt.parse_offset(offset).is_err() {
                dt.offset = None;
            }
        }
        taken_at_from(&dt, source)
    })
}

fn camera(exif: &Exif) -> Option<Camera> {
    let camera = Camera {
        make: ascii(exif, Tag::Make),
        model: ascii(exif, Tag::Model),
        lens: ascii(exif, Tag::LensModel),
    };
    (camera != Camera::default()).then_some(camera)
}

fn location(exif: &Exif) -> Option<Location> {
    let degrees = |tag: Tag| -> Option<f64> {
        let d = rational(exif, tag, 0)?;
        let m = rational(exif, tag, 1).unwrap_or(0.0);
        let s = rational(exif, tag, 2).unwrap_or(0.0);
        Some(d + m / 60.0 + s / 3600.0)
    };
    let sign = |tag: Tag, negative: u8| match ascii_bytes(exif, tag).and_then(|r| r.first()) {
        Some(r) if r.eq_ignore_ascii_case(&negative) => -1.0,
        _ => 1.0,
    };
    let latitude = degrees(Tag::GPSLatitude)? * sign(Tag::GPSLatitudeRef, b'S');
    let longitude = degrees(Tag::GPSLongitude)? * sign(Tag::GPSLongitudeRef, b'W');
    if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
        return None;
    }
    let below = field(exif, Tag::GPSAltitudeRef).and_then(|v| v.get_uint(0)) == Some(1);
    let altitude = rational(exif, Tag::GPSAltitude, 0).map(|a| if below { -a } else { a });
    Some(Location {
        latitude,
        longitude,
        altitude,
    })
}

fn exposure(exif: &Exif) -> Option<Exposure> {
    let exposure = Exposure {
        iso: uint(exif, Tag::PhotographicSensitivity).filter(|n| *n > 0),
        f_number: rational(exif, Tag::FNumber, 0).filter(|f| *f > 0.0),
        exposure_time: rational(exif, Tag::ExposureTime, 0).filter(|t| *t > 0.0),
        focal_length: rational(exif, Tag::FocalLength, 0).filter(|f| *f > 0.0),
    };
    (exposure != Exposure::default()).then_some(exposure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn taken_at_renders_the_local_time_and_offset() {
        let t = TakenAt {
            instant: Timestamp::parse_rfc3339("2008-05-30T13:56:01Z").unwrap(),
            offset_minutes: Some(120),
            source: TakenAtSource::DateTimeOriginal,
        };
        assert_eq!(t.to_rfc3339(), "2008-05-30T15:56:01+02:00");
        let unknown = TakenAt {
            offset_minutes: None,
            ..t
        };
        assert_eq!(unknown.to_rfc3339(), "2008-05-30T13:56:01-00:00");
        let west = TakenAt {
            offset_minutes: Some(-210),
            ..t
        };
        assert_eq!(west.to_rfc3339(), "2008-05-30T10:26:01-03:30");
    }

    #[test]
    fn taken_at_falls_back_in_order() {
        let upload = Timestamp::from_millis(2_000);
        let file = Timestamp::from_millis(1_000);
        assert_eq!(
            resolve_taken_at(None, Some(file), upload).source,
            TakenAtSource::FileTime
        );
        assert_eq!(resolve_taken_at(None, None, upload).instant, upload);
    }

    proptest! {
        /// Random bytes never panic.
        #[test]
        fn random_bytes_are_harmless(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = extract(&bytes);
        }

        /// A JPEG whose EXIF segment is random never panics.
        #[test]
        fn random_exif_in_a_jpeg_is_harmless(body in proptest::collection::vec(any::<u8>(), 0..2048), le in any::<bool>()) {
            let mut tiff = if le { b"II*\0\x08\0\0\0".to_vec() } else { b"MM\0*\0\0\0\x08".to_vec() };
            tiff.extend_from_slice(&body);
            let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
            let len = (tiff.len() + 8) as u16;
            jpeg.extend_from_slice(&len.to_be_bytes());
            jpeg.extend_from_slice(b"Exif\0\0");
            jpeg.extend_from_slice(&tiff);
            jpeg.extend_from_slice(&[0xFF, 0xD9]);
            let _ = extract(&jpeg);
        }
    }
}
