//! BW206 cleartext-service.
//!
//! ## What it does
//! Warns when a rule allows a cleartext built-in service (marked * in the
//! service table: telnet, http, snmp, vnc, iDRAC and iLO consoles, ...) to a
//! BMC. Ports written as numbers (`tcp 80`) are taken as written and not
//! flagged.
//!
//! ## Why it matters
//! Credentials and console sessions cross the management network readable by
//! anyone on the path.
//!
//! ## Example
//! ```text
//! allow monitor -> rack1 : snmp;
//! ```
//!
//! ## How to fix
//! Use the encrypted variant (https, ssh, SNMPv3 over a tunnel, the vendor's
//! TLS console), or waive the finding with the reason.

use super::support::at_rule;
use super::Context;
use crate::diagnostic::{Code, Diagnostic};

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    for (ordinal, facts) in context.to_bmcs().iter().enumerate() {
        let Some(flow) = facts.cleartext_witness else {
            continue;
        };
        let rule = &context.policy.rules[context.analysis.rules[ordinal]];
        let witness = flow.witness();
        let service = match witness.port {
            Some(port) => format!("{} {port}", witness.proto),
            None => witness.proto.clone(),
        };
        out.push(
            at_rule(
                Code::CleartextService,
                rule,
                format!("cleartext service {service} is allowed to BMCs"),
                "cleartext to BMCs",
                &flow,
            )
            .with_help("use an encrypted service, or waive this finding with the reason"),
        );
    }
}
