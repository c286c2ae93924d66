//! What the server enforces on the values clients send, written into the OpenAPI document as JSON
//! Schema (lengths, ranges, patterns, formats), built from the rules' own constants in the pure
//! crates so that the document and the checks cannot drift apart (utoipa's attributes take only
//! literals, hence functions for `schema_with`).
//!
//! Limits counted in UTF-8 bytes (file names, emails) are stated as `maxLength` in characters with
//! the byte limit in the description: JSON Schema cannot count bytes.

use taina::core::validate;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{RefOr, Required};

/// A type whose schema is a string of one value, or of a pattern: for header parameters, which
/// `#[utoipa::path]` describes by type.
macro_rules! string_schema {
    ($name:ident, $doc:literal, enum $value:literal) => {
        string_schema!(@ $name, $doc, utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some([$value])));
    };
    ($name:ident, $doc:literal, pattern $pattern:literal) => {
        string_schema!(@ $name, $doc, utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some($pattern)));
    };
    ($name:ident, $doc:literal, format $format:literal) => {
        string_schema!(@ $name, $doc, utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::Custom($format.to_owned()))));
    };
    (@ $name:ident, $doc:literal, $schema:expr) => {
        #[doc = $doc]
        pub(crate) struct $name;
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object($schema.build()))
            }
        }
        impl utoipa::ToSchema for $name {}
    };
}
pub(crate) use string_schema;

/// No control characters (Unicode `Cc`: U+0000–U+001F, U+007F–U+009F).
const NO_CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

/// A one-line label: some character that is not a space, and no control characters.
fn label_pattern() -> String {
    format!("^[^{NO_CONTROL}]*[^{NO_CONTROL}\\s][^{NO_CONTROL}]*$")
}

/// Free text: no control characters but newlines and tabs.
fn free_text_pattern() -> String {
    r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$".to_owned()
}

/// A file or folder name: a label without `/` or `\`, and not `.` or `..`.
fn item_name_pattern() -> String {
    let bad = format!("/\\\\{NO_CONTROL}");
    format!(r"^(?!\s*\.{{1,2}}\s*$)[^{bad}]*[^{bad}\s][^{bad}]*$")
}

/// The id pattern (every id is 21 URL-safe characters).
pub const ID_PATTERN: &str = "^[A-Za-z0-9_-]{21}$";

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

fn nullable(builder: ObjectBuilder) -> ObjectBuilder {
    builder.schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

fn integer(min: i64, max: i64, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Int64,
        )))
        .minimum(Some(min as f64))
        .maximum(Some(max as f64))
        .description(Some(description))
}

fn label(max_chars: usize, what: &str) -> ObjectBuilder {
    string(&format!(
        "{what}: 1 to {max_chars} characters once trimmed, no control characters"
    ))
    .min_length(Some(1))
    .max_length(Some(max_chars))
    .pattern(Some(label_pattern()))
}

fn item_name_builder() -> ObjectBuilder {
    string(&format!(
        "A file or folder name: 1 to {} bytes of UTF-8 once trimmed; no `/`, `\\` or control \
         characters; not `.` or `..`",
        taina_ybira::name::NAME_MAX_BYTES
    ))
    .min_length(Some(1))
    .max_length(Some(taina_ybira::name::NAME_MAX_BYTES))
    .pattern(Some(item_name_pattern()))
}

fn id_builder(what: &str) -> ObjectBuilder {
    string(&format!("{what}: 21 URL-safe characters")).pattern(Some(ID_PATTERN))
}

fn place_builder() -> ObjectBuilder {
    string("`root` (my files), `community` (the community's files), or a folder's id")
        .pattern(Some("^(root|community|[A-Za-z0-9_-]{21})$"))
}

fn schema(builder: ObjectBuilder) -> RefOr<Schema> {
    RefOr::T(Schema::Object(builder.build()))
}

/// A file or folder name.
pub fn item_name() -> RefOr<Schema> {
    schema(item_name_builder())
}

/// A file or folder name, or `null` (keep it).
pub fn item_name_or_null() -> RefOr<Schema> {
    schema(nullable(item_name_builder()))
}

