//! BW206 cleartext-service.
//!
//! ## What it does
//! Warns when a rule allows a cleartext built-in service (marked * in the
//! service table: telnet, http, snmp, vnc, iDRAC and iLO consoles, ...) to a
//! BMC. Ports written as numbers (`tcp 80`) are taken as written and not
//! flagged. One finding per rule lists every cleartext service it lets reach
//! BMCs, by name and ports, so a waiver can name the ones it is meant for
//! (`waive BW206(vnc) "..."`): the finding is waived only when the waiver
//! names all of them.
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
//! TLS console); for a vendor set, its encrypted part (`idrac-encrypted`
//! instead of `idrac`). Or waive the finding, naming the services meant,
//! with the reason: `waive BW206(vnc) "iDRAC8 virtual console"`.

use super::support::at_rule;
use super::Context;
use crate::addr::service;
use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::services::encrypted_part;

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    for (ordinal, facts) in context.to_bmcs().iter().enumerate() {
        let Some(flow) = facts.cleartext_witness else {
            continue;
        };
        let rule = &context.policy.rules[context.analysis.rules[ordinal]];
        let parts: Vec<&(String, service::ServiceSet)> = facts
            .cleartext_parts
            .iter()
            .map(|&part| &rule.cleartext[part])
            .collect();
        let listed: Vec<String> = parts
            .iter()
            .map(|(name, set)| format!("`{name}` ({})", service::short_words(set)))
            .collect();
        let message = match listed.as_slice() {
            [one] => format!("cleartext service {one} is allowed to BMCs"),
            [first @ .., last] => format!(
                "cleartext services {} and {last} are allowed to BMCs",
                first.join(", ")
            ),
            [] => "a cleartext service is allowed to BMCs".to_string(),
        };
        let names: Vec<String> = parts.iter().map(|(name, _)| name.clone()).collect();
        let mut help = Vec::new();
        for name in &names {
            if let Some(encrypted) = encrypted_part(name) {
                help.push(format!("use `{encrypted}` instead of `{name}`"));
            }
        }
        help.push(format!(
            "use encrypted services, or waive the finding for the services meant, with the \
             reason: `waive BW206({}) \"...\"`",
            names.join(", ")
        ));
        let mut diagnostic = at_rule(
            Code::CleartextService,
            rule,
            message,
            "cleartext to BMCs",
            &flow,
        )
        .with_help(help.join("; "));
        diagnostic.services = names;
        out.push(diagnostic);
    }
}
