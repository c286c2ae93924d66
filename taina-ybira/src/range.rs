//! Byte ranges of a download.

use serde::{Deserialize, Serialize};
use taina_core::Error;

/// A requested part of a file: `length` bytes from `offset` (to the end when `length` is `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteRange {
    /// First byte wanted.
    pub offset: u64,
    /// How many bytes; `None` for "to the end".
    pub length: Option<u64>,
}

/// Resolves a requested range against a file of `size` bytes to `start..end`. A range that starts
/// past the end is refused; one that runs past the end is cut to it. An empty file has only the
/// empty whole range.
pub fn resolve_range(range: Option<ByteRange>, size: u64) -> Result<std::ops::Range<u64>, Error> {
    let Some(range) = range else {
        return Ok(0..size);
    };
    if range.length == Some(0)
        || (range.offset >= size && size > 0)
        || (size == 0 && range.offset > 0)
    {
        return Err(Error::invalid(
            "range",
            format!("is not satisfiable for a file of {size} bytes"),
        ));
    }
    let end = match range.length {
        Some(len) => range.offset.saturating_add(len).min(size),
        None => size,
    };
    Ok(range.offset..end)
}

/// What an HTTP `Range` header asks of a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpRange {
    /// The whole file (no header, a form this server does not serve in parts, or several ranges).
    Whole,
    /// One part.
    Part(ByteRange),
    /// A range that does not overlap the file (416).
    Unsatisfiable,
}

/// Reads a `Range` header (`bytes=0-499`, `bytes=500-`, `bytes=-500`) for a file of `size` bytes.
/// Several ranges are served as the whole file, as RFC 9110 allows.
///
/// ```
/// use taina_ybira::range::{parse_http_range, ByteRange, HttpRange};
/// assert_eq!(parse_http_range(Some("bytes=2-4"), 10), HttpRange::Part(ByteRange { offset: 2, length: Some(3) }));
/// assert_eq!(parse_http_range(Some("bytes=-3"), 10), HttpRange::Part(ByteRange { offset: 7, length: Some(3) }));
/// assert_eq!(parse_http_range(Some("bytes=10-"), 10), HttpRange::Unsatisfiable);
/// ```
pub fn parse_http_range(header: Option<&str>, size: u64) -> HttpRange {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return HttpRange::Whole;
    };
    if spec.contains(',') || spec.len() > 64 {
        return HttpRange::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return HttpRange::Whole;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // A suffix: the last N bytes.
        (true, _, Some(n)) => {
            if n == 0 || size == 0 {
                HttpRange::Unsatisfiable
            } else {
                let n = n.min(size);
                HttpRange::Part(ByteRange {
                    offset: size - n,
                    length: Some(n),
                })
            }
        }
        (false, Some(start), end) if last.trim().is_empty() || end.is_some() => {
            if start >= size {
                return HttpRange::Unsatisfiable;
            }
            match end {
                Some(end) if end < start => HttpRange::Whole,
                Some(end) => HttpRange::Part(ByteRange {
                    offset: start,
                    length: Some(end.min(size - 1) - start + 1),
                }),
                None => HttpRange::Part(ByteRange {
                    offset: start,
                    length: None,
                }),
            }
        }
        _ => HttpRange::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ranges_resolve() {
        assert_eq!(resolve_range(None, 10).unwrap(), 0..10);
        let r = |offset, length| Some(ByteRange { offset, length });
        assert_eq!(resolve_range(r(2, Some(3)), 10).unwrap(), 2..5);
        assert_eq!(resolve_range(r(8, Some(30)), 10).unwrap(), 8..10);
        assert_eq!(resolve_range(r(4, None), 10).unwrap(), 4..10);
        assert!(resolve_range(r(10, None), 10).is_err());
        assert!(resolve_range(r(0, Some(0)), 10).is_err());
        assert_eq!(resolve_range(None, 0).unwrap(), 0..0);
    }

    #[test]
    fn http_ranges() {
        let part = |offset, length| HttpRange::Part(ByteRange { offset, length });
        assert_eq!(parse_http_range(None, 10), HttpRange::Whole);
        assert_eq!(parse_http_range(Some("bytes=0-0"), 10), part(0, Some(1)));
        assert_eq!(parse_http_range(Some("bytes=5-"), 10), part(5, None));
        assert_eq!(parse_http_range(Some("bytes=5-99"), 10), part(5, Some(5)));
        assert_eq!(parse_http_range(Some("bytes=-99"), 10), part(0, Some(10)));
        assert_eq!(
            parse_http_range(Some("bytes=-0"), 10),
            HttpRange::Unsatisfiable
        );
        assert_eq!(
            parse_http_range(Some("bytes=0-1,4-5"), 10),
            HttpRange::Whole
        );
        assert_eq!(parse_http_range(Some("items=0-1"), 10), HttpRange::Whole);
        assert_eq!(parse_http_range(Some("bytes=4-2"), 10), HttpRange::Whole);
        assert_eq!(
            parse_http_range(Some("bytes=0-"), 0),
            HttpRange::Unsatisfiable
        );
    }

    proptest! {
        /// Whatever the header, a part lies inside the file.
        #[test]
        fn http_ranges_stay_inside(header in "(bytes=)?[0-9 ]{0,4}-?[0-9]{0,4}(,[0-9]-)?", size in 0u64..1000) {
            if let HttpRange::Part(r) = parse_http_range(Some(&header), size) {
                let resolved = resolve_range(Some(r), size).unwrap();
                prop_assert!(resolved.end <= size && resolved.start < resolved.end);
            }
        }

        #[test]
        fn resolved_ranges_stay_inside(size in 0u64..1000, offset in 0u64..2000, length in proptest::option::of(0u64..2000)) {
            if let Ok(r) = resolve_range(Some(ByteRange { offset, length }), size) {
                prop_assert!(r.start <= r.end && r.end <= size);
                prop_assert_eq!(r.start, offset);
            }
        }
    }
}
