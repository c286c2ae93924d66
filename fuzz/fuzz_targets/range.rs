//! HTTP `Range` headers (`taina_ybira::range::parse_http_range`): the first 8 bytes are the file size.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    taina::fuzz::fuzz_one("range", data);
});
