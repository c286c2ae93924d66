//! Randomness from the operating system: ids and secret tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use taina_core::id::ID_LEN;

/// 21 random bytes for a new id.
pub fn id_bytes() -> [u8; ID_LEN] {
    let mut bytes = [0u8; ID_LEN];
    fill(&mut bytes);
    bytes
}

/// A new id of type `T`.
pub fn new_id<T>(make: fn([u8; ID_LEN]) -> T) -> T {
    make(id_bytes())
}

/// A new app password (`taina_core::app_password::generate` over random bytes from the OS).
pub fn app_password() -> String {
    let mut bytes = [0u8; taina_core::app_password::RANDOM_BYTES];
    fill(&mut bytes);
    taina_core::app_password::generate(bytes)
}

/// A new WebDAV lock token (`taina_ybira::dav::locks::new_token` over random bytes from the OS).
pub fn lock_token() -> String {
    let mut bytes = [0u8; 16];
    fill(&mut bytes);
    taina_ybira::dav::locks::new_token(bytes)
}

/// The length of a [`secret_token`]: 256 bits in base64url without padding.
pub const SECRET_TOKEN_CHARS: usize = 43;

/// A secret token: 256 random bits, base64url without padding (43 characters).
pub fn secret_token() -> String {
    let mut bytes = [0u8; 32];
    fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The hash under which a secret token is stored (SHA-256, hex). Tokens carry 256 bits of entropy,
/// so a fast hash suffices: a database leak does not reveal usable tokens.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn fill(buf: &mut [u8]) {
    // The OS random source failing leaves no safe way to mint secrets; this is not user input.
    #[allow(clippy::expect_used)]
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_distinct_and_hashed() {
        let a = secret_token();
        let b = secret_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }
}
