//! The integrity check's decisions: comparing what the database says is stored with what storage
//! holds. The shell lists both sides (and, in deep mode, hashes the blobs); this module says what
//! is wrong. The report is what the CLI and TUI print.
//!
//! Storage holds two kinds of objects the database accounts for: blobs (a row each) and a file's
//! previews (thumbnails and renditions under [`crate::layout::thumbnail_path`], no row of their own).
//! A preview belongs to its file while the file exists (live or in the trash) and is an orphan only
//! once the file is gone; a live file whose previews were made is missing those storage lacks.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use taina_core::{BlobId, CommunityId, ItemId, Timestamp};

use crate::layout::{parse_thumbnail_path, thumbnail_path};

/// Objects younger than this are never called orphans: they may belong to an upload in flight.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(3600);

/// A blob the database knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownBlob {
    /// Its id.
    pub id: BlobId,
    /// Where its bytes should be.
    pub path: String,
    /// Its recorded size.
    pub size_bytes: u64,
    /// Whether it was already marked missing by an earlier repair.
    pub marked_missing: bool,
}

/// A file the database knows, for its previews.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownFile {
    /// Its community.
    pub community_id: CommunityId,
    /// Its id.
    pub id: ItemId,
    /// The previews storage must hold for it (names such as `small.webp`): those made for a live
    /// file whose content is present; empty when none were made, making them failed, or the file
    /// is in the trash.
    pub expected_previews: Vec<String>,
}

/// What the database says of a file's previews.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PreviewFacts {
    /// Its previews job ran (`previews_at`).
    pub made: bool,
    /// And could not make them (`preview_error`).
    pub failed: bool,
    /// The file is in the trash.
    pub in_trash: bool,
    /// Its content was found missing by an earlier repair.
    pub content_missing: bool,
}

/// Whether storage must hold a file's previews: they were made without error, and the file is
/// live with its content there. (Which previews a file has is Jaci's business.)
pub fn previews_expected(facts: PreviewFacts) -> bool {
    facts.made && !facts.failed && !facts.in_trash && !facts.content_missing
}

/// An object storage holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Its path.
    pub path: String,
    /// Its size.
    pub size_bytes: u64,
    /// When it was last written.
    pub modified: Timestamp,
}

/// A blob whose stored size differs from the recorded one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeMismatch {
    /// The blob.
    pub blob_id: BlobId,
    /// Its path.
    pub path: String,
    /// The size the database records.
    pub recorded_bytes: u64,
    /// The size storage holds.
    pub stored_bytes: u64,
}

/// A community whose recorded storage use differs from the recomputed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaDrift {
    /// The community.
    pub community_id: CommunityId,
    /// What the community row says.
    pub recorded_bytes: i64,
    /// Stored blobs plus reservations of uploads in flight.
    pub actual_bytes: i64,
}

/// A blob whose recorded reference count differs from the references that exist: the files and
/// versions holding its content, and the message attachments pinned to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceDrift {
    /// The blob.
    pub blob_id: BlobId,
    /// The reference count its row records.
    pub recorded: i64,
    /// The references counted.
    pub actual: i64,
}

/// What the check found (and, in repair mode, fixed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrityReport {
    /// Blobs compared.
    pub blobs_checked: u64,
    /// Objects in storage looked at.
    pub objects_checked: u64,
    /// Whether content hashes were compared (deep mode).
    pub deep: bool,
    /// Whether problems were repaired.
    pub repaired: bool,
    /// Blobs whose bytes are gone (ids, with their paths).
    pub missing: Vec<(BlobId, String)>,
    /// Blobs marked missing by an earlier repair whose bytes are back (restored from a backup, say).
    pub reappeared: Vec<(BlobId, String)>,
    /// Objects no blob refers to, and previews of files that are gone, older than [`ORPHAN_GRACE`]
    /// (paths).
    pub orphans: Vec<String>,
    /// Previews a live file should have that storage lacks (the file, and the preview's path).
    #[serde(default)]
    pub missing_previews: Vec<(ItemId, String)>,
    /// Blobs of the wrong size.
    pub size_mismatches: Vec<SizeMismatch>,
    /// Blobs whose content no longer has its recorded SHA-256 (deep mode).
    pub hash_mismatches: Vec<(BlobId, String)>,
    /// Communities whose recorded use is wrong.
    pub quota_drift: Vec<QuotaDrift>,
    /// Blobs whose reference count is wrong (repair sets it; content nothing refers to is freed).
    #[serde(default)]
    pub reference_drift: Vec<ReferenceDrift>,
}

