//! Resumable uploads (tus 1.0) from a file on the device: created once, sent in pieces, and
//! resumed from the server's offset when a piece does not get through.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::ClientError;
use crate::error::from_response;

/// Bytes sent a request.
const PIECE: u64 = 4 * 1024 * 1024;
/// Times a piece is tried again after the network failed.
const RETRIES: u32 = 5;

/// What the server made of a finished upload.
pub(crate) struct Finished {
    /// The file's id.
    pub file_id: String,
}

/// Uploads `path` into `folder` (`root`, `community` or a folder id), as a photo if `photo`,
/// calling `progress(done, total)` after each piece.
pub(crate) async fn upload(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    path: &Path,
    folder: &str,
    photo: bool,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<Finished, ClientError> {
    let mut file = tokio::fs::File::open(path).await?;
    let total = file.metadata().await?.len();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload".into());
    let b64 = |s: &str| STANDARD.encode(s.as_bytes());
    let mut metadata = vec![
        format!("filename {}", b64(&name)),
        format!("folder_id {}", b64(folder)),
    ];
    if photo {
        metadata.push(format!("photo {}", b64("true")));
    }
    let created = http
        .post(format!("{base}/api/v1/uploads"))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", total.to_string())
        .header("Upload-Metadata", metadata.join(","))
        .send()
        .await?;
    if created.status() != reqwest::StatusCode::CREATED {
        return Err(from_response(created).await);
    }
    let location = created
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ClientError::Network {
            message: "the server did not say where the upload goes".into(),
        })?
        .to_owned();
    let url = format!("{base}{location}");
    let mut offset = 0u64;
    let mut failures = 0;
    progress(0, total);
    loop {
        let len = PIECE.min(total - offset);
        let mut piece = vec![0u8; usize::try_from(len).unwrap_or(usize::MAX)];
        file.seek(std::io::SeekFrom::Start(offset)).await?;
        file.read_exact(&mut piece).await?;
        let sent = http
            .patch(&url)
            .bearer_auth(token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .body(piece)
            .send()
            .await;
        match sent {
            Ok(response) if response.status() == reqwest::StatusCode::NO_CONTENT => {
                failures = 0;
                offset = header_u64(&response, "upload-offset").unwrap_or(offset + len);
                progress(offset, total);
                if offset >= total {
                    let file_id = response
                        .headers()
                        .get("taina-file-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    return Ok(Finished { file_id });
                }
            }
            Ok(response) if response.status().is_server_error() => {
                failures += 1;
                if failures > RETRIES {
                    return Err(from_response(response).await);
                }
                offset = resume_offset(http, &url, token, failures).await?;
            }
            Ok(response) => return Err(from_response(response).await),
            Err(e) => {
                failures += 1;
                if failures > RETRIES {
                    return Err(e.into());
                }
                offset = resume_offset(http, &url, token, failures).await?;
            }
        }
    }
}

fn header_u64(response: &reqwest::Response, name: &str) -> Option<u64> {
    response.headers().get(name)?.to_str().ok()?.parse().ok()
}

/// Waits a little (longer each time), then asks the server how much it has.
async fn resume_offset(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    attempt: u32,
) -> Result<u64, ClientError> {
    tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt.min(6)))).await;
    let head = http
        .head(url)
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await?;
    if !head.status().is_success() {
        return Err(from_response(head).await);
    }
    header_u64(&head, "upload-offset").ok_or_else(|| ClientError::Network {
        message: "the server did not say how much it has".into(),
    })
}
