//! Upload decisions: the per-file limit, how much quota to reserve while bytes stream in, and
//! whether a resumable upload may be opened and when it expires.
//!
//! An upload reserves quota ahead of the bytes it receives, in steps, so that concurrent uploads
//! can never together pass the quota, and a large file is refused as soon as it no longer fits,
//! not after it has all arrived.
//!
//! A resumable upload reserves its whole announced length when it is opened, so one person may
//! hold only so many open at once (in number and in bytes), and each expires a fixed time after it
//! was opened, or sooner when no byte arrives for a while: nobody can lock a community's quota
//! with uploads that never finish.

use std::time::Duration;

use taina_core::{Error, Timestamp};

/// The smallest step in which an upload reserves quota while it streams (8 MiB).
pub const RESERVATION_STEP: u64 = 8 * 1024 * 1024;

/// Files larger than this are best sent as resumable (tus) uploads, which survive a dropped
/// connection; smaller ones in one request (8 MiB).
pub const RESUMABLE_THRESHOLD_BYTES: u64 = 8 * 1024 * 1024;

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

/// The limits on one person's open resumable uploads (from the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumableLimits {
    /// Uploads one person may have open at once.
    pub max_open: u64,
    /// Bytes one person's open uploads may announce together.
    pub max_open_bytes: u64,
    /// How long an upload may take from when it was opened, however active it is.
    pub lifetime: Duration,
    /// How long an upload may wait for its next byte.
    pub idle: Duration,
}

/// What one person already has open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenUploads {
    /// How many uploads.
    pub count: u64,
    /// The lengths they announced, together.
    pub bytes: u64,
}

/// Whether someone who has `open` uploads may open another of `length` bytes: "conflict" when they
/// have as many as allowed, "too large" when the lengths together would pass the limit.
pub fn check_resumable_open(
    open: OpenUploads,
    length: u64,
    limits: &ResumableLimits,
) -> Result<(), Error> {
    if open.count >= limits.max_open {
        return Err(Error::conflict(format!(
            "you have {} unfinished uploads, the most allowed at once: finish or cancel one first",
            open.count
        )));
    }
    if open.bytes.saturating_add(length) > limits.max_open_bytes {
        return Err(Error::TooLarge {
            what: "your unfinished uploads together",
            limit_bytes: limits.max_open_bytes,
        });
    }
    Ok(())
}

/// The instants before which an upload has expired at `now`: opened at or before the first, or
/// last given a byte at or before the second.
pub fn resumable_expiry_cutoffs(
    now: Timestamp,
    limits: &ResumableLimits,
) -> (Timestamp, Timestamp) {
    (now.minus(limits.lifetime), now.minus(limits.idle))
}

/// Whether an upload opened at `created_at` that last received a byte at `last_byte_at` (its
/// opening, before the first) has expired at `now`.
pub fn resumable_expired(
    created_at: Timestamp,
    last_byte_at: Timestamp,
    now: Timestamp,
    limits: &ResumableLimits,
) -> bool {
    let (opened_before, idle_before) = resumable_expiry_cutoffs(now, limits);
    created_at <= opened_before || last_byte_at <= idle_before
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMITS: ResumableLimits = ResumableLimits {
        max_open: 2,
        max_open_bytes: 100,
        lifetime: Duration::from_secs(24 * 3600),
        idle: Duration::from_secs(3600),
    };

    #[test]
    fn open_uploads_are_capped_in_number_and_bytes() {
        let open = |count, bytes| OpenUploads { count, bytes };
        assert!(check_resumable_open(open(0, 0), 100, &LIMITS).is_ok());
        assert!(check_resumable_open(open(1, 60), 40, &LIMITS).is_ok());
        let kind = |r: Result<(), Error>| r.unwrap_err().kind();
        assert_eq!(
            kind(check_resumable_open(open(2, 0), 1, &LIMITS)),
            taina_core::ErrorKind::Conflict
        );
        assert_eq!(
            kind(check_resumable_open(open(1, 60), 41, &LIMITS)),
            taina_core::ErrorKind::TooLarge
        );
        assert_eq!(
            kind(check_resumable_open(open(0, 0), u64::MAX, &LIMITS)),
            taina_core::ErrorKind::TooLarge
        );
    }

    #[test]
    fn uploads_expire_from_their_opening_and_from_their_last_byte() {
        let hour = 3_600_000;
        let at = |h: i64| Timestamp::from_millis(1_000 * hour + h * hour / 2);
        // Opened at 0, bytes every half hour: alive until the day is over, however active.
        assert!(!resumable_expired(at(0), at(46), at(47), &LIMITS));
        assert!(resumable_expired(at(0), at(47), at(48), &LIMITS));
        // Opened at 0, nothing since: gone after an hour.
        assert!(!resumable_expired(at(0), at(0), at(1), &LIMITS));
        assert!(resumable_expired(at(0), at(0), at(2), &LIMITS));
        let (opened_before, idle_before) = resumable_expiry_cutoffs(at(48), &LIMITS);
        assert_eq!((opened_before, idle_before), (at(0), at(46)));
    }

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
