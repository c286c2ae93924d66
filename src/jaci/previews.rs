//! A photo's previews from Jaci's side: thumbnails and the JPEG rendition read back for who may
//! see the file, previews made again on request, and a photo marked processed (and announced)
//! when Ybira's `previews` job ([`crate::ybira::previews`]) has run for its file.

use sqlx::AnyConnection;
use taina_core::{
    Action, Actor, CommunityId, DomainEvent, Error as DomainError, ItemId, PhotoId, Resource,
    authorize,
};
use taina_jaci::media::preview_source;
use taina_ybira::access::ItemAction;
use tracing::instrument;

use super::{Jaci, Size};
use crate::db::parse_id;
use crate::ybira::Item;
use crate::ybira::previews::JPEG_RENDITION;
use crate::{Error, Result};

impl Jaci<'_> {
    /// A thumbnail of a file the actor may see (WebP bytes), once made.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn thumbnail(&self, actor: &Actor, file: &ItemId, size: Size) -> Result<Vec<u8>> {
        self.read_preview(actor, file, &format!("{}.webp", size.name()), "thumbnail")
            .await
    }

    /// The full-size JPEG rendition of a HEIF/HEIC photo the actor may see, once made (browsers
    /// that cannot show HEIC show this; the original stays as it was uploaded).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn jpeg_rendition(&self, actor: &Actor, file: &ItemId) -> Result<Vec<u8>> {
        self.read_preview(actor, file, JPEG_RENDITION, "JPEG rendition")
            .await
    }

    /// Reads one of a file's previews after checking that the actor may read the file.
    async fn read_preview(
        &self,
        actor: &Actor,
        file: &ItemId,
        name: &str,
        what: &'static str,
    ) -> Result<Vec<u8>> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        let loaded = self
            .taina
            .ybira()
            .load(&mut conn, actor, file, ItemAction::Read, false)
            .await?;
        drop(conn);
        // Previews of content the file no longer has (replaced, a version restored) are never
        // served: the file says it has previews only once they were made from what it holds.
        if !loaded.item.has_previews {
            return Err(DomainError::not_found(what).into());
        }
        let path = taina_ybira::layout::thumbnail_path(&actor.community_id, file, name);
        match self.taina.inner.blobs.get(&path).await {
            Ok(bytes) => Ok(bytes),
            Err(Error::Storage(object_store::Error::NotFound { .. })) => {
                Err(DomainError::not_found(what).into())
            }
            Err(e) => Err(e),
        }
    }

    /// Makes a photo's thumbnails again (after a pipeline change, say).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn regenerate(&self, actor: &Actor, id: &PhotoId) -> Result<()> {
        let detail = self.photo(actor, id).await?;
        self.taina
            .jobs()
            .enqueue(crate::jobs::NewJob::now(
                crate::jobs::Job::Previews {
                    file_id: detail.photo.file_id,
                },
                self.now(),
            ))
            .await
    }

    /// Makes the previews of every live file in the actor's community again — photos, images and
    /// PDFs — as background jobs (admins only). Answers how many files were queued.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn regenerate_all(&self, actor: &Actor) -> Result<u64> {
        authorize(
            actor,
            Action::Manage,
            Resource::Community(&actor.community_id),
        )?;
        let inner = &self.taina.inner;
        let files: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT id, mime_type FROM items \
             WHERE community_id = $1 AND kind = 'file' AND deleted_at IS NULL ORDER BY id",
        )
        .bind(actor.community_id.as_str())
        .fetch_all(inner.db.reader())
        .await?;
        let now = self.now();
        let mut queued = 0;
        let mut tx = inner.db.begin().await?;
        for (id, mime) in files {
            if preview_source(mime.as_deref().unwrap_or_default()).is_none() {
                continue;
            }
            let job = crate::jobs::Job::Previews {
                file_id: parse_id(&id, ItemId::parse)?,
            };
            crate::jobs::enqueue(&mut tx, crate::jobs::NewJob::now(job, now), now).await?;
            queued += 1;
        }
        tx.commit().await?;
        inner.job_notify.notify_waiters();
        Ok(queued)
    }

    /// Records the outcome of a file's previews on its photo, if the file is one, inside the
    /// `previews` job's transaction; answers the photo's id, to announce once that commits.
    pub(crate) async fn record_processed(
        &self,
        tx: &mut AnyConnection,
        file: &ItemId,
        now: i64,
        error: Option<String>,
    ) -> Result<Option<String>> {
        let photo: Option<(String,)> = sqlx::query_as(
            "UPDATE photos SET processed_at = $1, processing_error = $2, updated_at = $1 \
             WHERE file_id = $3 RETURNING id",
        )
        .bind(now)
        .bind(error)
        .bind(file.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        Ok(photo.map(|(id,)| id))
    }

    /// Announces `photo.processed` for a photo whose previews were just recorded.
    pub(crate) fn announce_processed(
        &self,
        community: &CommunityId,
        photo: &str,
        file: &Item,
    ) -> Result<()> {
        self.publish(
            community,
            DomainEvent::PhotoProcessed {
                photo_id: parse_id(photo, PhotoId::parse)?,
                file: crate::ybira::item_event(file),
            },
        );
        Ok(())
    }
}
