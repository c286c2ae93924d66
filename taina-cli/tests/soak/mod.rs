//! The soak driver, shared by the short test (`tests/soak.rs`) and the long benchmark
//! (`benches/soak.rs`): the real `taina serve` on a loopback port, a community of people set up
//! over the API, each with a WebSocket open, living a seeded mix of operations for a set time;
//! then every message checked as delivered to every other participant's socket, the sockets
//! closed, the server left to settle, and the verdict: no failed operation, no dropped socket, no
//! lost message, no leaked file descriptor, no memory that keeps growing. Timings are measured and
//! printed, never judged.
//!
//! Modules: `people` (set-up), `ops` (the operations mix), `sockets` (the realtime sockets),
//! `server` (the process, its `/proc` readings, settling), `stats` (percentiles, the table, the
//! checks), `plot` (SVG plots and CSV), `rng` (the crash harness's seeded generator).

#[path = "../crash/rng.rs"]
pub mod rng;

pub mod ops;
pub mod people;
pub mod plot;
pub mod server;
pub mod sockets;
pub mod stats;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::StreamExt;

use ops::{Ctx, Fixture, Log};
use rng::Rng;
use server::{Sampler, Server};
use sockets::Socket;
use stats::{OpSample, ProcSample, Span};

/// What to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Names the run in what is printed (`sqlite`, `postgres`).
    pub label: String,
    /// The `taina` program.
    pub binary: PathBuf,
    /// PostgreSQL (an empty database); SQLite in the data directory when `None`.
    pub database_url: Option<String>,
    /// How many people (at least 2).
    pub people: usize,
    /// How long the load lasts.
    pub load: Duration,
    /// The seed every random choice follows from.
    pub seed: u64,
    /// Where the plots and CSV go (created if need be).
    pub out_dir: PathBuf,
}

/// How a run went.
#[derive(Debug)]
pub struct Report {
    /// What to print: a summary line, the table, where the plots are.
    pub text: String,
    /// Everything found wrong; empty when the run passed.
    pub failures: Vec<String>,
}

/// The load's length: `TAINA_SOAK_SECONDS`, or `default` seconds.
pub fn load_from_env(default: u64) -> Duration {
    let seconds = match std::env::var("TAINA_SOAK_SECONDS") {
        Ok(raw) => raw
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("TAINA_SOAK_SECONDS={raw:?} is not a number: {e}")),
        Err(_) => default,
    };
    Duration::from_secs(seconds.max(6))
}

/// The seed: `TAINA_SOAK_SEED`, or one from the clock.
pub fn seed_from_env() -> u64 {
    match std::env::var("TAINA_SOAK_SEED") {
        Ok(raw) => raw
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("TAINA_SOAK_SEED={raw:?} is not a number: {e}")),
        Err(_) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("the clock is after 1970");
            Rng::new(now.as_nanos() as u64 ^ u64::from(std::process::id())).next_u64()
        }
    }
}

/// The bytes of a file made from `seed`: the same every time, so that any range of it can be
/// checked without keeping it.
pub fn content(seed: u64, len: usize) -> Vec<u8> {
    Rng::new(seed).bytes(len)
}

/// Fixture photos of at most this size: small photos, so that previews stay a small part of the
/// server's work.
const FIXTURE_MAX_BYTES: u64 = 64 * 1024;

/// The small JPEGs of `tests/fixtures/photos`.
fn fixtures() -> Vec<Fixture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/photos");
    let mut photos: Vec<Fixture> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/photos")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "jpg"))
        .filter(|path| std::fs::metadata(path).is_ok_and(|m| m.len() <= FIXTURE_MAX_BYTES))
        .map(|path| Fixture {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            bytes: std::fs::read(&path).expect("read a fixture photo"),
        })
        .collect();
    photos.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(!photos.is_empty(), "no small JPEGs in {}", dir.display());
    photos
}

/// What the driving produced.
#[derive(Default)]
struct Driven {
    logs: Vec<Log>,
    deliveries: Vec<OpSample>,
    failures: Vec<String>,
    set_up: Duration,
    /// The load's start and end, in seconds since the server started.
    load: (f64, f64),
    fds_before: Option<usize>,
    fds_after: Option<usize>,
    fd_kinds: Vec<String>,
    /// Conversations set up.
    conversations: usize,
    /// Frames the sockets heard, and of them `typing` events.
    frames_heard: (u64, u64),
}

/// How long, after the load, messages may still be on their way before one missing counts as
/// lost: a bound so that the run ends, not a judgement of speed.
const DELIVERY_PATIENCE: Duration = Duration::from_secs(60);

