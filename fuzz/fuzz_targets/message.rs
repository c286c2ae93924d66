//! Message text, reactions, idempotency keys (`taina_guara::message`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    taina::fuzz::fuzz_one("message", data);
});
