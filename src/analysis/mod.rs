//! The one semantic core: atoms and the first-match decision table.
//!
//! Every address family is cut into source classes and destination classes,
//! the service space into service classes (see [`partition`]). For each
//! (source class, destination class, service class) cell the table stores the
//! rule that decides it, or none (default deny). Checks, expectations and the
//! nftables output all read this one table, so what `check` reports is what
//! the kernel enforces.
//!
//! Invariant: only rules in force (not expired) take part.

pub mod bits;
pub mod flow;
pub mod graph;
pub mod partition;
pub mod region;
pub mod rules;

pub use flow::{Family, Flow};

use crate::addr::service::{self, ServiceSet};
use crate::addr::{Bound, IntervalSet};
use crate::resolve::Policy;
use bits::Bits;
use partition::Partition;

const NONE: u32 = u32::MAX;

/// The decision table of one address family.
#[derive(Clone, Debug)]
pub struct FamilyTable<T: Bound> {
    pub src: Partition<T>,
    pub dst: Partition<T>,
    /// Deciding rule ordinal (index into [`Analysis::rules`]) per cell.
    decisions: Vec<u32>,
    service_count: usize,
}

impl<T: Bound> FamilyTable<T> {
    /// The ordinal of the rule deciding cell `(s, d, v)`, `None` for default deny.
    pub fn decision(&self, s: usize, d: usize, v: usize) -> Option<usize> {
        let value = self.decisions[(s * self.dst.len() + d) * self.service_count + v];
        (value != NONE).then_some(value as usize)
    }

    pub fn cell_count(&self) -> usize {
        self.decisions.len()
    }
}

/// Bit layout of partition signatures: rules, then expectations, then scope.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub rules: usize,
    pub expectations: usize,
}

impl Layout {
    pub fn expectation_bit(&self, index: usize) -> usize {
        self.rules + index
    }

    pub fn scope_bit(&self) -> usize {
        self.rules + self.expectations
    }
}

/// The analysed policy.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// Policy rule index of each rule in force; a rule ordinal indexes this.
    pub rules: Vec<usize>,
    pub layout: Layout,
    pub services: Partition<u32>,
    pub v4: FamilyTable<u32>,
    pub v6: FamilyTable<u128>,
}

impl Analysis {
    pub fn new(policy: &Policy) -> Self {
        let active: Vec<usize> = policy.active_rules().map(|(i, _)| i).collect();
        let layout = Layout {
            rules: active.len(),
            expectations: policy.expectations.len(),
        };
        // The scope bit has no meaning for services; an empty set keeps the
        // signatures of all three partitions the same length.
        let no_scope = ServiceSet::empty();
        let service_sets: Vec<&ServiceSet> = active
            .iter()
            .map(|&i| &policy.rules[i].services)
            .chain(policy.expectations.iter().map(|e| &e.services))
            .chain(std::iter::once(&no_scope))
            .collect();
        let services = Partition::within(&service_sets, service::MAX_KEY);
        let v4 = family_table(policy, &active, &services, |set| &set.v4);
        let v6 = family_table(policy, &active, &services, |set| &set.v6);
        Self {
            rules: active,
            layout,
            services,
            v4,
            v6,
        }
    }

    /// The policy index of the rule that decides `flow`, `None` for default deny.
    pub fn decide(&self, flow: &Flow) -> Option<usize> {
        let v = self.services.class_of(flow.service.key());
        let ordinal = match flow.family {
            Family::V4 => {
                let (s, d) = (flow.src as u32, flow.dst as u32);
                self.v4
                    .decision(self.v4.src.class_of(s), self.v4.dst.class_of(d), v)
            }
            Family::V6 => self.v6.decision(
                self.v6.src.class_of(flow.src),
                self.v6.dst.class_of(flow.dst),
                v,
            ),
        };
        ordinal.map(|o| self.rules[o])
    }

    /// Total cells over both families, a measure of the table's size.
    pub fn cell_count(&self) -> usize {
        self.v4.cell_count() + self.v6.cell_count()
    }
}

fn family_table<T: Bound>(
    policy: &Policy,
    active: &[usize],
    services: &Partition<u32>,
    part: impl Fn(&crate::addr::AddrSet) -> &IntervalSet<T>,
) -> FamilyTable<T> {
    let rules = || active.iter().map(|&i| &policy.rules[i]);
    let src_sets: Vec<&IntervalSet<T>> = rules()
        .map(|r| part(&r.src))
        .chain(policy.expectations.iter().map(|e| part(&e.src)))
        .chain(std::iter::once(part(&policy.scope)))
        .collect();
    let dst_sets: Vec<&IntervalSet<T>> = rules()
        .map(|r| part(&r.dst))
        .chain(policy.expectations.iter().map(|e| part(&e.dst)))
        .chain(std::iter::once(part(&policy.scope)))
        .collect();
    let src = Partition::new(&src_sets);
    let dst = Partition::new(&dst_sets);
    let rule_count = active.len();
    let service_count = services.len();
    let mut decisions = vec![NONE; src.len() * dst.len() * service_count];
    let mut both = Bits::new(src_sets.len());
    let mut all = Bits::new(src_sets.len());
    for s in 0..src.len() {
        for d in 0..dst.len() {
            src.membership[s].and_into(&dst.membership[d], &mut both);
            if both.first_below(rule_count).is_none() {
                continue;
            }
            let base = (s * dst.len() + d) * service_count;
            for v in 0..service_count {
                both.and_into(&services.membership[v], &mut all);
                if let Some(rule) = all.first_below(rule_count) {
                    decisions[base + v] = rule as u32;
                }
            }
        }
    }
    FamilyTable {
        src,
        dst,
        decisions,
        service_count,
    }
}

/// The first rule in force that matches `flow`, by trying every rule in order.
/// The reference the decision table is tested against.
pub fn first_match(policy: &Policy, flow: &Flow) -> Option<usize> {
    policy
        .active_rules()
        .find(|(_, rule)| flow.matched_by(rule))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests;
