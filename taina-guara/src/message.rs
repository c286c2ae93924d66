//! Messages: what one may hold (text, an attachment, a reply), who may change it, reactions and
//! idempotency keys.

use serde::{Deserialize, Serialize};
use taina_core::{ConversationId, Error, ItemId, MessageId, Timestamp, UserId};

use crate::conversation::ParticipantRole;

/// The longest message text, in characters (after trimming).
pub const TEXT_MAX_CHARS: usize = 10_000;
/// The largest file that may be attached to a message.
pub const ATTACHMENT_MAX_BYTES: u64 = 25 * 1024 * 1024;
/// The longest idempotency key a client may send.
pub const CLIENT_KEY_MAX_CHARS: usize = 64;
/// The longest reaction, in characters (an emoji with its modifiers and joiners; the longest
/// standard sequences have 10).
pub const REACTION_MAX_CHARS: usize = 16;
/// The most distinct emoji one person may put on one message.
pub const MAX_REACTIONS_PER_PERSON: usize = 20;
/// The most distinct emoji one message may carry (whoever put them there).
pub const MAX_EMOJI_PER_MESSAGE: usize = 50;
/// Messages per history page unless asked otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The most messages one history page may hold.
pub const MAX_PAGE_SIZE: u32 = 200;

/// The page size for a requested `limit`: the default when absent, refused outside
/// `1..=MAX_PAGE_SIZE`.
pub fn page_size(limit: Option<u32>) -> Result<u32, taina_core::Error> {
    taina_core::validate::page_size(limit, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
}

/// Where a history page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// The latest messages.
    Latest,
    /// Messages before this `seq` (scrolling back).
    Before(i64),
    /// Messages after this `seq` (catching up after a reconnect).
    After(i64),
}

/// The position a request asks for: older than `cursor`, newer than `after`, or the latest; not
/// both.
pub fn position(cursor: Option<i64>, after: Option<i64>) -> Result<Position, Error> {
    match (cursor, after) {
        (Some(_), Some(_)) => Err(Error::invalid("after", "use either cursor or after")),
        (Some(before), None) => Ok(Position::Before(before)),
        (None, Some(after)) => Ok(Position::After(after)),
        (None, None) => Ok(Position::Latest),
    }
}

/// The `seq` to ask from next, in the same direction, after `page` was answered for `position`:
/// going back, the oldest message's; going forward, the newest's; `None` when there is no more.
pub fn next_cursor(position: Position, page: &crate::model::HistoryPage) -> Option<i64> {
    if !page.has_more {
        return None;
    }
    match position {
        Position::After(_) => page.messages.last().map(|m| m.seq),
        Position::Latest | Position::Before(_) => page.messages.first().map(|m| m.seq),
    }
}

/// The message types a client may name when sending.
pub const MESSAGE_TYPES: [&str; 5] = ["text", "image", "video", "audio", "file"];

/// Checks a client's message type: one of [`MESSAGE_TYPES`]. It is only a hint (the attachment's
/// own type decides how the message is shown), but an unknown one is refused.
pub fn check_message_type(hint: &str) -> Result<(), Error> {
    if MESSAGE_TYPES.contains(&hint) {
        Ok(())
    } else {
        Err(Error::invalid(
            "message_type",
            "must be text, image, video, audio or file",
        ))
    }
}

/// What kind of file an attachment is, for how clients show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    /// Shown inline.
    Image,
    /// Played inline.
    Video,
    /// Played inline.
    Audio,
    /// Offered for download.
    File,
}

impl AttachmentKind {
    /// The kind for a file of type `mime`.
    ///
    /// ```
    /// use taina_guara::message::AttachmentKind;
    /// assert_eq!(AttachmentKind::for_mime("image/jpeg"), AttachmentKind::Image);
    /// assert_eq!(AttachmentKind::for_mime("application/pdf"), AttachmentKind::File);
    /// ```
    pub fn for_mime(mime: &str) -> AttachmentKind {
        match mime.split('/').next() {
            Some("image") => AttachmentKind::Image,
            Some("video") => AttachmentKind::Video,
            Some("audio") => AttachmentKind::Audio,
            _ => AttachmentKind::File,
        }
    }
}

/// A file attached to a message: a Ybira file the sender could read when sending, with its content
/// as it was then (the message keeps that content; the file may have changed, or gone, since).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    /// The Ybira file it was sent from.
    pub file_id: ItemId,
    /// Its name when attached.
    pub name: String,
    /// Its content type.
    pub mime_type: String,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// How to show it.
    pub kind: AttachmentKind,
}

