//! The ISO BMFF box reader and the `moov` search and reader of videos (`taina_jaci::bmff`, `taina_jaci::video`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    taina::fuzz::fuzz_one("bmff", data);
});
