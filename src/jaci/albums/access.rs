//! Who sees what of an album: an album loaded for an action as its viewer sees it, and which of
//! its photos (through their files' access, shares included) a viewer may see.

use std::collections::HashMap;

use sqlx::AnyConnection;
use taina_core::{Actor, AlbumId, Error as DomainError, UserId};
use taina_jaci::album::{AlbumAction, authorize_album};
use taina_ybira::access::{ItemAction, ItemFacts, Space, authorize_item};

use super::{ALBUM_COLUMNS, ALBUM_ENTRY_COLUMNS, Album, AlbumRow, EntryRow, seen_by};
use crate::db::parse_id;
use crate::jaci::{Jaci, Photo};
use crate::{Error, Result};

impl Jaci<'_> {
    /// Loads an album the actor may `action`, as they see it (see [`seen_by`]).
    pub(super) async fn load_album(
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
    pub(super) async fn visible_photos(
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
    pub(super) async fn visible_entries(
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
    pub(super) async fn can_see(
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
    pub(super) async fn sees_file(
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
}
