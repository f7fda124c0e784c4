//! BW208 any-service.
//!
//! ## What it does
//! Warns when a rule allows every protocol (no `: SERVICES`, or `any`) to a
//! BMC.
//!
//! ## Why it matters
//! A BMC runs many services, some of them never meant to be reached (debug
//! ports, vendor agents). Allow the ones in use.
//!
//! ## Example
//! ```text
//! allow jump1 -> bmcs;
//! ```
//!
//! ## How to fix
//! List the services: `: redfish, ssh, ipmi`, or the encrypted part of a
//! vendor set, such as `idrac-encrypted` (the whole `idrac` set includes a
//! cleartext port, which BW206 reports).

use super::support::at_rule;
use super::Context;
use crate::addr::service;
use crate::diagnostic::{Code, Diagnostic};

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    let any = service::any();
    for (ordinal, facts) in context.to_bmcs().iter().enumerate() {
        let rule = &context.policy.rules[context.analysis.rules[ordinal]];
        let Some(flow) = facts.witness.filter(|_| rule.services == any) else {
            continue;
        };
        out.push(
            at_rule(
                Code::AnyService,
                rule,
                "every protocol is allowed to BMCs".into(),
                "no service list",
                &flow,
            )
            .with_help(
                "list the services in use, e.g. `: redfish, ssh`, or a vendor's encrypted set \
                 such as `idrac-encrypted`",
            ),
        );
    }
}
