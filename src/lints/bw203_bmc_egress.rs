//! BW203 bmc-egress.
//!
//! ## What it does
//! Reports a rule that lets a BMC open a flow to the internet.
//!
//! ## Why it matters
//! A compromised or implanted BMC sees everything on its server; the way out
//! to the internet is how it exfiltrates. BMCs need NTP, syslog and updates
//! from internal servers only.
//!
//! ## Example
//! ```text
//! allow rack1 -> any : https;
//! ```
//!
//! ## How to fix
//! Name the internal servers BMCs may reach instead of `any`.

use super::support::edge_findings;
use super::Context;
use crate::analysis::graph::NodeKind;
use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::PolicyRule;

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    let kinds = (NodeKind::Bmc, NodeKind::Internet);
    edge_findings(
        context,
        kinds,
        Code::BmcEgress,
        ("a BMC may open flows to the internet", "lets BMCs out"),
        fix,
        out,
    );
}

/// Name the internal servers, or take the internet out of the destination.
fn fix(context: &Context, rule: &PolicyRule) -> Option<String> {
    let destination = context.sources.text(rule.dst_span);
    Some(format!(
        "name the internal servers BMCs need (NTP, syslog, update mirrors) instead of \
         `{destination}`, e.g. `allow bmcs -> ntp1 : ntp;`, or write `{destination} except internet`"
    ))
}
