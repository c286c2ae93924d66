//! The storage layer itself: both migration sets give the same schema, SQLite is set up for
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
//! concurrent use, and concurrent writers queue instead of failing.

use std::collections::{BTreeMap, BTreeSet};

use taina::accounts::{NewInvite, RegisterRequest};
use taina::backend_tests;
use taina::core::{ErrorKind, Role};
use taina::testing::{PASSWORD, TestInstance};
use taina::{Backend, Taina};

/// The schemas of PostgreSQL that hold Tainá's tables.
const PG_SCHEMAS: &str = "('public', 'ybira', 'jaci', 'guara')";

/// Differences between the migration sets that are meant: (the backend that has the fact, how the
/// fact's line starts, why).
const ALLOWED_DIFFERENCES: &[(Backend, &str, &str)] = &[
    (
        Backend::Sqlite,
        "column guara_search",
        "SQLite searches messages through an FTS5 virtual table and its shadow tables",
    ),
    (
        Backend::Sqlite,
        "primary key guara_search",
        "the FTS5 shadow tables' own keys",
    ),
    (
        Backend::Postgres,
        "column messages.search_vector ",
        "PostgreSQL searches messages through a generated tsvector column instead of FTS5",
    ),
    (
        Backend::Postgres,
        "index messages (search_vector) using gin",
        "the GIN index over that tsvector column",
    ),
];

