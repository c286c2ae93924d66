//! # taina-ffi
//!
//! Tainá's client SDK for mobile apps, exported through uniffi (proc-macros) to Kotlin, Swift and
//! Python. [`TainaClient`] talks to a server's HTTP API; the models it answers are the very types of
//! the pure crates (`taina_core::User`, `taina_ybira::item::Item`, ...), which derive their uniffi
//! types behind their `uniffi` feature. Files cross the boundary as paths, never as bytes.
//!
//! Done so far: sign-in and the token, me, folders, resumable uploads from a path with progress,
//! downloads to a path, the photo backup (hash, ask the server which it has, upload the rest),
//! direct conversations, sending (idempotently) and history, and the realtime subscription.
//! Still to come: photos, albums, groups, edits and reactions.
#![forbid(unsafe_code)]

mod client;
mod error;
mod realtime;
mod upload;

pub use client::{BackupReport, ProgressListener, TainaClient};
pub use error::ClientError;
pub use realtime::{EventListener, RealtimeEvent, Subscription};

uniffi::setup_scaffolding!();
