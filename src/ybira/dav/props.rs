//! WebDAV dead properties: what clients set with PROPPATCH, stored with the item
//! (`dav_properties`), read with it, moved with it and copied with it.

use std::collections::HashMap;

use taina_core::{Actor, Error as DomainError, ItemId};
use taina_ybira::access::ItemAction;
use taina_ybira::dav::xml::PatchOp;
use taina_ybira::dav::{
    DEAD_PROPS_BYTES_PER_ITEM_MAX, DEAD_PROPS_PER_ITEM_MAX, PropName, props::is_live,
};
use tracing::instrument;

use crate::Result;
use crate::ybira::Ybira;

/// A dead property: its name and value (self-contained XML).
pub type DeadProp = (PropName, String);

/// What became of one PROPPATCH instruction: its property and status (200, or 403 for a live
/// property, 424 when another instruction failed, 507 past the per-item limit).
pub type PatchOutcome = (PropName, u16);

impl Ybira<'_> {
    /// The dead properties of an item the actor may read.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_dead_props(&self, actor: &Actor, id: &ItemId) -> Result<Vec<DeadProp>> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        self.load(&mut conn, actor, id, ItemAction::Read, false)
            .await?;
        Ok(dead_props_of(&mut conn, std::slice::from_ref(id))
            .await?
            .remove(id)
            .unwrap_or_default())
    }

    /// Applies a PROPPATCH to an item the actor may write, all or nothing (RFC 4918 §9.2): if any
    /// instruction fails, none applies and the others answer 424.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_patch_props(
        &self,
        actor: &Actor,
        id: &ItemId,
        ops: &[PatchOp],
    ) -> Result<Vec<PatchOutcome>> {
        let mut tx = self.begin_in(&actor.community_id).await?;
        self.load(&mut tx, actor, id, ItemAction::WriteContent, false)
            .await?;
        let name_of = |op: &PatchOp| match op {
            PatchOp::Set(name, _) | PatchOp::Remove(name) => name.clone(),
        };
        // Live properties are Tainá's: setting or removing one is forbidden.
        if ops.iter().any(|op| is_live(&name_of(op))) {
            return Ok(ops
                .iter()
                .map(|op| {
                    let name = name_of(op);
                    let status = if is_live(&name) { 403 } else { 424 };
                    (name, status)
                })
                .collect());
        }
        for op in ops {
            match op {
                PatchOp::Set(name, value) => {
                    sqlx::query(
                        "INSERT INTO dav_properties (item_id, name, value) VALUES ($1, $2, $3) \
                         ON CONFLICT (item_id, name) DO UPDATE SET value = excluded.value",
                    )
                    .bind(id.as_str())
                    .bind(name.key())
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
                }
                PatchOp::Remove(name) => {
                    sqlx::query("DELETE FROM dav_properties WHERE item_id = $1 AND name = $2")
                        .bind(id.as_str())
                        .bind(name.key())
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        let (count, bytes): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(LENGTH(value)), 0) AS BIGINT) \
             FROM dav_properties WHERE item_id = $1",
        )
        .bind(id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if usize::try_from(count).unwrap_or(usize::MAX) > DEAD_PROPS_PER_ITEM_MAX
            || u64::try_from(bytes).unwrap_or(u64::MAX) > DEAD_PROPS_BYTES_PER_ITEM_MAX
        {
            // Dropping the transaction undoes every instruction.
            return Ok(ops
                .iter()
                .map(|op| {
                    let status = if matches!(op, PatchOp::Set(..)) {
                        507
                    } else {
                        424
                    };
                    (name_of(op), status)
                })
                .collect());
        }
        tx.commit().await?;
        Ok(ops.iter().map(|op| (name_of(op), 200)).collect())
    }

    /// Copies an item's dead properties onto another (a COPY's destination).
    pub(crate) async fn copy_dead_props(
        &self,
        conn: &mut sqlx::AnyConnection,
        from: &ItemId,
        to: &ItemId,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO dav_properties (item_id, name, value) \
             SELECT $1, name, value FROM dav_properties WHERE item_id = $2 \
             ON CONFLICT (item_id, name) DO UPDATE SET value = excluded.value",
        )
        .bind(to.as_str())
        .bind(from.as_str())
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

/// The dead properties of these items (already authorized by the caller), by item.
pub(super) async fn dead_props_of(
    conn: &mut sqlx::AnyConnection,
    ids: &[ItemId],
) -> Result<HashMap<ItemId, Vec<DeadProp>>> {
    let mut out: HashMap<ItemId, Vec<DeadProp>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT item_id, name, value FROM dav_properties WHERE item_id IN ({}) \
             ORDER BY item_id, name",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as::<_, (String, String, String)>(&sql);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for (item, name, value) in query.fetch_all(&mut *conn).await? {
            let Some(name) = PropName::from_key(&name) else {
                return Err(crate::Error::Corrupt(format!(
                    "stored property name {name:?}"
                )));
            };
            let item = ItemId::parse(&item).map_err(|e| crate::Error::Corrupt(e.to_string()))?;
            out.entry(item).or_default().push((name, value));
        }
    }
    Ok(out)
}

/// Refuses a PROPPATCH on what is not a file or folder (the top, a root, "Shared with me").
pub fn not_patchable() -> crate::Error {
    DomainError::Forbidden {
        reason: "the roots of the tree have no properties of their own",
    }
    .into()
}
