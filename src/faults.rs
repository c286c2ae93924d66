//! Fault injection for tests (feature `testing`): named points in the shell fail on request, so
//! tests can prove that a failure at any step leaves data consistent.
//!
//! Points: `ybira.upload.after_staging`, `ybira.upload.after_move`, `ybira.upload.before_commit`,
//! `job.delete_blob`, `job.ybira_cleanup`, `job.integrity_check`.

use std::collections::HashSet;
use std::sync::Mutex;

use crate::{Error, Result};

/// The points set to fail.
#[derive(Debug, Default)]
pub struct Faults(Mutex<HashSet<String>>);

impl Faults {
    /// Makes `point` fail until cleared.
    pub fn inject(&self, point: &str) {
        self.lock().insert(point.to_owned());
    }

    /// Makes every point succeed again.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Fails if `point` is set.
    pub(crate) fn check(&self, point: &str) -> Result<()> {
        if self.lock().contains(point) {
            return Err(Error::Io(std::io::Error::other(format!(
                "fault injected at {point}"
            ))));
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
