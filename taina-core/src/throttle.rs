//! A login throttle: at most `max_failures` counted attempts per key within a sliding `window`.
//!
//! Pure state: the caller passes `now` in. An attempt is counted when it is admitted
//! ([`Throttle::attempt`]), before the password is checked, so that attempts running at once cannot
//! together pass the limit; a success then clears the key ([`Throttle::clear`]), and an attempt that
//! never reached the password check is taken back ([`Throttle::forgive`]).
//!
//! Memory stays bounded: each key keeps at most `max_failures` timestamps, and at most `max_keys`
//! keys are tracked. To make room, keys with no failure left in the window go first, then the keys
//! that failed longest ago, but **never a locked key**: spraying other keys (many accounts, many
//! addresses) cannot lift a lock-out. When every tracked key is locked, new keys are refused until
//! the first lock ends (failing closed; filling the table takes `max_keys × max_failures` attempts
//! within one window).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use crate::Timestamp;

/// The shortest wait a refused attempt is told.
const MIN_WAIT: Duration = Duration::from_secs(1);

/// Sliding-window attempt counter per key.
#[derive(Debug, Clone)]
pub struct Throttle<K> {
    max_failures: usize,
    window: Duration,
    max_keys: usize,
    failures: HashMap<K, VecDeque<Timestamp>>,
    /// Set when the table was found full of locked keys: no new key is tracked before then.
    full_until: Option<Timestamp>,
}

impl<K: Eq + Hash + Clone> Throttle<K> {
    /// A throttle allowing `max_failures` (at least 1) per `window`, tracking up to `max_keys` keys.
    pub fn new(max_failures: usize, window: Duration, max_keys: usize) -> Self {
        Self {
            max_failures: max_failures.max(1),
            window,
            max_keys: max_keys.max(1),
            failures: HashMap::new(),
            full_until: None,
        }
    }

    /// `Ok(())` if `key` is not locked at `now`, or how long it must wait. (Whether a new key could
    /// be tracked is [`Throttle::attempt`]'s business.)
    pub fn check(&self, key: &K, now: Timestamp) -> Result<(), Duration> {
        match self
            .failures
            .get(key)
            .and_then(|t| self.locked_until(t, now))
        {
            Some(until) => Err(wait(until, now)),
            None => Ok(()),
        }
    }

    /// Admits one attempt by `key` and counts it, or says how long to wait: while `key` is locked,
    /// or while no room can be made for a new key. A counted attempt stays counted (a failure)
    /// unless [`Throttle::clear`] or [`Throttle::forgive`] takes it back.
    pub fn attempt(&mut self, key: K, now: Timestamp) -> Result<(), Duration> {
        self.check(&key, now)?;
        if !self.failures.contains_key(&key) {
            self.make_room(now)?;
        }
        self.push(key, now);
        Ok(())
    }

    /// Records a failed attempt by `key` that was not admitted through [`Throttle::attempt`].
    /// Answers `false` when it could not be recorded (every tracked key is locked).
    pub fn record_failure(&mut self, key: K, now: Timestamp) -> bool {
        if !self.failures.contains_key(&key) && self.make_room(now).is_err() {
            return false;
        }
        self.push(key, now);
        true
    }

    /// Takes back `key`'s latest counted attempt (one that never reached the password check).
    pub fn forgive(&mut self, key: &K) {
        if let Some(times) = self.failures.get_mut(key) {
            times.pop_back();
            if times.is_empty() {
                self.failures.remove(key);
            }
        }
    }

    /// Forgets `key`'s failures (after a successful sign-in).
    pub fn clear(&mut self, key: &K) {
        self.failures.remove(key);
    }

    /// How many keys are tracked.
    pub fn tracked_keys(&self) -> usize {
        self.failures.len()
    }

    /// When `key`'s lock ends, if it is locked at `now`.
    fn locked_until(&self, times: &VecDeque<Timestamp>, now: Timestamp) -> Option<Timestamp> {
        let recent = times.iter().filter(|t| now.since(**t) < self.window);
        let oldest = *recent.clone().next()?;
        // The oldest recent failure leaves the window first.
        (recent.count() >= self.max_failures).then(|| oldest.plus(self.window))
    }

    fn push(&mut self, key: K, now: Timestamp) {
        let window = self.window;
        let times = self.failures.entry(key).or_default();
        while times.front().is_some_and(|t| now.since(*t) >= window) {
            times.pop_front();
        }
        times.push_back(now);
        while times.len() > self.max_failures {
            times.pop_front();
        }
    }

