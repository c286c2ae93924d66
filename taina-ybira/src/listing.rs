//! Folder listings: where an item sits (its parent key), the listing order, and the opaque cursor
//! that pages through it.
//!
//! Children are listed folders first, then files, each by name ignoring case. A page ends with a
//! cursor naming the last item shown; the next page starts strictly after it, so items added or
//! removed between pages never make a page repeat or skip what was already there.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use taina_core::{CommunityId, Error, ItemId, UserId};

use crate::access::Space;

/// Items per page unless the caller asks otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// The most items one page may hold.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Longest cursor accepted, in bytes.
const CURSOR_MAX_BYTES: usize = 1024;

/// A file or a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A folder.
    Folder,
    /// A file.
    File,
}

impl ItemKind {
    /// The stored form: `folder` or `file` (folders sort first when ordered descending).
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Folder => "folder",
            ItemKind::File => "file",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<ItemKind> {
        match s {
            "folder" => Some(ItemKind::Folder),
            "file" => Some(ItemKind::File),
            _ => None,
        }
    }
}

/// The key under which an item's siblings are grouped (and under which names must be unique): the
/// parent folder's id, or the root of its space.
///
/// ```
/// use taina_core::{CommunityId, UserId};
/// use taina_ybira::{access::Space, listing::parent_key};
/// let c = CommunityId::from_random([1; 21]);
/// assert_eq!(parent_key(&c, &Space::Shared, None), format!("shared:{c}"));
/// ```
pub fn parent_key(community: &CommunityId, space: &Space, parent: Option<&ItemId>) -> String {
    match (parent, space) {
        (Some(folder), _) => folder.as_str().to_owned(),
        (None, Space::Shared) => format!("shared:{community}"),
        (None, Space::Private(owner)) => private_root_key(owner),
    }
}

fn private_root_key(owner: &UserId) -> String {
    format!("private:{owner}")
}

/// The key a listing is ordered by: folders before files, each by name ignoring case.
///
/// ```
/// use taina_ybira::listing::{sort_key, ItemKind};
/// assert!(sort_key(ItemKind::Folder, "Zebra") < sort_key(ItemKind::File, "apple"));
/// assert!(sort_key(ItemKind::File, "apple") < sort_key(ItemKind::File, "Banana"));
/// ```
pub fn sort_key(kind: ItemKind, name: &str) -> String {
    let rank = match kind {
        ItemKind::Folder => '0',
        ItemKind::File => '1',
    };
    format!("{rank}{}", crate::name::collision_key(name))
}

/// Where a listing page starts: strictly after the item with this sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The last item's [`sort_key`].
    pub sort_key: String,
}

impl Cursor {
    /// The opaque text handed to clients.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.sort_key)
    }

    /// Reads a cursor a client sent back.
    pub fn decode(text: &str) -> Result<Cursor, Error> {
        let bad = || Error::invalid("cursor", "is not a cursor this server gave out");
        if text.len() > CURSOR_MAX_BYTES {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let sort_key = String::from_utf8(bytes).map_err(|_| bad())?;
        if !(sort_key.starts_with('0') || sort_key.starts_with('1')) {
            return Err(bad());
        }
        Ok(Cursor { sort_key })
    }
}

/// The page size for a requested `limit`: the default when absent, refused outside
/// `1..=MAX_PAGE_SIZE`.
pub fn page_size(limit: Option<u32>) -> Result<u32, taina_core::Error> {
    taina_core::validate::page_size(limit, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parent_keys_separate_spaces_and_folders() {
        let c = CommunityId::from_random([1; 21]);
        let u = UserId::from_random([2; 21]);
        let f = ItemId::from_random([3; 21]);
        let mine = Space::Private(u.clone());
        assert_eq!(parent_key(&c, &mine, None), format!("private:{u}"));
        assert_eq!(parent_key(&c, &mine, Some(&f)), f.as_str());
        assert_ne!(
            parent_key(&c, &Space::Shared, None),
            parent_key(&c, &mine, None)
        );
    }

    #[test]
    fn garbage_cursors_are_refused() {
        for bad in ["", "!!!", "Zm9v", &"A".repeat(2000)] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
        assert_eq!(page_size(None).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(Some(MAX_PAGE_SIZE)).unwrap(), MAX_PAGE_SIZE);
        assert!(page_size(Some(0)).is_err());
        assert!(page_size(Some(MAX_PAGE_SIZE + 1)).is_err());
    }

    proptest! {
        #[test]
        fn cursors_round_trip(name in "\\PC{0,255}", folder in any::<bool>()) {
            let kind = if folder { ItemKind::Folder } else { ItemKind::File };
            let c = Cursor { sort_key: sort_key(kind, &name) };
            prop_assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        }

        /// Folders always come before files, whatever the names.
        #[test]
        fn folders_sort_first(a in "\\PC{1,50}", b in "\\PC{1,50}") {
            prop_assert!(sort_key(ItemKind::Folder, &a) < sort_key(ItemKind::File, &b));
        }

        #[test]
        fn decoding_never_panics(text in "\\PC{0,300}") {
            let _ = Cursor::decode(&text);
        }
    }
}