/// Checks that a file may be attached: at most [`ATTACHMENT_MAX_BYTES`].
pub fn check_attachment_size(size_bytes: u64) -> Result<(), Error> {
    if size_bytes > ATTACHMENT_MAX_BYTES {
        return Err(Error::TooLarge {
            what: "attachment",
            limit_bytes: ATTACHMENT_MAX_BYTES,
        });
    }
    Ok(())
}

/// A message's text: NFC, trimmed, 1 to 10,000 characters, or empty when the message carries an
/// attachment.
///
/// ```
/// use taina_guara::message::normalize_text;
/// assert_eq!(normalize_text("  olá  ", false).unwrap(), "olá");
/// assert!(normalize_text("   ", false).is_err());
/// assert_eq!(normalize_text("", true).unwrap(), "");
/// ```
pub fn normalize_text(raw: &str, has_attachment: bool) -> Result<String, Error> {
    taina_core::validate::normalize_text("text", raw, TEXT_MAX_CHARS, !has_attachment)
}

/// Checks a client's idempotency key: 1 to 64 characters of letters, digits, `-`, `_`, `.`, `:`.
pub fn check_client_key(key: &str) -> Result<(), Error> {
    let ok = !key.is_empty()
        && key.len() <= CLIENT_KEY_MAX_CHARS
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "client_key",
            "must be 1 to 64 letters, digits, '-', '_', '.' or ':'",
        ))
    }
}

/// A reaction: trimmed, 1 to 16 characters, no spaces or control characters (an emoji, in practice).
pub fn normalize_reaction(raw: &str) -> Result<String, Error> {
    let emoji = raw.trim();
    if emoji.is_empty()
        || emoji.chars().count() > REACTION_MAX_CHARS
        || emoji.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::invalid(
            "emoji",
            "must be one emoji (at most 16 characters, no spaces)",
        ));
    }
    Ok(emoji.to_owned())
}

/// Checks that `user` may react with `emoji` to a message holding `reactions`: once per emoji, at
/// most [`MAX_REACTIONS_PER_PERSON`] distinct emoji per person, and at most
/// [`MAX_EMOJI_PER_MESSAGE`] distinct emoji on the message (joining an emoji already there is always
/// possible, within one's own limit).
pub fn check_new_reaction(reactions: &[Reaction], user: &UserId, emoji: &str) -> Result<(), Error> {
    let mut mine = 0;
    let mut present = false;
    for reaction in reactions {
        let by_me = reaction.user_ids.contains(user);
        if reaction.emoji == emoji {
            if by_me {
                return Err(Error::conflict("you already reacted with this emoji"));
            }
            present = true;
        }
        mine += usize::from(by_me);
    }
    if mine >= MAX_REACTIONS_PER_PERSON {
        return Err(Error::conflict(format!(
            "at most {MAX_REACTIONS_PER_PERSON} reactions per person on a message"
        )));
    }
    if !present && reactions.len() >= MAX_EMOJI_PER_MESSAGE {
        return Err(Error::conflict(format!(
            "a message holds at most {MAX_EMOJI_PER_MESSAGE} different reactions"
        )));
    }
    Ok(())
}

/// What someone wants to do to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAction {
    /// Change its text.
    Edit,
    /// Delete it (a tombstone stays).
    Delete,
}

/// Decides whether `user`, with `role` in the conversation, may `action` a message by `author`
/// (`None`: a system message) that is `deleted` or not. Authors edit and delete their own
/// messages; group admins may delete anyone's.
pub fn authorize_message(
    user: &UserId,
    role: ParticipantRole,
    author: Option<&UserId>,
    deleted: bool,
    action: MessageAction,
) -> Result<(), Error> {
    if deleted {
        return Err(Error::conflict("the message was deleted"));
    }
    let Some(author) = author else {
        return Err(Error::Forbidden {
            reason: "system messages cannot be changed",
        });
    };
    match action {
        MessageAction::Edit if author == user => Ok(()),
        MessageAction::Edit => Err(Error::Forbidden {
            reason: "only the author may edit a message",
        }),
        MessageAction::Delete if author == user || role == ParticipantRole::Admin => Ok(()),
        MessageAction::Delete => Err(Error::Forbidden {
            reason: "only the author or a group admin may delete a message",
        }),
    }
}

/// What a system message records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SystemNote {
    /// The group was created.
    GroupCreated {
        /// Its name.
        name: String,
    },
    /// The group was renamed.
    Renamed {
        /// The new name.
        name: String,
    },
    /// Someone was added.
    ParticipantAdded {
        /// Who.
        user_id: UserId,
    },
    /// Someone was removed.
    ParticipantRemoved {
        /// Who.
        user_id: UserId,
    },
    /// Someone left.
    ParticipantLeft {
        /// Who.
        user_id: UserId,
    },
    /// Someone became an admin (when the last one left).
    AdminAppointed {
        /// Who.
        user_id: UserId,
    },
}