impl IntegrityReport {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty()
            && self.reappeared.is_empty()
            && self.orphans.is_empty()
            && self.missing_previews.is_empty()
            && self.size_mismatches.is_empty()
            && self.hash_mismatches.is_empty()
            && self.quota_drift.is_empty()
            && self.reference_drift.is_empty()
    }
}

/// Compares blobs and files with stored objects. `in_flight` are staging paths of uploads still
/// running; they and anything modified within [`ORPHAN_GRACE`] of `now` are left alone. Blobs
/// already marked missing are not reported again; if their bytes are back (at the recorded size)
/// they are reported as reappeared. A preview is an orphan only when its file is not among `files`.
pub fn compare(
    known: &[KnownBlob],
    files: &[KnownFile],
    stored: &[StoredObject],
    in_flight: &HashSet<String>,
    now: Timestamp,
) -> IntegrityReport {
    let by_path: HashMap<&str, &StoredObject> =
        stored.iter().map(|o| (o.path.as_str(), o)).collect();
    let known_paths: HashSet<&str> = known.iter().map(|b| b.path.as_str()).collect();
    let known_files: HashSet<(&str, &str)> = files
        .iter()
        .map(|f| (f.community_id.as_str(), f.id.as_str()))
        .collect();
    let mut report = IntegrityReport {
        blobs_checked: known.len() as u64,
        objects_checked: stored.len() as u64,
        ..IntegrityReport::default()
    };
    for blob in known {
        match by_path.get(blob.path.as_str()) {
            None if !blob.marked_missing => {
                report.missing.push((blob.id.clone(), blob.path.clone()))
            }
            None => {}
            Some(o) if blob.marked_missing && o.size_bytes == blob.size_bytes => {
                report.reappeared.push((blob.id.clone(), blob.path.clone()));
            }
            Some(o) if o.size_bytes != blob.size_bytes => {
                report.size_mismatches.push(SizeMismatch {
                    blob_id: blob.id.clone(),
                    path: blob.path.clone(),
                    recorded_bytes: blob.size_bytes,
                    stored_bytes: o.size_bytes,
                });
            }
            Some(_) => {}
        }
    }
    for file in files {
        for name in &file.expected_previews {
            let path = thumbnail_path(&file.community_id, &file.id, name);
            if !by_path.contains_key(path.as_str()) {
                report.missing_previews.push((file.id.clone(), path));
            }
        }
    }
    let cutoff = now.minus(ORPHAN_GRACE);
    for object in stored {
        let old_enough = object.modified <= cutoff;
        let accounted_for = match parse_thumbnail_path(&object.path) {
            Some((community, file, _)) => known_files.contains(&(community, file)),
            None => known_paths.contains(object.path.as_str()),
        };
        if old_enough && !accounted_for && !in_flight.contains(&object.path) {
            report.orphans.push(object.path.clone());
        }
    }
    report.orphans.sort();
    report.missing_previews.sort_by(|a, b| a.1.cmp(&b.1));
    report
}

/// What start-up recovery removes once it is certain that no writer is live (no other process has
/// the storage open): staged uploads with no `uploads` row left (`live_staging` are the staging
/// paths of the rows kept), and stored files no blob row names (`blob_paths`) — content moved into
/// place by an upload killed before its commit. Files whose removal a job already has queued
/// (`freeing`: freed content waiting for `delete_blob`) are left to that job. Unlike [`compare`],
/// no [`ORPHAN_GRACE`]: with no writer live, nothing is in flight.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// Staging files to delete (never acknowledged bytes).
    pub staging: Vec<String>,
    /// Stored files no blob row refers to, to quarantine.
    pub orphans: Vec<String>,
}

