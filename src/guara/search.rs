//! Full-text search over the messages of the actor's conversations: SQLite's FTS5 or PostgreSQL's
//! full-text search, ranked, each hit with its conversation and a snippet (matches between « and »).

use taina_core::{Actor, MessageId};
pub use taina_guara::model::SearchHit;
use taina_guara::search::{MAX_RESULTS, fts5_query, terms, tsquery};
use tracing::instrument;

use super::Guara;
use super::messages::{Arg, load_messages};
use crate::Result;
use crate::accounts::rows::parse_id;
use crate::db::Backend;

impl Guara<'_> {
    /// Searches the messages of the conversations the actor is in, best matches first (50 at most).
    /// The last word matches as a prefix, so results come as one types.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn search(&self, actor: &Actor, query: &str) -> Result<Vec<SearchHit>> {
        let terms = terms(query)?;
        let db = &self.taina.inner.db;
        let sql = match db.backend() {
            Backend::Sqlite => format!(
                "SELECT m.id, c.name, snippet(guara_search, 0, '«', '»', '…', 16), \
                 -bm25(guara_search) AS rank FROM guara_search \
                 JOIN messages m ON m.rid = guara_search.rowid \
                 JOIN conversations c ON c.id = m.conversation_id \
                 JOIN participants p ON p.conversation_id = m.conversation_id AND p.user_id = $2 \
                 WHERE guara_search MATCH $1 AND m.deleted_at IS NULL \
                 ORDER BY rank DESC, m.id LIMIT {MAX_RESULTS}"
            ),
            Backend::Postgres => format!(
                "SELECT m.id, c.name, ts_headline('simple', m.body, q, \
                 'StartSel=«, StopSel=», MaxWords=24, MinWords=8'), \
                 ts_rank(m.search_vector, q)::float8 AS rank \
                 FROM messages m, to_tsquery('simple', $1) q, conversations c, participants p \
                 WHERE m.search_vector @@ q AND c.id = m.conversation_id \
                 AND p.conversation_id = m.conversation_id AND p.user_id = $2 \
                 AND m.deleted_at IS NULL ORDER BY rank DESC, m.id LIMIT {MAX_RESULTS}"
            ),
        };
        let engine_query = match db.backend() {
            Backend::Sqlite => fts5_query(&terms),
            Backend::Postgres => tsquery(&terms),
        };
        let rows: Vec<(String, Option<String>, String, f64)> = sqlx::query_as(&sql)
            .bind(engine_query)
            .bind(actor.user_id.as_str())
            .fetch_all(db.reader())
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=rows.len()).map(|i| format!("${i}")).collect();
        let args: Vec<Arg> = rows.iter().map(|(id, ..)| Arg::Text(id.clone())).collect();
        let mut conn = db.reader().acquire().await?;
        let mut messages = load_messages(
            &mut conn,
            &format!("m.id IN ({})", placeholders.join(", ")),
            "",
            &args,
        )
        .await?;
        rows.into_iter()
            .filter_map(|(id, conversation_name, snippet, rank)| {
                let id = match parse_id(&id, MessageId::parse) {
                    Ok(id) => id,
                    Err(e) => return Some(Err(e)),
                };
                let at = messages.iter().position(|m| m.id == id)?;
                Some(Ok(SearchHit {
                    message: messages.swap_remove(at),
                    conversation_name,
                    snippet,
                    rank,
                }))
            })
            .collect()
    }
}
