//! Blob storage behind one interface: the local file system now, object storage later.
//!
//! Built on the `object_store` crate, whose `LocalFileSystem` writes through a temporary file and a
//! rename, so a blob is either wholly there or absent. Paths are relative to the storage root and
//! made only from validated ids, never from user-supplied names.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::local::LocalFileSystem;
use object_store::path::Path as BlobPath;
use object_store::{ObjectStore, PutPayload};

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

    /// Whether a blob exists.
    pub async fn exists(&self, path: &str) -> Result<bool> {
        match self.store.head(&BlobPath::from(path)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks that storage is reachable and writable.
    pub async fn ping(&self) -> Result<()> {
        let probe = ".taina-ready";
        self.put(probe, b"ok".to_vec()).await?;
        self.delete(probe).await
    }
}
