//! # taina-guara
//!
//! Guará, Tainá's messaging service, as pure rules: conversations, messages, unread state, typing
//! and presence. The `taina` shell persists and fans out. Filled in by the Guará issue.
#![forbid(unsafe_code)]

pub use taina_core as core;
