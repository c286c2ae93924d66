//! Full-text search over the messages of the actor's conversations: SQLite's FTS5 or PostgreSQL's
//! full-text search, ranked, each hit with its conversation and a snippet (matches between « and »).

use std::collections::HashMap;

use taina_core::Actor;
use taina_guara::message::Message;
pub use taina_guara::model::SearchHit;
use taina_guara::search::{MAX_RESULTS, fts5_query, terms, tsquery};
use tracing::instrument;

use super::Guara;
use super::messages::{Arg, load_messages};
use crate::Result;
use crate::db::Backend;

impl Guara<'_> {
    /// How the database runs the actor's search (SQLite's `EXPLAIN QUERY PLAN` details, or
    /// PostgreSQL's `EXPLAIN` lines), for tests that check it starts from the viewer's
    /// conversations.
    #[cfg(feature = "testing")]
    pub async fn search_plan(&self, actor: &Actor, query: &str) -> Result<Vec<String>> {
        let terms = terms(query)?;
        let db = &self.taina.inner.db;
        let (sql, engine_query) = search_sql(db.backend(), &terms);
        let sql = match db.backend() {
            Backend::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
            Backend::Postgres => format!("EXPLAIN {sql}"),
        };
        let query = sqlx::query(&sql)
            .bind(engine_query)
            .bind(actor.user_id.as_str())
            .bind(actor.community_id.as_str());
        let rows = query.fetch_all(db.reader()).await?;
        let column = match db.backend() {
            Backend::Sqlite => 3,
            Backend::Postgres => 0,
        };
        rows.iter()
            .map(|row| Ok(sqlx::Row::try_get::<String, _>(row, column)?))
            .collect()
    }

    /// Searches the messages of the conversations the actor is in, best matches first (50 at most).
    /// The last word matches as a prefix, so results come as one types.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn search(&self, actor: &Actor, query: &str) -> Result<Vec<SearchHit>> {
        let terms = terms(query)?;
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let db = &self.taina.inner.db;
        let (sql, engine_query) = search_sql(db.backend(), &terms);
        let rows: Vec<(String, Option<String>, String, f64, String)> = sqlx::query_as(&sql)
            .bind(engine_query)
            .bind(actor.user_id.as_str())
            .bind(actor.community_id.as_str())
            .fetch_all(db.reader())
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=rows.len()).map(|i| format!("${i}")).collect();
        let args: Vec<Arg> = rows.iter().map(|(id, ..)| Arg::Text(id.clone())).collect();
        let mut conn = db.reader().acquire().await?;
        let mut messages: HashMap<String, Message> = load_messages(
            &mut conn,
            &format!("m.id IN ({})", placeholders.join(", ")),
            "",
            &args,
        )
        .await?
        .into_iter()
        .map(|m| (m.id.as_str().to_owned(), m))
        .collect();
        let mut hits = Vec::with_capacity(rows.len());
        for (id, conversation_name, snippet, rank, role) in rows {
            if let Some(message) = messages.remove(&id) {
                hits.push(SearchHit {
                    message: message.for_reader(&actor.user_id, super::parse_role(&role)?),
                    conversation_name,
                    snippet,
                    rank,
                });
            }
        }
        Ok(hits)
    }
}

/// The search's SQL for `backend` and the engine's query for `terms` (bound as `$1`, with the
/// viewer as `$2` and their community as `$3`).
fn search_sql(backend: Backend, terms: &[String]) -> (String, String) {
    // The viewer's conversations come first and the index is only asked about their messages:
    // a search never weighs, ranks or sorts what the rest of the server holds. SQLite: the
    // joins run in the order written (CROSS JOIN), and the FTS5 table is probed per message by
    // rowid along with MATCH (before, FTS5 matched the whole server's index first). PostgreSQL:
    // the same joins from the viewer's participant rows, within their community; the planner
    // then reaches their conversations' messages by index and filters them with `@@`.
    let sql = match backend {
        Backend::Sqlite => format!(
            "SELECT m.id, c.name, snippet(guara_search, 0, '«', '»', '…', 16), \
             -bm25(guara_search) AS rank, p.role \
             FROM participants p CROSS JOIN conversations c CROSS JOIN messages m \
             CROSS JOIN guara_search \
             WHERE p.user_id = $2 AND c.id = p.conversation_id AND c.community_id = $3 \
             AND m.conversation_id = p.conversation_id AND m.deleted_at IS NULL \
             AND guara_search.rowid = m.rid AND guara_search MATCH $1 \
             ORDER BY rank DESC, m.id LIMIT {MAX_RESULTS}"
        ),
        Backend::Postgres => format!(
            "SELECT m.id, c.name, ts_headline('simple', m.body, q, \
             'StartSel=«, StopSel=», MaxWords=24, MinWords=8'), \
             ts_rank(m.search_vector, q)::float8 AS rank, p.role \
             FROM participants p \
             JOIN conversations c ON c.id = p.conversation_id AND c.community_id = $3 \
             JOIN messages m ON m.conversation_id = p.conversation_id \
             CROSS JOIN to_tsquery('simple', $1) q \
             WHERE p.user_id = $2 AND m.deleted_at IS NULL AND m.search_vector @@ q \
             ORDER BY rank DESC, m.id LIMIT {MAX_RESULTS}"
        ),
    };
    let engine_query = match backend {
        Backend::Sqlite => fts5_query(terms),
        Backend::Postgres => tsquery(terms),
    };
    (sql, engine_query)
}
