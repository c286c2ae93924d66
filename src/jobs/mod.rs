//! The durable job queue: work that must happen after a change, even across restarts.
//!
//! A job is a row in `jobs`, inserted with [`enqueue`] inside the same transaction as the change that
//! needs it, so either both happen or neither. Workers claim due jobs with a lease
//! ([`JOB_LEASE`]): a worker that dies mid-job leaves the lease to run out and the job runs again.
//! A failed attempt is retried with backoff ([`taina_core::job::after_failure`]); a job that has used
//! its attempts, that failed in a way trying again cannot mend ([`Ran::Failed`]: a file that
//! crashes its decoder), or whose worker died in every attempt, is kept with its last error for an
//! admin to see and [`Jobs::retry`]. Finished jobs
//! are kept for [`FINISHED_RETENTION`] (so a job keyed by its day runs once that day) and then swept.
//!
//! No crate covered both SQLite and PostgreSQL through one transaction type (apalis keeps its own
//! pools per backend; sqlxmq and underway are PostgreSQL-only), so the queue is these few queries.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use taina_core::{JobId, Timestamp};

use crate::{Error, Result, Taina};

mod run;
mod workers;

use run::run_one;
pub(crate) use workers::Workers;

/// How long a claimed job is a worker's before another may take it over.
pub const JOB_LEASE: Duration = Duration::from_secs(30 * 60);
/// How long finished jobs are kept before they are swept.
pub const FINISHED_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// Attempts a job gets unless it says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
/// How often idle workers look for due jobs (they are also woken when a job is enqueued here).
const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// The work a job does. Stored as JSON; add variants, never change the meaning of old ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Remove a blob's bytes from storage once no file refers to them.
    DeleteBlob {
        /// The blob's storage path.
        path: String,
    },
    /// Purge trash older than the retention period and release the quota of crashed uploads.
    YbiraCleanup,
    /// Make a file's previews (thumbnails), and mark its photo processed.
    Previews {
        /// The Ybira file.
        file_id: taina_core::ItemId,
    },
    /// Add a file stored for the photo library to it, if its upload could not (its process died
    /// between storing the file and adding the photo); nothing if the photo is there.
    AdoptPhoto {
        /// The Ybira file.
        file_id: taina_core::ItemId,
        /// The file's own time on the client, as its upload said.
        client_file_time: Option<Timestamp>,
    },
    /// Remove a purged file's previews.
    DeletePreviews {
        /// The directory holding them.
        dir: String,
    },
    /// Compare the database with storage (and repair, if asked).
    IntegrityCheck {
        /// Also hash every blob.
        deep: bool,
        /// Quarantine orphans, mark missing blobs, correct quota drift.
        repair: bool,
    },
}

impl Job {
    /// The job's kind, as stored in the `kind` column and shown to admins.
    pub fn kind(&self) -> &'static str {
        match self {
            Job::DeleteBlob { .. } => "delete_blob",
            Job::YbiraCleanup => "ybira_cleanup",
            Job::IntegrityCheck { .. } => "integrity_check",
            Job::Previews { .. } => "previews",
            Job::DeletePreviews { .. } => "delete_previews",
            Job::AdoptPhoto { .. } => "adopt_photo",
        }
    }
}

/// The unique key of a file's `adopt_photo` job ([`Job::AdoptPhoto`]): one per file at a time,
/// deleted in the transaction that adds the photo.
pub(crate) fn adopt_photo_key(file: &taina_core::ItemId) -> String {
    format!("adopt_photo:{file}")
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// What to do.
    pub job: Job,
    /// When to run it first.
    pub run_at: Timestamp,
    /// At most one job with this key exists at a time (and, while kept, after it finished).
    pub unique_key: Option<String>,
    /// Attempts before it is given up.
    pub max_attempts: u32,
}