    /// Makes room for one more key, or says how long until there can be some.
    ///
    /// Evicts in batches (an eighth of the table) so that a flood of new keys costs amortised
    /// constant time per key, not a scan of the table each.
    fn make_room(&mut self, now: Timestamp) -> Result<(), Duration> {
        if self.failures.len() < self.max_keys {
            return Ok(());
        }
        if let Some(until) = self.full_until {
            if now < until {
                return Err(wait(until, now));
            }
            self.full_until = None;
        }
        let window = self.window;
        self.failures
            .retain(|_, times| times.back().is_some_and(|t| now.since(*t) < window));
        let target = self.max_keys - (self.max_keys / 8).max(1);
        if self.failures.len() <= target {
            return Ok(());
        }
        let mut unlocked: Vec<(Timestamp, K)> = self
            .failures
            .iter()
            .filter(|(_, times)| self.locked_until(times, now).is_none())
            .filter_map(|(k, times)| times.back().map(|last| (*last, k.clone())))
            .collect();
        let excess = self.failures.len() - target;
        if unlocked.len() > excess {
            unlocked.select_nth_unstable_by_key(excess, |(last, _)| *last);
            unlocked.truncate(excess);
        }
        for (_, k) in unlocked {
            self.failures.remove(&k);
        }
        if self.failures.len() < self.max_keys {
            return Ok(());
        }
        // Every key left is locked: refuse new keys until the first lock ends.
        let until = self
            .failures
            .values()
            .filter_map(|times| self.locked_until(times, now))
            .min()
            .unwrap_or_else(|| now.plus(MIN_WAIT));
        self.full_until = Some(until);
        Err(wait(until, now))
    }
}

fn wait(until: Timestamp, now: Timestamp) -> Duration {
    until.since(now).max(MIN_WAIT)
}

