//! Upload decisions: the per-file limit, and how much quota to reserve while bytes stream in.
//!
//! An upload reserves quota ahead of the bytes it receives, in steps, so that concurrent uploads
//! can never together pass the quota, and a large file is refused as soon as it no longer fits,
//! not after it has all arrived.

use taina_core::Error;

/// The smallest step in which an upload reserves quota while it streams (8 MiB).
pub const RESERVATION_STEP: u64 = 8 * 1024 * 1024;

/// Checks that `received` bytes are within the per-file limit.
pub fn check_file_size(received: u64, limit: u64) -> Result<(), Error> {
    if received > limit {
        return Err(Error::TooLarge {
            what: "file",
            limit_bytes: limit,
        });
    }
    Ok(())
}

/// A top-up of an upload's quota reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopUp {
    /// What to ask for first: a whole step, or the declared size, so that the database is not asked
    /// for every chunk.
    pub preferred: u64,
    /// The least that will do (what arrived beyond the reservation), asked for when the preferred
    /// amount no longer fits the quota.
    pub minimum: u64,
}

/// What more to reserve once `received` bytes have arrived with `reserved` already reserved: nothing
/// while the reservation covers them; otherwise at least what is missing, preferably in
/// [`RESERVATION_STEP`]s (or up to the `declared` size when the client said how big the file is),
/// never past the per-file `limit`.
pub fn reservation_needed(
    received: u64,
    reserved: u64,
    limit: u64,
    declared: Option<u64>,
) -> Option<TopUp> {
    if received <= reserved {
        return None;
    }
    let minimum = received - reserved;
    let target = match declared {
        Some(size) if size >= received => size,
        _ => reserved.saturating_add(minimum.div_ceil(RESERVATION_STEP) * RESERVATION_STEP),
    };
    let target = target.min(limit.max(received));
    Some(TopUp {
        preferred: target - reserved,
        minimum,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_limit_is_inclusive() {
        assert!(check_file_size(100, 100).is_ok());
        assert!(check_file_size(101, 100).is_err());
        assert_eq!(reservation_needed(0, 0, 100, None), None);
        let top = |preferred, minimum| Some(TopUp { preferred, minimum });
        assert_eq!(reservation_needed(1, 0, 100, None), top(100, 1));
        assert_eq!(
            reservation_needed(1, 0, u64::MAX, None),
            top(RESERVATION_STEP, 1)
        );
        assert_eq!(reservation_needed(5, 0, u64::MAX, Some(50)), top(50, 5));
        assert_eq!(
            reservation_needed(60, 50, u64::MAX, Some(50)),
            top(RESERVATION_STEP, 10)
        );
    }

    proptest! {
        /// After reserving what is needed the reservation covers what arrived, and never reaches
        /// past the limit by more than what arrived beyond it.
        #[test]
        fn reservations_cover_what_arrived(
            received in 0u64..1 << 40, reserved in 0u64..1 << 40, limit in 0u64..1 << 40,
            declared in proptest::option::of(0u64..1 << 40),
        ) {
            let reserved = reserved.min(limit.max(received));
            match reservation_needed(received, reserved, limit, declared) {
                None => prop_assert!(received <= reserved),
                Some(t) => {
                    prop_assert_eq!(reserved + t.minimum, received);
                    prop_assert!(t.preferred >= t.minimum);
                    prop_assert!(reserved + t.preferred <= limit.max(received));
                }
            }
        }
    }
}
