//! Benchmark: photos per second producing all three thumbnail sizes from the 3264×2448 `jolla.jpg`,
//! beside libvips' `vipsthumbnail` producing the same three sizes from the same file in the same run
//! (when it is installed: `apt-get install libvips-tools`), with the bytes each produces.
//!
//! Run: `cargo bench -p taina-jaci --bench thumbnails`. Prints numbers; asserts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark program: failing loudly is right.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use taina_jaci::metadata::extract;
use taina_jaci::thumbnail::{DEFAULT_QUALITY, thumbnails};

const ROUNDS: usize = 20;

fn main() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/photos/jolla.jpg");
    let bytes = std::fs::read(&path).unwrap();
    let orientation = extract(&bytes).orientation;

    // Ours: one decode (DCT-scaled), three resizes, three WebP encodes, on one thread.
    let _ = thumbnails(&bytes, orientation, DEFAULT_QUALITY).unwrap();
    let start = Instant::now();
    let mut ours = Vec::new();
    for _ in 0..ROUNDS {
        ours = thumbnails(&bytes, orientation, DEFAULT_QUALITY).unwrap();
    }
    let ours_rate = ROUNDS as f64 / start.elapsed().as_secs_f64();
    let our_bytes: Vec<usize> = ours.iter().map(|r| r.webp.len()).collect();
    println!(
        "taina-jaci     : {ours_rate:>6.1} photos/s (all three sizes, one thread); bytes small/medium/large {our_bytes:?}"
    );

    // libvips: one process per size, the photo given ROUNDS times so start-up is amortised.
    let out = tempfile_dir();
    let inputs: Vec<PathBuf> = (0..ROUNDS).map(|_| path.clone()).collect();
    let sizes = [
        ("small", vec!["--size", "200x200", "--smartcrop", "centre"]),
        ("medium", vec!["--size", "800"]),
        ("large", vec!["--size", "1600"]),
    ];
    let start = Instant::now();
    let mut vips_bytes = Vec::new();
    for (name, args) in &sizes {
        let output = format!("{}/%s_{name}.webp[Q=80,strip]", out.display());
        let status = Command::new("vipsthumbnail")
            .args(args)
            .arg("-o")
            .arg(&output)
            .args(&inputs)
            .env("VIPS_CONCURRENCY", "1")
            .status();
        match status {
            Ok(s) if s.success() => {
                vips_bytes.push(
                    std::fs::metadata(out.join(format!("jolla_{name}.webp")))
                        .map_or(0, |m| m.len() as usize),
                );
            }
            _ => {
                println!(
                    "vipsthumbnail : not installed (apt-get install libvips-tools) — no comparison"
                );
                return;
            }
        }
    }
    let vips_rate = ROUNDS as f64 / start.elapsed().as_secs_f64();
    println!(
        "vipsthumbnail  : {vips_rate:>6.1} photos/s (all three sizes, VIPS_CONCURRENCY=1); bytes small/medium/large {vips_bytes:?}"
    );
    println!(
        "ratio          : {:.2}× libvips' rate",
        ours_rate / vips_rate
    );
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("taina-thumbnail-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
