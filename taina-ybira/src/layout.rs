//! Where Ybira's bytes live inside blob storage. Paths are built only from validated ids, a date
//! and a sanitised extension: never from names people type.
//!
//! - staged uploads: `communities/{community_id}/temp/{upload_id}`
//! - pieces of a resumable upload on object storage:
//!   `communities/{community_id}/temp/{upload_id}.pieces/{offset}-{nonce}`
//! - stored files:   `communities/{community_id}/files/{yyyy}/{mm}/{file_id}.{ext}`
//! - thumbnails:     `communities/{community_id}/thumbnails/{file_id}/{size}.webp` (and a HEIF/HEIC
//!   photo's full-size rendition `display.jpg`)

use taina_core::{CommunityId, ItemId, Timestamp, UploadId};

/// Longest extension kept in a blob path.
pub const EXTENSION_MAX_CHARS: usize = 10;

/// Where an upload is staged while it streams in.
pub fn temp_path(community: &CommunityId, upload: &UploadId) -> String {
    format!("communities/{community}/temp/{upload}")
}

/// What follows a staged upload's path to name the folder of its pieces (on object storage,
/// where a resumable upload is kept as one object per piece until it is whole).
pub const PIECES_SUFFIX: &str = ".pieces";

/// Where one piece of the resumable upload staged at `staged` lives: named by the offset it starts
/// at (zero-padded, so pieces list in order) and a `nonce` (plain letters and digits) that keeps
/// two instances racing on one offset apart.
pub fn piece_path(staged: &str, offset: u64, nonce: &str) -> String {
    format!("{staged}{PIECES_SUFFIX}/{offset:020}-{nonce}")
}

/// The staged upload a piece belongs to, if `path` is a [`piece_path`].
pub fn staging_of_piece(path: &str) -> Option<&str> {
    let (dir, piece) = path.rsplit_once('/')?;
    let staged = dir.strip_suffix(PIECES_SUFFIX)?;
    let ok = !piece.is_empty() && area_of(staged) == Some(Area::Staging);
    ok.then_some(staged)
}

/// Where a stored file's bytes live. `ext` comes from the file's name or detected type and is kept
/// only if it is 1 to 10 ASCII letters or digits (lower-cased).
pub fn file_path(
    community: &CommunityId,
    file: &ItemId,
    created_at: Timestamp,
    ext: Option<&str>,
) -> String {
    let (year, month) = year_month(created_at);
    match ext.and_then(safe_extension) {
        Some(ext) => format!("communities/{community}/files/{year:04}/{month:02}/{file}.{ext}"),
        None => format!("communities/{community}/files/{year:04}/{month:02}/{file}"),
    }
}

/// Where a file's thumbnail or rendition named `name` (e.g. `small.webp`, fixed by the caller, never
/// typed by people) lives.
pub fn thumbnail_path(community: &CommunityId, file: &ItemId, name: &str) -> String {
    format!("communities/{community}/thumbnails/{file}/{name}")
}

/// Everything under a file's thumbnails directory (to remove them all).
pub fn thumbnails_dir(community: &CommunityId, file: &ItemId) -> String {
    format!("communities/{community}/thumbnails/{file}")
}

/// A [`thumbnail_path`] read back: the community, the file and the preview's name, if `path` is
/// one (`communities/{c}/thumbnails/{file}/{name}`, nothing deeper).
pub fn parse_thumbnail_path(path: &str) -> Option<(&str, &str, &str)> {
    let (community, rest) = path.strip_prefix("communities/")?.split_once('/')?;
    let (file, name) = rest.strip_prefix("thumbnails/")?.split_once('/')?;
    let parts_ok = [community, file, name].iter().all(|p| !p.is_empty()) && !name.contains('/');
    parts_ok.then_some((community, file, name))
}

/// Which kind of Ybira object a storage path is, read back from the layout above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// A staged upload: `communities/{c}/temp/{upload}`.
    Staging,
    /// A piece of a staged resumable upload: `communities/{c}/temp/{upload}.pieces/{piece}`.
    Piece,
    /// A stored file's bytes: `communities/{c}/files/...`.
    File,
    /// A thumbnail or rendition: `communities/{c}/thumbnails/...`.
    Thumbnail,
}

/// The [`Area`] of `path`, if it is a path of this layout.
pub fn area_of(path: &str) -> Option<Area> {
    let (community, rest) = path.strip_prefix("communities/")?.split_once('/')?;
    let (area, tail) = rest.split_once('/')?;
    if community.is_empty() || tail.is_empty() {
        return None;
    }
    match area {
        "temp" if !tail.contains('/') => Some(Area::Staging),
        "temp" if staging_of_piece(path).is_some() => Some(Area::Piece),
        "files" => Some(Area::File),
        "thumbnails" => Some(Area::Thumbnail),
        _ => None,
    }
}

