//! Storage quota math.

use serde::{Deserialize, Serialize};

use crate::Error;

/// A community's storage use against its quota, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quota {
    /// Bytes in use (including reservations of uploads in flight).
    pub used_bytes: i64,
    /// Bytes allowed.
    pub quota_bytes: i64,
}

impl Quota {
    /// Bytes still free (never negative).
    pub fn available(&self) -> i64 {
        self.quota_bytes.saturating_sub(self.used_bytes).max(0)
    }

    /// `Ok` with the use after adding `bytes`, or quota exceeded.
    pub fn reserve(&self, bytes: i64) -> Result<i64, Error> {
        let after = self.used_bytes.saturating_add(bytes);
        if bytes > 0 && after > self.quota_bytes {
            return Err(Error::QuotaExceeded {
                needed_bytes: bytes,
                available_bytes: self.available(),
            });
        }
        Ok(after)
    }
}

/// Checks a quota an admin sets: not negative.
pub fn check_quota_bytes(quota_bytes: i64) -> Result<(), Error> {
    if quota_bytes < 0 {
        return Err(Error::invalid(
            "storage_quota_bytes",
            "must not be negative",
        ));
    }
    Ok(())
}

/// Checks a quota a community's admin sets: not negative, and at most the operator's `ceiling`
/// (`None`: no ceiling). A quota above the ceiling that the community already has (an operator
/// granted it) may be kept or lowered, never raised.
pub fn check_admin_quota_bytes(
    quota_bytes: i64,
    current_bytes: i64,
    ceiling: Option<i64>,
) -> Result<(), Error> {
    check_quota_bytes(quota_bytes)?;
    match ceiling {
        Some(ceiling) if quota_bytes > ceiling.max(current_bytes) => Err(Error::invalid(
            "storage_quota_bytes",
            format!("must be at most {ceiling} bytes on this server (ask its operator for more)"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn refusals_do_not_tell_what_is_left() {
        // With deduplication, what is left would tell whether a file exists in the community.
        let q = Quota {
            used_bytes: 876_543,
            quota_bytes: 1_000_000,
        };
        let shown = q.reserve(200_000).unwrap_err().to_string();
        assert!(shown.contains("200000"), "{shown}");
        assert!(!shown.contains("123457"), "{shown}");
    }

    #[test]
    fn admins_stay_under_the_operators_ceiling() {
        assert!(check_admin_quota_bytes(100, 10, Some(100)).is_ok());
        let over = check_admin_quota_bytes(101, 10, Some(100)).unwrap_err();
        assert_eq!(over.field(), Some("storage_quota_bytes"));
        // An operator granted more: kept or lowered, not raised.
        assert!(check_admin_quota_bytes(500, 500, Some(100)).is_ok());
        assert!(check_admin_quota_bytes(300, 500, Some(100)).is_ok());
        assert!(check_admin_quota_bytes(501, 500, Some(100)).is_err());
        assert!(check_admin_quota_bytes(i64::MAX, 0, None).is_ok());
        assert!(check_admin_quota_bytes(-1, 0, None).is_err());
    }

    proptest! {
        #[test]
        fn reservations_never_pass_the_quota(used in 0i64..1_000, quota in 0i64..1_000, bytes in 0i64..1_000) {
            let q = Quota { used_bytes: used.min(quota), quota_bytes: quota };
            match q.reserve(bytes) {
                Ok(after) => prop_assert!(after <= quota || bytes == 0),
                Err(e) => {
                    let is_quota = matches!(e, Error::QuotaExceeded { .. });
                    prop_assert!(is_quota);
                }
            }
        }
    }
}
