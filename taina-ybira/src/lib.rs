//! # taina-ybira
//!
//! Ybira, Tainá's files service, as pure decisions: names, paths, moves, trash, dedup and quota
//! decisions. The `taina` shell performs the effects. Filled in by the Ybira issue.
#![forbid(unsafe_code)]

pub use taina_core as core;
