//! What a client needs to know of the server's rules before it asks (`GET /api/v1/limits`): the
//! lengths and sizes it will be held to, page sizes, and the timings of typing indicators. Every
//! figure is the pure crates' constant (or this instance's configuration), so a client never
//! copies a rule as a literal.

use serde::Serialize;

use crate::Taina;

/// The rules a client shapes its forms, uploads and pages by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Limits {
    /// Fewest characters in a password.
    pub password_min_chars: usize,
    /// Most characters in a password.
    pub password_max_chars: usize,
    /// Most bytes in an email address.
    pub email_max_bytes: usize,
    /// Most characters in a person's display name.
    pub display_name_max_chars: usize,
    /// Most characters in the community's name.
    pub community_name_max_chars: usize,
    /// Longest app password name, in characters.
    pub app_password_name_max_chars: usize,
    /// The length of every id.
    pub id_chars: usize,
    /// Most bytes (UTF-8) in a file or folder name.
    pub file_name_max_bytes: usize,
    /// Most bytes in one file (this instance's setting).
    pub upload_max_bytes: u64,
    /// Files larger than this are best sent as resumable (tus) uploads.
    pub resumable_threshold_bytes: u64,
    /// Unfinished resumable uploads one person may have open (this instance's setting).
    pub resumable_uploads_per_person: u32,
    /// Most characters in a message.
    pub message_max_chars: usize,
    /// Most bytes in a message's attachment.
    pub attachment_max_bytes: u64,
    /// Most characters in a reaction.
    pub reaction_max_chars: usize,
    /// Most people in a conversation.
    pub conversation_max_participants: usize,
    /// Most characters in a group's name.
    pub conversation_name_max_chars: usize,
    /// Most characters in an album's name.
    pub album_name_max_chars: usize,
    /// Most characters in an album's description.
    pub album_description_max_chars: usize,
    /// Most photos in an album.
    pub album_max_photos: usize,
    /// How often a client that keeps typing refreshes its indicator, in milliseconds.
    pub typing_refresh_ms: i64,
    /// How long after the last keystroke a client says it stopped, in milliseconds.
    pub typing_stop_after_ms: i64,
    /// How long an indicator lasts without a refresh, in milliseconds.
    pub typing_expires_ms: i64,
    /// Page sizes of the lists that are paged.
    pub pages: PageSizes,
}

/// The page sizes of one list: what a page holds when the client does not say, and the most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PageSize {
    /// Items per page when `limit` is left out.
    pub default: u32,
    /// The largest `limit`.
    pub max: u32,
}

/// Page sizes per list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PageSizes {
    /// A folder's listing.
    pub folder: PageSize,
    /// The photo timeline.
    pub timeline: PageSize,
    /// A conversation's history.
    pub history: PageSize,
    /// Message search results (one page).
    pub message_search: u32,
}

impl Taina {
    /// The rules clients shape their requests by.
    pub fn limits(&self) -> Limits {
        use taina_core::validate;
        let config = self.config();
        Limits {
            password_min_chars: validate::PASSWORD_MIN_CHARS,
            password_max_chars: validate::PASSWORD_MAX_CHARS,
            email_max_bytes: validate::EMAIL_MAX_BYTES,
            display_name_max_chars: validate::DISPLAY_NAME_MAX_CHARS,
            community_name_max_chars: validate::COMMUNITY_NAME_MAX_CHARS,
            app_password_name_max_chars: taina_core::app_password::NAME_MAX_CHARS,
            id_chars: taina_core::id::ID_LEN,
            file_name_max_bytes: taina_ybira::name::NAME_MAX_BYTES,
            upload_max_bytes: config.max_upload_bytes,
            resumable_threshold_bytes: taina_ybira::upload::RESUMABLE_THRESHOLD_BYTES,
            resumable_uploads_per_person: config.resumable_uploads_per_user,
            message_max_chars: taina_guara::message::TEXT_MAX_CHARS,
            attachment_max_bytes: taina_guara::message::ATTACHMENT_MAX_BYTES,
            reaction_max_chars: taina_guara::message::REACTION_MAX_CHARS,
            conversation_max_participants: taina_guara::conversation::MAX_PARTICIPANTS,
            conversation_name_max_chars: taina_guara::conversation::NAME_MAX_CHARS,
            album_name_max_chars: taina_jaci::album::NAME_MAX_CHARS,
            album_description_max_chars: taina_jaci::album::DESCRIPTION_MAX_CHARS,
            album_max_photos: taina_jaci::album::MAX_PHOTOS,
            typing_refresh_ms: taina_guara::typing::REFRESH_MILLIS,
            typing_stop_after_ms: taina_guara::typing::STOP_AFTER_MILLIS,
            typing_expires_ms: taina_guara::typing::TTL_MILLIS,
            pages: PageSizes {
                folder: PageSize {
                    default: taina_ybira::listing::DEFAULT_PAGE_SIZE,
                    max: taina_ybira::listing::MAX_PAGE_SIZE,
                },
                timeline: PageSize {
                    default: taina_jaci::timeline::DEFAULT_PAGE_SIZE,
                    max: taina_jaci::timeline::MAX_PAGE_SIZE,
                },
                history: PageSize {
                    default: taina_guara::message::DEFAULT_PAGE_SIZE,
                    max: taina_guara::message::MAX_PAGE_SIZE,
                },
                message_search: taina_guara::search::MAX_RESULTS,
            },
        }
    }
}
