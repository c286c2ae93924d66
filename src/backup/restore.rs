//! Restoring a backup into an empty data directory (and, for PostgreSQL, an empty database), step
//! by step: the manifest and the target checked, every checksum verified before a byte is written,
//! the database and the files written, and the restored instance opened, checked for integrity and
//! given back its thumbnails' work when the backup held none.

use std::path::{Path, PathBuf};

use sqlx::Connection;
use tracing::instrument;

use super::files::{copy_file, hash_file, upload_blob};
use super::manifest::{Entry, MANIFEST, Manifest, read_manifest};
use super::snapshot::pg_tool;
use super::{RestoreReport, invalid};
use crate::progress::Progress;
use crate::storage::{BlobStore, StorageLocation};
use crate::{Config, Error, Result, Taina};

/// Restores the backup in `source` into the empty data directory (and, for PostgreSQL, the empty
/// database) that `config` names. Every checksum is verified before anything is written; the
/// restored instance is then checked for integrity.
#[instrument(skip_all, fields(source = %source.display()))]
pub async fn restore(
    config: Config,
    source: &Path,
    progress: &dyn Progress,
) -> Result<RestoreReport> {
    let manifest = read_manifest(source)?.ok_or_else(|| {
        invalid(
            "backup",
            format!("{} holds no {MANIFEST}", source.display()),
        )
    })?;
    let postgres = config
        .database_url
        .as_deref()
        .is_some_and(|u| u.starts_with("postgres"));
    let target_backend = if postgres { "postgres" } else { "sqlite" };
    if manifest.backend != target_backend {
        return Err(invalid(
            "backup",
            format!(
                "this is a {} backup; restore it into a {} instance",
                manifest.backend, manifest.backend
            ),
        ));
    }
    let sqlite_file = check_empty(&config, postgres).await?;
    let total =
        manifest.database.size_bytes + manifest.files.iter().map(|e| e.size_bytes).sum::<u64>();
    verify_all(&manifest, source, total, progress).await?;
    let bytes = write_all(
        &config,
        &manifest,
        source,
        &sqlite_file,
        postgres,
        total,
        progress,
    )
    .await?;
    reopen(config, &manifest, bytes).await
}

/// Refuses to overwrite anything: the data directory, the storage (and the PostgreSQL database)
/// must be empty. Answers where the SQLite database goes.
async fn check_empty(config: &Config, postgres: bool) -> Result<PathBuf> {
    let sqlite_file = sqlite_file(config)?;
    if sqlite_file.exists() {
        return Err(taina_core::Error::conflict(
            "the data directory is not empty; restore into an empty one",
        )
        .into());
    }
    // Looked at without creating anything: a refused restore leaves no trace.
    let (stored, url) = match StorageLocation::parse(config.storage_url.as_deref())? {
        StorageLocation::DataDir => {
            let dir = config.data_dir.join("storage");
            (has_files(&dir), dir.display().to_string())
        }
        StorageLocation::Folder(dir) => (has_files(&dir), dir.display().to_string()),
        StorageLocation::S3 { .. } => {
            let blobs = BlobStore::open(config, &config.data_dir)?;
            (!blobs.list("").await?.is_empty(), blobs.url().to_owned())
        }
    };
    if stored {
        return Err(taina_core::Error::conflict(format!(
            "the storage ({url}) is not empty; restore into an empty one"
        ))
        .into());
    }
    if postgres {
        let url = config.database_url.clone().unwrap_or_default();
        let mut conn = sqlx::postgres::PgConnection::connect(&url).await?;
        let (tables,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema IN ('public', 'ybira', 'jaci', 'guara')",
        )
        .fetch_one(&mut conn)
        .await?;
        conn.close().await?;
        if tables > 0 {
            return Err(taina_core::Error::conflict(
                "the database is not empty; restore into an empty one",
            )
            .into());
        }
    }
    Ok(sqlite_file)
}

