//! BW201 internet-exposure.
//!
//! ## What it does
//! Reports a rule that lets a flow from the internet (any address outside
//! `internal`) reach a BMC.
//!
//! ## Why it matters
//! BMCs answer before authentication on weak protocols (IPMI RAKP hash
//! disclosure, cipher 0) and control the whole machine. No BMC should be
//! reachable from the internet.
//!
//! ## Example
//! ```text
//! internal 10.0.0.0/8;
//! bmc rack2 = 10.10.2.0/24;
//! allow 198.51.100.0/24 -> rack2 : redfish;
//! ```
//!
//! ## How to fix
//! Let the outside in through a jump host or VPN inside `internal`, not
//! directly; or add the source network to `internal` if it is yours.

use super::support::edge_findings;
use super::Context;
use crate::analysis::graph::NodeKind;
use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::PolicyRule;

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    let kinds = (NodeKind::Internet, NodeKind::Bmc);
    edge_findings(
        context,
        kinds,
        Code::InternetExposure,
        ("the internet reaches a BMC", "allows internet to BMC"),
        fix,
        out,
    );
}

/// Narrow the source to internal networks, or declare it internal.
fn fix(context: &Context, rule: &PolicyRule) -> Option<String> {
    let source = context.sources.text(rule.src_span);
    Some(format!(
        "let the outside in through a jump host or VPN inside `internal`: narrow the source \
         `{source}` to internal networks (or write `{source} except internet`); if its \
         addresses are yours, add them to `internal`"
    ))
}
