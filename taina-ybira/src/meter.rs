//! Sans-I/O meters of the bytes an upload receives. The shell tells a meter each chunk's length
//! (and `now`) as it arrives, and does what the meter decides: write the chunk, reserve more quota
//! first, mark the upload alive first, or refuse it. At the end the meter says what the upload
//! holds. Nothing here reads a socket, a file or the database.
//!
//! - [`StreamMeter`]: a one-request upload (`PUT`, multipart): the per-file limit, the declared
//!   size, and quota reserved ahead of the bytes in steps ([`reservation_needed`]).
//! - [`PieceMeter`]: one piece of a resumable (tus) upload, whose whole length was reserved when
//!   it was opened: the announced length, and which of the piece's bytes are kept when it ends.

use std::time::Duration;

use taina_core::{Error, Timestamp};

use crate::upload::{TopUp, check_file_size, reservation_needed};

/// How often a long upload marks itself alive when it needs no more quota.
pub const TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// What to do with a chunk that arrived: anything but [`OnChunk::Reject`] ends with writing it.
#[derive(Debug, Clone, PartialEq)]
pub enum OnChunk {
    /// Write it.
    Write,
    /// Reserve more quota (then tell the meter with [`StreamMeter::reserved`]), then write it.
    TopUp(TopUp),
    /// Mark the upload alive (then tell the meter with [`StreamMeter::touched`]), then write it.
    Touch,
    /// Refuse the upload: the chunk breaks a rule.
    Reject(Error),
}

/// The meter of a one-request upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamMeter {
    limit: u64,
    declared: Option<u64>,
    received: u64,
    reserved: u64,
    touched_at: Timestamp,
}

impl StreamMeter {
    /// A meter for an upload of at most `limit` bytes that said it holds `declared` bytes (if it
    /// said), opened at `now`: refused at once when the declared size is over the limit.
    pub fn open(limit: u64, declared: Option<u64>, now: Timestamp) -> Result<StreamMeter, Error> {
        if let Some(size) = declared {
            check_file_size(size, limit)?;
        }
        Ok(StreamMeter {
            limit,
            declared,
            received: 0,
            reserved: declared.unwrap_or(0),
            touched_at: now,
        })
    }

    /// What the upload has reserved so far (when it opens: its declared size, or nothing).
    pub fn reservation(&self) -> u64 {
        self.reserved
    }

    /// A chunk of `len` bytes arrived at `now`.
    pub fn on_chunk(&mut self, len: u64, now: Timestamp) -> OnChunk {
        self.received = self.received.saturating_add(len);
        if let Err(e) = check_file_size(self.received, self.limit) {
            return OnChunk::Reject(e);
        }
        if self.declared.is_some_and(|d| self.received > d) {
            return OnChunk::Reject(Error::invalid(
                "content",
                "is longer than the declared size",
            ));
        }
        if let Some(top_up) =
            reservation_needed(self.received, self.reserved, self.limit, self.declared)
        {
            return OnChunk::TopUp(top_up);
        }
        if now.since(self.touched_at) >= TOUCH_INTERVAL {
            return OnChunk::Touch;
        }
        OnChunk::Write
    }

    /// `amount` more was reserved at `now` (which also marks the upload alive).
    pub fn reserved(&mut self, amount: u64, now: Timestamp) {
        self.reserved = self.reserved.saturating_add(amount);
        self.touched_at = now;
    }

    /// The upload was marked alive at `now`.
    pub fn touched(&mut self, now: Timestamp) {
        self.touched_at = now;
    }

    /// The stream ended: the size received, or why it is refused (fewer bytes than declared).
    pub fn finish(&self) -> Result<u64, Error> {
        match self.declared {
            Some(d) if d != self.received => Err(Error::invalid(
                "content",
                format!("ended after {} of the {d} bytes declared", self.received),
            )),
            _ => Ok(self.received),
        }
    }
}

