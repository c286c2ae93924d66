//! Benchmark: password verifications per second, and the latency of a trivial HTTP request
//! (`GET /healthz`) while sign-ins flood the instance.
//!
//! Run: `cargo bench -p taina-server --bench login_flood` (prints numbers; asserts nothing).
#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark program: failing loudly is right.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use taina::Backend;
use taina::accounts::LoginRequest;
use taina::testing::{PASSWORD, TestInstance};

const FLOOD: Duration = Duration::from_secs(8);
const ATTACKERS: usize = 64;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn probe_latencies(client: &reqwest::Client, url: &str, until: Instant) -> Vec<Duration> {
    let mut out = Vec::new();
    while Instant::now() < until {
        let start = Instant::now();
        let r = client.get(url).send().await.unwrap();
        assert!(r.status().is_success());
        r.bytes().await.unwrap();
        out.push(start.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    out.sort();
    out
}

#[tokio::main]
async fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t = TestInstance::with_config(Backend::Sqlite, |c| c.password_hashing_threads = None).await;
    t.setup().await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/healthz", listener.local_addr().unwrap());
    tokio::spawn(taina_server::serve(
        listener,
        t.taina.clone(),
        std::future::pending(),
    ));
    let client = reqwest::Client::new();

    // Baseline latency with no load.
    let idle = probe_latencies(&client, &url, Instant::now() + Duration::from_secs(2)).await;

    // Flood: many concurrent sign-ins (half with a wrong password, from distinct client keys so the
    // throttle does not cut them short; the account throttle is cleared by each success).
    let stop = Arc::new(AtomicBool::new(false));
    let verified = Arc::new(AtomicU64::new(0));
    let limited = Arc::new(AtomicU64::new(0));
    let mut attackers = Vec::new();
    for i in 0..ATTACKERS {
        let (taina, stop, verified, limited) = (
            t.taina.clone(),
            stop.clone(),
            verified.clone(),
            limited.clone(),
        );
        attackers.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let r = taina
                    .accounts()
                    .login(LoginRequest {
                        email: "admin@example.org".into(),
                        password: PASSWORD.into(),
                        client_key: Some(format!("client-{i}-{n}")),
                        ..Default::default()
                    })
                    .await;
                match r {
                    Ok(_) => verified.fetch_add(1, Ordering::Relaxed),
                    Err(e) if e.kind() == taina::core::ErrorKind::RateLimited => {
                        limited.fetch_add(1, Ordering::Relaxed)
                    }
                    Err(e) => panic!("{e}"),
                };
            }
        }));
    }
    let started = Instant::now();
    let loaded = probe_latencies(&client, &url, started + FLOOD).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    for a in attackers {
        a.await.unwrap();
    }

    let verified = verified.load(Ordering::Relaxed);
    println!(
        "login_flood: {cores} cores, {ATTACKERS} concurrent sign-ins for {:.1} s",
        elapsed.as_secs_f64()
    );
    println!(
        "  sign-ins verified (Argon2id m=19MiB t=2 p=1): {verified} = {:.1} per second",
        verified as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  sign-ins answered rate-limited (queue wait > 2 s): {}",
        limited.load(Ordering::Relaxed)
    );
    println!(
        "  GET /healthz idle:    p50 {:?}  p99 {:?}  ({} requests)",
        percentile(&idle, 0.5),
        percentile(&idle, 0.99),
        idle.len()
    );
    println!(
        "  GET /healthz flooded: p50 {:?}  p99 {:?}  ({} requests)",
        percentile(&loaded, 0.5),
        percentile(&loaded, 0.99),
        loaded.len()
    );
}
