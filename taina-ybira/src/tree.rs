//! Folder moves: never into itself or one of its descendants.

use taina_core::{Error, ItemId};

/// Checks moving `folder` under `new_parent`, given the new parent's ancestors from the root down
/// (as one breadcrumb query returns them, without `new_parent` itself).
pub fn check_move(
    folder: &ItemId,
    new_parent: &ItemId,
    new_parent_ancestors: &[ItemId],
) -> Result<(), Error> {
    if folder == new_parent || new_parent_ancestors.contains(folder) {
        return Err(Error::invalid(
            "parent_id",
            "a folder cannot be moved into itself or one of its subfolders",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn id(n: u8) -> ItemId {
        ItemId::from_random([n; 21])
    }

    /// Ancestors of `f` in a parent map, root first.
    fn ancestors(parents: &HashMap<u8, u8>, mut f: u8) -> Vec<ItemId> {
        let mut out = Vec::new();
        while let Some(&p) = parents.get(&f) {
            out.push(id(p));
            f = p;
        }
        out.reverse();
        out
    }

    proptest! {
        /// Applying every allowed move to a random forest keeps it a forest (no cycles).
        #[test]
        fn allowed_moves_never_make_cycles(
            initial in proptest::collection::vec(proptest::option::of(0u8..20), 20),
            moves in proptest::collection::vec((0u8..20, 0u8..20), 0..60),
        ) {
            // Build a forest: folder i's parent is a lower-numbered folder, so no cycles to start.
            let mut parents: HashMap<u8, u8> = HashMap::new();
            for (i, p) in initial.iter().enumerate() {
                if let Some(p) = p.filter(|p| (*p as usize) < i) {
                    parents.insert(i as u8, p);
                }
            }
            for (folder, target) in moves {
                let anc = ancestors(&parents, target);
                if check_move(&id(folder), &id(target), &anc).is_ok() {
                    parents.insert(folder, target);
                }
                for start in 0u8..20 {
                    let mut seen = std::collections::HashSet::new();
                    let mut f = start;
                    while let Some(&p) = parents.get(&f) {
                        prop_assert!(seen.insert(p), "cycle through {}", p);
                        f = p;
                    }
                }
            }
        }
    }

    #[test]
    fn refuses_self_and_descendants() {
        assert!(check_move(&id(1), &id(1), &[]).is_err());
        assert!(check_move(&id(1), &id(3), &[id(0), id(1), id(2)]).is_err());
        assert!(check_move(&id(1), &id(3), &[id(0), id(2)]).is_ok());
    }
}
