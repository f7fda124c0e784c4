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

use super::support::{allowing_rules, at_rule, with_path};
use super::Context;
use crate::analysis::graph::{Hop, NodeKind};
use crate::diagnostic::Diagnostic;
use crate::lints::registry::Code;

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    for (rule_index, flow) in allowing_rules(context, NodeKind::Internet, NodeKind::Bmc) {
        let rule = &context.policy.rules[rule_index];
        let diagnostic = at_rule(
            Code::InternetExposure,
            rule,
            format!("the internet reaches a BMC: {} is allowed", flow.witness()),
            "allows internet to BMC",
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
