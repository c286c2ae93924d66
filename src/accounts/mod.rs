//! Accounts and communities: first-run setup, invitations and registration, sign-in and sessions,
//! member administration and community settings.
//!
//! Every call that acts for someone takes the authenticated [`Actor`] and asks the pure policy
//! ([`taina_core::authorize`]) before touching anything.

mod community;
mod invites;
mod members;
mod password;
pub(crate) mod rows;
mod sessions;
mod setup;

use std::sync::Mutex;
use std::time::Duration;

use taina_core::throttle::Throttle;
use taina_core::{Actor, CommunityId, DomainEvent, Event, Timestamp};

pub use community::CommunityUpdate;
pub use invites::{CreatedInvite, NewInvite, RegisterRequest};
pub use members::{NewMember, ProfileUpdate};
pub use password::{MAX_QUEUE_WAIT, PasswordHasher};
pub use sessions::{LoginRequest, SessionInfo, SignedIn};
pub use setup::{NewCommunity, SetupRequest};

use crate::Inner;

/// Failed sign-ins allowed per account in [`THROTTLE_WINDOW`].
pub const ACCOUNT_FAILURES_ALLOWED: usize = 10;
/// Failed sign-ins allowed per client (e.g. IP address) in [`THROTTLE_WINDOW`].
pub const CLIENT_FAILURES_ALLOWED: usize = 30;
/// The login throttle's sliding window.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys each throttle tracks at most.
const THROTTLE_MAX_KEYS: usize = 100_000;

/// Failed-login counters per account and per client.
#[derive(Debug)]
pub(crate) struct LoginThrottle {
    accounts: Mutex<Throttle<String>>,
    clients: Mutex<Throttle<String>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            accounts: Mutex::new(Throttle::new(
                ACCOUNT_FAILURES_ALLOWED,
                THROTTLE_WINDOW,
                THROTTLE_MAX_KEYS,
            )),
            clients: Mutex::new(Throttle::new(
                CLIENT_FAILURES_ALLOWED,
                THROTTLE_WINDOW,
                THROTTLE_MAX_KEYS,
            )),
        }
    }
}

impl LoginThrottle {
    fn check(
        &self,
        account: &str,
        client: Option<&str>,
        now: Timestamp,
    ) -> Result<(), taina_core::Error> {
        let wait = lock(&self.accounts)
            .check(&account.to_owned(), now)
            .err()
            .or_else(|| client.and_then(|c| lock(&self.clients).check(&c.to_owned(), now).err()));
        match wait {
            Some(retry_after) => Err(taina_core::Error::RateLimited { retry_after }),
            None => Ok(()),
        }
    }

    fn record_failure(&self, account: &str, client: Option<&str>, now: Timestamp) {
        lock(&self.accounts).record_failure(account.to_owned(), now);
        if let Some(c) = client {
            lock(&self.clients).record_failure(c.to_owned(), now);
        }
    }

    fn clear(&self, account: &str) {
        lock(&self.accounts).clear(&account.to_owned());
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a throttle inconsistent; keep using it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

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
        self.inner.events.publish(Event {
            community_id: community_id.clone(),
            at: self.now(),
            event,
        });
    }
}

/// The community of an actor, for tracing fields.
fn community_of(actor: &Actor) -> &str {
    actor.community_id.as_str()
}
