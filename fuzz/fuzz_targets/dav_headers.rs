//! WebDAV request headers and paths: If, Depth, Overwrite, Timeout, Destination (`taina_ybira::dav`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    taina::fuzz::fuzz_one("dav_headers", data);
});
