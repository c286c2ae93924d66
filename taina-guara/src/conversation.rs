//! Conversations: direct (two members, one per pair) and groups (a name, 2 to 100 participants, an
//! admin), and who may do what in them.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use taina_core::{Error, UserId};

/// The most participants a group may have.
pub const MAX_PARTICIPANTS: usize = 100;
/// The fewest participants a new group may have (its creator and one more).
pub const MIN_GROUP_PARTICIPANTS: usize = 2;
/// The longest group name, in characters.
pub const NAME_MAX_CHARS: usize = 100;

/// What kind of conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "uniffi", uniffi(name = "ConversationKind"))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Two members, at most one conversation per pair.
    Direct,
    /// A named group.
    Group,
}

impl Kind {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Direct => "direct",
            Kind::Group => "group",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "direct" => Some(Kind::Direct),
            "group" => Some(Kind::Group),
            _ => None,
        }
    }
}

/// A participant's standing in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum ParticipantRole {
    /// May rename the group and add or remove participants.
    Admin,
    /// May read and write.
    Member,
}

impl ParticipantRole {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantRole::Admin => "admin",
            ParticipantRole::Member => "member",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<ParticipantRole> {
        match s {
            "admin" => Some(ParticipantRole::Admin),
            "member" => Some(ParticipantRole::Member),
            _ => None,
        }
    }
}

/// The key that makes a direct conversation unique per pair: the two user ids, sorted.
///
/// ```
/// use taina_core::UserId;
/// use taina_guara::conversation::direct_key;
/// let (a, b) = (UserId::from_random([1; 21]), UserId::from_random([2; 21]));
/// assert_eq!(direct_key(&a, &b).unwrap(), direct_key(&b, &a).unwrap());
/// assert!(direct_key(&a, &a).is_err());
/// ```
pub fn direct_key(a: &UserId, b: &UserId) -> Result<String, Error> {
    if a == b {
        return Err(Error::invalid(
            "user_id",
            "a direct conversation needs someone other than you",
        ));
    }
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    Ok(format!("{low}:{high}"))
}

/// Normalises a group name: NFC, trimmed, 1 to 100 characters, no control characters.
pub fn normalize_name(raw: &str) -> Result<String, Error> {
    taina_core::validate::normalize_label("name", raw, NAME_MAX_CHARS)
}

/// Checks the length of a request's list of people before anyone in it is looked up: one request
/// names at most [`MAX_PARTICIPANTS`] people (a group holds no more).
pub fn check_requested(users: &[UserId]) -> Result<(), Error> {
    if users.len() > MAX_PARTICIPANTS {
        return Err(Error::invalid(
            "participants",
            format!("name at most {MAX_PARTICIPANTS} people at once"),
        ));
    }
    Ok(())
}

/// The participants of a new group: the creator and the others, without repeats; 2 to 100 in all
/// (and the request names at most 100 others).
pub fn group_participants(creator: &UserId, others: &[UserId]) -> Result<Vec<UserId>, Error> {
    check_requested(others)?;
    let mut seen = HashSet::from([creator]);
    let mut all = vec![creator.clone()];
    for user in others {
        if seen.insert(user) {
            all.push(user.clone());
        }
    }
    check_group_size(all.len())?;
    Ok(all)
}

/// Whom a request adds to a group whose participants are `current`: those named who are not in it
/// yet, without repeats, in the order named. The request names at most 100 people and the group
/// then holds at most 100, both checked before anyone is looked up.
///
/// ```
/// use taina_core::UserId;
/// use taina_guara::conversation::participants_to_add;
/// let (a, b, c) = (UserId::from_random([1; 21]), UserId::from_random([2; 21]), UserId::from_random([3; 21]));
/// let current = [a.clone(), b.clone()];
/// assert_eq!(participants_to_add(&current, &[c.clone(), b, c.clone()]).unwrap(), [c]);
/// ```
pub fn participants_to_add(current: &[UserId], requested: &[UserId]) -> Result<Vec<UserId>, Error> {
    check_requested(requested)?;
    let mut seen: HashSet<&UserId> = current.iter().collect();
    let new: Vec<UserId> = requested
        .iter()
        .filter(|user| seen.insert(*user))
        .cloned()
        .collect();
    check_group_size(current.len() + new.len())?;
    Ok(new)
}

