//! Video metadata (MP4, MOV) from the container's `moov` box: when it was recorded, its displayed
//! size (the track matrix's rotation applied), its duration, where (Apple's ISO 6709 key, the
//! QuickTime `©xyz` atom or 3GPP `loci`) and the camera (Apple's keys or `©mak`/`©mod`).
//!
//! The `moov` box may sit at the end of a large file, so the shell finds it box by box with
//! [`crate::bmff::box_header`] and passes its body to [`metadata_from_moov`].

use taina_core::Timestamp;

use crate::bmff::{BmffBox, be_i32, be_u16, be_u32, be_u64, boxes, brands, find};
use crate::facts::{Camera, Location, PhotoMetadata, TakenAt, TakenAtSource, taken_at_from};
use crate::orientation::Orientation;

/// The largest `moov` box read (a long video's sample tables stay far below this).
pub const MAX_MOOV_BYTES: u64 = 64 * 1024 * 1024;
/// Top-level boxes stepped over at most when looking for `moov`.
pub const MAX_TOP_LEVEL_BOXES: usize = 1_000;
/// Seconds from 1904-01-01 (the QuickTime epoch) to 1970-01-01.
const QUICKTIME_EPOCH_OFFSET: i64 = 2_082_844_800;

/// Whether the bytes start like an MP4 or QuickTime video (an `ftyp` box that is not HEIF's).
pub fn is_video_container(data: &[u8]) -> bool {
    let brands = brands(data);
    !brands.is_empty() && !crate::heif::is_heif(data)
}

/// One step of finding a video's `moov` box in a file, box by box from the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoovSearch {
    /// The `moov` box's body is this byte range of the file: read it and pass it to
    /// [`metadata_from_moov`].
    Found(std::ops::Range<u64>),
    /// Not this box: read the next box's header at this offset.
    Next(u64),
    /// No `moov` box to be read (malformed, past the end, or larger than [`MAX_MOOV_BYTES`]).
    Stop,
}

/// Given the bytes read at `offset` (16, or fewer at the end), where to look next in a file of
/// `file_size` bytes.
///
/// ```
/// use taina_jaci::video::{moov_search_step, MoovSearch};
/// assert_eq!(moov_search_step(0, b"\0\0\0\x08wide", 100), MoovSearch::Next(8));
/// assert_eq!(moov_search_step(8, b"\0\0\0\x5cmoov", 100), MoovSearch::Found(16..100));
/// ```
pub fn moov_search_step(offset: u64, header: &[u8], file_size: u64) -> MoovSearch {
    let Some(h) = crate::bmff::box_header(header) else {
        return MoovSearch::Stop;
    };
    let end = match h.size {
        Some(size) => offset.saturating_add(size),
        None => file_size,
    };
    if end > file_size {
        return MoovSearch::Stop;
    }
    if &h.kind == b"moov" {
        // A box that runs to the end but starts past it (or too close to it for its header).
        let Some(start) = offset
            .checked_add(h.header_len)
            .filter(|&start| start <= end)
        else {
            return MoovSearch::Stop;
        };
        let body = start..end;
        return if body.end - body.start <= MAX_MOOV_BYTES {
            MoovSearch::Found(body)
        } else {
            MoovSearch::Stop
        };
    }
    if end <= offset {
        MoovSearch::Stop
    } else {
        MoovSearch::Next(end)
    }
}

