//! Guará over HTTP: conversations, participants, messages, reactions, read state, attachments and
//! search.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use taina::core::{ConversationId, Error as DomainError, ItemId, MessageId, UserId};
use taina::guara::{
    self, Conversation, ConversationAction, ConversationSummary, Message, NewMessage, SearchHit,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::constraints;
use super::{Body, List, PathId, Query, path_id};
use crate::auth::Auth;
use crate::download::{Plan, plan, respond};
use crate::openapi::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(conversations, create_conversation))
        .routes(routes!(direct))
        .routes(routes!(conversation, rename))
        .routes(routes!(add_participants))
        .routes(routes!(remove_participant))
        .routes(routes!(history, send))
        .routes(routes!(mark_read))
        .routes(routes!(edit, delete_message))
        .routes(routes!(react))
        .routes(routes!(unreact))
        .routes(routes!(attachment))
        .routes(routes!(search))
}

fn user_ids(raw: &[String]) -> Result<Vec<UserId>, ApiError> {
    raw.iter()
        .map(|id| UserId::parse(id).map_err(|_| ApiError::from(DomainError::not_found("member"))))
        .collect()
}

/// My conversations, with each one's last message and unread count.
#[utoipa::path(get, path = "/conversations", tag = "messages",
    responses((status = 200, description = "My conversations", body = List<ConversationSummary>)))]
async fn conversations(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Response, ApiError> {
    let list = state.taina.guara().conversations(&actor).await?;
    Ok(axum::Json(List::all(list)).into_response())
}

/// Direct (two people) or group.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum ConversationType {
    /// Me and one other person.
    Direct,
    /// A named group.
    Group,
}

/// A new conversation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewConversation {
    #[serde(rename = "type")]
    kind: ConversationType,
    /// A group's name (ignored for direct conversations).
    #[schema(schema_with = constraints::conversation_name_or_null)]
    name: Option<String>,
    /// The others in it, by user id (exactly one for a direct conversation).
    #[serde(default)]
    #[schema(schema_with = constraints::participant_ids)]
    participant_ids: Vec<String>,
}

/// Starts a group, or a direct conversation (the existing one if there is one).
#[utoipa::path(post, path = "/conversations", tag = "messages", request_body = NewConversation,
    responses(
        (status = 201, description = "The conversation", body = Conversation),
        (status = 404, description = "A participant names no member", body = ErrorBody),
    ))]
async fn create_conversation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Body(body): Body<NewConversation>,
) -> Result<Response, ApiError> {
    let guara = state.taina.guara();
    let others = user_ids(&body.participant_ids)?;
    let conversation = match body.kind {
        ConversationType::Direct => {
            let other = guara::direct_other(&others)?;
            guara.direct(&actor, other).await?
        }
        ConversationType::Group => {
            let name = body.name.unwrap_or_default();
            guara.create_group(&actor, &name, &others).await?
        }
    };
    Ok((StatusCode::CREATED, axum::Json(conversation)).into_response())
}

/// My direct conversation with someone, started if there is none yet.
#[utoipa::path(post, path = "/conversations/direct/{user_id}", tag = "messages",
    params(("user_id" = inline(taina::core::UserId), Path, description = "The other person's user id")),
    responses(
        (status = 422, description = "The user id is mine: a direct conversation needs someone else", body = ErrorBody),(status = 200, description = "The conversation", body = Conversation)))]
async fn direct(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(other): PathId<UserId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(state.taina.guara().direct(&actor, &other).await?).into_response())
}

/// A conversation and its participants.
#[utoipa::path(get, path = "/conversations/{id}", tag = "messages",
    params(("id" = inline(taina::core::ConversationId), Path, description = "The conversation's id")),
    responses((status = 200, description = "The conversation", body = Conversation)))]
async fn conversation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(state.taina.guara().conversation(&actor, &id).await?).into_response())
}

/// A group's new name.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Rename {
    #[schema(schema_with = constraints::conversation_name)]
    name: String,
}

