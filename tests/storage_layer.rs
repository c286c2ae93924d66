//! The storage layer itself: both migration sets give the same tables, SQLite is set up for
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
//! concurrent use, and concurrent writers queue instead of failing.

use std::collections::BTreeSet;

use taina::accounts::{NewInvite, RegisterRequest};
use taina::backend_tests;
use taina::core::{ErrorKind, Role};
use taina::testing::{PASSWORD, TestInstance};
use taina::{Backend, Taina};

/// (table, column, type, not null) for every table the migrations create.
async fn columns(taina: &Taina) -> BTreeSet<(String, String, String, bool)> {
    let rows: Vec<(String, String, String, i64)> = match taina.backend() {
        Backend::Sqlite => sqlx::query_as(
            "SELECT m.name, p.name, lower(p.type), p.\"notnull\" FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p WHERE m.type = 'table' \
             AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations' ORDER BY 1, 2",
        )
        .fetch_all(taina.db().reader())
        .await
        .unwrap(),
        Backend::Postgres => sqlx::query_as(
            "SELECT table_name::text, column_name::text, data_type::text, \
             CASE WHEN is_nullable = 'NO' THEN 1::bigint ELSE 0::bigint END \
             FROM information_schema.columns \
             WHERE table_schema IN ('public', 'ybira', 'jaci', 'guara') \
             AND table_name <> '_sqlx_migrations' ORDER BY 1, 2",
        )
        .fetch_all(taina.db().reader())
        .await
        .unwrap(),
    };
    // Full-text search is each engine's own: SQLite's FTS5 tables, PostgreSQL's tsvector column.
    let search_index = |table: &str, column: &str| {
        table.starts_with("guara_search") || (table == "messages" && column == "search_vector")
    };
    rows.into_iter()
        .filter(|(t, c, _, _)| !search_index(t, c))
        // SQLite's rowid alias must be declared INTEGER; it holds 64 bits, as BIGINT does.
        .map(|(t, c, ty, nn)| {
            let ty = if ty == "integer" {
                "bigint".to_owned()
            } else {
                ty
            };
            (t, c, ty, nn != 0)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_migration_sets_give_the_same_tables() {
    let sqlite = TestInstance::new(Backend::Sqlite).await;
    let postgres = TestInstance::new(Backend::Postgres).await;
    let a = columns(&sqlite.taina).await;
    let b = columns(&postgres.taina).await;
    assert!(a.len() > 20, "expected the schema, got {a:?}");
    let only_sqlite: Vec<_> = a.difference(&b).collect();
    let only_postgres: Vec<_> = b.difference(&a).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "schemas differ:\n only in SQLite: {only_sqlite:?}\n only in PostgreSQL: {only_postgres:?}"
    );
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_foreign_keys() {
    let t = TestInstance::new(Backend::Sqlite).await;
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(t.taina.db().reader())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let (fk,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
        .fetch_one(t.taina.db().reader())
        .await
        .unwrap();
    assert_eq!(fk, 1);
    let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous")
        .fetch_one(t.taina.db().reader())
        .await
        .unwrap();
    assert_eq!(sync, 1, "NORMAL");
    assert!(t.dir.path().join("data/taina.db").exists());
    // Read connections refuse writes.
    let write = sqlx::query("DELETE FROM users")
        .execute(t.taina.db().reader())
        .await;
    assert!(write.is_err());
}

#[tokio::test]
async fn postgres_keeps_services_in_their_own_schemas() {
    let t = TestInstance::new(Backend::Postgres).await;
    let schemas: Vec<(String,)> = sqlx::query_as(
        "SELECT nspname::text FROM pg_namespace WHERE nspname IN ('public','ybira','jaci','guara') ORDER BY 1",
    )
    .fetch_all(t.taina.db().reader())
    .await
    .unwrap();
    let names: Vec<&str> = schemas.iter().map(|(s,)| s.as_str()).collect();
    assert_eq!(names, ["guara", "jaci", "public", "ybira"]);
}

/// Many people registering at once with one multi-use invite: every write succeeds (queued, not
/// "database is locked"), and the invite is never used more often than allowed.
async fn concurrent_registrations_queue_and_respect_the_invite(t: TestInstance) {
    let admin = t.setup().await;
    let admin = t.actor(&admin).await;
    let invite = t
        .taina
        .accounts()
        .create_invite(
            &admin,
            NewInvite {
                role: Role::Member,
                max_uses: 12,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let taina = t.taina.clone();
        let token = invite.token.clone();
        tasks.push(tokio::spawn(async move {
            taina
                .accounts()
                .register(RegisterRequest {
                    invite: Some(token),
                    email: format!("person{i}@example.org"),
                    password: PASSWORD.into(),
                    display_name: format!("Person {i}"),
                    ..Default::default()
                })
                .await
        }));
    }
    let mut joined = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => joined += 1,
            Err(e) => assert_eq!(e.kind(), ErrorKind::Invalid, "{e}"),
        }
    }
    assert_eq!(joined, 12);
    assert_eq!(t.taina.accounts().members(&admin).await.unwrap().len(), 13);
}

/// Two admins demoting each other at the same moment cannot leave the community without an admin.
async fn concurrent_demotions_keep_an_admin(t: TestInstance) {
    let ana = t.setup().await;
    let ana = t.actor(&ana).await;
    let (bia, _) = t.join(&ana, "bia@example.org", Role::Admin).await;
    for _ in 0..5 {
        let a = {
            let taina = t.taina.clone();
            let (actor, target) = (ana.clone(), ana.user_id.clone());
            tokio::spawn(async move {
                taina
                    .accounts()
                    .set_role(&actor, &target, Role::Member)
                    .await
            })
        };
        let b = {
            let taina = t.taina.clone();
            let (actor, target) = (bia.clone(), bia.user_id.clone());
            tokio::spawn(async move {
                taina
                    .accounts()
                    .set_role(&actor, &target, Role::Member)
                    .await
            })
        };
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        assert!(a.is_err() || b.is_err(), "both admins stepped down");
        let admins = t
            .taina
            .accounts()
            .members(&bia)
            .await
            .or(t.taina.accounts().members(&ana).await)
            .unwrap()
            .into_iter()
            .filter(|u| u.role == Role::Admin)
            .count();
        assert_eq!(admins, 1);
        // Restore both as admins for the next round (whoever is still admin promotes the other).
        let (admin, other) = if a.is_err() {
            (&ana, &bia)
        } else {
            (&bia, &ana)
        };
        t.taina
            .accounts()
            .set_role(admin, &other.user_id, Role::Admin)
            .await
            .unwrap();
    }
}

backend_tests!(
    concurrent_registrations_queue_and_respect_the_invite,
    concurrent_demotions_keep_an_admin
);
