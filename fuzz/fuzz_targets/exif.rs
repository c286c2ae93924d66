//! Photo metadata: EXIF and image headers (`taina_jaci::metadata::extract`), HEIF's primary size.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    taina::fuzz::fuzz_one("exif", data);
});
