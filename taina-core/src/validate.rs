//! Validation and normalisation of what people type: emails, names, passwords, slugs.
//!
//! Each function returns the normalised value or an [`Error::Invalid`] naming the field.

use unicode_normalization::UnicodeNormalization;

use crate::Error;

/// Longest email accepted (RFC 5321's path limit).
pub const EMAIL_MAX_BYTES: usize = 254;
/// Shortest password accepted, in characters.
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Longest password accepted, in characters.
pub const PASSWORD_MAX_CHARS: usize = 1024;
/// Longest display name, in characters.
pub const DISPLAY_NAME_MAX_CHARS: usize = 100;
/// Longest community name, in characters.
pub const COMMUNITY_NAME_MAX_CHARS: usize = 100;
/// Shortest slug, in characters.
pub const SLUG_MIN_CHARS: usize = 2;
/// Longest slug, in characters.
pub const SLUG_MAX_CHARS: usize = 50;

/// The page size for a requested `limit`: `default` when absent; a limit outside `1..=max` is
/// refused (an answer that silently holds fewer items than asked would look like the end).
///
/// ```
/// use taina_core::validate::page_size;
/// assert_eq!(page_size(None, 50, 200).unwrap(), 50);
/// assert_eq!(page_size(Some(200), 50, 200).unwrap(), 200);
/// assert!(page_size(Some(0), 50, 200).is_err());
/// assert!(page_size(Some(201), 50, 200).is_err());
/// ```
pub fn page_size(limit: Option<u32>, default: u32, max: u32) -> Result<u32, Error> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(Error::invalid(
            "limit",
            format!("must be between 1 and {max}"),
        )),
    }
}

/// Normalises an email (trimmed, lower case) and checks its form. Emails compare case-insensitively.
///
/// ```
/// use taina_core::validate::normalize_email;
/// assert_eq!(normalize_email("  Ana@Example.ORG ").unwrap(), "ana@example.org");
/// assert!(normalize_email("not an email").is_err());
/// ```
pub fn normalize_email(raw: &str) -> Result<String, Error> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err(Error::invalid("email", "is required"));
    }
    if email.len() > EMAIL_MAX_BYTES {
        return Err(Error::invalid(
            "email",
            format!("must be at most {EMAIL_MAX_BYTES} bytes"),
        ));
    }
    if email.chars().any(char::is_control) || !email_address::EmailAddress::is_valid(&email) {
        return Err(Error::invalid("email", "is not a valid email address"));
    }
    Ok(email)
}

/// Normalises a display name (Unicode NFC, trimmed) and checks it: 1 to 100 characters, no control
/// characters.
pub fn normalize_display_name(raw: &str) -> Result<String, Error> {
    normalize_label("display_name", raw, DISPLAY_NAME_MAX_CHARS)
}

/// Normalises a community name the same way as a display name.
pub fn normalize_community_name(raw: &str) -> Result<String, Error> {
    normalize_label("community_name", raw, COMMUNITY_NAME_MAX_CHARS)
}