/// Where a file or folder goes, or `null` (the default, my files).
pub fn place_or_null() -> RefOr<Schema> {
    schema(nullable(place_builder()))
}

/// What an upload does with a taken name.
pub fn on_conflict() -> RefOr<Schema> {
    schema(
        string("`rename` (the default: `name (2).ext`) or `replace` (a new version of that file)")
            .enum_values(Some(["rename", "replace"])),
    )
}

/// A time (RFC 3339).
pub fn time() -> RefOr<Schema> {
    schema(
        string("An RFC 3339 time").format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::DateTime,
        ))),
    )
}

/// An email address.
pub fn email() -> RefOr<Schema> {
    schema(
        string(&format!(
            "An email address (at most {} bytes); compared without regard to case",
            validate::EMAIL_MAX_BYTES
        ))
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Email,
        )))
        .min_length(Some(3))
        .max_length(Some(validate::EMAIL_MAX_BYTES)),
    )
}

/// A new password.
pub fn new_password() -> RefOr<Schema> {
    schema(
        string(&format!(
            "{} to {} characters",
            validate::PASSWORD_MIN_CHARS,
            validate::PASSWORD_MAX_CHARS
        ))
        .min_length(Some(validate::PASSWORD_MIN_CHARS))
        .max_length(Some(validate::PASSWORD_MAX_CHARS)),
    )
}

/// A password being checked (any length up to the longest one could have set).
pub fn password() -> RefOr<Schema> {
    schema(
        string("The password")
            .min_length(Some(1))
            .max_length(Some(validate::PASSWORD_MAX_CHARS)),
    )
}

/// A person's display name.
pub fn display_name() -> RefOr<Schema> {
    schema(label(
        validate::DISPLAY_NAME_MAX_CHARS,
        "The name others see",
    ))
}

/// A display name, or `null` (keep it).
pub fn display_name_or_null() -> RefOr<Schema> {
    schema(nullable(label(
        validate::DISPLAY_NAME_MAX_CHARS,
        "The name others see",
    )))
}

/// An app password's name.
pub fn app_password_name() -> RefOr<Schema> {
    schema(label(
        taina::core::app_password::NAME_MAX_CHARS,
        "The device or program the app password is for",
    ))
}

/// The community's name.
pub fn community_name() -> RefOr<Schema> {
    schema(label(
        validate::COMMUNITY_NAME_MAX_CHARS,
        "The community's name",
    ))
}

/// The community's name, or `null` (keep it).
pub fn community_name_or_null() -> RefOr<Schema> {
    schema(nullable(label(
        validate::COMMUNITY_NAME_MAX_CHARS,
        "The community's name",
    )))
}

/// A community's slug, or `null` (the instance's only community).
pub fn slug_or_null() -> RefOr<Schema> {
    schema(nullable(
        string(&format!(
            "The community's slug: {} to {} of a-z, 0-9 and `-`, starting and ending with a \
             letter or digit",
            validate::SLUG_MIN_CHARS,
            validate::SLUG_MAX_CHARS
        ))
        .min_length(Some(validate::SLUG_MIN_CHARS))
        .max_length(Some(validate::SLUG_MAX_CHARS))
        .pattern(Some("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")),
    ))
}

/// A storage quota in bytes, or `null` (keep it).
pub fn quota_bytes_or_null() -> RefOr<Schema> {
    schema(
        integer(
            0,
            i64::MAX,
            "Bytes; at most the server's ceiling (`max_community_quota_bytes`)",
        )
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null])),
    )
}

/// How long an invite is valid, in hours.
pub fn invite_hours() -> RefOr<Schema> {
    let max = taina::core::invite::MAX_INVITE_LIFETIME.as_secs() / 3600;
    schema(
        integer(1, max as i64, "Hours (default a week)").default(Some(serde_json::json!(7 * 24))),
    )
}

/// How many accounts an invite may create.
pub fn invite_uses() -> RefOr<Schema> {
    schema(
        integer(
            1,
            taina::core::invite::MAX_INVITE_USES,
            "How many accounts it may create",
        )
        .default(Some(serde_json::json!(1))),
    )
}