/// What a video's `moov` box (its body) says.
///
/// ```
/// let m = taina_jaci::video::metadata_from_moov(b"garbage");
/// assert_eq!(m.width, None);
/// ```
pub fn metadata_from_moov(moov: &[u8]) -> PhotoMetadata {
    let mut metadata = PhotoMetadata::default();
    let keys = apple_keys(moov);
    let key = |name: &str| {
        keys.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some(mvhd) = find(moov, b"mvhd") {
        let (created, timescale, duration) = match mvhd.first() {
            Some(1) => (be_u64(mvhd, 4), be_u32(mvhd, 20), be_u64(mvhd, 24)),
            _ => (
                be_u32(mvhd, 4).map(u64::from),
                be_u32(mvhd, 12),
                be_u32(mvhd, 16).map(u64::from),
            ),
        };
        metadata.exif_taken_at = created
            .filter(|&s| s > 0)
            .and_then(|s| i64::try_from(s).ok())
            .map(|s| TakenAt {
                instant: Timestamp::from_millis((s - QUICKTIME_EPOCH_OFFSET).saturating_mul(1000)),
                offset_minutes: None,
                source: TakenAtSource::CreateDate,
            });
        metadata.duration_ms = match (timescale, duration) {
            (Some(scale), Some(d)) if scale > 0 && d != u64::MAX && d != u64::from(u32::MAX) => {
                Some(d.saturating_mul(1000) / u64::from(scale))
            }
            _ => None,
        };
    }
    // Apple's creation date keeps the local time and offset of where it was recorded.
    if let Some(taken) = key("com.apple.quicktime.creationdate").and_then(parse_creation_date) {
        metadata.exif_taken_at = Some(taken);
    }
    if let Some((width, height, orientation)) = video_track(moov) {
        let (w, h) = orientation.displayed(width, height);
        metadata.width = Some(w);
        metadata.height = Some(h);
        metadata.orientation = orientation;
    }
    let udta = find(moov, b"udta");
    metadata.location = key("com.apple.quicktime.location.ISO6709")
        .and_then(parse_iso6709)
        .or_else(|| {
            udta.and_then(|u| find(u, b"\xA9xyz"))
                .and_then(quicktime_text)
                .as_deref()
                .and_then(parse_iso6709)
        })
        .or_else(|| udta.and_then(|u| find(u, b"loci")).and_then(parse_loci));
    let text = |kind: &[u8; 4]| udta.and_then(|u| find(u, kind)).and_then(quicktime_text);
    let camera = Camera {
        make: key("com.apple.quicktime.make")
            .map(str::to_owned)
            .or_else(|| text(b"\xA9mak")),
        model: key("com.apple.quicktime.model")
            .map(str::to_owned)
            .or_else(|| text(b"\xA9mod")),
        lens: key("com.apple.quicktime.camera.lens_model").map(str::to_owned),
    };
    if camera != Camera::default() {
        metadata.camera = Some(camera);
    }
    metadata
}

/// The first video track's stored width and height and its rotation as an EXIF orientation.
fn video_track(moov: &[u8]) -> Option<(u32, u32, Orientation)> {
    boxes(moov).filter(|b| &b.kind == b"trak").find_map(|trak| {
        let handler = find(trak.body, b"mdia").and_then(|m| find(m, b"hdlr"));
        if handler.and_then(|h| h.get(8..12)) != Some(b"vide") {
            return None;
        }
        let tkhd = find(trak.body, b"tkhd")?;
        // After version and flags: times, track id and duration (wider in version 1), eight
        // reserved bytes, then layer, alternate group, volume and two reserved bytes.
        let matrix = if tkhd.first() == Some(&1) { 52 } else { 40 };
        let (a, b) = (be_i32(tkhd, matrix)?, be_i32(tkhd, matrix + 4)?);
        let (c, d) = (be_i32(tkhd, matrix + 12)?, be_i32(tkhd, matrix + 16)?);
        let width = be_u32(tkhd, matrix + 36)? >> 16;
        let height = be_u32(tkhd, matrix + 40)? >> 16;
        let one = 0x1_0000;
        let orientation = match (a, b, c, d) {
            (0, b, c, 0) if b == one && c == -one => 6, // 90° clockwise
            (a, 0, 0, d) if a == -one && d == -one => 3, // 180°
            (0, b, c, 0) if b == -one && c == one => 8, // 270° clockwise
            _ => 1,
        };
        (width > 0 && height > 0).then(|| {
            (
                width,
                height,
                Orientation::from_exif(orientation).unwrap_or_default(),
            )
        })
    })
}

/// Apple's `mdta` metadata: `meta` holding `keys` and `ilst`, as (key, text value) pairs.
fn apple_keys(moov: &[u8]) -> Vec<(String, String)> {
    // In `moov` (as iPhones write it) or in its `udta`.
    let meta = find(moov, b"meta").or_else(|| find(moov, b"udta").and_then(|u| find(u, b"meta")));
    let Some(meta) = meta else {
        return Vec::new();
    };
    // QuickTime's `meta` is a plain box; MP4's is a full box (four bytes of version and flags).
    let children: Vec<BmffBox<'_>> = if find(meta, b"keys").is_some() {
        boxes(meta).collect()
    } else {
        boxes(meta.get(4..).unwrap_or_default()).collect()
    };
    let child = |kind: &[u8; 4]| children.iter().find(|b| &b.kind == kind).map(|b| b.body);
    let (Some(keys), Some(ilst)) = (child(b"keys"), child(b"ilst")) else {
        return Vec::new();
    };
    let count = be_u32(keys, 4).unwrap_or(0) as usize;
    let mut names = Vec::new();
    let mut at = 8;
    for _ in 0..count.min(crate::bmff::MAX_BOXES) {
        let Some(size) = be_u32(keys, at).map(|s| s as usize) else {
            break;
        };
        let Some(name) = keys.get(at + 8..at + size.max(8)) else {
            break;
        };
        names.push(String::from_utf8_lossy(name).into_owned());
        at += size.max(8);
    }
    boxes(ilst)
        .filter_map(|item| {
            let index = u32::from_be_bytes(item.kind) as usize;
            let name = names.get(index.checked_sub(1)?)?;
            let data = find(item.body, b"data")?;
            // Type 1 is UTF-8 text.
            (be_u32(data, 0)? == 1).then(|| {
                let value = String::from_utf8_lossy(data.get(8..)?).trim().to_owned();
                Some((name.clone(), value))
            })?
        })
        .collect()
}

