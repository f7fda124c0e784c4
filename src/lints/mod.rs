//! Checks over the resolved policy, its decision table and its reachability
//! graph. One file per code; each file's `//!` comment is the code's
//! documentation (`bmcwall lints CODE`, docs/lints.md).

mod bw001_syntax_error;
mod bw002_unknown_name;
mod bw003_duplicate_definition;
mod bw004_include_error;
mod bw005_inventory_error;
mod bw006_invalid_value;
mod bw007_definition_cycle;
mod bw008_empty_selector;
mod bw009_empty_inventory;
mod bw010_unresolved_name;
mod bw011_gateway_error;
mod bw101_shadowed_rule;
mod bw102_redundant_rule;
mod bw103_correlated_rules;
mod bw104_generalization;
mod bw105_out_of_scope_rule;
mod bw106_unwatched_network;
mod bw201_internet_exposure;
mod bw202_transitive_exposure;
mod bw203_bmc_egress;
mod bw204_bmc_lateral;
mod bw205_broad_ipmi;
mod bw206_cleartext_service;
mod bw207_broad_source;
mod bw208_any_service;
mod bw301_expired_rule;
mod bw302_expiring_rule;
mod bw303_unused_definition;
mod bw304_broad_waiver;
mod bw309_unknown_vendor;
mod bw310_shared_address;
mod bw311_confusable_text;
mod bw401_expectation_failed;
mod bw501_ungoverned_bmc;
mod bw502_invalid_pair;
mod bw503_gateway_overlap;
mod registry;
mod support;

use crate::analysis::graph::ReachGraph;
use crate::analysis::rules::{self, RuleFacts};
use crate::analysis::Analysis;
use crate::diagnostic::Diagnostic;
use crate::model::Date;
use crate::resolve::Policy;
use std::cell::OnceCell;

/// The limits some checks measure against (`[thresholds]` in bmcwall.toml).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// BW207: a source wider than this IPv4 prefix length is broad.
    pub broad_source_v4: u32,
    /// BW207: the same for IPv6.
    pub broad_source_v6: u32,
    /// BW205: IPMI from a source wider than this IPv4 prefix length is broad.
    pub broad_ipmi_v4: u32,
    /// BW205: the same for IPv6.
    pub broad_ipmi_v6: u32,
    /// BW302: how many days ahead an `until` date is announced.
    pub expiry_warning_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            broad_source_v4: 16,
            broad_source_v6: 48,
            broad_ipmi_v4: 24,
            broad_ipmi_v6: 64,
            expiry_warning_days: 14,
        }
    }
}

/// What every check gets; shared derived facts are computed once, on demand.
pub struct Context<'a> {
    pub policy: &'a Policy,
    pub analysis: &'a Analysis,
    pub sources: &'a crate::source::SourceMap,
    pub today: Date,
    pub thresholds: Thresholds,
    facts: OnceCell<Vec<RuleFacts>>,
    graph: OnceCell<ReachGraph>,
    to_bmcs: OnceCell<Vec<support::ToBmcs>>,
}

impl<'a> Context<'a> {
    pub fn new(
        policy: &'a Policy,
        analysis: &'a Analysis,
        sources: &'a crate::source::SourceMap,
        today: Date,
        thresholds: Thresholds,
    ) -> Self {
        Self {
            policy,
            analysis,
            sources,
            today,
            thresholds,
            facts: OnceCell::new(),
            graph: OnceCell::new(),
            to_bmcs: OnceCell::new(),
        }
    }

    /// Per-rule facts from the decision table, by rule ordinal.
    pub fn facts(&self) -> &[RuleFacts] {
        self.facts
            .get_or_init(|| rules::facts(self.policy, self.analysis))
    }

    pub fn graph(&self) -> &ReachGraph {
        self.graph
            .get_or_init(|| ReachGraph::new(self.policy, self.analysis))
    }

    /// What each allow rule lets reach BMCs, by rule ordinal.
    pub fn to_bmcs(&self) -> &[support::ToBmcs] {
        self.to_bmcs.get_or_init(|| support::to_bmcs(self))
    }
}

/// Runs every check; findings come back at their default severity.
pub fn run(context: &Context) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for check in registry::CHECKS {
        check(context, &mut out);
    }
    out
}

/// `file:line` of a span, for messages that name another rule.
pub fn location(context: &Context, span: crate::source::Span) -> String {
    context.sources.file_line(span)
}
