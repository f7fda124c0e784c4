//! BW304 broad-waiver.
//!
//! ## What it does
//! Warns when a `waive` that names no services silences a finding that
//! lists several (BW206 lists every cleartext service a rule lets reach
//! BMCs): the waiver covers services it does not name. The finding is at
//! the waiver and lists the services it covers.
//!
//! ## Why it matters
//! `waive BW206 "iDRAC8 virtual console"` reads as accepting one console,
//! but on `allow j -> b : idrac, telnet, http` it accepts telnet and http
//! too, and any cleartext service added to the rule later.
//!
//! ## Example
//! ```text
//! allow jump -> rack1 : idrac, telnet, http  waive BW206 "iDRAC8 virtual console";
//! ```
//!
//! ## How to fix
//! Name the services the waiver is meant for: `waive BW206(idrac) "iDRAC8
//! virtual console"`. The finding is then reported for the others until
//! they are removed or waived by name.

use super::Context;
use crate::diagnostic::{Code, Diagnostic};

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    let mut found = Vec::new();
    for diagnostic in out.iter() {
        if !diagnostic.code.lists_services() || diagnostic.services.len() < 2 {
            continue;
        }
        let Some(waiver) = context.policy.waiver_of(diagnostic) else {
            continue;
        };
        if !waiver.services.is_empty() {
            continue;
        }
        let named: Vec<String> = diagnostic
            .services
            .iter()
            .map(|s| format!("`{s}`"))
            .collect();
        found.push(
            Diagnostic::new(
                Code::BroadWaiver,
                format!(
                    "waiver of {} covers {} services it does not name: {}",
                    diagnostic.code,
                    named.len(),
                    named.join(", ")
                ),
                waiver.span,
                "names no service",
            )
            .with_help(format!(
                "name the services it is meant for, e.g. `waive {}({}) \"...\"`",
                diagnostic.code, diagnostic.services[0]
            )),
        );
    }
    out.extend(found);
}
