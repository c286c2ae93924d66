//! The domain error: every failure a service reports, with a kind a front end maps to a status.

use std::time::Duration;

/// What kind of failure this is; front ends map kinds to statuses (404, 401, 403, 409, 422, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The thing does not exist, or the caller may not know that it does.
    NotFound,
    /// No valid credentials.
    Unauthenticated,
    /// Authenticated, but not allowed.
    Forbidden,
    /// The request collides with the current state (a duplicate, the last admin, ...).
    Conflict,
    /// The input is malformed or breaks a rule.
    Invalid,
    /// The community's storage quota would be exceeded.
    QuotaExceeded,
    /// The input is larger than allowed.
    TooLarge,
    /// Too many attempts; try again later.
    RateLimited,
    /// The server's disk (or its database's) is full: nothing was stored.
    StorageFull,
    /// Something failed inside Tainá; details are logged, not shown.
    Internal,
}

/// A domain error. Its `Display` is safe to show to the person who caused it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The thing does not exist, or the caller may not know that it does.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, e.g. "user".
        what: &'static str,
    },
    /// No valid credentials.
    #[error("{reason}")]
    Unauthenticated {
        /// Why, in words for the person.
        reason: &'static str,
    },
    /// Authenticated, but not allowed.
    #[error("{reason}")]
    Forbidden {
        /// Why, in words for the person.
        reason: &'static str,
    },
    /// The request collides with the current state.
    #[error("{reason}")]
    Conflict {
        /// Why, in words for the person.
        reason: String,
    },
    /// A field is malformed or breaks a rule.
    #[error("{field}: {reason}")]
    Invalid {
        /// The offending field, as named in the API.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The community's storage quota would be exceeded. The message leaves out the bytes still
    /// available: with deduplication, the community's use tells whether a file exists anywhere in
    /// it, so only admins see it (`GET /storage`).
    #[error("storage quota exceeded: {needed_bytes} bytes needed")]
    QuotaExceeded {
        /// Bytes the operation needs.
        needed_bytes: i64,
        /// Bytes still free.
        available_bytes: i64,
    },
    /// The input is larger than allowed.
    #[error("{what} is larger than the limit of {limit_bytes} bytes")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The limit.
        limit_bytes: u64,
    },
    /// Too many attempts.
    #[error("too many attempts; try again in {} seconds", retry_after.as_secs().max(1))]
    RateLimited {
        /// How long to wait.
        retry_after: Duration,
    },
    /// The server's disk (or its database's) is full: the operation stored nothing. Unlike
    /// [`Error::QuotaExceeded`] this is the machine's limit, not the community's, so only an
    /// operator can fix it.
    #[error("the server's storage is full; nothing was stored (tell the server's operator)")]
    StorageFull,
    /// Something failed inside Tainá.
    #[error("internal error")]
    Internal,
}

impl Error {
    /// The kind, for mapping to a status.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Unauthenticated { .. } => ErrorKind::Unauthenticated,
            Error::Forbidden { .. } => ErrorKind::Forbidden,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::Invalid { .. } => ErrorKind::Invalid,
            Error::QuotaExceeded { .. } => ErrorKind::QuotaExceeded,
            Error::TooLarge { .. } => ErrorKind::TooLarge,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::StorageFull => ErrorKind::StorageFull,
            Error::Internal => ErrorKind::Internal,
        }
    }

    /// An invalid-input error for `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// A not-found error for `what`.
    pub fn not_found(what: &'static str) -> Self {
        Error::NotFound { what }
    }

    /// A conflict with the current state.
    pub fn conflict(reason: impl Into<String>) -> Self {
        Error::Conflict {
            reason: reason.into(),
        }
    }

    /// The field at fault, for invalid-input errors.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// A result with the domain error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
