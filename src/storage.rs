//! Blob storage behind one interface: the local file system now, object storage later.
//!
//! Built on the `object_store` crate, whose `LocalFileSystem` writes through a temporary file and a
//! rename, so a blob is either wholly there or absent. Paths are relative to the storage root and
//! made only from validated ids, never from user-supplied names.
//!
//! Uploads stream into a staging file on local disk ([`BlobStore::staging_file`]) and are then
//! moved into place with [`BlobStore::promote`] (a rename on the local file system).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path as BlobPath;
use object_store::{ObjectStore, PutPayload};
use sha2::{Digest, Sha256};
use taina_core::Timestamp;
use taina_ybira::integrity::StoredObject;

use crate::Result;

/// Where blobs live.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
    store: Arc<dyn ObjectStore>,
}

impl BlobStore {
    /// Opens (creating if needed) a store rooted at `root`.
    pub fn open_local(root: &Path) -> Result<BlobStore> {
        std::fs::create_dir_all(root)?;
        let store = LocalFileSystem::new_with_prefix(root)?;
        Ok(BlobStore {
            root: root.to_path_buf(),
            store: Arc::new(store),
        })
    }

    /// The root directory (for local storage).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The underlying object store, for streaming operations.
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
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
        match self.store.head(&BlobPath::from(path)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The local file where an upload to `path` is staged (its directory is created).
    pub async fn staging_file(&self, path: &str) -> Result<PathBuf> {
        let file = self.root.join(path);
        if let Some(dir) = file.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        Ok(file)
    }

    /// Starts writing the staging file for an upload to `path` (its directory is created).
    pub async fn stage(&self, path: &str) -> Result<StagingWriter> {
        StagingWriter::create(self.staging_file(path).await?).await
    }

    /// Moves a staged blob to its final path (an atomic rename on the local file system).
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

    /// Streams `range` of a blob, straight from its file in 256 KiB reads (the object store's
    /// generic reader goes through small buffers, several times slower for large downloads).
    pub async fn read_range(
        &self,
        path: &str,
        range: std::ops::Range<u64>,
    ) -> Result<BoxStream<'static, std::io::Result<Bytes>>> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        if range.is_empty() {
            return Ok(futures::stream::empty().boxed());
        }
        let location = BlobPath::from(path);
        let mut file = match tokio::fs::File::open(self.root.join(location.as_ref())).await {
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

/// Bytes gathered before each write, so that small chunks make few system calls.
const STAGING_BUFFER: usize = 1024 * 1024;

/// A staging file that hashes (SHA-256) what it writes. Chunks are gathered into 1 MiB blocks; each
/// block is hashed and written on the blocking pool, the hash and the write of one block running
/// side by side while the next block fills, so that receiving, hashing and writing overlap. At most
/// two blocks are held in memory. [`StagingWriter::finish`] writes the rest, syncs the file to disk
/// and returns the content's SHA-256.
#[derive(Debug)]
pub struct StagingWriter {
    /// The file, when no write is in flight.
    file: Option<std::fs::File>,
    /// The hasher, when no hashing is in flight.
    hasher: Option<Sha256>,
    /// The block being filled.
    block: Vec<u8>,
    /// The write in flight; it hands the file back.
    writing: Option<tokio::task::JoinHandle<std::io::Result<std::fs::File>>>,
    /// The hashing in flight; it hands the hasher back.
    hashing: Option<tokio::task::JoinHandle<Sha256>>,
}

impl StagingWriter {
    async fn create(path: PathBuf) -> Result<StagingWriter> {
        let file = tokio::fs::File::create(&path).await?.into_std().await;
        Ok(StagingWriter {
            file: Some(file),
            hasher: Some(Sha256::new()),
            block: Vec::with_capacity(STAGING_BUFFER),
            writing: None,
            hashing: None,
        })
    }

    /// Adds a chunk, handing a block over when one is full.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.block.extend_from_slice(chunk);
        if self.block.len() >= STAGING_BUFFER {
            self.hand_over_block().await?;
        }
        Ok(())
    }

    /// Waits for the previous block, then starts hashing and writing the filled one.
    async fn hand_over_block(&mut self) -> Result<()> {
        let (mut file, mut hasher) = self.settle().await?;
        let block = Bytes::from(std::mem::replace(
            &mut self.block,
            Vec::with_capacity(STAGING_BUFFER),
        ));
        let to_hash = block.clone();
        self.hashing = Some(tokio::task::spawn_blocking(move || {
            hasher.update(&to_hash);
            hasher
        }));
        self.writing = Some(tokio::task::spawn_blocking(move || {
            use std::io::Write;
            file.write_all(&block)?;
            Ok(file)
        }));
        Ok(())
    }

    /// The file and hasher once nothing is in flight.
    async fn settle(&mut self) -> Result<(std::fs::File, Sha256)> {
        let hasher = match self.hashing.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => self.hasher.take().ok_or_else(closed)?,
        };
        let file = match self.writing.take() {
            Some(task) => task.await.map_err(std::io::Error::other)??,
            None => self.file.take().ok_or_else(closed)?,
        };
        Ok((file, hasher))
    }

    /// Writes what is left, syncs the file to disk, closes it, and returns the content's SHA-256
    /// (lower-case hex).
    pub async fn finish(mut self) -> Result<String> {
        if !self.block.is_empty() {
            self.hand_over_block().await?;
        }
        let (file, hasher) = self.settle().await?;
        tokio::task::spawn_blocking(move || file.sync_all())
            .await
            .map_err(std::io::Error::other)??;
        Ok(hex::encode(hasher.finalize()))
    }
}

fn closed() -> crate::Error {
    std::io::Error::other("the staging file is closed").into()
}
