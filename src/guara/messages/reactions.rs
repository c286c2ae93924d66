//! Reactions: an emoji added to a message (once per person per emoji, within the limits) or
//! taken back.

use taina_core::{Actor, Error as DomainError, MessageId};
use taina_guara::conversation::ConversationAction;
use taina_guara::event::GuaraEvent;
use taina_guara::message::{Message, check_new_reaction, normalize_reaction};
use tracing::instrument;

use super::rows::load_message;
use crate::Result;
use crate::guara::Guara;

impl Guara<'_> {
    /// Reacts to a message with an emoji (once per person per emoji).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn react(&self, actor: &Actor, id: &MessageId, emoji: &str) -> Result<Message> {
        let emoji = normalize_reaction(emoji)?;
        let conversation = self.conversation_of(actor, id).await?;
        let (mut tx, access, _turn) = self
            .begin_in(actor, &conversation, ConversationAction::Read)
            .await?;
        let current = load_message(&mut tx, id).await?;
        if current.deleted_at.is_some() {
            return Err(DomainError::conflict("the message was deleted").into());
        }
        check_new_reaction(&current.reactions, &actor.user_id, &emoji)?;
        sqlx::query(
            "INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.as_str())
        .bind(actor.user_id.as_str())
        .bind(&emoji)
        .bind(self.now().as_millis())
        .execute(&mut *tx)
        .await?;
        let reacted = load_message(&mut tx, id).await?;
        tx.commit().await?;
        self.publish_in(
            &conversation,
            GuaraEvent::ReactionAdded {
                conversation_id: conversation.clone(),
                message_id: id.clone(),
                user_id: actor.user_id.clone(),
                emoji,
            },
        );
        Ok(reacted.for_reader(&actor.user_id, access.role))
    }

    /// Takes one's reaction back.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn unreact(&self, actor: &Actor, id: &MessageId, emoji: &str) -> Result<Message> {
        let emoji = normalize_reaction(emoji)?;
        let conversation = self.conversation_of(actor, id).await?;
        let (mut tx, access, _turn) = self
            .begin_in(actor, &conversation, ConversationAction::Read)
            .await?;
        let removed = sqlx::query(
            "DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3",
        )
        .bind(id.as_str())
        .bind(actor.user_id.as_str())
        .bind(&emoji)
        .execute(&mut *tx)
        .await?;
        if removed.rows_affected() == 0 {
            return Err(DomainError::not_found("reaction").into());
        }
        let message = load_message(&mut tx, id).await?;
        tx.commit().await?;
        self.publish_in(
            &conversation,
            GuaraEvent::ReactionRemoved {
                conversation_id: conversation.clone(),
                message_id: id.clone(),
                user_id: actor.user_id.clone(),
                emoji,
            },
        );
        Ok(message.for_reader(&actor.user_id, access.role))
    }
}
