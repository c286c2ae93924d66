//! Progress of long operator work (backup, restore, import, regenerate), reported to whoever
//! shows it (the command line draws bars).

/// Receives progress reports.
pub trait Progress: Send + Sync {
    /// A phase begins: `what` it is, how much there is, and whether that is a number of bytes.
    fn start(&self, what: &str, total: u64, bytes: bool);
    /// `n` more of it is done.
    fn advance(&self, n: u64);
}

/// Reports go nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: u64, _: bool) {}
    fn advance(&self, _: u64) {}
}
