//! Resolution: parsed files to one [`Policy`].
//!
//! Reads included files and inventories (the only file I/O outside the CLI),
//! resolves every name to an address or service set, and reports BW002-BW008.
//! Invariant: resolution always returns a policy; when it reported an error the
//! policy is incomplete and must not be analysed or compiled.

mod ahead;
mod evaluate;
mod includes;
pub(crate) mod inventory;
mod names;
pub mod policy;
mod selectors;

pub use includes::{read_text, MAX_FILE_BYTES};
pub use selectors::selected;
pub mod services;

pub use policy::*;

use crate::addr::{AddrSet, IntervalSet};
use crate::diagnostic::Diagnostic;
use crate::model::Date;
use crate::source::SourceMap;
use ahead::Ahead;
use std::path::Path;

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
}

/// Reads `path` (and everything it includes) and resolves it.
pub fn load(path: &Path, sources: &mut SourceMap, options: &Options) -> (Policy, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut ahead = Ahead::new();
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
