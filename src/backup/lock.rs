//! The mark a running backup leaves in the data directory (a file of its own, refreshed while it
//! runs), so that freed blobs stay until it ends; and whether one is running.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::Result;

/// A backup in progress marks the data directory with a file of its own named with this prefix
/// (refreshed while it runs), so that concurrent backups do not end each other's mark.
const LOCK_PREFIX: &str = "backup-running-";
/// A lock older than this is a crashed backup's, and ignored.
const LOCK_FRESH: Duration = Duration::from_secs(10 * 60);

/// Whether a backup is running on `data_dir` now (freed blobs must then stay).
pub(crate) fn backup_running(data_dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        entry.file_name().to_string_lossy().starts_with(LOCK_PREFIX)
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age < LOCK_FRESH)
    })
}

/// Marks the data directory while a backup runs; unmarks it when dropped.
pub(super) struct Lock {
    path: PathBuf,
    refresh: tokio::task::JoinHandle<()>,
}

impl Lock {
    pub(super) fn take(data_dir: &Path) -> Result<Lock> {
        let path = data_dir.join(format!(
            "{LOCK_PREFIX}{}.lock",
            crate::random::secret_token().get(..12).unwrap_or("x")
        ));
        std::fs::write(&path, b"a backup is running\n")?;
        let touched = path.clone();
        let refresh = tokio::spawn(async move {
            loop {
                tokio::time::sleep(LOCK_FRESH / 4).await;
                let _ = std::fs::write(&touched, b"a backup is running\n");
            }
        });
        Ok(Lock { path, refresh })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        self.refresh.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}
