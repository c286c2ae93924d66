//! Typed settings: built-in defaults, then an optional TOML file, then `TAINA_*` environment variables.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::Error;

/// Default per-file upload limit: 100 MB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 100 * 1000 * 1000;
/// Default community storage quota: 100 GB.
pub const DEFAULT_STORAGE_QUOTA_BYTES: i64 = 100 * 1000 * 1000 * 1000;
/// Default bytes one person's unfinished resumable uploads may announce together: 1 GB.
pub const DEFAULT_RESUMABLE_UPLOAD_BYTES_PER_USER: u64 = 1000 * 1000 * 1000;

/// How long a presigned download URL stays valid: five minutes, long enough to start the download,
/// short enough that a link that leaks soon stops working.
pub const PRESIGNED_URL_SECS: u64 = 300;

/// The shortest `metrics_token` accepted.
pub const METRICS_TOKEN_MIN_CHARS: usize = 16;

/// Tainá's settings. Every field has a default, so an empty configuration runs.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Where Tainá keeps its SQLite database and blobs (`./taina-data`). `TAINA_DATA_DIR`.
    pub data_dir: PathBuf,
    /// The database: `postgres://...` for PostgreSQL; unset for SQLite in the data directory.
    /// `TAINA_DATABASE_URL`.
    pub database_url: Option<String>,
    /// Where blobs live: unset for `storage/` in the data directory, `s3://bucket/prefix` for
    /// S3-compatible object storage (AWS S3, MinIO, Garage, Ceph RGW, Backblaze B2, Cloudflare R2),
    /// or `file:///absolute/path` for another local folder. `TAINA_STORAGE_URL`.
    pub storage_url: Option<String>,
    /// Object storage only: the endpoint of a store other than AWS, e.g. `http://127.0.0.1:9000`.
    /// Unset: AWS, or `AWS_ENDPOINT_URL`. `TAINA_STORAGE_ENDPOINT`.
    pub storage_endpoint: Option<String>,
    /// Object storage only: the region (`us-east-1`, or `AWS_REGION`). `TAINA_STORAGE_REGION`.
    pub storage_region: Option<String>,
    /// Object storage only: the access key; unset, `AWS_ACCESS_KEY_ID` (or an instance role).
    /// `TAINA_STORAGE_ACCESS_KEY_ID`.
    pub storage_access_key_id: Option<String>,
    /// Object storage only: the secret key; unset, `AWS_SECRET_ACCESS_KEY`.
    /// `TAINA_STORAGE_SECRET_ACCESS_KEY`.
    pub storage_secret_access_key: Option<String>,
    /// Object storage only: address buckets as `https://bucket.host/` (virtual-host style, what AWS
    /// prefers) instead of `https://host/bucket/` (path style, the default, which every
    /// S3-compatible store takes). `TAINA_STORAGE_VIRTUAL_HOSTED`.
    pub storage_virtual_hosted: bool,
    /// Object storage only: a download to save (`?download=true`) of a file at least this large
    /// (bytes) answers with a redirect to a URL of the bucket valid for [`PRESIGNED_URL_SECS`], so
    /// that the bytes go from the store to the client without passing through Tainá. Unset (the
    /// default): Tainá streams every download. `TAINA_STORAGE_PRESIGNED_DOWNLOADS_FROM_BYTES`.
    pub storage_presigned_downloads_from_bytes: Option<u64>,
    /// How long a stopping server (`SIGTERM`) waits for requests in flight (an upload, a download)
    /// to finish before it stops anyway (`30` seconds; cut-off uploads leave nothing behind).
    /// `TAINA_SHUTDOWN_GRACE_SECS`.
    pub shutdown_grace_secs: u64,
    /// Where the server listens (`127.0.0.1:8080`). `TAINA_LISTEN`.
    pub listen: SocketAddr,
    /// The URL people use to reach this instance (for invite links), e.g. `https://home.example.org`.
    /// `TAINA_PUBLIC_URL`.
    pub public_url: Option<String>,
    /// The largest file one upload may carry (100 MB). `TAINA_MAX_UPLOAD_BYTES`.
    pub max_upload_bytes: u64,
    /// The storage quota a new community gets (100 GB). `TAINA_DEFAULT_STORAGE_QUOTA_BYTES`.
    pub default_storage_quota_bytes: i64,
    /// The most storage a community's admin may give their own community (100 GB), so that on a
    /// server hosting several communities none can claim the disk. The local operator
    /// (`taina admin community set-quota`) is not bound by it, and a community may keep (or lower)
    /// a larger quota the operator gave. `TAINA_MAX_COMMUNITY_QUOTA_BYTES`.
    pub max_community_quota_bytes: i64,
    /// Resumable (tus) uploads one person may have unfinished at once (10).
    /// `TAINA_RESUMABLE_UPLOADS_PER_USER`.
    pub resumable_uploads_per_user: u32,
    /// Bytes one person's unfinished resumable uploads may announce together, each reserved
    /// against the quota until it finishes. Unset: 1 GB, or `max_upload_bytes` if that is larger;
    /// when set, at least `max_upload_bytes`. `TAINA_RESUMABLE_UPLOAD_BYTES_PER_USER`.
    pub resumable_upload_bytes_per_user: Option<u64>,
    /// Hours a resumable upload may take from when it was opened, however active (24).
    /// `TAINA_RESUMABLE_UPLOAD_LIFETIME_HOURS`.
    pub resumable_upload_lifetime_hours: u32,
    /// Minutes a resumable upload may wait for its next byte before it is released (360).
    /// `TAINA_RESUMABLE_UPLOAD_IDLE_MINUTES`.
    pub resumable_upload_idle_minutes: u32,
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
    /// The program that decodes untrusted images (and runs `pdftoppm`) in a child process under
    /// limits: the `taina` command itself (what `taina serve` uses when this is unset) or
    /// `taina-decode`. Unset: `taina-decode` beside the running executable. `TAINA_DECODER`.
    pub decoder: Option<PathBuf>,
    /// The address space a decoder child may use, in bytes (2 GiB); past it the decode fails and
    /// the file gets no previews. `TAINA_DECODER_MEMORY_BYTES`.
    pub decoder_memory_bytes: u64,
    /// How long a decoder child may take, in seconds (120), before it is killed.
    /// `TAINA_DECODER_TIMEOUT_SECS`.
    pub decoder_timeout_secs: u64,
    /// Background jobs run at once (2); 0 runs none in the background (tests run them by hand).
    /// `TAINA_JOB_WORKERS`.
    pub job_workers: u32,
    /// Realtime events a subscriber (a connected client) may have waiting before it is told to
    /// resync (1024). `TAINA_REALTIME_QUEUE`.
    pub realtime_queue: usize,
    /// A PEM certificate chain: with [`Config::tls_key`], the server speaks HTTPS itself (rustls).
    /// `TAINA_TLS_CERT`.
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of [`Config::tls_cert`]. `TAINA_TLS_KEY`.
    pub tls_key: Option<PathBuf>,
    /// Reverse proxies whose `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` are
    /// believed: addresses or CIDR ranges, e.g. `["127.0.0.1", "10.0.0.0/8"]`. Empty (the default):
    /// those headers are ignored. `TAINA_TRUSTED_PROXIES`.
    pub trusted_proxies: Vec<String>,
    /// A bearer token that opens `/metrics` (a Prometheus elsewhere sends it as
    /// `Authorization: Bearer ...`); at least 16 characters. Unset (the default): `/metrics` is for
    /// admins' sessions and, with [`Config::metrics_open_to_loopback`], this machine.
    /// `TAINA_METRICS_TOKEN`.
    pub metrics_token: Option<String>,
    /// Whether clients on this machine (a loopback peer addressing a loopback host, not relayed by
    /// a proxy) read `/metrics` with no token (`true`). Turn it off when a proxy on this machine
    /// forwards the internet without `X-Forwarded-For`. `TAINA_METRICS_OPEN_TO_LOOPBACK`.
    pub metrics_open_to_loopback: bool,
    /// Whether WebDAV takes HTTP Basic credentials (an app password) over plain HTTP from clients
    /// other than this machine (`false`: only over HTTPS, or from this machine). Turn it on only
    /// on a network you trust, e.g. a home LAN without TLS. `TAINA_BASIC_AUTH_OVER_HTTP`.
    pub basic_auth_over_http: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("taina-data"),
            database_url: None,
            storage_url: None,
            storage_endpoint: None,
            storage_region: None,
            storage_access_key_id: None,
            storage_secret_access_key: None,
            storage_virtual_hosted: false,
            storage_presigned_downloads_from_bytes: None,
            shutdown_grace_secs: 30,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            default_storage_quota_bytes: DEFAULT_STORAGE_QUOTA_BYTES,
            max_community_quota_bytes: DEFAULT_STORAGE_QUOTA_BYTES,
            resumable_uploads_per_user: 10,
            resumable_upload_bytes_per_user: None,
            resumable_upload_lifetime_hours: 24,
            resumable_upload_idle_minutes: 6 * 60,
            session_ttl_days: 30,
            sqlite_read_connections: 4,
            postgres_connections: 10,
            password_hashing_threads: None,
            trash_retention_days: 30,
            file_versions_kept: taina_ybira::versions::DEFAULT_VERSIONS_KEPT,
            pdftoppm: "pdftoppm".into(),
            decoder: None,
            decoder_memory_bytes: crate::decoder::DEFAULT_MEMORY_BYTES,
            decoder_timeout_secs: crate::decoder::DEFAULT_TIMEOUT_SECS,
            job_workers: 2,
            realtime_queue: crate::bus::DEFAULT_QUEUE,
            tls_cert: None,
            tls_key: None,
            trusted_proxies: Vec::new(),
            metrics_token: None,
            metrics_open_to_loopback: true,
            basic_auth_over_http: false,
        }
    }
}

