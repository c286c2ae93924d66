//! `taina-decode`: decodes one untrusted image (or runs `pdftoppm`) under limits, for the server.
//!
//! The server starts it as a child process with [`taina::decoder::CHILD_ARG`] first; it does
//! nothing else. The `taina` command does the same when given that argument, so an installed
//! server needs only `taina`; this program is what the library's own tests (and any embedding of
//! the library without the `taina` command) find beside their executable. See
//! [`taina::decoder`].
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    if !taina::decoder::is_child() {
        eprintln!(
            "taina-decode is started by the Tainá server to decode untrusted images; \
             it is not meant to be run by hand"
        );
        return ExitCode::from(64);
    }
    taina::decoder::child_main()
}
