//! BW204 bmc-lateral.
//!
//! ## What it does
//! Reports a rule that lets a BMC open a flow to another BMC.
//!
//! ## Why it matters
//! One compromised BMC should not be a step to the next: BMCs share firmware
//! and its flaws, so lateral movement between them is cheap.
//!
//! ## Example
//! ```text
//! bmc rack1 = 10.10.1.0/24;
//! bmc rack2 = 10.10.2.0/24;
//! allow rack1 -> any : https;        # rack1 reaches rack2 (and itself)
//! ```
//!
//! ## How to fix
//! Exclude BMCs from the destination (`any except bmcs`), or name the servers.

use super::support::{allowing_rules, at_rule, with_path};
use super::Context;
use crate::analysis::graph::{Hop, NodeKind};
use crate::diagnostic::Diagnostic;
use crate::lints::registry::Code;

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    for (rule_index, flow) in allowing_rules(context, NodeKind::Bmc, NodeKind::Bmc) {
        let rule = &context.policy.rules[rule_index];
        let diagnostic = at_rule(
            Code::BmcLateral,
            rule,
            format!(
                "a BMC may open flows to another BMC: {} is allowed",
                flow.witness()
            ),
            "BMC to BMC",
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