/// Every fact the migrations establish that both backends can state, one readable line each:
/// columns (type, nullability), column defaults, primary keys, indexes (columns in order, unique
/// or not, partial predicate) and foreign keys (columns, referenced table and columns, actions).
/// Names of indexes and constraints are left out: each engine names its own.
async fn schema(taina: &Taina) -> BTreeSet<String> {
    let mut facts = BTreeSet::new();
    let mut primary_keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    match taina.backend() {
        Backend::Sqlite => {
            let db = taina.db().reader();
            // Tainá's tables, as `m`.
            let tables = "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                 AND m.name <> '_sqlx_migrations'";
            let columns: Vec<(String, String, String, i64, Option<String>, i64)> =
                sqlx::query_as(&format!(
                    "SELECT m.name, p.name, lower(p.type), p.\"notnull\", p.dflt_value, p.pk \
                     FROM sqlite_master m JOIN pragma_table_info(m.name) p {tables} \
                     ORDER BY 1, 6, 2"
                ))
                .fetch_all(db)
                .await
                .unwrap();
            for (table, column, ty, not_null, default, pk) in columns {
                // SQLite's rowid alias must be declared INTEGER; it holds 64 bits, as BIGINT does.
                let ty = if ty == "integer" { "bigint".into() } else { ty };
                facts.insert(column_fact(&table, &column, &ty, not_null != 0));
                if let Some(default) = default.as_deref().and_then(normalise_default) {
                    facts.insert(format!("default {table}.{column} = {default}"));
                }
                if pk > 0 {
                    primary_keys.entry(table).or_default().push(column);
                }
            }
            // Primary keys come from the columns (an INTEGER PRIMARY KEY has no index of its own).
            let indexes: Vec<SqliteIndexColumn> = sqlx::query_as(&format!(
                "SELECT m.name, il.name, il.\"unique\", il.partial, ii.name, s.sql \
                     FROM sqlite_master m JOIN pragma_index_list(m.name) il \
                     JOIN pragma_index_info(il.name) ii \
                     LEFT JOIN sqlite_master s ON s.type = 'index' AND s.name = il.name \
                     {tables} AND il.origin <> 'pk' ORDER BY 1, 2, ii.seqno"
            ))
            .fetch_all(db)
            .await
            .unwrap();
            let mut grouped: BTreeMap<(String, String), Index> = BTreeMap::new();
            for (table, name, unique, partial, column, sql) in indexes {
                let index = grouped.entry((table, name.clone())).or_insert_with(|| {
                    let predicate = (partial != 0).then(|| {
                        let sql = sql.as_deref().unwrap_or_default();
                        sqlite_predicate(sql)
                            .unwrap_or_else(|| panic!("partial index {name} without WHERE: {sql}"))
                    });
                    Index {
                        unique: unique != 0,
                        method: "btree".into(),
                        predicate,
                        columns: Vec::new(),
                    }
                });
                index
                    .columns
                    .push(column.unwrap_or_else(|| "<expression>".into()));
            }
            for ((table, _), index) in grouped {
                facts.insert(index.fact(&table));
            }
            let keys: Vec<SqliteForeignKeyColumn> = sqlx::query_as(&format!(
                "SELECT m.name, f.id, f.\"from\", f.\"table\", f.\"to\", f.on_delete, \
                     f.on_update FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
                     {tables} ORDER BY 1, 2, f.seq"
            ))
            .fetch_all(db)
            .await
            .unwrap();
            let mut grouped: BTreeMap<(String, i64), ForeignKey> = BTreeMap::new();
            for (table, id, from, target, to, on_delete, on_update) in keys {
                let key = grouped.entry((table, id)).or_insert_with(|| ForeignKey {
                    target,
                    on_delete,
                    on_update,
                    ..ForeignKey::default()
                });
                key.columns.push(from);
                key.target_columns.extend(to);
            }
            for ((table, _), mut key) in grouped {
                // `REFERENCES t` without columns means t's primary key.
                if key.target_columns.is_empty() {
                    key.target_columns = primary_keys[&key.target].clone();
                }
                facts.insert(key.fact(&table));
            }
        }
        Backend::Postgres => {
            let db = taina.db().reader();
            let columns: Vec<(String, String, String, i64, Option<String>)> =
                sqlx::query_as(&format!(
                    "SELECT table_name::text, column_name::text, data_type::text, \
                     CASE WHEN is_nullable = 'NO' THEN 1::bigint ELSE 0::bigint END, \
                     column_default::text FROM information_schema.columns \
                     WHERE table_schema IN {PG_SCHEMAS} AND table_name <> '_sqlx_migrations' \
                     ORDER BY 1, 2"
                ))
                .fetch_all(db)
                .await
                .unwrap();
            for (table, column, ty, not_null, default) in columns {
                facts.insert(column_fact(&table, &column, &ty, not_null != 0));
                if let Some(default) = default.as_deref().and_then(normalise_default) {
                    facts.insert(format!("default {table}.{column} = {default}"));
                }
            }
            let indexes: Vec<(String, i64, i64, String, Option<String>, String)> =
                sqlx::query_as(&format!(
                    "SELECT c.relname::text, ix.indisunique::int::bigint, \
                     ix.indisprimary::int::bigint, am.amname::text, \
                     pg_get_expr(ix.indpred, ix.indrelid)::text, \
                     array_to_string(ARRAY( \
                         SELECT COALESCE(a.attname::text, '<expression>') \
                         FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
                         LEFT JOIN pg_attribute a \
                             ON a.attrelid = ix.indrelid AND a.attnum = k.attnum \
                         ORDER BY k.ord), ',') \
                     FROM pg_index ix JOIN pg_class c ON c.oid = ix.indrelid \
                     JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_am am ON am.oid = i.relam \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname IN {PG_SCHEMAS} AND c.relname <> '_sqlx_migrations'"
                ))
                .fetch_all(db)
                .await
                .unwrap();
            for (table, unique, primary, method, predicate, columns) in indexes {
                let columns: Vec<String> = columns.split(',').map(str::to_owned).collect();
                if primary != 0 {
                    primary_keys.insert(table, columns);
                    continue;
                }
                let index = Index {
                    unique: unique != 0,
                    method,
                    predicate: predicate.as_deref().map(normalise_predicate),
                    columns,
                };
                facts.insert(index.fact(&table));
            }
            let action = |column: &str| {
                format!(
                    "CASE {column} WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' \
                     WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' \
                     WHEN 'd' THEN 'SET DEFAULT' END"
                )
            };
            let keys: Vec<(String, String, String, String, String, String, String)> =
                sqlx::query_as(&format!(
                    "SELECT c.relname::text, con.conname::text, a.attname::text, \
                     fc.relname::text, fa.attname::text, {}, {} \
                     FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     JOIN pg_class fc ON fc.oid = con.confrelid \
                     CROSS JOIN LATERAL unnest(con.conkey, con.confkey) \
                         WITH ORDINALITY AS k(attnum, fattnum, ord) \
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
                     JOIN pg_attribute fa \
                         ON fa.attrelid = con.confrelid AND fa.attnum = k.fattnum \
                     WHERE con.contype = 'f' AND n.nspname IN {PG_SCHEMAS} ORDER BY 1, 2, k.ord",
                    action("con.confdeltype"),
                    action("con.confupdtype"),
                ))
                .fetch_all(db)
                .await
                .unwrap();
            let mut grouped: BTreeMap<(String, String), ForeignKey> = BTreeMap::new();
            for (table, name, from, target, to, on_delete, on_update) in keys {
                let key = grouped.entry((table, name)).or_insert_with(|| ForeignKey {
                    target,
                    on_delete,
                    on_update,
                    ..ForeignKey::default()
                });
                key.columns.push(from);
                key.target_columns.push(to);
            }
            for ((table, _), key) in grouped {
                facts.insert(key.fact(&table));
            }
        }
    }
    for (table, columns) in primary_keys {
        facts.insert(format!("primary key {table} ({})", columns.join(", ")));
    }
    facts
}

