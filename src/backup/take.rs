//! Taking a backup, step by step: the destination checked, the database snapshot and the blobs it
//! names, the files copied (or kept from an earlier backup), the manifest written last, and what
//! the earlier backup held and this one no longer needs removed.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use tracing::instrument;

use super::files::download_blob;
use super::lock::Lock;
use super::manifest::{Entry, FORMAT, MANIFEST, Manifest, read_manifest};
use super::snapshot::{BlobList, partial_extension};
use super::{BackupReport, invalid};
use crate::progress::Progress;
use crate::storage::BlobStore;
use crate::{Backend, Error, Result, Taina};

impl Taina {
    /// Takes a consistent backup into `dest` while the instance keeps serving.
    #[instrument(skip_all, fields(dest = %dest.display()))]
    pub async fn backup(
        &self,
        dest: &Path,
        thumbnails: bool,
        progress: &dyn Progress,
    ) -> Result<BackupReport> {
        let previous = self.check_destination(dest)?;
        let _lock = Lock::take(self.data_dir())?;

        // 1. The database snapshot, and the blobs it names.
        progress.start("database", 1, false);
        let (database, blobs) = match self.backend() {
            Backend::Sqlite => self.snapshot_sqlite(dest).await?,
            Backend::Postgres => self.snapshot_postgres(dest).await?,
        };
        progress.advance(1);

        // 2. The files: blobs (checked against their recorded SHA-256) and, if asked, thumbnails.
        let (files, mut report) = self
            .copy_files(dest, blobs, thumbnails, previous.as_ref(), progress)
            .await?;

        // 3. The manifest, last: a backup without one is unfinished.
        let manifest = Manifest {
            format: FORMAT,
            created_at: self.now(),
            backend: self.backend().name().to_owned(),
            database,
            files,
            thumbnails,
        };
        write_manifest(dest, &manifest)?;

        // 4. What the earlier backup held and this one no longer needs (nothing else is touched).
        report.removed = remove_unused(dest, previous.as_ref(), &manifest);
        tracing::info!(files = report.files, copied = report.copied, "backup taken");
        Ok(report)
    }

    /// Makes `dest` if need be and checks that it may take this backup: outside the data
    /// directory, and empty or an earlier backup (whose manifest it answers).
    fn check_destination(&self, dest: &Path) -> Result<Option<Manifest>> {
        std::fs::create_dir_all(dest)?;
        let (dest_real, data_real) = (dest.canonicalize()?, self.data_dir().canonicalize()?);
        if dest_real.starts_with(&data_real) || data_real.starts_with(&dest_real) {
            return Err(invalid(
                "dest",
                "a backup goes outside the data directory (another disk, ideally)",
            ));
        }
        let previous = read_manifest(dest)?;
        if previous.is_none() && std::fs::read_dir(dest)?.next().is_some() {
            return Err(invalid(
                "dest",
                "the folder holds something that is not a Tainá backup; use an empty folder",
            ));
        }
        Ok(previous)
    }

