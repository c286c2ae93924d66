//! The integrity check's decisions: comparing what the database says is stored with what storage
//! holds. The shell lists both sides (and, in deep mode, hashes the blobs); this module says what
//! is wrong. The report is what the CLI and TUI print.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use taina_core::{BlobId, CommunityId, Timestamp};

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
    /// Objects no blob refers to, older than [`ORPHAN_GRACE`] (paths).
    pub orphans: Vec<String>,
    /// Blobs of the wrong size.
    pub size_mismatches: Vec<SizeMismatch>,
    /// Blobs whose content no longer has its recorded SHA-256 (deep mode).
    pub hash_mismatches: Vec<(BlobId, String)>,
    /// Communities whose recorded use is wrong.
    pub quota_drift: Vec<QuotaDrift>,
}

impl IntegrityReport {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty()
            && self.reappeared.is_empty()
            && self.orphans.is_empty()
            && self.size_mismatches.is_empty()
            && self.hash_mismatches.is_empty()
            && self.quota_drift.is_empty()
    }
}

/// Compares blobs with stored objects. `in_flight` are staging paths of uploads still running;
/// they and anything modified within [`ORPHAN_GRACE`] of `now` are left alone. Blobs already marked
/// missing are not reported again; if their bytes are back (at the recorded size) they are reported
/// as reappeared.
pub fn compare(
    known: &[KnownBlob],
    stored: &[StoredObject],
    in_flight: &HashSet<String>,
    now: Timestamp,
) -> IntegrityReport {
    let by_path: HashMap<&str, &StoredObject> =
        stored.iter().map(|o| (o.path.as_str(), o)).collect();
    let known_paths: HashSet<&str> = known.iter().map(|b| b.path.as_str()).collect();
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
    let cutoff = now.minus(ORPHAN_GRACE);
    for object in stored {
        let old_enough = object.modified <= cutoff;
        if old_enough
            && !known_paths.contains(object.path.as_str())
            && !in_flight.contains(&object.path)
        {
            report.orphans.push(object.path.clone());
        }
    }
    report.orphans.sort();
    report
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
        let r = compare(&known, &stored, &in_flight, now);
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
            let r = compare(&known, &stored, &HashSet::new(), Timestamp::from_millis(1 << 40));
            prop_assert!(r.is_clean());
        }
    }
}
