//! The fuzz corpus on stable: every file under `fuzz/corpus/<target>/` and `fuzz/artifacts/<target>/`
//! (crashes the fuzzer found) is fed to the same entry the cargo-fuzz target calls
//! (`taina::fuzz::fuzz_one`), so `cargo test` guards against regressions without nightly. A
//! deterministic "poor man's fuzz" then mutates every corpus file (bit flips, truncations, byte
//! changes, insertions, deletions, splices) a bounded number of times. Set `TAINA_FUZZ_SEED` to try
//! other mutations, `TAINA_FUZZ_MUTATIONS` to try more of them.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use taina::fuzz::{TARGETS, fuzz_one};

const DEFAULT_SEED: u64 = 0x7a1a_f022;
const DEFAULT_MUTATIONS: usize = 200;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted (none when the folder does not exist).
fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.expect("a corpus folder entry").path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("a corpus file");
            (p, bytes)
        })
        .collect()
}

/// Runs one input; on a panic, keeps the input where it can be checked into the corpus and says so.
fn run(target: &str, data: &[u8], what: &str) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| fuzz_one(target, data))).map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        let kept = std::env::temp_dir().join(format!("taina-fuzz-{target}-{:016x}", fnv(data)));
        let _ = std::fs::write(&kept, data);
        format!(
            "{target}: {what} panicked: {message}\n  input kept in {} — add it to fuzz/corpus/{target}/",
            kept.display()
        )
    })
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// splitmix64: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Values that often break parsers: sizes and lengths at their edges.
const INTERESTING: [u8; 10] = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, b'-', b',', b' ', b'"'];

/// One to four mutations of `seed`, some of them spliced from `other`.
fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(7) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 if !data.is_empty() => {
                let keep = rng.below(data.len());
                data.truncate(keep);
            }
            2 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            3 => {
                let i = rng.below(data.len() + 1);
                data.insert(i, rng.next() as u8);
            }
            4 if !data.is_empty() => {
                let start = rng.below(data.len());
                let end = (start + 1 + rng.below(16)).min(data.len());
                data.drain(start..end);
            }
            5 if data.len() >= 4 => {
                // A big-endian 32-bit length or size set to an edge value.
                let i = rng.below(data.len() - 3);
                let edge = [0u32, 1, 7, 8, 16, u32::MAX, u32::MAX - 7, 0x8000_0000];
                let v = edge[rng.below(edge.len())];
                data[i..i + 4].copy_from_slice(&v.to_be_bytes());
            }
            _ if !other.is_empty() => {
                let at = rng.below(data.len() + 1);
                let from = rng.below(other.len());
                let len = (1 + rng.below(64)).min(other.len() - from);
                data.splice(at..at, other[from..from + len].iter().copied());
            }
            _ => data.push(rng.next() as u8),
        }
    }
    data
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| {
            let v = v.trim();
            v.strip_prefix("0x")
                .map_or_else(|| v.parse().ok(), |hex| u64::from_str_radix(hex, 16).ok())
        })
        .unwrap_or(default)
}

#[test]
fn every_fuzz_target_has_a_seed_corpus() {
    for target in TARGETS {
        assert!(
            !inputs("corpus", target).is_empty(),
            "fuzz/corpus/{target}/ has no seed input"
        );
        assert!(
            fuzz_dir()
                .join("fuzz_targets")
                .join(format!("{target}.rs"))
                .is_file(),
            "fuzz/fuzz_targets/{target}.rs is missing"
        );
    }
}

#[test]
fn the_corpus_and_found_crashes_replay_without_panicking() {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for target in TARGETS {
        for kind in ["corpus", "artifacts"] {
            for (path, data) in inputs(kind, target) {
                replayed += 1;
                if let Err(failure) = run(target, &data, &path.display().to_string()) {
                    failures.push(failure);
                }
            }
        }
    }
    assert!(
        replayed > 0,
        "no corpus found under {}",
        fuzz_dir().display()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn mutated_corpus_inputs_do_not_panic() {
    let seed = env_number("TAINA_FUZZ_SEED", DEFAULT_SEED);
    let mutations = env_number("TAINA_FUZZ_MUTATIONS", DEFAULT_MUTATIONS as u64) as usize;
    println!("poor man's fuzz: TAINA_FUZZ_SEED={seed:#x}, {mutations} mutations per file");
    let mut failures = Vec::new();
    for target in TARGETS {
        let corpus = inputs("corpus", target);
        for (n, (path, data)) in corpus.iter().enumerate() {
            // Each file has its own stream, so adding a file does not change the others' inputs.
            let mut rng =
                Rng(seed ^ fnv(path.file_name().map_or(&[][..], |f| f.as_encoded_bytes())));
            let other = &corpus[(n + 1) % corpus.len()].1;
            for i in 0..mutations {
                let input = mutate(&mut rng, data, other);
                let what = format!("mutation {i} of {} (seed {seed:#x})", path.display());
                if let Err(failure) = run(target, &input, &what) {
                    failures.push(failure);
                    break;
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
