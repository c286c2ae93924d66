//! The disk filling up mid-upload, on SQLite and on PostgreSQL: the blob storage lives on a small
//! size-limited file system (a 3 MiB `tmpfs` mounted over the data directory's `storage/`, which
//! needs root: the test command runs as root), so the file system itself refuses the bytes. The
//! upload that does not fit is refused as "storage full" (HTTP 507, code `storage_full`), leaves
//! no partial file, no staging file and no quota drift, and the files stored before it are whole;
//! once there is room again, uploads go through.
//!
//! Without the right to mount (not root), the same path is driven by the upload's fault point
//! failing with the file system's "no space left" error, so the test still proves what the
//! library does with it (and says which way it ran).
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use taina::Backend;
use taina::core::{Actor, ErrorKind};
use taina::testing::TestInstance;
use taina::ybira::{Location, NewUpload, OnConflict};

/// The size of the small file system.
const DISK_BYTES: usize = 3 * 1024 * 1024;

/// A `tmpfs` mounted at a path until dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    /// Mounts a `DISK_BYTES` tmpfs at `at` (created), or `None` where this process may not mount.
    fn mount(at: &Path) -> Option<SmallDisk> {
        std::fs::create_dir_all(at).unwrap();
        let size = format!("size={DISK_BYTES}");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &size, "tmpfs"])
            .arg(at)
            .output()
            .is_ok_and(|out| out.status.success());
        mounted.then(|| SmallDisk(at.to_owned()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn body(bytes: Vec<u8>) -> impl Stream<Item = std::io::Result<Bytes>> + Send + Unpin {
    let chunks: Vec<std::io::Result<Bytes>> = bytes
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(chunks)
}

/// `n` bytes that differ per `seed` (so no two files deduplicate).
fn content(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 9) as u8)
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

async fn used(t: &TestInstance, admin: &Actor) -> i64 {
    t.taina.accounts().storage(admin).await.unwrap().used_bytes
}

/// Every regular file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

async fn downloaded(t: &TestInstance, actor: &Actor, id: &taina::core::ItemId) -> Vec<u8> {
    let download = t.taina.ybira().download(actor, id, None).await.unwrap();
    let mut out = Vec::new();
    let mut body = download.body;
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

async fn an_upload_that_fills_the_disk_is_refused_cleanly(backend: Backend) {
    let mut disk = None;
    let t = TestInstance::with_config(backend, |config| {
        disk = SmallDisk::mount(&config.data_dir.join("storage"));
    })
    .await;
    let storage = t.config.data_dir.join("storage");
    let admin = t.actor(&t.setup().await).await;
    eprintln!(
        "disk_full: {}",
        if disk.is_some() {
            "a 3 MiB tmpfs under the storage"
        } else {
            "not allowed to mount: the fault point fails with ENOSPC instead"
        }
    );

    let kept = content(1024 * 1024, 1);
    let first = t
        .taina
        .ybira()
        .upload(&admin, upload("kept.bin"), body(kept.clone()))
        .await
        .unwrap();
    let used_before = used(&t, &admin).await;
    let files_before = files_under(&storage);

    if disk.is_none() {
        t.taina
            .faults()
            .fail_with_storage_full("ybira.upload.after_staging");
    }
    let refused = t
        .taina
        .ybira()
        .upload(
            &admin,
            upload("too-big.bin"),
            body(content(4 * 1024 * 1024, 2)),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::StorageFull, "{refused}");
    assert_eq!(
        refused.public().to_string(),
        "the server's storage is full; nothing was stored (tell the server's operator)"
    );
    t.taina.faults().clear();

    // Nothing of the refused upload is left: no file, no staging bytes, no quota held.
    assert_eq!(used(&t, &admin).await, used_before, "no quota drift");
    assert_eq!(files_under(&storage), files_before, "no partial file");
    let (in_flight,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM uploads")
        .fetch_one(t.taina.db().reader())
        .await
        .unwrap();
    assert_eq!(in_flight, 0, "the reservation was released");
    let names: Vec<String> = t
        .taina
        .ybira()
        .list(&admin, &Location::MyFiles, None, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|item| item.name)
        .collect();
    assert_eq!(names, ["kept.bin"], "nothing unacknowledged is visible");

    // What was stored before is whole, and a file that fits goes through.
    assert_eq!(downloaded(&t, &admin, &first.id).await, kept);
    let small = content(512 * 1024, 3);
    let fits = t
        .taina
        .ybira()
        .upload(&admin, upload("fits.bin"), body(small.clone()))
        .await
        .unwrap();
    assert_eq!(downloaded(&t, &admin, &fits.id).await, small);
    assert_eq!(
        used(&t, &admin).await,
        used_before + small.len() as i64,
        "exactly the new file's bytes"
    );
    t.taina.close().await;
    drop(disk);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_upload_that_fills_the_disk_is_refused_cleanly() {
    an_upload_that_fills_the_disk_is_refused_cleanly(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_upload_that_fills_the_disk_is_refused_cleanly() {
    an_upload_that_fills_the_disk_is_refused_cleanly(Backend::Postgres).await;
}
