#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
//! The blob store conformance suite: every back end (the local folder and S3-compatible object
//! storage, here a real S3 protocol server) keeps the same promises, so Ybira, Jaci and Guará can
//! rely on them whatever the configuration.

use bytes::Bytes;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use taina::storage::BlobStore;
use taina::testing::{S3_BUCKET, S3_ENDPOINT_VAR, use_test_bucket};
use taina::{Config, Error};

/// A fresh, empty store of one kind.
struct Store {
    blobs: BlobStore,
    s3: bool,
    dir: tempfile::TempDir,
}

impl Store {
    fn local() -> Store {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::with_data_dir(dir.path());
        Store {
            blobs: BlobStore::open(&config, dir.path()).unwrap(),
            s3: false,
            dir,
        }
    }

    fn s3() -> Store {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::with_data_dir(dir.path());
        use_test_bucket(&mut config);
        Store {
            blobs: BlobStore::open(&config, dir.path()).unwrap(),
            s3: true,
            dir,
        }
    }

    /// Multipart uploads begun under this store's prefix and neither completed nor aborted (asked
    /// of the S3 server directly: the object store interface cannot list them).
    async fn unfinished_multipart_uploads(&self) -> usize {
        if !self.s3 {
            return 0;
        }
        let prefix = self
            .blobs
            .url()
            .strip_prefix(&format!("s3://{S3_BUCKET}/"))
            .unwrap()
            .to_owned();
        let endpoint = std::env::var(S3_ENDPOINT_VAR).unwrap();
        let listing = reqwest::get(format!("{endpoint}/{S3_BUCKET}?uploads&prefix={prefix}/"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        listing.matches("<UploadId>").count()
    }
}

/// `len` bytes that differ from one position to the next (so that a misplaced part shows).
fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[0] ^ seed)
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn read_all(
    blobs: &BlobStore,
    path: &str,
    range: std::ops::Range<u64>,
) -> Result<Vec<u8>, String> {
    let mut body = blobs
        .read_range(path, range)
        .await
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
    }
    Ok(out)
}

fn not_found(e: &Error) -> bool {
    matches!(e, Error::Storage(object_store::Error::NotFound { .. }))
}

/// Larger than two parts, so that object storage takes it as a multipart upload.
const LARGE: usize = 2 * taina::storage::PART_BYTES + 123_457;

async fn whole_blobs_round_trip_list_and_go(s: Store) {
    let b = &s.blobs;
    b.put("communities/c/files/2026/12/a.txt", b"alpha".to_vec())
        .await
        .unwrap();
    b.put("communities/c/files/2026/12/b.txt", content(3000, 1))
        .await
        .unwrap();
    b.put("communities/d/files/2026/12/c.txt", b"gamma".to_vec())
        .await
        .unwrap();
    assert_eq!(
        b.get("communities/c/files/2026/12/a.txt").await.unwrap(),
        b"alpha"
    );
    assert_eq!(
        b.size("communities/c/files/2026/12/b.txt").await.unwrap(),
        Some(3000)
    );
    assert!(b.exists("communities/d/files/2026/12/c.txt").await.unwrap());
    assert_eq!(b.size("communities/c/nothing").await.unwrap(), None);
    let mut listed: Vec<(String, u64)> = b
        .list("communities/c")
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.path, o.size_bytes))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        vec![
            ("communities/c/files/2026/12/a.txt".to_owned(), 5),
            ("communities/c/files/2026/12/b.txt".to_owned(), 3000)
        ]
    );
    // A prefix matches whole path segments only.
    assert!(
        b.list("communities/c/files/2026/1")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(b.list("nowhere").await.unwrap().is_empty());
    // Writing again replaces; deleting twice is fine; a prefix goes whole.
    b.put("communities/c/files/2026/12/a.txt", b"ALPHA!".to_vec())
        .await
        .unwrap();
    assert_eq!(
        b.get("communities/c/files/2026/12/a.txt").await.unwrap(),
        b"ALPHA!"
    );
    b.delete("communities/d/files/2026/12/c.txt").await.unwrap();
    b.delete("communities/d/files/2026/12/c.txt").await.unwrap();
    assert!(not_found(
        &b.get("communities/d/files/2026/12/c.txt")
            .await
            .unwrap_err()
    ));
    b.delete_prefix("communities/c").await.unwrap();
    assert!(b.list("communities").await.unwrap().is_empty());
    b.ping().await.unwrap();
}

