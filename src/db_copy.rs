//! Moving a community that started on SQLite to PostgreSQL: every table copied into an empty
//! database migrated to the same schema, in one transaction (the target ends whole or empty), then
//! verified table by table — the row count and a checksum of every row's values, computed the same
//! way on both sides.
//!
//! The tables, their columns and their types come from the migrated target (both migration sets
//! give the same tables, `tests/storage_layer.rs`); generated columns (the message search vector)
//! are left for PostgreSQL to compute, identity sequences are moved past the copied values, tables
//! are filled parents before children (foreign keys), and a table that refers to itself (a
//! folder's parent) row by row from its roots.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use futures::TryStreamExt;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgPool;
use sqlx::{Connection, Row};
use tracing::instrument;

use crate::progress::Progress;
use crate::{Backend, Error, Result, Taina};

/// The schemas that hold Tainá's tables on PostgreSQL.
const SCHEMAS: [&str; 4] = ["public", "ybira", "jaci", "guara"];

/// Rows per `INSERT`.
const BATCH_ROWS: usize = 200;

/// One table copied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableCopied {
    /// The table.
    pub table: String,
    /// Its rows, on both sides.
    pub rows: u64,
    /// The checksum of its rows (SHA-256 over the sorted hashes of every row's values), on both
    /// sides.
    pub checksum: String,
}

/// What [`Taina::copy_database_to`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DatabaseCopied {
    /// Every table, in the order they were filled.
    pub tables: Vec<TableCopied>,
}

/// A column of the target, and how its values are read and written.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Float,
    Text,
}

#[derive(Debug, Clone)]
struct Table {
    schema: String,
    name: String,
    columns: Vec<Column>,
    /// Columns that refer to this same table (a folder's parent), with the column they refer to.
    self_references: Vec<(String, String)>,
    /// Identity columns (their sequences are moved past the copied values).
    identities: Vec<String>,
}

/// One value, as both databases hold it.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Integer(i64),
    Float(f64),
    Text(String),
}

impl Taina {
    /// Copies this SQLite instance's database into the empty PostgreSQL database at `target_url`
    /// and verifies it (see the module documentation). Run it with the server stopped: what is
    /// written meanwhile would not be copied.
    ///
    /// # Errors
    /// `Invalid` when this instance is already on PostgreSQL; `Conflict` when another process has
    /// the data open or the target is not empty; `Corrupt` when a table does not verify.
    #[instrument(skip_all)]
    pub async fn copy_database_to(
        &self,
        target_url: &str,
        progress: &dyn Progress,
    ) -> Result<DatabaseCopied> {
        if self.backend() != Backend::Sqlite {
            return Err(taina_core::Error::invalid(
                "database",
                "this community is already on PostgreSQL",
            )
            .into());
        }
        if !self.ybira().recovered().alone || self.other_instances_live().await? {
            return Err(taina_core::Error::conflict(
                "another process (a running server) has the data open: stop it first, so that \
                 nothing is written while the database is copied",
            )
            .into());
        }
        if !target_url.starts_with("postgres://") && !target_url.starts_with("postgresql://") {
            return Err(
                taina_core::Error::invalid("to", "the target must be a postgres:// URL").into(),
            );
        }
        refuse_non_empty(target_url).await?;
        migrate_target(self, target_url).await?;
        let pool = PgPool::connect(target_url).await?;
        let tables = target_tables(&pool).await?;
        let total = count_rows(self, &tables).await?;
        progress.start("rows", total, false);
        let mut sources = Vec::with_capacity(tables.len());
        let mut tx = pool.begin().await?;
        for table in &tables {
            let rows = read_table(self, table).await?;
            let rows = if table.self_references.is_empty() {
                rows
            } else {
                roots_first(table, rows)?
            };
            for batch in rows.chunks(BATCH_ROWS) {
                insert(&mut tx, table, batch).await?;
                progress.advance(batch.len() as u64);
            }
            for column in &table.identities {
                sqlx::query(&format!(
                    "SELECT setval(pg_get_serial_sequence('{}.{}', '{column}'), \
                     COALESCE(MAX({column}), 0) + 1, false) FROM {}.{}",
                    table.schema, table.name, table.schema, table.name
                ))
                .execute(&mut *tx)
                .await?;
            }
            sources.push(summarise(&table.name, &rows));
        }
        // Verified before the commit: a copy that does not verify leaves the target empty.
        for (table, source) in tables.iter().zip(&sources) {
            let copied = summarise(&table.name, &read_target(&mut tx, table).await?);
            if copied != *source {
                return Err(Error::Corrupt(format!(
                    "the copy of {} does not verify: {} rows ({}) in SQLite, {} rows ({}) in \
                     PostgreSQL",
                    table.name, source.rows, source.checksum, copied.rows, copied.checksum
                )));
            }
        }
        tx.commit().await?;
        pool.close().await;
        tracing::info!(tables = sources.len(), rows = total, "database copied");
        Ok(DatabaseCopied { tables: sources })
    }
}