impl NewJob {
    /// A job to run now, with the default attempts and no key.
    pub fn now(job: Job, now: Timestamp) -> NewJob {
        NewJob {
            job,
            run_at: now,
            unique_key: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

/// Inserts a job inside the caller's transaction. A job whose `unique_key` is taken is dropped.
pub async fn enqueue(conn: &mut AnyConnection, job: NewJob, now: Timestamp) -> Result<()> {
    let payload = serde_json::to_string(&job.job).map_err(|e| Error::Encode(e.to_string()))?;
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, unique_key, run_at, max_attempts, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (unique_key) DO NOTHING",
    )
    .bind(crate::random::new_id(JobId::from_random).as_str())
    .bind(job.job.kind())
    .bind(payload)
    .bind(job.unique_key)
    .bind(job.run_at.as_millis())
    .bind(i64::from(job.max_attempts))
    .bind(now.as_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Releases the leases of every unfinished job, for a start-up that knows no other process runs
/// jobs on this data (the start-up recovery, when it holds the storage alone): the process that
/// claimed them is dead, so waiting out [`JOB_LEASE`] would only hold up previews and freed
/// storage for half an hour. The attempt stays counted, so a job that keeps taking its worker
/// down is still given up ([`taina_core::job::lost_every_attempt`]). Answers how many were released.
pub(crate) async fn release_leases(db: &crate::db::Db) -> Result<u64> {
    let mut tx = db.begin().await?;
    let released = sqlx::query(
        "UPDATE jobs SET locked_until = NULL \
         WHERE finished_at IS NULL AND failed_at IS NULL AND locked_until IS NOT NULL",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(released)
}

/// Jobs by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct JobCounts {
    /// Waiting to run (or to run again).
    pub queued: u64,
    /// Running now (claimed under a lease).
    pub running: u64,
    /// Given up, kept for an admin to retry.
    pub failed: u64,
}

/// A job that has failed for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedJob {
    /// Its id.
    pub id: JobId,
    /// What it was to do.
    pub job: Job,
    /// Attempts made.
    pub attempts: u32,
    /// The last attempt's error.
    pub last_error: String,
    /// When it was given up.
    pub failed_at: Timestamp,
}

/// What one [`Jobs::run_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Jobs that finished.
    pub succeeded: u32,
    /// Jobs that failed and will run again.
    pub retrying: u32,
    /// Jobs that failed for good.
    pub given_up: u32,
}

/// The job queue. Get it from [`Taina::jobs`].
#[derive(Clone, Copy)]
pub struct Jobs<'a> {
    pub(crate) taina: &'a Taina,
}

enum Outcome {
    Succeeded,
    Retrying,
    GivenUp,
}

/// How a job's run ended, when nothing around it failed (failures of the machinery are errors,
/// and retried).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ran {
    /// Done.
    Done,
    /// Failed because of what it works on, in a way that running it again would repeat (a file
    /// that crashes its decoder): given up at once, kept with this error.
    Failed(String),
}

impl Jobs<'_> {
    /// Enqueues a job on its own (outside any other change).
    pub async fn enqueue(&self, job: NewJob) -> Result<()> {
        let inner = &self.taina.inner;
        let mut tx = inner.db.begin().await?;
        enqueue(&mut tx, job, inner.clock.now()).await?;
        tx.commit().await?;
        inner.job_notify.notify_waiters();
        Ok(())
    }

    /// Runs due jobs one after another until none is due, and says what happened. Tests and the
    /// CLI call this; the background workers do the same continuously.
    pub async fn run_due(&self) -> Result<RunReport> {
        let mut report = RunReport::default();
        while let Some(outcome) = run_one(self.taina).await? {
            match outcome {
                Outcome::Succeeded => report.succeeded += 1,
                Outcome::Retrying => report.retrying += 1,
                Outcome::GivenUp => report.given_up += 1,
            }
        }
        Ok(report)
    }

    /// Jobs that are waiting or running.
    pub async fn pending(&self) -> Result<u64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM jobs WHERE failed_at IS NULL AND finished_at IS NULL",
        )
        .fetch_one(self.taina.inner.db.reader())
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// How many jobs wait, run and have failed, now.
    pub async fn counts(&self) -> Result<JobCounts> {
        let now = self.taina.inner.clock.now().as_millis();
        let (queued, running, failed): (i64, i64, i64) = sqlx::query_as(
            "SELECT \
             COALESCE(SUM(CASE WHEN failed_at IS NULL AND finished_at IS NULL \
                 AND (locked_until IS NULL OR locked_until <= $1) THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN failed_at IS NULL AND finished_at IS NULL \
                 AND locked_until > $1 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) FROM jobs",
        )
        .bind(now)
        .fetch_one(self.taina.inner.db.reader())
        .await?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(JobCounts {
            queued: n(queued),
            running: n(running),
            failed: n(failed),
        })
    }

    /// Jobs that failed for good, newest first.
    pub async fn failed(&self) -> Result<Vec<FailedJob>> {
        let rows: Vec<(String, String, i64, Option<String>, i64)> = sqlx::query_as(
            "SELECT id, payload, attempts, last_error, failed_at FROM jobs \
             WHERE failed_at IS NOT NULL ORDER BY failed_at DESC, id LIMIT 1000",
        )
        .fetch_all(self.taina.inner.db.reader())
        .await?;
        rows.into_iter()
            .map(|(id, payload, attempts, last_error, failed_at)| {
                Ok(FailedJob {
                    id: crate::db::parse_id(&id, JobId::parse)?,
                    job: serde_json::from_str(&payload)
                        .map_err(|e| Error::Corrupt(format!("job {id}: {e}")))?,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    last_error: last_error.unwrap_or_default(),
                    failed_at: Timestamp::from_millis(failed_at),
                })
            })
            .collect()
    }

    /// Gives a failed job a fresh set of attempts, to run now.
    pub async fn retry(&self, id: &JobId) -> Result<()> {
        let inner = &self.taina.inner;
        let mut tx = inner.db.begin().await?;
        let done = sqlx::query(
            "UPDATE jobs SET failed_at = NULL, attempts = 0, run_at = $1 \
             WHERE id = $2 AND failed_at IS NOT NULL",
        )
        .bind(inner.clock.now().as_millis())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(taina_core::Error::not_found("failed job").into());
        }
        tx.commit().await?;
        inner.job_notify.notify_waiters();
        Ok(())
    }
}

/// Removes finished jobs older than [`FINISHED_RETENTION`].
pub(crate) async fn sweep_finished(conn: &mut AnyConnection, now: Timestamp) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at <= $1")
            .bind(now.minus(FINISHED_RETENTION).as_millis())
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    )
}