impl Config {
    /// Loads settings: defaults, then the TOML file at `file` (or at `TAINA_CONFIG`, or `taina.toml`
    /// when it exists), then `TAINA_*` environment variables.
    pub fn load(file: Option<&Path>) -> Result<Config, Error> {
        let file = Config::file(file);
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
        let config: Config = figment
            .merge(Env::prefixed("TAINA_").ignore(&["config"]))
            .extract()
            .map_err(|e| Error::Config(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    /// The configuration file [`Config::load`] reads: `explicit`, else `TAINA_CONFIG`, else
    /// `taina.toml` when it exists; `None` when there is none.
    pub fn file(explicit: Option<&Path>) -> Option<PathBuf> {
        explicit
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("TAINA_CONFIG").map(PathBuf::from))
            .or_else(|| Some(PathBuf::from("taina.toml")).filter(|p| p.exists()))
    }

    /// Refuses settings that cannot work together.
    pub fn check(&self) -> Result<(), Error> {
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(Error::Config(
                "tls_cert and tls_key go together: set both (PEM files) or neither".into(),
            ));
        }
        if self.decoder_memory_bytes < crate::decoder::MIN_MEMORY_BYTES
            || self.decoder_timeout_secs == 0
        {
            return Err(Error::Config(format!(
                "decoder_memory_bytes must be at least {} (the decoder alone takes about 50 MiB) and \
                 decoder_timeout_secs at least 1",
                crate::decoder::MIN_MEMORY_BYTES
            )));
        }
        if self.max_community_quota_bytes < 0 {
            return Err(Error::Config(
                "max_community_quota_bytes must not be negative".into(),
            ));
        }
        if let Some(cap) = self.resumable_upload_bytes_per_user
            && cap < self.max_upload_bytes
        {
            return Err(Error::Config(format!(
                "resumable_upload_bytes_per_user ({cap}) must be at least max_upload_bytes ({}), or \
                 the largest files could not be uploaded resumably",
                self.max_upload_bytes
            )));
        }
        if self.resumable_uploads_per_user == 0
            || self.resumable_upload_lifetime_hours == 0
            || self.resumable_upload_idle_minutes == 0
        {
            return Err(Error::Config(
                "resumable_uploads_per_user, resumable_upload_lifetime_hours and \
                 resumable_upload_idle_minutes must be at least 1"
                    .into(),
            ));
        }
        if self
            .metrics_token
            .as_deref()
            .is_some_and(|t| t.trim().chars().count() < METRICS_TOKEN_MIN_CHARS)
        {
            return Err(Error::Config(format!(
                "metrics_token must have at least {METRICS_TOKEN_MIN_CHARS} characters (e.g. \
                 `openssl rand -hex 32`)"
            )));
        }
        let location = crate::storage::StorageLocation::parse(self.storage_url.as_deref())
            .map_err(|e| Error::Config(e.to_string()))?;
        if matches!(location, crate::storage::StorageLocation::S3 { .. })
            && self.max_upload_bytes > crate::storage::OBJECT_COPY_MAX_BYTES
        {
            return Err(Error::Config(format!(
                "max_upload_bytes ({}) is above what object storage moves into place in one copy \
                 ({} bytes, S3's CopyObject limit); lower it",
                self.max_upload_bytes,
                crate::storage::OBJECT_COPY_MAX_BYTES
            )));
        }
        if self.storage_presigned_downloads_from_bytes.is_some()
            && !matches!(location, crate::storage::StorageLocation::S3 { .. })
        {
            return Err(Error::Config(
                "storage_presigned_downloads_from_bytes needs object storage (storage_url = \"s3://…\")"
                    .into(),
            ));
        }
        for proxy in &self.trusted_proxies {
            if parse_network(proxy).is_none() {
                return Err(Error::Config(format!(
                    "trusted_proxies: {proxy:?} is not an IP address or CIDR range (e.g. 10.0.0.0/8)"
                )));
            }
        }
        Ok(())
    }

    /// The limits on one person's unfinished resumable uploads.
    pub fn resumable_limits(&self) -> taina_ybira::upload::ResumableLimits {
        taina_ybira::upload::ResumableLimits {
            max_open: u64::from(self.resumable_uploads_per_user),
            max_open_bytes: self
                .resumable_upload_bytes_per_user
                .unwrap_or(DEFAULT_RESUMABLE_UPLOAD_BYTES_PER_USER.max(self.max_upload_bytes)),
            lifetime: std::time::Duration::from_secs(
                u64::from(self.resumable_upload_lifetime_hours) * 3600,
            ),
            idle: std::time::Duration::from_secs(
                u64::from(self.resumable_upload_idle_minutes) * 60,
            ),
        }
    }

    /// Whether the server itself speaks TLS.
    pub fn tls(&self) -> bool {
        self.tls_cert.is_some() && self.tls_key.is_some()
    }

    /// The trusted proxies as address ranges (entries that do not parse are left out; [`Config::load`]
    /// refuses them).
    pub fn trusted_networks(&self) -> Vec<(IpAddr, u8)> {
        self.trusted_proxies
            .iter()
            .filter_map(|p| parse_network(p))
            .collect()
    }

    /// A configuration with everything default but the data directory.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            ..Config::default()
        }
    }
}