/// A lower-case extension safe to put in a path, if `ext` is one.
pub fn safe_extension(ext: &str) -> Option<String> {
    let ok = !ext.is_empty()
        && ext.chars().count() <= EXTENSION_MAX_CHARS
        && ext.chars().all(|c| c.is_ascii_alphanumeric());
    ok.then(|| ext.to_ascii_lowercase())
}

/// The UTC year and month of an instant (civil-from-days, proleptic Gregorian).
fn year_month(t: Timestamp) -> (i64, u32) {
    let days = t.as_millis().div_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids() -> (CommunityId, ItemId) {
        (
            CommunityId::from_random([1; 21]),
            ItemId::from_random([2; 21]),
        )
    }

    #[test]
    fn paths_follow_the_layout() {
        let (c, f) = ids();
        let t = Timestamp::parse_rfc3339("2026-11-23T15:06:00Z").unwrap();
        assert_eq!(
            file_path(&c, &f, t, Some("JPG")),
            format!("communities/{c}/files/2026/11/{f}.jpg")
        );
        assert_eq!(
            file_path(&c, &f, t, Some("../../x")),
            format!("communities/{c}/files/2026/11/{f}")
        );
        assert_eq!(
            file_path(&c, &f, t, None),
            format!("communities/{c}/files/2026/11/{f}")
        );
        let u = UploadId::from_random([3; 21]);
        assert_eq!(temp_path(&c, &u), format!("communities/{c}/temp/{u}"));
    }

    #[test]
    fn pieces_belong_to_their_staged_upload() {
        let (c, _) = ids();
        let u = UploadId::from_random([3; 21]);
        let staged = temp_path(&c, &u);
        let piece = piece_path(&staged, 42, "nonce1");
        assert_eq!(
            piece,
            format!("communities/{c}/temp/{u}.pieces/00000000000000000042-nonce1")
        );
        assert_eq!(staging_of_piece(&piece), Some(staged.as_str()));
        assert_eq!(area_of(&piece), Some(Area::Piece));
        assert_eq!(area_of(&staged), Some(Area::Staging));
        // Pieces list in the order of their offsets.
        assert!(piece_path(&staged, 9, "z") < piece_path(&staged, 10, "a"));
        for not_a_piece in [
            format!("communities/{c}/temp/{u}.pieces/"),
            format!("communities/{c}/temp/{u}/x"),
            format!("communities/{c}/files/{u}.pieces/x"),
        ] {
            assert_eq!(staging_of_piece(&not_a_piece), None, "{not_a_piece}");
            assert_ne!(area_of(&not_a_piece), Some(Area::Piece), "{not_a_piece}");
        }
    }

    #[test]
    fn thumbnail_paths_read_back() {
        let (c, f) = ids();
        let path = thumbnail_path(&c, &f, "small.webp");
        assert_eq!(
            parse_thumbnail_path(&path),
            Some((c.as_str(), f.as_str(), "small.webp"))
        );
        let u = UploadId::from_random([3; 21]);
        assert_eq!(parse_thumbnail_path(&temp_path(&c, &u)), None);
        assert_eq!(
            parse_thumbnail_path(&file_path(&c, &f, Timestamp::EPOCH, None)),
            None
        );
        assert_eq!(parse_thumbnail_path(&format!("{path}/deeper")), None);
        assert_eq!(parse_thumbnail_path(&thumbnails_dir(&c, &f)), None);
    }

    proptest! {
        #[test]
        fn year_and_month_match_rfc3339(ms in 0i64..4_102_444_800_000) {
            let t = Timestamp::from_millis(ms);
            let (y, m) = year_month(t);
            let text = t.to_rfc3339();
            prop_assert_eq!(format!("{y:04}-{m:02}"), text[..7].to_string());
        }

        #[test]
        fn paths_never_escape(ext in any::<String>(), ms in 0i64..4_102_444_800_000) {
            let (c, f) = ids();
            let p = file_path(&c, &f, Timestamp::from_millis(ms), Some(&ext));
            let prefix = format!("communities/{c}/files/");
            prop_assert!(p.starts_with(&prefix));
            prop_assert!(!p.contains(".."));
            prop_assert_eq!(p.matches('/').count(), 5);
        }
    }
}