/// A QuickTime `©...` text atom: a 16-bit length, a 16-bit language, then the text.
fn quicktime_text(body: &[u8]) -> Option<String> {
    let len = be_u16(body, 0)? as usize;
    let text = body.get(4..4 + len)?;
    let text = String::from_utf8_lossy(text)
        .trim_matches(char::from(0))
        .trim()
        .to_owned();
    (!text.is_empty()).then_some(text)
}

/// 3GPP `loci`: a full box, language, a name (NUL-terminated), a role, then longitude, latitude
/// and altitude as signed 16.16 fixed point.
fn parse_loci(body: &[u8]) -> Option<Location> {
    let name_end = 6 + body.get(6..)?.iter().position(|&b| b == 0)?;
    let at = name_end + 2; // the NUL, then the role
    let fixed = |i: usize| be_i32(body, at + i * 4).map(|v| f64::from(v) / 65_536.0);
    let (longitude, latitude) = (fixed(0)?, fixed(1)?);
    located(latitude, longitude, fixed(2))
}

/// An ISO 6709 point as phones write it: `+37.7858-122.4064+010.000/` (degrees, or degrees and
/// minutes, or degrees, minutes and seconds, by the number of integer digits).
///
/// ```
/// let l = taina_jaci::video::parse_iso6709("+37.7858-122.4064+010.000/").unwrap();
/// assert_eq!((l.latitude, l.longitude, l.altitude), (37.7858, -122.4064, Some(10.0)));
/// ```
pub fn parse_iso6709(text: &str) -> Option<Location> {
    let text = text.trim().trim_end_matches('/');
    if text.len() > 64 {
        return None;
    }
    let mut parts = Vec::new();
    let mut start = None;
    for (i, ch) in text.char_indices() {
        if ch == '+' || ch == '-' {
            if let Some(s) = start {
                parts.push(&text[s..i]);
            }
            start = Some(i);
        } else if !(ch.is_ascii_digit() || ch == '.') {
            return None;
        }
    }
    parts.push(&text[start?..]);
    let latitude = sexagesimal(parts.first()?, 2)?;
    let longitude = sexagesimal(parts.get(1)?, 3)?;
    let altitude = parts
        .get(2)
        .and_then(|a| a.parse::<f64>().ok())
        .filter(|a| a.is_finite());
    located(latitude, longitude, altitude)
}

/// A signed ISO 6709 coordinate with `degree_digits` integer digits of degrees, then maybe two of
/// minutes and two of seconds.
fn sexagesimal(part: &str, degree_digits: usize) -> Option<f64> {
    let (sign, digits) = part.split_at(1);
    let sign = if sign == "-" { -1.0 } else { 1.0 };
    let int_len = digits.find('.').unwrap_or(digits.len());
    let value = |s: &str| s.parse::<f64>().ok();
    let degrees = match int_len.checked_sub(degree_digits)? {
        0 => value(digits)?,
        2 => value(&digits[..degree_digits])? + value(&digits[degree_digits..])? / 60.0,
        4 => {
            value(&digits[..degree_digits])?
                + value(&digits[degree_digits..degree_digits + 2])? / 60.0
                + value(&digits[degree_digits + 2..])? / 3600.0
        }
        _ => return None,
    };
    Some(sign * degrees)
}

