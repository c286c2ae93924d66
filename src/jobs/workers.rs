//! The background workers: each claims and runs due jobs, woken on enqueue or every few seconds.

use std::sync::{Arc, Weak};

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::{POLL_INTERVAL, run_one};
use crate::{Inner, Taina};

/// The background workers; stopped when dropped.
#[derive(Debug, Default)]
pub(crate) struct Workers(Vec<JoinHandle<()>>);

impl Workers {
    /// Starts `count` workers for the instance behind `inner` (held weakly, so that dropping the last
    /// [`Taina`] handle stops them).
    pub(crate) fn start(inner: &Arc<Inner>, count: u32) -> Workers {
        Workers(
            (0..count)
                .map(|_| {
                    let weak: Weak<Inner> = Arc::downgrade(inner);
                    let notify: Arc<Notify> = inner.job_notify.clone();
                    tokio::spawn(async move {
                        loop {
                            let woken = notify.notified();
                            let Some(inner) = weak.upgrade() else { return };
                            let taina = Taina { inner };
                            let ran = run_one(&taina).await;
                            drop(taina);
                            match ran {
                                Ok(Some(_)) => continue,
                                Ok(None) => {}
                                Err(e) => tracing::warn!(error = %e, "job worker could not reach the queue"),
                            }
                            let _ = tokio::time::timeout(POLL_INTERVAL, woken).await;
                        }
                    })
                })
                .collect(),
        )
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for handle in &self.0 {
            handle.abort();
        }
    }
}
