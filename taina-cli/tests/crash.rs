//! Crash consistency: `taina serve` killed with SIGKILL at random moments while clients work, and
//! started again on the same data each time; afterwards nothing acknowledged is lost, nothing
//! half-done is visible, and nothing is left over.
//!
//! Five people (the admin and four members) each do a seeded mix of operations over real HTTP:
//! multipart uploads of random bytes (some repeating earlier content, so deduplication is
//! exercised), photo uploads from `tests/fixtures/photos`, resumable (tus) uploads in pieces with
//! and without checksums (some kept half sent and resumed with HEAD and PATCH only after the next
//! restart), replacements (versions, pruned beyond three), copies, moves, trash, purges, album
//! additions and removals, and messages (some with attachments) sent with a client key. Meanwhile
//! the killer waits 100–1500 ms, SIGKILLs the server, starts it again (a new port; clients follow),
//! and repeats, until at least `TAINA_CRASH_KILLS` kills (default 20) and `TAINA_CRASH_OPS`
//! operations (default 1,000) are done.
//!
//! Each client keeps a ledger of what the server acknowledged (a 2xx answer received whole). An
//! operation whose answer the kill cut off may or may not have happened: once the next server
//! runs, the client looks, requires that it happened whole or not at all (a file present with
//! other content, a photo upload that left a file but no photo, a tus upload that lost
//! acknowledged bytes, are failures), and the ledger takes the outcome. Messages are sent again
//! with the same client key until acknowledged.
//!
//! After the last restart (the server then stays up) the checks in `crash/checks.rs` prove:
//! - the job queue drains (no job waiting, leased or failed) and every photo has its thumbnails;
//! - every file of every ledger is there, in its folder, with its name, and downloads with its
//!   SHA-256; its versions are the ledger's; the trash is the ledger's; purged files are gone; no
//!   file is visible that no operation made; the timeline and albums are the ledger's;
//! - every acknowledged message is there exactly once with the `seq` it was given, `seq` runs
//!   1, 2, 3... with no gap in every conversation, no client key appears twice, attachments hold
//!   the content they were sent with;
//! - the database's blobs are exactly the distinct contents the ledgers keep alive (files live
//!   and in the trash, their versions, attachments), and the community's used bytes (the API, as
//!   the admin) are their sum exactly, plus the reservations of resumable uploads whose creation
//!   was cut off (no client can know their URL); no plain upload is left in flight;
//! - the storage directory holds nothing the database does not name, but the quarantine;
//! - `taina fsck --deep` is clean.
//!
//! The seed is printed; `TAINA_CRASH_SEED=<n>` replays the same random draws (each client's
//! choices, contents and sizes, the killer's delays); what a kill cuts off still depends on timing,
//! so a replay comes close rather than repeating the run exactly. Runs on SQLite and on a fresh
//! PostgreSQL database from `TAINA_TEST_POSTGRES_URL` (which must be set: the test fails without).
//! The two runs take turns; each takes about half a minute in a debug build on two cores, plus up to
//! a minute when the job queue does not drain.

#[path = "crash/checks.rs"]
mod checks;
#[path = "crash/client.rs"]
mod client;
#[path = "crash/http.rs"]
mod http;
#[path = "crash/model.rs"]
mod model;
#[path = "crash/rng.rs"]
mod rng;
#[path = "crash/server.rs"]
mod server;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{Value, json};

use client::{Client, Fixture};
use http::{Api, Reply};
use model::OpStats;
use rng::Rng;
use server::{Instance, Shared};

/// People working at once: the admin and four members.
const CLIENTS: usize = 5;

/// The two backends take turns: each run wants the machine to itself.
static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn sqlite_survives_sigkill_under_load() {
    run_backend("sqlite", None);
}

#[test]
fn postgres_survives_sigkill_under_load() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let database_url = runtime.block_on(taina::testing::fresh_postgres_database());
    run_backend("postgres", Some(database_url));
}

/// How big a run is, from the environment.
#[derive(Debug, Clone, Copy)]
struct Settings {
    seed: u64,
    kills: u64,
    ops: u64,
}

fn number(var: &str) -> Option<u64> {
    let raw = std::env::var(var).ok()?;
    let raw = raw.trim();
    let parsed = match raw.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => raw.parse(),
    };
    Some(parsed.unwrap_or_else(|e| panic!("{var}={raw:?} is not a number: {e}")))
}

fn settings() -> Settings {
    let seed = number("TAINA_CRASH_SEED").unwrap_or_else(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the clock is after 1970");
        Rng::new(now.as_nanos() as u64 ^ u64::from(std::process::id())).next_u64()
    });
    Settings {
        seed,
        kills: number("TAINA_CRASH_KILLS").unwrap_or(20),
        ops: number("TAINA_CRASH_OPS").unwrap_or(1000),
    }
}

