//! Messages as the database holds them: the columns read, the row and how it becomes a
//! [`Message`], messages loaded with their reactions, a conversation's next `seq`, system
//! messages, and the references attachments hold to Ybira's content.

use std::collections::HashMap;

use sqlx::AnyConnection;
use taina_core::{BlobId, ConversationId, Error as DomainError, ItemId, MessageId, Timestamp};
use taina_guara::message::{Attachment, AttachmentKind, Message, Reaction, SystemNote};

use crate::db::parse_id;
use crate::guara::{parse_conversation, parse_user};
use crate::{Error, Result};

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
            viewer: None,
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
pub(super) async fn next_seq(
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
    let note = serde_json::to_string(&note).map_err(|e| Error::Encode(e.to_string()))?;
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
