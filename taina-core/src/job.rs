//! Background job retries: when a failed job runs again, and when it is given up.

use std::time::Duration;

/// The first retry's delay; each later one doubles it.
pub const FIRST_RETRY: Duration = Duration::from_secs(10);
/// The longest delay between two attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(3600);

/// What happens to a job whose attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Run it again after this delay.
    RetryIn(Duration),
    /// Stop: it has used its attempts; keep it, with its error, for an admin to see.
    GiveUp,
}

/// How an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Something around the job failed (the database, storage, a missing program): trying again
    /// later may work.
    Transient,
    /// The job's own input makes it fail, and would again (a file that crashes or exhausts the
    /// decoder): trying again would only cost the same again.
    Permanent,
}

/// Decides after the `attempts`-th attempt (counting from 1) of a job allowed `max_attempts`. A
/// [`Failure::Permanent`] failure is given up at once.
///
/// ```
/// use std::time::Duration;
/// use taina_core::job::{after_failure, AfterFailure, Failure};
/// let transient = Failure::Transient;
/// assert_eq!(after_failure(1, 5, transient), AfterFailure::RetryIn(Duration::from_secs(10)));
/// assert_eq!(after_failure(3, 5, transient), AfterFailure::RetryIn(Duration::from_secs(40)));
/// assert_eq!(after_failure(5, 5, transient), AfterFailure::GiveUp);
/// assert_eq!(after_failure(1, 5, Failure::Permanent), AfterFailure::GiveUp);
/// ```
pub fn after_failure(attempts: u32, max_attempts: u32, failure: Failure) -> AfterFailure {
    if attempts >= max_attempts || failure == Failure::Permanent {
        return AfterFailure::GiveUp;
    }
    let doublings = attempts.saturating_sub(1).min(20);
    let delay = FIRST_RETRY.saturating_mul(1 << doublings).min(MAX_RETRY);
    AfterFailure::RetryIn(delay)
}

/// Whether a claimed job, now at its `attempts`-th attempt, has used up its attempts without any
/// of them recording an outcome: each ended with its worker (the server stopped or crashed while
/// it ran). It is given up instead of run, so a job that kills its worker is not run for ever.
///
/// ```
/// use taina_core::job::lost_every_attempt;
/// assert!(!lost_every_attempt(8, 8));
/// assert!(lost_every_attempt(9, 8));
/// ```
pub fn lost_every_attempt(attempts: u32, max_attempts: u32) -> bool {
    attempts > max_attempts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn delays_grow_and_stay_bounded(attempts in 1u32..100, max in 1u32..100) {
            match after_failure(attempts, max, Failure::Transient) {
                AfterFailure::GiveUp => prop_assert!(attempts >= max),
                AfterFailure::RetryIn(d) => {
                    prop_assert!(attempts < max);
                    prop_assert!(d >= FIRST_RETRY && d <= MAX_RETRY);
                    if let AfterFailure::RetryIn(next) =
                        after_failure(attempts + 1, max + 1, Failure::Transient)
                    {
                        prop_assert!(next >= d);
                    }
                }
            }
        }

        #[test]
        fn permanent_failures_are_given_up_at_once(attempts in 1u32..100, max in 1u32..100) {
            prop_assert_eq!(after_failure(attempts, max, Failure::Permanent), AfterFailure::GiveUp);
        }
    }
}
