//! Security hardening of uploads and integrity (issue 16), on SQLite and on PostgreSQL: the
//! integrity check knows a file's previews (thumbnails and renditions) — expected while the file
//! exists, orphans once it is gone, missing ones of a live file reported and made again on repair.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use taina::backend_tests;
use taina::core::Actor;
use taina::jaci::{NewPhoto, Photo};
use taina::testing::TestInstance;
use taina::ybira::{IntegrityOptions, IntegrityReport, Location};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/photos")
            .join(name),
    )
    .unwrap()
}

fn body(bytes: Vec<u8>) -> impl Stream<Item = std::io::Result<Bytes>> + Send + Unpin {
    let chunks: Vec<std::io::Result<Bytes>> = bytes
        .chunks(16 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(chunks)
}

async fn import(t: &TestInstance, actor: &Actor, name: &str) -> Photo {
    t.taina
        .jaci()
        .import(
            actor,
            NewPhoto {
                location: Location::MyFiles,
                name: name.into(),
                declared_size: None,
                client_file_time: None,
            },
            body(fixture(name)),
        )
        .await
        .unwrap()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

async fn check(t: &TestInstance, deep: bool, repair: bool) -> IntegrityReport {
    t.taina
        .ybira()
        .check_integrity(IntegrityOptions { deep, repair })
        .await
        .unwrap()
}

/// Moves the test clock past the real time of the files written so far, and an hour more, so
/// that none of them is too new to be called an orphan.
fn age_everything(t: &TestInstance) {
    let real_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let ahead = (real_now - t.taina.now().as_millis()).max(0) as u64 + 2 * 3600 * 1000;
    t.advance(Duration::from_millis(ahead));
}

async fn the_integrity_check_knows_previews(t: TestInstance) {
    let w = t.world().await;
    let first = import(&w.t, &w.ana, "jolla.jpg").await;
    let second = import(&w.t, &w.ana, "Canon_40D.jpg").await;
    let other = import(&w.t, &w.bia, "landscape_1.jpg").await;
    w.t.taina.jobs().run_due().await.unwrap();
    let storage = w.t.taina.data_dir().join("storage");
    let thumbnails = storage.join(format!("communities/{}/thumbnails", w.ana.community_id));
    let previews_of = |photo: &Photo| files_under(&thumbnails.join(photo.file_id.as_str()));
    for photo in [&first, &second, &other] {
        assert_eq!(previews_of(photo).len(), 3, "three thumbnails each");
    }
    age_everything(&w.t);

    // Thumbnails of live files are neither orphans nor missing; repair touches nothing.
    let deep = check(&w.t, true, false).await;
    assert!(deep.is_clean(), "{deep:?}");
    let repaired = check(&w.t, true, true).await;
    assert!(repaired.is_clean(), "{repaired:?}");
    assert!(!storage.join("quarantine").exists(), "nothing quarantined");
    for photo in [&first, &second, &other] {
        assert_eq!(previews_of(photo).len(), 3, "the thumbnails stay");
    }

    // A thumbnail lost from a live file is reported, and repair makes it again.
    let lost = previews_of(&second).pop().unwrap();
    std::fs::remove_file(&lost).unwrap();
    let report = check(&w.t, false, false).await;
    assert_eq!(report.missing_previews.len(), 1, "{report:?}");
    assert_eq!(report.missing_previews[0].0, second.file_id);
    assert!(lost.ends_with(&report.missing_previews[0].1));
    assert!(report.orphans.is_empty(), "{report:?}");
    let report = check(&w.t, false, true).await;
    assert_eq!(report.missing_previews.len(), 1);
    w.t.taina.jobs().run_due().await.unwrap();
    assert!(lost.exists(), "made again by the previews job");
    let after = check(&w.t, true, false).await;
    assert!(after.is_clean(), "{after:?}");

    // In the trash, a file keeps its previews (restoring it brings the photo back whole).
    let y = w.t.taina.ybira();
    y.delete(&w.ana, &first.file_id).await.unwrap();
    let trashed = check(&w.t, true, false).await;
    assert!(trashed.is_clean(), "{trashed:?}");

    // Once the file is purged, what is left of it is an orphan until the jobs remove it.
    let gone = previews_of(&first);
    y.purge(&w.ana, &first.file_id).await.unwrap();
    let purged = check(&w.t, false, false).await;
    for path in &gone {
        assert!(
            purged.orphans.iter().any(|o| path.ends_with(o)),
            "{path:?} in {purged:?}"
        );
    }
    assert!(
        purged
            .orphans
            .iter()
            .all(|o| o.contains(first.file_id.as_str())),
        "only the purged file's objects: {purged:?}"
    );
    assert!(purged.missing_previews.is_empty(), "{purged:?}");
    w.t.taina.jobs().run_due().await.unwrap();
    assert!(previews_of(&first).is_empty());
    let last = check(&w.t, true, false).await;
    assert!(last.is_clean(), "{last:?}");
}

backend_tests!(the_integrity_check_knows_previews);
