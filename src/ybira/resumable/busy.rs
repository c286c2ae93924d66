//! One piece at a time: the set of uploads with a piece being appended, and the hold on one.

use std::collections::HashSet;
use std::sync::Mutex;

use taina_core::{Error as DomainError, UploadId};

use crate::Result;

/// Uploads with a piece being appended (one at a time each).
#[derive(Debug, Default)]
pub(crate) struct BusyUploads(Mutex<HashSet<UploadId>>);

/// Holds an upload busy until dropped.
pub(super) struct Busy<'a> {
    set: &'a BusyUploads,
    id: UploadId,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.set
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

impl BusyUploads {
    pub(super) fn take<'a>(&'a self, id: &UploadId) -> Result<Busy<'a>> {
        if !self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone())
        {
            return Err(DomainError::conflict(
                "another piece of this upload is being received; ask where it stands and retry",
            )
            .into());
        }
        Ok(Busy {
            set: self,
            id: id.clone(),
        })
    }
}