/// Fixture photos larger than this are left out: in a debug build their previews take longer than
/// the longest time between kills (`jolla.jpg`: about 2 s), so their job could never finish under
/// fire, and after 8 attempts lost with their worker the queue gives a job up by design.
const FIXTURE_MAX_BYTES: u64 = 256 * 1024;

/// The JPEG fixtures small enough to be made previews of between two kills.
fn fixtures() -> Vec<Fixture> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/photos");
    let mut photos: Vec<Fixture> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/photos")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() <= FIXTURE_MAX_BYTES))
        .map(|p| Fixture {
            name: p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            bytes: std::fs::read(&p).expect("read a fixture photo"),
        })
        .collect();
    photos.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(!photos.is_empty(), "no JPEG fixtures in {}", dir.display());
    photos
}

/// A request during set-up (the server is not killed yet): it must succeed.
async fn must(
    api: &Api,
    what: &str,
    build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
) -> Value {
    let sent = api.send(what, build).await;
    match &sent.reply {
        Reply::Done { .. } => sent.reply.json().unwrap_or_default(),
        other => panic!("set-up: {what}: {other:?}"),
    }
}

/// The community, its people (each with two folders and an album), a group of everyone and a
/// direct conversation between each person and the next.
async fn set_up(shared: &Arc<Shared>, http: &reqwest::Client, seed: u64) -> Vec<Client> {
    let photos = Arc::new(fixtures());
    let anonymous = Api::new(http.clone(), shared.clone(), String::new(), "set-up".into());
    let admin = must(&anonymous, "setup", |http, url| {
        http.post(format!("{url}api/v1/setup")).json(&json!({
            "community_name": "Vila Crash",
            "email": "c0@example.org",
            "password": taina::testing::PASSWORD,
            "display_name": "Client 0",
        }))
    })
    .await;
    let admin_token = admin["token"].as_str().expect("a token").to_owned();
    let admin_api = Api::new(
        http.clone(),
        shared.clone(),
        admin_token.clone(),
        "client 0".into(),
    );
    let invite = must(&admin_api, "invite", |http, url| {
        http.post(format!("{url}api/v1/community/invites"))
            .json(&json!({"role": "member", "max_uses": CLIENTS - 1}))
    })
    .await;
    let invite = invite["token"]
        .as_str()
        .expect("an invite token")
        .to_owned();
    let mut clients = vec![Client::new(
        0,
        admin_api,
        admin["user"]["id"].as_str().expect("a user id").to_owned(),
        Rng::derived(seed, 1),
        photos.clone(),
    )];
    for index in 1..CLIENTS {
        let registered = must(&anonymous, "register", |http, url| {
            http.post(format!("{url}api/v1/auth/register"))
                .json(&json!({
                    "invite": invite,
                    "email": format!("c{index}@example.org"),
                    "password": taina::testing::PASSWORD,
                    "display_name": format!("Client {index}"),
                }))
        })
        .await;
        let api = Api::new(
            http.clone(),
            shared.clone(),
            registered["token"].as_str().expect("a token").to_owned(),
            format!("client {index}"),
        );
        clients.push(Client::new(
            index,
            api,
            registered["user"]["id"]
                .as_str()
                .expect("a user id")
                .to_owned(),
            Rng::derived(seed, 1 + index as u64),
            photos.clone(),
        ));
    }
    for client in &mut clients {
        for name in ["A", "B"] {
            let folder = must(&client.api, "folder", |http, url| {
                http.post(format!("{url}api/v1/folders"))
                    .json(&json!({"name": name, "parent_id": "root"}))
            })
            .await;
            client
                .folders
                .push(folder["id"].as_str().expect("a folder id").to_owned());
        }
        let album_name = format!("Album {}", client.index);
        let album = must(&client.api, "album", |http, url| {
            http.post(format!("{url}api/v1/albums"))
                .json(&json!({"name": album_name}))
        })
        .await;
        client.album_id = album["id"].as_str().expect("an album id").to_owned();
    }
    let others: Vec<String> = clients[1..].iter().map(|c| c.user_id.clone()).collect();
    let group = must(&clients[0].api, "group", |http, url| {
        http.post(format!("{url}api/v1/conversations"))
            .json(&json!({"type": "group", "name": "Everyone", "participant_ids": others}))
    })
    .await;
    let group = group["id"].as_str().expect("a conversation id").to_owned();
    for client in &mut clients {
        client.conversations.push(group.clone());
    }
    for index in 0..CLIENTS {
        let other = (index + 1) % CLIENTS;
        let other_id = clients[other].user_id.clone();
        let direct = must(&clients[index].api, "direct", |http, url| {
            http.post(format!("{url}api/v1/conversations/direct/{other_id}"))
        })
        .await;
        let direct = direct["id"].as_str().expect("a conversation id").to_owned();
        clients[index].conversations.push(direct.clone());
        clients[other].conversations.push(direct);
    }
    clients
}

