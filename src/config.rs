//! Typed settings: built-in defaults, then an optional TOML file, then `TAINA_*` environment variables.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::Error;

/// Default per-file upload limit: 100 MB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 100 * 1000 * 1000;
/// Default community storage quota: 100 GB.
pub const DEFAULT_STORAGE_QUOTA_BYTES: i64 = 100 * 1000 * 1000 * 1000;

/// Tainá's settings. Every field has a default, so an empty configuration runs.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Where Tainá keeps its SQLite database and blobs (`./taina-data`). `TAINA_DATA_DIR`.
    pub data_dir: PathBuf,
    /// The database: `postgres://...` for PostgreSQL; unset for SQLite in the data directory.
    /// `TAINA_DATABASE_URL`.
    pub database_url: Option<String>,
    /// Where the server listens (`127.0.0.1:8080`). `TAINA_LISTEN`.
    pub listen: SocketAddr,
    /// The URL people use to reach this instance (for invite links), e.g. `https://home.example.org`.
    /// `TAINA_PUBLIC_URL`.
    pub public_url: Option<String>,
    /// The largest file one upload may carry (100 MB). `TAINA_MAX_UPLOAD_BYTES`.
    pub max_upload_bytes: u64,
    /// The storage quota a new community gets (100 GB). `TAINA_DEFAULT_STORAGE_QUOTA_BYTES`.
    pub default_storage_quota_bytes: i64,
    /// How long an unused session stays valid, in days (30). `TAINA_SESSION_TTL_DAYS`.
    pub session_ttl_days: u32,
    /// Read connections beside SQLite's single writer (4).
    pub sqlite_read_connections: u32,
    /// Connections to PostgreSQL (10).
    pub postgres_connections: u32,
    /// Password hashes computed at once; defaults to the number of cores.
    pub password_hashing_threads: Option<usize>,
    /// Days a deleted file stays in the trash before it is purged (30). `TAINA_TRASH_RETENTION_DAYS`.
    pub trash_retention_days: u32,
    /// Earlier versions kept per file (10). `TAINA_FILE_VERSIONS_KEPT`.
    pub file_versions_kept: u32,
    /// The `pdftoppm` program (poppler-utils) that renders PDF previews (`pdftoppm`, found on the
    /// `PATH`); without it PDFs simply get no preview. `TAINA_PDFTOPPM`.
    pub pdftoppm: String,
    /// Background jobs run at once (2); 0 runs none in the background (tests run them by hand).
    /// `TAINA_JOB_WORKERS`.
    pub job_workers: u32,
    /// Realtime events a subscriber (a connected client) may have waiting before it is told to
    /// resync (1024). `TAINA_REALTIME_QUEUE`.
    pub realtime_queue: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("taina-data"),
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            default_storage_quota_bytes: DEFAULT_STORAGE_QUOTA_BYTES,
            session_ttl_days: 30,
            sqlite_read_connections: 4,
            postgres_connections: 10,
            password_hashing_threads: None,
            trash_retention_days: 30,
            file_versions_kept: taina_ybira::versions::DEFAULT_VERSIONS_KEPT,
            pdftoppm: "pdftoppm".into(),
            job_workers: 2,
            realtime_queue: crate::realtime::DEFAULT_QUEUE,
        }
    }
}

impl Config {
    /// Loads settings: defaults, then the TOML file at `file` (or at `TAINA_CONFIG`, or `taina.toml`
    /// when it exists), then `TAINA_*` environment variables.
    pub fn load(file: Option<&Path>) -> Result<Config, Error> {
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("TAINA_CONFIG").map(PathBuf::from))
            .or_else(|| Some(PathBuf::from("taina.toml")).filter(|p| p.exists()));
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(Error::Config(format!(
                    "configuration file {} does not exist",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment
            .merge(Env::prefixed("TAINA_").ignore(&["config"]))
            .extract()
            .map_err(|e| Error::Config(e.to_string()))
    }

    /// A configuration with everything default but the data directory.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            ..Config::default()
        }
    }
}

/// Hides the password of a database URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field(
                "default_storage_quota_bytes",
                &self.default_storage_quota_bytes,
            )
            .field("session_ttl_days", &self.session_ttl_days)
            .field("sqlite_read_connections", &self.sqlite_read_connections)
            .field("postgres_connections", &self.postgres_connections)
            .field("password_hashing_threads", &self.password_hashing_threads)
            .field("trash_retention_days", &self.trash_retention_days)
            .field("file_versions_kept", &self.file_versions_kept)
            .field("pdftoppm", &self.pdftoppm)
            .field("job_workers", &self.job_workers)
            .field("realtime_queue", &self.realtime_queue)
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail fixes the closure's error type.
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_database_passwords() {
        let config = Config {
            database_url: Some("postgres://taina:s3cret@db:5432/taina".into()),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres://taina:***@db:5432/taina"));
        assert_eq!(redact_url("postgres://db/taina"), "postgres://db/taina");
    }

    #[test]
    fn toml_file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("taina.toml");
        std::fs::write(&file, "data_dir = \"/srv/taina\"\nmax_upload_bytes = 5\n").unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("TAINA_MAX_UPLOAD_BYTES", "7");
            jail.set_env("TAINA_LISTEN", "0.0.0.0:9000");
            let config = Config::load(Some(&file)).map_err(|e| e.to_string())?;
            assert_eq!(config.data_dir, PathBuf::from("/srv/taina"));
            assert_eq!(config.max_upload_bytes, 7);
            assert_eq!(config.listen, "0.0.0.0:9000".parse().unwrap());
            assert_eq!(config.session_ttl_days, 30);
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_reported() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("TAINA_MAX_UPLOAD_BYTES", "lots");
            let err = Config::load(None).unwrap_err();
            assert!(
                err.to_string().to_lowercase().contains("max_upload_bytes"),
                "{err}"
            );
            Ok(())
        });
    }
}