/// The network a client address stands for in a throttle: an IPv4 address on its own, and the /64
/// of an IPv6 address (the smallest block a household or a host is given, so whoever holds one
/// address holds the 2⁶⁴ around it). An IPv4 address seen through an IPv6 socket is that IPv4
/// address.
///
/// ```
/// use taina_core::throttle::network_of;
/// let a = network_of("2001:db8:1:2:aaaa::1".parse().unwrap());
/// assert_eq!(a, network_of("2001:db8:1:2:ffff::9".parse().unwrap()));
/// assert_ne!(a, network_of("2001:db8:1:3::1".parse().unwrap()));
/// assert_eq!(network_of("::ffff:203.0.113.9".parse().unwrap()), "203.0.113.9".parse::<std::net::IpAddr>().unwrap());
/// ```
pub fn network_of(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn blocks_after_the_limit_and_recovers_after_the_window() {
        let mut t = Throttle::new(3, MIN * 15, 100);
        let start = Timestamp::from_millis(1_000_000);
        for i in 0..3 {
            assert!(t.check(&"ana", start.plus(MIN * i)).is_ok());
            assert!(t.record_failure("ana", start.plus(MIN * i)));
        }
        let wait = t.check(&"ana", start.plus(MIN * 3)).unwrap_err();
        assert_eq!(wait, MIN * 12);
        assert!(t.check(&"bia", start.plus(MIN * 3)).is_ok());
        assert!(t.check(&"ana", start.plus(MIN * 15)).is_ok());
        t.clear(&"ana");
        assert!(t.check(&"ana", start.plus(MIN * 3)).is_ok());
    }

    #[test]
    fn attempts_count_when_admitted_and_can_be_taken_back() {
        let mut t = Throttle::new(2, MIN, 10);
        let now = Timestamp::from_millis(0);
        // Two attempts at once are both counted before either is checked.
        assert!(t.attempt("ana", now).is_ok());
        assert!(t.attempt("ana", now).is_ok());
        assert!(t.attempt("ana", now).is_err());
        // One never reached the password: it does not count.
        t.forgive(&"ana");
        assert!(t.attempt("ana", now).is_ok());
        t.clear(&"ana");
        assert_eq!(t.tracked_keys(), 0);
        t.forgive(&"nobody");
    }

    #[test]
    fn a_table_full_of_locks_refuses_new_keys_until_the_first_lock_ends() {
        let mut t = Throttle::new(1, MIN, 4);
        let start = Timestamp::from_millis(0);
        for k in 0..4u8 {
            assert!(
                t.attempt(k, start.plus(Duration::from_secs(u64::from(k))))
                    .is_ok()
            );
        }
        let later = start.plus(Duration::from_secs(10));
        assert_eq!(t.attempt(9, later), Err(Duration::from_secs(50)));
        assert!(!t.record_failure(9, later));
        for k in 0..4u8 {
            assert!(t.check(&k, later).is_err(), "{k} stays locked");
        }
        // Key 0's lock ends first; then there is room again.
        assert!(t.attempt(9, start.plus(MIN)).is_ok());
        assert!(t.tracked_keys() <= 4);
    }

    #[test]
    fn ipv6_networks_are_64_bits_and_ipv4_addresses_stand_alone() {
        let net = |s: &str| network_of(s.parse().unwrap());
        assert_eq!(net("2001:db8::1"), net("2001:db8::ffff:ffff:ffff:ffff"));
        assert_eq!(net("2001:db8::1"), "2001:db8::".parse::<IpAddr>().unwrap());
        assert_ne!(net("2001:db8::1"), net("2001:db8:0:1::1"));
        assert_eq!(net("203.0.113.9"), "203.0.113.9".parse::<IpAddr>().unwrap());
        assert_ne!(net("203.0.113.9"), net("203.0.113.10"));
        assert_eq!(net("::ffff:203.0.113.9"), net("203.0.113.9"));
    }

    /// Attempts as (key, seconds since the previous attempt).
    fn steps(keys: u8) -> impl Strategy<Value = Vec<(u8, u64)>> {
        proptest::collection::vec((0..keys, 0u64..120), 1..400)
    }

    proptest! {
        /// Never more than `max` attempts of one key are admitted in any window while the table
        /// has room for every key.
        #[test]
        fn at_most_max_per_window(steps in steps(8)) {
            let max = 4;
            let window = Duration::from_secs(600);
            let mut t = Throttle::new(max, window, 8);
            let mut now = Timestamp::from_millis(0);
            let mut admitted: HashMap<u8, Vec<Timestamp>> = HashMap::new();
            for (key, advance) in steps {
                now = now.plus(Duration::from_secs(advance));
                if t.attempt(key, now).is_ok() {
                    let times = admitted.entry(key).or_default();
                    times.push(now);
                    let in_window = times.iter().filter(|t| now.since(**t) < window).count();
                    prop_assert!(in_window <= max, "key {} admitted {} times in a window", key, in_window);
                }
            }
        }

        /// Memory stays bounded however many keys try.
        #[test]
        fn memory_stays_bounded(steps in steps(40)) {
            let max = 4;
            let mut t = Throttle::new(max, Duration::from_secs(600), 8);
            let mut now = Timestamp::from_millis(0);
            for (key, advance) in steps {
                now = now.plus(Duration::from_secs(advance));
                let _ = t.attempt(key, now);
                prop_assert!(t.tracked_keys() <= 8);
                for times in t.failures.values() {
                    prop_assert!(times.len() <= max);
                }
            }
        }

        /// Once locked, a key stays locked until its window has passed, however many other keys
        /// (more than the table holds) try in between.
        #[test]
        fn spraying_other_keys_never_lifts_a_lock(
            spray in proptest::collection::vec((1u32..100_000, 0u64..5), 0..2_000),
            max_keys in 2usize..64,
        ) {
            let max = 3;
            let window = Duration::from_secs(900);
            let mut t = Throttle::new(max, window, max_keys);
            let start = Timestamp::from_millis(0);
            for _ in 0..max {
                prop_assert!(t.attempt(0u32, start).is_ok());
            }
            let mut now = start;
            for (key, advance) in spray {
                now = now.plus(Duration::from_secs(advance));
                if now.since(start) >= window {
                    break;
                }
                let _ = t.attempt(key, now);
                let _ = t.record_failure(key.wrapping_add(1), now);
                prop_assert!(t.check(&0, now).is_err(), "the lock was lifted at {:?}", now.since(start));
                prop_assert!(t.attempt(0, now).is_err());
                prop_assert!(t.tracked_keys() <= max_keys);
            }
            prop_assert!(t.check(&0, start.plus(window)).is_ok());
        }

        /// Every address of one IPv6 /64 is one network; addresses in different /64s are not.
        #[test]
        fn one_network_per_ipv6_64(prefix: u64, a: u64, b: u64, other: u64) {
            let addr = |p: u64, i: u64| IpAddr::V6(Ipv6Addr::from((u128::from(p) << 64) | u128::from(i)));
            // Leave out the IPv4-mapped block (::ffff:0:0/96), which is IPv4.
            prop_assume!(prefix != 0);
            prop_assert_eq!(network_of(addr(prefix, a)), network_of(addr(prefix, b)));
            prop_assume!(other != prefix && other != 0);
            prop_assert_ne!(network_of(addr(prefix, a)), network_of(addr(other, a)));
        }
    }
}
