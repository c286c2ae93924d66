//! Blob storage behind one interface: a local folder (the default) or S3-compatible object
//! storage, chosen by the `storage_url` setting ([`StorageLocation`]).
//!
//! [`BlobStore`] owns every byte of blob I/O: nothing else in the workspace builds a path into
//! storage or opens a blob file. Paths are relative to the store's root (or bucket prefix) and made
//! only from validated ids, never from names people type (`taina_ybira::layout`).
//!
//! - Writes are whole or absent: the local file system writes through a temporary file and a
//!   rename; object storage makes an object appear only when its upload completes.
//! - Uploads stream to a staging path ([`BlobStore::stage`]: a file, or a multipart upload with a
//!   bounded buffer) while hashed, then move into place ([`BlobStore::promote`]: a rename, or a
//!   server-side copy and delete).
//! - Resumable uploads grow piece by piece ([`BlobStore::open_piece`]): in place on local storage;
//!   on object storage, which cannot append, as one object per piece, joined by
//!   [`BlobStore::seal`] when the last byte arrives, so that any instance may take the next piece.
//! - Programs that need a file (`pdftoppm`, later `ffmpeg`) get one through
//!   [`BlobStore::local_copy`]: the blob's own file on local storage, a bounded temporary copy that
//!   is always removed on object storage.

mod local_copy;
mod location;
mod migrate;
mod object_writer;
mod pieces;
mod presign;
mod staging;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path as BlobPath;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload};
use taina_core::Timestamp;
use taina_ybira::integrity::StoredObject;

pub use local_copy::LocalCopy;
pub use location::{STORAGE_URL_MAX_CHARS, StorageLocation};
pub use migrate::StorageCopied;
pub use object_writer::{ObjectWriter, PART_BYTES, PARTS_IN_FLIGHT};
pub use pieces::{PieceWriter, Sealed};
use staging::Sink;
pub use staging::StagingWriter;

use crate::Result;

/// The largest blob object storage moves into place ([`BlobStore::promote`], a server-side copy):
/// S3's `CopyObject` limit, 5 GiB. The configuration refuses a larger `max_upload_bytes` with
/// object storage.
pub const OBJECT_COPY_MAX_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// Where blobs live.
#[derive(Debug, Clone)]
pub struct BlobStore {
    kind: Kind,
    store: Arc<dyn ObjectStore>,
    /// The store as a URL, with no secret (for logs and reports).
    url: String,
}

/// The back end, for what the generic object store interface does not cover.
#[derive(Debug, Clone)]
enum Kind {
    /// A local folder: blobs are files under `root`.
    Local { root: PathBuf },
    /// An S3-compatible bucket (blob paths under the `storage_url`'s prefix), and what signing a
    /// download URL for it needs.
    S3 {
        s3: Arc<object_store::aws::AmazonS3>,
        bucket: presign::Bucket,
    },
}

impl BlobStore {
    /// The store as a URL, with no secret (`file:///...` or `s3://bucket/prefix`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether blobs are files on this machine (instances then share them only through a shared
    /// folder) rather than objects in a bucket every instance reaches.
    pub fn is_local(&self) -> bool {
        matches!(self.kind, Kind::Local { .. })
    }