/// How a piece of a resumable upload ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceEnd {
    /// Every byte the client sent arrived; `checksum_ok` is whether it matched its
    /// `Upload-Checksum` (`true` when it carried none).
    Whole {
        /// Whether the piece matched its checksum, or carried none.
        checksum_ok: bool,
    },
    /// The connection was cut before the piece ended.
    Cut,
    /// The meter refused a chunk ([`PieceMeter::on_chunk`]).
    Refused,
}

/// Where a piece leaves its upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    /// The upload's offset now: the bytes before it are kept, the rest of the piece is dropped.
    pub offset: u64,
    /// Whether any byte was kept (only kept bytes count as activity: an empty or refused piece
    /// leaves the upload to expire when it would have).
    pub progressed: bool,
}

/// The meter of one piece of a resumable upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PieceMeter {
    offset: u64,
    length: u64,
    received: u64,
    checksummed: bool,
}

impl PieceMeter {
    /// A piece sent at `offset` of an upload announced as `length` bytes; `checksummed` when it
    /// carries an `Upload-Checksum` (then it is kept whole or not at all).
    pub fn new(offset: u64, length: u64, checksummed: bool) -> PieceMeter {
        PieceMeter {
            offset,
            length,
            received: 0,
            checksummed,
        }
    }

    /// A chunk of `len` bytes arrived: to be written, or refused when the upload would pass its
    /// announced length (its quota was reserved whole at the start, so there is nothing else to
    /// do for it).
    pub fn on_chunk(&mut self, len: u64) -> Result<(), Error> {
        self.received = self.received.saturating_add(len);
        if self.offset.saturating_add(self.received) > self.length {
            return Err(Error::invalid(
                "content",
                format!("is longer than the {} bytes announced", self.length),
            ));
        }
        Ok(())
    }

