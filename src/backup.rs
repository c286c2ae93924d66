//! Backups taken while the server runs, and restoring them into an empty data directory.
//!
//! A backup directory holds the database (`taina.db`, a SQLite `VACUUM INTO` snapshot, or
//! `database.pgdump`, a `pg_dump` in its custom format), the blobs under `storage/` at the same
//! paths as in the data directory, and `manifest.json` naming every file with its size and
//! SHA-256. The blob list comes from the database snapshot itself (for PostgreSQL, from a
//! transaction sharing `pg_dump`'s exported snapshot), so database and blobs agree; while a backup
//! runs, freed blobs are not deleted (the `delete_blob` job waits for it), so every blob the
//! snapshot names is still there to copy.
//!
//! Backing up into an earlier backup copies only blobs it does not hold yet (blobs never change:
//! a path names one content) and removes those no longer used. Thumbnails are optional: they
//! can be made again, and a restore without them queues that work.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Row};
use taina_core::Timestamp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing::instrument;

use crate::progress::Progress;
use crate::{Backend, Config, Error, Result, Taina};

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The manifest format this version writes and reads.
pub const FORMAT: u32 = 1;
/// A backup in progress marks the data directory with a file of its own named with this prefix
/// (refreshed while it runs), so that concurrent backups do not end each other's mark.
const LOCK_PREFIX: &str = "backup-running-";
/// A lock older than this is a crashed backup's, and ignored.
const LOCK_FRESH: Duration = Duration::from_secs(10 * 60);

/// What a backup holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// The manifest format ([`FORMAT`]).
    pub format: u32,
    /// When the backup was taken.
    pub created_at: Timestamp,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The database file, with its checksum.
    pub database: Entry,
    /// Every stored file, by path under `storage/`.
    pub files: Vec<Entry>,
    /// Whether thumbnails are included.
    pub thumbnails: bool,
}

/// One file of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Its path (under `storage/` for stored files).
    pub path: String,
    /// Its size.
    pub size_bytes: u64,
    /// Its SHA-256, in hex.
    pub sha256: String,
}

/// What a backup did.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    /// Files in the backup (blobs and, if asked, thumbnails).
    pub files: u64,
    /// Files copied now.
    pub copied: u64,
    /// Bytes copied now.
    pub bytes_copied: u64,
    /// Files an earlier backup already held.
    pub reused: u64,
    /// Files of an earlier backup removed as no longer used.
    pub removed: u64,
}

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    /// Files restored.
    pub files: u64,
    /// Bytes restored.
    pub bytes: u64,
    /// The integrity check of the restored instance.
    pub integrity: taina_ybira::integrity::IntegrityReport,
    /// Files whose thumbnails were queued to be made again (a backup without thumbnails).
    pub previews_queued: u64,
}

/// Whether a backup is running on `data_dir` now (freed blobs must then stay).
pub(crate) fn backup_running(data_dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        entry.file_name().to_string_lossy().starts_with(LOCK_PREFIX)
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age < LOCK_FRESH)
    })
}

/// Marks the data directory while a backup runs; unmarks it when dropped.
struct Lock {
    path: PathBuf,
    refresh: tokio::task::JoinHandle<()>,
}

