//! Messages: sending (idempotent per client key), history in both directions, edits, deletes
//! (tombstones), reactions, read state and attachments.
//!
//! By concept: the message row and loading (`rows.rs`), sending and history (`send.rs`), edits and
//! deletes (`changes.rs`), reactions (`reactions.rs`), read state (`read.rs`), attachments
//! (`attachments.rs`).

use taina_core::{ItemId, MessageId};
pub use taina_guara::message::Position;
pub use taina_guara::model::HistoryPage;

mod attachments;
mod changes;
mod reactions;
mod read;
mod rows;
mod send;

pub(crate) use rows::{Arg, insert_system, load_messages, load_messages_where, unpin_attachments};

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
