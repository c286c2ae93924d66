//! Which files the photo library takes, and what it does with them.

use serde::{Deserialize, Serialize};

use crate::thumbnail::Size;

/// What kind of library item a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
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

/// What a file's previews are made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewSource {
    /// The image itself.
    Image,
    /// The first page, rendered (by poppler's `pdftoppm`).
    Pdf,
}

/// How previews are made for a file of type `mime`, if they are.
pub fn preview_source(mime: &str) -> Option<PreviewSource> {
    match mime {
        "image/jpeg" | "image/png" | "image/webp" | "image/gif" | "image/tiff" | "image/heic"
        | "image/heif" => Some(PreviewSource::Image),
        "application/pdf" => Some(PreviewSource::Pdf),
        _ => None,
    }
}

/// Whether thumbnails are made for an image of type `mime`.
pub fn thumbnails_supported(mime: &str) -> bool {
    preview_source(mime) == Some(PreviewSource::Image)
}

/// The previews a file of type `mime` has once they were made without error: one WebP per
/// thumbnail [`Size`] (`small.webp`, `medium.webp`, `large.webp`). A HEIF/HEIC photo's JPEG
/// rendition is not listed: whether it is made depends on the bytes, not the type.
pub fn preview_names(mime: &str) -> Vec<String> {
    if preview_source(mime).is_none() {
        return Vec::new();
    }
    Size::ALL
        .iter()
        .map(|size| format!("{}.webp", size.name()))
        .collect()
}

/// The kind of a file of type `mime` if the photo library takes it, or the error that refuses it
/// (before anything is stored, or anything already stored is changed).
pub fn library_kind(mime: &str) -> Result<MediaKind, taina_core::Error> {
    media_kind(mime).ok_or_else(|| {
        taina_core::Error::invalid(
            "content",
            format!("is not a photo or video the library takes ({mime})"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_three_thumbnails() {
        assert_eq!(
            preview_names("image/jpeg"),
            ["small.webp", "medium.webp", "large.webp"]
        );
        assert_eq!(preview_names("application/pdf").len(), 3);
        assert!(preview_names("text/plain").is_empty());
        assert_eq!(library_kind("image/png"), Ok(MediaKind::Image));
        assert_eq!(
            library_kind("text/plain").unwrap_err().kind(),
            taina_core::ErrorKind::Invalid
        );
    }

    #[test]
    fn takes_photos_and_videos_only() {
        assert_eq!(media_kind("image/heic"), Some(MediaKind::Image));
        assert_eq!(media_kind("video/quicktime"), Some(MediaKind::Video));
        assert_eq!(media_kind("application/pdf"), None);
        assert!(thumbnails_supported("image/png"));
        assert!(!thumbnails_supported("video/mp4"));
        assert_eq!(preview_source("application/pdf"), Some(PreviewSource::Pdf));
        assert_eq!(preview_source("text/plain"), None);
    }
}
