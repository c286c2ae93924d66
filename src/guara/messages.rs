//! Messages: sending (idempotent per client key), history in both directions, edits, deletes
//! (tombstones), reactions, read state and attachments.

use std::collections::HashMap;

use sqlx::AnyConnection;
use taina_core::{
    Actor, BlobId, ConversationId, Error as DomainError, ItemId, MessageId, Timestamp,
};
use taina_guara::conversation::ConversationAction;
use taina_guara::event::{GuaraEvent, Topic};
pub use taina_guara::message::Position;
use taina_guara::message::{
    Attachment, AttachmentKind, Message, MessageAction, Reaction, SystemNote, authorize_message,
    check_attachment_size, check_client_key, check_new_reaction, normalize_reaction,
    normalize_text, page_size,
};
pub use taina_guara::model::HistoryPage;
use taina_ybira::access::Space;
use taina_ybira::range::ByteRange;
use tracing::instrument;

use super::{Guara, parse_conversation, parse_user};
use crate::accounts::rows::parse_id;
use crate::ybira::{Download, Item, ItemKind};
use crate::{Error, Result};

/// A message to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewMessage {
    /// Its text (1 to 10,000 characters; may be empty with an attachment).
    pub text: String,
    /// A Ybira file the sender may read, at most 25 MB. The message keeps its content as it is
    /// when sent: later changes to the file, or to who may read it, do not reach the message.
    pub attachment: Option<ItemId>,
    /// The message it answers, in the same conversation.
    pub reply_to: Option<MessageId>,
    /// The client's idempotency key: sending again with it returns the first message.
    pub client_key: Option<String>,
}

/// A bound argument of a dynamic query.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
}

const MESSAGE_COLUMNS: &str = "m.id, m.conversation_id, m.seq, m.sender_id, m.body, \
     m.system_note, m.attachment_item_id, m.attachment_name, m.attachment_mime, \
     m.attachment_size, m.reply_to_id, m.client_key, m.created_at, m.edited_at, m.deleted_at";

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: String,
    conversation_id: String,
    seq: i64,
    sender_id: Option<String>,
    body: String,
    system_note: Option<String>,
    attachment_item_id: Option<String>,
    attachment_name: Option<String>,
    attachment_mime: Option<String>,
    attachment_size: Option<i64>,
    reply_to_id: Option<String>,
    client_key: Option<String>,
    created_at: i64,
    edited_at: Option<i64>,
    deleted_at: Option<i64>,
}

impl MessageRow {
    fn into_message(self) -> Result<Message> {
        let system = self
            .system_note
            .as_deref()
            .map(serde_json::from_str::<SystemNote>)
            .transpose()
            .map_err(|e| Error::Corrupt(format!("message {}: {e}", self.id)))?;
        let attachment = match self.attachment_item_id {
            Some(file) => {
                let mime = self.attachment_mime.unwrap_or_default();
                Some(Attachment {
                    file_id: parse_id(&file, ItemId::parse)?,
                    name: self.attachment_name.unwrap_or_default(),
                    kind: AttachmentKind::for_mime(&mime),
                    mime_type: mime,
                    size_bytes: u64::try_from(self.attachment_size.unwrap_or(0)).unwrap_or(0),
                })
            }
            None => None,
        };
        Ok(Message {
            id: parse_id(&self.id, MessageId::parse)?,
            conversation_id: parse_conversation(&self.conversation_id)?,
            seq: self.seq,
            sender_id: self.sender_id.as_deref().map(parse_user).transpose()?,
            text: self.body,
            system,
            attachment,
            reply_to: self
                .reply_to_id
                .as_deref()
                .map(|r| parse_id(r, MessageId::parse))
                .transpose()?,
            reactions: Vec::new(),
            client_key: self.client_key,
            created_at: Timestamp::from_millis(self.created_at),
            edited_at: self.edited_at.map(Timestamp::from_millis),
            deleted_at: self.deleted_at.map(Timestamp::from_millis),
        })
    }
}

fn bind_all<'q>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, MessageRow, sqlx::any::AnyArguments<'q>>,
    args: &[Arg],
) -> sqlx::query::QueryAs<'q, sqlx::Any, MessageRow, sqlx::any::AnyArguments<'q>> {
    for arg in args {
        query = match arg {
            Arg::Text(s) => query.bind(s.clone()),
            Arg::Int(n) => query.bind(*n),
        };
    }
    query
}

/// Reactions are loaded for this many messages per query at most (bound parameters).
const REACTION_BATCH: usize = 500;