/// Renames a group (its admins).
#[utoipa::path(patch, path = "/conversations/{id}", tag = "messages", request_body = Rename,
    params(("id" = inline(taina::core::ConversationId), Path, description = "The conversation's id")),
    responses((status = 409, description = "A direct conversation: it always has the same two people and no name", body = ErrorBody), (status = 200, description = "The conversation, renamed", body = Conversation)))]
async fn rename(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
    Body(body): Body<Rename>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(state.taina.guara().rename(&actor, &id, &body.name).await?).into_response())
}

/// People to add, by user id.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Participants {
    #[schema(schema_with = constraints::participant_ids)]
    participant_ids: Vec<String>,
}

/// Adds people to a group (its admins); those already in it are skipped.
#[utoipa::path(post, path = "/conversations/{id}/participants", tag = "messages",
    request_body = Participants,
    params(("id" = inline(taina::core::ConversationId), Path, description = "The conversation's id")),
    responses((status = 409, description = "A direct conversation: it always has the same two people and no name", body = ErrorBody), (status = 200, description = "The conversation, with them", body = Conversation)))]
async fn add_participants(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
    Body(body): Body<Participants>,
) -> Result<Response, ApiError> {
    let users = user_ids(&body.participant_ids)?;
    let conversation = state
        .taina
        .guara()
        .add_participants(&actor, &id, &users)
        .await?;
    Ok(axum::Json(conversation).into_response())
}

/// Removes someone from a group (its admins), or leaves it when it is me.
#[utoipa::path(delete, path = "/conversations/{id}/participants/{user_id}", tag = "messages",
    params(
        ("id" = inline(taina::core::ConversationId), Path, description = "The conversation's id"),
        ("user_id" = inline(taina::core::UserId), Path, description = "The participant's user id (mine to leave)"),
    ),
    responses((status = 409, description = "A direct conversation: it always has the same two people and no name", body = ErrorBody), (status = 204, description = "Removed, or left")))]
async fn remove_participant(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = path_id::<ConversationId>(&id)?;
    let user = path_id::<UserId>(&user_id)?;
    let guara = state.taina.guara();
    match guara::departure(&actor.user_id, &user) {
        ConversationAction::Leave => guara.leave(&actor, &id).await?,
        _ => {
            guara.remove_participant(&actor, &id, &user).await?;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Which page of a conversation's history.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct HistoryQuery {
    /// Older than this `seq` (the `next_cursor` of the previous page).
    #[param(schema_with = constraints::seq)]
    cursor: Option<i64>,
    /// Newer than this `seq` (catching up); not with `cursor`.
    #[param(schema_with = constraints::seq)]
    after: Option<i64>,
    /// How many messages to answer (default 50, at most 200).
    #[param(schema_with = constraints::history_limit)]
    limit: Option<u32>,
}

/// A page of a conversation's messages, oldest first: the latest, before `cursor` or after `after`.
#[utoipa::path(get, path = "/conversations/{id}/messages", tag = "messages",
    params(("id" = inline(taina::core::ConversationId), Path, description = "The conversation's id"), HistoryQuery),
    responses(
        (status = 200, description = "Messages in `seq` order; `next_cursor` is the `seq` to pass on in the same direction", body = List<Message>),
        (status = 400, description = "A query parameter does not parse", body = ErrorBody),
        (status = 422, description = "Both `cursor` and `after`", body = ErrorBody),
    ))]
async fn history(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
    Query(query): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    let position = guara::position(query.cursor, query.after)?;
    let page = state
        .taina
        .guara()
        .history(&actor, &id, position, query.limit)
        .await?;
    let next_cursor = guara::next_cursor(position, &page);
    Ok(axum::Json(List {
        items: page.messages,
        next_cursor: next_cursor.map(|s| s.to_string()),
    })
    .into_response())
}

