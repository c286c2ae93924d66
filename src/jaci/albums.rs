//! Albums: create, rename, describe, share with the community or keep private, set a cover, add,
//! remove and reorder photos. An album never shows a viewer a photo they may not see.

use std::collections::{HashMap, HashSet};
pub use taina_jaci::library::Album;

use sqlx::AnyConnection;
use taina_core::{Actor, AlbumId, Error as DomainError, PhotoId, Timestamp, UserId};
use taina_jaci::album::{
    AlbumAction, MAX_PHOTOS, Visibility, authorize_album, free_slug, normalize_description,
    normalize_name, reorder, sees_shared_albums,
};
use taina_ybira::access::{ItemAction, ItemFacts, Space, authorize_item};
use tracing::instrument;

use super::{Jaci, PHOTO_COLUMNS, Photo, PhotoRow, load_photo};
use crate::accounts::rows::parse_id;
use crate::{Error, Result};

/// A new album.
#[derive(Debug, Clone)]
pub struct NewAlbum {
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Private or shared.
    pub visibility: Visibility,
}

/// Changes to an album; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AlbumUpdate {
    /// A new name (the slug stays).
    pub name: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// Private or shared.
    pub visibility: Option<Visibility>,
    /// A new cover (`Some(None)`: back to the first photo).
    pub cover_photo_id: Option<Option<PhotoId>>,
}

const ALBUM_COLUMNS: &str = "a.id, a.community_id, a.owner_id, a.name, a.slug, a.description, \
     a.visibility, a.cover_photo_id, a.created_at, a.updated_at FROM albums a";

/// What decides whether a viewer sees one photo of an album: (album, photo, file, space owner,
/// file owner), live files only, in the album's order.
const ALBUM_ENTRY_COLUMNS: &str = "ap.album_id, ap.photo_id, i.id, i.space_owner_id, i.owner_id \
     FROM album_photos ap JOIN photos p ON p.id = ap.photo_id JOIN items i ON i.id = p.file_id";

type EntryRow = (String, String, String, Option<String>, Option<String>);

#[derive(sqlx::FromRow)]
struct AlbumRow {
    id: String,
    community_id: String,
    owner_id: String,
    name: String,
    slug: String,
    description: String,
    visibility: String,
    cover_photo_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl AlbumRow {
    /// The album with its chosen cover (if any) and no photos counted yet: [`seen_by`] fills
    /// those in for a viewer.
    fn into_album(self) -> Result<(Album, taina_core::CommunityId)> {
        let visibility = Visibility::parse(&self.visibility)
            .ok_or_else(|| Error::Corrupt(format!("album {}: visibility", self.id)))?;
        let cover = self.cover_photo_id;
        Ok((
            Album {
                id: parse_id(&self.id, AlbumId::parse)?,
                name: self.name,
                slug: self.slug,
                description: self.description,
                visibility,
                owner_id: parse_id(&self.owner_id, UserId::parse)?,
                cover_photo_id: cover
                    .as_deref()
                    .map(|c| parse_id(c, PhotoId::parse))
                    .transpose()?,
                photo_count: 0,
                created_at: Timestamp::from_millis(self.created_at),
                updated_at: Timestamp::from_millis(self.updated_at),
            },
            parse_id(&self.community_id, taina_core::CommunityId::parse)?,
        ))
    }
}

/// The album as a viewer who sees `visible` of its photos (ids, in the album's order) sees it:
/// that many photos, and the chosen cover if it is among them, else the first of them. Photos
/// the viewer may not see (or in the trash) count for nothing and are never the cover.
fn seen_by(album: &mut Album, visible: &[String]) -> Result<()> {
    let chosen = album
        .cover_photo_id
        .take()
        .filter(|c| visible.iter().any(|v| v == c.as_str()));
    album.cover_photo_id = match chosen {
        Some(c) => Some(c),
        None => visible
            .first()
            .map(|c| parse_id(c, PhotoId::parse))
            .transpose()?,
    };
    album.photo_count = u64::try_from(visible.len()).unwrap_or(u64::MAX);
    Ok(())
}

impl Jaci<'_> {
    /// Loads an album the actor may `action`, as they see it (see [`seen_by`]).
    async fn load_album(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        id: &AlbumId,
        action: AlbumAction,
    ) -> Result<Album> {
        let row: Option<AlbumRow> =
            sqlx::query_as(&format!("SELECT {ALBUM_COLUMNS} WHERE a.id = $1"))
                .bind(id.as_str())
                .fetch_optional(&mut *conn)
                .await?;
        let Some(row) = row else {
            return Err(DomainError::not_found("album").into());
        };
        let (mut album, community) = row.into_album()?;
        authorize_album(
            actor,
            action,
            &community,
            Some(&album.owner_id),
            album.visibility,
        )?;
        let visible = self.visible_photos(conn, actor, id).await?;
        seen_by(&mut album, &visible)?;
        Ok(album)
    }

