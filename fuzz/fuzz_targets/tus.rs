//! tus headers: `Upload-Metadata`, `Upload-Offset`, `Upload-Checksum` (`taina_ybira::tus`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    taina::fuzz::fuzz_one("tus", data);
});
