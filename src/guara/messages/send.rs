//! Sending a message (idempotent per client key, an attachment pinned as it is when sent) and
//! reading a conversation's history in both directions.

use taina_core::{Actor, ConversationId, Error as DomainError, MessageId};
use taina_guara::conversation::ConversationAction;
use taina_guara::event::GuaraEvent;
use taina_guara::message::{
    Message, Position, check_attachment_size, check_client_key, normalize_text, page_size,
};
use taina_guara::model::HistoryPage;
use tracing::instrument;

use super::NewMessage;
use super::rows::{Arg, load_message, load_messages, next_seq};
use crate::Result;
use crate::db::parse_id;
use crate::guara::{Guara, parse_conversation};

impl Guara<'_> {
    /// Sends a message. With a client key already used by the sender in this conversation, answers
    /// the message first sent with it and sends nothing.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn send(
        &self,
        actor: &Actor,
        conversation: &ConversationId,
        message: NewMessage,
    ) -> Result<Message> {
        if let Some(key) = &message.client_key {
            check_client_key(key)?;
        }
        let text = normalize_text(&message.text, message.attachment.is_some())?;
        let now = self.now();
        // An attachment takes a reference to the file's content: the community's lock first.
        let (mut tx, access, _turn) = if message.attachment.is_some() {
            self.begin_in_community(actor, conversation, ConversationAction::Send)
                .await?
        } else {
            self.begin_in(actor, conversation, ConversationAction::Send)
                .await?
        };
        if let Some(key) = &message.client_key {
            let sent: Option<(String,)> = sqlx::query_as(
                "SELECT id FROM messages WHERE conversation_id = $1 AND sender_id = $2 \
                 AND client_key = $3",
            )
            .bind(conversation.as_str())
            .bind(actor.user_id.as_str())
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((id,)) = sent {
                let first = load_message(&mut tx, &parse_id(&id, MessageId::parse)?).await?;
                tx.commit().await?;
                return Ok(first.for_reader(&actor.user_id, access.role));
            }
        }
        if let Some(reply_to) = &message.reply_to {
            let found: Option<(String,)> =
                sqlx::query_as("SELECT id FROM messages WHERE id = $1 AND conversation_id = $2")
                    .bind(reply_to.as_str())
                    .bind(conversation.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            if found.is_none() {
                return Err(DomainError::not_found("message replied to").into());
            }
        }
        // The message keeps the content the file has now (a reference to its blob, undone with the
        // transaction if the send fails): what was sent stays what the conversation reads.
        let attachment = match &message.attachment {
            Some(file) => {
                let (item, blob) = self.taina.ybira().pin_content(&mut tx, actor, file).await?;
                check_attachment_size(item.size_bytes)?;
                Some((item, blob))
            }
            None => None,
        };
        let blob = attachment
            .as_ref()
            .map(|(_, blob)| blob.as_str().to_owned());
        let attachment = attachment.map(|(item, _)| item);
        let id = crate::random::new_id(MessageId::from_random);
        let seq = next_seq(&mut tx, conversation, now).await?;
        sqlx::query(
            "INSERT INTO messages (id, conversation_id, seq, sender_id, body, attachment_item_id, \
             attachment_blob_id, attachment_name, attachment_mime, attachment_size, reply_to_id, \
             client_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(id.as_str())
        .bind(conversation.as_str())
        .bind(seq)
        .bind(actor.user_id.as_str())
        .bind(&text)
        .bind(attachment.as_ref().map(|a| a.id.as_str().to_owned()))
        .bind(blob)
        .bind(attachment.as_ref().map(|a| a.name.clone()))
        .bind(attachment.as_ref().map(|a| {
            a.mime_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into())
        }))
        .bind(
            attachment
                .as_ref()
                .map(|a| i64::try_from(a.size_bytes).unwrap_or(i64::MAX)),
        )
        .bind(message.reply_to.as_ref().map(|r| r.as_str().to_owned()))
        .bind(message.client_key.clone())
        .bind(now.as_millis())
        .execute(&mut *tx)
        .await?;
        // Sending reads everything before it.
        sqlx::query(
            "UPDATE participants SET last_read_seq = $1 WHERE conversation_id = $2 AND user_id = $3",
        )
        .bind(seq)
        .bind(conversation.as_str())
        .bind(actor.user_id.as_str())
        .execute(&mut *tx)
        .await?;
        let sent = load_message(&mut tx, &id).await?;
        tx.commit().await?;
        self.stop_typing(conversation, &actor.user_id);
        self.publish_in(
            conversation,
            GuaraEvent::MessageCreated(Box::new(sent.clone())),
        );
        Ok(sent.for_reader(&actor.user_id, access.role))
    }

    /// A page of a conversation's history, oldest first: the latest messages, those before a
    /// `seq` (scrolling back) or those after one (catching up, with no gap).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn history(
        &self,
        actor: &Actor,
        conversation: &ConversationId,
        position: Position,
        limit: Option<u32>,
    ) -> Result<HistoryPage> {
        let limit = i64::from(page_size(limit)?);
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        let access =
            crate::guara::access(&mut conn, actor, conversation, ConversationAction::Read).await?;
        let (filter, tail, bound) = match position {
            Position::Latest => (
                "m.conversation_id = $1 AND m.seq <= $2",
                "ORDER BY m.seq DESC",
                i64::MAX,
            ),
            Position::Before(seq) => (
                "m.conversation_id = $1 AND m.seq < $2",
                "ORDER BY m.seq DESC",
                seq,
            ),
            Position::After(seq) => (
                "m.conversation_id = $1 AND m.seq > $2",
                "ORDER BY m.seq ASC",
                seq,
            ),
        };
        let args = [Arg::Text(conversation.as_str().to_owned()), Arg::Int(bound)];
        let mut messages = load_messages(
            &mut conn,
            filter,
            &format!("{tail} LIMIT {}", limit + 1),
            &args,
        )
        .await?;
        let has_more = messages.len() as i64 > limit;
        messages.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        messages.sort_by_key(|m| m.seq);
        let messages = messages
            .into_iter()
            .map(|m| m.for_reader(&actor.user_id, access.role))
            .collect();
        Ok(HistoryPage { messages, has_more })
    }

    /// The conversation a message is in, if it is in the actor's community.
    pub(super) async fn conversation_of(
        &self,
        actor: &Actor,
        message: &MessageId,
    ) -> Result<ConversationId> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT m.conversation_id FROM messages m JOIN conversations c \
             ON c.id = m.conversation_id WHERE m.id = $1 AND c.community_id = $2",
        )
        .bind(message.as_str())
        .bind(actor.community_id.as_str())
        .fetch_optional(self.taina.inner.db.reader())
        .await?;
        let (conversation,) = row.ok_or_else(|| DomainError::not_found("message"))?;
        parse_conversation(&conversation)
    }
}
