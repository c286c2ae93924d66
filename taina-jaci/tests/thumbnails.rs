//! Thumbnails of the real photos: sizes, aspect, upright whatever the EXIF orientation, no metadata.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use taina_jaci::metadata::extract;
use taina_jaci::orientation::Orientation;
use taina_jaci::thumbnail::{DEFAULT_QUALITY, Rendition, Size, previews, thumbnails};

fn photo(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/photos")
            .join(name),
    )
    .unwrap()
}

fn renditions(name: &str) -> Vec<Rendition> {
    let bytes = photo(name);
    thumbnails(&bytes, extract(&bytes).orientation, DEFAULT_QUALITY).unwrap()
}

fn decode(r: &Rendition) -> image::RgbImage {
    image::load_from_memory_with_format(&r.webp, image::ImageFormat::WebP)
        .unwrap()
        .into_rgb8()
}

/// Mean absolute difference per channel (0–255) of the two pictures seen at 16 × 12, where the
/// digit each fixture carries (its orientation number) washes out but a turn or flip does not.
fn difference(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let coarse = |i: &image::RgbImage| {
        image::imageops::resize(i, 16, 12, image::imageops::FilterType::Triangle)
    };
    let (a, b) = (coarse(a), coarse(b));
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

#[test]
fn three_sizes_with_the_right_shapes() {
    let r = renditions("jolla.jpg");
    let shapes: Vec<_> = r.iter().map(|r| (r.size, r.width, r.height)).collect();
    assert_eq!(
        shapes,
        [
            (Size::Small, 200, 200),
            (Size::Medium, 800, 600),
            (Size::Large, 1600, 1200)
        ]
    );
    for rendition in &r {
        let image = decode(rendition);
        assert_eq!(image.dimensions(), (rendition.width, rendition.height));
        assert!(
            !rendition
                .webp
                .windows(4)
                .any(|w| w == b"EXIF" || w == b"XMP "),
            "metadata left in {:?}",
            rendition.size
        );
    }
    // Lossy: far smaller than the pixels.
    assert!(
        r[2].webp.len() < 1600 * 1200 * 3 / 10,
        "{} bytes",
        r[2].webp.len()
    );
    // Never upscaled.
    let tiny = renditions("Canon_40D.jpg");
    let shapes: Vec<_> = tiny.iter().map(|r| (r.width, r.height)).collect();
    assert_eq!(shapes, [(68, 68), (100, 68), (100, 68)]);
}

#[test]
fn every_orientation_gives_the_same_picture() {
    let reference: Vec<_> = renditions("landscape_1.jpg").iter().map(decode).collect();
    for n in 2..=8 {
        let name = format!("landscape_{n}.jpg");
        let turned: Vec<_> = renditions(&name).iter().map(decode).collect();
        for (a, b) in reference.iter().zip(&turned) {
            let d = difference(a, b);
            // The fixtures differ slightly besides their digit (landscape_1 most: about 13 here).
            assert!(d < 20.0, "{name}: differs by {d:.1} from landscape_1");
        }
        // Ignoring the orientation would give a different picture (so the check above can fail).
        let bytes = photo(&name);
        let ignored = thumbnails(&bytes, Orientation::default(), DEFAULT_QUALITY).unwrap();
        let small = decode(&ignored[0]);
        let wrong = difference(&reference[0], &small);
        assert!(
            wrong > 35.0,
            "{name}: ignoring its orientation differs by only {wrong:.1}"
        );
    }
}

#[test]
fn broken_photos_fail_cleanly_or_succeed() {
    // The invalid-EXIF photo still has its pixels.
    let r = renditions("image00971.jpg");
    assert_eq!((r[2].width, r[2].height), (636, 227));
    // Truncated files do not panic.
    let bytes = photo("jolla.jpg");
    for cut in [0, 10, 500, 5000, 100_000] {
        let _ = thumbnails(&bytes[..cut], Orientation::default(), DEFAULT_QUALITY);
    }
    assert!(thumbnails(b"not an image", Orientation::default(), DEFAULT_QUALITY).is_err());
}

/// HEIF/HEIC through libheif: upright thumbnails of the right sizes with real content, and a
/// full-size JPEG rendition without metadata.
#[test]
fn heic_gets_thumbnails_and_a_jpeg_rendition() {
    let bytes = photo("samplefilehub.heif");
    let made = previews(&bytes, extract(&bytes).orientation, DEFAULT_QUALITY).unwrap();
    let sizes: Vec<(u32, u32)> = made
        .thumbnails
        .iter()
        .map(|r| (r.width, r.height))
        .collect();
    assert_eq!(sizes, vec![(200, 200), (640, 426), (640, 426)]);
    let jpeg = made.jpeg.expect("HEIC gets a JPEG rendition");
    let shown = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
        .unwrap()
        .into_rgb8();
    assert_eq!(shown.dimensions(), (640, 426));
    assert!(
        !jpeg.windows(4).any(|w| w == b"Exif"),
        "no metadata in the rendition"
    );
    // A real picture, not a blank: its pixels vary.
    let luma: Vec<f64> = shown
        .pixels()
        .map(|p| f64::from(p[0]) * 0.3 + f64::from(p[1]) * 0.59 + f64::from(p[2]) * 0.11)
        .collect();
    let mean = luma.iter().sum::<f64>() / luma.len() as f64;
    let var = luma.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / luma.len() as f64;
    assert!(var > 100.0, "variance {var}");
    // The large thumbnail is the same picture as the rendition.
    let large =
        image::load_from_memory_with_format(&made.thumbnails[2].webp, image::ImageFormat::WebP)
            .unwrap()
            .into_rgb8();
    let diff: f64 = large
        .pixels()
        .zip(shown.pixels())
        .map(|(a, b)| {
            (0..3)
                .map(|c| (f64::from(a[c]) - f64::from(b[c])).abs())
                .sum::<f64>()
        })
        .sum::<f64>()
        / (640.0 * 426.0 * 3.0);
    assert!(diff < 8.0, "mean difference {diff}");
    // JPEGs get no rendition: browsers show them.
    let jpeg_photo = photo("jolla.jpg");
    assert!(
        previews(
            &jpeg_photo,
            extract(&jpeg_photo).orientation,
            DEFAULT_QUALITY
        )
        .unwrap()
        .jpeg
        .is_none()
    );
}