/// Refuses a target that holds anything: tables that are not Tainá's, or any row in Tainá's (a
/// target migrated by an earlier copy that failed, and so rolled back, is empty and taken).
async fn refuse_non_empty(url: &str) -> Result<()> {
    let mut conn = sqlx::postgres::PgConnection::connect(url).await?;
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_schema::text, table_name::text FROM information_schema.tables \
         WHERE table_schema = ANY($1)",
    )
    .bind(SCHEMAS.to_vec())
    .fetch_all(&mut conn)
    .await?;
    let ours = tables.iter().any(|(_, name)| name == "_sqlx_migrations");
    let mut holds_something = !tables.is_empty() && !ours;
    if ours {
        for (schema, name) in tables.iter().filter(|(_, n)| n != "_sqlx_migrations") {
            let (rows,): (i64,) = sqlx::query_as(&format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM {schema}.{name} LIMIT 1) r"
            ))
            .fetch_one(&mut conn)
            .await?;
            holds_something |= rows > 0;
        }
    }
    conn.close().await?;
    if holds_something {
        return Err(taina_core::Error::conflict(
            "the target database is not empty; copy into an empty one",
        )
        .into());
    }
    Ok(())
}

/// Gives the target the same schema (the PostgreSQL migrations).
async fn migrate_target(taina: &Taina, url: &str) -> Result<()> {
    let mut config = taina.config().clone();
    config.database_url = Some(url.to_owned());
    config.postgres_connections = 2;
    let db = crate::db::Db::open(&config, taina.data_dir()).await?;
    db.close().await;
    Ok(())
}

