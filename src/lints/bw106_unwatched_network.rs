//! BW106 unwatched-network.
//!
//! ## What it does
//! Reports a `watch` statement naming addresses whose flows the table does not
//! govern: outside `scope`, or in a policy with `gateway` declarations outside
//! every gateway's scope.
//!
//! ## Why it matters
//! The table records the denied flows of unknown devices on the watched
//! networks, and only the flows it governs reach it: a device outside the scope
//! is never seen, and the audit's silence about it means nothing.
//!
//! ## Example
//! ```text
//! scope 10.10.0.0/16;
//! watch 10.10.0.0/16, 10.20.0.0/16;   # 10.20.0.0/16 is not in scope
//! ```
//!
//! ## How to fix
//! Widen `scope` (or the gateway's), or watch the network on the gateway that
//! sees it.

use super::Context;
use crate::diagnostic::{Code, Diagnostic};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    let policy = context.policy;
    for (set, span) in &policy.watches {
        let outside = set.difference(&policy.scope);
        let first = outside
            .v4
            .first()
            .map(|a| IpAddr::V4(Ipv4Addr::from(a)))
            .or_else(|| outside.v6.first().map(|a| IpAddr::V6(Ipv6Addr::from(a))));
        let Some(first) = first else { continue };
        let governed = if policy.gateways.is_empty() {
            "`scope`"
        } else {
            "any gateway's scope"
        };
        out.push(
            Diagnostic::new(
                Code::UnwatchedNetwork,
                format!("`watch` names addresses outside {governed}, from {first}"),
                *span,
                "their devices are never seen",
            )
            .with_help(format!(
                "widen {governed} to hold the watched network, or watch it where it is governed"
            )),
        );
    }
}
