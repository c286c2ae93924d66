//! Writes a HEIF/HEIC photo's JPEG rendition to a file (a debugging aid):
//! `cargo run -p taina-jaci --features heic --example heic_rendition -- IN.heic OUT.jpg`.
#![allow(clippy::unwrap_used)]
fn main() {
    let mut args = std::env::args().skip(1);
    let (input, output) = (args.next().unwrap(), args.next().unwrap());
    let bytes = std::fs::read(input).unwrap();
    let m = taina_jaci::metadata::extract(&bytes);
    let made = taina_jaci::thumbnail::previews(&bytes, m.orientation, 80.0).unwrap();
    std::fs::write(output, made.jpeg.expect("not a HEIF/HEIC photo")).unwrap();
}
