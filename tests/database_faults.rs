//! The database misbehaving under a running instance:
//!
//! - **PostgreSQL cuts every connection** (what the server sees when PostgreSQL restarts, fails
//!   over, or an administrator terminates its sessions): the instance reconnects by itself, every
//!   write it acknowledged before is still there, and writes go on, with no restart of Tainá.
//! - **A SQLite database locked by another process** (a backup tool, `sqlite3 .backup`, a long
//!   writer): reads go on being served at once (WAL: readers never wait for the writer), and a
//!   write waits for the lock (the busy timeout) and then succeeds instead of failing.
//!
//! Each is a property of one back end, so each runs on that one.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::Stream;
use sqlx::Connection;
use taina::Backend;
use taina::core::{Actor, ConversationId};
use taina::guara::{NewMessage, Position};
use taina::testing::{TestInstance, World};
use taina::ybira::{Location, NewUpload, OnConflict};

fn body(bytes: Vec<u8>) -> impl Stream<Item = std::io::Result<Bytes>> + Send + Unpin {
    futures::stream::iter(vec![Ok(Bytes::from(bytes))])
}

fn upload(name: &str) -> NewUpload {
    NewUpload {
        location: Location::MyFiles,
        name: name.into(),
        declared_size: None,
        on_conflict: OnConflict::Rename,
    }
}

fn text(s: &str) -> NewMessage {
    NewMessage {
        text: s.into(),
        ..NewMessage::default()
    }
}

/// The texts of a conversation's latest messages, in `seq` order.
async fn texts(w: &World, actor: &Actor, conversation: &ConversationId) -> Vec<String> {
    let page =
        w.t.taina
            .guara()
            .history(actor, conversation, Position::Latest, Some(100))
            .await
            .unwrap();
    page.messages.into_iter().map(|m| m.text).collect()
}

/// The names in `actor`'s own files.
async fn my_files(w: &World, actor: &Actor) -> Vec<String> {
    let page =
        w.t.taina
            .ybira()
            .list(actor, &Location::MyFiles, None, Some(1000))
            .await
            .unwrap();
    page.items.into_iter().map(|item| item.name).collect()
}

/// Runs `f` until it succeeds, for at most 10 s: right after its connections were cut, a request
/// may still meet one of them dying (it fails, as it would during any restart); what matters is
/// that the instance recovers without being restarted.
async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = taina::Result<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match f().await {
            Ok(value) => return value,
            Err(e) if Instant::now() < deadline => {
                eprintln!("{what}: {e} (retrying)");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{what} never recovered: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_cut_under_the_instance_come_back_with_nothing_lost() {
    let w = TestInstance::new(Backend::Postgres).await.world().await;
    let taina = &w.t.taina;
    let chat = taina
        .guara()
        .direct(&w.ana, &w.bia.user_id)
        .await
        .unwrap()
        .id;
    let mut sent = Vec::new();
    for n in 0..5 {
        let message = format!("before {n}");
        taina
            .guara()
            .send(&w.ana, &chat, text(&message))
            .await
            .unwrap();
        sent.push(message);
    }
    taina
        .ybira()
        .upload(&w.ana, upload("before.txt"), body(b"acknowledged".to_vec()))
        .await
        .unwrap();

    // Every connection the instance holds is terminated by the server (SQLSTATE 57P01, as in a
    // restart or a fail-over).
    let url = w.t.config.database_url.clone().unwrap();
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let (cut,): (i64,) = sqlx::query_as(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(cut > 0, "the instance had connections to cut");
    admin.close().await.unwrap();

    // Reads come back, with everything acknowledged before the cut.
    let seen = eventually("history", || async {
        taina
            .guara()
            .history(&w.bia, &chat, Position::Latest, Some(100))
            .await
    })
    .await;
    let seen: Vec<String> = seen.messages.into_iter().map(|m| m.text).collect();
    assert_eq!(seen, sent, "every acknowledged message, once, in order");
    assert_eq!(my_files(&w, &w.ana).await, ["before.txt"]);

    // Writes go on, on the reconnected pool.
    for n in 0..5 {
        let message = format!("after {n}");
        eventually("send", || async {
            taina.guara().send(&w.ana, &chat, text(&message)).await
        })
        .await;
        sent.push(message);
    }
    eventually("upload", || async {
        taina
            .ybira()
            .upload(&w.ana, upload("after.txt"), body(b"after".to_vec()))
            .await
    })
    .await;
    assert_eq!(texts(&w, &w.bia, &chat).await, sent);
    assert_eq!(my_files(&w, &w.ana).await, ["after.txt", "before.txt"]);
    let seqs: Vec<i64> = taina
        .guara()
        .history(&w.bia, &chat, Position::Latest, Some(100))
        .await
        .unwrap()
        .messages
        .iter()
        .map(|m| m.seq)
        .collect();
    assert!(
        seqs.windows(2).all(|pair| pair[1] == pair[0] + 1),
        "no gap and no repeat in seq: {seqs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_database_locked_by_another_process_keeps_serving_reads() {
    let w = TestInstance::new(Backend::Sqlite).await.world().await;
    let taina = &w.t.taina;
    let chat = taina
        .guara()
        .direct(&w.ana, &w.bia.user_id)
        .await
        .unwrap()
        .id;
    taina
        .guara()
        .send(&w.ana, &chat, text("before the lock"))
        .await
        .unwrap();
    taina
        .ybira()
        .upload(&w.ana, upload("kept.txt"), body(b"kept".to_vec()))
        .await
        .unwrap();

    // Another program takes the database's write lock and keeps it (as a backup tool copying
    // the file, or a long transaction, would).
    let file = w.t.config.data_dir.join("taina.db");
    assert!(file.exists(), "the database is {}", file.display());
    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    sqlx::query("SELECT COUNT(*) FROM messages")
        .execute(&mut other)
        .await
        .unwrap();

    // Reads are answered while the lock is held (were they waiting for it, they would fail at
    // the busy timeout: it is never released while they run).
    assert_eq!(texts(&w, &w.bia, &chat).await, ["before the lock"]);
    assert_eq!(my_files(&w, &w.ana).await, ["kept.txt"]);

    // A write waits for the lock and then goes through: it is not refused.
    let write = tokio::spawn({
        let taina = taina.clone();
        let ana = w.ana.clone();
        let chat = chat.clone();
        async move {
            taina
                .guara()
                .send(&ana, &chat, text("after the lock"))
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !write.is_finished(),
        "the write waited for the other writer"
    );
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    other.close().await.unwrap();
    write.await.unwrap().unwrap();
    assert_eq!(
        texts(&w, &w.bia, &chat).await,
        ["before the lock", "after the lock"]
    );
}
