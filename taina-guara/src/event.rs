//! What Guará announces in real time, on topics per user and per conversation
//! ([`taina_core::event::Topic`]).

use serde::{Deserialize, Serialize};
use taina_core::{ConversationId, MessageId, UserId};

use crate::message::Message;
use crate::presence::Status;

/// Why a conversation changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConversationChange {
    /// It was created with the person in it, or the person was added.
    Joined,
    /// The person left or was removed.
    Left,
    /// Its name changed.
    Renamed,
    /// Someone else joined or left.
    Participants,
}

/// A realtime event. Serialised as `{"type": "<name>", "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "data")]
pub enum GuaraEvent {
    /// A message was sent (persisted before this is published).
    #[serde(rename = "message.created")]
    MessageCreated(Box<Message>),
    /// A message was edited.
    #[serde(rename = "message.updated")]
    MessageUpdated(Box<Message>),
    /// A message was deleted (its tombstone stays).
    #[serde(rename = "message.deleted")]
    MessageDeleted {
        /// Where.
        conversation_id: ConversationId,
        /// Which.
        message_id: MessageId,
    },
    /// Someone reacted.
    #[serde(rename = "reaction.added")]
    ReactionAdded {
        /// Where.
        conversation_id: ConversationId,
        /// To what.
        message_id: MessageId,
        /// Who.
        user_id: UserId,
        /// With what.
        emoji: String,
    },
    /// Someone took a reaction back.
    #[serde(rename = "reaction.removed")]
    ReactionRemoved {
        /// Where.
        conversation_id: ConversationId,
        /// From what.
        message_id: MessageId,
        /// Who.
        user_id: UserId,
        /// Which.
        emoji: String,
    },
    /// A conversation was created, renamed, or its participants changed.
    #[serde(rename = "conversation.updated")]
    ConversationUpdated {
        /// Which.
        conversation_id: ConversationId,
        /// Why.
        change: ConversationChange,
    },
    /// Someone's read position moved.
    #[serde(rename = "read.updated")]
    ReadUpdated {
        /// Where.
        conversation_id: ConversationId,
        /// Who.
        user_id: UserId,
        /// The last message they have read.
        last_read_seq: i64,
    },
    /// Someone started or stopped typing.
    #[serde(rename = "typing")]
    Typing {
        /// Where.
        conversation_id: ConversationId,
        /// Who.
        user_id: UserId,
        /// Started (`true`) or stopped or expired (`false`).
        active: bool,
    },
    /// Someone's presence changed.
    #[serde(rename = "presence")]
    Presence {
        /// Who.
        user_id: UserId,
        /// Now.
        status: Status,
    },
}

impl GuaraEvent {
    /// The event's name, as in its `type`.
    pub fn name(&self) -> &'static str {
        match self {
            GuaraEvent::MessageCreated(_) => "message.created",
            GuaraEvent::MessageUpdated(_) => "message.updated",
            GuaraEvent::MessageDeleted { .. } => "message.deleted",
            GuaraEvent::ReactionAdded { .. } => "reaction.added",
            GuaraEvent::ReactionRemoved { .. } => "reaction.removed",
            GuaraEvent::ConversationUpdated { .. } => "conversation.updated",
            GuaraEvent::ReadUpdated { .. } => "read.updated",
            GuaraEvent::Typing { .. } => "typing",
            GuaraEvent::Presence { .. } => "presence",
        }
    }

    /// The conversation whose topic carries the event, if any: a subscriber that no longer
    /// follows it must not be handed the event. A person joining or leaving is told on their own
    /// topic, so that event has none.
    pub fn conversation_topic(&self) -> Option<&ConversationId> {
        match self {
            GuaraEvent::MessageCreated(m) | GuaraEvent::MessageUpdated(m) => {
                Some(&m.conversation_id)
            }
            GuaraEvent::ConversationUpdated {
                change: ConversationChange::Joined | ConversationChange::Left,
                ..
            } => None,
            GuaraEvent::MessageDeleted {
                conversation_id, ..
            }
            | GuaraEvent::ReactionAdded {
                conversation_id, ..
            }
            | GuaraEvent::ReactionRemoved {
                conversation_id, ..
            }
            | GuaraEvent::ConversationUpdated {
                conversation_id, ..
            }
            | GuaraEvent::ReadUpdated {
                conversation_id, ..
            }
            | GuaraEvent::Typing {
                conversation_id, ..
            } => Some(conversation_id),
            GuaraEvent::Presence { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_its_name() {
        let e = GuaraEvent::Typing {
            conversation_id: ConversationId::from_random([1; 21]),
            user_id: UserId::from_random([2; 21]),
            active: true,
        };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["type"], e.name());
        assert_eq!(json["data"]["active"], true);
    }
}