    /// The ids of the album's photos the actor may see (live ones), in the album's order. For
    /// them, the album holds these and nothing else: what they change or name is checked
    /// against these, so a hidden photo is neither touched nor revealed.
    async fn visible_photos(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        id: &AlbumId,
    ) -> Result<Vec<String>> {
        let entries: Vec<EntryRow> = sqlx::query_as(&format!(
            "SELECT {ALBUM_ENTRY_COLUMNS} WHERE ap.album_id = $1 AND i.deleted_at IS NULL \
             ORDER BY ap.position, ap.photo_id"
        ))
        .bind(id.as_str())
        .fetch_all(&mut *conn)
        .await?;
        Ok(self
            .visible_entries(conn, actor, entries)
            .await?
            .into_iter()
            .map(|(_, photo)| photo)
            .collect())
    }

    /// Of an album's entries, the (album, photo) pairs the actor may see, in the same order.
    async fn visible_entries(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        entries: Vec<EntryRow>,
    ) -> Result<Vec<(String, String)>> {
        let mut seen: HashMap<String, bool> = HashMap::new();
        let mut out = Vec::with_capacity(entries.len());
        for (album, photo, file, space_owner, owner) in entries {
            let visible = match seen.get(&file) {
                Some(v) => *v,
                None => {
                    let file_id = parse_id(&file, taina_core::ItemId::parse)?;
                    let space =
                        Space::from_owner(crate::ybira::rows_opt_user(space_owner.as_deref())?);
                    let owner = crate::ybira::rows_opt_user(owner.as_deref())?;
                    let v = self
                        .sees_file(conn, actor, &file_id, &space, owner.as_ref())
                        .await?;
                    seen.insert(file, v);
                    v
                }
            };
            if visible {
                out.push((album, photo));
            }
        }
        Ok(out)
    }

    /// Whether the actor may see a photo (through its file's access).
    async fn can_see(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        photo: &Photo,
    ) -> Result<bool> {
        self.sees_file(
            conn,
            actor,
            &photo.file_id,
            &photo.space,
            photo.owner_id.as_ref(),
        )
        .await
    }

    /// Whether the actor may read a (live) file in `space`: Ybira's rule, asked first without a
    /// share, then with the share the actor holds on the file or a folder above it.
    async fn sees_file(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        file: &taina_core::ItemId,
        space: &Space,
        owner: Option<&UserId>,
    ) -> Result<bool> {
        let facts = ItemFacts {
            community_id: &actor.community_id,
            space,
            owner_id: owner,
            share: None,
        };
        if authorize_item(actor, ItemAction::Read, facts).is_ok() {
            return Ok(true);
        }
        match self
            .taina
            .ybira()
            .load(conn, actor, file, ItemAction::Read, false)
            .await
        {
            Ok(_) => Ok(true),
            Err(Error::Domain(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

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
                return Err(
                    DomainError::invalid("cover_photo_id", "is not a photo in this album").into(),
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

    /// Ends a change to an album: stamps it, reads it back and commits.
    async fn finish_change(
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