/// An address or CIDR range: the network address and its prefix length.
pub fn parse_network(text: &str) -> Option<(IpAddr, u8)> {
    let text = text.trim();
    let (addr, prefix) = match text.split_once('/') {
        Some((addr, prefix)) => (
            addr.parse::<IpAddr>().ok()?,
            Some(prefix.parse::<u8>().ok()?),
        ),
        None => (text.parse::<IpAddr>().ok()?, None),
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    (prefix <= max).then_some((addr, prefix))
}

/// Whether `addr` lies in the range `(network, prefix)`.
pub fn in_network(addr: IpAddr, (network, prefix): (IpAddr, u8)) -> bool {
    fn masked(bits: u128, width: u32, prefix: u8) -> u128 {
        let keep = u32::from(prefix).min(width);
        if keep == 0 { 0 } else { bits >> (width - keep) }
    }
    let addr = match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match (addr, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            masked(u128::from(u32::from(a)), 32, prefix)
                == masked(u128::from(u32::from(n)), 32, prefix)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            masked(u128::from(a), 128, prefix) == masked(u128::from(n), 128, prefix)
        }
        _ => false,
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
            .field("storage_url", &self.storage_url)
            .field("storage_endpoint", &self.storage_endpoint)
            .field("storage_region", &self.storage_region)
            .field("storage_access_key_id", &self.storage_access_key_id)
            .field(
                "storage_secret_access_key",
                &self.storage_secret_access_key.as_ref().map(|_| "***"),
            )
            .field("storage_virtual_hosted", &self.storage_virtual_hosted)
            .field(
                "storage_presigned_downloads_from_bytes",
                &self.storage_presigned_downloads_from_bytes,
            )
            .field("shutdown_grace_secs", &self.shutdown_grace_secs)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field(
                "default_storage_quota_bytes",
                &self.default_storage_quota_bytes,
            )
            .field("max_community_quota_bytes", &self.max_community_quota_bytes)
            .field("session_ttl_days", &self.session_ttl_days)
            .field("sqlite_read_connections", &self.sqlite_read_connections)
            .field("postgres_connections", &self.postgres_connections)
            .field("password_hashing_threads", &self.password_hashing_threads)
            .field("trash_retention_days", &self.trash_retention_days)
            .field("file_versions_kept", &self.file_versions_kept)
            .field("pdftoppm", &self.pdftoppm)
            .field("decoder", &self.decoder)
            .field("decoder_memory_bytes", &self.decoder_memory_bytes)
            .field("decoder_timeout_secs", &self.decoder_timeout_secs)
            .field("job_workers", &self.job_workers)
            .field("realtime_queue", &self.realtime_queue)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key.as_ref().map(|_| "***"))
            .field("trusted_proxies", &self.trusted_proxies)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("metrics_open_to_loopback", &self.metrics_open_to_loopback)
            .field("basic_auth_over_http", &self.basic_auth_over_http)
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
    fn metrics_tokens_are_hidden_and_not_guessable() {
        let config = Config {
            metrics_token: Some("a-long-scrape-token-0123456789".into()),
            ..Config::default()
        };
        assert!(!format!("{config:?}").contains("scrape-token"));
        assert!(config.check().is_ok());
        let short = Config {
            metrics_token: Some("short".into()),
            ..Config::default()
        };
        assert!(short.check().is_err());
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
    fn networks_parse_and_match() {
        let lan = parse_network("10.0.0.0/8").unwrap();
        assert!(in_network("10.1.2.3".parse().unwrap(), lan));
        assert!(!in_network("11.0.0.1".parse().unwrap(), lan));
        let one = parse_network("127.0.0.1").unwrap();
        assert!(in_network("127.0.0.1".parse().unwrap(), one));
        assert!(!in_network("127.0.0.2".parse().unwrap(), one));
        // An IPv4 peer seen through an IPv6 socket is still that IPv4 address.
        assert!(in_network("::ffff:10.0.0.9".parse().unwrap(), lan));
        let v6 = parse_network("fd00::/8").unwrap();
        assert!(in_network("fd12::1".parse().unwrap(), v6));
        assert!(!in_network("fe80::1".parse().unwrap(), v6));
        assert!(in_network(
            "8.8.8.8".parse().unwrap(),
            parse_network("0.0.0.0/0").unwrap()
        ));
        for bad in ["", "10.0.0.0/33", "nope", "10.0.0.0/x", "::/129"] {
            assert_eq!(parse_network(bad), None, "{bad}");
        }
    }

    #[test]
    fn tls_needs_both_files_and_proxies_must_parse() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("TAINA_TLS_CERT", "/etc/taina/cert.pem");
            let err = Config::load(None).unwrap_err();
            assert!(err.to_string().contains("tls_key"), "{err}");
            jail.set_env("TAINA_TLS_KEY", "/etc/taina/key.pem");
            jail.set_env("TAINA_TRUSTED_PROXIES", "[127.0.0.1, 10.0.0.0/8]");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert!(config.tls());
            assert_eq!(config.trusted_networks().len(), 2);
            assert!(!format!("{config:?}").contains("key.pem"));
            jail.set_env("TAINA_TRUSTED_PROXIES", "[somewhere]");
            let err = Config::load(None).unwrap_err();
            assert!(err.to_string().contains("somewhere"), "{err}");
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

    #[test]
    fn decoder_limits_leave_the_decoder_room() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("TAINA_DECODER", "/opt/taina/bin/taina");
            jail.set_env("TAINA_DECODER_TIMEOUT_SECS", "30");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.decoder, Some(PathBuf::from("/opt/taina/bin/taina")));
            assert_eq!(config.decoder_timeout_secs, 30);
            assert_eq!(
                config.decoder_memory_bytes,
                crate::decoder::DEFAULT_MEMORY_BYTES
            );
            jail.set_env("TAINA_DECODER_MEMORY_BYTES", "1000000");
            let err = Config::load(None).unwrap_err();
            assert!(err.to_string().contains("decoder_memory_bytes"), "{err}");
            Ok(())
        });
    }
}
