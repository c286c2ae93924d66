//! Start-up recovery after a kill, on SQLite and on PostgreSQL: uploads cut off by a crash (fault
//! points set to *crash*, so nothing is undone, as with SIGKILL) leave reservations, staging files
//! and moved-but-uncommitted bytes; re-opening the instance on the same data puts all of it right
//! before it serves, while resumable uploads survive and can be finished.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use taina::backend_tests;
use taina::core::Actor;
use taina::jaci::NewPhoto;
use taina::testing::TestInstance;
use taina::ybira::{
    Appended, IntegrityOptions, Location, NewResumable, NewUpload, OnConflict, RecoveryReport,
};
use taina::{Backend, Taina, instance_lock::INSTANCE_LOCK};

fn body(bytes: &[u8]) -> impl Stream<Item = std::io::Result<Bytes>> + Send + Unpin + 'static {
    let chunks: Vec<std::io::Result<Bytes>> = bytes
        .chunks(7 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(chunks)
}

fn content(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn upload(name: &str) -> NewUpload {
    NewUpload {
        location: Location::MyFiles,
        name: name.into(),
        declared_size: None,
        on_conflict: OnConflict::Rename,
    }
}

fn resumable(name: &str, length: usize) -> NewResumable {
    NewResumable {
        location: Location::MyFiles,
        name: name.into(),
        length: length as u64,
        as_photo: false,
        client_file_time: None,
        on_conflict: OnConflict::Rename,
    }
}

async fn used(taina: &Taina, admin: &Actor) -> i64 {
    taina.accounts().storage(admin).await.unwrap().used_bytes
}

/// The sum of the community's distinct stored contents.
async fn blob_bytes(taina: &Taina, actor: &Actor) -> i64 {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM blobs WHERE community_id = $1",
    )
    .bind(actor.community_id.as_str())
    .fetch_one(taina.db().reader())
    .await
    .unwrap();
    n
}

async fn uploads_in_flight(taina: &Taina) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM uploads")
        .fetch_one(taina.db().reader())
        .await
        .unwrap();
    n
}

/// A photo of the shared fixtures.
fn fixture(name: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/photos");
    std::fs::read(dir.join(name)).unwrap()
}

/// What storage holds for the communities (blobs, staged uploads and their pieces), as storage
/// paths, read through the store (a folder or a bucket alike).
async fn stored(taina: &Taina) -> BTreeSet<String> {
    taina
        .blobs()
        .list("communities")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.path)
        .collect()
}

/// The paths blob rows name.
async fn blob_paths(taina: &Taina) -> BTreeSet<String> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT path FROM blobs")
        .fetch_all(taina.db().reader())
        .await
        .unwrap();
    rows.into_iter().map(|(p,)| p).collect()
}

/// The staged uploads among `files` (not the pieces of resumable ones on object storage).
fn staging(files: &BTreeSet<String>) -> BTreeSet<String> {
    files
        .iter()
        .filter(|p| taina_ybira::layout::area_of(p) == Some(taina_ybira::layout::Area::Staging))
        .cloned()
        .collect()
}

