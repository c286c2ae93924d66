//! The realtime socket's client frames (`taina_core::wire::ClientFrame`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    taina::fuzz::fuzz_one("socket_frame", data);
});
