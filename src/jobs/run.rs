//! Running one job: claiming the next due row under a lease, running it (the dispatch from a
//! [`Job`] to the service that does it), and recording how it went.

use taina_core::job::{AfterFailure, Failure, after_failure, lost_every_attempt};
use tracing::Instrument;

use super::{JOB_LEASE, Job, Outcome, Ran};
use crate::{Error, Result, Taina};

/// A job row as a worker claims it.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: String,
    payload: String,
    attempts: i64,
    max_attempts: i64,
}

/// Claims and runs the next due job; `None` when nothing is due.
pub(super) async fn run_one(taina: &Taina) -> Result<Option<Outcome>> {
    let inner = &taina.inner;
    let now = inner.clock.now();
    let mut tx = inner.db.begin().await?;
    let claimed: Option<ClaimedRow> = sqlx::query_as(
        "UPDATE jobs SET locked_until = $1, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM jobs WHERE failed_at IS NULL AND finished_at IS NULL \
                     AND run_at <= $2 AND (locked_until IS NULL OR locked_until <= $2) \
                     ORDER BY run_at, id LIMIT 1) \
         AND failed_at IS NULL AND finished_at IS NULL \
         AND (locked_until IS NULL OR locked_until <= $2) \
         RETURNING id, payload, attempts, max_attempts",
    )
    .bind(now.plus(JOB_LEASE).as_millis())
    .bind(now.as_millis())
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    let Some(row) = claimed else {
        return Ok(None);
    };
    let attempts = u32::try_from(row.attempts).unwrap_or(u32::MAX);
    let max = u32::try_from(row.max_attempts).unwrap_or(1);
    let result = if lost_every_attempt(attempts, max) {
        // Every attempt ended with its worker (the server crashed or stopped while it ran): this
        // one is not run again, lest it take the server down for ever.
        Ok(Ran::Failed(
            "its worker stopped during every attempt (the server crashed or was stopped while it ran)"
                .to_owned(),
        ))
    } else {
        match serde_json::from_str::<Job>(&row.payload) {
            Ok(job) => {
                let span = tracing::info_span!("job", id = %row.id, kind = job.kind(), attempt = row.attempts);
                run_with_lease(taina, &row.id, execute(taina, &job).instrument(span)).await
            }
            Err(e) => Err(Error::Corrupt(format!("unreadable job payload: {e}"))),
        }
    };
    let now = inner.clock.now();
    let mut tx = inner.db.begin().await?;
    let failure = match result {
        Ok(Ran::Done) => None,
        Ok(Ran::Failed(message)) => Some((message, Failure::Permanent)),
        Err(e) => Some((e.to_string(), Failure::Transient)),
    };
    let outcome = match failure {
        None => {
            sqlx::query("UPDATE jobs SET finished_at = $1, locked_until = NULL WHERE id = $2")
                .bind(now.as_millis())
                .bind(&row.id)
                .execute(&mut *tx)
                .await?;
            Outcome::Succeeded
        }
        Some((message, failure)) => match after_failure(attempts, max, failure) {
            AfterFailure::RetryIn(delay) => {
                tracing::warn!(job = %row.id, attempts, error = %message, "job failed; will retry");
                sqlx::query(
                        "UPDATE jobs SET run_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3",
                    )
                    .bind(now.plus(delay).as_millis())
                    .bind(&message)
                    .bind(&row.id)
                    .execute(&mut *tx)
                    .await?;
                Outcome::Retrying
            }
            AfterFailure::GiveUp => {
                tracing::error!(job = %row.id, attempts, error = %message, "job failed for good");
                sqlx::query(
                        "UPDATE jobs SET failed_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3",
                    )
                    .bind(now.as_millis())
                    .bind(&message)
                    .bind(&row.id)
                    .execute(&mut *tx)
                    .await?;
                Outcome::GivenUp
            }
        },
    };
    tx.commit().await?;
    Ok(Some(outcome))
}

/// Runs a job, renewing its lease while it runs so that a long job is not taken for a crashed one.
async fn run_with_lease(
    taina: &Taina,
    id: &str,
    work: impl std::future::Future<Output = Result<Ran>>,
) -> Result<Ran> {
    let renew = async {
        let mut tick = tokio::time::interval(JOB_LEASE / 3);
        tick.tick().await;
        loop {
            tick.tick().await;
            let inner = &taina.inner;
            let until = inner.clock.now().plus(JOB_LEASE).as_millis();
            let renewed = async {
                let mut tx = inner.db.begin().await?;
                sqlx::query("UPDATE jobs SET locked_until = $1 WHERE id = $2")
                    .bind(until)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok::<_, Error>(())
            };
            if let Err(e) = renewed.await {
                tracing::warn!(job = id, error = %e, "could not renew a job's lease");
            }
        }
    };
    tokio::select! {
        result = work => result,
        never = renew => never,
    }
}

/// Does what a job says.
async fn execute(taina: &Taina, job: &Job) -> Result<Ran> {
    #[cfg(feature = "testing")]
    taina.inner.faults.check(&format!("job.{}", job.kind()))?;
    match job {
        Job::DeleteBlob { path } => taina.ybira().delete_unreferenced_blob(path).await?,
        Job::Previews { file_id } => return taina.ybira().make_previews(file_id).await,
        Job::DeletePreviews { dir } => taina.inner.blobs.delete_prefix(dir).await?,
        Job::AdoptPhoto {
            file_id,
            client_file_time,
        } => {
            taina
                .jaci()
                .adopt_left_over(file_id, *client_file_time)
                .await?
        }
        Job::YbiraCleanup => {
            taina.ybira().cleanup().await?;
        }
        Job::IntegrityCheck { deep, repair } => {
            let report = taina
                .ybira()
                .check_integrity(crate::ybira::IntegrityOptions {
                    deep: *deep,
                    repair: *repair,
                })
                .await?;
            if report.is_clean() {
                tracing::info!(blobs = report.blobs_checked, "integrity check: clean");
            } else {
                tracing::warn!(?report, "integrity check found problems");
            }
        }
    }
    Ok(Ran::Done)
}
