//! A reference evaluator of the ruleset model: what nft does with the first
//! packet of a connection. Tests hold both layouts against the decision table
//! with it before the kernel tests hold the kernel against both.

use super::{Field, Match, Rule, Ruleset, Selector, Statement};
use crate::analysis::{Family, Flow};

/// What the table does with a new connection's first packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub accept: bool,
    /// Log prefixes written on the way, in order.
    pub logged: Vec<String>,
}

impl Ruleset {
    pub fn evaluate(&self, flow: &Flow) -> Verdict {
        let mut logged = Vec::new();
        let mut chain = self.base_chain();
        'chains: loop {
            for rule in &chain.rules {
                if !rule.matches.iter().all(|m| self.holds(m, flow)) {
                    continue;
                }
                match run(rule, &mut logged) {
                    Outcome::Next => {}
                    Outcome::Verdict(accept) => return Verdict { accept, logged },
                    Outcome::Goto(name) => {
                        chain = self
                            .chains
                            .iter()
                            .find(|c| c.name == name)
                            .expect("goto target exists");
                        continue 'chains;
                    }
                }
            }
            // The end of any chain reached from the base chain: its policy.
            return Verdict {
                accept: true,
                logged,
            };
        }
    }

    fn holds(&self, m: &Match, flow: &Flow) -> bool {
        match m {
            // The first packet of a connection is `new`.
            Match::CtState(states) => states.contains(&"new"),
            Match::L4protoIn(protos) => protos.contains(&flow.service.proto),
            Match::InSet { key, set, negate } => {
                let Some(values) = key
                    .iter()
                    .map(|s| value(*s, flow))
                    .collect::<Option<Vec<u128>>>()
                else {
                    return false;
                };
                let set = self
                    .sets
                    .iter()
                    .find(|s| &s.name == set)
                    .expect("set exists");
                let found = set.elements.iter().any(|element| {
                    element
                        .iter()
                        .zip(&values)
                        .all(|(field, &v)| contains(*field, v))
                });
                found != *negate
            }
        }
    }
}

enum Outcome {
    Next,
    Verdict(bool),
    Goto(String),
}

fn run(rule: &Rule, logged: &mut Vec<String>) -> Outcome {
    for statement in &rule.statements {
        match statement {
            // Rates are never exceeded by one packet.
            Statement::Counter | Statement::Limit { .. } => {}
            Statement::Log { prefix } => logged.push(prefix.clone()),
            Statement::Accept => return Outcome::Verdict(true),
            Statement::Drop => return Outcome::Verdict(false),
            Statement::Goto(chain) => return Outcome::Goto(chain.clone()),
        }
    }
    Outcome::Next
}

/// The packet's value of a selector; `None` when the packet has no such
/// field (an IPv6 packet has no `ip saddr`).
fn value(selector: Selector, flow: &Flow) -> Option<u128> {
    let v4 = flow.family == Family::V4;
    match selector {
        Selector::IpSaddr => v4.then_some(flow.src),
        Selector::IpDaddr => v4.then_some(flow.dst),
        Selector::Ip6Saddr => (!v4).then_some(flow.src),
        Selector::Ip6Daddr => (!v4).then_some(flow.dst),
        Selector::L4proto => Some(u128::from(flow.service.proto)),
        Selector::ThDport => flow.service.port.map(u128::from),
    }
}

fn contains(field: Field, v: u128) -> bool {
    match field {
        Field::V4(lo, hi) => (u128::from(lo)..=u128::from(hi)).contains(&v),
        Field::V6(lo, hi) => (lo..=hi).contains(&v),
        Field::Proto(lo, hi) => (u128::from(lo)..=u128::from(hi)).contains(&v),
        Field::Port(lo, hi) => (u128::from(lo)..=u128::from(hi)).contains(&v),
    }
}
