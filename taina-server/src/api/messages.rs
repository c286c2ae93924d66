//! Guará over HTTP: conversations, participants, messages, reactions, read state, attachments and
//! search.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::json;
use taina::core::{ConversationId, Error as DomainError, ItemId, MessageId, UserId};
use taina::guara::{NewMessage, Position};

use super::{Body, List, path_id};
use crate::auth::Auth;
use crate::download::{Plan, plan, respond};
use crate::{ApiError, AppState};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/conversations",
            get(conversations).post(create_conversation),
        )
        .route("/conversations/direct/{user_id}", post(direct))
        .route("/conversations/{id}", get(conversation).patch(rename))
        .route("/conversations/{id}/participants", post(add_participants))
        .route(
            "/conversations/{id}/participants/{user_id}",
            delete(remove_participant),
        )
        .route("/conversations/{id}/messages", get(history).post(send))
        .route("/conversations/{id}/read", post(mark_read))
        .route(
            "/messages/{id}",
            axum::routing::patch(edit).delete(delete_message),
        )
        .route("/messages/{id}/reactions", post(react))
        .route("/messages/{id}/reactions/{emoji}", delete(unreact))
        .route("/messages/{id}/attachment", get(attachment))
        .route("/search/messages", get(search))
}

fn conversation_id(raw: &str) -> Result<ConversationId, ApiError> {
    path_id(raw, ConversationId::parse)
}

fn user_ids(raw: &[String]) -> Result<Vec<UserId>, ApiError> {
    raw.iter()
        .map(|id| UserId::parse(id).map_err(|_| ApiError::from(DomainError::not_found("member"))))
        .collect()
}

async fn conversations(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Response, ApiError> {
    let list = state.taina.guara().conversations(&actor).await?;
    Ok(axum::Json(List::all(list)).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ConversationType {
    Direct,
    Group,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewConversation {
    #[serde(rename = "type")]
    kind: ConversationType,
    name: Option<String>,
    #[serde(default)]
    participant_ids: Vec<String>,
}

async fn create_conversation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Body(body): Body<NewConversation>,
) -> Result<Response, ApiError> {
    let guara = state.taina.guara();
    let others = user_ids(&body.participant_ids)?;
    let conversation = match body.kind {
        ConversationType::Direct => {
            let [other] = others.as_slice() else {
                return Err(DomainError::invalid(
                    "participant_ids",
                    "a direct conversation has exactly one other participant",
                )
                .into());
            };
            guara.direct(&actor, other).await?
        }
        ConversationType::Group => {
            let name = body.name.unwrap_or_default();
            guara.create_group(&actor, &name, &others).await?
        }
    };
    Ok((StatusCode::CREATED, axum::Json(conversation)).into_response())
}

async fn direct(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(user_id): Path<String>,
) -> Result<Response, ApiError> {
    let other = path_id(&user_id, UserId::parse)?;
    Ok(axum::Json(state.taina.guara().direct(&actor, &other).await?).into_response())
}

async fn conversation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    Ok(axum::Json(state.taina.guara().conversation(&actor, &id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rename {
    name: String,
}

async fn rename(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Body(body): Body<Rename>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    Ok(axum::Json(state.taina.guara().rename(&actor, &id, &body.name).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Participants {
    participant_ids: Vec<String>,
}

async fn add_participants(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Body(body): Body<Participants>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    let users = user_ids(&body.participant_ids)?;
    let conversation = state
        .taina
        .guara()
        .add_participants(&actor, &id, &users)
        .await?;
    Ok(axum::Json(conversation).into_response())
}

/// Removes someone, or leaves when it is oneself.
async fn remove_participant(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = conversation_id(&id)?;
    let user = path_id(&user_id, UserId::parse)?;
    let guara = state.taina.guara();
    if user == actor.user_id {
        guara.leave(&actor, &id).await?;
    } else {
        guara.remove_participant(&actor, &id, &user).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct HistoryQuery {
    /// Older than this `seq` (the `next_cursor` of the previous page).
    cursor: Option<i64>,
    /// Newer than this `seq` (catching up).
    after: Option<i64>,
    limit: Option<u32>,
}

async fn history(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    let position = match (query.cursor, query.after) {
        (Some(_), Some(_)) => {
            return Err(DomainError::invalid("after", "use either cursor or after").into());
        }
        (Some(before), None) => Position::Before(before),
        (None, Some(after)) => Position::After(after),
        (None, None) => Position::Latest,
    };
    let page = state
        .taina
        .guara()
        .history(&actor, &id, position, query.limit)
        .await?;
    // Going back, the cursor is the oldest message's seq; going forward, the newest's.
    let next_cursor = page.has_more.then(|| match position {
        Position::After(_) => page.messages.last().map(|m| m.seq),
        _ => page.messages.first().map(|m| m.seq),
    });
    Ok(axum::Json(json!({
        "items": page.messages,
        "next_cursor": next_cursor.flatten().map(|s| s.to_string()),
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    #[serde(default)]
    content: String,
    /// `text`, `image`, `video`, `audio` or `file`: a hint; the attachment's own type decides.
    message_type: Option<String>,
    file_id: Option<String>,
    reply_to: Option<String>,
    client_id: Option<String>,
}

async fn send(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Body(body): Body<SendBody>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    if let Some(kind) = body.message_type.as_deref()
        && !matches!(kind, "text" | "image" | "video" | "audio" | "file")
    {
        return Err(DomainError::invalid(
            "message_type",
            "must be text, image, video, audio or file",
        )
        .into());
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadBody {
    seq: i64,
}

async fn mark_read(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Body(body): Body<ReadBody>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    let read = state.taina.guara().mark_read(&actor, &id, body.seq).await?;
    Ok(axum::Json(json!({ "conversation_id": id, "last_read_seq": read })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditBody {
    content: String,
}

async fn edit(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Body(body): Body<EditBody>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, MessageId::parse)?;
    Ok(axum::Json(state.taina.guara().edit(&actor, &id, &body.content).await?).into_response())
}

async fn delete_message(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, MessageId::parse)?;
    state.taina.guara().delete_message(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReactBody {
    emoji: String,
}

async fn react(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Body(body): Body<ReactBody>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, MessageId::parse)?;
    let message = state.taina.guara().react(&actor, &id, &body.emoji).await?;
    Ok((StatusCode::CREATED, axum::Json(message)).into_response())
}

async fn unreact(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((id, emoji)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, MessageId::parse)?;
    Ok(axum::Json(state.taina.guara().unreact(&actor, &id, &emoji).await?).into_response())
}

async fn attachment(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = path_id(&id, MessageId::parse)?;
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

#[derive(Deserialize)]
struct SearchQuery {
    q: String,
}

async fn search(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    let hits = state.taina.guara().search(&actor, &query.q).await?;
    Ok(axum::Json(List::all(hits)).into_response())
}
