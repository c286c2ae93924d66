//! Conversations: creating them (groups, and direct ones got or created), listing mine with their
//! last message and unread count, renaming, and who is in them.

use std::collections::HashMap;

use sqlx::AnyConnection;
use taina_core::event::Topic;
use taina_core::{Actor, ConversationId, Error as DomainError, Timestamp, UserId};
use taina_guara::conversation::{
    ConversationAction, ParticipantRole, check_requested, direct_key, group_participants,
    next_admin, normalize_name, participants_to_add,
};
use taina_guara::event::{ConversationChange, GuaraEvent};
use taina_guara::message::{Message, SystemNote};
pub use taina_guara::model::ConversationSummary;
use tracing::instrument;

use super::messages::{insert_system, load_messages_where, unpin_attachments};
use super::{
    Conversation, Guara, Participant, check_members, parse_conversation, parse_kind, parse_role,
    parse_user,
};
use crate::Result;

#[derive(sqlx::FromRow)]
struct ConversationRow {
    id: String,
    kind: String,
    name: Option<String>,
    last_seq: i64,
    last_activity_at: i64,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    #[sqlx(flatten)]
    conversation: ConversationRow,
    unread: i64,
}

const CONVERSATION_COLUMNS: &str =
    "c.id, c.kind, c.name, c.last_seq, c.last_activity_at, c.created_at";

impl ConversationRow {
    fn into_conversation(self, participants: Vec<Participant>) -> Result<Conversation> {
        Ok(Conversation {
            id: parse_conversation(&self.id)?,
            kind: parse_kind(&self.kind)?,
            name: self.name,
            participants,
            last_seq: self.last_seq,
            last_activity_at: Timestamp::from_millis(self.last_activity_at),
            created_at: Timestamp::from_millis(self.created_at),
        })
    }
}

/// The participants of the conversations `filter` selects (an SQL condition on `p`), by
/// conversation, in the order they joined.
async fn participants_where(
    conn: &mut AnyConnection,
    filter: &str,
    bind: &str,
) -> Result<Vec<(String, Participant)>> {
    let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(&format!(
        "SELECT p.conversation_id, p.user_id, p.role, p.joined_at, p.last_read_seq \
         FROM participants p WHERE {filter} ORDER BY p.conversation_id, p.joined_at, p.user_id"
    ))
    .bind(bind)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(c, user, role, joined, read)| {
            Ok((
                c,
                Participant {
                    user_id: parse_user(&user)?,
                    role: parse_role(&role)?,
                    joined_at: Timestamp::from_millis(joined),
                    last_read_seq: read,
                },
            ))
        })
        .collect()
}