/// Normalises a one-line label (a name, a title): Unicode NFC, trimmed, 1 to `max_chars`
/// characters, no control characters.
pub fn normalize_label(field: &'static str, raw: &str, max_chars: usize) -> Result<String, Error> {
    let value: String = raw.nfc().collect::<String>().trim().to_owned();
    if value.is_empty() {
        return Err(Error::invalid(field, "is required"));
    }
    if value.chars().count() > max_chars {
        return Err(Error::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(value)
}

/// Normalises free text (a description, a message): Unicode NFC, trimmed, at most `max_chars`
/// characters (and at least one when `required`); newlines and tabs are kept, other control
/// characters refused.
///
/// ```
/// use taina_core::validate::normalize_text;
/// assert_eq!(normalize_text("text", "  hi\nthere ", 10, true).unwrap(), "hi\nthere");
/// assert!(normalize_text("text", "   ", 10, true).is_err());
/// assert_eq!(normalize_text("text", "", 10, false).unwrap(), "");
/// ```
pub fn normalize_text(
    field: &'static str,
    raw: &str,
    max_chars: usize,
    required: bool,
) -> Result<String, Error> {
    let text: String = raw.nfc().collect::<String>().trim().to_owned();
    if required && text.is_empty() {
        return Err(Error::invalid(field, "is required"));
    }
    if text.chars().count() > max_chars {
        return Err(Error::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(text)
}

/// Checks a new password: 8 to 1,024 characters. Passwords are never trimmed or altered.
pub fn check_password(password: &str) -> Result<(), Error> {
    let n = password.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return Err(Error::invalid(
            "password",
            format!("must be at least {PASSWORD_MIN_CHARS} characters"),
        ));
    }
    if n > PASSWORD_MAX_CHARS {
        return Err(Error::invalid(
            "password",
            format!("must be at most {PASSWORD_MAX_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Checks a slug: 2 to 50 of `a-z`, `0-9` and `-`, starting and ending with a letter or digit.
pub fn check_slug(slug: &str) -> Result<(), Error> {
    let n = slug.chars().count();
    if !(SLUG_MIN_CHARS..=SLUG_MAX_CHARS).contains(&n) {
        return Err(Error::invalid(
            "slug",
            format!("must be {SLUG_MIN_CHARS} to {SLUG_MAX_CHARS} characters"),
        ));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if !slug.chars().all(allowed) || slug.starts_with('-') || slug.ends_with('-') {
        return Err(Error::invalid(
            "slug",
            "may hold only a-z, 0-9 and '-', and must start and end with a letter or digit",
        ));
    }
    Ok(())
}

/// Derives a slug from a name: accents dropped, lower case, runs of other characters become one `-`.
/// Returns `None` when nothing usable remains (e.g. a name made only of emoji).
///
/// ```
/// use taina_core::validate::slugify;
/// assert_eq!(slugify("Vila Tainá — Família").as_deref(), Some("vila-taina-familia"));
/// ```
pub fn slugify(name: &str) -> Option<String> {
    let mut slug = String::new();
    let mut pending_dash = false;
    for c in name.nfkd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        if c.is_ascii_alphanumeric() {
            if pending_dash && !slug.is_empty() {
                slug.push('-');
            }
            pending_dash = false;
            slug.push(c.to_ascii_lowercase());
            if slug.len() >= SLUG_MAX_CHARS {
                break;
            }
        } else {
            pending_dash = true;
        }
    }
    let slug = slug.trim_end_matches('-').to_owned();
    check_slug(&slug).ok().map(|()| slug)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email("ANA@example.org").unwrap(),
            "ana@example.org"
        );
        assert!(normalize_email("").is_err());
        assert!(normalize_email("ana@").is_err());
        assert!(normalize_email("@example.org").is_err());
        assert!(normalize_email("ana example@x.org").is_err());
        let long = format!("{}@example.org", "a".repeat(250));
        assert_eq!(normalize_email(&long).unwrap_err().field(), Some("email"));
    }

    #[test]
    fn passwords_have_bounds_in_characters() {
        assert!(check_password("short").is_err());
        assert!(check_password("12345678").is_ok());
        assert!(check_password("çççççççç").is_ok());
        assert!(check_password(&"x".repeat(1024)).is_ok());
        assert!(check_password(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn display_names_are_nfc_and_trimmed() {
        // "e" + combining acute becomes one "é".
        assert_eq!(normalize_display_name("  Jose\u{301} ").unwrap(), "José");
        assert!(normalize_display_name("   ").is_err());
        assert!(normalize_display_name("a\u{0}b").is_err());
        assert!(normalize_display_name(&"a".repeat(101)).is_err());
    }

    #[test]
    fn slugs() {
        assert!(check_slug("vila-taina").is_ok());
        assert!(check_slug("-x").is_err());
        assert!(check_slug("a").is_err());
        assert!(check_slug("Vila").is_err());
        assert_eq!(
            slugify("  Casa  da  Árvore!! ").as_deref(),
            Some("casa-da-arvore")
        );
        assert_eq!(slugify("🌳🌳"), None);
    }

    proptest! {
        #[test]
        fn email_normalisation_is_idempotent_and_case_insensitive(
            local in "[A-Za-z0-9._%+-]{1,30}", domain in "[A-Za-z0-9-]{1,20}\\.[A-Za-z]{2,6}"
        ) {
            let raw = format!("{local}@{domain}");
            if let Ok(n) = normalize_email(&raw) {
                prop_assert_eq!(normalize_email(&n).unwrap(), n.clone());
                prop_assert_eq!(normalize_email(&raw.to_uppercase()).unwrap(), n.clone());
                prop_assert_eq!(n.to_lowercase(), n);
            }
        }

        #[test]
        fn normalize_email_never_panics(s in any::<String>()) {
            let _ = normalize_email(&s);
        }

        #[test]
        fn display_names_are_stable(s in any::<String>()) {
            if let Ok(n) = normalize_display_name(&s) {
                prop_assert_eq!(normalize_display_name(&n).unwrap(), n.clone());
                prop_assert!(!n.chars().any(char::is_control));
                prop_assert!(n.chars().count() <= DISPLAY_NAME_MAX_CHARS);
            }
        }

        #[test]
        fn slugify_gives_valid_slugs(s in any::<String>()) {
            if let Some(slug) = slugify(&s) {
                prop_assert!(check_slug(&slug).is_ok());
            }
        }

        #[test]
        fn password_bounds(len in 0usize..1100) {
            let p = "p".repeat(len);
            prop_assert_eq!(check_password(&p).is_ok(), (8..=1024).contains(&len));
        }
    }
}
