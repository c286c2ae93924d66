//! Benchmark: upload and download throughput through Ybira on the local back end and on
//! S3-compatible object storage, side by side in one run (issue 18), with the peak memory an upload
//! adds on each.
//!
//! Run: `TAINA_TEST_S3_ENDPOINT=http://127.0.0.1:PORT cargo bench --bench blob_stores` with an S3
//! server holding the bucket `taina-tests` (`. scripts/s3-server.sh` starts moto, an in-memory
//! Python server: its figures are moto's more than Tainá's; point it at a MinIO or Garage for a
//! store's own). Without the variable, the local back end only. `TAINA_BENCH_BLOB_MB` sets the
//! size (default 200). Prints numbers; asserts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark program: failing loudly is right.

use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;
use taina::Backend;
use taina::testing::{S3_ENDPOINT_VAR, Storage, TestInstance};
use taina::ybira::{Location, NewUpload, OnConflict};

const CHUNK: usize = 256 * 1024;

fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The highest RSS seen while `work` runs, above what it was before.
async fn peak_during<T>(work: impl std::future::Future<Output = T>) -> (T, u64) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let base = rss();
    let (stop, peak) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(base)),
    );
    let sampler = {
        let (stop, peak) = (stop.clone(), peak.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(rss(), Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        })
    };
    let out = work.await;
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    (out, peak.load(Ordering::Relaxed).saturating_sub(base))
}

async fn run(storage: Storage, megabytes: usize) -> (f64, f64, u64) {
    let t = TestInstance::with_config(Backend::Sqlite, |config| {
        config.max_upload_bytes = u64::MAX / 2;
        if storage == Storage::S3 {
            taina::testing::use_test_bucket(config);
        }
    })
    .await;
    let admin = t.actor(&t.setup().await).await;
    let bytes = megabytes * 1_000_000;
    let chunk = Bytes::from(vec![7u8; CHUNK]);
    let chunks = bytes / CHUNK;
    // Content that differs per chunk would cost the generator time; one repeated chunk is stored
    // and hashed the same way.
    let body =
        futures::stream::iter((0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let started = Instant::now();
    let (item, grew) = peak_during(t.taina.ybira().upload(
        &admin,
        NewUpload {
            location: Location::MyFiles,
            name: "big.bin".into(),
            declared_size: None,
            on_conflict: OnConflict::Rename,
        },
        body,
    ))
    .await;
    let item = item.unwrap();
    let upload = (chunks * CHUNK) as f64 / started.elapsed().as_secs_f64() / 1e6;
    let started = Instant::now();
    let mut download = t
        .taina
        .ybira()
        .download(&admin, &item.id, None)
        .await
        .unwrap()
        .body;
    let mut read = 0usize;
    while let Some(chunk) = download.next().await {
        read += chunk.unwrap().len();
    }
    let download = read as f64 / started.elapsed().as_secs_f64() / 1e6;
    t.taina.close().await;
    (upload, download, grew)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let megabytes: usize = std::env::var("TAINA_BENCH_BLOB_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    println!("blob stores: a {megabytes} MB file uploaded and downloaded through Ybira (SQLite)");
    let (up, down, grew) = run(Storage::Local, megabytes).await;
    println!(
        "  local folder:  upload {up:7.1} MB/s  download {down:7.1} MB/s  peak memory +{:.1} MiB",
        grew as f64 / 1_048_576.0
    );
    if std::env::var(S3_ENDPOINT_VAR).is_err() {
        println!("  object storage: skipped ({S3_ENDPOINT_VAR} is not set)");
        return;
    }
    let (s3_up, s3_down, s3_grew) = run(Storage::S3, megabytes).await;
    println!(
        "  S3 ({}):  upload {s3_up:7.1} MB/s  download {s3_down:7.1} MB/s  peak memory +{:.1} MiB",
        std::env::var(S3_ENDPOINT_VAR).unwrap_or_default(),
        s3_grew as f64 / 1_048_576.0
    );
    println!(
        "  S3 / local:    upload {:.2}x  download {:.2}x",
        s3_up / up,
        s3_down / down
    );
}
