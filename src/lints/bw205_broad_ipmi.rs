//! BW205 broad-ipmi.
//!
//! ## What it does
//! Warns when a rule allows IPMI (udp 623) to a BMC from sources that hold
//! more consecutive addresses than a /24 (IPv4) or a /64 (IPv6) network: a
//! wider prefix, or a range or a network with holes that is nearly one. Only
//! the sources whose IPMI flows the rule decides count. The limits are
//! `broad-ipmi-v4` and `broad-ipmi-v6` in bmcwall.toml's `[thresholds]`.
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

use super::support::{at_rule, wider_than};
use super::Context;
use crate::diagnostic::{Code, Diagnostic};

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    for (ordinal, facts) in context.to_bmcs().iter().enumerate() {
        let Some(flow) = facts.ipmi_witness else {
            continue;
        };
        let limits = &context.thresholds;
        let Some(too_wide) = wider_than(
            &facts.ipmi_sources,
            limits.broad_ipmi_v4,
            limits.broad_ipmi_v6,
        ) else {
            continue;
        };
        let rule = &context.policy.rules[context.analysis.rules[ordinal]];
        out.push(
            at_rule(
                Code::BroadIpmi,
                rule,
                format!("IPMI to BMCs is allowed from {too_wide}"),
                "broad IPMI source",
                &flow,
            )
            .with_help(format!(
                "allow IPMI from jump hosts or a /{} (IPv6: /{}) admin network at most",
                limits.broad_ipmi_v4, limits.broad_ipmi_v6
            )),
        );
    }
}