/// Who reacted with one emoji.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reaction {
    /// The emoji.
    pub emoji: String,
    /// Who reacted with it, in the order they did.
    pub user_ids: Vec<UserId>,
}

/// A message as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    /// Its id.
    pub id: MessageId,
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// Its place in the conversation: 1, 2, 3... in the order the server accepted them.
    pub seq: i64,
    /// Who sent it (`None` for a system message).
    pub sender_id: Option<UserId>,
    /// Its text (empty when deleted, or for an attachment without a caption).
    pub text: String,
    /// What a system message records.
    pub system: Option<SystemNote>,
    /// Its attachment.
    pub attachment: Option<Attachment>,
    /// The message it answers.
    pub reply_to: Option<MessageId>,
    /// Reactions, by emoji.
    pub reactions: Vec<Reaction>,
    /// The sender's idempotency key.
    pub client_key: Option<String>,
    /// When the server accepted it.
    pub created_at: Timestamp,
    /// When its text last changed.
    pub edited_at: Option<Timestamp>,
    /// When it was deleted (it stays as a tombstone).
    pub deleted_at: Option<Timestamp>,
    /// What the person reading it may do with it (in answers and events sent to a reader; absent
    /// where nobody in particular reads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub viewer: Option<MessageRights>,
}

/// What a reader may do with a message, as [`authorize_message`] decides for them: clients show
/// "Edit" and "Delete" from these, never from a rule of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageRights {
    /// They may change its text (its author, while it is not deleted).
    pub can_edit: bool,
    /// They may delete it (its author, or a group admin, while it is not deleted).
    pub can_delete: bool,
}

