//! The text parts of upload forms: `folder_id` and `modified_at`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    taina::fuzz::fuzz_one("form_part", data);
});
