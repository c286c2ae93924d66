//! Files read and copied for backups and restores, hashed (SHA-256) as they go.

use std::path::Path;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::Result;
use crate::progress::Progress;

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
