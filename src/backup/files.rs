//! Files read and copied for backups and restores, hashed (SHA-256) as they go; blobs read from
//! and written to the store through [`BlobStore`], whatever its back end.

use std::path::Path;

use bytes::Bytes;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::Result;
use crate::progress::Progress;
use crate::storage::BlobStore;

/// Reads a file, hashing it: its size and SHA-256 (hex).
pub(crate) async fn hash_file(path: &Path, progress: &dyn Progress) -> Result<(u64, String)> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
        progress.advance(n as u64);
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// Copies `from` to `to` through a temporary file and a rename, hashing as it goes.
pub(super) async fn copy_file(
    from: &Path,
    to: &Path,
    progress: &dyn Progress,
) -> Result<(u64, String)> {
    let src = tokio::fs::File::open(from).await?;
    let chunks = futures::stream::unfold(src, |mut src| async move {
        let mut buf = vec![0u8; 1 << 20];
        match src.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), src))
            }
            Err(e) => Some((Err(e), src)),
        }
    });
    save_hashed(chunks, to, progress).await
}

/// Copies the blob at `path` (`size` bytes) out of the store to the file `to`, through a temporary
/// file and a rename, hashing as it goes.
pub(super) async fn download_blob(
    blobs: &BlobStore,
    path: &str,
    size: u64,
    to: &Path,
    progress: &dyn Progress,
) -> Result<(u64, String)> {
    save_hashed(blobs.read_range(path, 0..size).await?, to, progress).await
}

/// Writes `chunks` to the file `to` through a temporary file (synced) and a rename; answers the
/// size and SHA-256 (hex) of what was written.
async fn save_hashed(
    chunks: impl futures::Stream<Item = std::io::Result<Bytes>>,
    to: &Path,
    progress: &dyn Progress,
) -> Result<(u64, String)> {
    if let Some(parent) = to.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    let partial = to.with_extension("partial");
    let mut dst = tokio::fs::File::create(&partial).await?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut chunks = std::pin::pin!(chunks);
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        hasher.update(&chunk);
        dst.write_all(&chunk).await?;
        size += chunk.len() as u64;
        progress.advance(chunk.len() as u64);
    }
    dst.sync_all().await?;
    drop(dst);
    tokio::fs::rename(&partial, to).await?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// Copies the file `from` into the store at `path` (whole or absent); answers its size.
pub(super) async fn upload_blob(
    from: &Path,
    blobs: &BlobStore,
    path: &str,
    progress: &dyn Progress,
) -> Result<u64> {
    let mut src = tokio::fs::File::open(from).await?;
    let mut out = blobs.writer(path);
    let mut size = 0u64;
    loop {
        let mut buf = vec![0u8; 1 << 20];
        let n = src.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        buf.truncate(n);
        out.put(Bytes::from(buf)).await?;
        size += n as u64;
        progress.advance(n as u64);
    }
    out.finish().await?;
    Ok(size)
}
