//! Soak, the short version: 100 people on one `taina serve` for about 30 s of mixed load per
//! database (`TAINA_SOAK_SECONDS` sets it), and the server stays sound: every operation answers
//! what it should, every socket stays open, every message reaches every other participant's
//! socket, no file descriptor is leaked and memory does not keep growing. Timings are printed
//! (per-operation p50/p95/p99, the server's memory and descriptors), never asserted.
//!
//! The 100 people register once each (one invite), keep their token and one WebSocket open, are
//! in about three groups of 5–10 and two direct conversations, and each does an operation every
//! 1–3 s picked by a seeded RNG: folder listings, timeline pages, multipart uploads (random bytes
//! and small fixture photos), tus uploads in 2–3 pieces, ranged downloads checked byte for byte,
//! messages, history pages, read marks, typing, searches. The server's `VmRSS` and open
//! descriptors are read from `/proc` every second. The checks are in `soak/stats.rs`
//! (`fd_leak`, `memory_growth`, each with why it cannot flake on a slow machine); the plots
//! and CSV land in `target/soak/test-<database>/`.
//!
//! Runs on SQLite and on a fresh PostgreSQL database from `TAINA_TEST_POSTGRES_URL` (which must be
//! set: the PostgreSQL test fails without it). The two take turns. The seed is printed; replay
//! with `TAINA_SOAK_SEED=<n>`. The long run is `cargo bench --workspace --bench soak`.

#[path = "soak/mod.rs"]
mod soak;

use std::path::Path;
use std::sync::Mutex;

use soak::stats;

/// People at once.
const PEOPLE: usize = 100;

/// Seconds of load by default.
const LOAD_SECONDS: u64 = 30;

/// The two databases take turns: each run wants the machine to itself.
static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn sqlite_holds_a_hundred_people_without_leaks() {
    run_on("sqlite", None);
}

#[test]
fn postgres_holds_a_hundred_people_without_leaks() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let database_url = runtime.block_on(taina::testing::fresh_postgres_database());
    run_on("postgres", Some(database_url));
}

fn run_on(label: &str, database_url: Option<String>) {
    let _turn = ONE_RUN_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory");
    let settings = soak::Settings {
        label: label.to_owned(),
        binary: env!("CARGO_BIN_EXE_taina").into(),
        database_url,
        people: PEOPLE,
        load: soak::load_from_env(LOAD_SECONDS),
        seed: soak::seed_from_env(),
        out_dir: target.join("soak").join(format!("test-{label}")),
    };
    let report = soak::run(&settings);
    println!("{}", report.text);
    assert!(
        report.failures.is_empty(),
        "soak [{label}] with seed {} (replay: TAINA_SOAK_SEED={}) failed:\n- {}",
        settings.seed,
        settings.seed,
        report.failures.join("\n- ")
    );
}

// The driver's own arithmetic (here rather than beside it in `soak/stats.rs`: the benchmark
// compiles that file too, and has no test harness).

#[test]
fn percentiles_by_nearest_rank() {
    let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
    assert_eq!(stats::percentile(&hundred, 50.0), Some(50.0));
    assert_eq!(stats::percentile(&hundred, 95.0), Some(95.0));
    assert_eq!(stats::percentile(&hundred, 99.0), Some(99.0));
    assert_eq!(stats::percentile(&hundred, 100.0), Some(100.0));
    assert_eq!(stats::percentile(&[7.0], 50.0), Some(7.0));
    assert_eq!(stats::percentile(&[7.0], 99.0), Some(7.0));
    assert_eq!(stats::percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), Some(2.0));
    assert_eq!(stats::percentile(&[1.0, 2.0, 3.0, 4.0], 51.0), Some(3.0));
    assert_eq!(stats::percentile(&[], 50.0), None);
}

#[test]
fn memory_that_plateaus_or_spikes_passes_and_memory_that_climbs_fails() {
    let samples = |rss_mib: &[u64]| -> Vec<stats::ProcSample> {
        rss_mib
            .iter()
            .enumerate()
            .map(|(i, mib)| stats::ProcSample {
                at_secs: i as f64,
                rss_kib: mib * 1024,
                fds: 20,
            })
            .collect()
    };
    assert_eq!(stats::memory_growth(&samples(&[60; 30])), None);
    let mut spike = vec![60; 30];
    spike[29] = 400;
    assert_eq!(stats::memory_growth(&samples(&spike)), None);
    let late_plateau: Vec<u64> = (0..30).map(|i| if i < 12 { 60 } else { 100 }).collect();
    assert_eq!(stats::memory_growth(&samples(&late_plateau)), None);
    let climbing: Vec<u64> = (0..30).map(|i| 60 + i * 10).collect();
    assert!(stats::memory_growth(&samples(&climbing)).is_some());
}

#[test]
fn descriptors_within_the_margin_are_no_leak() {
    assert_eq!(stats::fd_leak(40, 40 + stats::FD_MARGIN), None);
    assert!(stats::fd_leak(40, 41 + stats::FD_MARGIN).is_some());
}
