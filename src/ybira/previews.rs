//! The `previews` job: a file's thumbnails (and, for HEIF/HEIC, a JPEG rendition) made in a
//! decoder child process ([`crate::decoder`]) — a PDF's first page rendered by `pdftoppm` first —
//! stored beside the file, and the outcome recorded on the file (`items.previews_at`,
//! `preview_error`) and, through Jaci, on its photo if it is one.

use taina_core::{CommunityId, ItemId};
use taina_jaci::media::{PreviewSource, preview_source};

use super::Ybira;
use crate::db::parse_id;
use crate::decoder::{Failed, Limited};
use crate::{Error, Result};

/// The file name of a HEIF/HEIC photo's JPEG rendition, beside its thumbnails.
pub(crate) const JPEG_RENDITION: &str = "display.jpg";

/// What a file whose content crashed or exhausted its decoder says, in place of previews.
pub const DECODER_FAILED: &str =
    "the file could not be decoded safely (its decoder failed on it), so it has no preview";

/// Why a PDF has no first page to make previews from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PdfUnrendered {
    /// This server has no `pdftoppm`.
    Unavailable,
    /// `pdftoppm` could not render the first page.
    NotRendered,
    /// Larger than [`PDF_PREVIEW_MAX_BYTES`].
    TooLarge,
}

/// The largest PDF given a preview: object storage copies it to local disk for `pdftoppm`.
pub const PDF_PREVIEW_MAX_BYTES: u64 = 512 * 1024 * 1024;

impl PdfUnrendered {
    /// What the file says in place of previews.
    fn reason(self) -> &'static str {
        match self {
            PdfUnrendered::Unavailable => {
                "PDF previews are not available on this server (they need poppler-utils' pdftoppm)"
            }
            PdfUnrendered::NotRendered => "the PDF's first page could not be rendered",
            PdfUnrendered::TooLarge => "the PDF is too large for a preview",
        }
    }
}

