//! Read state: a conversation marked read up to a `seq`, and the unread total.

use taina_core::event::Topic;
use taina_core::{Actor, ConversationId};
use taina_guara::conversation::ConversationAction;
use taina_guara::event::GuaraEvent;
use tracing::instrument;

use crate::Result;
use crate::guara::Guara;

impl Guara<'_> {
    /// Marks a conversation read up to `seq` (never backwards, never past its latest message);
    /// answers the read position.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn mark_read(
        &self,
        actor: &Actor,
        conversation: &ConversationId,
        seq: i64,
    ) -> Result<i64> {
        let seq = taina_guara::read::requested(seq)?;
        let (mut tx, _, _turn) = self
            .begin_in(actor, conversation, ConversationAction::Read)
            .await?;
        let (current, latest): (i64, i64) = sqlx::query_as(
            "SELECT p.last_read_seq, c.last_seq FROM participants p JOIN conversations c \
             ON c.id = p.conversation_id WHERE p.conversation_id = $1 AND p.user_id = $2",
        )
        .bind(conversation.as_str())
        .bind(actor.user_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let read = taina_guara::read::advance(current, seq, latest);
        if read == current {
            tx.commit().await?;
            return Ok(read);
        }
        sqlx::query(
            "UPDATE participants SET last_read_seq = $1 WHERE conversation_id = $2 AND user_id = $3",
        )
        .bind(read)
        .bind(conversation.as_str())
        .bind(actor.user_id.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let event = GuaraEvent::ReadUpdated {
            conversation_id: conversation.clone(),
            user_id: actor.user_id.clone(),
            last_read_seq: read,
        };
        self.publish(Topic::User(actor.user_id.clone()), event.clone());
        self.publish_in(conversation, event);
        Ok(read)
    }

    /// Unread messages across all the actor's conversations (one query).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn unread_total(&self, actor: &Actor) -> Result<i64> {
        let (total,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM participants p JOIN messages m ON m.conversation_id = p.conversation_id \
             WHERE p.user_id = $1 AND m.seq > p.last_read_seq AND m.deleted_at IS NULL \
             AND (m.sender_id IS NULL OR m.sender_id <> p.user_id)",
        )
        .bind(actor.user_id.as_str())
        .fetch_one(self.taina.inner.db.reader())
        .await?;
        Ok(total)
    }
}
