//! The login throttle's rule: at most `max_failures` counted attempts per key (an account, a client
//! network) within a sliding `window`; and the network a client address stands for.
//!
//! Pure: the shell keeps the counted attempts — in the database, so that every instance of it
//! counts the same ones and N instances do not multiply an attacker's allowance — and asks
//! [`Limit::check`] with a key's attempts and `now`. An attempt is counted when it is admitted,
//! before the password is checked, so that attempts running at once cannot together pass the limit
//! (the shell admits a key's attempts one at a time); a success then clears the key, and an attempt
//! that never reached the password check is taken back.
//!
//! Nothing is evicted: a locked key stays locked until its oldest counted attempt leaves the
//! window, however many other keys try meanwhile.

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use crate::Timestamp;

/// The shortest wait a refused attempt is told.
const MIN_WAIT: Duration = Duration::from_secs(1);

/// How many attempts a key may have counted within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Counted attempts allowed within the window (at least 1).
    pub max_failures: usize,
    /// The sliding window.
    pub window: Duration,
}

impl Limit {
    /// Attempts at or before this instant no longer count at `now`.
    pub fn counts_after(&self, now: Timestamp) -> Timestamp {
        now.minus(self.window)
    }

    /// `Ok(())` if a key whose counted attempts were at `times` (any order) may try at `now`, or
    /// how long it must wait: until the oldest of the attempts that lock it leaves the window.
    pub fn check(&self, times: &[Timestamp], now: Timestamp) -> Result<(), Duration> {
        let after = self.counts_after(now);
        let mut recent: Vec<Timestamp> = times.iter().copied().filter(|t| *t > after).collect();
        if recent.len() < self.max_failures.max(1) {
            return Ok(());
        }
        recent.sort_unstable();
        // The oldest attempts leave first; the key is free once all but `max - 1` have.
        let freeing = recent[recent.len() - self.max_failures.max(1)];
        let until = freeing.plus(self.window);
        Err(until.since(now).max(MIN_WAIT))
    }
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
        let limit = Limit {
            max_failures: 3,
            window: MIN * 15,
        };
        let start = Timestamp::from_millis(1_000_000);
        let mut times = Vec::new();
        for i in 0..3 {
            assert!(limit.check(&times, start.plus(MIN * i)).is_ok());
            times.push(start.plus(MIN * i));
        }
        assert_eq!(limit.check(&times, start.plus(MIN * 3)), Err(MIN * 12));
        // Once the oldest leaves the window there is room for one more.
        assert!(limit.check(&times, start.plus(MIN * 15)).is_ok());
        assert!(limit.check(&[], start).is_ok());
        // Never told to wait less than a second.
        let just = start.plus(MIN * 15).minus(Duration::from_millis(1));
        assert_eq!(limit.check(&times, just), Err(MIN_WAIT));
    }

    #[test]
    fn more_attempts_than_allowed_wait_for_enough_of_them_to_leave() {
        let limit = Limit {
            max_failures: 2,
            window: MIN * 10,
        };
        let at = |m: u32| Timestamp::from_millis(0).plus(MIN * m);
        // Four counted (admitted at once on several instances): free once only one is left.
        let times = [at(0), at(1), at(2), at(3)];
        assert_eq!(limit.check(&times, at(4)), Err(MIN * 8));
        assert!(limit.check(&times, at(12)).is_ok());
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

    proptest! {
        /// Admitting only what `check` allows, never more than `max` attempts of one key fall in
        /// any window, whatever the order and spacing of the tries.
        #[test]
        fn at_most_max_per_window(steps in proptest::collection::vec(0u64..120, 1..400), max in 1usize..6) {
            let limit = Limit { max_failures: max, window: Duration::from_secs(600) };
            let mut now = Timestamp::from_millis(0);
            let mut admitted: Vec<Timestamp> = Vec::new();
            for advance in steps {
                now = now.plus(Duration::from_secs(advance));
                if limit.check(&admitted, now).is_ok() {
                    admitted.push(now);
                    let in_window = admitted.iter().filter(|t| now.since(**t) < limit.window).count();
                    prop_assert!(in_window <= max);
                } else {
                    let wait = limit.check(&admitted, now).unwrap_err();
                    prop_assert!(wait >= MIN_WAIT && wait <= limit.window);
                }
            }
        }
    }
}