async fn staged_uploads_hash_and_appear_whole(s: Store) {
    let b = &s.blobs;
    let data = content(LARGE, 7);
    let path = "communities/c/temp/upload1";
    let mut out = b.stage(path).await.unwrap();
    for chunk in data.chunks(65_536) {
        out.write(chunk).await.unwrap();
    }
    if s.s3 {
        // Nothing shows in a bucket before the upload completes.
        assert!(!b.exists(path).await.unwrap());
        assert_eq!(s.unfinished_multipart_uploads().await, 1);
    }
    assert_eq!(out.written(), LARGE as u64);
    assert_eq!(out.finish().await.unwrap(), sha256(&data));
    assert_eq!(b.get(path).await.unwrap(), data);
    assert_eq!(s.unfinished_multipart_uploads().await, 0);
    // Into place, then a copy that is independent of its source.
    let stored = "communities/c/files/2026/12/f1.bin";
    b.promote(path, stored).await.unwrap();
    assert!(!b.exists(path).await.unwrap());
    b.copy(stored, "communities/c/files/2026/12/f2.bin")
        .await
        .unwrap();
    b.delete(stored).await.unwrap();
    assert_eq!(
        b.get("communities/c/files/2026/12/f2.bin").await.unwrap(),
        data
    );
    // A small upload goes up in one request.
    let mut small = b.stage("communities/c/temp/upload2").await.unwrap();
    small.write(b"tiny").await.unwrap();
    assert_eq!(small.finish().await.unwrap(), sha256(b"tiny"));
    assert_eq!(b.get("communities/c/temp/upload2").await.unwrap(), b"tiny");
    // And an empty one is an empty blob.
    let empty = b.stage("communities/c/temp/upload3").await.unwrap();
    assert_eq!(empty.finish().await.unwrap(), sha256(b""));
    assert_eq!(b.size("communities/c/temp/upload3").await.unwrap(), Some(0));
}

