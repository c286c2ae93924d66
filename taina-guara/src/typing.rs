//! Typing indicators: ephemeral, in memory, each expiring [`TTL_MILLIS`] after its last refresh.
//! A state machine driven by the `now` the caller passes (quinn-style), so tests run on a simulated
//! clock.

use std::collections::BTreeMap;

use taina_core::{ConversationId, Timestamp, UserId};

/// How long a typing indicator lasts after its last refresh.
pub const TTL_MILLIS: i64 = 5_000;

/// How often a client that keeps typing refreshes its indicator (well inside [`TTL_MILLIS`]).
pub const REFRESH_MILLIS: i64 = 3_000;

/// How long after the last keystroke a client says it stopped (before the indicator would
/// expire on its own).
pub const STOP_AFTER_MILLIS: i64 = 4_000;

/// What a call changed, for the shell to announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The person started typing (announce it).
    Started,
    /// They were already typing; the indicator lives longer (nothing to announce).
    Refreshed,
    /// They stopped (announce it).
    Stopped,
    /// Nothing changed.
    None,
}

/// Who is typing where.
#[derive(Debug, Default, Clone)]
pub struct Typing {
    expires: BTreeMap<(ConversationId, UserId), i64>,
}

impl Typing {
    /// No one typing.
    pub fn new() -> Self {
        Self::default()
    }

    /// `user` is typing in `conversation` at `now`.
    pub fn start(
        &mut self,
        conversation: &ConversationId,
        user: &UserId,
        now: Timestamp,
    ) -> Change {
        let key = (conversation.clone(), user.clone());
        let until = now.as_millis() + TTL_MILLIS;
        match self.expires.insert(key, until) {
            Some(previous) if previous > now.as_millis() => Change::Refreshed,
            _ => Change::Started,
        }
    }

    /// `user` stopped typing (sent their message, cleared the composer).
    pub fn stop(&mut self, conversation: &ConversationId, user: &UserId, now: Timestamp) -> Change {
        match self.expires.remove(&(conversation.clone(), user.clone())) {
            Some(until) if until > now.as_millis() => Change::Stopped,
            _ => Change::None,
        }
    }

    /// Removes the indicators that have expired by `now`, and says whose.
    pub fn expire(&mut self, now: Timestamp) -> Vec<(ConversationId, UserId)> {
        let now = now.as_millis();
        let expired: Vec<(ConversationId, UserId)> = self
            .expires
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(key, _)| key.clone())
            .collect();
        for key in &expired {
            self.expires.remove(key);
        }
        expired
    }

    /// Who is typing in `conversation` at `now`.
    pub fn typing_in(&self, conversation: &ConversationId, now: Timestamp) -> Vec<UserId> {
        self.expires
            .iter()
            .filter(|((c, _), until)| c == conversation && **until > now.as_millis())
            .map(|((_, u), _)| u.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn conv(n: u8) -> ConversationId {
        ConversationId::from_random([n; 21])
    }
    fn user(n: u8) -> UserId {
        UserId::from_random([n; 21])
    }

    #[test]
    fn expires_five_seconds_after_the_last_refresh() {
        let mut t = Typing::new();
        let at = Timestamp::from_millis;
        assert_eq!(t.start(&conv(1), &user(1), at(0)), Change::Started);
        assert_eq!(t.start(&conv(1), &user(1), at(4_000)), Change::Refreshed);
        assert!(t.expire(at(8_999)).is_empty());
        assert_eq!(t.typing_in(&conv(1), at(8_999)), vec![user(1)]);
        assert_eq!(t.expire(at(9_000)), vec![(conv(1), user(1))]);
        assert!(t.typing_in(&conv(1), at(9_000)).is_empty());
        assert_eq!(t.start(&conv(1), &user(1), at(9_500)), Change::Started);
        assert_eq!(t.stop(&conv(1), &user(1), at(9_600)), Change::Stopped);
        assert_eq!(t.stop(&conv(1), &user(1), at(9_700)), Change::None);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Start(u8, u8),
        Stop(u8, u8),
        Wait(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..3, 0u8..3).prop_map(|(c, u)| Op::Start(c, u)),
            (0u8..3, 0u8..3).prop_map(|(c, u)| Op::Stop(c, u)),
            (0i64..7_000).prop_map(Op::Wait),
        ]
    }

    proptest! {
        /// Against a model: someone is typing exactly when they started or refreshed less than
        /// five seconds ago and have not stopped since; every "started" is matched by one
        /// "stopped" or one expiry.
        #[test]
        fn matches_the_model(ops in proptest::collection::vec(op(), 0..80)) {
            let mut t = Typing::new();
            let mut model: BTreeMap<(u8, u8), i64> = BTreeMap::new();
            let mut now = 0i64;
            let mut open = 0i64;
            for op in ops {
                match op {
                    Op::Start(c, u) => {
                        let live = model.get(&(c, u)).is_some_and(|&since| now - since < TTL_MILLIS);
                        let change = t.start(&conv(c), &user(u), Timestamp::from_millis(now));
                        prop_assert_eq!(change == Change::Refreshed, live);
                        if change == Change::Started { open += 1; }
                        model.insert((c, u), now);
                    }
                    Op::Stop(c, u) => {
                        let live = model.remove(&(c, u)).is_some_and(|since| now - since < TTL_MILLIS);
                        let change = t.stop(&conv(c), &user(u), Timestamp::from_millis(now));
                        prop_assert_eq!(change == Change::Stopped, live);
                        if change == Change::Stopped { open -= 1; }
                    }
                    Op::Wait(ms) => {
                        now += ms;
                        let expired = t.expire(Timestamp::from_millis(now));
                        open -= expired.len() as i64;
                        model.retain(|_, since| now - *since < TTL_MILLIS);
                    }
                }
                for c in 0..3u8 {
                    let mut expected: Vec<UserId> = model
                        .iter()
                        .filter(|((mc, _), since)| *mc == c && now - **since < TTL_MILLIS)
                        .map(|((_, u), _)| user(*u))
                        .collect();
                    expected.sort();
                    let mut got = t.typing_in(&conv(c), Timestamp::from_millis(now));
                    got.sort();
                    prop_assert_eq!(got, expected);
                }
            }
            let expired = t.expire(Timestamp::from_millis(now + TTL_MILLIS)).len() as i64;
            prop_assert_eq!(open - expired, 0);
        }
    }
}
