//! Downloads to a path on the device: written beside the target (`<name>.taina-partial`) and
//! renamed into place only when whole, so the target is never half a file. A download cut off
//! resumes from what arrived (`Range` with `If-Range`), and the result is checked against the
//! file's SHA-256 (its entity tag) before it is kept.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::ClientError;
use crate::error::from_response;

/// Where a download to `target` is written until it is whole.
pub(crate) fn partial_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".taina-partial");
    target.with_file_name(name)
}

/// The SHA-256 an entity tag (`"<hex>"`) names, if it is one.
pub(crate) fn etag_sha256(etag: &str) -> Option<String> {
    let hex = etag.trim().trim_start_matches("W/").trim_matches('"');
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// Feeds the file at `path` into `hasher`, in pieces; answers its length.
pub(crate) async fn hash_into(path: &Path, hasher: &mut Sha256) -> Result<u64, ClientError> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut buf = vec![0u8; 1 << 20];
    let mut length = 0u64;
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(length);
        }
        hasher.update(&buf[..n]);
        length += n as u64;
    }
}

/// A file's SHA-256 (hex), as the server names content.
pub(crate) async fn sha256_of(path: &Path) -> Result<String, ClientError> {
    let mut hasher = Sha256::new();
    hash_into(path, &mut hasher).await?;
    Ok(hex::encode(hasher.finalize()))
}

/// How much of the partial file there is (none if there is no such file), fed into `hasher`.
async fn hash_existing(partial: &Path, hasher: &mut Sha256) -> Result<u64, ClientError> {
    if !tokio::fs::try_exists(partial).await? {
        return Ok(0);
    }
    hash_into(partial, hasher).await
}

/// What a finished download was.
pub(crate) struct Arrived {
    /// Its size.
    pub size: u64,
    /// Its SHA-256 (hex).
    pub sha256: String,
}

/// Streams `response`'s body onto `partial` (appending when `append`), hashing it into `hasher`
/// and telling `progress(done, total)` as it goes.
pub(crate) async fn save_body(
    response: reqwest::Response,
    partial: &Path,
    append: bool,
    already: u64,
    total: Option<u64>,
    mut hasher: Sha256,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<Arrived, ClientError> {
    let mut out = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(partial)
        .await?;
    let mut size = already;
    let total = total.unwrap_or(0);
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        out.write_all(&chunk).await?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
        progress(size, total.max(size));
    }
    out.sync_all().await?;
    Ok(Arrived {
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Moves a whole download into place.
pub(crate) async fn keep(partial: &Path, target: &Path) -> Result<(), ClientError> {
    tokio::fs::rename(partial, target).await?;
    Ok(())
}

/// Saves a successful `response`'s body at `target`, whole or not at all; answers its size.
pub(crate) async fn save_to(
    response: reqwest::Response,
    target: &Path,
) -> Result<u64, ClientError> {
    let partial = partial_path(target);
    let arrived = save_body(
        response,
        &partial,
        false,
        0,
        None,
        Sha256::new(),
        &|_, _| {},
    )
    .await?;
    keep(&partial, target).await?;
    Ok(arrived.size)
}

/// A whole file: `url` (a signed-in `GET`, made by `request`) to `target`, resuming a partial
/// file left by an earlier try when `etag` (the file's current tag) allows it.
pub(crate) async fn whole(
    request: impl Fn() -> Result<reqwest::RequestBuilder, ClientError>,
    target: &Path,
    etag: Option<&str>,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<u64, ClientError> {
    let partial = partial_path(target);
    // A second pass starts from nothing, when what was resumed turned out not to match.
    for fresh in [false, true] {
        let mut hasher = Sha256::new();
        let have = if fresh || etag.is_none() {
            0
        } else {
            hash_existing(&partial, &mut hasher).await?
        };
        let mut get = request()?;
        if have > 0 {
            get = get
                .header("Range", format!("bytes={have}-"))
                .header("If-Range", etag.unwrap_or_default());
        }
        let response = get.send().await?;
        let status = response.status();
        let arrived = match status {
            StatusCode::PARTIAL_CONTENT if have > 0 => {
                let total = response.content_length().map(|n| n + have);
                save_body(response, &partial, true, have, total, hasher, progress).await?
            }
            // The range reaches past the end: what we have is stale (or whole); start over.
            StatusCode::RANGE_NOT_SATISFIABLE if !fresh => continue,
            StatusCode::OK => {
                let total = response.content_length();
                let tag = response
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let arrived =
                    save_body(response, &partial, false, 0, total, Sha256::new(), progress).await?;
                if let Some(expected) = tag.as_deref().and_then(etag_sha256)
                    && expected != arrived.sha256
                {
                    let _ = tokio::fs::remove_file(&partial).await;
                    return Err(ClientError::Network {
                        message: "the download arrived damaged; try again".into(),
                    });
                }
                keep(&partial, target).await?;
                return Ok(arrived.size);
            }
            _ => return Err(from_response(response).await),
        };
        match etag.and_then(etag_sha256) {
            Some(expected) if expected != arrived.sha256 => continue,
            _ => {
                keep(&partial, target).await?;
                return Ok(arrived.size);
            }
        }
    }
    let _ = tokio::fs::remove_file(&partial).await;
    Err(ClientError::Network {
        message: "the download arrived damaged; try again".into(),
    })
}
