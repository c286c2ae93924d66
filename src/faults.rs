//! Fault injection for tests (feature `testing`): named points in the shell fail on request, so
//! tests can prove that a failure at any step leaves data consistent.
//!
//! Points: `ybira.upload.after_staging`, `ybira.upload.after_move`, `ybira.upload.before_commit`,
//! `jaci.import.before_adopt` (the file stored, its photo not yet added), `job.<kind>` for every
//! job kind.
//!
//! A point can also *crash* ([`Faults::crash`]): it fails, and from then on an upload undoes nothing
//! (no staged or moved bytes deleted, no reservation released), as if the process had been killed
//! there; the test then drops the instance and opens it again on the same data, as a restart would.

use std::collections::HashSet;
use std::sync::Mutex;

use crate::{Error, Result};

/// The points set to fail, those set to crash, and whether one crashed.
#[derive(Debug, Default)]
pub struct Faults(Mutex<State>);

#[derive(Debug, Default)]
struct State {
    failing: HashSet<String>,
    full: HashSet<String>,
    crashing: HashSet<String>,
    crashed: bool,
}

impl Faults {
    /// Makes `point` fail until cleared.
    pub fn inject(&self, point: &str) {
        self.lock().failing.insert(point.to_owned());
    }

    /// Makes `point` fail as a full disk would (`ENOSPC`), until cleared: for machines where a
    /// test may not mount a small file system to fill for real.
    pub fn fail_with_storage_full(&self, point: &str) {
        self.lock().full.insert(point.to_owned());
    }

    /// Makes `point` fail as a kill there would: after it fires, nothing is undone (see the module
    /// documentation), until cleared.
    pub fn crash(&self, point: &str) {
        self.lock().crashing.insert(point.to_owned());
    }

    /// Whether a crash point fired (the instance is to be treated as killed).
    pub fn crashed(&self) -> bool {
        self.lock().crashed
    }

    /// Makes every point succeed again.
    pub fn clear(&self) {
        *self.lock() = State::default();
    }

    /// Fails if `point` is set (to fail or to crash).
    pub(crate) fn check(&self, point: &str) -> Result<()> {
        let mut state = self.lock();
        let crashing = state.crashing.contains(point);
        if crashing {
            state.crashed = true;
        }
        if state.full.contains(point) {
            return Err(Error::Io(std::io::Error::from(
                std::io::ErrorKind::StorageFull,
            )));
        }
        if crashing || state.failing.contains(point) {
            return Err(Error::Io(std::io::Error::other(format!(
                "fault injected at {point}"
            ))));
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
