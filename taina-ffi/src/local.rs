//! The server's pure rules on the device: photo metadata, thumbnails, content hashes and names.

use taina_client::{ClientError, LocalThumbnail};
use taina_jaci::metadata::PhotoMetadata;

/// What a photo's (or video's) bytes say about it, exactly as the server reads it: when it was
/// taken, its displayed size and orientation, the camera, the place, the exposure.
#[uniffi::export(async_runtime = "tokio")]
pub async fn read_photo_metadata(path: String) -> Result<PhotoMetadata, ClientError> {
    taina_client::read_photo_metadata(path).await
}

/// Makes a photo's three thumbnails (`small.webp`, `medium.webp`, `large.webp` in `out_dir`),
/// upright and as the server makes them.
#[uniffi::export(async_runtime = "tokio")]
pub async fn make_thumbnails(
    photo_path: String,
    out_dir: String,
) -> Result<Vec<LocalThumbnail>, ClientError> {
    taina_client::make_thumbnails(photo_path, out_dir).await
}

/// A file's SHA-256 (hex), as the server names content: what the photo backup asks about.
#[uniffi::export(async_runtime = "tokio")]
pub async fn file_sha256(path: String) -> Result<String, ClientError> {
    taina_client::file_sha256(path).await
}

/// A file or folder name as the server will store it (Unicode NFC, trimmed), or why it is refused
/// (empty, too long, `/`, `\`, control characters, `.` or `..`).
#[uniffi::export]
pub fn normalize_file_name(name: String) -> Result<String, ClientError> {
    taina_client::normalize_file_name(name)
}
