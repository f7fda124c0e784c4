//! BW303 unused-definition.
//!
//! ## What it does
//! Warns about a `host`, `network`, `group` or `service` definition that no
//! rule, expectation or other definition uses. `bmc` definitions always count
//! as used: they make their addresses BMCs.
//!
//! ## Why it matters
//! Unused names are often a sign of a rule that was meant to use them, or of
//! access that was removed without cleaning up.
//!
//! ## Example
//! ```text
//! host old-jump = 10.20.0.9;     # nothing refers to it
//! ```
//!
//! ## How to fix
//! Delete the definition, or use it where it was meant to be used.

use super::Context;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::DefKind;
use crate::resolve::NamedKind;

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    for definition in &context.policy.definitions {
        if definition.uses > 0 || matches!(definition.kind, NamedKind::Address(DefKind::Bmc, _)) {
            continue;
        }
        out.push(
            Diagnostic::new(
                Code::UnusedDefinition,
                format!("`{}` is defined but never used", definition.name),
                definition.name_span,
                "unused",
            )
            .with_help("delete it, or use it where it was meant to be used"),
        );
    }
}
