//! BW205 broad-ipmi.
//!
//! ## What it does
//! Warns when a rule allows IPMI (udp 623) to a BMC from a source that holds a
//! network wider than /24 (IPv4) or /64 (IPv6).
//!
//! ## Why it matters
//! IPMI 2.0 hands out password hashes to anyone who asks (RAKP) and some BMCs
//! accept cipher 0. Only a few named hosts should ever speak IPMI to a BMC.
//!
//! ## Example
//! ```text
//! allow 10.30.0.0/16 -> bmcs : ipmi;
//! ```
//!
//! ## How to fix
//! Allow IPMI from jump hosts or a small admin network only; use Redfish over
//! HTTPS for everything else.

use super::support::{at_rule, widest_prefix};
use super::Context;
use crate::diagnostic::Diagnostic;
use crate::lints::registry::Code;

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    for (ordinal, facts) in context.to_bmcs().iter().enumerate() {
        let Some(flow) = facts.ipmi_witness else {
            continue;
        };
        let (v4, v6) = widest_prefix(&facts.ipmi_sources);
        let too_wide = match (v4.is_some_and(|l| l < 24), v6.is_some_and(|l| l < 64)) {
            (true, _) => format!("/{}", v4.unwrap_or_default()),
            (false, true) => format!("/{}", v6.unwrap_or_default()),
            _ => continue,
        };
        let rule = &context.policy.rules[context.analysis.rules[ordinal]];
        out.push(
            at_rule(
                Code::BroadIpmi,
                rule,
                format!("IPMI to BMCs is allowed from a network as wide as {too_wide}"),
                "broad IPMI source",
                &flow,
            )
            .with_help("allow IPMI from jump hosts or a /24 (IPv6: /64) admin network at most"),
        );
    }
}
