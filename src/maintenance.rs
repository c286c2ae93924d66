//! Background upkeep that runs while an instance is open: expired sessions and long-expired invites
//! are swept periodically. The task stops when the last [`crate::Taina`] handle is dropped.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::db::Db;
use crate::{Clock, Result};

/// How often the sweep runs.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(10 * 60);
/// How long used-up or expired invites stay listed for admins before they are swept.
pub const INVITE_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// What one sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Expired sessions deleted.
    pub sessions: u64,
    /// Invites expired for longer than [`INVITE_RETENTION`] deleted.
    pub invites: u64,
}

/// Deletes expired sessions and long-expired invites.
#[tracing::instrument(skip_all)]
pub async fn sweep(db: &Db, clock: &dyn Clock) -> Result<SweepReport> {
    let now = clock.now();
    let mut tx = db.begin().await?;
    let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now.as_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let invites = sqlx::query("DELETE FROM invites WHERE expires_at <= $1")
        .bind(now.minus(INVITE_RETENTION).as_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(SweepReport { sessions, invites })
}

/// The running background task; aborted when dropped.
#[derive(Debug)]
pub(crate) struct Background(JoinHandle<()>);

impl Background {
    /// Starts the periodic sweep.
    pub(crate) fn start(db: Db, clock: Arc<dyn Clock>) -> Background {
        Background(tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_INTERVAL);
            loop {
                tick.tick().await;
                match sweep(&db, clock.as_ref()).await {
                    Ok(report) if report != SweepReport::default() => {
                        tracing::info!(?report, "swept expired sessions and invites");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "maintenance sweep failed"),
                }
            }
        }))
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.0.abort();
    }
}