/// Runs the soak and judges it.
pub fn run(settings: &Settings) -> Report {
    assert!(settings.people >= 2, "a soak needs at least 2 people");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&data_dir).expect("the data directory");
    let log_path = dir.path().join("serve.log");
    let mut server = match Server::start(
        &settings.binary,
        &data_dir,
        settings.database_url.as_deref(),
        &log_path,
    ) {
        Ok(server) => server,
        Err(e) => {
            return Report {
                text: String::new(),
                failures: vec![e],
            };
        }
    };
    let sampler = Sampler::start(server.pid, server.started);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let mut driven = runtime.block_on(drive(settings, &server));
    drop(runtime);
    let procs = sampler.finish();
    if let Some(why) = server.exited() {
        driven.failures.push(why);
    }
    let log_path = server.log_path.clone();
    drop(server);
    let mut report = judge(settings, driven, &procs);
    if !report.failures.is_empty() {
        let kept = dir.keep();
        report.failures.push(format!(
            "the server's data and log ({}) are kept in {}",
            log_path.display(),
            kept.display()
        ));
    }
    report
}

async fn drive(settings: &Settings, server: &Server) -> Driven {
    let mut driven = Driven::default();
    if let Err(e) = drive_into(settings, server, &mut driven).await {
        driven.failures.push(e);
    }
    driven
}

