//! Benchmark: a timeline page at 100,000 photos (first page, a page deep in the past, and paging
//! through everything), on SQLite and, when `TAINA_TEST_POSTGRES_URL` is set, PostgreSQL.
//!
//! The 100,000 library rows are written straight into the database (one real imported photo's file
//! and blob shared by all), since the benchmark measures reading the timeline, not importing.
//!
//! Run: `cargo bench --bench jaci`. Prints numbers; asserts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark program: failing loudly is right.

use std::time::{Duration, Instant};

use bytes::Bytes;
use taina::Backend;
use taina::core::{ItemId, PhotoId};
use taina::jaci::{NewPhoto, Scope};
use taina::testing::TestInstance;
use taina::ybira::Location;

const PHOTOS: usize = 100_000;
const BATCH: usize = 500;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn timeline(backend: Backend) {
    let t = TestInstance::new(backend).await;
    let admin = t.actor(&t.setup().await).await;
    let jpeg = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/photos/Canon_40D.jpg"
    ))
    .unwrap();
    let seed = t
        .taina
        .jaci()
        .import(
            &admin,
            NewPhoto {
                location: Location::MyFiles,
                name: "seed.jpg".into(),
                declared_size: None,
                client_file_time: None,
            },
            futures::stream::iter([Ok(Bytes::from(jpeg))]),
        )
        .await
        .unwrap();
    let (blob,): (String,) = sqlx::query_as("SELECT blob_id FROM items WHERE id = $1")
        .bind(seed.file_id.as_str())
        .fetch_one(t.taina.db().reader())
        .await
        .unwrap();
    let community = admin.community_id.as_str();
    let owner = admin.user_id.as_str();
    let start = Instant::now();
    for batch in 0..PHOTOS / BATCH {
        let mut items = Vec::with_capacity(BATCH);
        let mut photos = Vec::with_capacity(BATCH);
        for n in 0..BATCH {
            let i = batch * BATCH + n;
            let item = ItemId::from_random(id_bytes(i, 1));
            let photo = PhotoId::from_random(id_bytes(i, 2));
            // About one photo an hour over eleven years, some at the same moment.
            let taken = 1_400_000_000_000i64 + (i as i64 / 2) * 7_200_000;
            items.push(format!(
                "('{item}', '{community}', 'file', '{owner}', NULL, 'private:{owner}', '{owner}', \
                 'p{i}.jpg', 'p{i}.jpg', '1p{i}.jpg', '{blob}', 7958, 'image/jpeg', 0, 0)"
            ));
            photos.push(format!(
                "('{photo}', '{item}', '{community}', 'image', {taken}, 'date_time_original', 1, 0, 0)"
            ));
        }
        let mut tx = t.taina.db().begin().await.unwrap();
        sqlx::query(&format!(
            "INSERT INTO items (id, community_id, kind, space_owner_id, parent_id, parent_key, owner_id, \
             name, name_key, sort_key, blob_id, size_bytes, mime_type, created_at, updated_at) VALUES {}",
            items.join(", ")
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query(&format!(
            "INSERT INTO photos (id, file_id, community_id, media_kind, taken_at, taken_at_source, \
             orientation, created_at, updated_at) VALUES {}",
            photos.join(", ")
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    if backend == Backend::Postgres {
        sqlx::query("ANALYZE")
            .execute(t.taina.db().reader())
            .await
            .unwrap();
    }
    let filled = start.elapsed();
    let jaci = t.taina.jaci();

    let mut first = Vec::new();
    for _ in 0..50 {
        let start = Instant::now();
        jaci.timeline(&admin, Scope::Mine, None, None, 0)
            .await
            .unwrap();
        first.push(start.elapsed());
    }
    first.sort();

    // Page through everything once, timing each page; the deep pages are the second half.
    let start = Instant::now();
    let mut pages = Vec::new();
    let mut cursor = None;
    let mut seen = 0;
    loop {
        let page_start = Instant::now();
        let page = jaci
            .timeline(&admin, Scope::Mine, cursor.as_deref(), None, 0)
            .await
            .unwrap();
        pages.push(page_start.elapsed());
        seen += page.photos.len();
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let all = start.elapsed();
    let deep: Vec<Duration> = {
        let mut d = pages[pages.len() / 2..].to_vec();
        d.sort();
        d
    };
    println!(
        "{:<8} timeline at {seen} photos (pages of 50): first page p50 {:.2?} p95 {:.2?}; deep pages p50 {:.2?} p95 {:.2?}; all {} pages {:.2?}  (rows written in {:.1?})",
        backend.name(),
        percentile(&first, 0.5),
        percentile(&first, 0.95),
        percentile(&deep, 0.5),
        percentile(&deep, 0.95),
        pages.len(),
        all,
        filled,
    );
}

/// 21 bytes that make a distinct id for each (i, salt): ids keep 6 bits of each byte.
fn id_bytes(i: usize, salt: u8) -> [u8; 21] {
    let mut b = [salt; 21];
    for (k, byte) in b.iter_mut().enumerate().take(8) {
        *byte = ((i >> (6 * k)) & 63) as u8;
    }
    b
}

#[tokio::main]
async fn main() {
    let mut backends = vec![Backend::Sqlite];
    if std::env::var(taina::testing::POSTGRES_URL_VAR).is_ok() {
        backends.push(Backend::Postgres);
    }
    for backend in backends {
        timeline(backend).await;
    }
}
