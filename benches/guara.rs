//! Benchmark: Guará's messaging, on SQLite and, when `TAINA_TEST_POSTGRES_URL` is set, PostgreSQL.
//!
//! - send-to-receive latency (p50, p99) through the realtime bus: a group of 100 people, each with
//!   a live subscription, one of them sending at a steady 50 messages a second; measured from the
//!   start of `send` (validation, the transaction, the commit) to each subscriber's receipt; on
//!   PostgreSQL also with every subscription on a second instance (events through
//!   `LISTEN/NOTIFY`);
//! - sustained messages per second: one sender, then four senders in four conversations at once;
//! - the unread count and the conversation list for a person in 200 conversations.
//!
//! Run: `cargo bench --bench guara`. Prints numbers; asserts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark program: failing loudly is right.

use std::time::{Duration, Instant};

use taina::core::{Actor, Role, UserId};
use taina::guara::{GuaraEvent, NewMessage};
use taina::testing::TestInstance;
use taina::{Backend, Taina};

const SUBSCRIBERS: usize = 100;
const LATENCY_MESSAGES: usize = 300;
const RATE_PER_SECOND: u64 = 50;
const SUSTAINED_MESSAGES: usize = 2_000;
const CONVERSATIONS: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn text(s: String) -> NewMessage {
    NewMessage {
        text: s,
        ..NewMessage::default()
    }
}

/// People inserted straight into the database (the benchmark is about messages, not sign-ups).
async fn people(t: &TestInstance, admin: &Actor, n: usize) -> Vec<Actor> {
    let mut tx = t.taina.db().begin().await.unwrap();
    let mut actors = Vec::new();
    for i in 0..n {
        let id = taina::random::new_id(UserId::from_random);
        sqlx::query(
            "INSERT INTO users (id, community_id, email, display_name, password_hash, role, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, 'x', 'member', 0, 0)",
        )
        .bind(id.as_str())
        .bind(admin.community_id.as_str())
        .bind(format!("p{i}-{id}@example.org"))
        .bind(format!("Person {i}"))
        .execute(&mut *tx)
        .await
        .unwrap();
        actors.push(Actor {
            user_id: id,
            community_id: admin.community_id.clone(),
            role: Role::Member,
            session_id: None,
        });
    }
    tx.commit().await.unwrap();
    actors
}

/// Send-to-receive latency with every subscription on `listeners` (the sending instance itself,
/// or another instance of the same PostgreSQL database).
async fn latency(t: &TestInstance, admin: &Actor, listeners: &Taina, label: &str) {
    let g = t.taina.guara();
    let crowd = people(t, admin, SUBSCRIBERS - 1).await;
    let ids: Vec<UserId> = crowd.iter().map(|a| a.user_id.clone()).collect();
    let group = g.create_group(admin, "Bench", &ids).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(i64, Instant)>();
    let mut tasks = Vec::new();
    for actor in crowd.iter().chain(std::iter::once(admin)) {
        let mut feed = listeners.subscribe(actor).await.unwrap();
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(item) = feed.next().await {
                if let Some(GuaraEvent::MessageCreated(m)) = item.guara()
                    && m.sender_id.is_some()
                    && tx.send((m.seq, Instant::now())).is_err()
                {
                    return;
                }
            }
        }));
    }
    drop(tx);
    let mut started = std::collections::HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / RATE_PER_SECOND));
    for n in 0..LATENCY_MESSAGES {
        tick.tick().await;
        let at = Instant::now();
        let sent = g
            .send(admin, &group.id, text(format!("message {n}")))
            .await
            .unwrap();
        started.insert(sent.seq, at);
    }
    let mut latencies = Vec::with_capacity(LATENCY_MESSAGES * SUBSCRIBERS);
    while latencies.len() < LATENCY_MESSAGES * SUBSCRIBERS {
        let (seq, got) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("deliveries stopped")
            .unwrap();
        latencies.push(got - started[&seq]);
    }
    for task in tasks {
        task.abort();
    }
    latencies.sort();
    println!(
        "  send-to-receive{label}, {SUBSCRIBERS} subscribers at {RATE_PER_SECOND} msg/s ({} deliveries): \
         p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
    );
}