/// A new message.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SendBody {
    /// The text (may be empty with an attachment).
    #[serde(default)]
    #[schema(schema_with = constraints::message_text)]
    content: String,
    /// `text`, `image`, `video`, `audio` or `file`: a hint; the attachment's own type decides.
    #[schema(schema_with = constraints::message_type_or_null)]
    message_type: Option<String>,
    /// A file I may read, to attach.
    #[schema(schema_with = constraints::id_or_null)]
    file_id: Option<String>,
    /// The id of the message this answers.
    #[schema(schema_with = constraints::id_or_null)]
    reply_to: Option<String>,
    /// The client's own key for the message: sending again with it answers the same message.
    #[schema(schema_with = constraints::client_key_or_null)]
    client_id: Option<String>,
}

/// Sends a message, with text and/or an attached file.
#[utoipa::path(post, path = "/conversations/{id}/messages", tag = "messages", request_body = SendBody,
    params(("id" = inline(taina::core::ConversationId), Path, description = "The conversation's id")),
    responses(
        (status = 201, description = "The message", body = Message),
        (status = 413, description = "The attachment is larger than messages allow", body = ErrorBody),
    ))]
async fn send(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
    Body(body): Body<SendBody>,
) -> Result<Response, ApiError> {
    if let Some(kind) = body.message_type.as_deref() {
        guara::check_message_type(kind)?;
    }
    let attachment = body
        .file_id
        .as_deref()
        .map(|f| ItemId::parse(f).map_err(|_| ApiError::from(DomainError::not_found("file"))))
        .transpose()?;
    let reply_to = body
        .reply_to
        .as_deref()
        .map(|m| MessageId::parse(m).map_err(|_| ApiError::from(DomainError::not_found("message"))))
        .transpose()?;
    let message = state
        .taina
        .guara()
        .send(
            &actor,
            &id,
            NewMessage {
                text: body.content,
                attachment,
                reply_to,
                client_key: body.client_id,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(message)).into_response())
}

/// How far I have read.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReadBody {
    /// The `seq` of the last message read.
    #[schema(schema_with = constraints::seq)]
    seq: i64,
}

/// My read position in a conversation.
#[derive(Serialize, ToSchema)]
struct ReadView {
    conversation_id: ConversationId,
    /// The `seq` of the last message I have read (it never moves back).
    last_read_seq: i64,
}

/// Marks a conversation read up to a message.
#[utoipa::path(post, path = "/conversations/{id}/read", tag = "messages", request_body = ReadBody,
    params(("id" = inline(taina::core::ConversationId), Path, description = "The conversation's id")),
    responses((status = 200, description = "My read position", body = ReadView)))]
async fn mark_read(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
    Body(body): Body<ReadBody>,
) -> Result<Response, ApiError> {
    let read = state.taina.guara().mark_read(&actor, &id, body.seq).await?;
    Ok(axum::Json(ReadView {
        conversation_id: id,
        last_read_seq: read,
    })
    .into_response())
}

/// A message's new text.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EditBody {
    #[schema(schema_with = constraints::edited_text)]
    content: String,
}

/// Edits one of my messages.
#[utoipa::path(patch, path = "/messages/{id}", tag = "messages", request_body = EditBody,
    params(("id" = inline(taina::core::MessageId), Path, description = "The message's id")),
    responses(
        (status = 200, description = "The message, edited", body = Message),
        (status = 409, description = "The message was deleted", body = ErrorBody),
    ))]
async fn edit(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<MessageId>,
    Body(body): Body<EditBody>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(state.taina.guara().edit(&actor, &id, &body.content).await?).into_response())
}

/// Deletes a message (mine, or anyone's for a group admin); a tombstone keeps its place.
#[utoipa::path(delete, path = "/messages/{id}", tag = "messages",
    params(("id" = inline(taina::core::MessageId), Path, description = "The message's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "The message was already deleted", body = ErrorBody),
    ))]