/// Verifies every checksum before a byte is written.
async fn verify_all(
    manifest: &Manifest,
    source: &Path,
    total: u64,
    progress: &dyn Progress,
) -> Result<()> {
    progress.start("verify", total, true);
    verify(
        &manifest.database,
        &source.join(&manifest.database.path),
        progress,
    )
    .await?;
    for entry in &manifest.files {
        verify(entry, &source.join("storage").join(&entry.path), progress).await?;
    }
    Ok(())
}

/// Writes the database, then the files; answers the files' bytes.
async fn write_all(
    config: &Config,
    manifest: &Manifest,
    source: &Path,
    sqlite_file: &Path,
    postgres: bool,
    total: u64,
    progress: &dyn Progress,
) -> Result<u64> {
    let data_dir = &config.data_dir;
    std::fs::create_dir_all(data_dir)?;
    progress.start("restore", total, true);
    if postgres {
        let pg_restore = pg_tool("pg_restore")?;
        let output = tokio::process::Command::new(&pg_restore)
            .arg("--no-owner")
            .arg("--exit-on-error")
            .arg(format!(
                "--dbname={}",
                config.database_url.clone().unwrap_or_default()
            ))
            .arg(source.join(&manifest.database.path))
            .output()
            .await?;
        if !output.status.success() {
            return Err(Error::Tool(format!(
                "pg_restore failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        progress.advance(manifest.database.size_bytes);
    } else {
        copy_file(&source.join(&manifest.database.path), sqlite_file, progress).await?;
    }
    let blobs = BlobStore::open(config, data_dir)?;
    let mut bytes = 0;
    for entry in &manifest.files {
        bytes += upload_blob(
            &source.join("storage").join(&entry.path),
            &blobs,
            &entry.path,
            progress,
        )
        .await?;
    }
    Ok(bytes)
}

/// Opens the restored instance (migrating a backup of an older version), checks it, and queues
/// missing thumbnails.
async fn reopen(mut config: Config, manifest: &Manifest, bytes: u64) -> Result<RestoreReport> {
    config.job_workers = 0;
    let taina = Taina::open(config).await?;
    let integrity = taina
        .ybira()
        .check_integrity(crate::ybira::IntegrityOptions {
            deep: false,
            repair: false,
        })
        .await?;
    let mut previews_queued = 0;
    if !manifest.thumbnails {
        for community in taina.operator().communities().await? {
            let admin = taina
                .operator()
                .acting_admin(Some(&community.community.slug))
                .await?;
            previews_queued += taina.jaci().regenerate_all(&admin).await?;
        }
    }
    taina.close().await;
    Ok(RestoreReport {
        files: manifest.files.len() as u64,
        bytes,
        integrity,
        previews_queued,
    })
}

/// Whether a directory holds any file.
fn has_files(dir: &Path) -> bool {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(entry.path()),
                _ => return true,
            }
        }
    }
    false
}

/// Where the instance keeps its SQLite database: `database_url` if it names a file, else
/// `<data_dir>/taina.db` (as the database opens it).
fn sqlite_file(config: &Config) -> Result<PathBuf> {
    match config.database_url.as_deref() {
        Some(url) if url.starts_with("sqlite:") => {
            let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
            Ok(options.get_filename().to_path_buf())
        }
        _ => Ok(config.data_dir.join("taina.db")),
    }
}

/// Checks one file of a backup against its manifest entry.
async fn verify(entry: &Entry, path: &Path, progress: &dyn Progress) -> Result<()> {
    let (size, sha256) = hash_file(path, progress)
        .await
        .map_err(|e| invalid("backup", format!("{} cannot be read: {e}", entry.path)))?;
    if size != entry.size_bytes || sha256 != entry.sha256 {
        return Err(invalid(
            "backup",
            format!(
                "{} does not match its checksum: the backup is damaged",
                entry.path
            ),
        ));
    }
    Ok(())
}