    /// The piece ended so: what the upload keeps. A whole piece is kept unless it failed its
    /// checksum; a cut one is kept up to where it was cut unless it must be verified whole; a
    /// refused one is dropped.
    pub fn settle(&self, end: PieceEnd) -> Settled {
        let keep = match end {
            PieceEnd::Whole { checksum_ok } => checksum_ok,
            PieceEnd::Cut => !self.checksummed,
            PieceEnd::Refused => false,
        };
        let offset = if keep {
            self.offset + self.received
        } else {
            self.offset
        };
        Settled {
            offset,
            progressed: offset > self.offset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use taina_core::ErrorKind;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_millis(seconds * 1000)
    }

    fn rejected(step: OnChunk) -> ErrorKind {
        match step {
            OnChunk::Reject(e) => e.kind(),
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn a_stream_reserves_ahead_touches_while_idle_and_stops_at_the_limit() {
        let mut meter = StreamMeter::open(100, None, at(0)).unwrap();
        assert_eq!(meter.reservation(), 0);
        let OnChunk::TopUp(top_up) = meter.on_chunk(10, at(0)) else {
            panic!("the first byte needs a reservation");
        };
        assert_eq!((top_up.preferred, top_up.minimum), (100, 10));
        meter.reserved(top_up.preferred, at(0));
        assert_eq!(meter.on_chunk(10, at(59)), OnChunk::Write);
        assert_eq!(meter.on_chunk(10, at(60)), OnChunk::Touch);
        meter.touched(at(60));
        assert_eq!(meter.on_chunk(70, at(61)), OnChunk::Write);
        assert_eq!(rejected(meter.on_chunk(1, at(61))), ErrorKind::TooLarge);
    }

    #[test]
    fn a_declared_size_is_reserved_up_front_and_held_to() {
        assert_eq!(
            StreamMeter::open(10, Some(11), at(0)).unwrap_err().kind(),
            ErrorKind::TooLarge
        );
        let mut meter = StreamMeter::open(100, Some(20), at(0)).unwrap();
        assert_eq!(meter.reservation(), 20);
        assert_eq!(meter.on_chunk(15, at(0)), OnChunk::Write);
        assert_eq!(meter.finish().unwrap_err().kind(), ErrorKind::Invalid);
        assert_eq!(meter.on_chunk(5, at(0)), OnChunk::Write);
        assert_eq!(meter.finish(), Ok(20));
        assert_eq!(rejected(meter.on_chunk(1, at(0))), ErrorKind::Invalid);
    }

    #[test]
    fn a_piece_is_kept_whole_cut_or_not_at_all() {
        let mut piece = PieceMeter::new(10, 30, false);
        assert_eq!(piece.on_chunk(15), Ok(()));
        let kept = |offset, progressed| Settled { offset, progressed };
        assert_eq!(
            piece.settle(PieceEnd::Whole { checksum_ok: true }),
            kept(25, true)
        );
        assert_eq!(piece.settle(PieceEnd::Cut), kept(25, true));
        assert_eq!(
            piece.settle(PieceEnd::Whole { checksum_ok: false }),
            kept(10, false)
        );
        assert_eq!(piece.settle(PieceEnd::Refused), kept(10, false));
        // With a checksum a cut piece cannot be verified: it goes.
        let mut verified = PieceMeter::new(10, 30, true);
        verified.on_chunk(5).unwrap();
        assert_eq!(verified.settle(PieceEnd::Cut), kept(10, false));
        // Past the announced length: refused.
        assert_eq!(piece.on_chunk(6).unwrap_err().kind(), ErrorKind::Invalid);
        assert_eq!(piece.settle(PieceEnd::Refused), kept(10, false));
        // An empty piece is no progress.
        assert_eq!(
            PieceMeter::new(10, 30, false).settle(PieceEnd::Whole { checksum_ok: true }),
            kept(10, false)
        );
    }

    proptest! {
        /// Whatever the chunks, a stream's reservation covers what it accepted, and nothing past
        /// the limit or the declared size is accepted.
        #[test]
        fn a_stream_never_accepts_beyond_its_reservation_or_limits(
            limit in 0u64..1 << 30,
            declared in proptest::option::of(0u64..1 << 30),
            chunks in proptest::collection::vec(0u64..1 << 24, 0..40),
        ) {
            let Ok(mut meter) = StreamMeter::open(limit, declared, at(0)) else {
                prop_assert!(declared.is_some_and(|d| d > limit));
                return Ok(());
            };
            let mut accepted = 0u64;
            for (n, len) in chunks.into_iter().enumerate() {
                let now = at(i64::try_from(n).unwrap() * 30);
                match meter.on_chunk(len, now) {
                    OnChunk::Reject(_) => {
                        prop_assert!(accepted + len > limit || declared.is_some_and(|d| accepted + len > d));
                        break;
                    }
                    OnChunk::TopUp(t) => meter.reserved(t.preferred, now),
                    OnChunk::Touch => meter.touched(now),
                    OnChunk::Write => {}
                }
                accepted += len;
                prop_assert!(meter.reservation() >= accepted);
                prop_assert!(accepted <= limit);
            }
        }

        /// A piece never leaves its upload past the announced length, nor before where it began.
        #[test]
        fn a_piece_settles_within_its_upload(
            offset in 0u64..1000, length in 0u64..2000, chunks in proptest::collection::vec(0u64..500, 0..10),
            end in 0u8..4,
        ) {
            let offset = offset.min(length);
            let mut piece = PieceMeter::new(offset, length, end == 3);
            let mut refused = false;
            for len in chunks {
                if piece.on_chunk(len).is_err() {
                    refused = true;
                    break;
                }
            }
            let end = match (refused, end) {
                (true, _) => PieceEnd::Refused,
                (false, 0) => PieceEnd::Whole { checksum_ok: true },
                (false, 1) => PieceEnd::Whole { checksum_ok: false },
                _ => PieceEnd::Cut,
            };
            let settled = piece.settle(end);
            prop_assert!(settled.offset >= offset && settled.offset <= length);
            prop_assert_eq!(settled.progressed, settled.offset > offset);
        }
    }
}
