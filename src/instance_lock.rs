//! Who has the data open: the instance lock that start-up recovery relies on.
//!
//! Every process that opens the data (the server, and every CLI command: fsck, backup, import, …)
//! holds the lock for as long as its [`crate::Taina`] lives: exclusively while it recovers at start,
//! shared afterwards. When the exclusive hold can be taken, no other process has the data open, so
//! nothing can be writing and what is left over is a dead process's (see
//! [`crate::ybira::recovery`]). The lock follows the database, the one thing every process of a
//! community shares:
//!
//! - **SQLite**: `flock` on [`INSTANCE_LOCK`] in the data directory, beside the database file. The
//!   operating system drops a killed process's hold.
//! - **PostgreSQL**: a session advisory lock ([`ADVISORY_KEY`]) on a connection of its own, so
//!   that instances on different machines see each other. PostgreSQL drops a dead instance's hold
//!   when its connection ends. Should this connection break while the instance runs, the hold is
//!   taken again (shared) on a new one, so that a newcomer does not take the live instance for dead.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::Result;

/// The lock file every process on a SQLite database holds, in the data directory.
pub const INSTANCE_LOCK: &str = ".taina-instances.lock";

/// The lock file a server on a SQLite database holds alone, in the data directory.
pub const SERVER_LOCK: &str = ".taina-server.lock";

/// The PostgreSQL advisory lock key every instance holds ("TAINA" in ASCII, as a number).
pub const ADVISORY_KEY: i64 = 0x0054_4149_4e41;

/// How often the PostgreSQL hold is checked (and taken again if its connection broke): the most a
/// lapse lasts, during which a process starting would take itself for alone. (A heartbeat seen in
/// `instances` cannot stand in: a killed process's stays fresh for 30 s, and recovery after a kill
/// must not wait for it.)
const CHECK_EVERY: Duration = Duration::from_secs(2);

/// This process's hold: exclusive until [`InstanceLock::share`], then shared; released when
/// dropped (or when the process dies).
#[derive(Debug)]
pub(crate) struct InstanceLock {
    hold: Hold,
    alone: bool,
}

#[derive(Debug)]
enum Hold {
    File(File),
    /// The connection holding the advisory lock; once shared, a task keeps it.
    Postgres {
        url: String,
        connection: Option<PgConnection>,
        keeper: Option<tokio::task::JoinHandle<()>>,
    },
    /// The file system refuses locks: never alone, so recovery stays conservative.
    None,
}

impl InstanceLock {
    /// Takes the lock exclusively if no other process holds it, else shares it (waiting for a
    /// recovery under way elsewhere to finish). `postgres_url` is the database's URL when it is
    /// PostgreSQL.
    pub(crate) async fn claim(data_dir: &Path, postgres_url: Option<&str>) -> Result<InstanceLock> {
        match postgres_url {
            Some(url) => claim_postgres(url).await,
            None => claim_file(data_dir).await,
        }
    }

    /// Whether the lock is held exclusively (no other process has the data open).
    pub(crate) fn alone(&self) -> bool {
        self.alone
    }

    /// Turns an exclusive hold into a shared one, so other processes may open the data too.
    pub(crate) async fn share(&mut self) -> Result<()> {
        match &mut self.hold {
            Hold::File(file) => {
                if self.alone {
                    file.unlock()?;
                    wait_shared(file).await?;
                }
            }
            Hold::Postgres {
                url,
                connection,
                keeper,
            } => {
                if let Some(mut conn) = connection.take() {
                    if self.alone {
                        // Shared first, then the exclusive hold released: no moment without one.
                        lock_shared(&mut conn).await?;
                        sqlx::query("SELECT pg_advisory_unlock($1)")
                            .bind(ADVISORY_KEY)
                            .execute(&mut conn)
                            .await?;
                    }
                    *keeper = Some(tokio::spawn(keep_shared(url.clone(), conn)));
                }
            }
            Hold::None => {}
        }
        self.alone = false;
        Ok(())
    }
}

impl Drop for InstanceLock {
    fn drop(&mut self) {
        // The keeper's connection closes with it, which releases the hold.
        if let Hold::Postgres {
            keeper: Some(keeper),
            ..
        } = &self.hold
        {
            keeper.abort();
        }
    }
}

