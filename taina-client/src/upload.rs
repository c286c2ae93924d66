//! Resumable uploads (tus 1.0) from a file on the device: created once, sent in pieces (each with
//! its SHA-256, so a damaged piece is refused rather than stored), and resumed from the server's
//! offset when a piece does not get through. With a state folder, the upload's address is kept in
//! a small journal, so an upload cut off by the app being closed resumes after a restart.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::ClientError;
use crate::error::from_response;

/// Bytes sent a request.
const PIECE: u64 = 4 * 1024 * 1024;
/// Times a piece is tried again after the network failed.
const RETRIES: u32 = 5;

/// One upload to make.
pub(crate) struct Upload<'a> {
    pub http: &'a reqwest::Client,
    pub base: &'a str,
    pub token: &'a str,
    /// The file on the device.
    pub path: &'a Path,
    /// `root`, `community` or a folder id.
    pub folder: &'a str,
    /// Whether it goes to the photo library.
    pub photo: bool,
    /// Whether it replaces (as a new version) a file of the same name, rather than being renamed.
    pub replace: bool,
    /// Where the journal of uploads under way is kept, if anywhere.
    pub state_dir: Option<&'a Path>,
}

/// The journal entry of one upload under way: where it goes on the server.
#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    url: String,
}

impl Upload<'_> {
    /// Uploads the file, calling `progress(done, total)` after each piece; answers the stored
    /// file's id.
    pub(crate) async fn run(
        &self,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<String, ClientError> {
        let mut file = tokio::fs::File::open(self.path).await?;
        let meta = file.metadata().await?;
        let total = meta.len();
        let journal = match self.state_dir {
            Some(dir) => Some(self.journal_path(dir, &meta).await?),
            None => None,
        };
        let (url, mut offset) = match self.resume(journal.as_deref()).await? {
            Some(resumed) => resumed,
            None => (self.create(&meta, journal.as_deref()).await?, 0),
        };
        let mut failures = 0;
        progress(offset, total);
        loop {
            let len = PIECE.min(total.saturating_sub(offset));
            let mut piece = vec![0u8; usize::try_from(len).unwrap_or(usize::MAX)];
            file.seek(std::io::SeekFrom::Start(offset)).await?;
            file.read_exact(&mut piece).await?;
            let checksum = format!("sha256 {}", STANDARD.encode(Sha256::digest(&piece)));
            let sent = self
                .http
                .patch(&url)
                .bearer_auth(self.token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Offset", offset.to_string())
                .header("Upload-Checksum", checksum)
                .header("Content-Type", "application/offset+octet-stream")
                .body(piece)
                .send()
                .await;
            match sent {
                Ok(response) if response.status() == StatusCode::NO_CONTENT => {
                    failures = 0;
                    offset = header_u64(&response, "upload-offset").unwrap_or(offset + len);
                    progress(offset, total);
                    if offset >= total {
                        if let Some(journal) = &journal {
                            forget(journal).await;
                        }
                        return Ok(response
                            .headers()
                            .get("taina-file-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned());
                    }
                }
                // The server is struggling, the piece arrived damaged (460), or it holds a
                // different offset than we thought (409): ask it and go on from there.
                Ok(response)
                    if response.status().is_server_error()
                        || response.status() == StatusCode::CONFLICT
                        || response.status().as_u16() == 460 =>
                {
                    failures += 1;
                    if failures > RETRIES {
                        return Err(from_response(response).await);
                    }
                    offset = self.offset_after_pause(&url, failures).await?;
                }
                Ok(response) => {
                    if let Some(journal) = &journal {
                        forget(journal).await;
                    }
                    return Err(from_response(response).await);
                }
                Err(e) => {
                    failures += 1;
                    if failures > RETRIES {
                        return Err(e.into());
                    }
                    offset = self.offset_after_pause(&url, failures).await?;
                }
            }
        }
    }

    /// Where this file's journal entry lives: named by the server, the file (its path, size and
    /// modification time, so a changed file is a new upload), and where it goes.
    async fn journal_path(
        &self,
        dir: &Path,
        meta: &std::fs::Metadata,
    ) -> Result<PathBuf, ClientError> {
        let dir = dir.join("uploads");
        tokio::fs::create_dir_all(&dir).await?;
        let canonical = tokio::fs::canonicalize(self.path).await?;
        let modified = modified_millis(meta).unwrap_or_default();
        let key = format!(
            "{}\n{}\n{}\n{modified}\n{}\n{}\n{}",
            self.base,
            canonical.display(),
            meta.len(),
            self.folder,
            self.photo,
            self.replace
        );
        Ok(dir.join(format!("{}.json", hex::encode(Sha256::digest(key)))))
    }

    /// The upload this file had under way, and how much of it the server has; `None` if there is
    /// none (or the server no longer has it).
    async fn resume(&self, journal: Option<&Path>) -> Result<Option<(String, u64)>, ClientError> {
        let Some(journal) = journal else {
            return Ok(None);
        };
        let Ok(text) = tokio::fs::read(journal).await else {
            return Ok(None);
        };
        let Ok(entry) = serde_json::from_slice::<Entry>(&text) else {
            forget(journal).await;
            return Ok(None);
        };
        let head = self.head(&entry.url).await?;
        if !head.status().is_success() {
            // Expired, finished, or never ours: start again.
            forget(journal).await;
            return Ok(None);
        }
        Ok(header_u64(&head, "upload-offset").map(|offset| (entry.url, offset)))
    }

    /// Creates the upload on the server (and notes it in the journal); answers its URL.
    async fn create(
        &self,
        meta: &std::fs::Metadata,
        journal: Option<&Path>,
    ) -> Result<String, ClientError> {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "upload".into());
        let b64 = |s: &str| STANDARD.encode(s.as_bytes());
        let mut metadata = vec![
            format!("filename {}", b64(&name)),
            format!("folder_id {}", b64(self.folder)),
        ];
        if self.photo {
            metadata.push(format!("photo {}", b64("true")));
        }
        if self.replace {
            metadata.push(format!("on_conflict {}", b64("replace")));
        }
        // The file's own time: what dates a photo that carries no date of its own.
        if let Some(millis) = modified_millis(meta) {
            let at = taina_core::Timestamp::from_millis(millis).to_rfc3339();
            metadata.push(format!("modified_at {}", b64(&at)));
        }
        let created = self
            .http
            .post(format!("{}/api/v1/uploads", self.base))
            .bearer_auth(self.token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", meta.len().to_string())
            .header("Upload-Metadata", metadata.join(","))
            .send()
            .await?;
        if created.status() != StatusCode::CREATED {
            return Err(from_response(created).await);
        }
        let location = created
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ClientError::Network {
                message: "the server did not say where the upload goes".into(),
            })?;
        let url = format!("{}{location}", self.base);
        if let Some(journal) = journal {
            let entry = serde_json::to_vec(&Entry { url: url.clone() }).unwrap_or_default();
            let temporary = journal.with_extension("tmp");
            tokio::fs::write(&temporary, entry).await?;
            tokio::fs::rename(&temporary, journal).await?;
        }
        Ok(url)
    }

    async fn head(&self, url: &str) -> Result<reqwest::Response, ClientError> {
        Ok(self
            .http
            .head(url)
            .bearer_auth(self.token)
            .header("Tus-Resumable", "1.0.0")
            .send()
            .await?)
    }

    /// Waits a little (longer each time), then asks the server how much it has.
    async fn offset_after_pause(&self, url: &str, attempt: u32) -> Result<u64, ClientError> {
        tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt.min(6)))).await;
        let head = self.head(url).await?;
        if !head.status().is_success() {
            return Err(from_response(head).await);
        }
        header_u64(&head, "upload-offset").ok_or_else(|| ClientError::Network {
            message: "the server did not say how much it has".into(),
        })
    }
}

/// Drops a journal entry (an upload finished or given up); one that cannot be removed is only
/// asked about again next time.
async fn forget(journal: &Path) {
    let _ = tokio::fs::remove_file(journal).await;
}

/// When the file was last changed, in milliseconds since 1970, if the system says.
fn modified_millis(meta: &std::fs::Metadata) -> Option<i64> {
    let since = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    i64::try_from(since.as_millis()).ok()
}

fn header_u64(response: &reqwest::Response, name: &str) -> Option<u64> {
    response.headers().get(name)?.to_str().ok()?.parse().ok()
}
