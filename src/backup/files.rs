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
    if let Some(parent) = to.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    let partial = to.with_extension("partial");
    let mut src = tokio::fs::File::open(from).await?;
    let mut dst = tokio::fs::File::create(&partial).await?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = src.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n]).await?;
        size += n as u64;
        progress.advance(n as u64);
    }
    dst.sync_all().await?;
    drop(dst);
    tokio::fs::rename(&partial, to).await?;
    Ok((size, hex::encode(hasher.finalize())))
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
    if let Some(parent) = to.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    let partial = to.with_extension("partial");
    let mut body = blobs.read_range(path, 0..size).await?;
    let mut dst = tokio::fs::File::create(&partial).await?;
    let mut hasher = Sha256::new();
    let mut written = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        hasher.update(&chunk);
        dst.write_all(&chunk).await?;
        written += chunk.len() as u64;
        progress.advance(chunk.len() as u64);
    }
    dst.sync_all().await?;
    drop(dst);
    tokio::fs::rename(&partial, to).await?;
    Ok((written, hex::encode(hasher.finalize())))
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
