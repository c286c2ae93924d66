//! # taina-core
//!
//! The pure heart of Tainá: identifiers, communities, users and roles, the authorization policy, the
//! domain error type, domain events, validation rules and the small state machines (login throttle,
//! session renewal, invites, quota math) that the `taina` shell applies.
//!
//! Nothing in this crate performs I/O, reads a clock or draws random numbers: callers pass `now` and
//! random bytes in, and get values or decisions back.
#![forbid(unsafe_code)]

pub mod actor;
pub mod app_password;
pub mod community;
pub mod error;
pub mod event;
pub mod id;
pub mod invite;
pub mod job;
pub mod membership;
pub mod policy;
pub mod quota;
pub mod role;
pub mod session;
pub mod socket;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod throttle;
pub mod time;
pub mod user;
pub mod validate;
pub mod wire;

pub use actor::Actor;
pub use community::{Community, CommunitySettings};
pub use error::{Error, ErrorKind, Result};
pub use event::{DomainEvent, Event, ItemEvent};
pub use id::{
    AlbumId, AppPasswordId, BlobId, CommunityId, ConversationId, InviteId, ItemId, JobId,
    MessageId, PhotoId, SessionId, ShareId, UploadId, UserId, VersionId,
};
pub use policy::{Action, Denied, Resource, authorize};
pub use role::Role;
pub use time::Timestamp;
pub use user::User;

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();
