//! An album itself: created (its slug from its name), listed, read, renamed, described, shared
//! or kept private, given a cover, deleted; and a change ended (stamped, read back, committed).

use std::collections::{HashMap, HashSet};

use taina_core::{Actor, AlbumId, Error as DomainError};
use taina_jaci::album::{
    AlbumAction, Visibility, authorize_album, free_slug, normalize_description, normalize_name,
    sees_shared_albums,
};
use tracing::instrument;

use super::{
    ALBUM_COLUMNS, ALBUM_ENTRY_COLUMNS, Album, AlbumRow, AlbumUpdate, EntryRow, NewAlbum, seen_by,
};
use crate::Result;
use crate::jaci::Jaci;

impl Jaci<'_> {
    /// Creates an album; its slug comes from the name (numbered if taken).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn create_album(&self, actor: &Actor, album: NewAlbum) -> Result<Album> {
        let name = normalize_name(&album.name)?;
        let description = normalize_description(&album.description)?;
        if album.visibility == Visibility::Shared {
            // A new album is the actor's own, in their community, not shared yet.
            authorize_album(
                actor,
                AlbumAction::Share,
                &actor.community_id,
                Some(&actor.user_id),
                Visibility::Private,
            )?;
        }
        let now = self.now().as_millis();
        let mut tx = self.taina.ybira().begin_in(&actor.community_id).await?;
        let taken: Vec<(String,)> =
            sqlx::query_as("SELECT slug FROM albums WHERE community_id = $1")
                .bind(actor.community_id.as_str())
                .fetch_all(&mut *tx)
                .await?;
        let taken: HashSet<String> = taken.into_iter().map(|(s,)| s).collect();
        let slug = free_slug(&name, |s| taken.contains(s));
        let id = crate::random::new_id(AlbumId::from_random);
        sqlx::query(
            "INSERT INTO albums (id, community_id, owner_id, name, slug, description, visibility, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(id.as_str())
        .bind(actor.community_id.as_str())
        .bind(actor.user_id.as_str())
        .bind(&name)
        .bind(&slug)
        .bind(&description)
        .bind(album.visibility.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let album = self
            .load_album(&mut tx, actor, &id, AlbumAction::Read)
            .await?;
        tx.commit().await?;
        Ok(album)
    }

    /// The albums the actor may see: their own and the community's shared ones, by name.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn albums(&self, actor: &Actor) -> Result<Vec<Album>> {
        let shared = if sees_shared_albums(actor.role) {
            " OR a.visibility = 'shared'"
        } else {
            ""
        };
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        let rows: Vec<AlbumRow> = sqlx::query_as(&format!(
            "SELECT {ALBUM_COLUMNS} WHERE a.community_id = $1 AND (a.owner_id = $2{shared}) \
             ORDER BY a.name, a.id LIMIT 10000"
        ))
        .bind(actor.community_id.as_str())
        .bind(actor.user_id.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let entries: Vec<EntryRow> = sqlx::query_as(&format!(
            "SELECT {ALBUM_ENTRY_COLUMNS} JOIN albums a ON a.id = ap.album_id \
             WHERE a.community_id = $1 AND (a.owner_id = $2{shared}) AND i.deleted_at IS NULL \
             ORDER BY ap.album_id, ap.position, ap.photo_id"
        ))
        .bind(actor.community_id.as_str())
        .bind(actor.user_id.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let mut visible: HashMap<String, Vec<String>> = HashMap::new();
        for (album, photo) in self.visible_entries(&mut conn, actor, entries).await? {
            visible.entry(album).or_default().push(photo);
        }
        rows.into_iter()
            .map(|r| {
                let photos = visible.remove(&r.id).unwrap_or_default();
                let (mut album, _) = r.into_album()?;
                seen_by(&mut album, &photos)?;
                Ok(album)
            })
            .collect()
    }

    /// One album the actor may see.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn album(&self, actor: &Actor, id: &AlbumId) -> Result<Album> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        self.load_album(&mut conn, actor, id, AlbumAction::Read)
            .await
    }

    /// Renames, describes, shares or unshares an album, or sets its cover (a photo in it).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn update_album(
        &self,
        actor: &Actor,
        id: &AlbumId,
        update: AlbumUpdate,
    ) -> Result<Album> {
        let name = update.name.as_deref().map(normalize_name).transpose()?;
        let description = update
            .description
            .as_deref()
            .map(normalize_description)
            .transpose()?;
        let action = if update.visibility == Some(Visibility::Shared) {
            AlbumAction::Share
        } else {
            AlbumAction::Change
        };
        let mut tx = self.taina.ybira().begin_in(&actor.community_id).await?;
        self.load_album(&mut tx, actor, id, action).await?;
        if let Some(Some(cover)) = &update.cover_photo_id {
            // A photo of the album the actor may not see is, for them, not in it.
            let visible = self.visible_photos(&mut tx, actor, id).await?;
            if !visible.iter().any(|p| p == cover.as_str()) {
                // The photo may have left the album since the client read it.
                return Err(
                    DomainError::conflict("the cover must be a photo in this album").into(),
                );
            }
        }
        sqlx::query(
            "UPDATE albums SET name = COALESCE($1, name), description = COALESCE($2, description), \
             visibility = COALESCE($3, visibility), updated_at = $4 WHERE id = $5",
        )
        .bind(name)
        .bind(description)
        .bind(update.visibility.map(|v| v.as_str()))
        .bind(self.now().as_millis())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        if let Some(cover) = &update.cover_photo_id {
            sqlx::query("UPDATE albums SET cover_photo_id = $1 WHERE id = $2")
                .bind(cover.as_ref().map(|c| c.as_str().to_owned()))
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let album = self
            .load_album(&mut tx, actor, id, AlbumAction::Read)
            .await?;
        tx.commit().await?;
        Ok(album)
    }

    /// Deletes an album (its photos stay in the library).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn delete_album(&self, actor: &Actor, id: &AlbumId) -> Result<()> {
        let mut tx = self.taina.ybira().begin_in(&actor.community_id).await?;
        self.load_album(&mut tx, actor, id, AlbumAction::Change)
            .await?;
        sqlx::query("DELETE FROM albums WHERE id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a change to an album: stamps it, reads it back and commits.
    pub(super) async fn finish_change(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Any>,
        actor: &Actor,
        id: &AlbumId,
    ) -> Result<Album> {
        sqlx::query("UPDATE albums SET updated_at = $1 WHERE id = $2")
            .bind(self.now().as_millis())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        let album = self
            .load_album(&mut tx, actor, id, AlbumAction::Read)
            .await?;
        tx.commit().await?;
        Ok(album)
    }
}