/// Picks the [`Leftovers`] among `stored`.
pub fn leftovers(
    stored: &[StoredObject],
    live_staging: &HashSet<String>,
    blob_paths: &HashSet<String>,
    freeing: &HashSet<String>,
) -> Leftovers {
    let mut found = Leftovers::default();
    for object in stored {
        let path = &object.path;
        match crate::layout::area_of(path) {
            Some(crate::layout::Area::Staging) if !live_staging.contains(path) => {
                found.staging.push(path.clone());
            }
            Some(crate::layout::Area::Piece)
                if crate::layout::staging_of_piece(path)
                    .is_some_and(|staged| !live_staging.contains(staged)) =>
            {
                found.staging.push(path.clone());
            }
            Some(crate::layout::Area::File)
                if !blob_paths.contains(path) && !freeing.contains(path) =>
            {
                found.orphans.push(path.clone());
            }
            _ => {}
        }
    }
    found.staging.sort();
    found.orphans.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn blob(n: u8, path: &str, size: u64) -> KnownBlob {
        KnownBlob {
            id: BlobId::from_random([n; 21]),
            path: path.into(),
            size_bytes: size,
            marked_missing: false,
        }
    }

    fn object(path: &str, size: u64, modified_ms: i64) -> StoredObject {
        StoredObject {
            path: path.into(),
            size_bytes: size,
            modified: Timestamp::from_millis(modified_ms),
        }
    }

    #[test]
    fn finds_each_kind_of_problem() {
        let hour = 3_600_000;
        let now = Timestamp::from_millis(10 * hour);
        let mut back = blob(4, "back", 2);
        back.marked_missing = true;
        let mut still_gone = blob(5, "still-gone", 2);
        still_gone.marked_missing = true;
        let known = [
            blob(1, "a", 3),
            blob(2, "b", 4),
            blob(3, "gone", 5),
            back,
            still_gone,
        ];
        let stored = [
            object("a", 3, 0),
            object("b", 5, 0),
            object("stray-old", 1, 8 * hour),
            object("stray-new", 1, 10 * hour - 1),
            object("temp/upload", 1, 0),
            object("back", 2, 0),
        ];
        let in_flight = HashSet::from(["temp/upload".to_owned()]);
        let r = compare(&known, &[], &stored, &in_flight, now);
        assert_eq!(r.missing, vec![(known[2].id.clone(), "gone".to_owned())]);
        assert_eq!(r.reappeared, vec![(known[3].id.clone(), "back".to_owned())]);
        assert_eq!(r.orphans, vec!["stray-old".to_owned()]);
        assert_eq!(r.size_mismatches.len(), 1);
        assert_eq!(r.size_mismatches[0].stored_bytes, 5);
        assert!(!r.is_clean());
    }

    proptest! {
        /// When storage holds exactly the known blobs, the check finds nothing.
        #[test]
        fn a_consistent_store_is_clean(sizes in proptest::collection::vec(0u64..1000, 0..30)) {
            let known: Vec<KnownBlob> = sizes.iter().enumerate()
                .map(|(i, s)| blob(i as u8, &format!("p{i}"), *s)).collect();
            let stored: Vec<StoredObject> = known.iter().map(|b| object(&b.path, b.size_bytes, 0)).collect();
            let r = compare(&known, &[], &stored, &HashSet::new(), Timestamp::from_millis(1 << 40));
            prop_assert!(r.is_clean());
        }
    }

    #[test]
    fn previews_belong_to_their_file_while_it_exists() {
        let now = Timestamp::from_millis(10 * 3_600_000);
        let c = CommunityId::from_random([7; 21]);
        let file = |n: u8, expected: &[&str]| KnownFile {
            community_id: c.clone(),
            id: ItemId::from_random([n; 21]),
            expected_previews: expected.iter().map(|s| (*s).to_owned()).collect(),
        };
        let webp = ["small.webp", "medium.webp", "large.webp"];
        // A photo with its previews and a HEIF rendition; one in the trash (none expected, its
        // previews kept); one whose previews are partly gone; one that was purged.
        let (photo, trashed, damaged, purged) =
            (file(1, &webp), file(2, &[]), file(3, &webp), file(4, &webp));
        let preview = |f: &KnownFile, name: &str| object(&thumbnail_path(&c, &f.id, name), 10, 0);
        let mut stored: Vec<StoredObject> = webp.iter().map(|n| preview(&photo, n)).collect();
        stored.push(preview(&photo, "display.jpg"));
        stored.push(preview(&trashed, "small.webp"));
        stored.push(preview(&damaged, "small.webp"));
        stored.push(preview(&purged, "small.webp"));
        stored.push(preview(&purged, "display.jpg"));
        let files = [photo, trashed, damaged.clone()];
        let r = compare(&[], &files, &stored, &HashSet::new(), now);
        assert_eq!(
            r.orphans,
            vec![
                thumbnail_path(&c, &purged.id, "display.jpg"),
                thumbnail_path(&c, &purged.id, "small.webp"),
            ]
        );
        assert_eq!(
            r.missing_previews,
            vec![
                (
                    damaged.id.clone(),
                    thumbnail_path(&c, &damaged.id, "large.webp")
                ),
                (
                    damaged.id.clone(),
                    thumbnail_path(&c, &damaged.id, "medium.webp")
                ),
            ]
        );
        assert!(!r.is_clean());
        // The same previews, all present and accounted for: clean.
        stored.retain(|o| !o.path.contains(purged.id.as_str()));
        stored.push(preview(&damaged, "medium.webp"));
        stored.push(preview(&damaged, "large.webp"));
        assert!(compare(&[], &files, &stored, &HashSet::new(), now).is_clean());
    }

    #[test]
    fn previews_are_expected_once_made_for_a_live_file() {
        let made = PreviewFacts {
            made: true,
            ..PreviewFacts::default()
        };
        assert!(previews_expected(made));
        assert!(!previews_expected(PreviewFacts::default()));
        for facts in [
            PreviewFacts {
                failed: true,
                ..made
            },
            PreviewFacts {
                in_trash: true,
                ..made
            },
            PreviewFacts {
                content_missing: true,
                ..made
            },
        ] {
            assert!(!previews_expected(facts), "{facts:?}");
        }
    }

    #[test]
    fn leftovers_are_dead_staging_and_unnamed_files_only() {
        let stored = [
            object("communities/c1/temp/live", 5, 0),
            object("communities/c1/temp/dead", 5, 0),
            object(
                "communities/c1/temp/live.pieces/00000000000000000000-n1",
                5,
                0,
            ),
            object(
                "communities/c1/temp/dead.pieces/00000000000000000005-n2",
                5,
                0,
            ),
            object("communities/c1/files/2026/12/kept.txt", 5, 0),
            object("communities/c1/files/2026/12/moved.txt", 5, 0),
            object("communities/c1/files/2026/12/freed.txt", 5, 0),
            object("communities/c1/thumbnails/f/small.webp", 5, 0),
            object("elsewhere/x", 5, 0),
        ];
        let set = |paths: &[&str]| {
            paths
                .iter()
                .map(|p| (*p).to_owned())
                .collect::<HashSet<_>>()
        };
        let found = leftovers(
            &stored,
            &set(&["communities/c1/temp/live"]),
            &set(&["communities/c1/files/2026/12/kept.txt"]),
            &set(&["communities/c1/files/2026/12/freed.txt"]),
        );
        assert_eq!(
            found.staging,
            vec![
                "communities/c1/temp/dead".to_owned(),
                "communities/c1/temp/dead.pieces/00000000000000000005-n2".to_owned()
            ]
        );
        assert_eq!(
            found.orphans,
            vec!["communities/c1/files/2026/12/moved.txt".to_owned()]
        );
    }
}