impl Ybira<'_> {
    /// The `previews` job: makes a file's thumbnails in a decoder child process
    /// ([`crate::decoder`]), records the outcome on the file (and its photo, if it is one) and
    /// announces it. Content that cannot be decoded is an outcome, not a failure; content that
    /// crashes or exhausts its decoder is an outcome too ([`DECODER_FAILED`]), and the job fails
    /// for good with how ([`Ran::Failed`](crate::jobs::Ran::Failed)), not to be run again.
    pub(crate) async fn make_previews(&self, file: &ItemId) -> Result<crate::jobs::Ran> {
        let inner = &self.taina.inner;
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT i.community_id, b.path, i.mime_type FROM items i JOIN blobs b ON b.id = i.blob_id \
             WHERE i.id = $1",
        )
        .bind(file.as_str())
        .fetch_optional(inner.db.reader())
        .await?;
        // Purged meanwhile: nothing to do.
        let Some((community, path, mime)) = row else {
            return Ok(crate::jobs::Ran::Done);
        };
        let community = parse_id(&community, CommunityId::parse)?;
        let Some(source) = preview_source(mime.as_deref().unwrap_or_default()) else {
            return Ok(crate::jobs::Ran::Done);
        };
        let made = match source {
            PreviewSource::Image => {
                let image = inner.blobs.get(&path).await?;
                crate::decoder::previews(&inner.config, &image).await
            }
            PreviewSource::Pdf => match self.render_first_page(file, &path).await? {
                Ok(Ok(page)) => crate::decoder::previews(&inner.config, &page).await,
                Ok(Err(why)) => Ok(Err(why.reason().to_owned())),
                Err(failed) => Err(failed),
            },
        };
        let mut crashed = None;
        let made = match made {
            Ok(made) => made,
            // The server's own problem (no decoder program): retried, and logged where it happened.
            Err(Failed::Unavailable) => {
                return Err(Error::Io(std::io::Error::other(
                    "the image decoder could not be started (see the server's log)",
                )));
            }
            Err(Failed::Crashed(how)) => {
                tracing::warn!(file = %file, how, "a file crashed its decoder");
                crashed = Some(how);
                Err(DECODER_FAILED.to_owned())
            }
        };
        let error = match made {
            Ok(made) => {
                let path = |name: &str| taina_ybira::layout::thumbnail_path(&community, file, name);
                for r in made.thumbnails {
                    let name = format!("{}.webp", r.size.name());
                    inner.blobs.put(&path(&name), r.webp).await?;
                }
                if let Some(jpeg) = made.jpeg {
                    inner.blobs.put(&path(JPEG_RENDITION), jpeg).await?;
                }
                None
            }
            Err(why) => {
                tracing::info!(file = %file, why, "no previews");
                Some(why)
            }
        };
        let now = self.now().as_millis();
        let jaci = self.taina.jaci();
        let mut tx = self.begin_in(&community).await?;
        let recorded =
            sqlx::query("UPDATE items SET previews_at = $1, preview_error = $2 WHERE id = $3")
                .bind(now)
                .bind(error.clone())
                .bind(file.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if recorded == 0 {
            // Purged while they were being made: the purge could not know of these previews,
            // so they go here (it removed any made before).
            drop(tx);
            let dir = taina_ybira::layout::thumbnails_dir(&community, file);
            inner.blobs.delete_prefix(&dir).await?;
            return Ok(crate::jobs::Ran::Done);
        }
        let photo = jaci.record_processed(&mut tx, file, now, error).await?;
        let item = super::tree_reload(&mut tx, file).await?;
        tx.commit().await?;
        if let Some(photo) = photo {
            jaci.announce_processed(&community, &photo, &item)?;
        }
        Ok(match crashed {
            None => crate::jobs::Ran::Done,
            Some(how) => crate::jobs::Ran::Failed(how),
        })
    }

    /// Renders a PDF's first page to PNG with `pdftoppm`, run under the decoder's limits
    /// ([`crate::decoder::run_limited`]); the reason, fit to show, when it cannot (the details,
    /// with the server's paths, go to the log only).
    async fn render_first_page(
        &self,
        file: &ItemId,
        path: &str,
    ) -> Result<std::result::Result<std::result::Result<Vec<u8>, PdfUnrendered>, Failed>> {
        let inner = &self.taina.inner;
        let temp_dir = inner.data_dir.join("tmp");
        let input = match inner
            .blobs
            .local_copy(path, &temp_dir, PDF_PREVIEW_MAX_BYTES)
            .await
        {
            Ok(input) => input,
            Err(Error::Domain(taina_core::Error::TooLarge { .. })) => {
                return Ok(Ok(Err(PdfUnrendered::TooLarge)));
            }
            Err(e) => return Err(e),
        };
        let work = temp_dir.join(crate::random::new_id(taina_core::JobId::from_random).as_str());
        if let Err(e) = tokio::fs::create_dir_all(&work).await {
            tracing::error!(dir = %work.display(), error = %e, "cannot make a work directory");
            return Ok(Err(Failed::Unavailable));
        }
        let prefix = work.join("page");
        let args: [&std::ffi::OsStr; 10] = [
            "-f".as_ref(),
            "1".as_ref(),
            "-l".as_ref(),
            "1".as_ref(),
            "-singlefile".as_ref(),
            "-png".as_ref(),
            "-scale-to".as_ref(),
            "1600".as_ref(),
            input.path().as_os_str(),
            prefix.as_os_str(),
        ];
        let ran = crate::decoder::run_limited(&inner.config, &inner.config.pdftoppm, &args).await;
        let result = match ran {
            Err(failed) => Err(failed),
            Ok(Limited::Missing) => Ok(Err(PdfUnrendered::Unavailable)),
            Ok(Limited::Exited(0, _)) => {
                match tokio::fs::read(prefix.with_extension("png")).await {
                    Ok(page) => Ok(Ok(page)),
                    Err(e) => {
                        tracing::warn!(file = %file, error = %e, "pdftoppm wrote no page");
                        Ok(Err(PdfUnrendered::NotRendered))
                    }
                }
            }
            Ok(Limited::Exited(code, stderr)) => {
                tracing::info!(file = %file, code, stderr, "pdftoppm could not render the first page");
                Ok(Err(PdfUnrendered::NotRendered))
            }
        };
        let _ = tokio::fs::remove_dir_all(&work).await;
        Ok(result)
    }
}
