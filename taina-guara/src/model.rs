//! Conversations as people see them: the models the API answers and clients read back.

use serde::{Deserialize, Serialize};
use taina_core::{ConversationId, Timestamp, UserId};

use crate::conversation::{Kind, ParticipantRole};
use crate::message::Message;

/// A conversation with its participants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Conversation {
    /// Its id.
    pub id: ConversationId,
    /// Direct or group.
    pub kind: Kind,
    /// A group's name (`None` for direct conversations: clients show the other person).
    pub name: Option<String>,
    /// Who is in it, in the order they joined.
    pub participants: Vec<Participant>,
    /// The latest message's `seq` (0 before the first).
    pub last_seq: i64,
    /// When it last had a message or a change.
    pub last_activity_at: Timestamp,
    /// When it was created.
    pub created_at: Timestamp,
}

/// Someone in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Participant {
    /// Who.
    pub user_id: UserId,
    /// Admin or member.
    pub role: ParticipantRole,
    /// When they joined.
    pub joined_at: Timestamp,
    /// The last message they have read (`seq`).
    pub last_read_seq: i64,
}

/// A conversation in my list: with its last message and how many I have not read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ConversationSummary {
    /// The conversation and its participants.
    pub conversation: Conversation,
    /// Its latest message.
    pub last_message: Option<Message>,
    /// Messages from others after my read position.
    pub unread_count: i64,
}

/// A page of a conversation's history, oldest first.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HistoryPage {
    /// The messages, in `seq` order.
    pub messages: Vec<Message>,
    /// Whether there are more in the direction asked for.
    pub has_more: bool,
}

/// One message found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SearchHit {
    /// The message (its conversation is `message.conversation_id`).
    pub message: Message,
    /// The conversation's name, for groups.
    pub conversation_name: Option<String>,
    /// The text around the matches, the matches between « and ».
    pub snippet: String,
    /// How well it matches (higher is better).
    pub rank: f64,
}