/// (table, index, unique, partial, column, the index's SQL): one column of an index.
type SqliteIndexColumn = (String, String, i64, i64, Option<String>, Option<String>);

/// (table, key id, column, referenced table, referenced column, on delete, on update): one column
/// of a foreign key.
type SqliteForeignKeyColumn = (String, i64, String, String, Option<String>, String, String);

fn column_fact(table: &str, column: &str, ty: &str, not_null: bool) -> String {
    let null = if not_null { "not null" } else { "null" };
    format!("column {table}.{column} {ty} {null}")
}

/// An index as both engines describe it.
struct Index {
    unique: bool,
    method: String,
    predicate: Option<String>,
    columns: Vec<String>,
}

impl Index {
    fn fact(&self, table: &str) -> String {
        let mut fact = format!(
            "{}index {table} ({})",
            if self.unique { "unique " } else { "" },
            self.columns.join(", ")
        );
        if self.method != "btree" {
            fact.push_str(&format!(" using {}", self.method));
        }
        if let Some(predicate) = &self.predicate {
            fact.push_str(&format!(" where {predicate}"));
        }
        fact
    }
}

/// A foreign key as both engines describe it.
#[derive(Default)]
struct ForeignKey {
    columns: Vec<String>,
    target: String,
    target_columns: Vec<String>,
    on_delete: String,
    on_update: String,
}

impl ForeignKey {
    fn fact(&self, table: &str) -> String {
        format!(
            "foreign key {table} ({}) references {} ({}) on delete {} on update {}",
            self.columns.join(", "),
            self.target,
            self.target_columns.join(", "),
            self.on_delete.to_lowercase(),
            self.on_update.to_lowercase(),
        )
    }
}

/// A partial index's predicate, from SQLite's `CREATE INDEX … WHERE …` text.
fn sqlite_predicate(sql: &str) -> Option<String> {
    let normal = normalise_predicate(sql);
    let at = normal.find(" where ")?;
    Some(normal[at + " where ".len()..].to_owned())
}

