//! Invitations: who may still join with an invite.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::policy::{Action, Resource, authorize};
use crate::{Actor, CommunityId, Error, InviteId, Role, Timestamp, UserId};

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
        return Err(Error::Forbidden {
            reason: "this invite has expired",
        });
    }
    if uses >= max_uses {
        return Err(Error::Forbidden {
            reason: "this invite has already been used",
        });
    }
    Ok(())
}

/// The invite's creator as they stand now, when someone joins with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creator {
    /// Their community.
    pub community_id: CommunityId,
    /// Their role now.
    pub role: Role,
    /// Whether their account is disabled now.
    pub disabled: bool,
}

/// Whether an invite may still be honoured for whoever created it: they must still be an enabled
/// member of the invite's community who may create invites and holds at least the role it grants
/// (an admin demoted to member no longer hands out admin, or any, invites). `creator` is `None` when
/// they were removed. Refusals look like any invalid invite, saying nothing about the creator.
pub fn check_creator(invite: &Invite, creator: Option<&Creator>) -> Result<(), Error> {
    let refused = || Error::Forbidden {
        reason: "this invite is not valid",
    };
    let Some(creator) = creator else {
        return Err(refused());
    };
    if creator.disabled || creator.community_id != invite.community_id {
        return Err(refused());
    }
    if !may_grant(creator.role, invite.role) {
        return Err(refused());
    }
    let actor = Actor {
        user_id: invite.created_by.clone(),
        community_id: creator.community_id.clone(),
        role: creator.role,
        session_id: None,
    };
    authorize(
        &actor,
        Action::Create,
        Resource::Invites(&invite.community_id),
    )
    .map_err(|_| refused())
}

/// Whether someone holding `holder` may hand out `granted` at all: a role gives at most itself.
pub fn may_grant(holder: Role, granted: Role) -> bool {
    fn rank(role: Role) -> u8 {
        match role {
            Role::Guest => 0,
            Role::Member => 1,
            Role::Admin => 2,
        }
    }
    rank(holder) >= rank(granted)
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
    fn invites_stand_only_while_their_creator_may_grant_them() {
        let community = CommunityId::from_random([1; 21]);
        let invite = |role| Invite {
            id: InviteId::from_random([2; 21]),
            community_id: community.clone(),
            role,
            created_by: UserId::from_random([3; 21]),
            expires_at: Timestamp::from_millis(10_000),
            max_uses: 1,
            uses: 0,
            created_at: Timestamp::from_millis(0),
        };
        let creator = |role, disabled| Creator {
            community_id: community.clone(),
            role,
            disabled,
        };
        for granted in [Role::Admin, Role::Member, Role::Guest] {
            let admin = creator(Role::Admin, false);
            assert!(check_creator(&invite(granted), Some(&admin)).is_ok());
            // Demoted, disabled, removed or moved: the invite no longer works.
            for demoted in [Role::Member, Role::Guest] {
                let err = check_creator(&invite(granted), Some(&creator(demoted, false)));
                assert!(matches!(err, Err(Error::Forbidden { .. })), "{err:?}");
            }
            assert!(check_creator(&invite(granted), Some(&creator(Role::Admin, true))).is_err());
            assert!(check_creator(&invite(granted), None).is_err());
            let elsewhere = Creator {
                community_id: CommunityId::from_random([9; 21]),
                ..admin
            };
            assert!(check_creator(&invite(granted), Some(&elsewhere)).is_err());
        }
        assert!(may_grant(Role::Admin, Role::Admin));
        assert!(may_grant(Role::Member, Role::Guest));
        assert!(!may_grant(Role::Member, Role::Admin));
        assert!(!may_grant(Role::Guest, Role::Member));
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
