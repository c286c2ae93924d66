//! Moving a community's blobs to another store (a folder to a bucket, or back): every object
//! copied, checked against the SHA-256 the database records (a thumbnail, which has none, against
//! its source) and read back from the target to check that it landed. Copying only reads the
//! source, so it is safe while servers run; run again, it copies only what is missing or
//! different, so it resumes where it stopped and catches up with what servers wrote meanwhile.

use std::collections::HashMap;

use futures::StreamExt;
use sha2::{Digest, Sha256};
use taina_ybira::layout::{Area, area_of};
use tracing::instrument;

use super::BlobStore;
use crate::progress::Progress;
use crate::{Error, Result, Taina};

/// What [`Taina::copy_storage_to`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StorageCopied {
    /// Objects in the source (stored files, previews, quarantined files).
    pub objects: u64,
    /// Objects copied this time.
    pub copied: u64,
    /// Bytes copied this time.
    pub bytes_copied: u64,
    /// Objects the target already held, identical (checked by hash).
    pub already_there: u64,
    /// Unfinished resumable uploads: their staged bytes are not copied, so they start again once
    /// the new store is in use.
    pub unfinished_uploads: u64,
}

impl Taina {
    /// Copies every blob, preview and quarantined file of this instance's store to `target`,
    /// verified (see the module documentation). Staged uploads are left behind.
    ///
    /// # Errors
    /// A stored file whose bytes no longer hash to what the database records (`Corrupt`: run
    /// `taina fsck --deep`), a copy that does not read back whole, or storage errors.
    #[instrument(skip_all, fields(target = target.url()))]
    pub async fn copy_storage_to(
        &self,
        target: &BlobStore,
        progress: &dyn Progress,
    ) -> Result<StorageCopied> {
        let recorded: HashMap<String, String> =
            sqlx::query_as::<_, (String, String)>("SELECT path, sha256 FROM blobs")
                .fetch_all(self.db().reader())
                .await?
                .into_iter()
                .collect();
        let source = self.blobs();
        let objects: Vec<_> = source
            .list("")
            .await?
            .into_iter()
            .filter(|o| {
                !matches!(area_of(&o.path), Some(Area::Staging | Area::Piece))
                    && (o.path.starts_with("communities/") || o.path.starts_with("quarantine/"))
            })
            .collect();
        let (unfinished,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM uploads WHERE upload_length IS NOT NULL")
                .fetch_one(self.db().reader())
                .await?;
        let mut report = StorageCopied {
            objects: objects.len() as u64,
            unfinished_uploads: u64::try_from(unfinished).unwrap_or(0),
            ..StorageCopied::default()
        };
        progress.start("copy", objects.iter().map(|o| o.size_bytes).sum(), true);
        for object in objects {
            let path = &object.path;
            let expected = match recorded.get(path) {
                Some(sha) => sha.clone(),
                None => hash_of(source, path, object.size_bytes).await?,
            };
            if target.size(path).await? == Some(object.size_bytes)
                && hash_of(target, path, object.size_bytes).await? == expected
            {
                report.already_there += 1;
                progress.advance(object.size_bytes);
                continue;
            }
            let copied = copy_one(source, target, path, object.size_bytes, progress).await?;
            if copied != expected {
                return Err(Error::Corrupt(format!(
                    "{path} no longer has its recorded SHA-256; run `taina fsck --deep`"
                )));
            }
            if hash_of(target, path, object.size_bytes).await? != expected {
                return Err(Error::Corrupt(format!(
                    "{path} did not read back from {} as it was written",
                    target.url()
                )));
            }
            report.copied += 1;
            report.bytes_copied += object.size_bytes;
        }
        tracing::info!(?report, "storage copied");
        Ok(report)
    }
}

/// Copies one object, answering the SHA-256 of what was read.
async fn copy_one(
    source: &BlobStore,
    target: &BlobStore,
    path: &str,
    size: u64,
    progress: &dyn Progress,
) -> Result<String> {
    let mut body = source.read_range(path, 0..size).await?;
    let mut out = target.writer(path);
    let mut hasher = Sha256::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        hasher.update(&chunk);
        progress.advance(chunk.len() as u64);
        out.put(chunk).await?;
    }
    out.finish().await?;
    Ok(hex::encode(hasher.finalize()))
}

/// The SHA-256 of an object of `size` bytes, read whole.
async fn hash_of(store: &BlobStore, path: &str, size: u64) -> Result<String> {
    let mut body = store.read_range(path, 0..size).await?;
    let mut hasher = Sha256::new();
    while let Some(chunk) = body.next().await {
        hasher.update(&chunk?);
    }
    Ok(hex::encode(hasher.finalize()))
}
