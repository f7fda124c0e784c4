//! How one flow is decided, and why: the deciding rule, the later rules that
//! also match, expired rules that would, the scope, and for a flow to a BMC
//! whether and how the internet reaches it. A value; `bmcwall explain` prints it.

use super::flow::holds;
use super::graph::{Hop, NodeKind, ReachGraph};
use super::{first_match, Analysis, Flow};
use crate::model::Action;
use crate::resolve::Policy;

/// Everything `explain` says about one flow. Rules are policy indices.
#[derive(Clone, Debug)]
pub struct Explanation {
    pub flow: Flow,
    pub decision: Decision,
    /// Rules in force after the deciding one that match the flow too, ascending.
    pub later: Vec<usize>,
    /// Expired rules (not compiled) that match the flow, ascending.
    pub expired: Vec<usize>,
    /// Whether the flow is in the scope the generated table governs.
    pub in_scope: bool,
    /// Whether the internet reaches the destination; `None` when the
    /// destination is not a BMC.
    pub exposure: Option<Exposure>,
}

/// What decides the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The first rule in force that matches, and what it does.
    Rule { index: usize, action: Action },
    /// No rule matches: the default deny.
    DefaultDeny,
}

/// Whether the internet reaches a BMC.
#[derive(Clone, Debug)]
pub enum Exposure {
    /// The shortest path from the internet, its last hop ending at the
    /// address asked about.
    Reachable(Vec<Hop>),
    /// No path from the internet reaches it.
    Unreachable,
}

/// Explains how `flow` is decided.
pub fn explain(policy: &Policy, analysis: &Analysis, flow: &Flow) -> Explanation {
    let decider = analysis.decide(flow);
    debug_assert_eq!(decider, first_match(policy, flow));
    let decision = match decider {
        Some(index) => Decision::Rule {
            index,
            action: policy.rules[index].action,
        },
        None => Decision::DefaultDeny,
    };
    let later = policy
        .active_rules()
        .filter(|(i, rule)| Some(*i) > decider && decider.is_some() && flow.matched_by(rule))
        .map(|(i, _)| i)
        .collect();
    let expired = policy
        .rules
        .iter()
        .enumerate()
        .filter(|(_, rule)| rule.expired && flow.matched_by(rule))
        .map(|(i, _)| i)
        .collect();
    let exposure =
        holds(&policy.bmcs, flow.family, flow.dst).then(|| exposure(policy, analysis, flow));
    Explanation {
        flow: *flow,
        decision,
        later,
        expired,
        in_scope: flow.in_scope(&policy.scope),
        exposure,
    }
}

/// Whether the internet reaches the destination of `flow`, a BMC.
fn exposure(policy: &Policy, analysis: &Analysis, flow: &Flow) -> Exposure {
    let graph = ReachGraph::new(policy, analysis);
    let path = graph
        .node_of(flow.family, flow.dst)
        .filter(|&n| graph.node(n).kind == NodeKind::Bmc)
        .and_then(|n| graph.exposure_path(analysis, n));
    match path {
        Some(mut hops) => {
            // The path reaches the class; it ends at the address asked about.
            if let Some(last) = hops.last_mut() {
                last.flow.dst = flow.dst;
            }
            Exposure::Reachable(hops)
        }
        None => Exposure::Unreachable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::service::{ServicePoint, UDP};
    use crate::model::Date;
    use crate::resolve;
    use crate::source::SourceMap;
    use std::net::IpAddr;
    use std::path::Path;

    fn explained(file: &str, from: &str, to: &str, udp_port: u16) -> Explanation {
        let mut sources = SourceMap::default();
        let today = Date::parse("2026-11-21").expect("a date");
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let (policy, diagnostics) =
            resolve::load(&path, &mut sources, &resolve::Options::new(today));
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let analysis = Analysis::new(&policy);
        let address = |text: &str| text.parse::<IpAddr>().expect("an address");
        let service = ServicePoint {
            proto: UDP,
            port: Some(udp_port),
        };
        let flow = Flow::new(address(from), address(to), service).expect("one family");
        explain(&policy, &analysis, &flow)
    }

    #[test]
    fn a_flow_to_a_bmc_names_its_rule_the_later_matches_and_no_exposure() {
        let explanation = explained("examples/ams1/ams1.wall", "10.20.0.5", "10.10.1.11", 623);
        assert_eq!(
            explanation.decision,
            Decision::Rule {
                index: 0,
                action: Action::Allow
            }
        );
        assert_eq!(explanation.later, [1, 4]);
        assert!(explanation.expired.is_empty());
        assert!(explanation.in_scope);
        assert!(matches!(explanation.exposure, Some(Exposure::Unreachable)));
    }

    #[test]
    fn an_exposed_bmc_gets_the_path_ending_at_the_address_asked_about() {
        let explanation = explained(
            "tests/fixtures/lints/bw202_trigger.wall",
            "10.20.0.5",
            "10.10.1.11",
            623,
        );
        assert_eq!(explanation.decision, Decision::DefaultDeny);
        assert!(explanation.later.is_empty());
        let Some(Exposure::Reachable(hops)) = &explanation.exposure else {
            panic!("not reachable: {:?}", explanation.exposure);
        };
        let rules: Vec<usize> = hops.iter().map(|hop| hop.rule).collect();
        assert_eq!(rules, [3, 4]);
        assert_eq!(hops[1].flow.dst, explanation.flow.dst);
    }
}