async fn delete_message(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<MessageId>,
) -> Result<StatusCode, ApiError> {
    state.taina.guara().delete_message(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A reaction.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReactBody {
    /// One emoji.
    #[schema(schema_with = constraints::emoji)]
    emoji: String,
}

/// Reacts to a message with an emoji.
#[utoipa::path(post, path = "/messages/{id}/reactions", tag = "messages", request_body = ReactBody,
    params(("id" = inline(taina::core::MessageId), Path, description = "The message's id")),
    responses(
        (status = 201, description = "The message, with the reaction", body = Message),
        (status = 409, description = "I already reacted with this emoji, I have 20 reactions on the message, it has 50 different ones, or it was deleted", body = ErrorBody),
    ))]
async fn react(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<MessageId>,
    Body(body): Body<ReactBody>,
) -> Result<Response, ApiError> {
    let message = state.taina.guara().react(&actor, &id, &body.emoji).await?;
    Ok((StatusCode::CREATED, axum::Json(message)).into_response())
}

/// Takes back my reaction.
#[utoipa::path(delete, path = "/messages/{id}/reactions/{emoji}", tag = "messages",
    params(
        ("id" = inline(taina::core::MessageId), Path, description = "The message's id"),
        ("emoji" = String, Path, description = "The emoji, percent-encoded"),
    ),
    responses(
        (status = 422, description = "Not an emoji as reactions are (at most 16 characters, no spaces)", body = ErrorBody),(status = 200, description = "The message, without it", body = Message)))]
async fn unreact(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((id, emoji)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = path_id::<MessageId>(&id)?;
    Ok(axum::Json(state.taina.guara().unreact(&actor, &id, &emoji).await?).into_response())
}

/// A message's attached file: single byte ranges and `If-None-Match` are honoured.
#[utoipa::path(get, path = "/messages/{id}/attachment", tag = "messages",
    params(
        ("id" = inline(taina::core::MessageId), Path, description = "The message's id"),
        ("Range" = Option<String>, Header, description = "One byte range, `bytes=start-end`"),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` already held: 304 if it still matches"),
        ("If-Range" = Option<String>, Header, description = "The `ETag` the range is for; a stale one gets the whole file"),
    ),
    responses(
        (status = 200, description = "The whole file, in its own content type (types that could \
            run script as `application/octet-stream`)",
            content_type = "application/octet-stream",
            headers(
                ("ETag" = String, description = "The content's SHA-256, in quotes"),
                ("Last-Modified" = String, description = "When the file last changed"),
                ("Content-Disposition" = String, description = "`inline` for types safe to show, else `attachment`, with the file name"),
                ("Accept-Ranges" = String, description = "`bytes`"),
            )),
        (status = 206, description = "The range asked for", content_type = "application/octet-stream",
            headers(("Content-Range" = String, description = "`bytes start-end/size`"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current `ETag`"),
        (status = 416, description = "The range is outside the file (no body)",
            headers(("Content-Range" = String, description = "`bytes */size`"))),
    ))]
async fn attachment(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<MessageId>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let guara = state.taina.guara();
    // The whole download first tells the item (for validators and ranges), then the part.
    let whole = guara.attachment(&actor, &id, None).await?;
    match plan(&headers, &whole.item) {
        Plan::Answer(response) => Ok(response),
        Plan::Stream(None) => respond(whole, false, false),
        Plan::Stream(Some(range)) => {
            drop(whole);
            respond(
                guara.attachment(&actor, &id, Some(range)).await?,
                true,
                false,
            )
        }
    }
}

/// A search.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// The words to find; the last one matches as a prefix.
    #[param(schema_with = constraints::search_query)]
    q: String,
}

/// Searches the messages of my conversations, best matches first (50 at most).
#[utoipa::path(get, path = "/search/messages", tag = "messages", params(SearchQuery),
    responses(
        (status = 200, description = "The messages found", body = List<SearchHit>),
        (status = 400, description = "No `q`", body = ErrorBody),
        (status = 422, description = "`q` has no words, or is too long", body = ErrorBody),
    ))]
async fn search(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    let hits = state.taina.guara().search(&actor, &query.q).await?;
    Ok(axum::Json(List::all(hits)).into_response())
}