/// An album's name.
pub fn album_name() -> RefOr<Schema> {
    schema(label(taina_jaci::album::NAME_MAX_CHARS, "The album's name"))
}

/// An album's name, or `null` (keep it).
pub fn album_name_or_null() -> RefOr<Schema> {
    schema(nullable(label(
        taina_jaci::album::NAME_MAX_CHARS,
        "The album's name",
    )))
}

fn album_description_builder() -> ObjectBuilder {
    string(&format!(
        "At most {} characters; newlines and tabs but no other control characters",
        taina_jaci::album::DESCRIPTION_MAX_CHARS
    ))
    .max_length(Some(taina_jaci::album::DESCRIPTION_MAX_CHARS))
    .pattern(Some(free_text_pattern()))
}

/// An album's description.
pub fn album_description() -> RefOr<Schema> {
    schema(album_description_builder().default(Some(serde_json::json!(""))))
}

/// An album's description, or `null` (keep it).
pub fn album_description_or_null() -> RefOr<Schema> {
    schema(nullable(album_description_builder()))
}

/// A list of photo ids.
pub fn photo_ids() -> RefOr<Schema> {
    RefOr::T(Schema::Array(
        ArrayBuilder::new()
            .items(id_builder("A photo's id"))
            .max_items(Some(taina_jaci::album::MAX_PHOTOS))
            .build(),
    ))
}

/// An album's photos in their new order: each once.
pub fn photo_order() -> RefOr<Schema> {
    RefOr::T(Schema::Array(
        ArrayBuilder::new()
            .items(id_builder("A photo's id"))
            .max_items(Some(taina_jaci::album::MAX_PHOTOS))
            .unique_items(true)
            .build(),
    ))
}

/// SHA-256 hashes to look up.
pub fn sha256_hashes() -> RefOr<Schema> {
    RefOr::T(Schema::Array(
        ArrayBuilder::new()
            .items(
                string("A SHA-256 hash, 64 hexadecimal digits").pattern(Some("^[0-9a-fA-F]{64}$")),
            )
            .max_items(Some(taina::jaci::KNOWN_BATCH))
            .build(),
    ))
}

/// A group conversation's name.
pub fn conversation_name() -> RefOr<Schema> {
    schema(label(
        taina_guara::conversation::NAME_MAX_CHARS,
        "The group's name",
    ))
}

/// A group conversation's name, or `null`.
pub fn conversation_name_or_null() -> RefOr<Schema> {
    schema(nullable(label(
        taina_guara::conversation::NAME_MAX_CHARS,
        "The group's name (required for a group, ignored for a direct conversation)",
    )))
}

/// User ids of people to add to a conversation.
pub fn participant_ids() -> RefOr<Schema> {
    RefOr::T(Schema::Array(
        ArrayBuilder::new()
            .items(id_builder("A user's id"))
            .max_items(Some(taina_guara::conversation::MAX_PARTICIPANTS))
            .build(),
    ))
}

/// A message's text.
pub fn message_text() -> RefOr<Schema> {
    schema(
        string(&format!(
            "At most {} characters; newlines and tabs but no other control characters; \
             required (not blank) unless a file is attached",
            taina_guara::message::TEXT_MAX_CHARS
        ))
        .max_length(Some(taina_guara::message::TEXT_MAX_CHARS))
        .pattern(Some(free_text_pattern())),
    )
}

