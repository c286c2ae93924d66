//! Guará, the messaging service: direct and group conversations, messages with attachments,
//! replies, edits, deletes and reactions, read state, realtime events, typing, presence and search.
//!
//! Pure rules live in `taina_guara`; this module persists and publishes. Every change runs in one
//! transaction that first locks the conversation's row, so messages are numbered (`seq`) in commit
//! order; events are published on the realtime bus ([`crate::bus`]) after the commit.
//! Whoever is not a participant is told a conversation does not exist.

use std::sync::Arc;
pub use taina_guara::model::{Conversation, Participant};

use sqlx::AnyConnection;
use taina_core::{Actor, CommunityId, ConversationId, Error as DomainError, Timestamp, UserId};
use taina_guara::conversation::authorize;

use crate::db::parse_id;
use crate::{Error, Result, Taina};

mod conversations;
mod messages;
pub(crate) mod presence;
pub(crate) mod realtime;
mod search;

pub use conversations::ConversationSummary;
pub use messages::{HistoryPage, NewMessage, Position};
pub use presence::Connection;
pub(crate) use realtime::PublishTurn;
pub use search::SearchHit;
pub use taina_core::event::Topic;
pub use taina_guara::conversation::{
    ConversationAction, Kind, ParticipantRole, departure, direct_other,
};
pub use taina_guara::event::{ConversationChange, GuaraEvent};
pub use taina_guara::message::{
    Attachment, AttachmentKind, Message, MessageRights, Reaction, SystemNote, check_message_type,
    next_cursor, position,
};
pub use taina_guara::presence::Status;

/// The messaging service of an open instance.
#[derive(Debug, Clone, Copy)]
pub struct Guara<'a> {
    pub(crate) taina: &'a Taina,
}

/// What a caller may do in a conversation, as loaded under its lock.
pub(crate) struct Access {
    pub(crate) role: ParticipantRole,
}

impl Taina {
    /// Messaging: conversations, messages, read state, realtime, search.
    pub fn guara(&self) -> Guara<'_> {
        Guara { taina: self }
    }
}

impl Guara<'_> {
    fn now(&self) -> Timestamp {
        self.taina.inner.clock.now()
    }

    /// Publishes an event on a topic (after the change it reports has committed).
    pub(crate) fn publish(&self, topic: Topic, event: GuaraEvent) {
        self.taina
            .inner
            .bus
            .publish(&topic, Arc::new(crate::bus::LiveEvent::Guara(event)));
    }

    /// Publishes an event to a conversation's participants.
    pub(crate) fn publish_in(&self, conversation: &ConversationId, event: GuaraEvent) {
        self.publish(Topic::Conversation(conversation.clone()), event);
    }

    /// Opens a transaction holding the conversation's row lock (every change to a conversation takes
    /// it, so `seq` follows commit order), and checks that the actor may do `action` there.
    ///
    /// It first takes the conversation's publishing turn (an in-process lock), held by the caller
    /// until it has published: events then reach subscribers in commit order, so a client that
    /// remembers the last `seq` it saw never skips one when it catches up.
    pub(crate) async fn begin_in(
        &self,
        actor: &Actor,
        conversation: &ConversationId,
        action: ConversationAction,
    ) -> Result<(sqlx::Transaction<'static, sqlx::Any>, Access, PublishTurn)> {
        self.begin_locked(actor, conversation, action, false).await
    }

    /// [`Guara::begin_in`] for a change that takes or drops references to Ybira's blobs (an
    /// attachment sent, a message with one deleted, a conversation purged): the community's row
    /// lock comes first, then the conversation's, the order every change touching both follows
    /// (Ybira's changes take the community's lock before any row; removing a member does too).
    pub(crate) async fn begin_in_community(
        &self,
        actor: &Actor,
        conversation: &ConversationId,
        action: ConversationAction,
    ) -> Result<(sqlx::Transaction<'static, sqlx::Any>, Access, PublishTurn)> {
        self.begin_locked(actor, conversation, action, true).await
    }

    async fn begin_locked(
        &self,
        actor: &Actor,
        conversation: &ConversationId,
        action: ConversationAction,
        community_first: bool,
    ) -> Result<(sqlx::Transaction<'static, sqlx::Any>, Access, PublishTurn)> {
        let turn = self.taina.inner.realtime.publish_turn(conversation).await;
        let mut tx = self.taina.inner.db.begin().await?;
        if community_first {
            crate::ybira::lock_community(&mut tx, &actor.community_id).await?;
        }
        let locked = sqlx::query(
            "UPDATE conversations SET updated_at = updated_at WHERE id = $1 AND community_id = $2",
        )
        .bind(conversation.as_str())
        .bind(actor.community_id.as_str())
        .execute(&mut *tx)
        .await?;
        if locked.rows_affected() == 0 {
            return Err(DomainError::not_found("conversation").into());
        }
        let access = access(&mut tx, actor, conversation, action).await?;
        Ok((tx, access, turn))
    }

    /// Checks, outside any lock, that the actor may do `action` in a conversation.
    pub(crate) async fn check(
        &self,
        actor: &Actor,
        conversation: &ConversationId,
        action: ConversationAction,
    ) -> Result<Access> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        access(&mut conn, actor, conversation, action).await
    }
}

/// The actor's standing in a conversation, checked against the pure policy for `action`.
async fn access(
    conn: &mut AnyConnection,
    actor: &Actor,
    conversation: &ConversationId,
    action: ConversationAction,
) -> Result<Access> {
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT c.kind, p.role FROM conversations c LEFT JOIN participants p \
         ON p.conversation_id = c.id AND p.user_id = $2 WHERE c.id = $1 AND c.community_id = $3",
    )
    .bind(conversation.as_str())
    .bind(actor.user_id.as_str())
    .bind(actor.community_id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some((kind, role)) = row else {
        return Err(DomainError::not_found("conversation").into());
    };
    let kind = parse_kind(&kind)?;
    let role = role.as_deref().map(parse_role).transpose()?;
    authorize(kind, role, action)?;
    let role = role.ok_or_else(|| DomainError::not_found("conversation"))?;
    Ok(Access { role })
}

/// Checks that every user is an active member of the community (not disabled), as "not found"
/// otherwise.
pub(crate) async fn check_members(
    conn: &mut AnyConnection,
    community: &CommunityId,
    users: &[UserId],
) -> Result<()> {
    for user in users {
        let found: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM users WHERE id = $1 AND community_id = $2 AND disabled_at IS NULL",
        )
        .bind(user.as_str())
        .bind(community.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_none() {
            return Err(DomainError::not_found("member").into());
        }
    }
    Ok(())
}

pub(crate) fn parse_kind(s: &str) -> Result<Kind> {
    Kind::parse(s).ok_or_else(|| Error::Corrupt(format!("conversation kind {s:?}")))
}

pub(crate) fn parse_role(s: &str) -> Result<ParticipantRole> {
    ParticipantRole::parse(s).ok_or_else(|| Error::Corrupt(format!("participant role {s:?}")))
}

pub(crate) fn parse_conversation(s: &str) -> Result<ConversationId> {
    parse_id(s, ConversationId::parse)
}

pub(crate) fn parse_user(s: &str) -> Result<UserId> {
    parse_id(s, UserId::parse)
}
