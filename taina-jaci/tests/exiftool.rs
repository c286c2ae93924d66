//! Metadata read from the real photos in `tests/fixtures/photos` matches ExifTool's reading of them
//! (`exiftool-reference.json`, numeric values).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use serde_json::Value;
use taina_jaci::metadata::{TakenAtSource, extract};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/photos")
}

#[test]
fn metadata_matches_exiftool() {
    let reference: Vec<Value> =
        serde_json::from_slice(&std::fs::read(fixtures().join("exiftool-reference.json")).unwrap())
            .unwrap();
    assert_eq!(reference.len(), 14);
    for expected in reference {
        let name = expected["FileName"].as_str().unwrap();
        let bytes = std::fs::read(fixtures().join(name)).unwrap();
        let m = extract(&bytes);
        let orientation = expected["Orientation"].as_u64().unwrap();
        assert_eq!(
            u64::from(m.orientation.value()),
            orientation,
            "{name}: orientation"
        );
        // ExifTool gives the stored size; ours is as displayed.
        let (w, h) = (
            expected["ImageWidth"].as_u64().unwrap(),
            expected["ImageHeight"].as_u64().unwrap(),
        );
        let (w, h) = if orientation >= 5 { (h, w) } else { (w, h) };
        assert_eq!(
            (m.width.map(u64::from), m.height.map(u64::from)),
            (Some(w), Some(h)),
            "{name}: size"
        );
        match expected.get("DateTimeOriginal").and_then(Value::as_str) {
            Some(dto) => {
                let taken = m
                    .exif_taken_at
                    .unwrap_or_else(|| panic!("{name}: no taken-at"));
                assert_eq!(taken.source, TakenAtSource::DateTimeOriginal, "{name}");
                let expected = format!("{}-00:00", dto.replacen(':', "-", 2).replacen(' ', "T", 1));
                assert_eq!(taken.to_rfc3339(), expected, "{name}: taken-at");
            }
            None => assert!(
                m.exif_taken_at
                    .is_none_or(|t| t.source != TakenAtSource::DateTimeOriginal),
                "{name}: unexpected DateTimeOriginal"
            ),
        }
        let camera = m.camera.clone().unwrap_or_default();
        assert_eq!(
            camera.make.as_deref(),
            expected["Make"].as_str(),
            "{name}: make"
        );
        assert_eq!(
            camera.model.as_deref(),
            expected["Model"].as_str(),
            "{name}: model"
        );
        assert_eq!(
            camera.lens.as_deref(),
            expected["LensModel"].as_str(),
            "{name}: lens"
        );
        match (
            expected["GPSLatitude"].as_f64(),
            expected["GPSLongitude"].as_f64(),
        ) {
            (Some(lat), Some(lon)) => {
                let at = m.location.unwrap_or_else(|| panic!("{name}: no location"));
                assert!(
                    (at.latitude - lat).abs() < 1e-6,
                    "{name}: {} vs {lat}",
                    at.latitude
                );
                assert!(
                    (at.longitude - lon).abs() < 1e-6,
                    "{name}: {} vs {lon}",
                    at.longitude
                );
            }
            _ => assert!(m.location.is_none(), "{name}: unexpected location"),
        }
    }
}

#[test]
fn exposure_and_gps_details_are_read() {
    let m = extract(&std::fs::read(fixtures().join("DSCN0010.jpg")).unwrap());
    let exposure = m.exposure.unwrap();
    assert!(
        exposure.f_number.is_some()
            && exposure.exposure_time.is_some()
            && exposure.focal_length.is_some()
    );
    assert!(exposure.iso.is_some());
}