/// Text with some character that is not a space, and no control characters but newlines and tabs.
pub fn non_blank_text_pattern() -> String {
    format!(r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*[^{NO_CONTROL}\s][^\x00-\x08\x0b-\x1f\x7f-\x9f]*$")
}

/// A message's new text (an edit keeps the attachment, so some text is required).
pub fn edited_text() -> RefOr<Schema> {
    schema(
        string(&format!(
            "1 to {} characters once trimmed; newlines and tabs but no other control characters",
            taina_guara::message::TEXT_MAX_CHARS
        ))
        .min_length(Some(1))
        .max_length(Some(taina_guara::message::TEXT_MAX_CHARS))
        .pattern(Some(non_blank_text_pattern())),
    )
}

/// A message type hint, or `null`.
pub fn message_type_or_null() -> RefOr<Schema> {
    let mut values: Vec<serde_json::Value> = taina_guara::message::MESSAGE_TYPES
        .iter()
        .map(|t| serde_json::json!(t))
        .collect();
    values.push(serde_json::Value::Null);
    schema(
        nullable(string(
            "A hint: the attachment's own type decides how the message is shown",
        ))
        .enum_values(Some(values)),
    )
}

/// A client's idempotency key, or `null`.
pub fn client_key_or_null() -> RefOr<Schema> {
    schema(nullable(
        string(
            "The client's own key for the message: sending again with it answers the same message",
        )
        .min_length(Some(1))
        .max_length(Some(taina_guara::message::CLIENT_KEY_MAX_CHARS))
        .pattern(Some("^[A-Za-z0-9._:-]+$")),
    ))
}

/// An id in a body, or `null`.
pub fn id_or_null() -> RefOr<Schema> {
    schema(nullable(id_builder("An id")))
}

/// An id in a body.
pub fn id() -> RefOr<Schema> {
    schema(id_builder("An id"))
}

/// One emoji.
pub fn emoji() -> RefOr<Schema> {
    schema(
        string(&format!(
            "One emoji: 1 to {} characters, no spaces or control characters",
            taina_guara::message::REACTION_MAX_CHARS
        ))
        .min_length(Some(1))
        .max_length(Some(taina_guara::message::REACTION_MAX_CHARS))
        .pattern(Some(format!(r"^[^{NO_CONTROL}\s]+$"))),
    )
}

/// A search query.
pub fn search_query() -> RefOr<Schema> {
    schema(
        string(&format!(
            "Words to find (at most {} characters; the words are its runs of letters and digits, and a search of none finds nothing)",
            taina_guara::search::QUERY_MAX_CHARS
        ))
        .min_length(Some(1))
        .max_length(Some(taina_guara::search::QUERY_MAX_CHARS)),
    )
}

/// A `seq` (messages are numbered from 1 in each conversation).
pub fn seq() -> RefOr<Schema> {
    schema(integer(0, i64::MAX, "A message's `seq`"))
}

/// A page size.
fn limit(max: u32, default: u32) -> RefOr<Schema> {
    schema(
        integer(
            1,
            i64::from(max),
            &format!("How many to answer (default {default}, at most {max})"),
        )
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Int32,
        )))
        .default(Some(serde_json::json!(default))),
    )
}

/// A page size of a folder listing.
pub fn folder_limit() -> RefOr<Schema> {
    limit(
        taina_ybira::listing::MAX_PAGE_SIZE,
        taina_ybira::listing::DEFAULT_PAGE_SIZE,
    )
}

/// A page size of the timeline.
pub fn timeline_limit() -> RefOr<Schema> {
    limit(
        taina_jaci::timeline::MAX_PAGE_SIZE,
        taina_jaci::timeline::DEFAULT_PAGE_SIZE,
    )
}

/// A page size of a conversation's history.
pub fn history_limit() -> RefOr<Schema> {
    limit(
        taina_guara::message::MAX_PAGE_SIZE,
        taina_guara::message::DEFAULT_PAGE_SIZE,
    )
}

/// An opaque cursor the server gave out.
pub fn cursor() -> RefOr<Schema> {
    schema(
        string("The `next_cursor` of the previous page, as it was answered")
            .min_length(Some(1))
            .max_length(Some(512))
            .pattern(Some("^[A-Za-z0-9_=-]+$")),
    )
}

/// The viewer's offset from UTC, in minutes.
pub fn utc_offset() -> RefOr<Schema> {
    schema(integer(
        i64::from(*taina_jaci::timeline::UTC_OFFSETS.start()),
        i64::from(*taina_jaci::timeline::UTC_OFFSETS.end()),
        "The viewer's offset from UTC in minutes, for date headings (JavaScript's \
         `-new Date().getTimezoneOffset()`)",
    ))
}

/// Makes a field of a body required in the document (for fields with a serde default).
#[allow(dead_code)]
pub fn required() -> Required {
    Required::True
}
