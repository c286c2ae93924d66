//! Domain events: what services announce after a change is committed, for front ends to push.

use serde::{Deserialize, Serialize};

use crate::{CommunityId, ConversationId, ItemId, PhotoId, Role, Timestamp, UserId};

/// Where an event is published on the shell's bus: who may follow it is the shell's to check
/// (a community's events are further filtered per viewer, `taina_ybira::audience::may_hear`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Topic {
    /// A community's domain events ([`Event`]), for its members.
    Community(CommunityId),
    /// Everything for one person (their conversations appearing and going, their read state,
    /// their presence on their other devices).
    User(UserId),
    /// Everything in one conversation, for its participants.
    Conversation(ConversationId),
}

/// Something that happened, with its community for routing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The community it happened in.
    pub community_id: CommunityId,
    /// When it was committed.
    pub at: Timestamp,
    /// What happened.
    #[serde(flatten)]
    pub event: DomainEvent,
}

/// What happened. Serialised as `{"type": "<name>", "data": {...}}`; later services add variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "data")]
pub enum DomainEvent {
    /// The community's name or settings changed.
    #[serde(rename = "community.updated")]
    CommunityUpdated,
    /// Someone joined.
    #[serde(rename = "member.joined")]
    MemberJoined {
        /// The new member.
        user_id: UserId,
        /// Their role.
        role: Role,
    },
    /// A member's role, profile or access changed.
    #[serde(rename = "member.updated")]
    MemberUpdated {
        /// The member.
        user_id: UserId,
    },
    /// A member was removed.
    #[serde(rename = "member.removed")]
    MemberRemoved {
        /// The former member.
        user_id: UserId,
    },
    /// A file was uploaded, copied or restored from the trash as new content.
    #[serde(rename = "file.uploaded")]
    FileUploaded(ItemEvent),
    /// A file was renamed, moved, or its content replaced or restored from a version.
    #[serde(rename = "file.updated")]
    FileUpdated(ItemEvent),
    /// A file went to the trash, was purged from it, or moved out of its space (told with the old
    /// space, to those who saw it there; a `file.updated` with the new space follows).
    #[serde(rename = "file.deleted")]
    FileDeleted(ItemEvent),
    /// A file came back from the trash.
    #[serde(rename = "file.restored")]
    FileRestored(ItemEvent),
    /// A folder was created.
    #[serde(rename = "folder.created")]
    FolderCreated(ItemEvent),
    /// A folder was renamed or moved.
    #[serde(rename = "folder.updated")]
    FolderUpdated(ItemEvent),
    /// A folder (with everything in it) went to the trash, was purged from it, or moved out of its
    /// space (told with the old space; a `folder.updated` with the new space follows).
    #[serde(rename = "folder.deleted")]
    FolderDeleted(ItemEvent),
    /// A folder came back from the trash.
    #[serde(rename = "folder.restored")]
    FolderRestored(ItemEvent),
    /// A photo was added to the library (its thumbnails follow).
    #[serde(rename = "photo.added")]
    PhotoAdded {
        /// The photo.
        photo_id: PhotoId,
        /// Its file.
        file: ItemEvent,
    },
    /// A photo's thumbnails are ready (or could not be made).
    #[serde(rename = "photo.processed")]
    PhotoProcessed {
        /// The photo.
        photo_id: PhotoId,
        /// Its file.
        file: ItemEvent,
    },
}

/// Which Ybira item an event is about, with what front ends need to route it: the folder it is in
/// and whose private space it belongs to (`None`: the community's shared space).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemEvent {
    /// The file or folder.
    pub item_id: ItemId,
    /// Its name.
    pub name: String,
    /// The folder it is in (`None`: the root of its space).
    pub parent_id: Option<ItemId>,
    /// The owner of the private space it is in; `None` for the shared space.
    pub space_owner_id: Option<UserId>,
}

impl DomainEvent {
    /// The event's name as sent to clients, e.g. `member.joined`.
    pub fn name(&self) -> &'static str {
        match self {
            DomainEvent::CommunityUpdated => "community.updated",
            DomainEvent::MemberJoined { .. } => "member.joined",
            DomainEvent::MemberUpdated { .. } => "member.updated",
            DomainEvent::MemberRemoved { .. } => "member.removed",
            DomainEvent::FileUploaded(_) => "file.uploaded",
            DomainEvent::FileUpdated(_) => "file.updated",
            DomainEvent::FileDeleted(_) => "file.deleted",
            DomainEvent::FileRestored(_) => "file.restored",
            DomainEvent::FolderCreated(_) => "folder.created",
            DomainEvent::FolderUpdated(_) => "folder.updated",
            DomainEvent::FolderDeleted(_) => "folder.deleted",
            DomainEvent::FolderRestored(_) => "folder.restored",
            DomainEvent::PhotoAdded { .. } => "photo.added",
            DomainEvent::PhotoProcessed { .. } => "photo.processed",
        }
    }

    /// The Ybira item the event is about, if it is about one.
    pub fn item(&self) -> Option<&ItemEvent> {
        match self {
            DomainEvent::FileUploaded(i)
            | DomainEvent::FileUpdated(i)
            | DomainEvent::FileDeleted(i)
            | DomainEvent::FileRestored(i)
            | DomainEvent::FolderCreated(i)
            | DomainEvent::FolderUpdated(i)
            | DomainEvent::FolderDeleted(i)
            | DomainEvent::FolderRestored(i) => Some(i),
            DomainEvent::PhotoAdded { file, .. } | DomainEvent::PhotoProcessed { file, .. } => {
                Some(file)
            }
            DomainEvent::CommunityUpdated
            | DomainEvent::MemberJoined { .. }
            | DomainEvent::MemberUpdated { .. }
            | DomainEvent::MemberRemoved { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_type_and_data() {
        let e = DomainEvent::MemberRemoved {
            user_id: UserId::from_random([0; 21]),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], e.name());
        assert_eq!(v["data"]["user_id"], "uuuuuuuuuuuuuuuuuuuuu");
    }
}
