//! Message search queries made into FTS5 and tsquery text (`taina_guara::search`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    taina::fuzz::fuzz_one("search", data);
});