/// A location when the coordinates are on Earth.
fn located(latitude: f64, longitude: f64, altitude: Option<f64>) -> Option<Location> {
    ((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude)).then_some(
        Location {
            latitude,
            longitude,
            altitude,
        },
    )
}

/// Apple's creation date, `2022-08-14T18:45:12-0300` (the offset also as `-03:00` or `Z`).
fn parse_creation_date(text: &str) -> Option<TakenAt> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 || bytes.len() > 40 {
        return None;
    }
    let date_time: Vec<u8> = bytes[..19]
        .iter()
        .enumerate()
        .map(|(i, &b)| match (i, b) {
            (4 | 7, b'-') => b':',
            (10, b'T') => b' ',
            _ => b,
        })
        .collect();
    let mut dt = exif::DateTime::from_ascii(&date_time).ok()?;
    let rest = text.get(19..)?;
    let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match rest {
        "Z" => Some("+00:00".to_owned()),
        r if r.len() == 5 => Some(format!("{}:{}", &r[..3], &r[3..])),
        r if r.len() == 6 => Some(r.to_owned()),
        _ => None,
    };
    if let Some(offset) = offset
        && dt.parse_offset(offset.as_bytes()).is_err()
    {
        dt.offset = None;
    }
    taken_at_from(&dt, TakenAtSource::CreateDate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_moov_running_to_the_end_from_past_the_end_stops_the_search() {
        // Found by the fuzz corpus replay (fuzz/corpus/bmff/crash-moov-step-body-underflow).
        assert_eq!(
            moov_search_step(200, b"\0\0\0\0moov", 100),
            MoovSearch::Stop
        );
        assert_eq!(moov_search_step(96, b"\0\0\0\0moov", 100), MoovSearch::Stop);
        assert_eq!(
            moov_search_step(92, b"\0\0\0\0moov", 100),
            MoovSearch::Found(100..100)
        );
        assert_eq!(
            moov_search_step(u64::MAX - 3, b"\0\0\0\0moov", u64::MAX),
            MoovSearch::Stop
        );
    }

    #[test]
    fn reads_iso6709_in_its_forms() {
        let l = parse_iso6709("-33.8568+151.2153+012.500/").unwrap();
        assert_eq!(
            (l.latitude, l.longitude, l.altitude),
            (-33.8568, 151.2153, Some(12.5))
        );
        let l = parse_iso6709("+4851.504+00217.670/").unwrap();
        assert!((l.latitude - 48.8584).abs() < 1e-4 && (l.longitude - 2.29450).abs() < 1e-4);
        let l = parse_iso6709("+485130.24+0021740.2/").unwrap();
        assert!((l.latitude - 48.8584).abs() < 1e-4);
        assert_eq!(parse_iso6709("+91.0+000.0/"), None);
        assert_eq!(parse_iso6709("hello"), None);
        assert_eq!(parse_iso6709(""), None);
    }

    #[test]
    fn reads_apple_creation_dates() {
        let t = parse_creation_date("2022-08-14T18:45:12-0300").unwrap();
        assert_eq!(t.to_rfc3339(), "2022-08-14T18:45:12-03:00");
        let z = parse_creation_date("2022-08-14T21:45:12Z").unwrap();
        assert_eq!(z.instant, t.instant);
        assert!(parse_creation_date("yesterday").is_none());
    }

    proptest! {
        #[test]
        fn random_moov_bytes_are_harmless(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = metadata_from_moov(&bytes);
            let _ = is_video_container(&bytes);
        }

        /// The search always moves forward and stays inside the file.
        #[test]
        fn moov_search_moves_forward(offset in 0u64..1_000_000, header in proptest::collection::vec(any::<u8>(), 0..16), size in 0u64..2_000_000) {
            match moov_search_step(offset, &header, size) {
                MoovSearch::Next(n) => prop_assert!(n > offset && n <= size),
                MoovSearch::Found(r) => prop_assert!(r.start > offset && r.end <= size && r.start <= r.end),
                MoovSearch::Stop => {}
            }
        }

        #[test]
        fn iso6709_never_panics_and_stays_on_earth(text in "[-+0-9./a-z]{0,40}") {
            if let Some(l) = parse_iso6709(&text) {
                prop_assert!(l.latitude.abs() <= 90.0 && l.longitude.abs() <= 180.0);
            }
        }

        #[test]
        fn creation_dates_never_panic(text in "\\PC{0,45}") {
            let _ = parse_creation_date(&text);
        }
    }
}
