//! What one run of [`load`](super::load) may keep for the next: the
//! parsed inventories, each under its path and options together with the
//! text of every file it was read from. A later run that reads the same
//! texts takes the kept result instead of parsing again; any other text
//! (the file changed on disk, or an editor's buffer stands for it now) is
//! parsed and replaces it. The language server keeps one across keystrokes;
//! `check` and the other commands use none.
//!
//! Parsing an inventory depends on nothing but its files' texts and the
//! `inventory` statement's options, so what is kept is what parsing them
//! again would give; but for host names resolved through the system
//! resolver (`resolve`), whose answers may change: such inventories are
//! never kept.

use super::inventory::{Parsed, Request};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Parsed inventories kept across runs; clones share them.
#[derive(Clone, Default)]
pub struct Cache {
    kept: Arc<Mutex<HashMap<(PathBuf, Request), Kept>>>,
}

/// One inventory as last parsed.
struct Kept {
    /// The path and text of each file it was read from, in order.
    texts: Vec<(PathBuf, String)>,
    parsed: Parsed,
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
        let kept = kept.get(&(path.to_path_buf(), request.clone()))?;
        let same = kept
            .texts
            .iter()
            .all(|(p, t)| texts.next() == Some((p.as_path(), t.as_str())))
            && texts.next().is_none();
        same.then(|| kept.parsed.clone())
    }

    /// Keeps `parsed`, the inventory at `path` read with `request` from
    /// files of these paths and texts, in place of the one kept before.
    pub(super) fn keep(
        &self,
        path: &Path,
        request: &Request,
        texts: Vec<(PathBuf, String)>,
        parsed: &Parsed,
    ) {
        if request.resolve {
            return;
        }
        self.lock().insert(
            (path.to_path_buf(), request.clone()),
            Kept {
                texts,
                parsed: parsed.clone(),
            },
        );
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(PathBuf, Request), Kept>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
