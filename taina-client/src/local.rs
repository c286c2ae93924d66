//! The pure functions the server runs, run on the phone: reading a photo's metadata (EXIF, HEIF,
//! video), making its thumbnails, hashing a file as the server does, and checking a file name by
//! the server's rules. They read and write paths; no image bytes cross the boundary.

use std::path::{Path, PathBuf};

use taina_jaci::metadata::PhotoMetadata;
use taina_jaci::thumbnail::{DEFAULT_QUALITY, Size};

use crate::ClientError;

/// Largest file read whole to find its metadata or make its thumbnails (a phone's photo is far
/// smaller; a longer video is refused rather than read into memory).
const READ_MAX: u64 = 256 * 1024 * 1024;

/// A thumbnail made on the device.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LocalThumbnail {
    /// Which size.
    pub size: Size,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
    /// The WebP file written.
    pub path: String,
}

/// The whole file, if it is not too large to read.
async fn read_whole(path: &Path) -> Result<Vec<u8>, ClientError> {
    let size = tokio::fs::metadata(path).await?.len();
    if size > READ_MAX {
        return Err(ClientError::Invalid {
            message: format!("{} is larger than {READ_MAX} bytes", path.display()),
        });
    }
    Ok(tokio::fs::read(path).await?)
}

/// Runs a pure (CPU-bound) step off the async threads.
async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ClientError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ClientError::Device {
            message: e.to_string(),
        })
}

/// What a photo's (or video's) bytes say about it, exactly as the server reads it: when it was
/// taken, its displayed size and orientation, the camera, the place, the exposure.
pub async fn read_photo_metadata(path: String) -> Result<PhotoMetadata, ClientError> {
    let bytes = read_whole(Path::new(&path)).await?;
    off_thread(move || taina_jaci::metadata::extract(&bytes)).await
}

/// Makes a photo's three thumbnails (`small.webp`, `medium.webp`, `large.webp` in `out_dir`),
/// upright and as the server makes them.
pub async fn make_thumbnails(
    photo_path: String,
    out_dir: String,
) -> Result<Vec<LocalThumbnail>, ClientError> {
    let bytes = read_whole(Path::new(&photo_path)).await?;
    let renditions = off_thread(move || {
        let orientation = taina_jaci::metadata::extract(&bytes).orientation;
        taina_jaci::thumbnail::thumbnails(&bytes, orientation, DEFAULT_QUALITY)
    })
    .await?
    .map_err(|e| ClientError::Invalid {
        message: e.to_string(),
    })?;
    let dir = PathBuf::from(out_dir);
    tokio::fs::create_dir_all(&dir).await?;
    let mut made = Vec::with_capacity(renditions.len());
    for rendition in renditions {
        let path = dir.join(format!("{}.webp", rendition.size.name()));
        let partial = crate::download::partial_path(&path);
        tokio::fs::write(&partial, &rendition.webp).await?;
        tokio::fs::rename(&partial, &path).await?;
        made.push(LocalThumbnail {
            size: rendition.size,
            width: rendition.width,
            height: rendition.height,
            path: path.display().to_string(),
        });
    }
    Ok(made)
}

/// A file's SHA-256 (hex), as the server names content: what the photo backup asks about.
pub async fn file_sha256(path: String) -> Result<String, ClientError> {
    crate::download::sha256_of(Path::new(&path)).await
}

/// A file or folder name as the server will store it (Unicode NFC, trimmed), or why it is refused
/// (empty, too long, `/`, `\`, control characters, `.` or `..`).
pub fn normalize_file_name(name: String) -> Result<String, ClientError> {
    taina_ybira::name::normalize_name(&name).map_err(|e| ClientError::Invalid {
        message: e.to_string(),
    })
}