    /// Writes a whole blob at `path` atomically.
    pub async fn put(&self, path: &str, bytes: Vec<u8>) -> Result<()> {
        self.store
            .put(&BlobPath::from(path), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    /// Reads a whole blob.
    pub async fn get(&self, path: &str) -> Result<Vec<u8>> {
        let bytes = self.store.get(&BlobPath::from(path)).await?.bytes().await?;
        Ok(bytes.to_vec())
    }

    /// Removes a blob; removing a missing blob is not an error.
    pub async fn delete(&self, path: &str) -> Result<()> {
        match self.store.delete(&BlobPath::from(path)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes every blob under `prefix` (a directory).
    pub async fn delete_prefix(&self, prefix: &str) -> Result<()> {
        for object in self.list(prefix).await? {
            self.delete(&object.path).await?;
        }
        Ok(())
    }

    /// Whether a blob exists.
    pub async fn exists(&self, path: &str) -> Result<bool> {
        Ok(self.size(path).await?.is_some())
    }

    /// A blob's size in bytes, if it exists.
    pub async fn size(&self, path: &str) -> Result<Option<u64>> {
        match self.store.head(&BlobPath::from(path)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Starts writing the staged bytes of an upload to `path`, hashed as they go.
    pub async fn stage(&self, path: &str) -> Result<StagingWriter> {
        let sink = match &self.kind {
            Kind::Local { root } => {
                let file = root.join(BlobPath::from(path).as_ref());
                if let Some(dir) = file.parent() {
                    tokio::fs::create_dir_all(dir).await?;
                }
                Sink::File(Some(tokio::fs::File::create(&file).await?.into_std().await))
            }
            Kind::S3 { .. } => Sink::Object(Some(self.writer(path))),
        };
        Ok(StagingWriter::new(sink))
    }

    /// Starts writing one object at `path` (whole or absent, see [`ObjectWriter`]).
    pub fn writer(&self, path: &str) -> ObjectWriter {
        ObjectWriter::new(self.store.clone(), BlobPath::from(path))
    }

    /// Moves a staged blob to its final path (an atomic rename on the local file system; a
    /// server-side copy, then a delete, on object storage).
    pub async fn promote(&self, staged: &str, path: &str) -> Result<()> {
        self.store
            .rename(&BlobPath::from(staged), &BlobPath::from(path))
            .await?;
        Ok(())
    }

    /// Copies a blob to another path (replacing what is there).
    pub async fn copy(&self, from: &str, to: &str) -> Result<()> {
        self.store
            .copy(&BlobPath::from(from), &BlobPath::from(to))
            .await?;
        Ok(())
    }

    /// Streams `range` of a blob. A blob shorter than the range ends the stream with an error, so
    /// that no client takes a cut-off body for the whole.
    pub async fn read_range(
        &self,
        path: &str,
        range: std::ops::Range<u64>,
    ) -> Result<BoxStream<'static, std::io::Result<Bytes>>> {
        if range.is_empty() {
            return Ok(futures::stream::empty().boxed());
        }
        match &self.kind {
            Kind::Local { root } => read_file_range(root, path, range).await,
            Kind::S3 { .. } => {
                let options = GetOptions {
                    range: Some(GetRange::Bounded(range.clone())),
                    ..GetOptions::default()
                };
                let body = self.store.get_opts(&BlobPath::from(path), options).await?;
                Ok(exactly(body.into_stream(), range.end - range.start))
            }
        }
    }

    /// Removes what a killed process left of whole-blob writes on the local folder: the store
    /// writes `{path}#{n}` and renames it into place, so a kill in between leaves a file no
    /// listing shows (object storage has no such remains: a put is one request). Call it only
    /// when no other process writes here (start-up recovery holding the instance lock). Says how
    /// many it removed.
    pub async fn remove_abandoned_writes(&self) -> Result<u64> {
        let Kind::Local { root } = &self.kind else {
            return Ok(0);
        };
        let root = root.clone();
        let removed = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
            let mut removed = 0;
            let mut pending = vec![root];
            while let Some(dir) = pending.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                for entry in entries {
                    let entry = entry?;
                    let path = entry.path();
                    if entry.file_type()?.is_dir() {
                        pending.push(path);
                    } else if is_abandoned_write(&entry.file_name().to_string_lossy()) {
                        std::fs::remove_file(&path)?;
                        removed += 1;
                    }
                }
            }
            Ok(removed)
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(removed)
    }

    /// Every object under `prefix`, with its size and modification time.
    pub async fn list(&self, prefix: &str) -> Result<Vec<StoredObject>> {
        let mut objects = Vec::new();
        let mut listing = self.store.list(Some(&BlobPath::from(prefix)));
        while let Some(meta) = listing.next().await {
            match meta {
                Ok(meta) => objects.push(StoredObject {
                    path: meta.location.to_string(),
                    size_bytes: meta.size,
                    modified: Timestamp::from_millis(meta.last_modified.timestamp_millis()),
                }),
                // The prefix does not exist yet: nothing stored.
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(objects)
    }

    /// Checks that storage is reachable and writable.
    pub async fn ping(&self) -> Result<()> {
        let probe = ".taina-ready";
        self.put(probe, b"ok".to_vec()).await?;
        self.delete(probe).await
    }
}

/// Whether a file name is one of `object_store`'s unfinished local writes: `{name}#{n}`.
fn is_abandoned_write(name: &str) -> bool {
    name.rsplit_once('#').is_some_and(|(stem, n)| {
        !stem.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Streams `range` of a local blob straight from its file in 256 KiB reads (the object store's
/// generic reader goes through small buffers, several times slower for large downloads).
async fn read_file_range(
    root: &Path,
    path: &str,
    range: std::ops::Range<u64>,
) -> Result<BoxStream<'static, std::io::Result<Bytes>>> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let location = BlobPath::from(path);
    let mut file = match tokio::fs::File::open(root.join(location.as_ref())).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(object_store::Error::NotFound {
                path: path.to_owned(),
                source: Box::new(e),
            }
            .into());
        }
        Err(e) => return Err(e.into()),
    };
    file.seek(std::io::SeekFrom::Start(range.start)).await?;
    const CHUNK: u64 = 256 * 1024;
    let left = range.end - range.start;
    Ok(
        futures::stream::unfold(Some((file, left)), |state| async move {
            let (mut file, left) = state?;
            if left == 0 {
                return None;
            }
            let mut buf = Vec::with_capacity(CHUNK.min(left) as usize);
            match (&mut file)
                .take(CHUNK.min(left))
                .read_to_end(&mut buf)
                .await
            {
                // Shorter than the database says: the client must not take it for the whole.
                Ok(0) => Some((
                    Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the stored file is shorter than recorded",
                    )),
                    None,
                )),
                Ok(n) => Some((Ok(Bytes::from(buf)), Some((file, left - n as u64)))),
                Err(e) => Some((Err(e), None)),
            }
        })
        .boxed(),
    )
}

/// Passes on a stream that must carry exactly `expected` bytes, ending it with an error if the
/// object turns out shorter than recorded.
fn exactly(
    body: BoxStream<'static, object_store::Result<Bytes>>,
    expected: u64,
) -> BoxStream<'static, std::io::Result<Bytes>> {
    futures::stream::unfold(Some((body, 0u64)), move |state| async move {
        let (mut body, seen) = state?;
        match body.next().await {
            Some(Ok(bytes)) => {
                let seen = seen + bytes.len() as u64;
                Some((Ok(bytes), Some((body, seen))))
            }
            Some(Err(e)) => Some((Err(std::io::Error::other(e)), None)),
            None if seen == expected => None,
            None => Some((
                Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the stored object is shorter than recorded",
                )),
                None,
            )),
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    #[test]
    fn object_stores_unfinished_writes_are_told_apart() {
        assert!(super::is_abandoned_write("small.webp#1"));
        assert!(super::is_abandoned_write("abc.jpg#12"));
        for name in ["small.webp", "#1", "a#b", "a#", "notes #1 draft.txt"] {
            assert!(!super::is_abandoned_write(name), "{name}");
        }
    }
}
