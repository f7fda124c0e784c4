//! Holding the kernel against the decision table: what a ruleset must
//! forward, loading one form of it into a lab, and the mismatches.

use super::Lab;
use bmcwall::analysis::{Analysis, Flow};
use bmcwall::model::Action;
use bmcwall::nft::{self, Layout, Ruleset};
use bmcwall::pipeline::Checked;
use bmcwall::resolve::Policy;
use std::collections::BTreeSet;
use std::path::Path;

/// Every layout in both forms (text, JSON).
pub const FORMS: [(Layout, bool); 4] = [
    (Layout::Sets, false),
    (Layout::Sets, true),
    (Layout::Rules, false),
    (Layout::Rules, true),
];

pub fn form_name(layout: Layout, json: bool) -> String {
    format!(
        "{} layout, {} form",
        match layout {
            Layout::Sets => "sets",
            Layout::Rules => "rules",
        },
        if json { "JSON" } else { "text" }
    )
}

/// Builds `layout` for a checked policy.
pub fn build(checked: &Checked, layout: Layout) -> Ruleset {
    let (policy, analysis) = checked.model.as_ref().expect("a valid policy");
    let input = nft::Input {
        policy,
        analysis,
        sources: &checked.sources,
    };
    nft::build(layout, input, nft::DEFAULT_TABLE)
}

pub fn render(ruleset: &Ruleset, json: bool) -> String {
    if json {
        nft::json::render(ruleset).expect("nft JSON")
    } else {
        nft::text::render(ruleset, "kernel test")
    }
}

/// What the gateway must forward: flows outside the scope, and flows the
/// decision table allows.
pub fn expected_arrivals(policy: &Policy, analysis: &Analysis, flows: &[Flow]) -> BTreeSet<Flow> {
    flows
        .iter()
        .filter(|flow| {
            let in_scope = flow.in_scope(&policy.scope);
            let allowed = analysis
                .decide(flow)
                .is_some_and(|rule| policy.rules[rule].action == Action::Allow);
            !in_scope || allowed
        })
        .copied()
        .collect()
}

/// How the kernel and the table disagreed.
#[derive(Debug, Default)]
pub struct Mismatch {
    pub rejected: Option<String>,
    /// Forwarded, but the table denies them.
    pub unexpected: Vec<Flow>,
    /// Allowed by the table, but dropped.
    pub missing: Vec<Flow>,
}

impl Mismatch {
    pub fn describe(&self, policy: &Policy, analysis: &Analysis) -> String {
        if let Some(error) = &self.rejected {
            return format!("nft rejected the ruleset: {error}");
        }
        let line = |flow: &Flow| {
            let rule = analysis.decide(flow).map_or("no rule".to_string(), |r| {
                format!("rule {} ({})", r + 1, policy.rules[r].action.as_str())
            });
            format!(
                "  {}  [{:?} {} -> {} {:?}], decided by {rule}\n",
                flow.witness(),
                flow.family,
                flow.src,
                flow.dst,
                flow.service
            )
        };
        let mut out = format!(
            "{} flows forwarded that the table denies:\n",
            self.unexpected.len()
        );
        out.extend(self.unexpected.iter().take(10).map(line));
        out.push_str(&format!(
            "{} flows dropped that the table allows:\n",
            self.missing.len()
        ));
        out.extend(self.missing.iter().take(10).map(line));
        out
    }
}

/// Loads `text` (JSON when `json`) into the lab's gateway, sends `probes` and
/// compares what arrived with `expected`. Returns how many were forwarded.
pub fn verify(
    lab: &Lab,
    dir: &Path,
    text: &str,
    json: bool,
    probes: &[Flow],
    expected: &BTreeSet<Flow>,
) -> Result<usize, Mismatch> {
    let path = dir.join(if json { "ruleset.json" } else { "ruleset.nft" });
    std::fs::write(&path, text).expect("write ruleset");
    if let Err(error) = lab.load(&path, json) {
        return Err(Mismatch {
            rejected: Some(error),
            ..Mismatch::default()
        });
    }
    let arrived = lab.probe(probes);
    let unexpected: Vec<Flow> = arrived.difference(expected).copied().collect();
    let missing: Vec<Flow> = expected.difference(&arrived).copied().collect();
    if unexpected.is_empty() && missing.is_empty() {
        Ok(arrived.len())
    } else {
        Err(Mismatch {
            rejected: None,
            unexpected,
            missing,
        })
    }
}
