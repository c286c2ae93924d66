//! Albums: names and slugs, who may see and change them, and their order.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use taina_core::{Actor, CommunityId, Error, PhotoId, Role, UserId};

/// Longest album name, in characters.
pub const NAME_MAX_CHARS: usize = 200;
/// Longest description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 5000;
/// Most photos one album holds.
pub const MAX_PHOTOS: usize = 10_000;

/// Who sees an album.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "uniffi", uniffi(name = "AlbumVisibility"))]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Its owner only.
    Private,
    /// Every member of the community (not guests).
    Shared,
}

impl Visibility {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Shared => "shared",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Visibility> {
        match s {
            "private" => Some(Visibility::Private),
            "shared" => Some(Visibility::Shared),
            _ => None,
        }
    }
}

/// Normalises an album name: NFC, trimmed, 1 to 200 characters, no control characters.
pub fn normalize_name(raw: &str) -> Result<String, Error> {
    taina_core::validate::normalize_label("name", raw, NAME_MAX_CHARS)
}

/// Normalises a description: NFC, trimmed, at most 5000 characters (newlines allowed).
pub fn normalize_description(raw: &str) -> Result<String, Error> {
    taina_core::validate::normalize_text("description", raw, DESCRIPTION_MAX_CHARS, false)
}

/// The slug for an album name, unique among `taken`: the name's slug (or `album`), then `-2`, `-3`...
///
/// ```
/// use taina_jaci::album::free_slug;
/// assert_eq!(free_slug("Férias 2026", |_| false), "ferias-2026");
/// assert_eq!(free_slug("Férias 2026", |s| s == "ferias-2026"), "ferias-2026-2");
/// assert_eq!(free_slug("🌴", |_| false), "album");
/// ```
pub fn free_slug(name: &str, taken: impl Fn(&str) -> bool) -> String {
    let base = taina_core::validate::slugify(name).unwrap_or_else(|| "album".to_owned());
    if !taken(&base) {
        return base;
    }
    (2u64..)
        .map(|n| numbered(&base, n))
        .find(|s| !taken(s))
        .unwrap_or(base)
}

/// `base-n`, with `base` shortened so that the whole stays within the slug length limit.
fn numbered(base: &str, n: u64) -> String {
    let suffix = format!("-{n}");
    let room = taina_core::validate::SLUG_MAX_CHARS - suffix.len();
    let stem: String = base.chars().take(room).collect();
    format!("{}{suffix}", stem.trim_end_matches('-'))
}

/// What the actor wants to do with an album.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlbumAction {
    /// See it and its photos.
    Read,
    /// Rename, describe, set the cover, add, remove and reorder photos, change visibility, delete.
    Change,
    /// Make it shared with the community (create it shared, or change it to shared): a change, and
    /// never by a guest.
    Share,
}

/// Whether someone with `role` sees the community's shared albums (guests see only their own).
pub fn sees_shared_albums(role: Role) -> bool {
    role != Role::Guest
}

/// Decides whether `actor` may `action` an album of `owner` in `community` with `visibility`
/// (for a new album: the actor's own, in their community, not shared yet). Albums one may not see
/// are reported as not found; guests cannot share albums with the community.
pub fn authorize_album(
    actor: &Actor,
    action: AlbumAction,
    community: &CommunityId,
    owner: Option<&UserId>,
    visibility: Visibility,
) -> Result<(), Error> {
    if community != &actor.community_id {
        return Err(Error::not_found("album"));
    }
    let mine = owner == Some(&actor.user_id);
    let visible = mine || (visibility == Visibility::Shared && sees_shared_albums(actor.role));
    if !visible {
        return Err(Error::not_found("album"));
    }
    if action == AlbumAction::Read {
        return Ok(());
    }
    if !(mine || actor.role == Role::Admin && visibility == Visibility::Shared) {
        return Err(Error::Forbidden {
            reason: "only its owner (or an admin, for a shared album) may change an album",
        });
    }
    if action == AlbumAction::Share && !sees_shared_albums(actor.role) {
        return Err(Error::Forbidden {
            reason: "guests cannot share albums with the community",
        });
    }
    Ok(())
}

/// Checks a new order for an album: exactly the photos it holds, each once.
pub fn check_order(current: &[PhotoId], order: &[PhotoId]) -> Result<(), Error> {
    let wanted: HashSet<&PhotoId> = order.iter().collect();
    let held: HashSet<&PhotoId> = current.iter().collect();
    if wanted.len() != order.len() {
        return Err(Error::invalid("photo_ids", "lists a photo twice"));
    }
    if wanted != held {
        // The album changed since the client read it: a conflict with its state, not bad input.
        return Err(Error::conflict(
            "the order must list exactly the album's photos (reload the album)",
        ));
    }
    Ok(())
}

