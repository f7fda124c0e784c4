//! BW301 expired-rule.
//!
//! ## What it does
//! Flags a rule whose `until` date has passed.
//!
//! ## Why it matters
//! Temporary access (a vendor's support window, a migration) that outlives its
//! date is how exceptions become permanent. bmcwall already leaves the rule out
//! of the compiled table; the finding asks you to delete it from the policy so
//! the file says what the gateway does.
//!
//! ## Example
//! ```text
//! allow vendor-vpn -> lab-bmc : https  until 2025-03-31;
//! ```
//!
//! ## How to fix
//! Delete the rule, or extend its date if the access is still needed.

use super::Context;
use crate::diagnostic::{Code, Diagnostic};

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    for rule in &context.policy.rules {
        let Some((date, span)) = rule.until else {
            continue;
        };
        if rule.expired {
            out.push(
                Diagnostic::new(
                    Code::ExpiredRule,
                    format!("rule expired on {date}; it is not compiled"),
                    span,
                    match context.today.days_since_epoch() - date.days_since_epoch() {
                        1 => "expired yesterday".to_string(),
                        days => format!("expired {days} days ago"),
                    },
                )
                .with_related(rule.span, "this rule")
                .with_help("delete the rule, or extend its `until` date"),
            );
        }
    }
}
