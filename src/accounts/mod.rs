//! Accounts and communities: first-run setup, invitations and registration, sign-in and sessions,
//! member administration and community settings.
//!
//! Every call that acts for someone takes the authenticated [`Actor`] and asks the pure policy
//! ([`taina_core::authorize`]) before touching anything.

mod community;
mod invites;
mod live;
mod members;
mod password;
pub(crate) mod rows;
mod sessions;
mod setup;

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use taina_core::throttle::{Throttle, network_of};
use taina_core::{Actor, CommunityId, DomainEvent, Timestamp};

pub use community::CommunityUpdate;
pub use invites::{CreatedInvite, NewInvite, RegisterRequest};
pub use live::{Ended, SessionWatch};
pub(crate) use live::{LiveSessions, Whose};
pub use members::{NewMember, ProfileUpdate};
pub use password::{MAX_QUEUE_WAIT, PasswordHasher};
pub use sessions::{LoginRequest, SessionInfo, SignedIn};
pub use setup::{NewCommunity, SetupRequest};

use crate::Inner;

/// Failed sign-ins allowed per account in [`THROTTLE_WINDOW`] (whether the account exists or not,
/// so that the answer never tells).
pub const ACCOUNT_FAILURES_ALLOWED: usize = 10;
/// Sign-ins to accounts that do not exist allowed per client network (an IPv4 address, an IPv6 /64)
/// in [`THROTTLE_WINDOW`]; past that, every sign-in from the network waits. Wrong passwords of real
/// accounts never count here, so people sharing an address (a household, a proxy not listed in
/// `trusted_proxies`) cannot lock each other out by mistyping.
pub const CLIENT_FAILURES_ALLOWED: usize = 30;
/// The login throttle's sliding window.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys each throttle tracks at most.
const THROTTLE_MAX_KEYS: usize = 100_000;
/// Longest client key kept when it is not an IP address.
const CLIENT_KEY_MAX_CHARS: usize = 64;

/// Sign-in counters per account and per client network.
#[derive(Debug)]
pub(crate) struct LoginThrottle {
    accounts: Mutex<Throttle<String>>,
    networks: Mutex<Throttle<String>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            accounts: Mutex::new(Throttle::new(
                ACCOUNT_FAILURES_ALLOWED,
                THROTTLE_WINDOW,
                THROTTLE_MAX_KEYS,
            )),
            networks: Mutex::new(Throttle::new(
                CLIENT_FAILURES_ALLOWED,
                THROTTLE_WINDOW,
                THROTTLE_MAX_KEYS,
            )),
        }
    }
}

/// What one sign-in attempt counts against.
#[derive(Debug, Clone)]
pub(crate) struct AttemptKeys {
    /// The account tried, whether it exists or not.
    account: String,
    /// The client's network, when known.
    network: Option<String>,
    /// Whether the account exists (only attempts on accounts that do not count against the network).
    known_account: bool,
}

impl AttemptKeys {
    /// The keys of an attempt on `account` by `client` (an IP address, or another stable key).
    pub(crate) fn new(account: String, client: Option<&str>, known_account: bool) -> Self {
        Self {
            account,
            network: client.map(network_key),
            known_account,
        }
    }
}

/// A client key's network: an IPv4 address, an IPv6 /64 ([`network_of`]); another key as it is.
fn network_key(client: &str) -> String {
    match client.trim().parse::<IpAddr>().map(network_of) {
        Ok(v6 @ IpAddr::V6(_)) => format!("{v6}/64"),
        Ok(v4) => v4.to_string(),
        Err(_) => client.chars().take(CLIENT_KEY_MAX_CHARS).collect(),
    }
}

impl LoginThrottle {
    /// Admits one attempt, or refuses it (rate limited) while its account or its network is
    /// locked. An admitted attempt counts as a failure until [`LoginThrottle::succeeded`], so
    /// attempts running at once cannot together pass the limit.
    fn begin(&self, keys: &AttemptKeys, now: Timestamp) -> Result<(), taina_core::Error> {
        let limited = |retry_after| taina_core::Error::RateLimited { retry_after };
        // Always this order: accounts, then networks.
        let mut accounts = lock(&self.accounts);
        let mut networks = lock(&self.networks);
        if let Some(network) = &keys.network {
            networks.check(network, now).map_err(limited)?;
        }
        accounts
            .attempt(keys.account.clone(), now)
            .map_err(limited)?;
        if !keys.known_account
            && let Some(network) = &keys.network
            && let Err(wait) = networks.attempt(network.clone(), now)
        {
            accounts.forgive(&keys.account);
            return Err(limited(wait));
        }
        Ok(())
    }

    /// The attempt signed in: its account starts afresh.
    fn succeeded(&self, keys: &AttemptKeys) {
        lock(&self.accounts).clear(&keys.account);
    }

    /// The attempt never reached the password check (e.g. no hashing slot): it does not count.
    fn not_tried(&self, keys: &AttemptKeys) {
        let mut accounts = lock(&self.accounts);
        let mut networks = lock(&self.networks);
        accounts.forgive(&keys.account);
        if !keys.known_account
            && let Some(network) = &keys.network
        {
            networks.forgive(network);
        }
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
        self.inner.publish_event(community_id, event);
    }
}

/// The community of an actor, for tracing fields.
fn community_of(actor: &Actor) -> &str {
    actor.community_id.as_str()
}