async fn cut_off_uploads_leave_nothing(s: Store) {
    let b = &s.blobs;
    let path = "communities/c/temp/cut";
    let mut out = b.stage(path).await.unwrap();
    for chunk in content(LARGE, 3).chunks(1 << 20) {
        out.write(chunk).await.unwrap();
    }
    drop(out);
    // The caller removes the staging path (a local file stays until then); the store's own
    // leftovers (a multipart upload's parts) go by themselves.
    b.remove_staged(path).await.unwrap();
    for _ in 0..50 {
        if s.unfinished_multipart_uploads().await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(s.unfinished_multipart_uploads().await, 0);
    assert!(b.list("communities").await.unwrap().is_empty());
    // A writer given up explicitly leaves nothing either.
    let mut writer = b.writer("communities/c/files/x");
    writer.put(Bytes::from(content(LARGE, 4))).await.unwrap();
    writer.abort().await;
    assert_eq!(s.unfinished_multipart_uploads().await, 0);
    assert!(!b.exists("communities/c/files/x").await.unwrap());
}

async fn ranges_are_exact_and_short_blobs_fail(s: Store) {
    let b = &s.blobs;
    let data = content(1_000_003, 9);
    let path = "communities/c/files/2026/12/r.bin";
    b.put(path, data.clone()).await.unwrap();
    let n = data.len() as u64;
    for range in [
        0..n,
        0..1,
        n - 1..n,
        12_345..700_000,
        262_144..524_288,
        5..5,
    ] {
        let got = read_all(b, path, range.clone()).await.unwrap();
        assert_eq!(
            got,
            data[range.start as usize..range.end as usize],
            "{range:?}"
        );
    }
    // Reading past the end (a blob shorter than the database says) is an error, never a
    // silently short body.
    assert!(read_all(b, path, 10..n + 10).await.is_err());
    let missing = b
        .read_range("communities/c/files/none", 0..10)
        .await
        .err()
        .unwrap();
    assert!(not_found(&missing), "{missing}");
}

async fn resumable_pieces_join_in_order(s: Store) {
    let b = &s.blobs;
    let staged = "communities/c/temp/resumable";
    b.stage(staged).await.unwrap().finish().await.unwrap();
    let first = content(3 << 20, 1);
    let second = content(LARGE, 2);
    let refused = content(1000, 3);
    let mut pieces = Vec::new();
    let mut piece = b.open_piece(staged, 0).await.unwrap();
    piece.write(Bytes::from(first.clone())).await.unwrap();
    pieces.extend(piece.finish(true, first.len() as u64).await.unwrap());
    // A piece not kept (a bad checksum, say) leaves nothing.
    let at = first.len() as u64;
    let mut piece = b.open_piece(staged, at).await.unwrap();
    piece.write(Bytes::from(refused)).await.unwrap();
    assert_eq!(piece.finish(false, 1000).await.unwrap(), None);
    let mut piece = b.open_piece(staged, at).await.unwrap();
    for chunk in second.chunks(100_000) {
        piece.write(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    pieces.extend(piece.finish(true, second.len() as u64).await.unwrap());
    // Object storage keeps each piece as an object the caller records; a local file grows.
    assert_eq!(pieces.len(), if s.s3 { 2 } else { 0 });
    let whole = [first.as_slice(), second.as_slice()].concat();
    let sealed = b.seal(staged, &pieces).await.unwrap();
    assert_eq!(sealed.sha256, sha256(&whole));
    assert_eq!(sealed.size, whole.len() as u64);
    assert_eq!(sealed.head, whole[..sealed.head.len()]);
    assert!(!sealed.head.is_empty());
    assert_eq!(b.get(staged).await.unwrap(), whole);
    // Sealed again (a retried commit, the pieces recorded as joined): the same answer.
    assert_eq!(b.seal(staged, &[]).await.unwrap(), sealed);
    assert_eq!(s.unfinished_multipart_uploads().await, 0);
    b.remove_staged(staged).await.unwrap();
    assert!(b.list("communities").await.unwrap().is_empty());
}

async fn local_copies_are_bounded_and_removed(s: Store) {
    let b = &s.blobs;
    let data = content(300_000, 5);
    let path = "communities/c/files/2026/12/doc.pdf";
    b.put(path, data.clone()).await.unwrap();
    let work = s.dir.path().join("tmp");
    let too_large = b.local_copy(path, &work, 299_999).await.unwrap_err();
    assert_eq!(too_large.kind(), taina::core::ErrorKind::TooLarge);
    let copy = b.local_copy(path, &work, 300_000).await.unwrap();
    assert_eq!(std::fs::read(copy.path()).unwrap(), data);
    let file = copy.path().to_path_buf();
    drop(copy);
    // A temporary copy goes with it; a local blob's own file stays, of course.
    assert_eq!(file.exists(), !s.s3);
    assert!(b.exists(path).await.unwrap());
    assert!(not_found(
        &b.local_copy("communities/c/none", &work, 10)
            .await
            .unwrap_err()
    ));
}

macro_rules! store_tests {
    ($($name:ident),+ $(,)?) => {
        mod local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Store::local()).await;
                }
            )+
        }
        mod s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Store::s3()).await;
                }
            )+
        }
    };
}

store_tests!(
    whole_blobs_round_trip_list_and_go,
    staged_uploads_hash_and_appear_whole,
    cut_off_uploads_leave_nothing,
    ranges_are_exact_and_short_blobs_fail,
    resumable_pieces_join_in_order,
    local_copies_are_bounded_and_removed,
);
