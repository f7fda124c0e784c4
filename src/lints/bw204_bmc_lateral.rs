//! BW204 bmc-lateral.
//!
//! ## What it does
//! Reports a rule that lets a BMC open a flow to another BMC.
//!
//! ## Why it matters
//! One compromised BMC should not be a step to the next: BMCs share firmware
//! and its flaws, so lateral movement between them is cheap.
//!
//! ## Example
//! ```text
//! bmc rack1 = 10.10.1.0/24;
//! bmc rack2 = 10.10.2.0/24;
//! allow rack1 -> any : https;        # rack1 reaches rack2 (and itself)
//! ```
//!
//! ## How to fix
//! Exclude BMCs from the destination (`any except bmcs`), or name the servers.

use super::support::edge_findings;
use super::Context;
use crate::analysis::graph::NodeKind;
use crate::diagnostic::{Code, Diagnostic};

pub fn check(context: &Context, out: &mut Vec<Diagnostic>) {
    let kinds = (NodeKind::Bmc, NodeKind::Bmc);
    edge_findings(
        context,
        kinds,
        Code::BmcLateral,
        ("a BMC may open flows to another BMC", "BMC to BMC"),
        |_, _| None,
        out,
    );
}
