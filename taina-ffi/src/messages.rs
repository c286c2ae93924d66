//! Messaging (Guará): conversations, groups, sending, history pages, edits, deletion, reactions,
//! read positions and search.

use taina_client::ClientError;
use taina_guara::message::Message;
use taina_guara::model::{Conversation, ConversationSummary, HistoryPage, SearchHit};

use crate::TainaClient;

#[uniffi::export(async_runtime = "tokio")]
impl TainaClient {
    /// My conversations, most recently active first, each with its last message and my unread
    /// count.
    pub async fn conversations(&self) -> Result<Vec<ConversationSummary>, ClientError> {
        self.0.conversations().await
    }

    /// A conversation I am in.
    pub async fn conversation(&self, conversation_id: String) -> Result<Conversation, ClientError> {
        self.0.conversation(conversation_id).await
    }

    /// The direct conversation with `user_id` (made if there is none yet); answers its id.
    pub async fn start_direct(&self, user_id: String) -> Result<String, ClientError> {
        self.0.start_direct(user_id).await
    }

    /// Starts a group with these members (and me, as its admin).
    pub async fn create_group(
        &self,
        name: String,
        participant_ids: Vec<String>,
    ) -> Result<Conversation, ClientError> {
        self.0.create_group(name, participant_ids).await
    }

    /// Renames a group (its admins).
    pub async fn rename_group(
        &self,
        conversation_id: String,
        name: String,
    ) -> Result<Conversation, ClientError> {
        self.0.rename_group(conversation_id, name).await
    }

    /// Adds people to a group (its admins).
    pub async fn add_participants(
        &self,
        conversation_id: String,
        user_ids: Vec<String>,
    ) -> Result<Conversation, ClientError> {
        self.0.add_participants(conversation_id, user_ids).await
    }

    /// Removes someone from a group (its admins), or leaves it when `user_id` is mine.
    pub async fn remove_participant(
        &self,
        conversation_id: String,
        user_id: String,
    ) -> Result<(), ClientError> {
        self.0.remove_participant(conversation_id, user_id).await
    }

    /// Sends a message, with a file I may read attached (`file_id`) and as an answer to another
    /// (`reply_to`) if given. Sending again with the same `client_id` (after a lost answer, say)
    /// answers the first message instead of sending a second.
    #[uniffi::method(default(client_id = None, file_id = None, reply_to = None))]
    pub async fn send_message(
        &self,
        conversation_id: String,
        text: String,
        client_id: Option<String>,
        file_id: Option<String>,
        reply_to: Option<String>,
    ) -> Result<Message, ClientError> {
        self.0
            .send_message(conversation_id, text, client_id, file_id, reply_to)
            .await
    }

    /// Messages in `seq` order: the latest page, or every message after `after_seq` (to catch
    /// up).
    #[uniffi::method(default(after_seq = None))]
    pub async fn history(
        &self,
        conversation_id: String,
        after_seq: Option<i64>,
    ) -> Result<Vec<Message>, ClientError> {
        self.0.history(conversation_id, after_seq).await
    }

    /// A page of history, oldest first: the latest messages, or those before `before_seq` (the
    /// first `seq` of the page already shown) when scrolling back. `has_more` says whether there
    /// are older ones.
    #[uniffi::method(default(before_seq = None, limit = None))]
    pub async fn history_page(
        &self,
        conversation_id: String,
        before_seq: Option<i64>,
        limit: Option<u32>,
    ) -> Result<HistoryPage, ClientError> {
        self.0
            .history_page(conversation_id, before_seq, limit)
            .await
    }

    /// Changes the text of one of my messages.
    pub async fn edit_message(
        &self,
        message_id: String,
        text: String,
    ) -> Result<Message, ClientError> {
        self.0.edit_message(message_id, text).await
    }

    /// Deletes one of my messages (others see that it was deleted).
    pub async fn delete_message(&self, message_id: String) -> Result<(), ClientError> {
        self.0.delete_message(message_id).await
    }

    /// Reacts to a message with an emoji; answers the message with the reaction.
    pub async fn react(&self, message_id: String, emoji: String) -> Result<Message, ClientError> {
        self.0.react(message_id, emoji).await
    }

    /// Takes my reaction back; answers the message without it.
    pub async fn unreact(&self, message_id: String, emoji: String) -> Result<Message, ClientError> {
        self.0.unreact(message_id, emoji).await
    }

    /// Marks a conversation read up to `seq`; answers my read position (it never moves back).
    pub async fn mark_read(&self, conversation_id: String, seq: i64) -> Result<i64, ClientError> {
        self.0.mark_read(conversation_id, seq).await
    }

    /// Searches my conversations' messages, best matches first.
    pub async fn search_messages(&self, query: String) -> Result<Vec<SearchHit>, ClientError> {
        self.0.search_messages(query).await
    }
}