/// A predicate in one spelling: lower case, no parentheses (PostgreSQL adds them around every
/// term), single spaces. Enough to compare the plain conjunctions the migrations use.
fn normalise_predicate(predicate: &str) -> String {
    predicate
        .to_lowercase()
        .replace(['(', ')'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A column default in one spelling: PostgreSQL's cast after a literal (`'x'::text`) and
/// parentheses around it (`(-1)`) dropped; no default and `NULL` both mean none.
fn normalise_default(default: &str) -> Option<String> {
    let mut default = default.trim();
    if default.starts_with('\'') {
        // The quoted literal ends at a quote that is not doubled.
        let bytes = default.as_bytes();
        let mut end = 1;
        while end < bytes.len() {
            if bytes[end] == b'\'' {
                if bytes.get(end + 1) == Some(&b'\'') {
                    end += 2;
                    continue;
                }
                break;
            }
            end += 1;
        }
        let rest = &default[(end + 1).min(default.len())..];
        if rest.is_empty() || rest.starts_with("::") {
            default = &default[..(end + 1).min(default.len())];
        }
    } else if let Some((value, _cast)) = default.split_once("::") {
        default = value;
    }
    while default.starts_with('(') && default.ends_with(')') {
        default = default[1..default.len() - 1].trim();
    }
    (!default.eq_ignore_ascii_case("null")).then(|| default.to_owned())
}

#[test]
fn defaults_and_predicates_are_compared_in_one_spelling() {
    assert_eq!(normalise_default("'x'::text").as_deref(), Some("'x'"));
    assert_eq!(normalise_default("'x'").as_deref(), Some("'x'"));
    assert_eq!(
        normalise_default("'it''s'::text").as_deref(),
        Some("'it''s'")
    );
    assert_eq!(normalise_default("0").as_deref(), Some("0"));
    assert_eq!(normalise_default("'-1'::integer").as_deref(), Some("'-1'"));
    assert_eq!(normalise_default("(-1)").as_deref(), Some("-1"));
    assert_eq!(normalise_default("NULL::text"), None);
    assert_eq!(normalise_default("NULL"), None);
    assert_ne!(normalise_default("'0'"), normalise_default("'1'::text"));
    assert_eq!(
        normalise_predicate("((failed_at IS NULL) AND (finished_at IS NULL))"),
        sqlite_predicate(
            "CREATE INDEX idx_jobs_due ON jobs (run_at)\n    WHERE failed_at IS NULL AND finished_at IS NULL"
        )
        .unwrap()
    );
    assert_ne!(
        normalise_predicate("(deleted_at IS NULL)"),
        normalise_predicate("(deleted_at IS NOT NULL)")
    );
}

/// The facts only one side has, less the allowed differences; fails if an allowed difference no
/// longer occurs, so the list stays true.
fn unexpected<'a>(
    backend: Backend,
    ours: &'a BTreeSet<String>,
    theirs: &'a BTreeSet<String>,
) -> Vec<&'a str> {
    let only: Vec<&str> = ours.difference(theirs).map(String::as_str).collect();
    let allowed: Vec<_> = ALLOWED_DIFFERENCES
        .iter()
        .filter(|(b, _, _)| *b == backend)
        .collect();
    for (_, start, why) in &allowed {
        assert!(
            only.iter().any(|fact| fact.starts_with(start)),
            "allowed difference \"{start}\" ({why}) no longer occurs on {backend:?}: remove it"
        );
    }
    only.into_iter()
        .filter(|fact| !allowed.iter().any(|(_, start, _)| fact.starts_with(start)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_migration_sets_give_the_same_schema() {
    let sqlite = TestInstance::new(Backend::Sqlite).await;
    let postgres = TestInstance::new(Backend::Postgres).await;
    let a = schema(&sqlite.taina).await;
    let b = schema(&postgres.taina).await;
    for kind in [
        "column ",
        "default ",
        "primary key ",
        "index ",
        "unique index ",
        "foreign key ",
    ] {
        let count = a.iter().filter(|f| f.starts_with(kind)).count();
        assert!(
            count > 5,
            "expected more than 5 facts \"{kind}…\", got {a:#?}"
        );
    }
    let only_sqlite = unexpected(Backend::Sqlite, &a, &b);
    let only_postgres = unexpected(Backend::Postgres, &b, &a);
    let lines = |facts: &[&str]| {
        facts
            .iter()
            .map(|fact| format!("\n    {fact}"))
            .collect::<String>()
    };
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "the migration sets differ (fix with a new migration, or allow it in \
         ALLOWED_DIFFERENCES with a reason)\n  only in SQLite:{}\n  only in PostgreSQL:{}",
        lines(&only_sqlite),
        lines(&only_postgres),
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
            Err(e) => assert_eq!(e.kind(), ErrorKind::Forbidden, "{e}"),
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
