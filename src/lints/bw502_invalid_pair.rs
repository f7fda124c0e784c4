//! BW502 invalid-pair
//!
//! ## What it does
//! Reports a gateway's `pair NAME` that does not make an HA pair: NAME is no gateway, NAME is itself a member of a pair (pairs have one table, the first gateway's), or the member has its own `scope` or `mode`, which is ignored, as a member takes its peer's. The finding names the gateway in the JSON and SARIF output.
//!
//! ## Why it matters
//! A member whose peer is missing gets a table of its own that governs `any` (a gateway without `scope`), not its peer's: after a failover the backup enforces something else than the primary did. A member's own `scope` or `mode` reads as if it applied, and does not.
//!
//! ## Example
//! ```text
//! gateway ams1-gw   = 10.1.0.1 { scope inventory(site = "ams1"); }
//! gateway ams1-gw-b = 10.1.0.2 { pair ams1-gw1; }                      # no gateway ams1-gw1
//! gateway ams1-gw-c = 10.1.0.3 { pair ams1-gw; scope 10.1.0.0/16; }    # ignored
//! ```
//!
//! ## How to fix
//! Name the primary gateway of the pair, and write `scope` and `mode` on it only.

use super::Context;
use crate::diagnostic::{Code, Diagnostic};

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    let policy = context.policy;
    for gateway in &policy.gateways {
        let Some(pair) = &gateway.pair else {
            continue;
        };
        let names = vec![gateway.name.clone()];
        let Some(peer) = pair.index else {
            let diagnostic = match policy.gateway_named(&pair.peer) {
                None => {
                    let close = crate::diagnostic::closest(
                        &pair.peer,
                        policy.gateways.iter().map(|g| g.name.as_str()),
                    );
                    let diagnostic = Diagnostic::new(
                        Code::InvalidPair,
                        format!(
                            "gateway `{}` pairs with `{}`, which is no gateway",
                            gateway.name, pair.peer
                        ),
                        pair.span,
                        "no such gateway",
                    );
                    match close {
                        Some(close) => diagnostic.with_suggestion(close),
                        None => diagnostic.with_help(
                            "name the primary gateway of the pair; until then this gateway has \
                             a table of its own",
                        ),
                    }
                }
                Some(other) => Diagnostic::new(
                    Code::InvalidPair,
                    format!(
                        "gateway `{}` pairs with `{}`, which is itself a member of a pair",
                        gateway.name, pair.peer
                    ),
                    pair.span,
                    "a member, not a primary",
                )
                .with_related(policy.gateways[other].name_span, "a pair member")
                .with_help(
                    "a pair has one table, its primary's: name the gateway that member pairs \
                     with",
                ),
            };
            out.push(diagnostic.with_gateways(names));
            continue;
        };
        for (item, span) in [("scope", gateway.scope_item), ("mode", gateway.mode_item)] {
            let Some(span) = span else {
                continue;
            };
            out.push(
                Diagnostic::new(
                    Code::InvalidPair,
                    format!(
                        "gateway `{}` is a member of `{}`'s pair: its own `{item}` is ignored",
                        gateway.name, pair.peer
                    ),
                    span,
                    "ignored",
                )
                .with_related(
                    policy.gateways[peer].name_span,
                    "the pair's table is this gateway's",
                )
                .with_help(format!(
                    "a pair member has its peer's table: write `{item}` on `{}` only",
                    pair.peer
                ))
                .with_gateways(names.clone()),
            );
        }
    }
}
