//! BW503 gateway-overlap
//!
//! ## What it does
//! Reports two gateways that are not one HA pair when they share an address, or when a BMC lies in the `scope` of both in `mode forward`. Flows that cross two gateways (an admin network in one site reaching BMCs in another) are not reported: every gateway's table decides as the whole policy does, so a flow enforced twice gets the same decision twice, which is fine.
//!
//! ## Why it matters
//! Two gateways with one address are one machine declared twice, or an HA pair without `pair`: their tables differ, and after a failover the other one enforces. A BMC sits on one management network behind one gateway; in the scope of two it is most often a selector that matches another site's inventory (a shared label value), and one of the two tables holds rules for BMCs it never sees.
//!
//! ## Example
//! ```text
//! gateway ams1-gw = 10.1.0.1 { scope inventory(vendor = "dell"); }   # every site's Dell BMCs
//! gateway fra1-gw = 10.2.0.1 { scope inventory(site = "fra1"); }
//! ```
//!
//! ## How to fix
//! Declare the second gateway of an HA pair with `pair`; select each gateway's BMCs by its site.

use super::Context;
use crate::diagnostic::{Code, Diagnostic};

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    let policy = context.policy;
    let gateways = &policy.gateways;
    // A `pair` that makes no pair is BW502's.
    let paired = |g: usize| gateways[g].pair.as_ref().is_none_or(|p| p.index.is_some());
    for second in 0..gateways.len() {
        for first in 0..second {
            if policy.target_of(first) == policy.target_of(second)
                || !paired(first)
                || !paired(second)
            {
                continue;
            }
            let (a, b) = (&gateways[first], &gateways[second]);
            let names = vec![a.name.clone(), b.name.clone()];
            if a.addrs.intersects(&b.addrs) {
                out.push(
                    Diagnostic::new(
                        Code::GatewayOverlap,
                        format!("gateways `{}` and `{}` share an address", a.name, b.name),
                        b.name_span,
                        "an address of another gateway",
                    )
                    .with_related(a.name_span, "the other gateway")
                    .with_help(
                        "an HA pair is declared with `pair NAME` on its second member; a \
                         gateway declared twice, once",
                    )
                    .with_gateways(names.clone()),
                );
                continue;
            }
            // Scopes once per table: a member's is its peer's.
            let own = |g: usize| policy.target_of(g) == g && gateways[g].enforcement.forward;
            if !own(first) || !own(second) {
                continue;
            }
            let shared = policy.bmcs.intersection(&a.scope).intersection(&b.scope);
            if shared.is_empty() {
                continue;
            }
            let bmcs: Vec<&str> = policy
                .inventory
                .iter()
                .filter(|entry| entry.addresses.intersects(&shared))
                .map(|entry| entry.name.as_str())
                .collect();
            let mut listed = super::support::names_listed(bmcs.into_iter());
            if listed.is_empty() {
                listed = "BMC addresses".into();
            }
            out.push(
                Diagnostic::new(
                    Code::GatewayOverlap,
                    format!(
                        "BMCs in the scope of both `{}` and `{}`: {listed}",
                        a.name, b.name
                    ),
                    b.scope_item.unwrap_or(b.name_span),
                    "BMCs another gateway's scope holds too",
                )
                .with_related(
                    a.scope_item.unwrap_or(a.name_span),
                    "the other gateway's scope",
                )
                .with_help(
                    "a BMC sits behind one gateway: select each gateway's BMCs by its site, \
                     or declare the two as a pair",
                )
                .with_gateways(names),
            );
        }
    }
}
