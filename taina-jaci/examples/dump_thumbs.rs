//! Writes the medium rendition of each orientation fixture to /tmp/thumbs (a debugging aid).
#![allow(clippy::unwrap_used)]
fn main() {
    let mut grid = image::RgbImage::new(200 * 4, 150 * 2);
    for n in 1..=8u32 {
        let p = format!("tests/fixtures/photos/landscape_{n}.jpg");
        let bytes = std::fs::read(&p).unwrap();
        let m = taina_jaci::metadata::extract(&bytes);
        let r = taina_jaci::thumbnail::thumbnails(&bytes, m.orientation, 80.0).unwrap();
        let im = image::imageops::thumbnail(
            &image::load_from_memory(&r[1].webp).unwrap().into_rgb8(),
            200,
            150,
        );
        image::imageops::overlay(
            &mut grid,
            &im,
            i64::from((n - 1) % 4 * 200),
            i64::from((n - 1) / 4 * 150),
        );
    }
    grid.save("/tmp/thumbs/grid.png").unwrap();
}
