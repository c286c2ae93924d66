//! Messaging (Guará): conversations, groups, sending, history pages, edits, deletion, reactions,
//! read positions and search.

use reqwest::Method;
use taina_core::wire::List;
use taina_guara::message::Message;
use taina_guara::model::{Conversation, ConversationSummary, HistoryPage, SearchHit};

use crate::client::segment;
use crate::{Client, ClientError};

use taina_guara::message::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

#[derive(serde::Deserialize)]
struct ReadView {
    last_read_seq: i64,
}

impl Client {
    /// Every message of a conversation after `after` (in `seq` order).
    pub(crate) async fn messages_after(
        &self,
        conversation_id: &str,
        mut after: i64,
    ) -> Result<Vec<Message>, ClientError> {
        let path = format!("/conversations/{}/messages", segment(conversation_id));
        let mut all = Vec::new();
        loop {
            let page: List<Message> = self
                .json(
                    self.request(Method::GET, &path)?
                        .query(&[("after", after), ("limit", i64::from(MAX_PAGE_SIZE))]),
                )
                .await?;
            let last = page.items.last().map(|m| m.seq);
            all.extend(page.items);
            match (page.next_cursor, last) {
                (Some(_), Some(seq)) => after = seq,
                _ => return Ok(all),
            }
        }
    }
}

impl Client {
    /// My conversations, most recently active first, each with its last message and my unread
    /// count.
    pub async fn conversations(&self) -> Result<Vec<ConversationSummary>, ClientError> {
        let list: List<ConversationSummary> = self.get("/conversations").await?;
        Ok(list.items)
    }

    /// A conversation I am in.
    pub async fn conversation(&self, conversation_id: String) -> Result<Conversation, ClientError> {
        self.get(&format!("/conversations/{}", segment(&conversation_id)))
            .await
    }

    /// The direct conversation with `user_id` (made if there is none yet); answers its id.
    pub async fn start_direct(&self, user_id: String) -> Result<String, ClientError> {
        let conversation: Conversation = self
            .send(
                Method::POST,
                &format!("/conversations/direct/{}", segment(&user_id)),
                serde_json::json!({}),
            )
            .await?;
        Ok(conversation.id.to_string())
    }

    /// Starts a group with these members (and me, as its admin).
    pub async fn create_group(
        &self,
        name: String,
        participant_ids: Vec<String>,
    ) -> Result<Conversation, ClientError> {
        self.send(
            Method::POST,
            "/conversations",
            serde_json::json!({ "type": "group", "name": name, "participant_ids": participant_ids }),
        )
        .await
    }

    /// Renames a group (its admins).
    pub async fn rename_group(
        &self,
        conversation_id: String,
        name: String,
    ) -> Result<Conversation, ClientError> {
        self.send(
            Method::PATCH,
            &format!("/conversations/{}", segment(&conversation_id)),
            serde_json::json!({ "name": name }),
        )
        .await
    }

    /// Adds people to a group (its admins).
    pub async fn add_participants(
        &self,
        conversation_id: String,
        user_ids: Vec<String>,
    ) -> Result<Conversation, ClientError> {
        self.send(
            Method::POST,
            &format!("/conversations/{}/participants", segment(&conversation_id)),
            serde_json::json!({ "participant_ids": user_ids }),
        )
        .await
    }

    /// Removes someone from a group (its admins), or leaves it when `user_id` is mine.
    pub async fn remove_participant(
        &self,
        conversation_id: String,
        user_id: String,
    ) -> Result<(), ClientError> {
        self.empty(self.request(
            Method::DELETE,
            &format!(
                "/conversations/{}/participants/{}",
                segment(&conversation_id),
                segment(&user_id)
            ),
        )?)
        .await
    }

