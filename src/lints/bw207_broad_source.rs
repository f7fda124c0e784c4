//! BW207 broad-source.
//!
//! ## What it does
//! Warns when a rule allows flows to a BMC from sources that hold more
//! consecutive addresses than a /16 (IPv4) or a /48 (IPv6) network: a wider
//! prefix, or a range or a network with holes that is nearly one. Only the
//! sources whose flows to BMCs the rule decides count. The limits are
//! `broad-source-v4` and `broad-source-v6` in bmcwall.toml's `[thresholds]`.
//!
//! ## Why it matters
//! "Only named people and jump hosts get in": a whole campus or data centre as
//! a source is not a named set of people.
//!
//! ## Example
//! ```text
//! allow 10.0.0.0/8 -> bmcs : https;
//! ```
//!
//! ## How to fix
//! Name the admin networks and jump hosts that need access.

use super::support::{at_rule, wider_than};
use super::Context;
use crate::diagnostic::{Code, Diagnostic};

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    for (ordinal, facts) in context.to_bmcs().iter().enumerate() {
        let Some(flow) = facts.witness else {
            continue;
        };
        let limits = &context.thresholds;
        let Some(too_wide) = wider_than(
            &facts.sources,
            limits.broad_source_v4,
            limits.broad_source_v6,
        ) else {
            continue;
        };
        let rule = &context.policy.rules[context.analysis.rules[ordinal]];
        out.push(
            at_rule(
                Code::BroadSource,
                rule,
                format!("BMCs are reachable from {too_wide}"),
                "broad source",
                &flow,
            )
            .with_help("name the admin networks and jump hosts instead"),
        );
    }
}
