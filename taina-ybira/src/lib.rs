//! # taina-ybira
//!
//! Ybira, Tainá's files service, as pure decisions: item names and their collisions, where blobs
//! live on disk, and which folder moves are allowed. The `taina` shell performs the effects.
//!
//! Uploads, dedup, quotas, trash, versions and shares are decided here too as the Ybira issue
//! fills the crate in.
#![forbid(unsafe_code)]

pub mod layout;
pub mod name;
pub mod tree;

pub use taina_core as core;