async fn drive_into(
    settings: &Settings,
    server: &Server,
    driven: &mut Driven,
) -> Result<(), String> {
    let base = server.url.clone();
    let since = |at: Instant| at.duration_since(server.started).as_secs_f64();
    let set_up_began = Instant::now();
    let community = people::set_up(&base, settings.people, settings.seed).await?;
    driven.set_up = set_up_began.elapsed();
    driven.conversations = community.conversations.len();
    // Before the load, with no client connected: what the server itself holds.
    driven.fds_before = Some(server::settle(&base, server.pid).await?);
    driven.fd_kinds.push(format!(
        "before the load: {:?}",
        server::fd_kinds(server.pid)
    ));

    let opened: Vec<Result<(usize, Socket), String>> = futures::stream::iter(&community.people)
        .map(|person| {
            let base = base.clone();
            async move {
                let who = format!("person {}", person.index);
                Socket::open(&base, &person.token, who)
                    .await
                    .map(|socket| (person.index, socket))
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut sockets: Vec<Option<Arc<Socket>>> = (0..settings.people).map(|_| None).collect();
    for socket in opened {
        let (index, socket) = socket?;
        sockets[index] = Some(Arc::new(socket));
    }
    let sockets: Vec<Arc<Socket>> = sockets
        .into_iter()
        .map(|s| s.expect("every socket opened"))
        .collect();

    let load_began = Instant::now();
    let ctx = Arc::new(Ctx {
        base: base.clone(),
        origin: server.started,
        deadline: load_began + settings.load,
        shared_folders: community.shared_folders.clone(),
        photos: fixtures(),
    });
    let lives: Vec<_> = community
        .people
        .into_iter()
        .map(|person| {
            let rng = Rng::derived(settings.seed, 100 + person.index as u64);
            let socket = sockets[person.index].clone();
            tokio::spawn(ops::live(person, socket, ctx.clone(), rng))
        })
        .collect();
    for life in lives {
        driven
            .logs
            .push(life.await.map_err(|e| format!("a person's task: {e}"))?);
    }
    let load_ended = Instant::now();
    driven.load = (since(load_began), since(load_ended));

    // Every message acknowledged reaches every other participant's socket.
    let expected: Vec<(&ops::SentMessage, usize)> = driven
        .logs
        .iter()
        .flat_map(|log| &log.sent)
        .flat_map(|sent| {
            sent.conversation
                .members
                .iter()
                .filter(move |&&m| m != sent.sender)
                .map(move |&m| (sent, m))
        })
        .collect();
    loop {
        let missing = expected
            .iter()
            .filter(|(sent, to)| sockets[*to].inbox.arrived(&sent.key).is_none())
            .count();
        if missing == 0 || load_ended.elapsed() > DELIVERY_PATIENCE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut lost = Vec::new();
    for (sent, to) in &expected {
        let arrived = sockets[*to].inbox.arrived(&sent.key);
        driven.deliveries.push(OpSample {
            op: plot::DELIVERY,
            at_secs: since(sent.sent_at),
            millis: arrived
                .unwrap_or_else(Instant::now)
                .saturating_duration_since(sent.sent_at)
                .as_secs_f64()
                * 1e3,
            ok: arrived.is_some(),
        });
        if arrived.is_none() {
            lost.push(format!("{} to person {to}", sent.key));
        }
    }
    if !lost.is_empty() {
        driven.failures.push(format!(
            "{} of {} deliveries never reached the socket within {DELIVERY_PATIENCE:?} of the \
             load's end, e.g. {}",
            lost.len(),
            expected.len(),
            lost.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    drop(expected);

    for (index, socket) in sockets.into_iter().enumerate() {
        driven.frames_heard.0 += socket.inbox.frames.load(Ordering::Relaxed);
        driven.frames_heard.1 += socket.inbox.typing_heard.load(Ordering::Relaxed);
        let problems = socket.inbox.problems();
        driven.failures.extend(
            problems
                .into_iter()
                .take(5)
                .map(|p| format!("person {index}'s socket: {p}")),
        );
        match Arc::try_unwrap(socket) {
            Ok(socket) => socket.close().await,
            Err(_) => driven
                .failures
                .push(format!("person {index}'s socket is still in use")),
        }
    }
    driven.fds_after = Some(server::settle(&base, server.pid).await?);
    driven.fd_kinds.push(format!(
        "after the load, settled: {:?}",
        server::fd_kinds(server.pid)
    ));
    Ok(())
}

/// The table, the plots and the verdict.
fn judge(settings: &Settings, driven: Driven, procs: &[ProcSample]) -> Report {
    let mut failures = driven.failures;
    let mut samples: Vec<OpSample> = driven
        .logs
        .iter()
        .flat_map(|log| log.samples.iter().cloned())
        .collect();
    let errors: usize = samples.iter().filter(|s| !s.ok).count();
    if errors > 0 {
        let words: Vec<&String> = driven.logs.iter().flat_map(|log| &log.errors).collect();
        failures.push(format!(
            "{errors} operation(s) failed; the first {}:\n    {}",
            words.len().min(20),
            words
                .iter()
                .take(20)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n    ")
        ));
    }
    let sent: usize = driven.logs.iter().map(|log| log.sent.len()).sum();
    samples.extend(driven.deliveries);
    let (load_start, load_end) = driven.load;
    let during_load: Vec<ProcSample> = procs
        .iter()
        .filter(|s| s.at_secs >= load_start && s.at_secs <= load_end)
        .copied()
        .collect();
    let from_load: Vec<&ProcSample> = procs.iter().filter(|s| s.at_secs >= load_start).collect();
    let rss = Span::of(from_load.iter().map(|s| s.rss_kib));
    let fds = Span {
        start: driven.fds_before.unwrap_or(0) as u64,
        peak: from_load.iter().map(|s| s.fds as u64).max().unwrap_or(0),
        end: driven.fds_after.unwrap_or(0) as u64,
    };
    if let (Some(before), Some(after)) = (driven.fds_before, driven.fds_after)
        && let Some(leak) = stats::fd_leak(before, after)
    {
        failures.push(format!(
            "{leak}; by kind:\n    {}",
            driven.fd_kinds.join("\n    ")
        ));
    }
    if driven.load.1 > driven.load.0
        && let Some(growth) = stats::memory_growth(&during_load)
    {
        failures.push(growth);
    }
    let title = format!("soak [{}], {} people", settings.label, settings.people);
    std::fs::create_dir_all(&settings.out_dir).expect("the output directory");
    for written in [
        plot::latency(&settings.out_dir, &title, &samples),
        plot::memory(&settings.out_dir, &title, procs, driven.load),
        plot::csv(&settings.out_dir, procs, &samples),
    ] {
        if let Err(e) = written {
            failures.push(format!("writing the plots: {e}"));
        }
    }
    let ops: usize = driven.logs.iter().map(|log| log.samples.len()).sum();
    let text = format!(
        "{title}, seed {} (replay: TAINA_SOAK_SEED={}): set-up {:.1} s ({} conversations), \
         load {:.1} s, {ops} operations ({:.1}/s), {sent} messages sent; the sockets heard {} \
         frames ({} of them typing)\n{}  plots and CSV in {}\n",
        settings.seed,
        settings.seed,
        driven.set_up.as_secs_f64(),
        driven.conversations,
        load_end - load_start,
        ops as f64 / (load_end - load_start).max(1.0),
        driven.frames_heard.0,
        driven.frames_heard.1,
        stats::table(&stats::summarize(&samples), rss, fds),
        settings.out_dir.display(),
    );
    Report { text, failures }
}
