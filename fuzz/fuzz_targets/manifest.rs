//! A backup's `manifest.json` (`taina::backup::parse_manifest`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    taina::fuzz::fuzz_one("manifest", data);
});
