//! # taina
//!
//! The imperative shell of Tainá and the library every front end uses. [`Taina::open`] connects the
//! database (SQLite by default, PostgreSQL by URL), opens blob storage, applies migrations and
//! starts background work; the services hang off the returned handle:
//!
//! ```no_run
//! # async fn demo() -> taina::Result<()> {
//! use taina::{Config, Taina};
//! let taina = Taina::open(Config::default()).await?;       // ./taina-data, SQLite
//! if taina.accounts().needs_setup().await? {
//!     println!("visit the web app to create the community");
//! }
//! # Ok(()) }
//! ```
//!
//! All I/O lives here; the rules live in the pure crates (`taina-core`, `taina-ybira`,
//! `taina-jaci`, `taina-guara`), which this crate calls.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod backup;
pub mod bus;
pub mod clock;
pub mod config;
pub mod db;
pub mod db_copy;
pub mod decoder;
pub mod error;
#[cfg(feature = "testing")]
pub mod faults;
pub mod feed;
#[cfg(feature = "testing")]
pub mod fuzz;
pub mod guara;
pub mod instance_lock;
pub mod jaci;
pub mod jobs;
pub mod limits;
pub mod maintenance;
pub mod operator;
pub mod progress;
pub mod random;
pub mod storage;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transfer;
pub mod ybira;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use accounts::Accounts;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;
pub use db::Backend;
pub use error::{Error, Result};
pub use jaci::Jaci;
pub use jobs::Jobs;
pub use operator::Operator;
pub use taina_core as core;
use taina_core::session::SessionPolicy;
pub use ybira::Ybira;

/// A running Tainá instance: the handle every front end holds. Cheap to clone.
#[derive(Clone)]
pub struct Taina {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) data_dir: PathBuf,
    pub(crate) db: db::Db,
    pub(crate) blobs: storage::BlobStore,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) hasher: accounts::PasswordHasher,
    /// Live connections by session and person (closed when a session ends).
    pub(crate) live: Arc<accounts::LiveSessions>,
    /// The event bus (topics per community, per user and per conversation).
    pub(crate) bus: Arc<dyn bus::Bus>,
    /// Typing and this instance's connections, in memory.
    pub(crate) realtime: guara::realtime::RealtimeState,
    /// This instance's id among the instances sharing the database (random at each open).
    pub(crate) instance_id: String,
    /// Resumable uploads receiving a piece.
    pub(crate) busy_uploads: ybira::resumable::BusyUploads,
    pub(crate) sessions: SessionPolicy,
    /// Wakes job workers when a job is enqueued.
    pub(crate) job_notify: Arc<tokio::sync::Notify>,
    #[cfg(feature = "testing")]
    pub(crate) faults: faults::Faults,
    /// This process's hold on the storage ([`ybira::recovery`]): released when the instance goes.
    instance_lock: tokio::sync::Mutex<instance_lock::InstanceLock>,
    /// What the start-up recovery did.
    pub(crate) recovery: std::sync::OnceLock<ybira::RecoveryReport>,
    _background: maintenance::Background,
    workers: std::sync::Mutex<jobs::Workers>,
}

impl std::fmt::Debug for Taina {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Taina")
            .field("data_dir", &self.inner.data_dir)
            .field("backend", &self.inner.db.backend())
            .finish_non_exhaustive()
    }
}