/// The target's tables, parents before children, with their columns.
async fn target_tables(pool: &PgPool) -> Result<Vec<Table>> {
    let columns: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT c.table_schema::text, c.table_name::text, c.column_name::text, c.data_type::text, \
                c.is_generated::text, c.is_identity::text \
         FROM information_schema.columns c JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE t.table_type = 'BASE TABLE' AND c.table_schema = ANY($1) \
           AND c.table_name <> '_sqlx_migrations' \
         ORDER BY c.table_schema, c.table_name, c.ordinal_position",
    )
    .bind(SCHEMAS.to_vec())
    .fetch_all(pool)
    .await?;
    let references: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT cl.relname::text, a.attname::text, rc.relname::text, ra.attname::text \
         FROM pg_constraint k \
         JOIN pg_class cl ON cl.oid = k.conrelid JOIN pg_class rc ON rc.oid = k.confrelid \
         JOIN pg_namespace n ON n.oid = cl.relnamespace \
         JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] \
         JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1] \
         WHERE k.contype = 'f' AND n.nspname = ANY($1)",
    )
    .bind(SCHEMAS.to_vec())
    .fetch_all(pool)
    .await?;
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for (schema, name, column, data_type, generated, identity) in columns {
        let table = tables.entry(name.clone()).or_insert_with(|| Table {
            schema,
            name,
            columns: Vec::new(),
            self_references: Vec::new(),
            identities: Vec::new(),
        });
        if generated == "ALWAYS" {
            continue;
        }
        let kind = match data_type.as_str() {
            "bigint" | "integer" | "smallint" => Kind::Integer,
            "double precision" | "real" | "numeric" => Kind::Float,
            "text" | "character varying" => Kind::Text,
            other => {
                return Err(Error::Corrupt(format!(
                    "{}.{column} has a type the copy does not know: {other}",
                    table.name
                )));
            }
        };
        if identity == "YES" {
            table.identities.push(column.clone());
        }
        table.columns.push(Column { name: column, kind });
    }
    let mut parents: HashMap<String, HashSet<String>> = HashMap::new();
    for (table, column, referenced, referenced_column) in references {
        if table == referenced {
            if let Some(t) = tables.get_mut(&table) {
                t.self_references.push((column, referenced_column));
            }
        } else {
            parents.entry(table).or_default().insert(referenced);
        }
    }
    // Kahn's order: a table once every table it refers to is placed.
    let mut ordered = Vec::with_capacity(tables.len());
    let mut placed: HashSet<String> = HashSet::new();
    while placed.len() < tables.len() {
        let ready: Vec<String> = tables
            .keys()
            .filter(|name| !placed.contains(*name))
            .filter(|name| {
                parents
                    .get(*name)
                    .is_none_or(|p| p.iter().all(|p| placed.contains(p)))
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            return Err(Error::Corrupt(
                "the tables' foreign keys form a cycle; the copy cannot order them".into(),
            ));
        }
        for name in ready {
            placed.insert(name.clone());
            ordered.extend(tables.get(&name).cloned());
        }
    }
    Ok(ordered)
}

async fn count_rows(taina: &Taina, tables: &[Table]) -> Result<u64> {
    let mut total = 0u64;
    for table in tables {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {}", table.name))
            .fetch_one(taina.db().reader())
            .await?;
        total += u64::try_from(n).unwrap_or(0);
    }
    Ok(total)
}

fn column_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every row of a SQLite table, read as the target's column types.
async fn read_table(taina: &Taina, table: &Table) -> Result<Vec<Vec<Value>>> {
    let sql = format!("SELECT {} FROM {}", column_list(table), table.name);
    let mut rows = sqlx::query(&sql).fetch(taina.db().reader());
    let mut out = Vec::new();
    while let Some(row) = rows.try_next().await? {
        out.push(values_of(&row, &table.columns)?);
    }
    Ok(out)
}

/// Every row of the copied table, read back from PostgreSQL (inside the copy's transaction).
async fn read_target(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    table: &Table,
) -> Result<Vec<Vec<Value>>> {
    let sql = format!(
        "SELECT {} FROM {}.{}",
        column_list(table),
        table.schema,
        table.name
    );
    let mut rows = sqlx::query(&sql).fetch(&mut **tx);
    let mut out = Vec::new();
    while let Some(row) = rows.try_next().await? {
        out.push(values_of(&row, &table.columns)?);
    }
    Ok(out)
}

/// A row's values, read as the target's column types.
fn values_of<R>(row: &R, columns: &[Column]) -> Result<Vec<Value>>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
    f64: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
    String: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
{
    columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let value = match column.kind {
                Kind::Integer => row.try_get::<Option<i64>, _>(i)?.map(Value::Integer),
                Kind::Float => row.try_get::<Option<f64>, _>(i)?.map(Value::Float),
                Kind::Text => row.try_get::<Option<String>, _>(i)?.map(Value::Text),
            };
            Ok(value.unwrap_or(Value::Null))
        })
        .collect()
}

