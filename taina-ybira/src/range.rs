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

    proptest! {
        #[test]
        fn resolved_ranges_stay_inside(size in 0u64..1000, offset in 0u64..2000, length in proptest::option::of(0u64..2000)) {
            if let Ok(r) = resolve_range(Some(ByteRange { offset, length }), size) {
                prop_assert!(r.start <= r.end && r.end <= size);
                prop_assert_eq!(r.start, offset);
            }
        }
    }
}