/// The album's whole new order when a viewer who sees `visible` of its photos (in the album's
/// order) asks for `order`: `order` must hold exactly the photos they see, each once ([`check_order`]
/// against `visible`), and fills the places those photos held in `held` (the album's whole order);
/// the photos hidden from the viewer keep their places. A viewer is thus never asked to name, nor
/// told of, a photo they may not see, and their reordering moves nothing they cannot see.
///
/// ```
/// use taina_core::PhotoId;
/// use taina_jaci::album::reorder;
/// let [a, hidden, b, c] = [1, 2, 3, 4].map(|s| PhotoId::from_random([s; 21]));
/// let held = [a.clone(), hidden.clone(), b.clone(), c.clone()];
/// let visible = [a.clone(), b.clone(), c.clone()];
/// let new = reorder(&held, &visible, &[c.clone(), a.clone(), b.clone()]).unwrap();
/// assert_eq!(new, [c, hidden, a, b]);
/// ```
pub fn reorder(
    held: &[PhotoId],
    visible: &[PhotoId],
    order: &[PhotoId],
) -> Result<Vec<PhotoId>, Error> {
    check_order(visible, order)?;
    let seen: HashSet<&PhotoId> = visible.iter().collect();
    let mut next = order.iter();
    Ok(held
        .iter()
        .map(|photo| {
            if seen.contains(photo) {
                next.next().unwrap_or(photo).clone()
            } else {
                photo.clone()
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use taina_core::ErrorKind;
    use taina_core::testing::actor;

    fn denied(result: Result<(), Error>) -> Option<ErrorKind> {
        result.err().map(|e| e.kind())
    }

    #[test]
    fn private_albums_are_their_owners() {
        let owner = actor(Role::Member, 2);
        let admin = actor(Role::Admin, 3);
        let guest = actor(Role::Guest, 4);
        let c = owner.community_id.clone();
        let o = Some(&owner.user_id);
        assert!(authorize_album(&owner, AlbumAction::Change, &c, o, Visibility::Private).is_ok());
        assert_eq!(
            denied(authorize_album(
                &admin,
                AlbumAction::Read,
                &c,
                o,
                Visibility::Private
            )),
            Some(ErrorKind::NotFound)
        );
        assert!(authorize_album(&admin, AlbumAction::Change, &c, o, Visibility::Shared).is_ok());
        assert_eq!(
            denied(authorize_album(
                &guest,
                AlbumAction::Read,
                &c,
                o,
                Visibility::Shared
            )),
            Some(ErrorKind::NotFound)
        );
        let member = actor(Role::Member, 5);
        assert!(authorize_album(&member, AlbumAction::Read, &c, o, Visibility::Shared).is_ok());
        assert_eq!(
            denied(authorize_album(
                &member,
                AlbumAction::Change,
                &c,
                o,
                Visibility::Shared
            )),
            Some(ErrorKind::Forbidden)
        );
    }

    #[test]
    fn guests_cannot_share_albums() {
        let guest = actor(Role::Guest, 4);
        let c = guest.community_id.clone();
        let mine = Some(&guest.user_id);
        // Their own private album: they may change it, but not share it.
        assert!(
            authorize_album(&guest, AlbumAction::Change, &c, mine, Visibility::Private).is_ok()
        );
        let err =
            authorize_album(&guest, AlbumAction::Share, &c, mine, Visibility::Private).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Forbidden);
        assert!(err.to_string().contains("guests cannot share"), "{err}");
        assert!(!sees_shared_albums(Role::Guest));
        // Members and admins share their own albums; an admin may keep a shared album shared.
        let member = actor(Role::Member, 5);
        let admin = actor(Role::Admin, 3);
        let m = Some(&member.user_id);
        assert!(authorize_album(&member, AlbumAction::Share, &c, m, Visibility::Private).is_ok());
        assert!(authorize_album(&admin, AlbumAction::Share, &c, m, Visibility::Shared).is_ok());
        assert_eq!(
            denied(authorize_album(
                &admin,
                AlbumAction::Share,
                &c,
                m,
                Visibility::Private
            )),
            Some(ErrorKind::NotFound)
        );
        assert!(sees_shared_albums(Role::Member) && sees_shared_albums(Role::Admin));
    }

    #[test]
    fn names_and_orders_are_checked() {
        assert!(normalize_name("  ").is_err());
        assert!(normalize_name(&"a".repeat(201)).is_err());
        assert_eq!(normalize_name(" Praia ").unwrap(), "Praia");
        assert!(normalize_description("line\nline").is_ok());
        let a = PhotoId::from_random([1; 21]);
        let b = PhotoId::from_random([2; 21]);
        assert!(check_order(&[a.clone(), b.clone()], &[b.clone(), a.clone()]).is_ok());
        assert!(check_order(&[a.clone(), b.clone()], &[a.clone(), a.clone()]).is_err());
        assert!(check_order(&[a.clone(), b.clone()], std::slice::from_ref(&a)).is_err());
    }

    #[test]
    fn a_reorder_names_and_moves_only_what_the_viewer_sees() {
        let [a, hidden, b] = [1, 2, 3].map(|s| PhotoId::from_random([s; 21]));
        let held = [hidden.clone(), a.clone(), b.clone()];
        let visible = [a.clone(), b.clone()];
        assert_eq!(
            reorder(&held, &visible, &[b.clone(), a.clone()]).unwrap(),
            [hidden.clone(), b.clone(), a.clone()]
        );
        // Naming the hidden photo is refused like naming any photo that is not there.
        let naming_it = reorder(&held, &visible, &[b.clone(), a.clone(), hidden.clone()]);
        assert_eq!(
            naming_it,
            reorder(
                &held,
                &visible,
                &[b.clone(), a.clone(), PhotoId::from_random([9; 21])]
            )
        );
        assert!(naming_it.is_err());
    }

    #[test]
    fn numbered_slugs_stay_within_the_limit() {
        let long = "a".repeat(80);
        let slug = free_slug(&long, |s| s == "a".repeat(50));
        assert_eq!(slug, format!("{}-2", "a".repeat(48)));
        assert!(taina_core::validate::check_slug(&slug).is_ok());
    }

    proptest! {
        #[test]
        fn free_slugs_are_valid_and_free(name in "\\PC{0,80}", taken_count in 0usize..4) {
            let first = free_slug(&name, |_| false);
            let mut taken = vec![first.clone()];
            for n in 2..(2 + taken_count as u64) {
                taken.push(numbered(&first, n));
            }
            let slug = free_slug(&name, |s| taken.iter().any(|t| t == s));
            prop_assert!(!taken.contains(&slug));
            prop_assert!(taina_core::validate::check_slug(&slug).is_ok(), "{}", slug);
        }
    }
}
