//! Password hashing with Argon2id at OWASP's recommended parameters (19 MiB, 2 passes, 1 lane), on a
//! small pool of dedicated threads.
//!
//! The threads live as long as the hasher, one per permitted hash at once. Each hash gets its 19 MiB
//! of Argon2 memory afresh and gives it back to the system when it ends, so that an idle server
//! holds none of it (measured on the release build: idle RSS 44 MiB when each thread kept its
//! memory, the hashing memory returned at once now; see [`ALWAYS_MAPPED_BYTES`] for how).
//! A semaphore holds one permit per thread: a login flood queues for a
//! permit instead of stalling the async runtime; a caller that waits longer than
//! [`MAX_QUEUE_WAIT`] gets "rate limited". Unknown accounts are verified against a dummy hash so that
//! they cost the same time as a wrong password.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
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
                            // A panic ends the hash (its caller hears that it failed), never the
                            // thread: the pool keeps its size.
                            Ok(work) => {
                                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                                    .is_err()
                                {
                                    tracing::error!("a password hash panicked");
                                }
                            }
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
            hash_password(&argon2()?, password.as_bytes(), salt.as_salt())
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
                verify_password(password.as_bytes(), &hash)
                    .map_err(|e| Error::PasswordHash(e.to_string()))
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

/// The size an Argon2 memory block is reserved at (its address space, not its use), so that the
/// C allocator always maps it straight from the system and unmaps it when it is freed.
///
/// glibc serves an allocation from its own heaps, and keeps it there once freed, unless the
/// allocation is at least its mmap threshold. That threshold starts at 128 KiB but rises to the
/// size of any mapped block that is freed, up to 32 MiB on 64-bit systems (`mallopt(3)`,
/// `DEFAULT_MMAP_THRESHOLD_MAX`): so a 19 MiB block, freed once, makes the next one come from a
/// heap, where a wave of sign-ups left hundreds of MiB behind (measured: 350 MiB after 30 sign-ups).
/// Reserving more than that maximum keeps every block mapped; only the 19 MiB Argon2 writes are
/// ever touched, so the rest costs address space and no memory. Other allocators return large
/// blocks to the system anyway.
const ALWAYS_MAPPED_BYTES: usize = 32 * 1024 * 1024 + Block::SIZE;

/// Runs `f` on fresh Argon2 memory of `blocks` blocks, given back to the system afterwards.
fn with_memory<T>(blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    let reserved = blocks.max(ALWAYS_MAPPED_BYTES / Block::SIZE);
    let mut memory: Vec<Block> = Vec::with_capacity(reserved);
    memory.resize(blocks, Block::default());
    f(&mut memory)
}

/// The raw Argon2 output of `password` with `salt`, in fresh memory ([`with_memory`]).
fn raw_hash(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    len: usize,
) -> argon2::password_hash::Result<Output> {
    Output::init_with(len, |out| {
        with_memory(argon.params().block_count(), |memory| {
            argon.hash_password_into_with_memory(password, salt, out, memory)
        })
        .map_err(Into::into)
    })
}

/// `argon2`'s `hash_password`, in memory of our own: the PHC string's parts.
fn hash_password<'a>(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: Salt<'a>,
) -> argon2::password_hash::Result<PasswordHash<'a>> {
    let mut salt_bytes = [0u8; 64];
    let raw_salt = salt.decode_b64(&mut salt_bytes)?;
    let len = argon
        .params()
        .output_len()
        .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params())?,
        salt: Some(salt),
        hash: Some(raw_hash(argon, password, raw_salt, len)?),
    })
}

/// Whether `password` matches the PHC string `phc` (with the parameters it was made with), in
/// memory of our own; the comparison takes the same time however much matches.
fn verify_password(password: &[u8], phc: &str) -> argon2::password_hash::Result<bool> {
    let parsed = PasswordHash::new(phc)?;
    let params = Params::try_from(&parsed)?;
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let expected = parsed.hash.ok_or(argon2::password_hash::Error::Password)?;
    let mut salt_bytes = [0u8; 64];
    let salt = parsed
        .salt
        .ok_or(argon2::password_hash::Error::Password)?
        .decode_b64(&mut salt_bytes)?;
    let argon = Argon2::new(algorithm, version, params);
    Ok(raw_hash(&argon, password, salt, expected.len())? == expected)
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

    #[test]
    fn hashes_match_the_argon2_crates_own() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let salt = SaltString::generate(&mut OsRng);
        let ours = hash_password(&argon2().unwrap(), b"correct horse", salt.as_salt())
            .unwrap()
            .to_string();
        let theirs = argon2()
            .unwrap()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert_eq!(ours, theirs);
        // Each verifies the other's, and refuses a wrong password.
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            argon2()
                .unwrap()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(verify_password(b"correct horse", &theirs).unwrap());
        assert!(!verify_password(b"correct horsf", &theirs).unwrap());
        // A hash made with other parameters (an older instance's) still verifies.
        let old = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 3, 1, None).unwrap(),
        )
        .hash_password(b"older", &salt)
        .unwrap()
        .to_string();
        assert!(verify_password(b"older", &old).unwrap());
        assert!(verify_password(b"x", "not a phc string").is_err());
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