fn run_backend(backend: &str, database_url: Option<String>) {
    let _turn = ONE_RUN_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let settings = settings();
    println!(
        "crash [{backend}]: seed {} (replay with TAINA_CRASH_SEED={}), at least {} kills and {} \
         operations, {CLIENTS} clients",
        settings.seed, settings.seed, settings.kills, settings.ops
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let instance = Instance {
        data_dir: dir.path().join("data"),
        database_url,
        log_dir: dir.path().join("logs"),
    };
    std::fs::create_dir_all(&instance.log_dir).expect("the log directory");
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let first = instance.serve(0).expect("the first server starts");
    let shared = Arc::new(Shared::new(first.url.clone()));
    let http = http::http_client();
    let clients = runtime.block_on(set_up(&shared, &http, settings.seed));
    let set_up_time = started.elapsed();

    let under_fire = Instant::now();
    let killer = {
        let (instance, shared) = (instance.clone(), shared.clone());
        std::thread::spawn(move || {
            server::killer(
                &instance,
                first,
                &shared,
                Rng::derived(settings.seed, 0),
                settings.kills,
                settings.ops,
            )
        })
    };
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|client| runtime.spawn(client.run()))
        .collect();
    let clients: Vec<Client> = runtime.block_on(async {
        let mut done = Vec::new();
        for task in tasks {
            done.push(task.await.expect("a client task"));
        }
        done
    });
    let (last, kills) = killer.join().expect("the killer thread");
    let fire_time = under_fire.elapsed();

    let checking = Instant::now();
    let counts = match &last {
        Some(_) if !shared.aborted.load(std::sync::atomic::Ordering::SeqCst) => {
            Some(runtime.block_on(checks::run(&instance, &shared, &clients, &http)))
        }
        _ => None,
    };
    let check_time = checking.elapsed();
    if let Some(last) = last {
        last.kill();
    }

    let mut totals: BTreeMap<&str, OpStats> = BTreeMap::new();
    for client in &clients {
        for (kind, stats) in &client.ledger.stats {
            let total = totals.entry(kind).or_default();
            total.tried += stats.tried;
            total.acknowledged += stats.acknowledged;
            total.refused += stats.refused;
            total.cut_done += stats.cut_done;
            total.cut_not_done += stats.cut_not_done;
        }
    }
    println!(
        "crash [{backend}]: {} operations, {} kills (restarts took {:?} on average); set-up {:?}, \
         under fire {:?}, checks {:?}",
        shared.ops_done.load(std::sync::atomic::Ordering::SeqCst),
        kills.kills,
        kills.restarting / u32::try_from(kills.kills.max(1)).unwrap_or(1),
        set_up_time,
        fire_time,
        check_time
    );
    println!("  operation        tried  acked refused cut:done cut:not-done");
    for (kind, s) in &totals {
        println!(
            "  {kind:<15} {:>6} {:>6} {:>7} {:>8} {:>12}",
            s.tried, s.acknowledged, s.refused, s.cut_done, s.cut_not_done
        );
    }
    if let Some(counts) = &counts {
        println!("  checked: {counts:?}");
    }
    let failures = shared.failures();
    if !failures.is_empty() {
        let kept = dir.keep();
        panic!(
            "crash [{backend}] with seed {} (replay: TAINA_CRASH_SEED={}): {} failure(s); data \
             and server logs kept in {}:\n- {}",
            settings.seed,
            settings.seed,
            failures.len(),
            kept.display(),
            failures.join("\n- ")
        );
    }
}

#[test]
fn base64_is_standard() {
    assert_eq!(client::base64(b""), "");
    assert_eq!(client::base64(b"f"), "Zg==");
    assert_eq!(client::base64(b"fo"), "Zm8=");
    assert_eq!(client::base64(b"foo"), "Zm9v");
    assert_eq!(client::base64(b"true"), "dHJ1ZQ==");
}

#[test]
fn the_rng_follows_its_seed() {
    let mut a = Rng::derived(42, 3);
    let mut b = Rng::derived(42, 3);
    assert_eq!(a.bytes(100), b.bytes(100));
    assert_ne!(Rng::derived(42, 4).next_u64(), a.next_u64());
}
