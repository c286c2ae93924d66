//! # taina-ffi
//!
//! Tainá's client SDK for mobile apps: the uniffi layer (proc-macros) over `taina-client`,
//! exported to Kotlin, Swift and Python, as `matrix-sdk-ffi` is over `matrix-sdk`. [`TainaClient`]
//! wraps a [`taina_client::Client`] and answers what it answers; the app's listeners (foreign
//! traits) are adapted to the client's. The records, enums and error come from `taina-client` and
//! the pure crates (`taina_core::User`, `taina_ybira::item::Item`, `taina_jaci::library::Photo`,
//! `taina_guara::message::Message`, ...), which derive their uniffi types behind their `uniffi`
//! feature. Files cross the boundary as paths, never as bytes.
//!
//! By area, as in `taina-client`: `client` (making a client, sign-in, me, sessions), `files`,
//! `photos`, `messages`, `realtime` (the subscription), `local` (the server's rules on the
//! device).
#![forbid(unsafe_code)]

mod client;
mod files;
mod local;
mod messages;
mod photos;
mod realtime;

use std::sync::Arc;

pub use local::{file_sha256, make_thumbnails, normalize_file_name, read_photo_metadata};
pub use realtime::{EventListener, Subscription};
pub use taina_client::{
    AlbumContents, BackupReport, ClientError, ClientOptions, ErrorCode, LocalThumbnail, PhotoScope,
    RealtimeEvent,
};

/// A client of one Tainá server.
#[derive(uniffi::Object)]
pub struct TainaClient(Arc<taina_client::Client>);

/// Told how a long transfer goes (implemented by the app).
#[uniffi::export(with_foreign)]
pub trait ProgressListener: Send + Sync {
    /// `done` of `total` (bytes, or files for a backup).
    fn on_progress(&self, done: u64, total: u64);
}

/// The app's progress listener, as the client tells it.
struct Progress(Arc<dyn ProgressListener>);

impl taina_client::ProgressListener for Progress {
    fn on_progress(&self, done: u64, total: u64) {
        self.0.on_progress(done, total);
    }
}

/// The client's view of the app's progress listener.
fn progress(listener: Arc<dyn ProgressListener>) -> Arc<dyn taina_client::ProgressListener> {
    Arc::new(Progress(listener))
}

uniffi::setup_scaffolding!();
