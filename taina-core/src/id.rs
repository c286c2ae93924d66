//! Identifiers: 21-character nanoids over the URL-safe alphabet, one distinct type per kind of thing.
//!
//! Ids are generated from random bytes the caller supplies (the shell reads them from the operating
//! system), so this crate stays free of randomness. Parsing accepts exactly 21 characters of the
//! alphabet `A-Za-z0-9_-` and nothing else.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The URL-safe nanoid alphabet (64 symbols, so each random byte maps uniformly through its low 6 bits).
pub const ALPHABET: &[u8; 64] = b"useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict";

/// The length of every id.
pub const ID_LEN: usize = 21;

/// Why a string is not an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The string does not have exactly [`ID_LEN`] characters.
    #[error("an id has exactly 21 characters")]
    Length,
    /// The string holds a character outside the URL-safe alphabet.
    #[error("an id holds only A-Z, a-z, 0-9, '_' and '-'")]
    Character,
}

/// Checks that `s` is a well-formed id.
pub fn check_id(s: &str) -> Result<(), IdError> {
    if s.len() != ID_LEN {
        return Err(IdError::Length);
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(IdError::Character);
    }
    Ok(())
}

/// Turns 21 random bytes into an id string.
pub fn encode_random(bytes: [u8; ID_LEN]) -> String {
    bytes
        .iter()
        .map(|b| ALPHABET[(b & 63) as usize] as char)
        .collect()
}

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Builds an id from 21 random bytes (the shell supplies them).
            pub fn from_random(bytes: [u8; ID_LEN]) -> Self {
                Self(encode_random(bytes))
            }

            /// Parses an id, rejecting anything but 21 URL-safe characters.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                check_id(s)?;
                Ok(Self(s.to_owned()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some("^[A-Za-z0-9_-]{21}$"))
                    .description(Some(concat!("A ", stringify!($name), ": 21 URL-safe characters")))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        #[cfg(feature = "uniffi")]
        uniffi::custom_type!($name, String, {
            lower: |id| id.0,
            try_lift: |s| Ok($name::parse(&s)?),
        });

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

define_id!(
    /// A community (one Tainá tenant: a family, a neighbourhood, a collective).
    CommunityId
);
define_id!(
    /// A person's account inside one community.
    UserId
);
define_id!(
    /// A sign-in session (its public id; the secret token is never stored).
    SessionId
);
define_id!(
    /// An app password (its public id; the password itself is never stored).
    AppPasswordId
);
define_id!(
    /// An invitation to join a community.
    InviteId
);
define_id!(
    /// A file or folder in Ybira (both live in one tree, so they share one id space).
    ItemId
);
define_id!(
    /// Stored content in Ybira: one per distinct file content in a community (deduplicated).
    BlobId
);
define_id!(
    /// A previous version of a Ybira file's content.
    VersionId
);
define_id!(
    /// A share of a Ybira file or folder.
    ShareId
);
define_id!(
    /// An upload in progress.
    UploadId
);
define_id!(
    /// A photo in Jaci.
    PhotoId
);
define_id!(
    /// A photo album in Jaci.
    AlbumId
);
define_id!(
    /// A conversation in Guará.
    ConversationId
);
define_id!(
    /// A message in Guará.
    MessageId
);
define_id!(
    /// A background job.
    JobId
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn random_ids_always_parse(bytes in proptest::array::uniform21(any::<u8>())) {
            let id = UserId::from_random(bytes);
            prop_assert_eq!(id.as_str().len(), ID_LEN);
            prop_assert_eq!(UserId::parse(id.as_str()), Ok(id.clone()));
        }

        #[test]
        fn wrong_lengths_are_rejected(s in "[A-Za-z0-9_-]{0,40}") {
            prop_assume!(s.len() != ID_LEN);
            prop_assert_eq!(ItemId::parse(&s), Err(IdError::Length));
        }

        #[test]
        fn foreign_characters_are_rejected(prefix in "[A-Za-z0-9]{20}", c in "[^A-Za-z0-9_-]") {
            let s = format!("{prefix}{c}");
            prop_assert!(CommunityId::parse(&s).is_err());
        }
    }

    #[test]
    fn path_traversal_is_not_an_id() {
        assert!(ItemId::parse("../../../../etc/passwd").is_err());
        assert!(ItemId::parse("aaaaaaaaaaaaaaaaaaa/.").is_err());
    }

    #[test]
    fn alphabet_has_64_distinct_symbols() {
        let mut seen = std::collections::HashSet::new();
        for b in ALPHABET {
            assert!(seen.insert(*b));
            assert!(check_id(&String::from(*b as char).repeat(21)).is_ok());
        }
    }

    #[test]
    fn ids_round_trip_through_json() {
        let id = MessageId::from_random([7; 21]);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<MessageId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<MessageId>("\"short\"").is_err());
    }
}
