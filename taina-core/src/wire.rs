//! The API's wire protocol, defined once for the server and its clients: the error shape
//! `{"error": {"code", "message", "field"?}}` with its stable codes ([`ErrorBody`],
//! [`ErrorCode`]), the list shape `{"items": [...], "next_cursor"}` ([`List`]), and the frames of
//! the realtime socket ([`ClientFrame`] from the client, [`ServerFrame`] for the server's own
//! frames besides events).
//!
//! Which HTTP status an error answers stays with the server; which code an [`ErrorKind`] shows is
//! decided here ([`ErrorCode::from`]), so a client reads back the very codes the server sends.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ErrorKind;
use crate::id::ConversationId;

/// The stable machine-readable code of an error answer.
///
/// On the wire it is a snake_case string (`not_found`, `quota_exceeded`, ...); a code this
/// version does not know (from a newer server) reads as [`ErrorCode::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ErrorCode {
    /// Nothing with that id that the caller may see (404).
    NotFound,
    /// Not signed in, or the session has ended (401).
    Unauthenticated,
    /// Not allowed (403).
    Forbidden,
    /// The request collides with the current state (409).
    Conflict,
    /// The input is malformed or breaks a rule (422).
    Invalid,
    /// The community's storage quota would be exceeded (413).
    QuotaExceeded,
    /// The input is larger than allowed (413).
    TooLarge,
    /// Too many attempts; try again later (429).
    RateLimited,
    /// The request does not parse: bad JSON, bad multipart, a bad query or header (400).
    BadRequest,
    /// The body is not of the type the operation takes (415).
    UnsupportedMediaType,
    /// A resumable upload's piece does not match its `Upload-Checksum` and was dropped (460,
    /// tus's "checksum mismatch"): send it again.
    ChecksumMismatch,
    /// The server's disk is full; nothing was stored (507).
    StorageFull,
    /// Something failed inside Tainá; details are in the server's log (500).
    Internal,
    /// A code this version does not know, or an answer without the error shape (never sent by
    /// the server).
    Unknown,
}

impl ErrorCode {
    /// Every code the server sends, in a stable order.
    pub const SENT: [ErrorCode; 13] = [
        ErrorCode::NotFound,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::Conflict,
        ErrorCode::Invalid,
        ErrorCode::QuotaExceeded,
        ErrorCode::TooLarge,
        ErrorCode::RateLimited,
        ErrorCode::BadRequest,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::ChecksumMismatch,
        ErrorCode::StorageFull,
        ErrorCode::Internal,
    ];

    /// The code as it is written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Invalid => "invalid",
            ErrorCode::QuotaExceeded => "quota_exceeded",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::ChecksumMismatch => "checksum_mismatch",
            ErrorCode::StorageFull => "storage_full",
            ErrorCode::Internal => "internal",
            ErrorCode::Unknown => "unknown",
        }
    }

    /// The code written `s`; [`ErrorCode::Unknown`] for one this version does not know.
    pub fn parse(s: &str) -> ErrorCode {
        ErrorCode::SENT
            .into_iter()
            .find(|code| code.as_str() == s)
            .unwrap_or(ErrorCode::Unknown)
    }
}

impl From<ErrorKind> for ErrorCode {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::NotFound => ErrorCode::NotFound,
            ErrorKind::Unauthenticated => ErrorCode::Unauthenticated,
            ErrorKind::Forbidden => ErrorCode::Forbidden,
            ErrorKind::Conflict => ErrorCode::Conflict,
            ErrorKind::Invalid => ErrorCode::Invalid,
            ErrorKind::QuotaExceeded => ErrorCode::QuotaExceeded,
            ErrorKind::TooLarge => ErrorCode::TooLarge,
            ErrorKind::RateLimited => ErrorCode::RateLimited,
            ErrorKind::StorageFull => ErrorCode::StorageFull,
            ErrorKind::Internal => ErrorCode::Internal,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(ErrorCode::parse(&s))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(ErrorCode::SENT.map(ErrorCode::as_str)))
            .description(Some("A stable machine-readable error code"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ErrorCode {}

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// A stable machine-readable code.
    pub code: ErrorCode,
    /// What is wrong, in words for the person.
    pub message: String,
    /// The input field at fault, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ErrorBody {
    /// An error answer.
    pub fn new(code: ErrorCode, message: impl Into<String>, field: Option<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code,
                message: message.into(),
                field,
            },
        }
    }
}

/// A list: `{"items": [...], "next_cursor": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct List<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass back as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    /// A list that is whole.
    pub fn all(items: Vec<T>) -> List<T> {
        List {
            items,
            next_cursor: None,
        }
    }
}

