//! Changing what was sent: edits (marked edited) and deletes (a tombstone keeps the place).

use taina_core::{Actor, BlobId, MessageId};
use taina_guara::conversation::ConversationAction;
use taina_guara::event::GuaraEvent;
use taina_guara::message::{Message, MessageAction, authorize_message, normalize_text};
use tracing::instrument;

use super::rows::load_message;
use crate::Result;
use crate::db::parse_id;
use crate::guara::Guara;

impl Guara<'_> {
    /// Changes the text of one's own message (marked edited).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn edit(&self, actor: &Actor, id: &MessageId, text: &str) -> Result<Message> {
        let conversation = self.conversation_of(actor, id).await?;
        let (mut tx, access, _turn) = self
            .begin_in(actor, &conversation, ConversationAction::Read)
            .await?;
        let current = load_message(&mut tx, id).await?;
        authorize_message(
            &actor.user_id,
            access.role,
            current.sender_id.as_ref(),
            current.deleted_at.is_some(),
            MessageAction::Edit,
        )?;
        let text = normalize_text(text, current.attachment.is_some())?;
        sqlx::query("UPDATE messages SET body = $1, edited_at = $2 WHERE id = $3")
            .bind(&text)
            .bind(self.now().as_millis())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        let edited = load_message(&mut tx, id).await?;
        tx.commit().await?;
        self.publish_in(
            &conversation,
            GuaraEvent::MessageUpdated(Box::new(edited.clone())),
        );
        Ok(edited.for_reader(&actor.user_id, access.role))
    }

    /// Deletes a message (one's own, or anyone's for a group admin): its text, attachment and
    /// reactions go; a tombstone keeps its place in the thread.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn delete_message(&self, actor: &Actor, id: &MessageId) -> Result<()> {
        let conversation = self.conversation_of(actor, id).await?;
        // Its attachment's reference to the content goes: the community's lock first.
        let (mut tx, access, _turn) = self
            .begin_in_community(actor, &conversation, ConversationAction::Read)
            .await?;
        let current = load_message(&mut tx, id).await?;
        authorize_message(
            &actor.user_id,
            access.role,
            current.sender_id.as_ref(),
            current.deleted_at.is_some(),
            MessageAction::Delete,
        )?;
        let (pinned,): (Option<String>,) =
            sqlx::query_as("SELECT attachment_blob_id FROM messages WHERE id = $1")
                .bind(id.as_str())
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query(
            "UPDATE messages SET body = '', attachment_file_id = NULL, attachment_item_id = NULL, \
             attachment_blob_id = NULL, attachment_name = NULL, attachment_mime = NULL, \
             attachment_size = NULL, deleted_at = $1 WHERE id = $2",
        )
        .bind(self.now().as_millis())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        if let Some(blob) = pinned {
            self.taina
                .ybira()
                .unpin_content(&mut tx, &parse_id(&blob, BlobId::parse)?)
                .await?;
        }
        sqlx::query("DELETE FROM reactions WHERE message_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.publish_in(
            &conversation,
            GuaraEvent::MessageDeleted {
                conversation_id: conversation.clone(),
                message_id: id.clone(),
            },
        );
        Ok(())
    }
}
