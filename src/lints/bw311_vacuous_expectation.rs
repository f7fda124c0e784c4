//! BW311 vacuous-expectation.
//!
//! ## What it does
//! Warns about an `expect` whose source or destination is empty, or whose source and destination share no address family: it holds because there is no flow to ask about, whatever the rules say.
//!
//! ## Why it matters
//! `expect deny internet -> bmcs` is meant to protect every BMC. When `bmcs` is empty (an inventory that yields no BMC, a selector that matches nothing) it holds vacuously, and the check that was meant to catch an exposure passes without looking at anything.
//!
//! ## Example
//! ```text
//! bmc rack-z = inventory(rack = "z");      # no such rack: empty
//! expect deny internet -> rack-z;          # holds, vacuously
//! ```
//!
//! ## How to fix
//! Make the empty side name what it is meant to (fix the selector or the inventory), or delete the expectation.

use super::Context;
use crate::diagnostic::{Code, Diagnostic};

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    for expectation in &context.policy.expectations {
        let (src, dst) = (&expectation.src, &expectation.dst);
        let empty = match (src.is_empty(), dst.is_empty()) {
            (true, true) => "its source and its destination are empty",
            (true, false) => "its source is empty",
            (false, true) => "its destination is empty",
            (false, false) => {
                let v4 = !src.v4.is_empty() && !dst.v4.is_empty();
                let v6 = !src.v6.is_empty() && !dst.v6.is_empty();
                if v4 || v6 {
                    continue;
                }
                "its source and destination share no address family"
            }
        };
        out.push(
            Diagnostic::new(
                Code::VacuousExpectation,
                format!("expectation holds only because {empty}"),
                expectation.span,
                "holds vacuously",
            )
            .with_help("an expectation about no flow holds whatever the rules say; make both sides name the addresses meant (an empty inventory or selector makes a side empty)"),
        );
    }
}
