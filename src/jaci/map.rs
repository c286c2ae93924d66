//! The map: the photos of a timeline that have GPS coordinates.

use taina_core::Actor;
use tracing::instrument;

use super::{Jaci, MapPoint, Scope};
use crate::Result;

impl Jaci<'_> {
    /// Photos with GPS coordinates, for the map.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn map(&self, actor: &Actor, scope: Scope) -> Result<Vec<MapPoint>> {
        let mut points = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .timeline(actor, scope, cursor.as_deref(), Some(500), 0)
                .await?;
            points.extend(page.photos.into_iter().filter_map(|p| {
                p.location.map(|l| MapPoint {
                    id: p.id,
                    latitude: l.latitude,
                    longitude: l.longitude,
                    taken_at: p.taken_at,
                })
            }));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(points),
            }
        }
    }
}
