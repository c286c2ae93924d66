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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
