//! BW302 expiring-rule.
//!
//! ## What it does
//! Notes a rule whose `until` date is within the next 14 days
//! (`expiry-warning-days` in bmcwall.toml's `[thresholds]`).
//!
//! ## Why it matters
//! When the date passes, the access ends: the compiled table stops the rule
//! by the gateway's clock. Whoever relies on it should know before then.
//!
//! ## Example
//! ```text
//! allow vendor-vpn -> lab-bmc : https  until 2026-11-30;
//! ```
//!
//! ## How to fix
//! Nothing, if the access should end. Otherwise extend the date.

use super::Context;
use crate::diagnostic::{Code, Diagnostic};

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    let today = context.today.days_since_epoch();
    for rule in &context.policy.rules {
        let Some((date, span)) = rule.until else {
            continue;
        };
        let left = date.days_since_epoch() - today;
        if (0..=context.thresholds.expiry_warning_days).contains(&left) {
            let when = match left {
                0 => "today".to_string(),
                1 => "tomorrow".to_string(),
                n => format!("in {n} days"),
            };
            out.push(Diagnostic::new(
                Code::ExpiringRule,
                format!("rule expires {when} ({date})"),
                span,
                "expires soon",
            ));
        }
    }
}
