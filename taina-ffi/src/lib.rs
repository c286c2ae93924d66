//! # taina-ffi
//!
//! Tainá's client SDK for mobile apps, exported through uniffi (proc-macros) to Kotlin, Swift and
//! Python. [`TainaClient`] talks to a server's HTTP API; the models it answers are the very types of
//! the pure crates (`taina_core::User`, `taina_ybira::item::Item`, `taina_jaci::library::Photo`,
//! `taina_guara::message::Message`, ...), which derive their uniffi types behind their `uniffi`
//! feature. Files cross the boundary as paths, never as bytes.
//!
//! By area:
//! - `client`: making a client, sign-in and the token, me, sessions;
//! - `files`: folders and files (list, create, rename, move, trash, restore, versions, shares),
//!   resumable uploads from a path and checked, resumable downloads to a path, ranges;
//! - `photos`: the timeline, a photo and its neighbours, the map, thumbnails, albums, and the photo
//!   backup (hash, ask the server which it has, upload the rest);
//! - `messages`: conversations and groups, sending (idempotently), history pages, edits,
//!   deletion, reactions, read positions, search;
//! - `realtime`: the subscription, which reconnects with back-off and catches up with no gap.
#![forbid(unsafe_code)]

mod client;
mod download;
mod error;
mod files;
mod local;
mod messages;
mod photos;
mod realtime;
mod tls;
mod upload;

pub use client::{ClientOptions, TainaClient};
pub use error::ClientError;
pub use local::{
    LocalThumbnail, file_sha256, make_thumbnails, normalize_file_name, read_photo_metadata,
};
pub use photos::{AlbumContents, BackupReport, PhotoScope};
pub use realtime::{EventListener, RealtimeEvent, Subscription};
/// The server's stable error codes, as [`ClientError::Api`] carries them.
pub use taina_core::wire::ErrorCode;

/// Told how a long transfer goes (implemented by the app).
#[uniffi::export(with_foreign)]
pub trait ProgressListener: Send + Sync {
    /// `done` of `total` (bytes, or files for a backup).
    fn on_progress(&self, done: u64, total: u64);
}

uniffi::setup_scaffolding!();
