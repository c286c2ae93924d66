//! Password hashing with Argon2id at OWASP's recommended parameters (19 MiB, 2 passes, 1 lane), on a
//! small pool of dedicated threads.
//!
//! The threads live as long as the hasher, one per permitted hash at once, so the 19 MiB each hash
//! needs is reused by the same few threads (the allocator keeps what a thread freed for that
//! thread: hashing on ever new threads of a general blocking pool left hundreds of MiB resident
//! after a wave of sign-ups). A semaphore holds one permit per thread: a login flood queues for a
//! permit instead of stalling the async runtime; a caller that waits longer than
//! [`MAX_QUEUE_WAIT`] gets "rate limited". Unknown accounts are verified against a dummy hash so that
//! they cost the same time as a wrong password.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::OsRng;
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier, Version,
};
use tokio::sync::{OnceCell, Semaphore};

use crate::{Error, Result};

/// Longest a caller waits for a hashing slot before being told to retry.
pub const MAX_QUEUE_WAIT: Duration = Duration::from_secs(2);

/// Memory cost in KiB (OWASP: 19 MiB).
const MEMORY_KIB: u32 = 19 * 1024;
/// Passes over memory (OWASP: 2).
const ITERATIONS: u32 = 2;
/// Lanes (OWASP: 1).
const PARALLELISM: u32 = 1;

/// Work for a hashing thread.
type Work = Box<dyn FnOnce() + Send>;

/// Hashes and verifies passwords on a bounded pool of dedicated threads.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    dummy_hash: Arc<OnceCell<String>>,
    work: Arc<std::sync::Mutex<std::sync::mpsc::Sender<Work>>>,
}

impl PasswordHasher {
    /// A hasher computing at most `threads` hashes at once, on that many threads of its own.
    pub fn new(threads: usize) -> Self {
        let threads = threads.max(1);
        let (tx, rx) = std::sync::mpsc::channel::<Work>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for n in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("taina-argon2-{n}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next piece of work.
                        let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        match next {
                            Ok(work) => work(),
                            // Every hasher clone is gone.
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Self {
            permits: Arc::new(Semaphore::new(threads)),
            dummy_hash: Arc::new(OnceCell::new()),
            work: Arc::new(std::sync::Mutex::new(tx)),
        }
    }

    /// Hashes a new password into a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()?
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Error::PasswordHash(e.to_string()))
        })
        .await
    }

    /// Whether `password` matches `hash`; with no hash (an unknown account) it checks against a dummy
    /// hash and answers `false`, taking the same time.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool> {
        let (hash, known) = match hash {
            Some(h) => (h.to_owned(), true),
            None => (self.dummy().await?, false),
        };
        let password = password.to_owned();
        let matches = self
            .run(move || {
                let parsed =
                    PasswordHash::new(&hash).map_err(|e| Error::PasswordHash(e.to_string()))?;
                Ok(argon2()?
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok())
            })
            .await?;
        Ok(known && matches)
    }

    /// Computes the dummy hash in the background, so that the first sign-in with an unknown email
    /// takes no longer than any other.
    pub fn warm_up(&self) {
        let hasher = self.clone();
        tokio::spawn(async move {
            if let Err(e) = hasher.dummy().await {
                tracing::warn!(error = %e, "could not prepare the dummy password hash");
            }
        });
    }

    async fn dummy(&self) -> Result<String> {
        self.dummy_hash
            .get_or_try_init(|| self.hash("not a real password, only for timing"))
            .await
            .cloned()
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let permit = tokio::time::timeout(MAX_QUEUE_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| taina_core::Error::RateLimited {
                retry_after: Duration::from_secs(1),
            })?
            .map_err(|_| Error::PasswordHash("the hashing pool is closed".into()))?;
        let (done, answer) = tokio::sync::oneshot::channel();
        let job: Work = Box::new(move || {
            let _permit = permit;
            let _ = done.send(work());
        });
        self.work
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .map_err(|_| Error::PasswordHash("the hashing threads are gone".into()))?;
        answer
            .await
            .map_err(|_| Error::PasswordHash("a hashing thread failed".into()))?
    }
}

fn argon2() -> Result<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|e| Error::PasswordHash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id_owasp_parameters() {
        let hasher = PasswordHasher::new(2);
        let hash = hasher.hash("correct horse battery").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            hasher
                .verify("correct horse battery", Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("wrong horse battery", Some(&hash))
                .await
                .unwrap()
        );
        assert!(!hasher.verify("correct horse battery", None).await.unwrap());
    }

    #[tokio::test]
    async fn a_flood_past_the_queue_wait_is_rate_limited() {
        let hasher = PasswordHasher::new(1);
        // Hold the only permit longer than the queue wait.
        let permit = hasher.permits.clone().acquire_owned().await.unwrap();
        let err = hasher.hash("whatever password").await.unwrap_err();
        assert_eq!(err.kind(), taina_core::ErrorKind::RateLimited);
        drop(permit);
        assert!(hasher.hash("whatever password").await.is_ok());
    }
}