async fn killed_uploads_are_recovered_at_start_and_resumable_ones_survive(t: TestInstance) {
    let w = t.world().await;
    let (ana, admin) = (w.ana.clone(), w.admin.clone());
    let kept = {
        let y = w.t.taina.ybira();
        let kept = y
            .upload(&ana, upload("kept.bin"), body(&content(5000, 1)))
            .await
            .unwrap();
        // A resumable upload half sent before the kill: it must survive it.
        let half = content(40_000, 2);
        let tus = y
            .create_resumable(&ana, resumable("later.bin", 80_000))
            .await
            .unwrap();
        y.append(&ana, &tus.id, 0, None, body(&half)).await.unwrap();
        // One resumable upload killed while committing its last byte.
        let done = y
            .create_resumable(&ana, resumable("cut.bin", 9000))
            .await
            .unwrap();

        // Killed after staging, after moving into place, and inside the commit.
        let faults = w.t.taina.faults();
        faults.crash("ybira.upload.after_staging");
        let r = y
            .upload(&ana, upload("staged.bin"), body(&content(6000, 3)))
            .await;
        assert!(r.is_err());
        faults.clear();
        faults.crash("ybira.upload.after_move");
        let r = y
            .upload(&ana, upload("moved.bin"), body(&content(7000, 4)))
            .await;
        assert!(r.is_err());
        let r = y
            .append(&ana, &done.id, 0, None, body(&content(9000, 5)))
            .await;
        assert!(r.is_err());
        faults.clear();
        faults.crash("ybira.upload.before_commit");
        let r = y
            .replace(&ana, &kept.id, None, body(&content(3000, 6)))
            .await;
        assert!(r.is_err());
        faults.clear();

        // What a kill leaves: reservations held, bytes no row names.
        assert!(
            used(&w.t.taina, &admin).await > blob_bytes(&w.t.taina, &ana).await + 80_000,
            "the crashed uploads hold reservations"
        );
        assert_eq!(uploads_in_flight(&w.t.taina).await, 5);
        let orphans: Vec<String> = {
            let named = blob_paths(&w.t.taina).await;
            stored(&w.t.taina)
                .await
                .into_iter()
                .filter(|p| !named.contains(p) && !p.contains("/temp/"))
                .collect()
        };
        assert_eq!(orphans.len(), 3, "{orphans:?}");
        (kept, tus, half, orphans)
    };
    let (kept, tus, half, orphans) = kept;
    // On a local folder, a thumbnail's write cut by a kill leaves `{path}#{n}` (the store writes
    // there, then renames), which no listing shows.
    let local = w.t.config.storage_url.is_none();
    let cut_write = w.t.config.data_dir.join(format!(
        "storage/communities/{}/thumbnails/{}/small.webp#1",
        ana.community_id, kept.id
    ));
    if local {
        std::fs::create_dir_all(cut_write.parent().unwrap()).unwrap();
        std::fs::write(&cut_write, b"half a thumbnail").unwrap();
    }

    // The restart: same data directory, same database.
    let t = w.t.reconfigure(|_| {}).await;
    let taina = &t.taina;
    assert!(!cut_write.exists());
    assert_eq!(
        taina.ybira().recovered(),
        RecoveryReport {
            alone: true,
            released_uploads: 3,
            released_resumable: 1,
            removed_staging: 1 + u64::from(local),
            quarantined: 3,
            corrected_use: 1,
            released_jobs: 0,
        }
    );
    // Exact use: the distinct contents plus the one live reservation (the resumable upload's).
    assert_eq!(
        used(taina, &admin).await,
        blob_bytes(taina, &ana).await + 80_000
    );
    assert_eq!(uploads_in_flight(taina).await, 1);
    let files = stored(taina).await;
    let tus_staging = format!("communities/{}/temp/{}", ana.community_id, tus.id);
    assert_eq!(staging(&files), BTreeSet::from([tus_staging]));
    let mut expected = blob_paths(taina).await;
    expected.extend(staging(&files));
    let pieces: BTreeSet<String> = files
        .iter()
        .filter(|p| taina_ybira::layout::area_of(p) == Some(taina_ybira::layout::Area::Piece))
        .cloned()
        .collect();
    expected.extend(pieces);
    assert_eq!(
        files, expected,
        "nothing but blobs and the live upload (and its pieces)"
    );
    // The orphans were kept aside, not destroyed.
    for orphan in &orphans {
        assert!(
            taina
                .blobs()
                .exists(&format!("quarantine/{orphan}"))
                .await
                .unwrap(),
            "{orphan}"
        );
    }
    assert!(
        taina
            .ybira()
            .check_integrity(IntegrityOptions::default())
            .await
            .unwrap()
            .is_clean()
    );

    // The resumable upload goes on where it stood.
    let status = taina.ybira().resumable_status(&ana, &tus.id).await.unwrap();
    assert_eq!(status.offset, half.len() as u64);
    let rest = content(40_000, 7);
    let finished = taina
        .ybira()
        .append(&ana, &tus.id, status.offset, None, body(&rest))
        .await
        .unwrap();
    let Appended::Finished { item, .. } = finished else {
        panic!("the upload should be complete");
    };
    assert_eq!(item.name, "later.bin");
    assert_eq!(used(taina, &admin).await, blob_bytes(taina, &ana).await);
    assert_eq!(uploads_in_flight(taina).await, 0);
    assert!(staging(&stored(taina).await).is_empty());
    // The crashed replacement changed nothing: the file has its first content and no version.
    assert!(
        taina
            .ybira()
            .versions(&ana, &kept.id)
            .await
            .unwrap()
            .is_empty()
    );
    // Long after (past every grace period), the full check still finds nothing.
    t.advance(Duration::from_secs(90 * 24 * 3600));
    let report = taina
        .ybira()
        .check_integrity(IntegrityOptions {
            deep: true,
            repair: false,
        })
        .await
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
}

