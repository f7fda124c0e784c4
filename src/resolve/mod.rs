//! Resolution: parsed files to one [`Policy`].
//!
//! Reads included files and inventories (the only file I/O outside the CLI),
//! resolves every name to an address or service set, and reports BW002-BW008.
//! Invariant: resolution always returns a policy; when it reported an error the
//! policy is incomplete and must not be analysed or compiled.

mod ahead;
mod cache;
mod evaluate;
mod files;
mod gateways;
mod includes;
pub(crate) mod inventory;
mod names;
pub mod policy;
mod selectors;

pub use cache::Cache;
pub use files::{read_bytes, read_text, MAX_FILE_BYTES};
pub use selectors::selected;
pub mod services;

pub use policy::*;

use crate::addr::{AddrSet, IntervalSet};
use crate::diagnostic::Diagnostic;
use crate::model::Date;
use crate::source::SourceMap;
use ahead::Ahead;
use std::path::{Path, PathBuf};

/// The default `internal` space when a policy declares none.
pub const DEFAULT_INTERNAL: &[&str] = &[
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "fc00::/7",
    "fe80::/10",
];

pub struct Options {
    /// The date `until` is compared with.
    pub today: Date,
    /// Where included files and inventories may be.
    pub confine: Confine,
}

impl Options {
    /// The options of a run on `today`, confined to the policy's directory.
    pub fn new(today: Date) -> Options {
        Options {
            today,
            confine: Confine::default(),
        }
    }
}

/// Where the files a policy includes and the inventories it loads may be:
/// a path that leads outside (by `..`, as an absolute path, or through a
/// symbolic link) is an error (BW004, BW005), so a policy from an untrusted
/// change cannot make bmcwall read and show other files.
#[derive(Clone, Debug, Default)]
pub enum Confine {
    /// Inside the directory of the top-level policy.
    #[default]
    PolicyDir,
    /// Inside this directory (`--root DIR`).
    Root(PathBuf),
    /// Anywhere (`--unconfined`, for trusted input).
    Unconfined,
}

impl Confine {
    /// The directory, canonical, that the policy at `policy` is confined to.
    fn root(&self, policy: &Path) -> Option<PathBuf> {
        let dir = match self {
            Confine::PolicyDir => policy
                .parent()
                .filter(|dir| !dir.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf(),
            Confine::Root(dir) => dir.clone(),
            Confine::Unconfined => return None,
        };
        Some(std::fs::canonicalize(&dir).unwrap_or(dir))
    }
}

/// Where a file may be read from: anywhere, or inside one directory.
#[derive(Clone, Debug, Default)]
pub(crate) struct Root(Option<PathBuf>);

impl Root {
    /// An error unless `path` (which exists) lies inside the root, its
    /// links followed. A path that does not exist is left to the read,
    /// which reports it.
    pub(crate) fn admit(&self, path: &Path) -> std::io::Result<()> {
        let Some(root) = &self.0 else {
            return Ok(());
        };
        let Ok(canonical) = std::fs::canonicalize(path) else {
            return Ok(());
        };
        if canonical.starts_with(root) {
            return Ok(());
        }
        Err(std::io::Error::other(format!(
            "{} is outside {}, the directory policies are confined to; \
             `--root DIR` widens it, `--unconfined` lifts it for trusted input",
            canonical.display(),
            root.display()
        )))
    }
}

/// Reads `path` (and everything it includes) and resolves it.
pub fn load(path: &Path, sources: &mut SourceMap, options: &Options) -> (Policy, Vec<Diagnostic>) {
    load_kept(path, sources, options, None)
}

/// [`load`], taking the inventories `cache` kept where their files read as
/// they did then, and keeping the ones parsed now.
pub fn load_kept(
    path: &Path,
    sources: &mut SourceMap,
    options: &Options,
    cache: Option<&Cache>,
) -> (Policy, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let reading = ahead::Reading {
        open: sources.open_buffers(),
        cache: cache.cloned(),
    };
    let mut ahead = Ahead::new(Root(options.confine.root(path)), reading);
    let statements = includes::read_policy(path, sources, &mut ahead, &mut diagnostics);
    let policy =
        names::Resolver::new(sources, &mut diagnostics, options).resolve(statements, &mut ahead);
    (policy, diagnostics)
}

/// The built-in `internal` space (RFC 1918, CGNAT, ULA, link-local).
pub fn default_internal() -> AddrSet {
    let mut set = AddrSet::empty();
    for text in DEFAULT_INTERNAL {
        let (addr, len) = text.split_once('/').unwrap_or((text, "0"));
        let len: u8 = len.parse().unwrap_or(0);
        match addr.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(a)) => {
                if let Some((lo, hi)) = crate::addr::v4_prefix(u32::from(a), len) {
                    set.v4 = set.v4.union(&IntervalSet::interval(lo, hi));
                }
            }
            Ok(std::net::IpAddr::V6(a)) => {
                if let Some((lo, hi)) = crate::addr::v6_prefix(u128::from(a), len) {
                    set.v6 = set.v6.union(&IntervalSet::interval(lo, hi));
                }
            }
            Err(_) => {}
        }
    }
    set
}
