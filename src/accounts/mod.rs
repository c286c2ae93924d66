//! Accounts and communities: first-run setup, invitations and registration, sign-in and sessions,
//! member administration and community settings.
//!
//! Every call that acts for someone takes the authenticated [`Actor`] and asks the pure policy
//! ([`taina_core::authorize`]) before touching anything.

mod app_passwords;
mod community;
mod invites;
mod live;
mod login_flow;
mod members;
mod password;
pub(crate) mod rows;
mod sessions;
mod setup;
mod throttle;

use taina_core::{Actor, CommunityId, DomainEvent, Timestamp};

pub use app_passwords::{AppPasswordInfo, CreatedAppPassword, NewAppPassword};
pub use community::CommunityUpdate;
pub use invites::{CreatedInvite, NewInvite, RegisterRequest};
pub use live::{Ended, SessionWatch};
pub(crate) use live::{LiveSessions, Whose};
pub use login_flow::{ApprovedLogin, LOGIN_FLOW_LIFETIME, PendingLoginFlow, StartedLoginFlow};
pub use members::{NewMember, ProfileUpdate};
pub use password::{MAX_QUEUE_WAIT, PasswordHasher};
pub use sessions::{LoginRequest, SessionInfo, SignedIn};
pub use setup::{NewCommunity, SetupRequest};
pub use throttle::{ACCOUNT_FAILURES_ALLOWED, CLIENT_FAILURES_ALLOWED, THROTTLE_WINDOW};
pub(crate) use throttle::{AttemptKeys, sweep as sweep_login_attempts};

use crate::Inner;

/// The accounts and communities service. Get it from [`crate::Taina::accounts`].
#[derive(Clone, Copy)]
pub struct Accounts<'a> {
    pub(crate) inner: &'a Inner,
}

impl Accounts<'_> {
    fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    fn publish(&self, community_id: &CommunityId, event: DomainEvent) {
        self.inner.publish_event(community_id, event);
    }
}

/// The community of an actor, for tracing fields.
fn community_of(actor: &Actor) -> &str {
    actor.community_id.as_str()
}
