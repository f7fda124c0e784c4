//! Checks over the resolved policy, its decision table and its reachability
//! graph. One file per code; each file's `//!` comment is the code's
//! documentation (`bmcwall lints CODE`, docs/lints.md).

pub mod bw001_syntax_error;
pub mod bw002_unknown_name;
pub mod bw003_duplicate_definition;
pub mod bw004_include_error;
pub mod bw005_inventory_error;
pub mod bw006_invalid_value;
pub mod bw007_definition_cycle;
pub mod bw008_empty_selector;
pub mod bw101_shadowed_rule;
pub mod bw102_redundant_rule;
pub mod bw103_correlated_rules;
pub mod bw104_generalization;
pub mod bw105_out_of_scope_rule;
pub mod bw201_internet_exposure;
pub mod bw202_transitive_exposure;
pub mod bw203_bmc_egress;
pub mod bw204_bmc_lateral;
pub mod bw205_broad_ipmi;
pub mod bw206_cleartext_service;
pub mod bw207_broad_source;
pub mod bw208_any_service;
pub mod bw301_expired_rule;
pub mod bw302_expiring_rule;
pub mod bw303_unused_definition;
pub mod bw401_expectation_failed;
pub mod registry;
mod support;

use crate::analysis::graph::ReachGraph;
use crate::analysis::rules::{self, RuleFacts};
use crate::analysis::Analysis;
use crate::diagnostic::Diagnostic;
use crate::model::Date;
use crate::resolve::Policy;
use std::cell::OnceCell;

/// What every check gets; shared derived facts are computed once, on demand.
pub struct Context<'a> {
    pub policy: &'a Policy,
    pub analysis: &'a Analysis,
    pub sources: &'a crate::source::SourceMap,
    pub today: Date,
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
    ) -> Self {
        Self {
            policy,
            analysis,
            sources,
            today,
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
