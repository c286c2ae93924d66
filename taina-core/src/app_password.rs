//! App passwords: one per device, for clients that cannot sign in with cookies and CSRF (WebDAV in
//! Finder, Windows or rclone, the Nextcloud desktop client, scripts). Each is shown once, stored
//! hashed, named, may be limited to files, and is revoked on its own.
//!
//! The format is made to be typed on a phone: five groups of five lowercase letters and digits
//! without look-alikes (`0`, `1`, `l`, `o` are left out), 125 bits in all. Dashes, spaces and
//! letter case are ignored when it is read back, so `ABCDE FGHIJ ...` works as well.

use serde::{Deserialize, Serialize};

use crate::{AppPasswordId, Error, Timestamp};

/// The 32 characters an app password is made of: lowercase letters and digits, less `0`, `1`,
/// `l` and `o`.
pub const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
/// Groups in an app password.
pub const GROUPS: usize = 5;
/// Characters per group.
pub const GROUP_LEN: usize = 5;
/// Characters in an app password, dashes aside.
pub const CHARS: usize = GROUPS * GROUP_LEN;
/// Random bytes the shell passes to [`generate`] (one per character).
pub const RANDOM_BYTES: usize = CHARS;
/// Longest name of an app password, in characters.
pub const NAME_MAX_CHARS: usize = 64;
/// App passwords one person may hold.
pub const PER_PERSON_MAX: usize = 50;
/// How long a device sign-in (Nextcloud's Login Flow v2) waits for its approval and its poll.
pub const DEVICE_SIGN_IN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(20 * 60);
/// Most device sign-ins waiting at once on an instance: anyone may start one, so they are
/// bounded; past it, new ones wait until some lapse.
pub const DEVICE_SIGN_INS_PENDING_MAX: usize = 1000;
/// A use is written down at most once per this many milliseconds per app password (bounds the
/// writes to one a minute however busy a sync client is).
pub const RECORD_USE_EVERY_MS: i64 = 60_000;

/// What a credential may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Scope {
    /// Everything the person may do (a session, or an app password not limited).
    Everything,
    /// Files only: the files API, uploads and WebDAV.
    Files,
}

impl Scope {
    /// The scope as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Everything => "everything",
            Scope::Files => "files",
        }
    }

    /// Reads a stored scope.
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "everything" => Some(Scope::Everything),
            "files" => Some(Scope::Files),
            _ => None,
        }
    }

    /// Whether an app password of this scope reaches `area` (a session reaches every area; no app
    /// password reaches [`Area::Credentials`]).
    pub fn allows(self, area: Area) -> bool {
        match self {
            Scope::Everything => area != Area::Credentials,
            Scope::Files => area == Area::Files,
        }
    }

    /// [`Scope::allows`] as a result: a credential that does not reach `area` is refused.
    pub fn check(self, area: Area) -> Result<(), Error> {
        if self.allows(area) {
            Ok(())
        } else {
            Err(Error::Forbidden {
                reason: match self {
                    Scope::Files => "this app password may only reach files",
                    Scope::Everything => {
                        "app passwords cannot manage passwords and sessions; sign in on the web"
                    }
                },
            })
        }
    }
}

/// The part of Tainá a call belongs to, as far as credentials' scopes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// Files and folders: the files API, uploads (tus) and WebDAV.
    Files,
    /// The photo library.
    Photos,
    /// Messages and the realtime socket.
    Messages,
    /// The account, the community and its administration.
    Account,
    /// What signs a person in: app passwords, device sign-ins, the account password and sessions.
    /// Only a session reaches it, so a leaked app password cannot make itself others, outlive its
    /// revocation, or take the account.
    Credentials,
}

/// An app password as its owner sees it in their list (never the password itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AppPasswordInfo {
    /// Its id.
    pub id: AppPasswordId,
    /// The name its owner gave it (the device it is for).
    pub name: String,
    /// What it may reach.
    pub scope: Scope,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it was last used (to the minute), if ever.
    pub last_used_at: Option<Timestamp>,
}

/// Makes an app password from [`RANDOM_BYTES`] random bytes: five dash-separated groups of
/// [`ALPHABET`] characters.
pub fn generate(random: [u8; RANDOM_BYTES]) -> String {
    let mut out = String::with_capacity(CHARS + GROUPS - 1);
    for (i, b) in random.iter().enumerate() {
        if i > 0 && i % GROUP_LEN == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[usize::from(b & 31)]));
    }
    out
}

/// The canonical form of a typed app password (dashes and whitespace dropped, lowercase), or
/// `None` when it cannot be one: the form its hash is taken of.
pub fn normalize(typed: &str) -> Option<String> {
    if typed.len() > 4 * CHARS {
        return None;
    }
    let canonical: String = typed
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (canonical.len() == CHARS && canonical.bytes().all(|b| ALPHABET.contains(&b)))
        .then_some(canonical)
}

/// A valid app password name: trimmed, 1 to [`NAME_MAX_CHARS`] characters, no control characters.
pub fn check_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "give the app password a name"));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(Error::invalid(
            "name",
            format!("at most {NAME_MAX_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid("name", "no control characters"));
    }
    Ok(name.to_owned())
}

/// Whether a use at `now` is written down, given the last one written.
pub fn record_use(now: Timestamp, last_used_at: Option<Timestamp>) -> bool {
    last_used_at.is_none_or(|last| now.as_millis() - last.as_millis() >= RECORD_USE_EVERY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scopes_reach_their_areas() {
        for area in [
            Area::Files,
            Area::Photos,
            Area::Messages,
            Area::Account,
            Area::Credentials,
        ] {
            assert_eq!(Scope::Everything.allows(area), area != Area::Credentials);
            assert_eq!(Scope::Files.allows(area), area == Area::Files);
        }
        assert!(Scope::Files.check(Area::Messages).is_err());
        for scope in [Scope::Everything, Scope::Files] {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("all"), None);
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(check_name("  Ana's laptop ").unwrap(), "Ana's laptop");
        assert!(check_name("   ").is_err());
        assert!(check_name(&"x".repeat(NAME_MAX_CHARS + 1)).is_err());
        assert!(check_name("a\nb").is_err());
    }

    #[test]
    fn uses_are_written_once_a_minute() {
        let t = Timestamp::from_millis(1_000_000);
        assert!(record_use(t, None));
        assert!(!record_use(
            t,
            Some(Timestamp::from_millis(1_000_000 - 59_999))
        ));
        assert!(record_use(
            t,
            Some(Timestamp::from_millis(1_000_000 - 60_000))
        ));
    }

    proptest! {
        #[test]
        fn generated_passwords_read_back_however_typed(random in any::<[u8; RANDOM_BYTES]>(), upper in any::<bool>(), spaces in any::<bool>()) {
            let password = generate(random);
            prop_assert_eq!(password.len(), CHARS + GROUPS - 1);
            let canonical = normalize(&password).unwrap();
            let mut typed = if upper { password.to_uppercase() } else { password.clone() };
            if spaces {
                typed = typed.replace('-', " ");
            }
            prop_assert_eq!(normalize(&typed), Some(canonical.clone()));
            prop_assert_eq!(canonical.len(), CHARS);
        }

        #[test]
        fn anything_else_is_not_an_app_password(s in ".{0,120}") {
            if let Some(canonical) = normalize(&s) {
                prop_assert_eq!(canonical.len(), CHARS);
                prop_assert!(canonical.bytes().all(|b| ALPHABET.contains(&b)));
            }
        }
    }
}
