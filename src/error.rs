//! The shell's error: a domain error, or a failure of the machinery underneath (database, storage,
//! configuration). Front ends call [`Error::kind`] to pick a status and [`Error::public`] for the
//! message they may show; internal details stay in the logs.

use taina_core::ErrorKind;

/// Everything a `taina` call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rule of the domain was broken (bad input, not found, forbidden, ...).
    #[error(transparent)]
    Domain(#[from] taina_core::Error),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error("database migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Blob storage failed.
    #[error("storage: {0}")]
    Storage(#[from] object_store::Error),
    /// A file-system operation failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// A stored value could not be read back (a corrupt row, an unknown enum value).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// Password hashing failed.
    #[error("password hashing: {0}")]
    PasswordHash(String),
    /// An outside program the shell runs (`pg_dump`, `pg_restore`) failed; what it said.
    #[error("{0}")]
    Tool(String),
    /// A value could not be encoded to be stored (a bug: every stored type encodes).
    #[error("cannot encode for storage: {0}")]
    Encode(String),
}

impl Error {
    /// The kind of failure, for choosing a status.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Domain(e) => e.kind(),
            _ if self.is_storage_full() => ErrorKind::StorageFull,
            _ => ErrorKind::Internal,
        }
    }

    /// Whether the machine ran out of room: the file system (`ENOSPC`, or a disk quota) under
    /// the blobs or the database, or the database's own "disk full" (SQLite `SQLITE_FULL`,
    /// PostgreSQL `53100`). Such a failure is the operator's to fix, and says so.
    fn is_storage_full(&self) -> bool {
        fn full(e: &std::io::Error) -> bool {
            matches!(
                e.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ) || e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<std::io::Error>())
                .is_some_and(full)
        }
        match self {
            Error::Io(e) => full(e),
            Error::Database(sqlx::Error::Io(e)) => full(e),
            Error::Database(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("13" | "53100"))
            }
            Error::Storage(e) => {
                let mut source = std::error::Error::source(e);
                while let Some(cause) = source {
                    if cause.downcast_ref::<std::io::Error>().is_some_and(full) {
                        return true;
                    }
                    source = cause.source();
                }
                false
            }
            _ => false,
        }
    }

    /// The error as it may be shown to a client: domain errors as they are, anything else as a bare
    /// "internal error".
    pub fn public(&self) -> taina_core::Error {
        match self {
            Error::Domain(e) => e.clone(),
            _ if self.is_storage_full() => taina_core::Error::StorageFull,
            _ => taina_core::Error::Internal,
        }
    }
}

impl From<taina_core::Denied> for Error {
    fn from(d: taina_core::Denied) -> Self {
        Error::Domain(d.into())
    }
}

/// A result with the shell's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
