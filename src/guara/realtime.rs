//! Realtime: typing indicators (what a [feed](crate::feed::Feed) hears of them), and the state
//! presence starts from. Typing lives in memory only (it means nothing after a restart); its
//! events cross instances on the bus. Presence is in [`super::presence`].

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use taina_core::{Actor, ConversationId, UserId};
use taina_guara::conversation::ConversationAction;
use taina_guara::event::GuaraEvent;
use taina_guara::presence::Presence;
use taina_guara::typing::{Change, Typing};
use tracing::instrument;

use super::{Guara, parse_conversation};
use crate::{Inner, Result, Taina};

/// How often expired typing indicators are swept.
const TYPING_SWEEP: Duration = Duration::from_secs(1);

/// Publishing turns are striped over this many locks (bounded memory, whatever the number of
/// conversations).
const PUBLISH_STRIPES: usize = 64;

/// A conversation's turn to change and publish; dropping it lets the next change in.
pub(crate) type PublishTurn = tokio::sync::OwnedMutexGuard<()>;

/// The in-memory realtime state of an instance.
#[derive(Debug)]
pub(crate) struct RealtimeState {
    typing: Mutex<Typing>,
    /// This instance's own connections ([`super::presence`] shares them).
    pub(crate) presence: Mutex<Presence>,
    pub(crate) next_connection: AtomicU64,
    publish_turns: Vec<Arc<tokio::sync::Mutex<()>>>,
}

impl Default for RealtimeState {
    fn default() -> Self {
        RealtimeState {
            typing: Mutex::default(),
            presence: Mutex::default(),
            next_connection: AtomicU64::default(),
            publish_turns: (0..PUBLISH_STRIPES)
                .map(|_| Arc::new(tokio::sync::Mutex::new(())))
                .collect(),
        }
    }
}

impl RealtimeState {
    /// Waits for a conversation's turn to change and publish.
    pub(crate) async fn publish_turn(&self, conversation: &ConversationId) -> PublishTurn {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(conversation.as_str());
        let stripe = usize::try_from(hash % PUBLISH_STRIPES as u64).unwrap_or(0);
        self.publish_turns[stripe].clone().lock_owned().await
    }
}

/// Sweeps expired typing indicators every second while the instance is open.
pub(crate) fn start_typing_sweeper(inner: &Arc<Inner>) {
    let weak: Weak<Inner> = Arc::downgrade(inner);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TYPING_SWEEP);
        loop {
            tick.tick().await;
            let Some(inner) = weak.upgrade() else { return };
            Taina { inner }.guara().expire_typing();
        }
    });
}

impl Guara<'_> {
    /// `user`'s role in a conversation, if they are in it.
    pub(crate) async fn role_in(
        &self,
        user: &UserId,
        conversation: &ConversationId,
    ) -> Result<Option<taina_guara::conversation::ParticipantRole>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT role FROM participants WHERE conversation_id = $1 AND user_id = $2",
        )
        .bind(conversation.as_str())
        .bind(user.as_str())
        .fetch_optional(self.taina.inner.db.reader())
        .await?;
        row.map(|(role,)| super::parse_role(&role)).transpose()
    }

    /// The conversations `user` is in, with their role in each (what their
    /// [feed](crate::feed::Feed) follows, and what it tells them they may do).
    pub(crate) async fn memberships(
        &self,
        user: &UserId,
    ) -> Result<Vec<(ConversationId, taina_guara::conversation::ParticipantRole)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT conversation_id, role FROM participants WHERE user_id = $1")
                .bind(user.as_str())
                .fetch_all(self.taina.inner.db.reader())
                .await?;
        rows.iter()
            .map(|(c, role)| Ok((parse_conversation(c)?, super::parse_role(role)?)))
            .collect()
    }

    /// The actor is typing in a conversation (`true`, refreshed while they type) or stopped.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn typing(
        &self,
        actor: &Actor,
        conversation: &ConversationId,
        active: bool,
    ) -> Result<()> {
        self.check(actor, conversation, ConversationAction::Read)
            .await?;
        if !active {
            self.stop_typing(conversation, &actor.user_id);
            return Ok(());
        }
        let change = {
            let mut typing = self.typing_state();
            typing.start(conversation, &actor.user_id, self.now())
        };
        if change == Change::Started {
            self.publish_in(
                conversation,
                GuaraEvent::Typing {
                    conversation_id: conversation.clone(),
                    user_id: actor.user_id.clone(),
                    active: true,
                },
            );
        }
        Ok(())
    }

    /// Who is typing in a conversation the actor is in.
    pub async fn typing_in(
        &self,
        actor: &Actor,
        conversation: &ConversationId,
    ) -> Result<Vec<UserId>> {
        self.check(actor, conversation, ConversationAction::Read)
            .await?;
        Ok(self.typing_state().typing_in(conversation, self.now()))
    }

    pub(crate) fn stop_typing(&self, conversation: &ConversationId, user: &UserId) {
        let change = self.typing_state().stop(conversation, user, self.now());
        if change == Change::Stopped {
            self.publish_in(
                conversation,
                GuaraEvent::Typing {
                    conversation_id: conversation.clone(),
                    user_id: user.clone(),
                    active: false,
                },
            );
        }
    }

    /// Ends the typing indicators not refreshed for five seconds, announcing each; answers how
    /// many ended. Runs every second in the background; tests call it after moving the clock.
    pub fn expire_typing(&self) -> usize {
        let expired = self.typing_state().expire(self.now());
        for (conversation, user) in &expired {
            self.publish_in(
                conversation,
                GuaraEvent::Typing {
                    conversation_id: conversation.clone(),
                    user_id: user.clone(),
                    active: false,
                },
            );
        }
        expired.len()
    }

    fn typing_state(&self) -> std::sync::MutexGuard<'_, Typing> {
        self.taina
            .inner
            .realtime
            .typing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}
