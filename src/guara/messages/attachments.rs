//! Attachments: a message's attachment streamed to who may read its conversation.

use taina_core::{Actor, BlobId, Error as DomainError, MessageId};
use taina_guara::conversation::ConversationAction;
use taina_ybira::access::Space;
use taina_ybira::range::ByteRange;
use tracing::instrument;

use super::rows::load_message;
use crate::Result;
use crate::db::parse_id;
use crate::guara::Guara;
use crate::ybira::{Download, Item, ItemKind};

impl Guara<'_> {
    /// Streams a message's attachment to a participant of its conversation (whoever may read the
    /// conversation may download what was sent in it): the content as it was sent, whatever the
    /// file holds now or whoever may read the file.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn attachment(
        &self,
        actor: &Actor,
        id: &MessageId,
        range: Option<ByteRange>,
    ) -> Result<Download> {
        let conversation = self.conversation_of(actor, id).await?;
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        crate::guara::access(&mut conn, actor, &conversation, ConversationAction::Read).await?;
        let message = load_message(&mut conn, id).await?;
        let (pinned,): (Option<String>,) =
            sqlx::query_as("SELECT attachment_blob_id FROM messages WHERE id = $1")
                .bind(id.as_str())
                .fetch_one(&mut *conn)
                .await?;
        drop(conn);
        let (Some(attachment), Some(blob)) = (message.attachment, pinned) else {
            return Err(DomainError::not_found("attachment").into());
        };
        // The file as it was sent: its name, type and size then (where it lives is not the
        // conversation's business), and the content pinned with the message.
        let item = Item {
            id: attachment.file_id,
            kind: ItemKind::File,
            name: attachment.name,
            parent_id: None,
            space: Space::Shared,
            owner_id: message.sender_id,
            size_bytes: attachment.size_bytes,
            mime_type: Some(attachment.mime_type),
            revision: 1,
            etag: None,
            created_at: message.created_at,
            updated_at: message.created_at,
            client_modified_at: None,
            deleted_at: None,
            has_previews: false,
            preview_error: None,
        };
        self.taina
            .ybira()
            .stream_pinned(
                &actor.community_id,
                item,
                &parse_id(&blob, BlobId::parse)?,
                range,
            )
            .await
    }
}
