//! # taina-client
//!
//! A plain async Rust client of a Tainá server's HTTP API and realtime socket, for other Rust
//! programs, bots and the mobile SDK (`taina-ffi`, the uniffi layer over it). [`Client`] talks to
//! one server as one signed-in person; the models it answers are the very types of the pure
//! crates (`taina_core::User`, `taina_ybira::item::Item`, `taina_jaci::library::Photo`,
//! `taina_guara::message::Message`, ...), and its errors carry the server's stable codes
//! ([`ErrorCode`]). Uploads and downloads stream from and to paths, never held whole (the
//! on-device photo rules in `local` read one photo whole, within the server's own limit).
//!
//! By area:
//! - `client`: making a client, sign-in and the token, me, sessions;
//! - `files`: folders and files (list, create, rename, move, trash, restore, versions, shares),
//!   resumable uploads from a path and checked, resumable downloads to a path, ranges;
//! - `photos`: the timeline, a photo and its neighbours, the map, thumbnails, albums, and the photo
//!   backup (hash, ask the server which it has, upload the rest);
//! - `messages`: conversations and groups, sending (idempotently), history pages, edits,
//!   deletion, reactions, read positions, search;
//! - `realtime`: the subscription, which reconnects with back-off and catches up with no gap;
//! - `local`: the server's pure rules run on the device (photo metadata, thumbnails, names).
//!
//! With the `uniffi` feature its records, enums and error derive their uniffi types (as the pure
//! crates' do), for `taina-ffi`; without it nothing here knows of uniffi.
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

pub use client::{Client, ClientOptions};
pub use error::ClientError;
pub use local::{
    LocalThumbnail, file_sha256, make_thumbnails, normalize_file_name, read_photo_metadata,
};
pub use photos::{AlbumContents, BackupReport, PhotoScope};
pub use realtime::{EventListener, RealtimeEvent, Subscription};
/// The server's stable error codes, as [`ClientError::Api`] carries them.
pub use taina_core::wire::ErrorCode;

/// Told how a long transfer goes.
pub trait ProgressListener: Send + Sync {
    /// `done` of `total` (bytes, or files for a backup).
    fn on_progress(&self, done: u64, total: u64);
}

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();