/// One conversation with its participants.
pub(crate) async fn load_conversation(
    conn: &mut AnyConnection,
    id: &ConversationId,
) -> Result<Conversation> {
    let row: ConversationRow = sqlx::query_as(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = $1"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| DomainError::not_found("conversation"))?;
    let participants = participants_where(conn, "p.conversation_id = $1", id.as_str())
        .await?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    row.into_conversation(participants)
}

/// Adds participants (as members unless `admin`) at `now`.
async fn insert_participants(
    conn: &mut AnyConnection,
    conversation: &ConversationId,
    users: &[UserId],
    admin: Option<&UserId>,
    now: Timestamp,
    read_seq: i64,
) -> Result<()> {
    for user in users {
        let role = if Some(user) == admin {
            ParticipantRole::Admin
        } else {
            ParticipantRole::Member
        };
        sqlx::query(
            "INSERT INTO participants (conversation_id, user_id, role, joined_at, last_read_seq) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(conversation.as_str())
        .bind(user.as_str())
        .bind(role.as_str())
        .bind(now.as_millis())
        .bind(read_seq)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

impl Guara<'_> {
    /// Creates a group named `name` with the actor (its admin) and `others` (2 to 100 in all, members
    /// of the community). A system message records its creation.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn create_group(
        &self,
        actor: &Actor,
        name: &str,
        others: &[UserId],
    ) -> Result<Conversation> {
        let name = normalize_name(name)?;
        let everyone = group_participants(&actor.user_id, others)?;
        let now = self.now();
        let id = crate::random::new_id(ConversationId::from_random);
        let mut tx = self.taina.inner.db.begin().await?;
        check_members(&mut tx, &actor.community_id, &everyone).await?;
        sqlx::query(
            "INSERT INTO conversations (id, community_id, kind, name, created_by, last_activity_at, \
             created_at, updated_at) VALUES ($1, $2, 'group', $3, $4, $5, $5, $5)",
        )
        .bind(id.as_str())
        .bind(actor.community_id.as_str())
        .bind(&name)
        .bind(actor.user_id.as_str())
        .bind(now.as_millis())
        .execute(&mut *tx)
        .await?;
        insert_participants(&mut tx, &id, &everyone, Some(&actor.user_id), now, 0).await?;
        let note = insert_system(&mut tx, &id, SystemNote::GroupCreated { name }, now).await?;
        let conversation = load_conversation(&mut tx, &id).await?;
        tx.commit().await?;
        self.follow_for(&id, &everyone);
        for user in &everyone {
            self.publish(
                Topic::User(user.clone()),
                GuaraEvent::ConversationUpdated {
                    conversation_id: id.clone(),
                    change: ConversationChange::Joined,
                },
            );
        }
        self.publish_in(&id, GuaraEvent::MessageCreated(Box::new(note)));
        Ok(conversation)
    }

    /// The direct conversation between the actor and `other`, created if it does not exist yet (at
    /// most one per pair).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn direct(&self, actor: &Actor, other: &UserId) -> Result<Conversation> {
        let key = direct_key(&actor.user_id, other)?;
        let now = self.now();
        let mut tx = self.taina.inner.db.begin().await?;
        check_members(&mut tx, &actor.community_id, std::slice::from_ref(other)).await?;
        // The community's row lock makes concurrent "get or create" calls for one pair queue.
        crate::ybira::lock_community(&mut tx, &actor.community_id).await?;
        let existing: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM conversations WHERE community_id = $1 AND direct_key = $2",
        )
        .bind(actor.community_id.as_str())
        .bind(&key)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id,)) = existing {
            let conversation = load_conversation(&mut tx, &parse_conversation(&id)?).await?;
            tx.commit().await?;
            return Ok(conversation);
        }
        let id = crate::random::new_id(ConversationId::from_random);
        sqlx::query(
            "INSERT INTO conversations (id, community_id, kind, direct_key, created_by, \
             last_activity_at, created_at, updated_at) VALUES ($1, $2, 'direct', $3, $4, $5, $5, $5)",
        )
        .bind(id.as_str())
        .bind(actor.community_id.as_str())
        .bind(&key)
        .bind(actor.user_id.as_str())
        .bind(now.as_millis())
        .execute(&mut *tx)
        .await?;
        let pair = [actor.user_id.clone(), other.clone()];
        insert_participants(&mut tx, &id, &pair, None, now, 0).await?;
        let conversation = load_conversation(&mut tx, &id).await?;
        tx.commit().await?;
        self.follow_for(&id, &pair);
        for user in pair {
            self.publish(
                Topic::User(user),
                GuaraEvent::ConversationUpdated {
                    conversation_id: id.clone(),
                    change: ConversationChange::Joined,
                },
            );
        }
        Ok(conversation)
    }

    /// One conversation the actor is in, with its participants.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn conversation(&self, actor: &Actor, id: &ConversationId) -> Result<Conversation> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        super::access(&mut conn, actor, id, ConversationAction::Read).await?;
        load_conversation(&mut conn, id).await
    }

    /// The actor's conversations, latest activity first, each with its last message and unread
    /// count, in three queries whatever their number.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn conversations(&self, actor: &Actor) -> Result<Vec<ConversationSummary>> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        let me = actor.user_id.as_str();
        let rows: Vec<SummaryRow> = sqlx::query_as(
            "SELECT c.id, c.kind, c.name, c.last_seq, c.last_activity_at, c.created_at, \
             (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id \
              AND m.seq > p.last_read_seq AND m.deleted_at IS NULL \
              AND (m.sender_id IS NULL OR m.sender_id <> p.user_id)) AS unread \
             FROM participants p JOIN conversations c ON c.id = p.conversation_id \
             WHERE p.user_id = $1 ORDER BY c.last_activity_at DESC, c.id DESC",
        )
        .bind(me)
        .fetch_all(&mut *conn)
        .await?;
        // Grouped by conversation through maps: linear in what is loaded.
        let mut participants: HashMap<String, Vec<Participant>> = HashMap::new();
        for (conversation, participant) in participants_where(
            &mut conn,
            "p.conversation_id IN (SELECT conversation_id FROM participants WHERE user_id = $1)",
            me,
        )
        .await?
        {
            participants
                .entry(conversation)
                .or_default()
                .push(participant);
        }
        let mut last_messages: HashMap<String, Message> = load_messages_where(
            &mut conn,
            "m.seq = c.last_seq AND c.id IN (SELECT conversation_id FROM participants \
             WHERE user_id = $1)",
            me,
        )
        .await?
        .into_iter()
        .map(|m| (m.conversation_id.as_str().to_owned(), m))
        .collect();
        rows.into_iter()
            .map(
                |SummaryRow {
                     conversation,
                     unread,
                 }| {
                    let mine = participants.remove(&conversation.id).unwrap_or_default();
                    let last_message = last_messages.remove(&conversation.id);
                    let conversation = conversation.into_conversation(mine)?;
                    Ok(ConversationSummary {
                        conversation,
                        last_message,
                        unread_count: unread,
                    })
                },
            )
            .collect()
    }

    /// Renames a group (its admins only).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn rename(
        &self,
        actor: &Actor,
        id: &ConversationId,
        name: &str,
    ) -> Result<Conversation> {
        let name = normalize_name(name)?;
        let now = self.now();
        let (mut tx, _, _turn) = self.begin_in(actor, id, ConversationAction::Rename).await?;
        sqlx::query("UPDATE conversations SET name = $1, updated_at = $2 WHERE id = $3")
            .bind(&name)
            .bind(now.as_millis())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        let note = insert_system(&mut tx, id, SystemNote::Renamed { name }, now).await?;
        let conversation = load_conversation(&mut tx, id).await?;
        tx.commit().await?;
        self.publish_in(
            id,
            GuaraEvent::ConversationUpdated {
                conversation_id: id.clone(),
                change: ConversationChange::Renamed,
            },
        );
        self.publish_in(id, GuaraEvent::MessageCreated(Box::new(note)));
        Ok(conversation)
    }

    /// Adds members of the community to a group (its admins only; 100 participants at most, and a
    /// request names at most 100 people). Those already in it are skipped. The sizes are checked
    /// before anyone named is looked up, and only newcomers are.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn add_participants(
        &self,
        actor: &Actor,
        id: &ConversationId,
        users: &[UserId],
    ) -> Result<Conversation> {
        check_requested(users)?;
        let now = self.now();
        let (mut tx, _, _turn) = self
            .begin_in(actor, id, ConversationAction::AddParticipants)
            .await?;
        let current = load_conversation(&mut tx, id).await?;
        let in_it: Vec<UserId> = current
            .participants
            .iter()
            .map(|p| p.user_id.clone())
            .collect();
        let new = participants_to_add(&in_it, users)?;
        check_members(&mut tx, &actor.community_id, &new).await?;
        // Newcomers start with everything so far read: their unread count starts at zero.
        insert_participants(&mut tx, id, &new, None, now, current.last_seq).await?;
        let mut notes = Vec::new();
        for user in &new {
            let note = SystemNote::ParticipantAdded {
                user_id: user.clone(),
            };
            notes.push(insert_system(&mut tx, id, note, now).await?);
        }
        let conversation = load_conversation(&mut tx, id).await?;
        tx.commit().await?;
        self.announce_membership(id, &new, ConversationChange::Joined, notes);
        Ok(conversation)
    }

    /// Removes someone else from a group (its admins only).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn remove_participant(
        &self,
        actor: &Actor,
        id: &ConversationId,
        user: &UserId,
    ) -> Result<Conversation> {
        if taina_guara::conversation::departure(&actor.user_id, user) == ConversationAction::Leave {
            return Err(DomainError::invalid("user_id", "to leave a group, leave it").into());
        }
        self.depart(actor, id, user, ConversationAction::RemoveParticipant)
            .await
    }

    /// Leaves a group. When its last admin leaves, the longest-standing participant becomes admin;
    /// when the last participant leaves, the group is deleted.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn leave(&self, actor: &Actor, id: &ConversationId) -> Result<()> {
        self.depart(actor, id, &actor.user_id, ConversationAction::Leave)
            .await
            .map(|_| ())
    }

    async fn depart(
        &self,
        actor: &Actor,
        id: &ConversationId,
        user: &UserId,
        action: ConversationAction,
    ) -> Result<Conversation> {
        let now = self.now();
        // The last one out purges the conversation, and with it its attachments' references to
        // Ybira's content: the community's lock first.
        let (mut tx, _, _turn) = self.begin_in_community(actor, id, action).await?;
        let removed =
            sqlx::query("DELETE FROM participants WHERE conversation_id = $1 AND user_id = $2")
                .bind(id.as_str())
                .bind(user.as_str())
                .execute(&mut *tx)
                .await?;
        if removed.rows_affected() == 0 {
            return Err(DomainError::not_found("participant").into());
        }
        let remaining = load_conversation(&mut tx, id).await?;
        if remaining.participants.is_empty() {
            unpin_attachments(&mut tx, self.taina, id).await?;
            sqlx::query("DELETE FROM conversations WHERE id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            self.announce_membership(
                id,
                std::slice::from_ref(user),
                ConversationChange::Left,
                vec![],
            );
            return Ok(remaining);
        }
        let note = if action == ConversationAction::Leave {
            SystemNote::ParticipantLeft {
                user_id: user.clone(),
            }
        } else {
            SystemNote::ParticipantRemoved {
                user_id: user.clone(),
            }
        };
        let mut notes = vec![insert_system(&mut tx, id, note, now).await?];
        let standing: Vec<(UserId, ParticipantRole, i64)> = remaining
            .participants
            .iter()
            .map(|p| (p.user_id.clone(), p.role, p.joined_at.as_millis()))
            .collect();
        if let Some(heir) = next_admin(&standing) {
            sqlx::query(
                "UPDATE participants SET role = 'admin' WHERE conversation_id = $1 AND user_id = $2",
            )
            .bind(id.as_str())
            .bind(heir.as_str())
            .execute(&mut *tx)
            .await?;
            let note = SystemNote::AdminAppointed { user_id: heir };
            notes.push(insert_system(&mut tx, id, note, now).await?);
        }
        let conversation = load_conversation(&mut tx, id).await?;
        tx.commit().await?;
        self.announce_membership(
            id,
            std::slice::from_ref(user),
            ConversationChange::Left,
            notes,
        );
        Ok(conversation)
    }

    /// Makes the live feeds of `who` follow the conversation now (they joined it).
    fn follow_for(&self, id: &ConversationId, who: &[UserId]) {
        let topic = Topic::Conversation(id.clone());
        for user in who {
            self.taina.inner.bus.follow_user(&topic, user);
        }
    }

    /// Tells the people who joined or left, then the conversation.
    fn announce_membership(
        &self,
        id: &ConversationId,
        who: &[UserId],
        change: ConversationChange,
        notes: Vec<Message>,
    ) {
        // Before anything else is published: what is said after the change reaches exactly the
        // participants, whether or not their feeds have read it yet.
        let topic = Topic::Conversation(id.clone());
        match change {
            ConversationChange::Left => {
                for user in who {
                    self.taina.inner.bus.unfollow_user(&topic, user);
                }
            }
            ConversationChange::Joined => self.follow_for(id, who),
            ConversationChange::Renamed | ConversationChange::Participants => {}
        }
        for user in who {
            self.publish(
                Topic::User(user.clone()),
                GuaraEvent::ConversationUpdated {
                    conversation_id: id.clone(),
                    change,
                },
            );
        }
        self.publish_in(
            id,
            GuaraEvent::ConversationUpdated {
                conversation_id: id.clone(),
                change: ConversationChange::Participants,
            },
        );
        for note in notes {
            self.publish_in(id, GuaraEvent::MessageCreated(Box::new(note)));
        }
    }
}