/// Orders a table's rows so that a row comes after the row it refers to (its parent), roots first.
fn roots_first(table: &Table, rows: Vec<Vec<Value>>) -> Result<Vec<Vec<Value>>> {
    let index = |name: &str| table.columns.iter().position(|c| c.name == name);
    let links: Vec<(usize, usize)> = table
        .self_references
        .iter()
        .filter_map(|(column, referenced)| Some((index(column)?, index(referenced)?)))
        .collect();
    let key = |row: &Vec<Value>, at: usize| match &row[at] {
        Value::Text(t) => Some(t.clone()),
        Value::Integer(n) => Some(n.to_string()),
        _ => None,
    };
    let mut children: HashMap<String, Vec<usize>> = HashMap::new();
    let mut queue: VecDeque<usize> = VecDeque::new();
    for (i, row) in rows.iter().enumerate() {
        let parent = links.iter().find_map(|(column, _)| key(row, *column));
        match parent {
            Some(parent) => children.entry(parent).or_default().push(i),
            None => queue.push_back(i),
        }
    }
    let mut order = Vec::with_capacity(rows.len());
    while let Some(i) = queue.pop_front() {
        order.push(i);
        for (_, referenced) in &links {
            if let Some(id) = key(&rows[i], *referenced)
                && let Some(kids) = children.remove(&id)
            {
                queue.extend(kids);
            }
        }
    }
    if order.len() != rows.len() {
        return Err(Error::Corrupt(format!(
            "{}: {} rows refer to a row that does not exist (or to themselves); run `taina fsck`",
            table.name,
            rows.len() - order.len()
        )));
    }
    let mut rows: Vec<Option<Vec<Value>>> = rows.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| rows[i].take()).collect())
}

async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    table: &Table,
    rows: &[Vec<Value>],
) -> Result<()> {
    let mut builder = sqlx::QueryBuilder::<sqlx::Postgres>::new(format!(
        "INSERT INTO {}.{} ({}) ",
        table.schema,
        table.name,
        column_list(table)
    ));
    builder.push_values(rows, |mut row, values| {
        for (value, column) in values.iter().zip(&table.columns) {
            match (value, column.kind) {
                (Value::Integer(n), _) => row.push_bind(*n),
                (Value::Float(f), _) => row.push_bind(*f),
                (Value::Text(t), _) => row.push_bind(t.clone()),
                (Value::Null, Kind::Integer) => row.push_bind(None::<i64>),
                (Value::Null, Kind::Float) => row.push_bind(None::<f64>),
                (Value::Null, Kind::Text) => row.push_bind(None::<String>),
            };
        }
    });
    builder.build().execute(&mut **tx).await?;
    Ok(())
}

/// A table's row count and checksum: SHA-256 over the sorted hashes of its rows, each the SHA-256
/// of its values (tagged and length-prefixed, so that no two rows hash alike by accident).
fn summarise(table: &str, rows: &[Vec<Value>]) -> TableCopied {
    let mut hashes: Vec<[u8; 32]> = rows
        .iter()
        .map(|row| {
            let mut hasher = Sha256::new();
            for value in row {
                match value {
                    Value::Null => hasher.update([0u8]),
                    Value::Integer(n) => {
                        hasher.update([1u8]);
                        hasher.update(n.to_le_bytes());
                    }
                    Value::Float(f) => {
                        hasher.update([2u8]);
                        hasher.update(f.to_bits().to_le_bytes());
                    }
                    Value::Text(t) => {
                        hasher.update([3u8]);
                        hasher.update((t.len() as u64).to_le_bytes());
                        hasher.update(t.as_bytes());
                    }
                }
            }
            hasher.finalize().into()
        })
        .collect();
    hashes.sort_unstable();
    let mut total = Sha256::new();
    for hash in &hashes {
        total.update(hash);
    }
    TableCopied {
        table: table.to_owned(),
        rows: rows.len() as u64,
        checksum: hex::encode(total.finalize()),
    }
}