/// Checks a group's number of participants.
pub fn check_group_size(count: usize) -> Result<(), Error> {
    if count < MIN_GROUP_PARTICIPANTS {
        return Err(Error::invalid(
            "participants",
            "a group needs at least one other participant",
        ));
    }
    if count > MAX_PARTICIPANTS {
        return Err(Error::invalid(
            "participants",
            format!("a group has at most {MAX_PARTICIPANTS} participants"),
        ));
    }
    Ok(())
}

/// What someone wants to do in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationAction {
    /// See it and its messages, react, mark as read, type.
    Read,
    /// Send a message.
    Send,
    /// Rename the group.
    Rename,
    /// Add participants to the group.
    AddParticipants,
    /// Remove someone else from the group.
    RemoveParticipant,
    /// Leave the group.
    Leave,
}

/// Decides whether someone with `role` in a conversation of `kind` (`None`: not a participant) may
/// do `action`. Non-participants are told the conversation does not exist.
pub fn authorize(
    kind: Kind,
    role: Option<ParticipantRole>,
    action: ConversationAction,
) -> Result<(), Error> {
    let Some(role) = role else {
        return Err(Error::not_found("conversation"));
    };
    use ConversationAction as A;
    match (action, kind, role) {
        (A::Read | A::Send, _, _) => Ok(()),
        (A::Rename | A::AddParticipants | A::RemoveParticipant | A::Leave, Kind::Direct, _) => {
            // The request is fine; the conversation's kind refuses it.
            Err(Error::conflict(
                "a direct conversation always has the same two people and no name",
            ))
        }
        (A::Leave, Kind::Group, _) => Ok(()),
        (_, Kind::Group, ParticipantRole::Admin) => Ok(()),
        (_, Kind::Group, ParticipantRole::Member) => Err(Error::Forbidden {
            reason: "only the group's admins may do this",
        }),
    }
}

/// The one other person of a direct conversation asked for with `others`: exactly one is named.
///
/// ```
/// use taina_core::UserId;
/// use taina_guara::conversation::direct_other;
/// let b = UserId::from_random([2; 21]);
/// assert_eq!(direct_other(std::slice::from_ref(&b)).unwrap(), &b);
/// assert!(direct_other(&[]).is_err());
/// ```
pub fn direct_other(others: &[UserId]) -> Result<&UserId, Error> {
    match others {
        [other] => Ok(other),
        _ => Err(Error::invalid(
            "participant_ids",
            "a direct conversation has exactly one other participant",
        )),
    }
}

/// What taking `user` out of a conversation means when `actor` asks: removing yourself is leaving
/// ([`ConversationAction::Leave`]), anyone else is removed ([`ConversationAction::RemoveParticipant`]).
pub fn departure(actor: &UserId, user: &UserId) -> ConversationAction {
    if actor == user {
        ConversationAction::Leave
    } else {
        ConversationAction::RemoveParticipant
    }
}