    /// Sends a message, with a file I may read attached (`file_id`) and as an answer to another
    /// (`reply_to`) if given. Sending again with the same `client_id` (after a lost answer, say)
    /// answers the first message instead of sending a second.
    pub async fn send_message(
        &self,
        conversation_id: String,
        text: String,
        client_id: Option<String>,
        file_id: Option<String>,
        reply_to: Option<String>,
    ) -> Result<Message, ClientError> {
        self.send(
            Method::POST,
            &format!("/conversations/{}/messages", segment(&conversation_id)),
            serde_json::json!({
                "content": text,
                "client_id": client_id,
                "file_id": file_id,
                "reply_to": reply_to,
            }),
        )
        .await
    }

    /// Messages in `seq` order: the latest page, or every message after `after_seq` (to catch
    /// up).
    pub async fn history(
        &self,
        conversation_id: String,
        after_seq: Option<i64>,
    ) -> Result<Vec<Message>, ClientError> {
        match after_seq {
            Some(after) => self.messages_after(&conversation_id, after).await,
            None => Ok(self
                .history_page(conversation_id, None, None)
                .await?
                .messages),
        }
    }

    /// A page of history, oldest first: the latest messages, or those before `before_seq` (the
    /// first `seq` of the page already shown) when scrolling back. `has_more` says whether there
    /// are older ones.
    pub async fn history_page(
        &self,
        conversation_id: String,
        before_seq: Option<i64>,
        limit: Option<u32>,
    ) -> Result<HistoryPage, ClientError> {
        let mut request = self
            .request(
                Method::GET,
                &format!("/conversations/{}/messages", segment(&conversation_id)),
            )?
            .query(&[(
                "limit",
                limit.unwrap_or(DEFAULT_PAGE_SIZE).min(MAX_PAGE_SIZE),
            )]);
        if let Some(before) = before_seq {
            request = request.query(&[("cursor", before)]);
        }
        let page: List<Message> = self.json(request).await?;
        Ok(HistoryPage {
            has_more: page.next_cursor.is_some(),
            messages: page.items,
        })
    }

    /// Changes the text of one of my messages.
    pub async fn edit_message(
        &self,
        message_id: String,
        text: String,
    ) -> Result<Message, ClientError> {
        self.send(
            Method::PATCH,
            &format!("/messages/{}", segment(&message_id)),
            serde_json::json!({ "content": text }),
        )
        .await
    }

    /// Deletes one of my messages (others see that it was deleted).
    pub async fn delete_message(&self, message_id: String) -> Result<(), ClientError> {
        self.empty(self.request(
            Method::DELETE,
            &format!("/messages/{}", segment(&message_id)),
        )?)
        .await
    }

    /// Reacts to a message with an emoji; answers the message with the reaction.
    pub async fn react(&self, message_id: String, emoji: String) -> Result<Message, ClientError> {
        self.send(
            Method::POST,
            &format!("/messages/{}/reactions", segment(&message_id)),
            serde_json::json!({ "emoji": emoji }),
        )
        .await
    }

    /// Takes my reaction back; answers the message without it.
    pub async fn unreact(&self, message_id: String, emoji: String) -> Result<Message, ClientError> {
        self.json(self.request(
            Method::DELETE,
            &format!(
                "/messages/{}/reactions/{}",
                segment(&message_id),
                segment(&emoji)
            ),
        )?)
        .await
    }

    /// Marks a conversation read up to `seq`; answers my read position (it never moves back).
    pub async fn mark_read(&self, conversation_id: String, seq: i64) -> Result<i64, ClientError> {
        let read: ReadView = self
            .send(
                Method::POST,
                &format!("/conversations/{}/read", segment(&conversation_id)),
                serde_json::json!({ "seq": seq }),
            )
            .await?;
        Ok(read.last_read_seq)
    }

    /// Searches my conversations' messages, best matches first.
    pub async fn search_messages(&self, query: String) -> Result<Vec<SearchHit>, ClientError> {
        let list: List<SearchHit> = self
            .json(
                self.request(Method::GET, "/search/messages")?
                    .query(&[("q", query)]),
            )
            .await?;
        Ok(list.items)
    }
}
