//! # taina-jaci
//!
//! Jaci, Tainá's photos service, as pure work: EXIF to metadata, orientation, thumbnails, the
//! timeline and albums. The `taina` shell runs the jobs and storage. Filled in by the Jaci issue.
#![forbid(unsafe_code)]

pub use taina_core as core;