/// Messages matching `filter` (SQL over `m`, the message, and `c`, its conversation), with their
/// reactions: two queries for a page, whatever their number (one more per 500 messages). `tail`
/// orders and limits.
pub(crate) async fn load_messages(
    conn: &mut AnyConnection,
    filter: &str,
    tail: &str,
    args: &[Arg],
) -> Result<Vec<Message>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         WHERE {filter} {tail}"
    );
    let rows: Vec<MessageRow> = bind_all(sqlx::query_as(&sql), args)
        .fetch_all(&mut *conn)
        .await?;
    let mut messages = rows
        .into_iter()
        .map(MessageRow::into_message)
        .collect::<Result<Vec<_>>>()?;
    // Only the reactions of the messages loaded, grouped by message and emoji through maps (never
    // a search per reaction), in the order people reacted.
    let at: HashMap<String, usize> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str().to_owned(), i))
        .collect();
    let ids: Vec<String> = at.keys().cloned().collect();
    let mut rows: Vec<(String, String, String, i64)> = Vec::new();
    for batch in ids.chunks(REACTION_BATCH) {
        let placeholders: Vec<String> = (1..=batch.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT r.message_id, r.user_id, r.emoji, r.created_at FROM reactions r \
             WHERE r.message_id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as::<_, (String, String, String, i64)>(&sql);
        for id in batch {
            query = query.bind(id.clone());
        }
        rows.extend(query.fetch_all(&mut *conn).await?);
    }
    rows.sort_by(|a, b| (a.3, &a.1, &a.2).cmp(&(b.3, &b.1, &b.2)));
    let mut groups: HashMap<(usize, String), usize> = HashMap::new();
    for (message, user, emoji, _) in rows {
        let Some(&i) = at.get(&message) else {
            continue;
        };
        let user = parse_user(&user)?;
        let reactions = &mut messages[i].reactions;
        match groups.entry((i, emoji)) {
            std::collections::hash_map::Entry::Occupied(group) => {
                reactions[*group.get()].user_ids.push(user);
            }
            std::collections::hash_map::Entry::Vacant(group) => {
                let emoji = group.key().1.clone();
                group.insert(reactions.len());
                reactions.push(Reaction {
                    emoji,
                    user_ids: vec![user],
                });
            }
        }
    }
    Ok(messages)
}

/// Messages matching `filter` with one text argument (`$1`).
pub(crate) async fn load_messages_where(
    conn: &mut AnyConnection,
    filter: &str,
    bind: &str,
) -> Result<Vec<Message>> {
    load_messages(conn, filter, "", &[Arg::Text(bind.to_owned())]).await
}

/// One message.
pub(crate) async fn load_message(conn: &mut AnyConnection, id: &MessageId) -> Result<Message> {
    load_messages_where(conn, "m.id = $1", id.as_str())
        .await?
        .pop()
        .ok_or_else(|| DomainError::not_found("message").into())
}

/// Takes the conversation's next `seq` and marks its activity (the caller holds its lock).
async fn next_seq(
    conn: &mut AnyConnection,
    conversation: &ConversationId,
    now: Timestamp,
) -> Result<i64> {
    let (seq,): (i64,) = sqlx::query_as(
        "UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = $2, updated_at = $2 \
         WHERE id = $1 RETURNING last_seq",
    )
    .bind(conversation.as_str())
    .bind(now.as_millis())
    .fetch_one(&mut *conn)
    .await?;
    Ok(seq)
}

/// Records a system message (the caller holds the conversation's lock).
pub(crate) async fn insert_system(
    conn: &mut AnyConnection,
    conversation: &ConversationId,
    note: SystemNote,
    now: Timestamp,
) -> Result<Message> {
    let id = crate::random::new_id(MessageId::from_random);
    let seq = next_seq(conn, conversation, now).await?;
    let note = serde_json::to_string(&note).map_err(|e| Error::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO messages (id, conversation_id, seq, system_note, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.as_str())
    .bind(conversation.as_str())
    .bind(seq)
    .bind(note)
    .bind(now.as_millis())
    .execute(&mut *conn)
    .await?;
    load_message(conn, &id).await
}

/// Drops the references the attachments of a conversation's messages hold to Ybira's content, before
/// the conversation is purged (the caller holds the community's lock, then the conversation's).
pub(crate) async fn unpin_attachments(
    conn: &mut AnyConnection,
    taina: &crate::Taina,
    conversation: &ConversationId,
) -> Result<()> {
    let pinned: Vec<(String,)> = sqlx::query_as(
        "SELECT attachment_blob_id FROM messages WHERE conversation_id = $1 \
         AND attachment_blob_id IS NOT NULL",
    )
    .bind(conversation.as_str())
    .fetch_all(&mut *conn)
    .await?;
    for (blob,) in pinned {
        taina
            .ybira()
            .unpin_content(&mut *conn, &parse_id(&blob, BlobId::parse)?)
            .await?;
    }
    Ok(())
}

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
        let (mut tx, _, _turn) = if message.attachment.is_some() {
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
                return Ok(first);
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
        Ok(sent)
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
        let limit = i64::from(page_size(limit));
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        super::access(&mut conn, actor, conversation, ConversationAction::Read).await?;
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
        Ok(HistoryPage { messages, has_more })
    }

    /// The conversation a message is in, if it is in the actor's community.
    async fn conversation_of(&self, actor: &Actor, message: &MessageId) -> Result<ConversationId> {
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
        Ok(edited)
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

    /// Reacts to a message with an emoji (once per person per emoji).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn react(&self, actor: &Actor, id: &MessageId, emoji: &str) -> Result<Message> {
        let emoji = normalize_reaction(emoji)?;
        let conversation = self.conversation_of(actor, id).await?;
        let (mut tx, _, _turn) = self
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
        Ok(reacted)
    }

    /// Takes one's reaction back.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn unreact(&self, actor: &Actor, id: &MessageId, emoji: &str) -> Result<Message> {
        let emoji = normalize_reaction(emoji)?;
        let conversation = self.conversation_of(actor, id).await?;
        let (mut tx, _, _turn) = self
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
        Ok(message)
    }

    /// Marks a conversation read up to `seq` (never backwards, never past its latest message);
    /// answers the read position.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn mark_read(
        &self,
        actor: &Actor,
        conversation: &ConversationId,
        seq: i64,
    ) -> Result<i64> {
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
        super::access(&mut conn, actor, &conversation, ConversationAction::Read).await?;
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
