//! What one run of [`load`](super::load) may keep for the next: the
//! parsed inventories, each under its path and options together with the
//! text of every file it was read from, and what was found across all of
//! them. A later run that reads the same texts takes the kept result
//! instead of parsing again; any other text (the file changed on disk, or an
//! editor's buffer stands for it now) is parsed and replaces it. The
//! language server keeps one across keystrokes; `check` and the other
//! commands use none.
//!
//! Parsing an inventory depends on nothing but its files' texts and the
//! `inventory` statement's options, so what is kept is what parsing them
//! again would give; but for host names resolved through the system
//! resolver (`resolve`), whose answers may change: such inventories are
//! never kept. What is found across the inventories (names and addresses
//! used twice, look-alike text, the selectors' index of labels) depends on
//! nothing but their entries in order and where their files are in the
//! source map: it is kept under the list of kept inventories (each a parse,
//! known by its number) with the files each was placed in, and taken again
//! only for the same list.

use super::inventory::{Parsed, Request};
use super::selectors::LabelIndex;
use crate::diagnostic::Diagnostic;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Parsed inventories kept across runs; clones share them.
#[derive(Clone, Default)]
pub struct Cache {
    kept: Arc<Mutex<Kept>>,
}

#[derive(Default)]
struct Kept {
    inventories: HashMap<(PathBuf, Request), Inventory>,
    across: Option<(Vec<Placed>, Across)>,
    /// The number the next parse kept is known by.
    next: u64,
}

/// One inventory as last parsed.
struct Inventory {
    /// The path and text of each file it was read from, in order.
    texts: Vec<(PathBuf, String)>,
    parsed: Parsed,
}

/// A kept inventory as one load placed it: the number of its parse, its
/// first file's id in the source map and how many files it has.
pub(super) type Placed = (u64, u32, u32);

/// What was found across the inventories of one load.
#[derive(Clone)]
pub(super) struct Across {
    /// BW005 for names and addresses used twice, BW310, BW311.
    pub diagnostics: Vec<Diagnostic>,
    /// The selectors' index of the entries by label, as far as built.
    pub index: Arc<Mutex<LabelIndex>>,
}

impl Cache {
    /// The kept inventory at `path` read with `request`, if it was read
    /// from files of these paths and texts, in this order.
    pub(super) fn get<'t>(
        &self,
        path: &Path,
        request: &Request,
        mut texts: impl Iterator<Item = (&'t Path, &'t str)>,
    ) -> Option<Parsed> {
        let kept = self.lock();
        let kept = kept
            .inventories
            .get(&(path.to_path_buf(), request.clone()))?;
        let same = kept
            .texts
            .iter()
            .all(|(p, t)| texts.next() == Some((p.as_path(), t.as_str())))
            && texts.next().is_none();
        same.then(|| kept.parsed.clone())
    }

    /// Keeps `parsed`, the inventory at `path` read with `request` from
    /// files of these paths and texts, in place of the one kept before, and
    /// gives it the number it is known by.
    pub(super) fn keep(
        &self,
        path: &Path,
        request: &Request,
        texts: Vec<(PathBuf, String)>,
        parsed: &mut Parsed,
    ) {
        if request.resolve {
            return;
        }
        let mut kept = self.lock();
        parsed.kept = Some(kept.next);
        kept.next += 1;
        kept.inventories.insert(
            (path.to_path_buf(), request.clone()),
            Inventory {
                texts,
                parsed: parsed.clone(),
            },
        );
    }

    /// What was found across the inventories placed as `placed`, if that
    /// is what the last load kept.
    pub(super) fn across(&self, placed: &[Placed]) -> Option<Across> {
        let kept = self.lock();
        let (key, across) = kept.across.as_ref()?;
        (key.as_slice() == placed).then(|| across.clone())
    }

    /// Keeps what was found across the inventories placed as `placed`.
    pub(super) fn keep_across(&self, placed: Vec<Placed>, across: Across) {
        self.lock().across = Some((placed, across));
    }

    fn lock(&self) -> MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