impl Taina {
    /// Opens an instance with the system clock.
    pub async fn open(config: Config) -> Result<Taina> {
        Self::open_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Opens an instance with the given clock (tests move time with a [`ManualClock`]).
    #[tracing::instrument(skip_all, fields(data_dir = %config.data_dir.display()))]
    pub async fn open_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Taina> {
        std::fs::create_dir_all(&config.data_dir)?;
        let data_dir = std::path::absolute(&config.data_dir)?;
        let db = db::Db::open(&config, &data_dir).await?;
        let blobs = storage::BlobStore::open(&config, &data_dir)?;
        let postgres_url = match db.backend() {
            Backend::Postgres => config.database_url.as_deref(),
            Backend::Sqlite => None,
        };
        let instance_lock = instance_lock::InstanceLock::claim(&data_dir, postgres_url).await?;
        let threads = config.password_hashing_threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let sessions = SessionPolicy {
            ttl: Duration::from_secs(u64::from(config.session_ttl_days.max(1)) * 24 * 3600),
            ..SessionPolicy::default()
        };
        let hasher = accounts::PasswordHasher::new(threads);
        hasher.warm_up();
        let job_notify = Arc::new(tokio::sync::Notify::new());
        let background =
            maintenance::Background::start(db.clone(), clock.clone(), job_notify.clone());
        tracing::info!(backend = db.backend().name(), "opened");
        let workers = config.job_workers;
        // On PostgreSQL several instances may share the database: events cross between them.
        let bus: Arc<dyn bus::Bus> = match (db.backend(), config.database_url.as_deref()) {
            (Backend::Postgres, Some(url)) => Arc::new(bus::PgBus::start(url).await?),
            _ => Arc::new(bus::LocalBus::new()),
        };
        let taina = Taina {
            inner: Arc::new(Inner {
                config,
                data_dir,
                db,
                blobs,
                clock,
                hasher,
                live: Arc::default(),
                bus,
                realtime: guara::realtime::RealtimeState::default(),
                instance_id: random::new_id(taina_core::JobId::from_random).to_string(),
                busy_uploads: ybira::resumable::BusyUploads::default(),
                sessions,
                job_notify,
                #[cfg(feature = "testing")]
                faults: faults::Faults::default(),
                instance_lock: tokio::sync::Mutex::new(instance_lock),
                recovery: std::sync::OnceLock::new(),
                _background: background,
                workers: std::sync::Mutex::new(jobs::Workers::default()),
            }),
        };
        // Before anything can serve or run jobs: what a killed process left is put right.
        {
            let mut lock = taina.inner.instance_lock.lock().await;
            let report = match ybira::recovery::recover(&taina, lock.alone()).await {
                Ok(report) => report,
                Err(e) => {
                    tracing::error!(error = %e, "start-up recovery failed; upkeep will catch up");
                    ybira::RecoveryReport::default()
                }
            };
            let _ = taina.inner.recovery.set(report);
            lock.share().await?;
        }
        guara::presence::register_instance(&taina.inner).await?;
        guara::realtime::start_typing_sweeper(&taina.inner);
        guara::presence::start_heartbeat(&taina.inner);
        let started = jobs::Workers::start(&taina.inner, workers);
        *taina
            .inner
            .workers
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = started;
        Ok(taina)
    }

    /// Accounts and communities: setup, sign-in, sessions, members, invites, settings.
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts { inner: &self.inner }
    }

    /// The local operator's calls (the `taina` command only; never exposed over the network).
    pub fn operator(&self) -> Operator<'_> {
        Operator { taina: self }
    }

    /// Files and folders: uploads, downloads, versions, trash, shares, integrity.
    pub fn ybira(&self) -> Ybira<'_> {
        Ybira { taina: self }
    }

    /// Photos: import, timeline, detail, map, thumbnails.
    pub fn jaci(&self) -> Jaci<'_> {
        Jaci { taina: self }
    }

    /// The durable background job queue.
    pub fn jobs(&self) -> Jobs<'_> {
        Jobs { taina: self }
    }

    /// Fault injection points (tests only).
    #[cfg(feature = "testing")]
    pub fn faults(&self) -> &faults::Faults {
        &self.inner.faults
    }

    /// Checks that the database and blob storage answer (for `/readyz`).
    #[tracing::instrument(skip_all)]
    pub async fn ready(&self) -> Result<()> {
        self.inner.db.ping().await?;
        self.inner.blobs.ping().await
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The absolute data directory.
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// Which database is underneath.
    pub fn backend(&self) -> Backend {
        self.inner.db.backend()
    }

    /// The database handle (for the shell's own modules, tests and admin tools).
    pub fn db(&self) -> &db::Db {
        &self.inner.db
    }

    /// Blob storage.
    pub fn blobs(&self) -> &storage::BlobStore {
        &self.inner.blobs
    }

    /// The clock.
    pub fn now(&self) -> taina_core::Timestamp {
        self.inner.clock.now()
    }

    /// Sweeps expired sessions and long-expired invites now (it also happens every
    /// [`maintenance::SWEEP_INTERVAL`] in the background).
    pub async fn sweep(&self) -> Result<maintenance::SweepReport> {
        maintenance::sweep(&self.inner.db, self.inner.clock.as_ref()).await
    }

    /// Ends every live feed (each reads its end) and closes database connections.
    pub async fn close(&self) {
        self.end_feeds();
        if let Err(e) = self.guara().unregister_instance().await {
            tracing::warn!(error = %e, "could not take this instance out of the presence table");
        }
        self.inner.db.close().await;
    }
}
