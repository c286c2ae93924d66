//! The realtime socket's rules every front end and client shares: the close codes that tell a
//! client what to do next, the limits on what a client may send, and the per-socket frame budget
//! (a token bucket driven by the caller's `now`).

use std::time::Duration;

use crate::Timestamp;

/// Close code: the session ended (signed out, revoked, password changed, account disabled or
/// removed, or expired). Reconnecting cannot help: the client signs in again.
pub const CLOSE_SESSION_ENDED: u16 = 4401;

/// Close code: the person's access changed (e.g. their role). Reconnect now: the new socket
/// carries the new access.
pub const CLOSE_ACCESS_CHANGED: u16 = 4403;

/// Close code: the client sent more than its budget of frames (see [`FrameBudget`]).
pub const CLOSE_TOO_MANY_FRAMES: u16 = 4429;

/// Close code (standard, 1008 "policy violation"): the client broke the protocol.
pub const CLOSE_POLICY: u16 = 1008;

/// Close code (standard, 1009 "message too big"): the client sent a frame over
/// [`MAX_CLIENT_FRAME_BYTES`].
pub const CLOSE_TOO_BIG: u16 = 1009;

/// Close code (standard, 1013 "try again later"): the socket could not keep up with what it was
/// sent and was closed so that it does not hold others back; reconnect and catch up.
pub const CLOSE_TOO_SLOW: u16 = 1013;

/// Close code (standard, 1012 "service restart"): the server is shutting down; reconnect
/// (possibly to another instance).
pub const CLOSE_RESTARTING: u16 = 1012;

/// The largest frame a client may send (typing, idle and ping frames are tiny). Longer frames are
/// refused before they are read.
pub const MAX_CLIENT_FRAME_BYTES: usize = 8 * 1024;

/// Sockets one person may have open at once (phones, tablets, browser tabs).
pub const MAX_SOCKETS_PER_PERSON: usize = 16;

/// How long a send to one socket may take before that socket is closed as too slow.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the server checks that a socket's session is still valid, and pings it.
pub const HEARTBEAT: Duration = Duration::from_secs(25);

/// Frames per second a client may send on average.
pub const FRAMES_PER_SECOND: u32 = 10;

/// Frames a client may send in a burst above the average.
pub const FRAME_BURST: u32 = 40;

/// Frames over budget after which the socket is closed ([`CLOSE_TOO_MANY_FRAMES`]); until then
/// each one is answered with an error frame and ignored.
pub const FRAMES_OVER_BUDGET_TO_CLOSE: u32 = 20;

/// What to do with a frame a client sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameVerdict {
    /// Within budget: handle it.
    Handle,
    /// Over budget: ignore it and tell the client.
    Refuse,
    /// Over budget too often: close the socket.
    Close,
}

/// A socket's allowance of client frames: [`FRAMES_PER_SECOND`] on average, bursts of
/// [`FRAME_BURST`].
#[derive(Debug, Clone)]
pub struct FrameBudget {
    tokens: f64,
    last: Timestamp,
    refused: u32,
}

impl FrameBudget {
    /// A full budget at `now`.
    pub fn new(now: Timestamp) -> FrameBudget {
        FrameBudget {
            tokens: f64::from(FRAME_BURST),
            last: now,
            refused: 0,
        }
    }

    /// Spends one frame at `now`.
    pub fn spend(&mut self, now: Timestamp) -> FrameVerdict {
        let elapsed = now.since(self.last).as_secs_f64();
        self.last = now.max(self.last);
        self.tokens =
            (self.tokens + elapsed * f64::from(FRAMES_PER_SECOND)).min(f64::from(FRAME_BURST));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return FrameVerdict::Handle;
        }
        self.refused += 1;
        if self.refused >= FRAMES_OVER_BUDGET_TO_CLOSE {
            FrameVerdict::Close
        } else {
            FrameVerdict::Refuse
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_burst_passes_then_a_flood_is_refused_then_closed() {
        let now = Timestamp::from_millis(1_000_000);
        let mut budget = FrameBudget::new(now);
        for _ in 0..FRAME_BURST {
            assert_eq!(budget.spend(now), FrameVerdict::Handle);
        }
        for _ in 1..FRAMES_OVER_BUDGET_TO_CLOSE {
            assert_eq!(budget.spend(now), FrameVerdict::Refuse);
        }
        assert_eq!(budget.spend(now), FrameVerdict::Close);
    }

    #[test]
    fn the_budget_refills_with_time() {
        let start = Timestamp::from_millis(1_000_000);
        let mut budget = FrameBudget::new(start);
        for _ in 0..FRAME_BURST {
            budget.spend(start);
        }
        assert_eq!(budget.spend(start), FrameVerdict::Refuse);
        let later = start.plus(Duration::from_secs(1));
        for _ in 0..FRAMES_PER_SECOND {
            assert_eq!(budget.spend(later), FrameVerdict::Handle);
        }
        assert_eq!(budget.spend(later), FrameVerdict::Refuse);
    }

    proptest! {
        /// A client that never sends faster than the average rate is never refused.
        #[test]
        fn a_client_at_the_average_rate_is_never_refused(
            extra in proptest::collection::vec(0u64..=300, 1..500)
        ) {
            let mut now = Timestamp::from_millis(5_000_000);
            let mut budget = FrameBudget::new(now);
            let interval = 1000 / u64::from(FRAMES_PER_SECOND);
            for extra in extra {
                now = now.plus(Duration::from_millis(interval + extra));
                prop_assert_eq!(budget.spend(now), FrameVerdict::Handle);
            }
        }

        /// However frames are timed, no more than the burst plus the refill are handled.
        #[test]
        fn never_more_than_the_burst_plus_the_refill(
            gaps in proptest::collection::vec(0u64..=50, 1..2000)
        ) {
            let start = Timestamp::from_millis(5_000_000);
            let mut now = start;
            let mut budget = FrameBudget::new(now);
            let mut handled: u64 = 0;
            for gap in gaps {
                now = now.plus(Duration::from_millis(gap));
                match budget.spend(now) {
                    FrameVerdict::Handle => handled += 1,
                    FrameVerdict::Refuse => {}
                    FrameVerdict::Close => break,
                }
            }
            let elapsed = now.since(start).as_millis() as u64;
            let allowed = u64::from(FRAME_BURST) + elapsed * u64::from(FRAMES_PER_SECOND) / 1000 + 1;
            prop_assert!(handled <= allowed, "{handled} > {allowed}");
        }
    }
}
