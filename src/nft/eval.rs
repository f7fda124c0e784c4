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
        // Where each `jump` returns to: a chain and the rule after the jump.
        let mut returns: Vec<(&super::Chain, usize)> = Vec::new();
        let (mut chain, mut next) = (self.base_chain(), 0);
        loop {
            let Some(rule) = chain.rules.get(next) else {
                match returns.pop() {
                    Some((back, at)) => (chain, next) = (back, at),
                    // The end of the base chain, or of a chain reached by
                    // `goto` from it: the base chain's policy.
                    None => {
                        return Verdict {
                            accept: true,
                            logged,
                        }
                    }
                }
                continue;
            };
            next += 1;
            if !rule.matches.iter().all(|m| self.holds(m, flow)) {
                continue;
            }
            match self.run(rule, flow, &mut logged) {
                Outcome::Next => {}
                Outcome::Verdict(accept) => return Verdict { accept, logged },
                Outcome::Goto(name) => (chain, next) = (self.chain(&name), 0),
                Outcome::Jump(name) => {
                    returns.push((chain, next));
                    (chain, next) = (self.chain(&name), 0);
                }
            }
        }
    }

    fn chain(&self, name: &str) -> &super::Chain {
        self.chains
            .iter()
            .find(|c| c.name == name)
            .expect("goto and jump targets exist")
    }

    fn run(&self, rule: &Rule, flow: &Flow, logged: &mut Vec<String>) -> Outcome {
        for statement in &rule.statements {
            let verdict = match statement {
                Statement::Vmap { key, map } => match self.lookup(key, map, flow) {
                    Some(i) => {
                        let verdicts = self.set(map).verdicts.as_ref().expect("a map");
                        &verdicts[i]
                    }
                    None => return Outcome::Next,
                },
                other => other,
            };
            match verdict {
                // Rates are never exceeded by one packet.
                Statement::Counter | Statement::Limit { .. } => {}
                Statement::Log { prefix } => logged.push(prefix.clone()),
                Statement::Accept => return Outcome::Verdict(true),
                Statement::Drop => return Outcome::Verdict(false),
                Statement::Goto(chain) => return Outcome::Goto(chain.clone()),
                Statement::Jump(chain) => return Outcome::Jump(chain.clone()),
                Statement::Vmap { .. } => panic!("a map's verdict is a lookup"),
            }
        }
        Outcome::Next
    }

    fn set(&self, name: &str) -> &super::Set {
        self.sets
            .iter()
            .find(|s| s.name == name)
            .expect("set exists")
    }

    /// The index of the element of set `name` that holds the packet's `key`.
    fn lookup(&self, key: &[Selector], name: &str, flow: &Flow) -> Option<usize> {
        let values = key
            .iter()
            .map(|s| value(*s, flow))
            .collect::<Option<Vec<u128>>>()?;
        self.set(name).elements.iter().position(|element| {
            element
                .iter()
                .zip(&values)
                .all(|(field, &v)| contains(*field, v))
        })
    }

    fn holds(&self, m: &Match, flow: &Flow) -> bool {
        match m {
            // The first packet of a connection is `new`.
            Match::CtState(states) => states.contains(&"new"),
            Match::L4protoIn(protos) => protos.contains(&flow.service.proto),
            Match::InSet { key, set, negate } => {
                // A packet without the key's fields matches nothing.
                let has_key = key.iter().all(|s| value(*s, flow).is_some());
                has_key && self.lookup(key, set, flow).is_some() != *negate
            }
        }
    }
}

enum Outcome {
    Next,
    Verdict(bool),
    Goto(String),
    Jump(String),
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
