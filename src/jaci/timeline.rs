//! A photo with its neighbours, the timeline (newest first, with date headings), and deleting a
//! photo.

use taina_core::{Actor, Error as DomainError, PhotoId, Timestamp};
use taina_jaci::timeline::{Cursor, check_utc_offset, group_page, page_size};
use taina_ybira::access::{ItemAction, Space};
use tracing::instrument;

use super::{Jaci, PHOTO_COLUMNS, PhotoDetail, PhotoRow, Scope, TimelinePage, load_photo};
use crate::db::parse_id;
use crate::{Error, Result};

impl Jaci<'_> {
    /// A photo the actor may see, with its neighbours in its timeline. The neighbours come from
    /// the timeline the photo is in (its space's) only if the actor may see that timeline, by the
    /// rule [`Jaci::timeline`] applies: a photo reached through a share has none, so that nothing
    /// is learnt of the photos around it.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn photo(&self, actor: &Actor, id: &PhotoId) -> Result<PhotoDetail> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        let photo = load_photo(&mut conn, id)
            .await
            .map_err(|_| DomainError::not_found("photo"))?;
        self.taina
            .ybira()
            .load(&mut conn, actor, &photo.file_id, ItemAction::Read, false)
            .await
            .map_err(|_| Error::from(DomainError::not_found("photo")))?;
        if taina_ybira::access::authorize_root(actor, &photo.space).is_err() {
            return Ok(PhotoDetail {
                photo,
                previous: None,
                next: None,
            });
        }
        let (scope, owner) = match &photo.space {
            Space::Shared => ("i.space_owner_id IS NULL AND $4 = $4", String::new()),
            Space::Private(owner) => ("i.space_owner_id = $4", owner.as_str().to_owned()),
        };
        let (taken_at,): (i64,) = sqlx::query_as("SELECT taken_at FROM photos WHERE id = $1")
            .bind(id.as_str())
            .fetch_one(&mut *conn)
            .await?;
        let neighbour = |newer: bool| {
            let (cmp, order) = if newer { (">", "ASC") } else { ("<", "DESC") };
            format!(
                "SELECT p.id FROM photos p JOIN items i ON i.id = p.file_id \
                 WHERE p.community_id = $1 AND i.deleted_at IS NULL AND {scope} \
                 AND (p.taken_at, p.id) {cmp} ($2, $3) ORDER BY p.taken_at {order}, p.id {order} LIMIT 1"
            )
        };
        let mut found = [None, None];
        for (slot, newer) in [(0, true), (1, false)] {
            let row: Option<(String,)> = sqlx::query_as(&neighbour(newer))
                .bind(actor.community_id.as_str())
                .bind(taken_at)
                .bind(id.as_str())
                .bind(&owner)
                .fetch_optional(&mut *conn)
                .await?;
            found[slot] = row.map(|(id,)| parse_id(&id, PhotoId::parse)).transpose()?;
        }
        let [previous, next] = found;
        Ok(PhotoDetail {
            photo,
            previous,
            next,
        })
    }

    /// A page of the timeline (newest first), of the actor's own photos or the community's shared
    /// ones, with date headings for a viewer `utc_offset_minutes` east of UTC. Pass the previous
    /// page's `next_cursor` to go on.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn timeline(
        &self,
        actor: &Actor,
        scope: Scope,
        cursor: Option<&str>,
        limit: Option<u32>,
        utc_offset_minutes: i16,
    ) -> Result<TimelinePage> {
        let cursor = cursor.map(Cursor::decode).transpose()?;
        let utc_offset_minutes = check_utc_offset(utc_offset_minutes)?;
        let limit = page_size(limit)?;
        let space = match scope {
            Scope::Mine => Space::Private(actor.user_id.clone()),
            Scope::Shared => Space::Shared,
        };
        taina_ybira::access::authorize_root(actor, &space).map_err(crate::ybira::denied)?;
        let filter = match scope {
            Scope::Mine => "i.space_owner_id = $2",
            Scope::Shared => "i.space_owner_id IS NULL AND $2 = $2",
        };
        let after = if cursor.is_some() {
            "AND (p.taken_at, p.id) < ($4, $5)"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {PHOTO_COLUMNS} WHERE p.community_id = $1 AND i.deleted_at IS NULL AND {filter} \
             {after} ORDER BY p.taken_at DESC, p.id DESC LIMIT $3"
        );
        let mut query = sqlx::query_as::<_, PhotoRow>(&sql)
            .bind(actor.community_id.as_str())
            .bind(actor.user_id.as_str())
            .bind(i64::from(limit) + 1);
        if let Some(c) = &cursor {
            query = query.bind(c.taken_at).bind(c.id.as_str());
        }
        let rows = query.fetch_all(self.taina.inner.db.reader()).await?;
        let more = rows.len() > limit as usize;
        let mut photos = Vec::with_capacity(rows.len());
        let mut taken_at = Vec::with_capacity(rows.len());
        let mut last = None;
        for row in rows.into_iter().take(limit as usize) {
            last = Some((row.taken_at, row.id.clone()));
            taken_at.push(Timestamp::from_millis(row.taken_at));
            photos.push(row.into_photo()?);
        }
        let groups = group_page(taken_at, self.now(), utc_offset_minutes);
        let next_cursor = match (more, last) {
            (true, Some((taken_at, id))) => Some(
                Cursor {
                    taken_at,
                    id: parse_id(&id, PhotoId::parse)?,
                }
                .encode(),
            ),
            _ => None,
        };
        Ok(TimelinePage {
            photos,
            groups,
            next_cursor,
        })
    }

    /// Deletes a photo: its file goes to Ybira's trash (restoring it brings the photo back; purging
    /// it removes the photo).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn delete(&self, actor: &Actor, id: &PhotoId) -> Result<()> {
        let detail = self.photo(actor, id).await?;
        self.taina
            .ybira()
            .delete(actor, &detail.photo.file_id)
            .await
    }
}
