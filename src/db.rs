//! The database: SQLite (embedded default) or PostgreSQL, picked at run time from the URL.
//!
//! All repository code is written once against sqlx's `Any` driver with portable SQL (`$1`
//! placeholders, `RETURNING`, `ON CONFLICT`, integers for times). Only connection set-up and the two
//! migration sets know which database is underneath.
//!
//! SQLite runs in WAL mode with one writer connection, whose transactions start with
//! `BEGIN IMMEDIATE` so that writers queue on the busy timeout instead of failing with "database is
//! locked", beside a small pool of read-only connections. PostgreSQL keeps each service's tables in
//! its own schema (`public`, `ybira`, `jaci`, `guara`) and puts them all on the `search_path`, so
//! the same unqualified table names work on both.

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyPool, ConnectOptions, Executor, Transaction};

use crate::{Config, Error, Result};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a SQLite connection waits for the write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Which database is underneath.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default.
    Sqlite,
    /// PostgreSQL, for larger installations.
    Postgres,
}

impl Backend {
    /// The backend's name: `sqlite` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Connection pools: one for writes, one for reads (the same pool on PostgreSQL).
#[derive(Debug, Clone)]
pub struct Db {
    backend: Backend,
    writer: AnyPool,
    reader: AnyPool,
    /// The SQLite file, or the PostgreSQL URL.
    location: String,
}

impl Db {
    /// Connects to the configured database, creating the SQLite file if needed, and applies the
    /// migrations. Opening an already migrated database again is harmless.
    pub async fn open(config: &Config, data_dir: &Path) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let db = match config.database_url.as_deref() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Self::open_postgres(url, config.postgres_connections).await?
            }
            Some(url) if url.starts_with("sqlite:") => {
                let options: SqliteConnectOptions = url.parse()?;
                Self::open_sqlite(options.get_filename(), config.sqlite_read_connections).await?
            }
            Some(url) => {
                return Err(Error::Config(format!(
                    "database_url must start with postgres:// or sqlite:, not {}",
                    crate::config::redact_url(url)
                )));
            }
            None => {
                Self::open_sqlite(&data_dir.join("taina.db"), config.sqlite_read_connections)
                    .await?
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn open_sqlite(path: &Path, read_connections: u32) -> Result<Db> {
        let url = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .to_url_lossy();
        let options = AnyConnectOptions::from_url(&url)?;
        let writer = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    sqlite_connection_pragmas(conn, false).await
                })
            })
            .connect_with(options.clone())
            .await?;
        // Make sure the file exists in WAL mode before readers open it.
        writer.acquire().await?;
        let reader = AnyPoolOptions::new()
            .max_connections(read_connections.max(1))
            .after_connect(|conn, _| Box::pin(sqlite_connection_pragmas(conn, true)))
            .connect_with(options)
            .await?;
        Ok(Db {
            backend: Backend::Sqlite,
            writer,
            reader,
            location: path.display().to_string(),
        })
    }

    async fn open_postgres(url: &str, connections: u32) -> Result<Db> {
        let options = AnyConnectOptions::from_url(
            &url.parse()
                .map_err(|e| Error::Config(format!("database_url is not a valid URL: {e}")))?,
        )?;
        let pool = AnyPoolOptions::new()
            .max_connections(connections.max(2))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("SET search_path TO public, ybira, jaci, guara")
                        .await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Db {
            backend: Backend::Postgres,
            writer: pool.clone(),
            reader: pool,
            location: url.to_owned(),
        })
    }

    async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.writer).await?;
        Ok(())
    }

    /// Which database is underneath.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where the database is: the SQLite file's path, or the PostgreSQL URL (with its password:
    /// for tools such as `pg_dump`, never for logs).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The pool for reads.
    pub fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on SQLite: the write lock is taken up front).
    pub async fn begin(&self) -> Result<Transaction<'static, Any>> {
        let tx = match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        };
        Ok(tx)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

async fn sqlite_connection_pragmas(
    conn: &mut sqlx::AnyConnection,
    read_only: bool,
) -> Result<(), sqlx::Error> {
    conn.execute("PRAGMA synchronous = NORMAL").await?;
    conn.execute("PRAGMA foreign_keys = ON").await?;
    let busy = format!("PRAGMA busy_timeout = {}", SQLITE_BUSY_TIMEOUT.as_millis());
    conn.execute(busy.as_str()).await?;
    if read_only {
        conn.execute("PRAGMA query_only = ON").await?;
    }
    Ok(())
}

/// Parses an id read from the database (any of the typed ids, by its `parse`); a malformed one
/// means corrupt data, not bad input.
pub(crate) fn parse_id<T>(
    s: &str,
    parse: fn(&str) -> Result<T, taina_core::id::IdError>,
) -> Result<T> {
    parse(s).map_err(|e| Error::Corrupt(format!("stored id {s:?}: {e}")))
}

/// Whether a database error is a unique-constraint violation (a duplicate).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
