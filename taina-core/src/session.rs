//! Session lifetime: fixed time-to-live with sliding renewal.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{SessionId, Timestamp};

/// How long sessions live and when they are renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused this long expires.
    pub ttl: Duration,
    /// A session used at least this long after its last renewal is renewed (bounds database writes
    /// to one per session per interval).
    pub renew_after: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(30 * 24 * 3600),
            renew_after: Duration::from_secs(3600),
        }
    }
}

/// What to do with a session presented at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionCheck {
    /// Valid; nothing to write.
    Valid,
    /// Valid; extend it to this expiry and record the use.
    Renew {
        /// The new expiry.
        expires_at: Timestamp,
    },
    /// Expired: refuse it (and delete it).
    Expired,
}

impl SessionPolicy {
    /// The expiry of a session created or renewed at `now`.
    pub fn expiry_from(&self, now: Timestamp) -> Timestamp {
        now.plus(self.ttl)
    }

    /// Decides on a session last renewed at `last_seen_at` that expires at `expires_at`.
    pub fn check(
        &self,
        now: Timestamp,
        last_seen_at: Timestamp,
        expires_at: Timestamp,
    ) -> SessionCheck {
        if now >= expires_at {
            SessionCheck::Expired
        } else if now.since(last_seen_at) >= self.renew_after {
            SessionCheck::Renew {
                expires_at: self.expiry_from(now),
            }
        } else {
            SessionCheck::Valid
        }
    }
}

/// A session as its owner sees it in their list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SessionInfo {
    /// Its id.
    pub id: SessionId,
    /// The client that opened it.
    pub user_agent: Option<String>,
    /// When it was opened.
    pub created_at: Timestamp,
    /// When it was last renewed.
    pub last_seen_at: Timestamp,
    /// When it expires unless used.
    pub expires_at: Timestamp,
    /// Whether this is the session making the request.
    pub current: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn renews_and_expires() {
        let p = SessionPolicy::default();
        let t0 = Timestamp::from_millis(0);
        let exp = p.expiry_from(t0);
        assert_eq!(
            p.check(t0.plus(Duration::from_secs(60)), t0, exp),
            SessionCheck::Valid
        );
        let later = t0.plus(Duration::from_secs(7200));
        assert_eq!(
            p.check(later, t0, exp),
            SessionCheck::Renew {
                expires_at: p.expiry_from(later)
            }
        );
        assert_eq!(p.check(exp, t0, exp), SessionCheck::Expired);
    }

    proptest! {
        #[test]
        fn renewal_only_extends(last in 0i64..1_000_000_000, dt in 0i64..5_000_000_000) {
            let p = SessionPolicy::default();
            let last = Timestamp::from_millis(last);
            let exp = p.expiry_from(last);
            let now = Timestamp::from_millis(last.as_millis() + dt);
            match p.check(now, last, exp) {
                SessionCheck::Renew { expires_at } => prop_assert!(expires_at > exp && now < exp),
                SessionCheck::Valid => prop_assert!(now < exp),
                SessionCheck::Expired => prop_assert!(now >= exp),
            }
        }
    }
}