/// Who becomes admin when the last admin leaves: the participant who joined first (ties by id).
/// `remaining` holds `(user, role, joined_at)` of those who stay; `None` if an admin remains or
/// nobody does.
pub fn next_admin(remaining: &[(UserId, ParticipantRole, i64)]) -> Option<UserId> {
    if remaining
        .iter()
        .any(|(_, role, _)| *role == ParticipantRole::Admin)
    {
        return None;
    }
    remaining
        .iter()
        .min_by(|a, b| a.2.cmp(&b.2).then_with(|| a.0.cmp(&b.0)))
        .map(|(user, _, _)| user.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn user(n: u8) -> UserId {
        let mut bytes = [0; 21];
        bytes[0] = n % 64;
        bytes[1] = n / 64;
        UserId::from_random(bytes)
    }

    #[test]
    fn a_direct_conversation_names_exactly_one_other() {
        let (b, c) = (user(2), user(3));
        assert_eq!(direct_other(std::slice::from_ref(&b)).unwrap(), &b);
        for wrong in [vec![], vec![b.clone(), c.clone()], vec![b.clone(), b]] {
            let err = direct_other(&wrong).unwrap_err();
            assert_eq!(err.kind(), taina_core::ErrorKind::Invalid);
        }
    }

    #[test]
    fn removing_yourself_is_leaving() {
        let (a, b) = (user(1), user(2));
        assert_eq!(departure(&a, &a), ConversationAction::Leave);
        assert_eq!(departure(&a, &b), ConversationAction::RemoveParticipant);
    }

    #[test]
    fn groups_have_two_to_a_hundred() {
        assert!(group_participants(&user(1), &[]).is_err());
        assert!(group_participants(&user(1), &[user(1)]).is_err());
        assert_eq!(
            group_participants(&user(1), &[user(2), user(2)])
                .unwrap()
                .len(),
            2
        );
        let many: Vec<UserId> = (2..=100).map(user).collect();
        assert_eq!(group_participants(&user(1), &many).unwrap().len(), 100);
        let too_many: Vec<UserId> = (2..=101).map(user).collect();
        assert!(group_participants(&user(1), &too_many).is_err());
    }

    #[test]
    fn requests_are_bounded_before_anyone_is_looked_up() {
        let current: Vec<UserId> = (1..=99).map(user).collect();
        // One more fits; two more do not, however the request repeats itself.
        assert_eq!(
            participants_to_add(&current, &[user(100), user(100), user(5)]).unwrap(),
            [user(100)]
        );
        assert!(participants_to_add(&current, &[user(100), user(101)]).is_err());
        // A request naming more people than a group holds is refused outright, even when they are
        // all already in it.
        let long: Vec<UserId> = (0..=MAX_PARTICIPANTS)
            .map(|i| user((i % 50) as u8 + 1))
            .collect();
        let e = participants_to_add(&current, &long).unwrap_err();
        assert_eq!(e.kind(), taina_core::ErrorKind::Invalid);
        assert!(group_participants(&user(1), &long).is_err());
        let at_most: Vec<UserId> = (0..MAX_PARTICIPANTS)
            .map(|i| user((i % 50) as u8 + 1))
            .collect();
        assert_eq!(participants_to_add(&current, &at_most).unwrap(), []);
    }

    #[test]
    fn only_admins_manage_and_outsiders_see_nothing() {
        use ConversationAction as A;
        let admin = Some(ParticipantRole::Admin);
        let member = Some(ParticipantRole::Member);
        assert!(authorize(Kind::Group, admin, A::Rename).is_ok());
        assert!(authorize(Kind::Group, member, A::Rename).is_err());
        assert!(authorize(Kind::Group, member, A::Leave).is_ok());
        assert!(authorize(Kind::Direct, admin, A::Leave).is_err());
        assert_eq!(
            authorize(Kind::Group, None, A::Read).unwrap_err().kind(),
            taina_core::ErrorKind::NotFound
        );
    }

    #[test]
    fn the_longest_standing_member_takes_over() {
        let m = ParticipantRole::Member;
        assert_eq!(
            next_admin(&[(user(3), m, 20), (user(2), m, 10)]),
            Some(user(2))
        );
        assert_eq!(
            next_admin(&[(user(3), ParticipantRole::Admin, 20), (user(2), m, 10)]),
            None
        );
        assert_eq!(next_admin(&[]), None);
    }

    proptest! {
        /// The direct key is the same whichever way round, and differs between pairs.
        #[test]
        fn direct_keys_are_symmetric_and_distinct(a in 0u8..20, b in 0u8..20, c in 0u8..20) {
            prop_assume!(a != b);
            prop_assert_eq!(direct_key(&user(a), &user(b)).unwrap(), direct_key(&user(b), &user(a)).unwrap());
            if c != a && c != b {
                prop_assert_ne!(direct_key(&user(a), &user(b)).unwrap(), direct_key(&user(a), &user(c)).unwrap());
            }
        }

        /// Outsiders never get anything but "not found".
        #[test]
        fn outsiders_get_not_found(action in 0usize..6, group in any::<bool>()) {
            use ConversationAction as A;
            let action = [A::Read, A::Send, A::Rename, A::AddParticipants, A::RemoveParticipant, A::Leave][action];
            let kind = if group { Kind::Group } else { Kind::Direct };
            prop_assert_eq!(authorize(kind, None, action).unwrap_err().kind(), taina_core::ErrorKind::NotFound);
        }
    }
}
