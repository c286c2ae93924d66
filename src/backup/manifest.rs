//! A backup's manifest: what it holds (the database file and every stored file, with sizes and
//! SHA-256), read as untrusted input and checked before anything is restored from it.

use std::path::Path;

use serde::{Deserialize, Serialize};
use taina_core::Timestamp;

use super::invalid;
use crate::Result;

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The manifest format this version writes and reads.
pub const FORMAT: u32 = 1;

/// What a backup holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// The manifest format ([`FORMAT`]).
    pub format: u32,
    /// When the backup was taken.
    pub created_at: Timestamp,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The database file, with its checksum.
    pub database: Entry,
    /// Every stored file, by path under `storage/`.
    pub files: Vec<Entry>,
    /// Whether thumbnails are included.
    pub thumbnails: bool,
}

/// One file of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Its path (under `storage/` for stored files).
    pub path: String,
    /// Its size.
    pub size_bytes: u64,
    /// Its SHA-256, in hex.
    pub sha256: String,
}

/// The database files a backup may hold.
const DATABASE_FILES: [&str; 2] = ["taina.db", "database.pgdump"];

/// Whether a manifest path names a file under `communities/` and nothing else: relative, with
/// plain names only (no `..`, no root, no prefix), so a crafted manifest cannot make a restore
/// write elsewhere.
fn is_storage_path(path: &str) -> bool {
    let path = Path::new(path);
    let mut parts = path.components();
    matches!(parts.next(), Some(std::path::Component::Normal(first)) if first == "communities")
        && parts.clone().next().is_some()
        && parts.all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// Reads a backup's `manifest.json` (untrusted: it comes from the backup folder) and checks it
/// before anything is restored from it: this version's format, a known database file, and stored
/// files under `communities/` only.
pub fn parse_manifest(bytes: &[u8]) -> Result<Manifest> {
    let manifest: Manifest = serde_json::from_slice(bytes)
        .map_err(|e| invalid("backup", format!("{MANIFEST} is not a Tainá manifest: {e}")))?;
    if manifest.format != FORMAT {
        return Err(invalid(
            "backup",
            format!("manifest format {} is not {FORMAT}", manifest.format),
        ));
    }
    if !DATABASE_FILES.contains(&manifest.database.path.as_str()) {
        return Err(invalid(
            "backup",
            "the manifest names an unknown database file",
        ));
    }
    if let Some(bad) = manifest.files.iter().find(|e| !is_storage_path(&e.path)) {
        return Err(invalid(
            "backup",
            format!("the manifest names a file outside storage: {:?}", bad.path),
        ));
    }
    Ok(manifest)
}

pub(super) fn read_manifest(dir: &Path) -> Result<Option<Manifest>> {
    match std::fs::read(dir.join(MANIFEST)) {
        Ok(bytes) => parse_manifest(&bytes).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}
