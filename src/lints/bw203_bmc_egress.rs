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

use super::support::{allowing_rules, at_rule, with_path};
use super::Context;
use crate::analysis::graph::{Hop, NodeKind};
use crate::diagnostic::Diagnostic;
use crate::lints::registry::Code;

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    for (rule_index, flow) in allowing_rules(context, NodeKind::Bmc, NodeKind::Internet) {
        let rule = &context.policy.rules[rule_index];
        let diagnostic = at_rule(
            Code::BmcEgress,
            rule,
            format!(
                "a BMC may open flows to the internet: {} is allowed",
                flow.witness()
            ),
            "lets BMCs out",
            &flow,
        );
        out.push(with_path(
            context,
            diagnostic,
            &[Hop {
                flow,
                rule: rule_index,
            }],
        ));
    }
}