    /// Step 2: every blob the snapshot names (and, if asked, every thumbnail) copied under
    /// `dest/storage/`, or kept from the earlier backup when it already holds the same file.
    async fn copy_files(
        &self,
        dest: &Path,
        blobs: BlobList,
        thumbnails: bool,
        previous: Option<&Manifest>,
        progress: &dyn Progress,
    ) -> Result<(Vec<Entry>, BackupReport)> {
        let stored: HashMap<String, u64> = self
            .blobs()
            .list("communities")
            .await?
            .into_iter()
            .map(|o| (o.path, o.size_bytes))
            .collect();
        let mut wanted: Vec<(String, Option<String>)> = blobs
            .into_iter()
            .map(|(path, _, sha)| (path, Some(sha)))
            .collect();
        if thumbnails {
            for path in stored.keys() {
                if path.contains("/thumbnails/") {
                    wanted.push((path.clone(), None));
                }
            }
        }
        let old: HashMap<&str, &Entry> = previous
            .iter()
            .flat_map(|m| m.files.iter())
            .map(|e| (e.path.as_str(), e))
            .collect();
        let total: u64 = wanted.iter().filter_map(|(p, _)| stored.get(p)).sum();
        progress.start("files", total, true);
        let mut report = BackupReport {
            files: 0,
            copied: 0,
            bytes_copied: 0,
            reused: 0,
            removed: 0,
        };
        let mut files = Vec::with_capacity(wanted.len());
        for (path, recorded) in wanted {
            let target = dest.join("storage").join(&path);
            let size_now = stored.get(&path).copied();
            let kept = old.get(path.as_str()).filter(|e| {
                recorded.as_deref().is_none_or(|r| r == e.sha256)
                    && std::fs::metadata(&target).is_ok_and(|m| m.len() == e.size_bytes)
                    && size_now == Some(e.size_bytes)
            });
            let entry = match kept {
                Some(entry) => {
                    progress.advance(entry.size_bytes);
                    report.reused += 1;
                    (*entry).clone()
                }
                None => {
                    let Some(entry) = copy_one(
                        self.blobs(),
                        size_now,
                        &target,
                        path,
                        recorded.as_deref(),
                        progress,
                    )
                    .await?
                    else {
                        continue;
                    };
                    report.copied += 1;
                    report.bytes_copied += entry.size_bytes;
                    entry
                }
            };
            files.push(entry);
        }
        report.files = files.len() as u64;
        Ok((files, report))
    }
}

/// Copies one stored file (`size` bytes, as listed; `None` when it was not) into the backup,
/// checking a blob against its `recorded` SHA-256; `None` for a thumbnail removed since the listing
/// (it is simply not backed up).
async fn copy_one(
    blobs: &BlobStore,
    size: Option<u64>,
    target: &Path,
    path: String,
    recorded: Option<&str>,
    progress: &dyn Progress,
) -> Result<Option<Entry>> {
    let missing = || Error::Corrupt(format!("{path} is missing from storage; run `taina fsck`"));
    let Some(size) = size else {
        return if recorded.is_none() {
            Ok(None)
        } else {
            Err(missing())
        };
    };
    let (size, sha256) = match download_blob(blobs, &path, size, target, progress).await {
        Ok(copied) => copied,
        Err(Error::Storage(object_store::Error::NotFound { .. })) if recorded.is_none() => {
            return Ok(None);
        }
        Err(Error::Storage(object_store::Error::NotFound { .. })) => return Err(missing()),
        Err(e) => return Err(e),
    };
    if let Some(recorded) = recorded
        && recorded != sha256
    {
        let _ = std::fs::remove_file(target);
        return Err(Error::Corrupt(format!(
            "{path} no longer has its recorded SHA-256; run `taina fsck --deep`"
        )));
    }
    Ok(Some(Entry {
        path,
        size_bytes: size,
        sha256,
    }))
}

/// Step 3: the manifest written beside the database snapshot, both renamed into place.
fn write_manifest(dest: &Path, manifest: &Manifest) -> Result<()> {
    let text = serde_json::to_vec_pretty(manifest)
        .map_err(|e| Error::Corrupt(format!("cannot write the manifest: {e}")))?;
    let partial = dest.join(format!("{MANIFEST}.partial"));
    std::fs::write(&partial, text)?;
    // Until these two renames the earlier backup (database and manifest) stays whole, so a
    // backup that fails halfway never spoils the last good one.
    let database_file = dest.join(&manifest.database.path);
    std::fs::rename(
        database_file.with_extension(partial_extension(&manifest.database.path)),
        &database_file,
    )?;
    std::fs::rename(&partial, dest.join(MANIFEST))?;
    Ok(())
}

/// Step 4: removes the earlier backup's files this one does not name; answers how many.
fn remove_unused(dest: &Path, previous: Option<&Manifest>, manifest: &Manifest) -> u64 {
    let keep: HashSet<&str> = manifest.files.iter().map(|e| e.path.as_str()).collect();
    let mut removed = 0;
    for old in previous.iter().flat_map(|m| m.files.iter()) {
        if !keep.contains(old.path.as_str())
            && std::fs::remove_file(dest.join("storage").join(&old.path)).is_ok()
        {
            removed += 1;
        }
    }
    removed
}
