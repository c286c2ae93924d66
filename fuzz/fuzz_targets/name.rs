//! File and folder names and the `name (2).ext` of collisions (`taina_ybira::name`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    taina::fuzz::fuzz_one("name", data);
});