async fn claim_file(data_dir: &Path) -> Result<InstanceLock> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(data_dir.join(INSTANCE_LOCK))?;
    match file.try_lock() {
        Ok(()) => Ok(InstanceLock {
            hold: Hold::File(file),
            alone: true,
        }),
        Err(TryLockError::WouldBlock) => {
            wait_shared(&file).await?;
            Ok(InstanceLock {
                hold: Hold::File(file),
                alone: false,
            })
        }
        Err(TryLockError::Error(e)) => {
            tracing::warn!(error = %e, "the data directory refuses file locks; start-up recovery is off");
            Ok(InstanceLock {
                hold: Hold::None,
                alone: false,
            })
        }
    }
}

/// Takes a shared hold on the file, waiting without blocking a runtime thread.
async fn wait_shared(file: &File) -> Result<()> {
    loop {
        match file.try_lock_shared() {
            Ok(()) => return Ok(()),
            Err(TryLockError::WouldBlock) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(TryLockError::Error(e)) => return Err(e.into()),
        }
    }
}

async fn claim_postgres(url: &str) -> Result<InstanceLock> {
    let mut conn = PgConnection::connect(url).await?;
    let (exclusive,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
        .bind(ADVISORY_KEY)
        .fetch_one(&mut conn)
        .await?;
    if !exclusive {
        // Waits while another instance recovers (it holds the lock exclusively until done).
        lock_shared(&mut conn).await?;
    }
    Ok(InstanceLock {
        hold: Hold::Postgres {
            url: url.to_owned(),
            connection: Some(conn),
            keeper: None,
        },
        alone: exclusive,
    })
}

async fn lock_shared(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("SELECT pg_advisory_lock_shared($1)")
        .bind(ADVISORY_KEY)
        .execute(conn)
        .await?;
    Ok(())
}

/// Keeps the shared hold for as long as the instance lives: checks its connection now and then,
/// and takes the hold again on a new connection when it broke.
async fn keep_shared(url: String, conn: PgConnection) {
    let mut conn = Some(conn);
    loop {
        tokio::time::sleep(CHECK_EVERY).await;
        if let Some(c) = conn.as_mut()
            && c.ping().await.is_ok()
        {
            continue;
        }
        conn = None;
        match PgConnection::connect(&url).await {
            Ok(mut fresh) => match lock_shared(&mut fresh).await {
                Ok(()) => {
                    tracing::info!("took the instance lock again on a new connection");
                    conn = Some(fresh);
                }
                Err(e) => tracing::warn!(error = %e, "could not take the instance lock again"),
            },
            Err(e) => tracing::warn!(error = %e, "could not reconnect to hold the instance lock"),
        }
    }
}

/// A server's claim on a SQLite database, held for as long as it serves: SQLite is one machine's
/// database, so a second server on the same file is refused (CLI commands still open the data
/// beside a running server). On PostgreSQL every instance may serve, and this claims nothing.
#[derive(Debug)]
pub struct ServingLock {
    _file: Option<File>,
}

impl crate::Taina {
    /// Claims the right to serve. On SQLite only one server may run on a database file.
    ///
    /// # Errors
    /// `Conflict` when another server already serves this SQLite database.
    pub fn claim_serving(&self) -> Result<ServingLock> {
        if self.backend() == crate::Backend::Postgres {
            return Ok(ServingLock { _file: None });
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.data_dir().join(SERVER_LOCK))?;
        match file.try_lock() {
            Ok(()) => Ok(ServingLock { _file: Some(file) }),
            Err(TryLockError::WouldBlock) => Err(taina_core::Error::conflict(
                "another `taina serve` already serves this SQLite database; several instances \
                 need PostgreSQL (database_url) and shared storage (storage_url), see docs/SCALING.md",
            )
            .into()),
            Err(TryLockError::Error(e)) => {
                tracing::warn!(error = %e, "the data directory refuses file locks; a second server on this SQLite database would not be noticed");
                Ok(ServingLock { _file: None })
            }
        }
    }
}
