//! Read state: each participant's last read message, as a position (`seq`) in the conversation.

use taina_core::Error;

/// A read position a client asks for: a `seq`, so 0 (nothing read) or more.
///
/// ```
/// use taina_guara::read::requested;
/// assert_eq!(requested(3).unwrap(), 3);
/// assert!(requested(-1).is_err());
/// ```
pub fn requested(seq: i64) -> Result<i64, Error> {
    if seq < 0 {
        return Err(Error::invalid("seq", "must be 0 or more"));
    }
    Ok(seq)
}

/// The new read position when a participant marks up to `requested` as read in a conversation whose
/// latest message is `latest`: it never moves backwards and never past the latest message.
///
/// ```
/// use taina_guara::read::advance;
/// assert_eq!(advance(5, 9, 7), 7);
/// assert_eq!(advance(5, 3, 7), 5);
/// ```
pub fn advance(current: i64, requested: i64, latest: i64) -> i64 {
    current.max(requested.min(latest))
}

/// How many messages are unread at `read` when the latest is `latest` and `own` of those after
/// `read` are the reader's own (never counted).
pub fn unread(read: i64, latest: i64, own_after_read: i64) -> i64 {
    (latest - read - own_after_read).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Marking as read is monotonic and bounded, whatever order the requests come in.
        #[test]
        fn read_state_only_moves_forward(requests in proptest::collection::vec((0i64..1000, 0i64..1000), 0..50)) {
            let mut read = 0;
            let mut latest = 0;
            for (grow, requested) in requests {
                latest += grow % 7;
                let next = advance(read, requested, latest);
                prop_assert!(next >= read);
                prop_assert!(next <= latest.max(read));
                read = next;
                prop_assert!(unread(read, latest, 0) >= 0);
            }
        }
    }
}
