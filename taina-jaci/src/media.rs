//! Which files the photo library takes, and what it does with them.

use serde::{Deserialize, Serialize};

/// What kind of library item a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// A still image: metadata and thumbnails.
    Image,
    /// A video: kept with its metadata, no thumbnail yet.
    Video,
}

impl MediaKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<MediaKind> {
        match s {
            "image" => Some(MediaKind::Image),
            "video" => Some(MediaKind::Video),
            _ => None,
        }
    }
}

/// The kind of a file of type `mime` in the photo library, or `None` if the library does not take
/// it: JPEG, PNG, WebP, GIF, HEIC/HEIF and TIFF images; MP4 and MOV videos.
pub fn media_kind(mime: &str) -> Option<MediaKind> {
    match mime {
        "image/jpeg" | "image/png" | "image/webp" | "image/gif" | "image/heic" | "image/heif"
        | "image/tiff" => Some(MediaKind::Image),
        "video/mp4" | "video/quicktime" => Some(MediaKind::Video),
        _ => None,
    }
}

/// Whether thumbnails are made for a file of type `mime` here (HEIC/HEIF need libheif, PDFs a
/// renderer: both come later).
pub fn thumbnails_supported(mime: &str) -> bool {
    matches!(
        mime,
        "image/jpeg" | "image/png" | "image/webp" | "image/gif" | "image/tiff"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_photos_and_videos_only() {
        assert_eq!(media_kind("image/heic"), Some(MediaKind::Image));
        assert_eq!(media_kind("video/quicktime"), Some(MediaKind::Video));
        assert_eq!(media_kind("application/pdf"), None);
        assert!(thumbnails_supported("image/png"));
        assert!(!thumbnails_supported("video/mp4"));
    }
}
