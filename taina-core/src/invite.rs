//! Invitations: who may still join with an invite.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{CommunityId, Error, InviteId, Role, Timestamp, UserId};

/// Longest an invite may stay valid.
pub const MAX_INVITE_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);
/// Most uses one invite may allow.
pub const MAX_INVITE_USES: i64 = 500;

/// An invitation to a community. Its secret token is only shown once, when it is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invite {
    /// Its id.
    pub id: InviteId,
    /// The community it opens.
    pub community_id: CommunityId,
    /// The role people who join with it get.
    pub role: Role,
    /// Who created it.
    pub created_by: UserId,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// How many people may join with it.
    pub max_uses: i64,
    /// How many have.
    pub uses: i64,
    /// When it was created.
    pub created_at: Timestamp,
}

impl Invite {
    /// Whether someone may still join with it at `now`.
    pub fn check_usable(&self, now: Timestamp) -> Result<(), Error> {
        check_usable(self.expires_at, self.uses, self.max_uses, now)
    }
}

/// Whether an invite expiring at `expires_at`, used `uses` of `max_uses` times, still admits someone.
pub fn check_usable(
    expires_at: Timestamp,
    uses: i64,
    max_uses: i64,
    now: Timestamp,
) -> Result<(), Error> {
    if now >= expires_at {
        return Err(Error::invalid("invite", "this invite has expired"));
    }
    if uses >= max_uses {
        return Err(Error::invalid(
            "invite",
            "this invite has already been used",
        ));
    }
    Ok(())
}

/// Checks the terms of a new invite.
pub fn check_terms(lifetime: Duration, max_uses: i64) -> Result<(), Error> {
    if lifetime.is_zero() || lifetime > MAX_INVITE_LIFETIME {
        return Err(Error::invalid(
            "expires_in",
            "must be between 1 second and 90 days",
        ));
    }
    if !(1..=MAX_INVITE_USES).contains(&max_uses) {
        return Err(Error::invalid(
            "max_uses",
            format!("must be between 1 and {MAX_INVITE_USES}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usable_until_expiry_or_exhaustion() {
        let exp = Timestamp::from_millis(10_000);
        assert!(check_usable(exp, 0, 1, Timestamp::from_millis(9_999)).is_ok());
        assert!(check_usable(exp, 0, 1, exp).is_err());
        assert!(check_usable(exp, 1, 1, Timestamp::from_millis(0)).is_err());
        assert!(check_usable(exp, 4, 5, Timestamp::from_millis(0)).is_ok());
    }

    #[test]
    fn terms_are_bounded() {
        assert!(check_terms(Duration::from_secs(3600), 1).is_ok());
        assert!(check_terms(Duration::ZERO, 1).is_err());
        assert!(check_terms(MAX_INVITE_LIFETIME * 2, 1).is_err());
        assert!(check_terms(Duration::from_secs(3600), 0).is_err());
        assert!(check_terms(Duration::from_secs(3600), 501).is_err());
    }
}
