//! Benchmark: the soak, long. 100 people (`TAINA_SOAK_PEOPLE`) on one `taina serve` for 10
//! minutes (`TAINA_SOAK_SECONDS`), on SQLite by default or on PostgreSQL with
//! `TAINA_SOAK_DATABASE_URL` (an administrative URL: a fresh database is made on that server for
//! the run, and dropped after it unless a check failed). The same driver as the short test
//! (`tests/soak/`): each person registered once, one WebSocket open, an operation every 1–3 s
//! from the seeded mix (folders, timeline, multipart and tus uploads, photos, ranged downloads,
//! messages, history, read marks, typing, search).
//!
//! Prints the table of per-operation count, errors and p50/p95/p99, the server's RSS and open
//! file descriptors at the start, peak and end, and the checks' verdict (errors, dropped sockets,
//! lost messages, leaked descriptors, memory that keeps growing); writes
//! `target/soak/latency.svg`, `target/soak/memory.svg`, `samples.csv` and `operations.csv`.
//! Exits with status 1 when a check failed; timings are never judged.
//!
//! Run: `cargo bench --workspace --bench soak` (a release build of the server: Cargo builds the
//! `taina` binary with the bench profile and names it in `CARGO_BIN_EXE_taina`).

#[path = "../tests/soak/mod.rs"]
mod soak;

use std::path::Path;

use sqlx::Connection as _;

/// A fresh database on the PostgreSQL server `admin_url` names: its URL, and its name.
async fn fresh_database(admin_url: &str) -> (String, String) {
    let name = format!("taina_soak_{}", std::process::id());
    let mut connection = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to TAINA_SOAK_DATABASE_URL");
    sqlx::Executor::execute(
        &mut connection,
        format!("DROP DATABASE IF EXISTS \"{name}\"").as_str(),
    )
    .await
    .expect("drop an old soak database");
    sqlx::Executor::execute(
        &mut connection,
        format!("CREATE DATABASE \"{name}\"").as_str(),
    )
    .await
    .expect("create the soak database");
    let _ = connection.close().await;
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    (format!("{server}/{name}{query}"), name)
}

/// Drops the run's database (the server is gone by then; whoever else is connected is let go).
async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(mut connection) = sqlx::PgConnection::connect(admin_url).await {
        let _ = sqlx::Executor::execute(
            &mut connection,
            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str(),
        )
        .await;
        let _ = connection.close().await;
    }
}

fn main() {
    // `cargo bench` passes `--bench`; no other argument is taken.
    let people = std::env::var("TAINA_SOAK_PEOPLE")
        .ok()
        .map(|raw| raw.trim().parse().expect("TAINA_SOAK_PEOPLE is a number"))
        .unwrap_or(100);
    let admin_url = std::env::var("TAINA_SOAK_DATABASE_URL").ok();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let database = admin_url
        .as_deref()
        .map(|url| runtime.block_on(fresh_database(url)));
    let label = if database.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory");
    let settings = soak::Settings {
        label: label.to_owned(),
        binary: env!("CARGO_BIN_EXE_taina").into(),
        database_url: database.as_ref().map(|(url, _)| url.clone()),
        people,
        load: soak::load_from_env(600),
        seed: soak::seed_from_env(),
        out_dir: target.join("soak"),
    };
    println!(
        "soak [{label}]: {people} people for {} s against {}",
        settings.load.as_secs(),
        settings.binary.display()
    );
    let report = soak::run(&settings);
    if let (Some(admin_url), Some((_, name))) = (&admin_url, &database) {
        if report.failures.is_empty() {
            runtime.block_on(drop_database(admin_url, name));
        } else {
            println!("the run's database {name} is kept");
        }
    }
    println!("{}", report.text);
    if report.failures.is_empty() {
        println!("checks: no error, no dropped socket, no lost message, no leak, memory flat");
    } else {
        println!("checks FAILED:\n- {}", report.failures.join("\n- "));
        std::process::exit(1);
    }
}
