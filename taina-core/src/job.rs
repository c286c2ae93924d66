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

/// Decides after the `attempts`-th attempt (counting from 1) of a job allowed `max_attempts`.
///
/// ```
/// use std::time::Duration;
/// use taina_core::job::{after_failure, AfterFailure};
/// assert_eq!(after_failure(1, 5), AfterFailure::RetryIn(Duration::from_secs(10)));
/// assert_eq!(after_failure(3, 5), AfterFailure::RetryIn(Duration::from_secs(40)));
/// assert_eq!(after_failure(5, 5), AfterFailure::GiveUp);
/// ```
pub fn after_failure(attempts: u32, max_attempts: u32) -> AfterFailure {
    if attempts >= max_attempts {
        return AfterFailure::GiveUp;
    }
    let doublings = attempts.saturating_sub(1).min(20);
    let delay = FIRST_RETRY.saturating_mul(1 << doublings).min(MAX_RETRY);
    AfterFailure::RetryIn(delay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn delays_grow_and_stay_bounded(attempts in 1u32..100, max in 1u32..100) {
            match after_failure(attempts, max) {
                AfterFailure::GiveUp => prop_assert!(attempts >= max),
                AfterFailure::RetryIn(d) => {
                    prop_assert!(attempts < max);
                    prop_assert!(d >= FIRST_RETRY && d <= MAX_RETRY);
                    if let AfterFailure::RetryIn(next) = after_failure(attempts + 1, max + 1) {
                        prop_assert!(next >= d);
                    }
                }
            }
        }
    }
}
