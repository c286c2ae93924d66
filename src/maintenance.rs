//! Background upkeep that runs while an instance is open: expired sessions, long-expired invites and
//! old finished jobs are swept periodically, and the durable jobs for Ybira's upkeep (every sweep)
//! and the integrity check (once a day) are enqueued. The task stops when the last
//! [`crate::Taina`] handle is dropped.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::db::Db;
use crate::jobs::{Job, NewJob, enqueue, sweep_finished};
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
    /// Finished jobs older than [`crate::jobs::FINISHED_RETENTION`] deleted.
    pub jobs: u64,
    /// Sign-in attempts that left the login throttle's window, deleted.
    pub login_attempts: u64,
    /// What else lapsed: device sign-ins, WebDAV locks and desktop litter kept aside.
    pub lapsed: u64,
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
    let jobs = sweep_finished(&mut tx, now).await?;
    let login_attempts = crate::accounts::sweep_login_attempts(&mut tx, now).await?;
    let lapsed = crate::ybira::dav::sweep_lapsed(&mut tx, now).await?
        + sqlx::query("DELETE FROM login_flows WHERE expires_at <= $1")
            .bind(now.as_millis())
            .execute(&mut *tx)
            .await?
            .rows_affected();
    // Upkeep runs at most once an hour, the integrity check once a day (keys name the period).
    let stamp = now.to_rfc3339();
    let upkeep = NewJob {
        unique_key: Some(format!("ybira_cleanup:{}", &stamp[..13])),
        ..NewJob::now(Job::YbiraCleanup, now)
    };
    enqueue(&mut tx, upkeep, now).await?;
    let day = &stamp[..10];
    let integrity = NewJob {
        unique_key: Some(format!("integrity_check:{day}")),
        max_attempts: 3,
        ..NewJob::now(
            Job::IntegrityCheck {
                deep: false,
                repair: false,
            },
            now,
        )
    };
    enqueue(&mut tx, integrity, now).await?;
    tx.commit().await?;
    Ok(SweepReport {
        sessions,
        invites,
        jobs,
        login_attempts,
        lapsed,
    })
}

/// The running background task; aborted when dropped.
#[derive(Debug)]
pub(crate) struct Background(JoinHandle<()>);

impl Background {
    /// Starts the periodic sweep.
    pub(crate) fn start(db: Db, clock: Arc<dyn Clock>, jobs: Arc<Notify>) -> Background {
        Background(tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_INTERVAL);
            loop {
                tick.tick().await;
                match sweep(&db, clock.as_ref()).await {
                    Ok(report) => {
                        if report != SweepReport::default() {
                            tracing::info!(?report, "swept expired sessions, invites and jobs");
                        }
                        jobs.notify_waiters();
                    }
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
