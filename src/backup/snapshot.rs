//! The database snapshot a backup holds — SQLite through `VACUUM INTO`, PostgreSQL through
//! `pg_dump` sharing an exported snapshot — with the list of blobs that snapshot names, so
//! database and blobs agree; and finding PostgreSQL's client tools.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::{Connection, Row};

use super::files::hash_file;
use super::manifest::Entry;
use crate::{Error, Result, Taina};

/// Finds a PostgreSQL tool (`pg_dump`, `pg_restore`) on the `PATH` or in Debian's versioned
/// directories.
pub(super) fn pg_tool(name: &str) -> Result<PathBuf> {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    let mut versioned: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|d| d.path().join("bin").join(name))
        .filter(|p| p.is_file())
        .collect();
    versioned.sort();
    versioned.pop().ok_or_else(|| {
        Error::Config(format!(
            "{name} was not found; install PostgreSQL's client tools (Debian: postgresql-client)"
        ))
    })
}

/// `(path, size, sha256)` of every blob a database names.
pub(super) type BlobList = Vec<(String, i64, String)>;

impl Taina {
    pub(super) async fn snapshot_sqlite(&self, dest: &Path) -> Result<(Entry, BlobList)> {
        let name = "taina.db";
        let partial = dest.join("taina.db.partial");
        let target = partial.clone();
        let _ = std::fs::remove_file(&partial);
        // A connection of its own: VACUUM INTO reads one consistent snapshot while the server's
        // writer goes on (WAL).
        let source = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(self.db().location())
            .read_only(true)
            .busy_timeout(Duration::from_secs(30));
        let mut conn = sqlx::sqlite::SqliteConnection::connect_with(&source).await?;
        let quoted = partial.display().to_string().replace('\'', "''");
        sqlx::query(&format!("VACUUM INTO '{quoted}'"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let mut snapshot = sqlx::sqlite::SqliteConnection::connect_with(
            &sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&target)
                .read_only(true),
        )
        .await?;
        let blobs: BlobList =
            sqlx::query_as("SELECT path, size_bytes, sha256 FROM blobs ORDER BY path")
                .fetch_all(&mut snapshot)
                .await?;
        snapshot.close().await?;
        let (size, sha256) = hash_file(&target, &crate::progress::Silent).await?;
        Ok((
            Entry {
                path: name.to_owned(),
                size_bytes: size,
                sha256,
            },
            blobs,
        ))
    }

    pub(super) async fn snapshot_postgres(&self, dest: &Path) -> Result<(Entry, BlobList)> {
        let name = "database.pgdump";
        let target = dest.join("database.pgdump.partial");
        let pg_dump = pg_tool("pg_dump")?;
        let mut tx = self.db().reader().begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let snapshot: String = sqlx::query("SELECT pg_export_snapshot()")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let (url, password) = split_password(self.db().location());
        let mut command = tokio::process::Command::new(&pg_dump);
        command
            .arg("--format=custom")
            .arg("--no-owner")
            .arg(format!("--snapshot={snapshot}"))
            .arg(format!("--file={}", target.display()))
            .arg(format!("--dbname={url}"));
        if let Some(password) = password {
            // Not on the command line, where other users of the machine could read it.
            command.env("PGPASSWORD", password);
        }
        let output = command.output().await?;
        if !output.status.success() {
            return Err(Error::Tool(format!(
                "pg_dump failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let blobs: BlobList =
            sqlx::query_as("SELECT path, size_bytes, sha256 FROM blobs ORDER BY path")
                .fetch_all(&mut *tx)
                .await?;
        tx.commit().await?;
        let (size, sha256) = hash_file(&target, &crate::progress::Silent).await?;
        Ok((
            Entry {
                path: name.to_owned(),
                size_bytes: size,
                sha256,
            },
            blobs,
        ))
    }
}

/// A PostgreSQL URL without its password, and the password.
fn split_password(url: &str) -> (String, Option<String>) {
    if let (Some(scheme_end), Some(at)) = (url.find("://"), url.rfind('@'))
        && at > scheme_end
    {
        let userinfo = &url[scheme_end + 3..at];
        if let Some((user, password)) = userinfo.split_once(':') {
            let bare = format!("{}{user}{}", &url[..scheme_end + 3], &url[at..]);
            return (bare, Some(password.to_owned()));
        }
    }
    (url.to_owned(), None)
}

/// The extension a database snapshot has while it is being written (`taina.db.partial`).
pub(super) fn partial_extension(name: &str) -> String {
    let extension = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{extension}.partial")
}