/// A frame the client sends on the realtime socket: `{"type": "typing", "conversation_id",
/// "typing": true|false}`, `{"type": "idle", "idle": true|false}` or `{"type": "ping"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// I am typing in a conversation, or stopped.
    Typing {
        /// The conversation.
        conversation_id: ConversationId,
        /// Whether I am typing.
        typing: bool,
    },
    /// I am away from the app (`true`) or back (`false`).
    Idle {
        /// Whether I am idle.
        idle: bool,
    },
    /// Are you there? (answered [`ServerFrame::Pong`]).
    Ping,
}

/// The server's own frames on the realtime socket, besides the events it pushes
/// (`{"type": "<event name>", "data": {...}}`): `{"type": "pong"}`, `{"type": "resync"}` and
/// `{"type": "error", "data": {"message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The answer to [`ClientFrame::Ping`].
    Pong,
    /// The client fell behind: events were dropped; catch up through the API.
    Resync,
    /// A client frame was refused; the socket stays open.
    Error {
        /// What is wrong, for the person.
        message: String,
    },
}

impl ServerFrame {
    /// The frame as the text the socket carries.
    pub fn to_text(&self) -> String {
        // A unit variant or one string field cannot fail to serialize.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl ClientFrame {
    /// The frame as the text the socket carries.
    pub fn to_text(&self) -> String {
        // Ids, booleans and tags cannot fail to serialize.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_has_the_code_clients_match_on() {
        let pairs = [
            (ErrorKind::NotFound, "not_found"),
            (ErrorKind::Unauthenticated, "unauthenticated"),
            (ErrorKind::Forbidden, "forbidden"),
            (ErrorKind::Conflict, "conflict"),
            (ErrorKind::Invalid, "invalid"),
            (ErrorKind::QuotaExceeded, "quota_exceeded"),
            (ErrorKind::TooLarge, "too_large"),
            (ErrorKind::RateLimited, "rate_limited"),
            (ErrorKind::StorageFull, "storage_full"),
            (ErrorKind::Internal, "internal"),
        ];
        for (kind, code) in pairs {
            assert_eq!(ErrorCode::from(kind).as_str(), code);
        }
    }

    #[test]
    fn codes_read_back_as_written_and_unknown_ones_do_not_fail() {
        for code in ErrorCode::SENT {
            assert_eq!(ErrorCode::parse(code.as_str()), code);
            let text = serde_json::to_string(&code).unwrap();
            assert_eq!(serde_json::from_str::<ErrorCode>(&text).unwrap(), code);
        }
        assert_eq!(
            serde_json::from_str::<ErrorCode>("\"payment_required\"").unwrap(),
            ErrorCode::Unknown
        );
    }

    #[test]
    fn the_error_shape_omits_a_missing_field_and_reads_one_without_it() {
        let body = ErrorBody::new(ErrorCode::QuotaExceeded, "full", None);
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"error": {"code": "quota_exceeded", "message": "full"}})
        );
        let with_field = ErrorBody::new(ErrorCode::Invalid, "bad", Some("email".into()));
        assert_eq!(
            serde_json::to_value(&with_field).unwrap(),
            json!({"error": {"code": "invalid", "message": "bad", "field": "email"}})
        );
        let read: ErrorBody =
            serde_json::from_value(json!({"error": {"code": "not_found", "message": "x"}}))
                .unwrap();
        assert_eq!(read, ErrorBody::new(ErrorCode::NotFound, "x", None));
    }

    #[test]
    fn a_list_always_says_whether_there_is_more() {
        let list = List::all(vec![1, 2]);
        assert_eq!(
            serde_json::to_value(&list).unwrap(),
            json!({"items": [1, 2], "next_cursor": null})
        );
    }

    #[test]
    fn socket_frames_keep_their_shapes() {
        let id = ConversationId::from_random([7; crate::id::ID_LEN]);
        let typing = ClientFrame::Typing {
            conversation_id: id.clone(),
            typing: true,
        };
        assert_eq!(
            serde_json::to_value(&typing).unwrap(),
            json!({"type": "typing", "conversation_id": id.as_str(), "typing": true})
        );
        assert_eq!(
            serde_json::from_str::<ClientFrame>(&typing.to_text()).unwrap(),
            typing
        );
        assert_eq!(ClientFrame::Ping.to_text(), r#"{"type":"ping"}"#);
        assert_eq!(
            serde_json::from_str::<ClientFrame>(r#"{"type":"idle","idle":false}"#).unwrap(),
            ClientFrame::Idle { idle: false }
        );
        assert!(
            serde_json::from_str::<ClientFrame>(
                r#"{"type":"typing","conversation_id":"x","typing":true}"#
            )
            .is_err()
        );
        assert_eq!(ServerFrame::Pong.to_text(), r#"{"type":"pong"}"#);
        assert_eq!(ServerFrame::Resync.to_text(), r#"{"type":"resync"}"#);
        assert_eq!(
            serde_json::to_value(ServerFrame::Error {
                message: "slow down".into()
            })
            .unwrap(),
            json!({"type": "error", "data": {"message": "slow down"}})
        );
    }
}