impl Lock {
    fn take(data_dir: &Path) -> Result<Lock> {
        let path = data_dir.join(format!(
            "{LOCK_PREFIX}{}.lock",
            crate::random::secret_token().get(..12).unwrap_or("x")
        ));
        std::fs::write(&path, b"a backup is running\n")?;
        let touched = path.clone();
        let refresh = tokio::spawn(async move {
            loop {
                tokio::time::sleep(LOCK_FRESH / 4).await;
                let _ = std::fs::write(&touched, b"a backup is running\n");
            }
        });
        Ok(Lock { path, refresh })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        self.refresh.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

fn invalid(what: &'static str, reason: impl Into<String>) -> Error {
    taina_core::Error::Invalid {
        field: what,
        reason: reason.into(),
    }
    .into()
}

/// Finds a PostgreSQL tool (`pg_dump`, `pg_restore`) on the `PATH` or in Debian's versioned
/// directories.
fn pg_tool(name: &str) -> Result<PathBuf> {
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

/// Reads a file, hashing it: its size and SHA-256 (hex).
pub(crate) async fn hash_file(path: &Path, progress: &dyn Progress) -> Result<(u64, String)> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
        progress.advance(n as u64);
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// Copies `from` to `to` through a temporary file and a rename, hashing as it goes.
async fn copy_file(from: &Path, to: &Path, progress: &dyn Progress) -> Result<(u64, String)> {
    if let Some(parent) = to.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    let partial = to.with_extension("partial");
    let mut src = tokio::fs::File::open(from).await?;
    let mut dst = tokio::fs::File::create(&partial).await?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = src.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n]).await?;
        size += n as u64;
        progress.advance(n as u64);
    }
    dst.sync_all().await?;
    drop(dst);
    tokio::fs::rename(&partial, to).await?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// The database files a backup may hold.
const DATABASE_FILES: [&str; 2] = ["taina.db", "database.pgdump"];

/// Whether a manifest path names a file under `communities/` and nothing else: relative, with
/// plain names only (no `..`, no root, no prefix), so a crafted manifest cannot make a restore
/// write elsewhere.
fn is_storage_path(path: &str) -> bool {
    let path = Path::new(path);
    let mut parts = path.components();
    matches!(parts.next(), Some(std::path::Component::Normal(first)) if first == "communities")
        && parts.clone().next().is_some()
        && parts.all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// Reads a backup's `manifest.json` (untrusted: it comes from the backup folder) and checks it
/// before anything is restored from it: this version's format, a known database file, and stored
/// files under `communities/` only.
pub fn parse_manifest(bytes: &[u8]) -> Result<Manifest> {
    let manifest: Manifest = serde_json::from_slice(bytes)
        .map_err(|e| invalid("backup", format!("{MANIFEST} is not a Tainá manifest: {e}")))?;
    if manifest.format != FORMAT {
        return Err(invalid(
            "backup",
            format!("manifest format {} is not {FORMAT}", manifest.format),
        ));
    }
    if !DATABASE_FILES.contains(&manifest.database.path.as_str()) {
        return Err(invalid(
            "backup",
            "the manifest names an unknown database file",
        ));
    }
    if let Some(bad) = manifest.files.iter().find(|e| !is_storage_path(&e.path)) {
        return Err(invalid(
            "backup",
            format!("the manifest names a file outside storage: {:?}", bad.path),
        ));
    }
    Ok(manifest)
}

fn read_manifest(dir: &Path) -> Result<Option<Manifest>> {
    match std::fs::read(dir.join(MANIFEST)) {
        Ok(bytes) => parse_manifest(&bytes).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `(path, size, sha256)` of every blob a database names.
type BlobList = Vec<(String, i64, String)>;

impl Taina {
    /// Takes a consistent backup into `dest` while the instance keeps serving.
    #[instrument(skip_all, fields(dest = %dest.display()))]
    pub async fn backup(
        &self,
        dest: &Path,
        thumbnails: bool,
        progress: &dyn Progress,
    ) -> Result<BackupReport> {
        std::fs::create_dir_all(dest)?;
        let (dest_real, data_real) = (dest.canonicalize()?, self.data_dir().canonicalize()?);
        if dest_real.starts_with(&data_real) || data_real.starts_with(&dest_real) {
            return Err(invalid(
                "dest",
                "a backup goes outside the data directory (another disk, ideally)",
            ));
        }
        let previous = read_manifest(dest)?;
        if previous.is_none() && std::fs::read_dir(dest)?.next().is_some() {
            return Err(invalid(
                "dest",
                "the folder holds something that is not a Tainá backup; use an empty folder",
            ));
        }
        let _lock = Lock::take(self.data_dir())?;

        // 1. The database snapshot, and the blobs it names.
        progress.start("database", 1, false);
        let (database, blobs) = match self.backend() {
            Backend::Sqlite => self.snapshot_sqlite(dest).await?,
            Backend::Postgres => self.snapshot_postgres(dest).await?,
        };
        progress.advance(1);

        // 2. The files: blobs (checked against their recorded SHA-256) and, if asked, thumbnails.
        let root = self.blobs().root().to_path_buf();
        let mut wanted: Vec<(String, Option<String>)> = blobs
            .into_iter()
            .map(|(path, _, sha)| (path, Some(sha)))
            .collect();
        if thumbnails {
            for object in self.blobs().list("communities").await? {
                if object.path.contains("/thumbnails/") {
                    wanted.push((object.path, None));
                }
            }
        }
        let old: std::collections::HashMap<&str, &Entry> = previous
            .iter()
            .flat_map(|m| m.files.iter())
            .map(|e| (e.path.as_str(), e))
            .collect();
        let total: u64 = wanted
            .iter()
            .filter_map(|(p, _)| std::fs::metadata(root.join(p)).ok())
            .map(|m| m.len())
            .sum();
        progress.start("files", total, true);
        let mut report = BackupReport {
            files: 0,
            copied: 0,
            bytes_copied: 0,
            reused: 0,
            removed: 0,
        };
        let mut files = Vec::with_capacity(wanted.len());
        for (path, recorded) in wanted {
            let target = dest.join("storage").join(&path);
            let size_now = std::fs::metadata(root.join(&path)).map(|m| m.len());
            let kept = old.get(path.as_str()).filter(|e| {
                recorded.as_deref().is_none_or(|r| r == e.sha256)
                    && std::fs::metadata(&target).is_ok_and(|m| m.len() == e.size_bytes)
                    && size_now.as_ref().is_ok_and(|n| *n == e.size_bytes)
            });
            let entry = match kept {
                Some(entry) => {
                    progress.advance(entry.size_bytes);
                    report.reused += 1;
                    (*entry).clone()
                }
                None => {
                    let source = root.join(&path);
                    let (size, sha256) = match copy_file(&source, &target, progress).await {
                        Ok(copied) => copied,
                        Err(Error::Io(e))
                            if e.kind() == std::io::ErrorKind::NotFound && !source.exists() =>
                        {
                            // A thumbnail removed since the listing is simply not backed up.
                            if recorded.is_none() {
                                continue;
                            }
                            return Err(Error::Corrupt(format!(
                                "{path} is missing from storage; run `taina fsck`"
                            )));
                        }
                        Err(e) => return Err(e),
                    };
                    if let Some(recorded) = &recorded
                        && recorded != &sha256
                    {
                        let _ = std::fs::remove_file(&target);
                        return Err(Error::Corrupt(format!(
                            "{path} no longer has its recorded SHA-256; run `taina fsck --deep`"
                        )));
                    }
                    report.copied += 1;
                    report.bytes_copied += size;
                    Entry {
                        path,
                        size_bytes: size,
                        sha256,
                    }
                }
            };
            files.push(entry);
        }
        report.files = files.len() as u64;

        // 3. The manifest, last: a backup without one is unfinished.
        let manifest = Manifest {
            format: FORMAT,
            created_at: self.now(),
            backend: self.backend().name().to_owned(),
            database,
            files,
            thumbnails,
        };
        let text = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| Error::Corrupt(format!("cannot write the manifest: {e}")))?;
        let partial = dest.join(format!("{MANIFEST}.partial"));
        std::fs::write(&partial, text)?;
        // Until these two renames the earlier backup (database and manifest) stays whole, so a
        // backup that fails halfway never spoils the last good one.
        let database_file = dest.join(&manifest.database.path);
        std::fs::rename(
            database_file.with_extension(partial_extension(&manifest.database.path)),
            &database_file,
        )?;
        std::fs::rename(&partial, dest.join(MANIFEST))?;

        // 4. What the earlier backup held and this one no longer needs (nothing else is touched).
        let keep: std::collections::HashSet<&str> =
            manifest.files.iter().map(|e| e.path.as_str()).collect();
        for old in previous.iter().flat_map(|m| m.files.iter()) {
            if !keep.contains(old.path.as_str())
                && std::fs::remove_file(dest.join("storage").join(&old.path)).is_ok()
            {
                report.removed += 1;
            }
        }
        tracing::info!(files = report.files, copied = report.copied, "backup taken");
        Ok(report)
    }

    async fn snapshot_sqlite(&self, dest: &Path) -> Result<(Entry, BlobList)> {
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

    async fn snapshot_postgres(&self, dest: &Path) -> Result<(Entry, BlobList)> {
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
            return Err(Error::Config(format!(
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
fn partial_extension(name: &str) -> String {
    let extension = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{extension}.partial")
}

/// Whether a directory holds anything.
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

/// Restores the backup in `source` into the empty data directory (and, for PostgreSQL, the empty
/// database) that `config` names. Every checksum is verified before anything is written; the
/// restored instance is then checked for integrity.
#[instrument(skip_all, fields(source = %source.display()))]
pub async fn restore(
    mut config: Config,
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

    // Refuse to overwrite anything.
    let data_dir = &config.data_dir;
    let sqlite_file = sqlite_file(&config)?;
    if sqlite_file.exists() || has_files(&data_dir.join("storage")) {
        return Err(taina_core::Error::conflict(
            "the data directory is not empty; restore into an empty one",
        )
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

    // Verify every checksum before writing a byte.
    let total =
        manifest.database.size_bytes + manifest.files.iter().map(|e| e.size_bytes).sum::<u64>();
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

    // Write: the database, then the files.
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
            return Err(Error::Config(format!(
                "pg_restore failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        progress.advance(manifest.database.size_bytes);
    } else {
        copy_file(
            &source.join(&manifest.database.path),
            &sqlite_file,
            progress,
        )
        .await?;
    }
    let mut bytes = 0;
    for entry in &manifest.files {
        let (size, _) = copy_file(
            &source.join("storage").join(&entry.path),
            &data_dir.join("storage").join(&entry.path),
            progress,
        )
        .await?;
        bytes += size;
    }

    // Open it (migrating a backup of an older version), check it, and queue missing thumbnails.
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
