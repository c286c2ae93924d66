//! A blob as a file on this machine, for programs that read files (`pdftoppm`, later `ffmpeg`).

use std::path::{Path, PathBuf};

use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use super::{BlobStore, Kind};
use crate::Result;

/// A blob as a local file: the blob's own file on local storage, or a temporary copy (removed when
/// this is dropped, whatever happened) on object storage.
#[derive(Debug)]
pub struct LocalCopy {
    path: PathBuf,
    /// The temporary copy's directory, removed on drop; `None` for the blob's own file.
    _temporary: Option<tempfile::TempDir>,
}

impl LocalCopy {
    /// The file to read.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl BlobStore {
    /// The blob at `path` as a local file, copied into a new directory under `work_dir` when it
    /// lives in object storage. Refuses (`FileTooLarge`) a blob larger than `max_bytes`, so that a
    /// copy never fills the disk beyond what the caller allows.
    pub async fn local_copy(
        &self,
        path: &str,
        work_dir: &Path,
        max_bytes: u64,
    ) -> Result<LocalCopy> {
        let size = self
            .size(path)
            .await?
            .ok_or_else(|| object_store::Error::NotFound {
                path: path.to_owned(),
                source: "no such blob".into(),
            })?;
        if size > max_bytes {
            return Err(taina_core::Error::TooLarge {
                what: "the file to read",
                limit_bytes: max_bytes,
            }
            .into());
        }
        if let Kind::Local { root } = &self.kind {
            return Ok(LocalCopy {
                path: root.join(object_store::path::Path::from(path).as_ref()),
                _temporary: None,
            });
        }
        tokio::fs::create_dir_all(work_dir).await?;
        let dir = tempfile::Builder::new()
            .prefix("blob-")
            .tempdir_in(work_dir)?;
        let file_path = dir.path().join("blob");
        let mut file = tokio::fs::File::create(&file_path).await?;
        let mut body = self.read_range(path, 0..size).await?;
        while let Some(chunk) = body.next().await {
            file.write_all(&chunk?).await?;
        }
        file.flush().await?;
        Ok(LocalCopy {
            path: file_path,
            _temporary: Some(dir),
        })
    }
}
