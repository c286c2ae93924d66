//! Rules about changing members: a community never loses its last active admin.

use crate::{Error, Role};

/// A change an admin makes to a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    /// Give them a new role.
    SetRole(Role),
    /// Disable their account.
    Disable,
    /// Enable their account.
    Enable,
    /// Remove them from the community.
    Remove,
}

/// Checks that `change` to a member whose current role is `target_role` (and who is `target_active`,
/// i.e. not disabled) leaves the community with at least one active admin, given how many *other*
/// active admins it has.
pub fn ensure_admin_remains(
    change: MemberChange,
    target_role: Role,
    target_active: bool,
    other_active_admins: u64,
) -> Result<(), Error> {
    let target_is_active_admin = target_role == Role::Admin && target_active;
    let stays_active_admin = match change {
        MemberChange::SetRole(role) => role == Role::Admin,
        MemberChange::Disable | MemberChange::Remove => false,
        MemberChange::Enable => true,
    };
    if target_is_active_admin && !stays_active_admin && other_active_admins == 0 {
        return Err(Error::conflict(
            "the community's last admin cannot be demoted, disabled or removed",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn change() -> impl Strategy<Value = MemberChange> {
        prop_oneof![
            Just(MemberChange::SetRole(Role::Admin)),
            Just(MemberChange::SetRole(Role::Member)),
            Just(MemberChange::SetRole(Role::Guest)),
            Just(MemberChange::Disable),
            Just(MemberChange::Enable),
            Just(MemberChange::Remove),
        ]
    }

    fn role() -> impl Strategy<Value = Role> {
        prop_oneof![Just(Role::Admin), Just(Role::Member), Just(Role::Guest)]
    }

    proptest! {
        /// Whatever is allowed, the number of active admins after the change is at least one when it
        /// was at least one before.
        #[test]
        fn an_active_admin_always_remains(c in change(), r in role(), active in any::<bool>(), others in 0u64..3) {
            let before = others + u64::from(r == Role::Admin && active);
            if ensure_admin_remains(c, r, active, others).is_ok() {
                let target_after = match c {
                    MemberChange::SetRole(new) => new == Role::Admin && active,
                    MemberChange::Disable | MemberChange::Remove => false,
                    MemberChange::Enable => r == Role::Admin,
                };
                let after = others + u64::from(target_after);
                prop_assert!(before == 0 || after >= 1);
            }
        }
    }

    #[test]
    fn the_last_admin_is_protected() {
        assert!(
            ensure_admin_remains(MemberChange::SetRole(Role::Member), Role::Admin, true, 0)
                .is_err()
        );
        assert!(ensure_admin_remains(MemberChange::Remove, Role::Admin, true, 0).is_err());
        assert!(ensure_admin_remains(MemberChange::Disable, Role::Admin, true, 0).is_err());
        assert!(
            ensure_admin_remains(MemberChange::SetRole(Role::Member), Role::Admin, true, 1).is_ok()
        );
        assert!(ensure_admin_remains(MemberChange::Remove, Role::Member, true, 0).is_ok());
    }
}
