//! Backups taken while the server runs, and restoring them into an empty data directory.
//!
//! A backup directory holds the database (`taina.db`, a SQLite `VACUUM INTO` snapshot, or
//! `database.pgdump`, a `pg_dump` in its custom format), the blobs under `storage/` at the same
//! paths as in the data directory, and `manifest.json` naming every file with its size and
//! SHA-256. The blob list comes from the database snapshot itself (for PostgreSQL, from a
//! transaction sharing `pg_dump`'s exported snapshot), so database and blobs agree; while a backup
//! runs, freed blobs are not deleted (the `delete_blob` job waits for it), so every blob the
//! snapshot names is still there to copy.
//!
//! Backing up into an earlier backup copies only blobs it does not hold yet (blobs never change:
//! a path names one content) and removes those no longer used. Thumbnails are optional: they
//! can be made again, and a restore without them queues that work.
//!
//! By concept: the manifest and its checks (`manifest.rs`), the mark a running backup leaves
//! (`lock.rs`), copying and hashing files (`files.rs`), the database snapshots (`snapshot.rs`),
//! taking a backup (`take.rs`) and restoring one (`restore.rs`).

use serde::Serialize;

use crate::Error;

mod files;
mod lock;
mod manifest;
mod restore;
mod snapshot;
mod take;

pub(crate) use files::hash_file;
pub(crate) use lock::backup_running;
pub use manifest::{Entry, FORMAT, MANIFEST, Manifest, parse_manifest};
pub use restore::restore;

/// What a backup did.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    /// Files in the backup (blobs and, if asked, thumbnails).
    pub files: u64,
    /// Files copied now.
    pub copied: u64,
    /// Bytes copied now.
    pub bytes_copied: u64,
    /// Files an earlier backup already held.
    pub reused: u64,
    /// Files of an earlier backup removed as no longer used.
    pub removed: u64,
}

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    /// Files restored.
    pub files: u64,
    /// Bytes restored.
    pub bytes: u64,
    /// The integrity check of the restored instance.
    pub integrity: taina_ybira::integrity::IntegrityReport,
    /// Files whose thumbnails were queued to be made again (a backup without thumbnails).
    pub previews_queued: u64,
}

fn invalid(what: &'static str, reason: impl Into<String>) -> Error {
    taina_core::Error::Invalid {
        field: what,
        reason: reason.into(),
    }
    .into()
}
