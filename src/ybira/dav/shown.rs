//! What WebDAV shows of a file or folder beyond the item itself: a folder's entity tag and size
//! (from everything in it, so that sync clients see a change anywhere below), a root's entity tag,
//! and what the actor may do with each ([`taina_ybira::dav::props::oc_permissions`]).

use taina_core::{Actor, ItemId, Timestamp};
use taina_ybira::access::ItemAction;
use taina_ybira::access::{ItemFacts, ShareAccess};
use taina_ybira::dav::path::Root;
use taina_ybira::dav::props::{collection_etag, combined_etag, oc_permissions};
use taina_ybira::listing::ItemKind;
use tracing::instrument;

use crate::Result;
use crate::ybira::{Item, Ybira};

/// What WebDAV shows of a file or folder beyond the item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// Its entity tag: a file's content tag, or a folder's [`collection_etag`].
    pub etag: Option<String>,
    /// Its bytes: a file's size, or everything in a folder.
    pub total_size: u64,
    /// What the actor may do with it, in Nextcloud's letters.
    pub permissions: String,
}

/// Counts over live items: how many, the latest change, the sum of revisions and of sizes.
type Stats = (i64, i64, i64, i64);

const STATS: &str = "COUNT(*), CAST(COALESCE(MAX(i.updated_at), 0) AS BIGINT), \
     CAST(COALESCE(SUM(i.revision), 0) AS BIGINT), CAST(COALESCE(SUM(i.size_bytes), 0) AS BIGINT)";

impl Ybira<'_> {
    /// Records a file's time on the client it came from (`X-OC-Mtime`), if its content is still
    /// the one with `etag` (a change since, by anyone, keeps its own time). Needs the right to
    /// write the file. Says whether it was recorded.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn set_client_modified(
        &self,
        actor: &Actor,
        id: &ItemId,
        etag: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.begin_in(&actor.community_id).await?;
        let loaded = self
            .load(&mut tx, actor, id, ItemAction::WriteContent, false)
            .await?;
        if loaded.item.etag.as_deref() != Some(etag) {
            return Ok(false);
        }
        sqlx::query("UPDATE items SET client_modified_at = $1 WHERE id = $2")
            .bind(at.as_millis())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// What the actor is shown of an item they reached (its folder's entity tag and size, their
    /// permissions, with the shares they hold over it).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_shown(&self, actor: &Actor, item: &Item) -> Result<Shown> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        let share = crate::ybira::best_share(&mut conn, &item.id, &actor.user_id).await?;
        shown(&mut conn, actor, item, share).await
    }

    /// The entity tag of the top of the tree, from its roots'.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_top_etag(&self, actor: &Actor) -> Result<String> {
        let mut roots = Vec::new();
        for root in Root::ALL {
            roots.push((
                root.name().to_owned(),
                self.dav_root_etag(actor, root).await?,
            ));
        }
        Ok(combined_etag(&roots))
    }

    /// A root's entity tag, from everything the actor sees in it.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_root_etag(&self, actor: &Actor, root: Root) -> Result<String> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        let stats: Stats = match root {
            Root::MyFiles => {
                sqlx::query_as(&format!(
                    "SELECT {STATS} FROM items i WHERE i.community_id = $1 \
                     AND i.space_owner_id = $2 AND i.deleted_at IS NULL"
                ))
                .bind(actor.community_id.as_str())
                .bind(actor.user_id.as_str())
                .fetch_one(&mut *conn)
                .await?
            }
            Root::Community => {
                sqlx::query_as(&format!(
                    "SELECT {STATS} FROM items i WHERE i.community_id = $1 \
                     AND i.space_owner_id IS NULL AND i.deleted_at IS NULL"
                ))
                .bind(actor.community_id.as_str())
                .fetch_one(&mut *conn)
                .await?
            }
            Root::SharedWithMe => {
                drop(conn);
                let mut members = Vec::new();
                for item in self.shared_with_me(actor).await? {
                    let shown = self.dav_shown(actor, &item).await?;
                    members.push((item.id.to_string(), shown.etag.unwrap_or_default()));
                }
                return Ok(combined_etag(&members));
            }
        };
        Ok(collection_etag(stats.0, stats.1, stats.2, stats.3))
    }
}

/// What the actor is shown of `item`, holding `share` over it.
pub(super) async fn shown(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    item: &Item,
    share: Option<ShareAccess>,
) -> Result<Shown> {
    let facts = ItemFacts {
        community_id: &actor.community_id,
        space: &item.space,
        owner_id: item.owner_id.as_ref(),
        share,
    };
    let collection = item.kind == ItemKind::Folder;
    let permissions = oc_permissions(actor, facts, collection);
    if !collection {
        return Ok(Shown {
            etag: item.etag.clone(),
            total_size: item.size_bytes,
            permissions,
        });
    }
    let (count, latest, revisions, bytes): Stats = sqlx::query_as(&format!(
        "WITH RECURSIVE sub(id, depth) AS ( \
             SELECT id, 0 FROM items WHERE id = $1 \
             UNION ALL \
             SELECT c.id, s.depth + 1 FROM items c JOIN sub s ON c.parent_id = s.id \
             WHERE c.deleted_at IS NULL AND s.depth < 10000) \
         SELECT {STATS} FROM items i JOIN sub s ON s.id = i.id"
    ))
    .bind(item.id.as_str())
    .fetch_one(&mut *conn)
    .await?;
    Ok(Shown {
        etag: Some(collection_etag(count, latest, revisions, bytes)),
        total_size: u64::try_from(bytes).unwrap_or(0),
        permissions,
    })
}
