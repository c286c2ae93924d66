//! WebDAV request bodies: PROPFIND, PROPPATCH and LOCK (`taina_ybira::dav::xml`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    taina::fuzz::fuzz_one("dav_xml", data);
});