impl Message {
    /// The message as `reader`, with `role` in its conversation, reads it: with what they may do.
    pub fn for_reader(mut self, reader: &UserId, role: ParticipantRole) -> Message {
        let may = |action| {
            authorize_message(
                reader,
                role,
                self.sender_id.as_ref(),
                self.deleted_at.is_some(),
                action,
            )
            .is_ok()
        };
        self.viewer = Some(MessageRights {
            can_edit: may(MessageAction::Edit),
            can_delete: may(MessageAction::Delete),
        });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(seq: i64) -> Message {
        Message {
            id: MessageId::from_random([seq as u8; 21]),
            conversation_id: ConversationId::from_random([9; 21]),
            seq,
            sender_id: None,
            text: String::new(),
            system: None,
            attachment: None,
            reply_to: None,
            reactions: Vec::new(),
            client_key: None,
            created_at: Timestamp::from_millis(seq),
            edited_at: None,
            deleted_at: None,
            viewer: None,
        }
    }

    #[test]
    fn cursor_and_after_are_exclusive() {
        assert_eq!(position(None, None).unwrap(), Position::Latest);
        assert_eq!(position(Some(7), None).unwrap(), Position::Before(7));
        assert_eq!(position(None, Some(3)).unwrap(), Position::After(3));
        let err = position(Some(7), Some(3)).unwrap_err();
        assert_eq!(err.kind(), taina_core::ErrorKind::Invalid);
    }

    #[test]
    fn the_next_cursor_follows_the_direction() {
        let page = crate::model::HistoryPage {
            messages: vec![at(4), at(5), at(6)],
            has_more: true,
        };
        assert_eq!(next_cursor(Position::Latest, &page), Some(4));
        assert_eq!(next_cursor(Position::Before(7), &page), Some(4));
        assert_eq!(next_cursor(Position::After(3), &page), Some(6));
        let last = crate::model::HistoryPage {
            has_more: false,
            ..page
        };
        assert_eq!(next_cursor(Position::After(3), &last), None);
        assert_eq!(next_cursor(Position::Latest, &last), None);
    }

    #[test]
    fn only_known_message_types_are_taken() {
        for kind in MESSAGE_TYPES {
            assert!(check_message_type(kind).is_ok());
        }
        for kind in ["", "Text", "sticker", "image "] {
            assert!(check_message_type(kind).is_err());
        }
    }

    #[test]
    fn a_reader_is_told_what_the_rule_lets_them_do() {
        let (author, other) = (UserId::from_random([1; 21]), UserId::from_random([2; 21]));
        let mut message = at(1);
        message.sender_id = Some(author.clone());
        let rights = |m: &Message, who: &UserId, role| m.clone().for_reader(who, role).viewer;
        let both = |can_edit, can_delete| {
            Some(MessageRights {
                can_edit,
                can_delete,
            })
        };
        assert_eq!(
            rights(&message, &author, ParticipantRole::Member),
            both(true, true)
        );
        assert_eq!(
            rights(&message, &other, ParticipantRole::Member),
            both(false, false)
        );
        assert_eq!(
            rights(&message, &other, ParticipantRole::Admin),
            both(false, true)
        );
        message.deleted_at = Some(Timestamp::from_millis(5));
        assert_eq!(
            rights(&message, &author, ParticipantRole::Admin),
            both(false, false)
        );
        // A reader is told nothing unless asked for: events carry no one's rights.
        assert_eq!(at(1).viewer, None);
        assert!(serde_json::to_value(at(1)).unwrap().get("viewer").is_none());
    }

    #[test]
    fn authors_edit_and_admins_delete() {
        let (a, b) = (UserId::from_random([1; 21]), UserId::from_random([2; 21]));
        let m = ParticipantRole::Member;
        assert!(authorize_message(&a, m, Some(&a), false, MessageAction::Edit).is_ok());
        assert!(authorize_message(&b, m, Some(&a), false, MessageAction::Edit).is_err());
        assert!(authorize_message(&b, m, Some(&a), false, MessageAction::Delete).is_err());
        assert!(
            authorize_message(
                &b,
                ParticipantRole::Admin,
                Some(&a),
                false,
                MessageAction::Delete
            )
            .is_ok()
        );
        assert!(authorize_message(&a, m, Some(&a), true, MessageAction::Edit).is_err());
        assert!(
            authorize_message(
                &a,
                ParticipantRole::Admin,
                None,
                false,
                MessageAction::Delete
            )
            .is_err()
        );
    }

    #[test]
    fn limits() {
        assert!(normalize_text(&"a".repeat(TEXT_MAX_CHARS), false).is_ok());
        assert!(normalize_text(&"a".repeat(TEXT_MAX_CHARS + 1), false).is_err());
        assert!(check_attachment_size(ATTACHMENT_MAX_BYTES).is_ok());
        assert!(check_attachment_size(ATTACHMENT_MAX_BYTES + 1).is_err());
        assert!(check_client_key("3f2a-01").is_ok());
        assert!(check_client_key("").is_err());
        assert!(check_client_key("with space").is_err());
        assert_eq!(normalize_reaction(" 👍🏽 ").unwrap(), "👍🏽");
        assert!(normalize_reaction("👍 👍").is_err());
    }

    #[test]
    fn reactions_are_capped_per_person_and_per_message() {
        let (a, b) = (UserId::from_random([1; 21]), UserId::from_random([2; 21]));
        let emoji = |i: usize| format!("e{i}");
        let mut reactions: Vec<Reaction> = Vec::new();
        for i in 0..MAX_REACTIONS_PER_PERSON {
            assert!(check_new_reaction(&reactions, &a, &emoji(i)).is_ok());
            reactions.push(Reaction {
                emoji: emoji(i),
                user_ids: vec![a.clone()],
            });
        }
        assert_eq!(
            check_new_reaction(&reactions, &a, "e0").unwrap_err(),
            Error::conflict("you already reacted with this emoji")
        );
        let over = check_new_reaction(&reactions, &a, "new").unwrap_err();
        assert_eq!(over.kind(), taina_core::ErrorKind::Conflict);
        // Someone else still may, until the message holds 50 different emoji.
        assert!(check_new_reaction(&reactions, &b, "e0").is_ok());
        while reactions.len() < MAX_EMOJI_PER_MESSAGE {
            let i = reactions.len();
            reactions.push(Reaction {
                emoji: emoji(i),
                user_ids: vec![UserId::from_random([u8::try_from(i).unwrap(); 21])],
            });
        }
        assert!(check_new_reaction(&reactions, &b, "one-more").is_err());
        // Joining an emoji already there adds none.
        assert!(check_new_reaction(&reactions, &b, "e49").is_ok());
    }

    proptest! {
        #[test]
        fn texts_are_trimmed_and_bounded(raw in "\\PC{0,300}") {
            if let Ok(text) = normalize_text(&raw, false) {
                prop_assert!(!text.is_empty());
                prop_assert_eq!(text.trim(), text.as_str());
                prop_assert!(text.chars().count() <= TEXT_MAX_CHARS);
            }
        }

        #[test]
        fn reactions_never_panic(raw in "\\PC{0,40}") {
            if let Ok(e) = normalize_reaction(&raw) {
                prop_assert!(!e.is_empty() && e.chars().count() <= REACTION_MAX_CHARS);
            }
        }
    }
}
