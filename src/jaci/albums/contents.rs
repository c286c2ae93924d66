//! What an album holds: its photos in order (only those the viewer may see), photos added,
//! removed and reordered.

use taina_core::{Actor, AlbumId, Error as DomainError, PhotoId};
use taina_jaci::album::{AlbumAction, MAX_PHOTOS, reorder};
use taina_ybira::access::ItemAction;
use tracing::instrument;

use super::Album;
use crate::Result;
use crate::db::parse_id;
use crate::jaci::{Jaci, PHOTO_COLUMNS, Photo, PhotoRow, load_photo};

impl Jaci<'_> {
    /// The album's photos in order, leaving out those the viewer may not see (and those in the
    /// trash).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn album_photos(&self, actor: &Actor, id: &AlbumId) -> Result<Vec<Photo>> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        self.load_album(&mut conn, actor, id, AlbumAction::Read)
            .await?;
        let rows: Vec<PhotoRow> = sqlx::query_as(&format!(
            "SELECT {PHOTO_COLUMNS} JOIN album_photos ap ON ap.photo_id = p.id \
             WHERE ap.album_id = $1 AND i.deleted_at IS NULL ORDER BY ap.position, ap.photo_id"
        ))
        .bind(id.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let mut photos = Vec::with_capacity(rows.len());
        for row in rows {
            let photo = row.into_photo()?;
            if self.can_see(&mut conn, actor, &photo).await? {
                photos.push(photo);
            }
        }
        Ok(photos)
    }

    /// Adds photos (ones the actor may see) at the end of an album, in the order given; photos already
    /// in it stay where they are.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn add_to_album(
        &self,
        actor: &Actor,
        id: &AlbumId,
        photos: &[PhotoId],
    ) -> Result<Album> {
        let now = self.now().as_millis();
        let mut tx = self.taina.ybira().begin_in(&actor.community_id).await?;
        self.load_album(&mut tx, actor, id, AlbumAction::Change)
            .await?;
        // Every photo it holds counts here, seen by this actor or not.
        let (held,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM album_photos WHERE album_id = $1")
                .bind(id.as_str())
                .fetch_one(&mut *tx)
                .await?;
        if usize::try_from(held).unwrap_or(usize::MAX) + photos.len() > MAX_PHOTOS {
            return Err(DomainError::invalid(
                "photo_ids",
                format!("an album holds at most {MAX_PHOTOS} photos"),
            )
            .into());
        }
        let (last,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(position) FROM album_photos WHERE album_id = $1")
                .bind(id.as_str())
                .fetch_one(&mut *tx)
                .await?;
        let mut position = last.map_or(0, |p| p + 1);
        for photo_id in photos {
            let photo = load_photo(&mut tx, photo_id).await?;
            let visible = self
                .taina
                .ybira()
                .load(&mut tx, actor, &photo.file_id, ItemAction::Read, false)
                .await
                .is_ok();
            if !visible {
                return Err(DomainError::not_found("photo").into());
            }
            let added = sqlx::query(
                "INSERT INTO album_photos (album_id, photo_id, position, added_by, added_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (album_id, photo_id) DO NOTHING",
            )
            .bind(id.as_str())
            .bind(photo_id.as_str())
            .bind(position)
            .bind(actor.user_id.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            position += i64::try_from(added.rows_affected()).unwrap_or(0);
        }
        self.finish_change(tx, actor, id).await
    }

    /// Takes a photo out of an album (it stays in the library).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn remove_from_album(
        &self,
        actor: &Actor,
        id: &AlbumId,
        photo: &PhotoId,
    ) -> Result<Album> {
        let mut tx = self.taina.ybira().begin_in(&actor.community_id).await?;
        self.load_album(&mut tx, actor, id, AlbumAction::Change)
            .await?;
        // A photo of the album the actor may not see is, for them, not in it: not theirs to take
        // out, nor to learn of.
        let visible = self.visible_photos(&mut tx, actor, id).await?;
        if !visible.iter().any(|p| p == photo.as_str()) {
            return Err(DomainError::not_found("photo in this album").into());
        }
        sqlx::query("DELETE FROM album_photos WHERE album_id = $1 AND photo_id = $2")
            .bind(id.as_str())
            .bind(photo.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE albums SET cover_photo_id = NULL WHERE id = $1 AND cover_photo_id = $2",
        )
        .bind(id.as_str())
        .bind(photo.as_str())
        .execute(&mut *tx)
        .await?;
        self.finish_change(tx, actor, id).await
    }

    /// Puts an album's photos in the given order (exactly the photos it holds, each once).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn reorder_album(
        &self,
        actor: &Actor,
        id: &AlbumId,
        order: &[PhotoId],
    ) -> Result<Album> {
        let mut tx = self.taina.ybira().begin_in(&actor.community_id).await?;
        self.load_album(&mut tx, actor, id, AlbumAction::Change)
            .await?;
        // The whole order (photos in the trash included), and what of it the actor sees: they
        // order what they see; the others keep their places ([`reorder`]).
        let held: Vec<(String,)> = sqlx::query_as(
            "SELECT photo_id FROM album_photos WHERE album_id = $1 ORDER BY position, photo_id",
        )
        .bind(id.as_str())
        .fetch_all(&mut *tx)
        .await?;
        let held: Vec<PhotoId> = held
            .into_iter()
            .map(|(p,)| parse_id(&p, PhotoId::parse))
            .collect::<Result<_>>()?;
        let visible: Vec<PhotoId> = self
            .visible_photos(&mut tx, actor, id)
            .await?
            .iter()
            .map(|p| parse_id(p, PhotoId::parse))
            .collect::<Result<_>>()?;
        let order = reorder(&held, &visible, order)?;
        for (position, photo) in order.iter().enumerate() {
            sqlx::query(
                "UPDATE album_photos SET position = $1 WHERE album_id = $2 AND photo_id = $3",
            )
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(id.as_str())
            .bind(photo.as_str())
            .execute(&mut *tx)
            .await?;
        }
        self.finish_change(tx, actor, id).await
    }
}