async fn a_second_process_leaves_live_uploads_alone(t: TestInstance) {
    let w = t.world().await;
    let (ana, admin) = (w.ana.clone(), w.admin.clone());
    // An upload "in flight" in the first instance (its bytes staged and moved, not committed).
    w.t.taina.faults().crash("ybira.upload.after_move");
    let r =
        w.t.taina
            .ybira()
            .upload(&ana, upload("busy.bin"), body(&content(7000, 8)))
            .await;
    assert!(r.is_err());
    let used_before = used(&w.t.taina, &admin).await;
    let files_before = stored(&w.t.taina).await;
    // A second process opening the same data meanwhile (a CLI command, another instance) must not
    // take it for dead.
    let other = Taina::open_with_clock(w.t.config.clone(), Arc::new(w.t.clock.clone()))
        .await
        .unwrap();
    assert_eq!(other.ybira().recovered(), RecoveryReport::default());
    assert_eq!(uploads_in_flight(&other).await, 1);
    assert_eq!(used(&other, &admin).await, used_before);
    assert_eq!(stored(&other).await, files_before);
    // SQLite's processes hold a lock file beside the database; PostgreSQL's an advisory lock.
    assert_eq!(
        other.data_dir().join(INSTANCE_LOCK).is_file(),
        other.backend() == Backend::Sqlite
    );
    other.close().await;
    drop(other);
    // Once the first one goes too, the next start is alone and recovers.
    let t = w.t.reconfigure(|_| {}).await;
    assert!(t.taina.ybira().recovered().alone);
    assert_eq!(uploads_in_flight(&t.taina).await, 0);
    assert_eq!(
        used(&t.taina, &admin).await,
        blob_bytes(&t.taina, &ana).await
    );
    assert!(stored(&t.taina).await.is_empty());
}

/// What a kill leaves of background work: jobs claimed by the dead process (released at start,
/// not after their 30-minute lease), a photo stored but not yet added to the library (added by
/// the `adopt_photo` job enqueued with the file), and previews half made for a file purged before
/// they were recorded (removed by the purge, which cannot see them on the file).
async fn a_kill_leaves_no_stuck_job_no_photo_out_of_the_library_and_no_stray_previews(
    t: TestInstance,
) {
    let w = t.world().await;
    let ana = w.ana.clone();
    let photo = |name: &str| NewPhoto {
        location: Location::MyFiles,
        name: name.into(),
        declared_size: None,
        client_file_time: None,
    };
    let jpeg = fixture("Canon_40D.jpg");
    let other = fixture("Nikon_D70.jpg");

    // Killed between storing the file and adding its photo.
    w.t.taina.faults().crash("jaci.import.before_adopt");
    w.t.taina
        .jaci()
        .import(&ana, photo("left-out.jpg"), body(&jpeg))
        .await
        .unwrap_err();
    w.t.taina.faults().clear();
    // A purged photo whose previews job had written a thumbnail before it died.
    let purged =
        w.t.taina
            .jaci()
            .import(&ana, photo("purged.jpg"), body(&other))
            .await
            .unwrap();
    let half_made =
        taina_ybira::layout::thumbnail_path(&ana.community_id, &purged.file_id, "small.webp");
    w.t.taina
        .blobs()
        .put(&half_made, b"half a thumbnail".to_vec())
        .await
        .unwrap();
    // Every job still to run was claimed by the process that is about to die.
    let mut tx = w.t.taina.db().begin().await.unwrap();
    sqlx::query(
        "UPDATE jobs SET locked_until = $1, attempts = attempts + 1 WHERE finished_at IS NULL",
    )
    .bind(i64::MAX / 2)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let t = w.t.reconfigure(|_| {}).await;
    let taina = &t.taina;
    let recovered = taina.ybira().recovered();
    assert!(recovered.alone);
    assert!(
        recovered.released_jobs >= 3,
        "two previews jobs and the safety net were claimed: {recovered:?}"
    );
    // The purge removes the previews it cannot see on the file.
    taina.ybira().delete(&ana, &purged.file_id).await.unwrap();
    taina.ybira().purge(&ana, &purged.file_id).await.unwrap();
    // Released jobs run at once; the safety net when it is due.
    t.advance(Duration::from_secs(60));
    let ran = taina.jobs().run_due().await.unwrap();
    assert_eq!(ran.given_up, 0, "{ran:?}");
    assert_eq!(ran.retrying, 0, "{ran:?}");
    let timeline = taina
        .jaci()
        .timeline(&ana, taina::jaci::Scope::Mine, None, None, 0)
        .await
        .unwrap();
    let names: Vec<&str> = timeline.photos.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["left-out.jpg"],
        "the stored photo is in the library"
    );
    assert!(
        timeline.photos[0].processed,
        "and has its previews, without waiting out a lease"
    );
    assert!(
        !t.taina.blobs().exists(&half_made).await.unwrap(),
        "the purged file's half-made previews are gone"
    );
    let (pending,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM jobs WHERE finished_at IS NULL AND failed_at IS NULL")
            .fetch_one(taina.db().reader())
            .await
            .unwrap();
    assert_eq!(pending, 0, "the queue drained");
}

backend_tests!(
    storage:
    killed_uploads_are_recovered_at_start_and_resumable_ones_survive,
    a_second_process_leaves_live_uploads_alone,
    a_kill_leaves_no_stuck_job_no_photo_out_of_the_library_and_no_stray_previews,
);