async fn sustained(t: &TestInstance, admin: &Actor) {
    let g = t.taina.guara();
    let others = people(t, admin, 4).await;
    let dm = g.direct(admin, &others[0].user_id).await.unwrap();
    let start = Instant::now();
    for n in 0..SUSTAINED_MESSAGES {
        g.send(admin, &dm.id, text(format!("steady {n}")))
            .await
            .unwrap();
    }
    let one = SUSTAINED_MESSAGES as f64 / start.elapsed().as_secs_f64();
    let mut senders = Vec::new();
    for other in &others {
        let conversation = g.direct(other, &admin.user_id).await.unwrap().id;
        let taina = t.taina.clone();
        let other = other.clone();
        senders.push(tokio::spawn(async move {
            for n in 0..SUSTAINED_MESSAGES / 4 {
                taina
                    .guara()
                    .send(&other, &conversation, text(format!("parallel {n}")))
                    .await
                    .unwrap();
            }
        }));
    }
    let start = Instant::now();
    for s in senders {
        s.await.unwrap();
    }
    let four = SUSTAINED_MESSAGES as f64 / start.elapsed().as_secs_f64();
    println!(
        "  sustained sends: {one:.0} msg/s from one sender, {four:.0} msg/s from four at once"
    );
}

async fn unread(t: &TestInstance, admin: &Actor) {
    let g = t.taina.guara();
    let me = people(t, admin, 1).await.remove(0);
    let friends = people(t, admin, 4).await;
    for n in 0..CONVERSATIONS {
        let friend = &friends[n % friends.len()];
        let group = g
            .create_group(
                friend,
                &format!("Group {n}"),
                std::slice::from_ref(&me.user_id),
            )
            .await
            .unwrap();
        for m in 0..5 {
            g.send(friend, &group.id, text(format!("{n}/{m}")))
                .await
                .unwrap();
        }
    }
    let measure = |name: &'static str, runs: Vec<Duration>| {
        let mut runs = runs;
        runs.sort();
        println!(
            "  {name}, {CONVERSATIONS} conversations: p50 {:.2} ms, p99 {:.2} ms",
            percentile(&runs, 0.5).as_secs_f64() * 1e3,
            percentile(&runs, 0.99).as_secs_f64() * 1e3,
        );
    };
    let mut runs = Vec::new();
    for _ in 0..200 {
        let start = Instant::now();
        let total = g.unread_total(&me).await.unwrap();
        runs.push(start.elapsed());
        assert_eq!(total, (CONVERSATIONS * 6) as i64);
    }
    measure("unread total", runs);
    let mut runs = Vec::new();
    for _ in 0..50 {
        let start = Instant::now();
        let list = g.conversations(&me).await.unwrap();
        runs.push(start.elapsed());
        assert_eq!(list.len(), CONVERSATIONS);
    }
    measure("conversation list with unread counts", runs);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut backends = vec![Backend::Sqlite];
    if std::env::var(taina::testing::POSTGRES_URL_VAR).is_ok() {
        backends.push(Backend::Postgres);
    }
    for backend in backends {
        println!("{}:", backend.name());
        let t = TestInstance::new(backend).await;
        let admin = t.actor(&t.setup().await).await;
        latency(&t, &admin, &t.taina, "").await;
        if backend == Backend::Postgres {
            // A second instance of the same database and storage: subscribers there, the sender
            // here, every delivery through LISTEN/NOTIFY.
            let other = Taina::open(t.config.clone()).await.unwrap();
            latency(&t, &admin, &other, " across two instances").await;
            other.close().await;
        }
        sustained(&t, &admin).await;
        unread(&t, &admin).await;
    }
}
