//! WebDAV write locks (RFC 4918 §6, §7, §9.10): which locks conflict, which tokens a change must
//! present, lock tokens, timeouts, and the `activelock` a client is shown.
//!
//! A lock is held on a file or folder (a LOCK on a name that maps to nothing first makes an empty
//! file there, RFC 4918 §9.10.4); a deep lock on a folder covers everything in it.

use taina_core::{ItemId, Timestamp, UserId};

use super::xml::escape;

/// The timeout given when the client asks for none, or for more than [`TIMEOUT_MAX_SECS`].
pub const TIMEOUT_DEFAULT_SECS: u64 = 3600;
/// The longest timeout given (a client refreshes to keep it).
pub const TIMEOUT_MAX_SECS: u64 = 24 * 3600;
/// Most live locks one person holds.
pub const PER_PERSON_MAX: usize = 1000;

/// A lock in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldLock {
    /// Its token (`urn:uuid:...`).
    pub token: String,
    /// The file or folder it is on.
    pub item_id: ItemId,
    /// The URL path it was taken on (its `lockroot`).
    pub root_href: String,
    /// Whether it covers everything in a folder (depth infinity).
    pub deep: bool,
    /// Shared (`true`) or exclusive.
    pub shared: bool,
    /// The client's `owner` XML.
    pub owner: Option<String>,
    /// Who took it.
    pub user_id: UserId,
    /// The timeout it was given, in seconds.
    pub timeout_secs: u64,
    /// When it lapses unless refreshed.
    pub expires_at: Timestamp,
}

/// A lock token from 16 random bytes: a version 4 UUID URN.
pub fn new_token(random: [u8; 16]) -> String {
    let mut b = random;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The timeout to give, in seconds, for a `Timeout` header (`Second-600`, `Infinite`, or a
/// list of them: the first one understood counts).
pub fn timeout_secs(header: Option<&str>) -> u64 {
    let asked = header.and_then(|h| {
        h.split(',').map(str::trim).find_map(|t| {
            if t.eq_ignore_ascii_case("infinite") {
                Some(TIMEOUT_MAX_SECS)
            } else {
                t.get(..7)
                    .filter(|p| p.eq_ignore_ascii_case("second-"))
                    .and_then(|_| t[7..].parse::<u64>().ok())
            }
        })
    });
    match asked {
        Some(0) | None => TIMEOUT_DEFAULT_SECS,
        Some(secs) => secs.min(TIMEOUT_MAX_SECS),
    }
}

/// Whether a new lock may be taken where `existing` locks already cover (or, for a deep lock,
/// lie beneath) it: an exclusive lock conflicts with any, a shared one with exclusive ones.
/// Answers the lock in the way.
pub fn conflict(shared: bool, existing: &[HeldLock]) -> Option<&HeldLock> {
    existing.iter().find(|l| !(shared && l.shared))
}

/// Whether a change by `who` may go ahead under the locks that `covering` holds over what it
/// changes, given the tokens the request submitted (its `If` header's): every exclusive lock's
/// token, and one of the shared locks' tokens when there are some. A token counts only for the
/// person who took the lock (RFC 4918 §6.4): lock discovery shows tokens to every reader, and
/// knowing one is no right to write under it. Answers the lock not submitted.
pub fn unsubmitted<'a>(
    covering: &'a [HeldLock],
    submitted: &[&str],
    who: &UserId,
) -> Option<&'a HeldLock> {
    let has = |l: &HeldLock| &l.user_id == who && submitted.contains(&l.token.as_str());
    if let Some(exclusive) = covering.iter().find(|l| !l.shared && !has(l)) {
        return Some(exclusive);
    }
    let shared: Vec<&HeldLock> = covering.iter().filter(|l| l.shared).collect();
    if !shared.is_empty() && !shared.iter().any(|l| has(l)) {
        return shared.first().copied();
    }
    None
}

/// The `activelock` element of a lock, for lock discovery and the LOCK answer.
pub fn activelock_xml(lock: &HeldLock) -> String {
    format!(
        "<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope><D:{}/></D:lockscope>\
         <D:depth>{}</D:depth>{}<D:timeout>Second-{}</D:timeout>\
         <D:locktoken><D:href>{}</D:href></D:locktoken><D:lockroot><D:href>{}</D:href></D:lockroot>\
         </D:activelock>",
        if lock.shared { "shared" } else { "exclusive" },
        if lock.deep { "infinity" } else { "0" },
        lock.owner
            .as_deref()
            .map(|o| format!("<D:owner>{o}</D:owner>"))
            .unwrap_or_default(),
        lock.timeout_secs,
        escape(&lock.token),
        escape(&lock.root_href),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lock(token: &str, shared: bool) -> HeldLock {
        HeldLock {
            token: token.into(),
            item_id: ItemId::from_random([1; 21]),
            root_href: "/dav/x".into(),
            deep: false,
            shared,
            owner: None,
            user_id: UserId::from_random([2; 21]),
            timeout_secs: 60,
            expires_at: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn conflicts() {
        let ex = [lock("a", false)];
        let sh = [lock("a", true), lock("b", true)];
        assert!(conflict(true, &ex).is_some());
        assert!(conflict(false, &ex).is_some());
        assert!(conflict(true, &sh).is_none());
        assert!(conflict(false, &sh).is_some());
        assert!(conflict(false, &[]).is_none());
    }

    #[test]
    fn submitted_tokens() {
        let holder = UserId::from_random([2; 21]);
        let other = UserId::from_random([3; 21]);
        let ex = [lock("a", false)];
        assert!(unsubmitted(&ex, &[], &holder).is_some());
        assert!(unsubmitted(&ex, &["a"], &holder).is_none());
        assert!(
            unsubmitted(&ex, &["a"], &other).is_some(),
            "a token is its holder's"
        );
        let sh = [lock("a", true), lock("b", true)];
        assert!(unsubmitted(&sh, &["b"], &holder).is_none());
        assert!(unsubmitted(&sh, &["c"], &holder).is_some());
        assert!(unsubmitted(&[], &[], &other).is_none());
    }

    #[test]
    fn timeouts() {
        assert_eq!(timeout_secs(None), TIMEOUT_DEFAULT_SECS);
        assert_eq!(timeout_secs(Some("Second-600")), 600);
        assert_eq!(
            timeout_secs(Some("Infinite, Second-4100000000")),
            TIMEOUT_MAX_SECS
        );
        assert_eq!(timeout_secs(Some("Second-99999999")), TIMEOUT_MAX_SECS);
        assert_eq!(timeout_secs(Some("bogus")), TIMEOUT_DEFAULT_SECS);
    }

    proptest! {
        #[test]
        fn tokens_are_uuid_urns(random in any::<[u8; 16]>()) {
            let t = new_token(random);
            prop_assert_eq!(t.len(), 9 + 36);
            prop_assert!(t.starts_with("urn:uuid:"));
            prop_assert_eq!(&t[9 + 14..9 + 15], "4");
        }

        #[test]
        fn any_timeout_header_is_bounded(h in ".{0,80}") {
            let secs = timeout_secs(Some(&h));
            prop_assert!((1..=TIMEOUT_MAX_SECS).contains(&secs));
        }
    }
}
