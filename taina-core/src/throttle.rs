//! A login throttle: at most `max_failures` failed attempts per key within a sliding `window`.
//!
//! Pure state: the caller passes `now` in. Memory stays bounded: each key keeps at most
//! `max_failures` timestamps, and at most `max_keys` keys are tracked (expired keys are dropped first,
//! then the oldest).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::Duration;

use crate::Timestamp;

/// Sliding-window failure counter per key.
#[derive(Debug, Clone)]
pub struct Throttle<K> {
    max_failures: usize,
    window: Duration,
    max_keys: usize,
    failures: HashMap<K, VecDeque<Timestamp>>,
}

impl<K: Eq + Hash + Clone> Throttle<K> {
    /// A throttle allowing `max_failures` (at least 1) per `window`, tracking up to `max_keys` keys.
    pub fn new(max_failures: usize, window: Duration, max_keys: usize) -> Self {
        Self {
            max_failures: max_failures.max(1),
            window,
            max_keys: max_keys.max(1),
            failures: HashMap::new(),
        }
    }

    /// `Ok(())` if `key` may try now, or how long it must wait.
    pub fn check(&self, key: &K, now: Timestamp) -> Result<(), Duration> {
        let Some(times) = self.failures.get(key) else {
            return Ok(());
        };
        let recent: Vec<&Timestamp> = times
            .iter()
            .filter(|t| now.since(**t) < self.window)
            .collect();
        if recent.len() < self.max_failures {
            return Ok(());
        }
        // The oldest recent failure leaves the window first.
        let oldest = recent[0];
        Err(self
            .window
            .saturating_sub(now.since(*oldest))
            .max(Duration::from_secs(1)))
    }

    /// Records a failed attempt by `key`.
    pub fn record_failure(&mut self, key: K, now: Timestamp) {
        if !self.failures.contains_key(&key) && self.failures.len() >= self.max_keys {
            self.evict(now);
        }
        let times = self.failures.entry(key).or_default();
        while times.front().is_some_and(|t| now.since(*t) >= self.window) {
            times.pop_front();
        }
        times.push_back(now);
        while times.len() > self.max_failures {
            times.pop_front();
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

    fn evict(&mut self, now: Timestamp) {
        let window = self.window;
        self.failures
            .retain(|_, times| times.back().is_some_and(|t| now.since(*t) < window));
        while self.failures.len() >= self.max_keys {
            let oldest = self
                .failures
                .iter()
                .min_by_key(|(_, times)| times.back().copied())
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    self.failures.remove(&k);
                }
                None => break,
            }
        }
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
            t.record_failure("ana", start.plus(MIN * i));
        }
        let wait = t.check(&"ana", start.plus(MIN * 3)).unwrap_err();
        assert_eq!(wait, MIN * 12);
        assert!(t.check(&"bia", start.plus(MIN * 3)).is_ok());
        assert!(t.check(&"ana", start.plus(MIN * 15)).is_ok());
        t.clear(&"ana");
        assert!(t.check(&"ana", start.plus(MIN * 3)).is_ok());
    }

    proptest! {
        /// Never more than `max` failures are let through in any window, and memory stays bounded.
        #[test]
        fn bounded(steps in proptest::collection::vec((0u8..20, 0u64..120), 1..300)) {
            let max = 4;
            let mut t = Throttle::new(max, Duration::from_secs(600), 8);
            let mut now = Timestamp::from_millis(0);
            let mut allowed: HashMap<u8, Vec<Timestamp>> = HashMap::new();
            for (key, advance) in steps {
                now = now.plus(Duration::from_secs(advance));
                if t.check(&key, now).is_ok() {
                    let times = allowed.entry(key).or_default();
                    times.push(now);
                    t.record_failure(key, now);
                }
                prop_assert!(t.tracked_keys() <= 8);
                for times in t.failures.values() {
                    prop_assert!(times.len() <= max);
                }
            }
        }
    }
}
