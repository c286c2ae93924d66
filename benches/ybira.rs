//! Benchmark: Ybira's upload throughput for a 1 GB stream against a plain write of the same bytes to
//! the same disk in the same run (ratio, and the peak memory each adds), and listing a folder of
//! 10,000 files.
//!
//! Run: `cargo bench --bench ybira` (SQLite; PostgreSQL too when `TAINA_TEST_POSTGRES_URL` is set).
//! `TAINA_BENCH_UPLOAD_MB` changes the upload size (default 1024). Prints numbers; asserts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark program: failing loudly is right.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use taina::Backend;
use taina::core::Role;
use taina::testing::TestInstance;
use taina::ybira::{Location, NewUpload, OnConflict};

const CHUNK: usize = 256 * 1024;
const LISTING_FILES: usize = 10_000;

/// The resident set size of this process, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Samples RSS every few milliseconds until stopped; returns the peak above the starting value.
struct PeakMemory {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    base: u64,
    thread: std::thread::JoinHandle<()>,
}

impl PeakMemory {
    fn start() -> PeakMemory {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let base = rss();
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        PeakMemory {
            stop,
            peak,
            base,
            thread,
        }
    }

    fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        self.peak.load(Ordering::Relaxed).saturating_sub(self.base)
    }
}

/// The `n`-th chunk of the test content (pseudo-random, different per chunk).
fn chunk(pattern: &[u8], n: usize) -> Bytes {
    let mut c = pattern.to_vec();
    c[..8].copy_from_slice(&(n as u64).to_le_bytes());
    Bytes::from(c)
}

fn pattern() -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..CHUNK)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn mb_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

async fn upload_vs_plain_write(backend: Backend, total_mb: usize) {
    let t = TestInstance::with_config(backend, |c| c.max_upload_bytes = 4 << 30).await;
    let admin = t.actor(&t.setup().await).await;
    let chunks = total_mb * 1024 * 1024 / CHUNK;
    let bytes = (chunks * CHUNK) as u64;
    let pattern = pattern();

    // Plain write of the same bytes to the same disk, synced: one thread, sequential `write`s.
    let plain_path = t.taina.data_dir().join("plain-write.bin");
    let memory = PeakMemory::start();
    let start = Instant::now();
    let (path, p) = (plain_path.clone(), pattern.clone());
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut file = std::fs::File::create(&path).unwrap();
        for n in 0..chunks {
            file.write_all(&chunk(&p, n)).unwrap();
        }
        file.sync_all().unwrap();
    })
    .await
    .unwrap();
    let plain = start.elapsed();
    let plain_peak = memory.finish();
    std::fs::remove_file(&plain_path).unwrap();

    // The same bytes through Ybira: staged, hashed, sniffed, reserved, moved, committed.
    let p = pattern.clone();
    let stream = futures::stream::iter((0..chunks).map(move |n| Ok(chunk(&p, n))));
    let memory = PeakMemory::start();
    let start = Instant::now();
    let item = t
        .taina
        .ybira()
        .upload(
            &admin,
            NewUpload {
                location: Location::MyFiles,
                name: "big.bin".into(),
                declared_size: None,
                on_conflict: OnConflict::Rename,
            },
            stream,
        )
        .await
        .unwrap();
    let upload = start.elapsed();
    let upload_peak = memory.finish();
    assert_eq!(item.size_bytes, bytes);
    println!(
        "{:<8} upload {} MB: plain write {:>7.1} MB/s ({:.2?}, peak +{} MiB) | ybira upload {:>7.1} MB/s ({:.2?}, peak +{} MiB) | ratio {:.2}",
        backend.name(),
        bytes / 1_000_000,
        mb_per_s(bytes, plain),
        plain,
        plain_peak >> 20,
        mb_per_s(bytes, upload),
        upload,
        upload_peak >> 20,
        upload.as_secs_f64() / plain.as_secs_f64(),
    );
}

async fn listing(backend: Backend) {
    let t = TestInstance::new(backend).await;
    let admin = t.actor(&t.setup().await).await;
    let (member, _) = t.join(&admin, "ana@example.org", Role::Member).await;
    let y = t.taina.ybira();
    let folder = y
        .create_folder(&member, &Location::MyFiles, "Many")
        .await
        .unwrap();
    let start = Instant::now();
    for n in 0..LISTING_FILES {
        let body = futures::stream::iter([Ok(Bytes::from(format!("file number {n}")))]);
        y.upload(
            &member,
            NewUpload {
                location: Location::Folder(folder.id.clone()),
                name: format!("file {n:05}.txt"),
                declared_size: None,
                on_conflict: OnConflict::Rename,
            },
            body,
        )
        .await
        .unwrap();
    }
    let filling = start.elapsed();
    let location = Location::Folder(folder.id.clone());
    for page_size in [100u32, 1000] {
        let mut first_pages = Vec::new();
        for _ in 0..20 {
            let start = Instant::now();
            y.list(&member, &location, None, Some(page_size))
                .await
                .unwrap();
            first_pages.push(start.elapsed());
        }
        first_pages.sort();
        let start = Instant::now();
        let mut cursor = None;
        let mut seen = 0;
        loop {
            let page = y
                .list(&member, &location, cursor.as_deref(), Some(page_size))
                .await
                .unwrap();
            seen += page.items.len();
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, LISTING_FILES);
        println!(
            "{:<8} listing {LISTING_FILES} files, pages of {page_size}: first page p50 {:.2?} p95 {:.2?}; whole folder {:.2?}",
            backend.name(),
            first_pages[first_pages.len() / 2],
            first_pages[first_pages.len() * 95 / 100],
            start.elapsed(),
        );
    }
    println!(
        "{:<8} (uploading the {LISTING_FILES} small files took {:.2?}: {:.0} uploads/s)",
        backend.name(),
        filling,
        LISTING_FILES as f64 / filling.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let total_mb: usize = std::env::var("TAINA_BENCH_UPLOAD_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let mut backends = vec![Backend::Sqlite];
    if std::env::var(taina::testing::POSTGRES_URL_VAR).is_ok() {
        backends.push(Backend::Postgres);
    }
    for backend in backends {
        upload_vs_plain_write(backend, total_mb).await;
        listing(backend).await;
    }
}