/// Mutating real photos byte by byte never panics and never loses the photo's size.
#[test]
fn mutated_photos_are_harmless() {
    let original = std::fs::read(fixtures().join("Canon_40D.jpg")).unwrap();
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    for round in 0..2000 {
        let mut bytes = original.clone();
        for _ in 0..(1 + round % 8) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Aim at the EXIF segment (the first 2 KiB) most of the time.
            let span = if round % 4 == 0 {
                bytes.len()
            } else {
                2048.min(bytes.len())
            };
            let at = (seed as usize) % span;
            bytes[at] = (seed >> 32) as u8;
        }
        let _ = extract(&bytes);
        if round % 3 == 0 {
            bytes.truncate((seed as usize) % bytes.len());
            let _ = extract(&bytes);
        }
    }
}

/// Videos (MP4, MOV) against ExifTool: recording time, displayed size, duration, place and camera.
#[test]
fn video_metadata_matches_exiftool() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/videos");
    let reference: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("exiftool-reference.json")).unwrap())
            .unwrap();
    assert_eq!(reference.len(), 3);
    for expected in reference {
        let name = expected["SourceFile"].as_str().unwrap();
        let m = extract(&std::fs::read(dir.join(name)).unwrap());
        // ExifTool gives the stored size and the rotation; ours is the size as displayed.
        let (w, h) = (
            expected["ImageWidth"].as_u64().unwrap(),
            expected["ImageHeight"].as_u64().unwrap(),
        );
        let rotation = expected["Rotation"].as_u64().unwrap();
        let (w, h) = if rotation % 180 == 90 { (h, w) } else { (w, h) };
        assert_eq!(
            (m.width.map(u64::from), m.height.map(u64::from)),
            (Some(w), Some(h)),
            "{name}: size"
        );
        let exif_orientation = match rotation {
            90 => 6,
            180 => 3,
            270 => 8,
            _ => 1,
        };
        assert_eq!(m.orientation.value(), exif_orientation, "{name}: rotation");
        assert_eq!(
            m.duration_ms,
            Some(expected["Duration"].as_f64().unwrap() as u64 * 1000),
            "{name}: duration"
        );
        let taken = m.exif_taken_at.unwrap_or_else(|| panic!("{name}: no date"));
        assert_eq!(taken.source, TakenAtSource::CreateDate, "{name}");
        // With Apple's creation date, the local time and offset; otherwise the UTC CreateDate.
        let expected_taken = match expected.get("CreationDate").and_then(Value::as_str) {
            Some(local) => {
                let (date_time, offset) = local.split_at(19);
                format!(
                    "{}{offset}",
                    date_time.replacen(':', "-", 2).replacen(' ', "T", 1)
                )
            }
            None => format!(
                "{}-00:00",
                expected["CreateDate"]
                    .as_str()
                    .unwrap()
                    .replacen(':', "-", 2)
                    .replacen(' ', "T", 1)
            ),
        };
        assert_eq!(taken.to_rfc3339(), expected_taken, "{name}: taken-at");
        let location = m.location.unwrap_or_else(|| panic!("{name}: no location"));
        for (ours, theirs) in [
            (location.latitude, &expected["GPSLatitude"]),
            (location.longitude, &expected["GPSLongitude"]),
            (location.altitude.unwrap(), &expected["GPSAltitude"]),
        ] {
            assert!(
                (ours - theirs.as_f64().unwrap()).abs() < 1e-4,
                "{name}: {ours} vs {theirs}"
            );
        }
        let camera = m.camera.clone().unwrap_or_default();
        assert_eq!(camera.make.as_deref(), expected["Make"].as_str(), "{name}");
        assert_eq!(
            camera.model.as_deref(),
            expected["Model"].as_str(),
            "{name}"
        );
    }
}

/// Truncated and mutated videos give what is sound and never panic.
#[test]
fn broken_videos_are_harmless() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/videos");
    let bytes = std::fs::read(dir.join("iphone.mov")).unwrap();
    for cut in (0..bytes.len()).step_by(97) {
        let _ = extract(&bytes[..cut]);
    }
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..2_000 {
        let mut mutated = bytes.clone();
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state % mutated.len() as u64) as usize;
            mutated[at] = (state >> 32) as u8;
        }
        let _ = extract(&mutated);
    }
}
