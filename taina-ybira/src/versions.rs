//! File versions: replacing a file's content keeps what it replaced, up to a limit.

/// Versions kept per file unless configured otherwise.
pub const DEFAULT_VERSIONS_KEPT: u32 = 10;

/// How many of a file's oldest versions to drop when it holds `count` and may keep `keep`.
pub fn versions_to_drop(count: u64, keep: u32) -> u64 {
    count.saturating_sub(u64::from(keep))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest() {
        assert_eq!(versions_to_drop(11, 10), 1);
        assert_eq!(versions_to_drop(3, 10), 0);
        assert_eq!(versions_to_drop(5, 0), 5);
    }
}
