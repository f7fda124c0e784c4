//! The one semantic core: atoms and the first-match decision table.
//!
//! Every address family is cut into source classes and destination classes,
//! the service space into service classes (see [`partition`]). For each
//! (source class, destination class, service class) cell the table holds the
//! rule that decides it, or none (default deny); it stores only the pairs of
//! classes with a decided cell (see [`FamilyTable`]). Checks, expectations and the
//! nftables output all read this one table, so what `check` reports is what
//! the kernel enforces. The table is built from first-match rules as boxes of
//! flows ([`Analysis::from_boxes`]); [`Analysis::new`] takes them from a
//! policy. [`compare`] holds another table (the live one) against it.
//!
//! Invariant: only rules in force (not expired) take part.
//!
//! # The decision table
//!
//! 1. **Atoms.** Per family, the source sets of every rule in force, every expectation
//!    and the scope cut the address space at each interval start and each end plus one;
//!    the pieces are atoms, the coarsest intervals of which every set is a union.
//!    Destinations are cut the same way, the service key space by the service sets.
//! 2. **Signatures.** Each atom gets a `Bits` of the sets containing it, laid out
//!    (`Layout`) as rule ordinals, then expectations, then scope.
//! 3. **Classes.** Atoms with identical signatures form one class. The table grows with
//!    the number of distinct roles addresses play, not with the number of addresses: a
//!    thousand scattered BMCs in one selector are one class.
//! 4. **Cells.** A (source class, destination class, service class) cell holds the
//!    deciding rule, the first rule whose three sets contain it; none means default
//!    deny. Per (source class, destination class) pair, the rules in the AND of the two
//!    membership bitsets are walked in order, each taking the service classes it holds
//!    that no earlier rule took, until every class is taken. The destination classes a
//!    source class can pair with come from the rules it belongs to.
//! 5. **Storage.** Only pairs with a decided cell are stored, each as an index into a
//!    pool of distinct rows (the deciding rule or none per service class). Memory grows
//!    with the pairs the rules match and the distinct ways they decide, not with source
//!    classes times destination classes: a thousand rules that each let one host reach
//!    one BMC store a thousand pairs. Readers walk a source class's stored pairs
//!    (`FamilyTable::pairs`) rather than every pair of classes.
//! 6. **Questions.** An expectation scans the cells inside its bit; a witness is a
//!    readable member of each class of a failing cell. `decide` is three binary searches,
//!    one more among the source class's pairs, and an index.

pub(crate) mod bits;
pub mod compare;
pub(crate) mod explain;
pub mod flow;
pub(crate) mod graph;
pub(crate) mod partition;
pub(crate) mod region;
pub(crate) mod rules;

pub use flow::{Family, Flow};

use crate::addr::service::{self, ServiceSet};
use crate::addr::{AddrSet, Bound, IntervalSet};
use crate::resolve::{Policy, PolicyRule};
use bits::{SparseBits, WordMap};
use partition::Partition;

const NONE: u32 = u32::MAX;

/// The decision table of one address family.
///
/// Only the (source class, destination class) pairs with a cell some rule
/// decides are stored, and each stores an index into a pool of distinct rows
/// (one deciding rule or none per service class). The table takes memory for
/// the pairs rules match and the distinct ways they decide, not for every
/// pair of classes: a thousand rules that each let one host reach one BMC
/// store a thousand pairs, not a million.
#[derive(Clone, Debug)]
pub struct FamilyTable<T: Bound> {
    pub src: Partition<T>,
    pub dst: Partition<T>,
    /// The stored pairs of source class `s` are `pair_start[s]..pair_start[s + 1]`.
    pair_start: Vec<usize>,
    /// Destination class of each stored pair, ascending within a source class.
    pair_dst: Vec<u32>,
    /// Row of each stored pair, an index into `rows`.
    pair_row: Vec<u32>,
    /// Distinct rows, `service_count` entries each: the deciding rule ordinal
    /// per service class, `NONE` for default deny.
    rows: Vec<u32>,
    service_count: usize,
}

/// The decisions of one (source class, destination class) pair, by service class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row<'a> {
    cells: &'a [u32],
}

impl Row<'_> {
    /// The ordinal of the rule deciding service class `v`, `None` for default deny.
    pub fn decision(&self, v: usize) -> Option<usize> {
        let value = self.cells[v];
        (value != NONE).then_some(value as usize)
    }

    /// The decided cells: (service class, rule ordinal), ascending.
    pub fn decided(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.cells
            .iter()
            .enumerate()
            .filter(|&(_, &o)| o != NONE)
            .map(|(v, &o)| (v, o as usize))
    }
}

impl<T: Bound> FamilyTable<T> {
    /// The ordinal of the rule deciding cell `(s, d, v)`, `None` for default deny.
    pub fn decision(&self, s: usize, d: usize, v: usize) -> Option<usize> {
        self.row(s, d).and_then(|row| row.decision(v))
    }

    /// The decisions of pair `(s, d)`; `None` when every cell is default deny.
    pub fn row(&self, s: usize, d: usize) -> Option<Row<'_>> {
        let range = self.pair_start[s]..self.pair_start[s + 1];
        let at = self.pair_dst[range.clone()]
            .binary_search(&(d as u32))
            .ok()?;
        Some(self.row_at(self.pair_row[range.start + at]))
    }

    /// The pairs of source class `s` that decide some cell, by ascending
    /// destination class: `(d, row id, row)`. Pairs with equal row ids have
    /// equal rows.
    pub fn pairs(&self, s: usize) -> impl Iterator<Item = (usize, usize, Row<'_>)> + '_ {
        let range = self.pair_start[s]..self.pair_start[s + 1];
        self.pair_dst[range.clone()]
            .iter()
            .zip(&self.pair_row[range])
            .map(|(&d, &id)| (d as usize, id as usize, self.row_at(id)))
    }

    /// The row with id `id` (see [`Self::pairs`]).
    pub fn row_by_id(&self, id: usize) -> Row<'_> {
        self.row_at(id as u32)
    }

    /// How many distinct rows the stored pairs have; row ids are below it.
    pub fn row_count(&self) -> usize {
        self.rows.len() / self.service_count.max(1)
    }

    /// The distinct rows of the stored pairs, by row id.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> + '_ {
        (0..self.row_count()).map(|id| self.row_at(id as u32))
    }

    fn row_at(&self, id: u32) -> Row<'_> {
        let start = id as usize * self.service_count;
        Row {
            cells: &self.rows[start..start + self.service_count],
        }
    }

    /// The cells the table decides, stored or not: source classes times
    /// destination classes times service classes.
    pub fn cell_count(&self) -> usize {
        self.src.len() * self.dst.len() * self.service_count
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
    /// The number of each rule in force (for a policy, its index in
    /// `Policy::rules`); a rule ordinal indexes this.
    pub rules: Vec<usize>,
    pub layout: Layout,
    pub services: Partition<u32>,
    pub v4: FamilyTable<u32>,
    pub v6: FamilyTable<u128>,
}

/// A box of flows: every flow from an address of `src` to one of `dst` on a
/// service of `services`. What the decision table reads of a rule or an
/// expectation.
#[derive(Clone, Copy, Debug)]
pub struct FlowBox<'a> {
    pub src: &'a AddrSet,
    pub dst: &'a AddrSet,
    pub services: &'a ServiceSet,
}

/// What a decision table is built from: everything [`Analysis::from_boxes`]
/// reads.
#[derive(Clone, Debug)]
pub struct Input<'a> {
    /// The rules in force, in first-match order; each one's number (for a
    /// policy, its index in `Policy::rules`) becomes `Analysis::rules`.
    pub rules: Vec<(usize, FlowBox<'a>)>,
    /// Boxes that cut the classes without deciding anything (a policy's
    /// expectations): each has a bit after the rules' bits.
    pub cuts: Vec<FlowBox<'a>>,
    /// The addresses the table governs; the last bit.
    pub scope: &'a AddrSet,
}

impl<'a> Input<'a> {
    /// A policy's rules in force, its expectations and its scope.
    pub fn of(policy: &'a Policy) -> Input<'a> {
        Input {
            rules: policy
                .active_rules()
                .map(|(i, rule)| (i, FlowBox::of_rule(rule)))
                .collect(),
            cuts: policy
                .expectations
                .iter()
                .map(|e| FlowBox {
                    src: &e.src,
                    dst: &e.dst,
                    services: &e.services,
                })
                .collect(),
            scope: &policy.scope,
        }
    }
}

impl<'a> FlowBox<'a> {
    /// The flows a policy rule matches.
    pub fn of_rule(rule: &'a PolicyRule) -> FlowBox<'a> {
        FlowBox {
            src: &rule.src,
            dst: &rule.dst,
            services: &rule.services,
        }
    }
}

impl Analysis {
    /// The decision table of a policy: its rules in force, cut by its
    /// expectations and scope. [`Self::from_boxes`] of [`Input::of`].
    pub fn new(policy: &Policy) -> Self {
        Self::from_boxes(&Input::of(policy))
    }

    /// The decision table of first-match rules over boxes of flows.
    pub fn from_boxes(input: &Input<'_>) -> Self {
        let layout = Layout {
            rules: input.rules.len(),
            expectations: input.cuts.len(),
        };
        // The scope bit has no meaning for services; an empty set keeps the
        // signatures of all three partitions the same length.
        let no_scope = ServiceSet::empty();
        let boxes = || input.rules.iter().map(|(_, b)| b).chain(&input.cuts);
        let service_sets: Vec<&ServiceSet> = boxes()
            .map(|b| b.services)
            .chain(std::iter::once(&no_scope))
            .collect();
        let services = Partition::within(&service_sets, service::MAX_KEY);
        let v4 = family_table(input, &services, |set| &set.v4);
        let v6 = family_table(input, &services, |set| &set.v6);
        Self {
            rules: input.rules.iter().map(|&(i, _)| i).collect(),
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

/// The service classes of each rule in force, as bit masks, for walking the
/// rules that match a pair in order and giving each service class to the
/// first one that contains it.
pub struct RuleServices {
    /// Words per rule.
    width: usize,
    masks: Vec<u64>,
}

impl RuleServices {
    pub fn new(services: &Partition<u32>, rule_count: usize) -> Self {
        let width = services.len().div_ceil(64);
        let mut masks = vec![0; rule_count * width];
        for (v, membership) in services.membership.iter().enumerate() {
            for rule in membership.ones_below(rule_count) {
                masks[rule * width + v / 64] |= 1 << (v % 64);
            }
        }
        Self { width, masks }
    }

    /// The service classes rule `ordinal` contains, as words of bits.
    pub fn of(&self, ordinal: usize) -> &[u64] {
        &self.masks[ordinal * self.width..(ordinal + 1) * self.width]
    }

    /// Fills `row` with the first of `matching` (rule ordinals, ascending)
    /// that contains each service class, `NONE` where none does; stops as
    /// soon as every class is taken. `taken` is scratch space. Returns
    /// whether any cell is decided.
    fn first_matches(
        &self,
        matching: impl Iterator<Item = usize>,
        taken: &mut [u64],
        row: &mut [u32],
    ) -> bool {
        row.fill(NONE);
        taken.fill(0);
        let mut left = row.len();
        for rule in matching {
            for (i, (&mask, taken)) in self.of(rule).iter().zip(taken.iter_mut()).enumerate() {
                let mut new = mask & !*taken;
                *taken |= new;
                while new != 0 {
                    row[i * 64 + new.trailing_zeros() as usize] = rule as u32;
                    new &= new - 1;
                    left -= 1;
                }
            }
            if left == 0 {
                break;
            }
        }
        left < row.len()
    }
}

fn family_table<T: Bound>(
    input: &Input<'_>,
    services: &Partition<u32>,
    part: impl Fn(&AddrSet) -> &IntervalSet<T>,
) -> FamilyTable<T> {
    let boxes = || input.rules.iter().map(|(_, b)| b).chain(&input.cuts);
    let src_sets: Vec<&IntervalSet<T>> = boxes()
        .map(|b| part(b.src))
        .chain(std::iter::once(part(input.scope)))
        .collect();
    let dst_sets: Vec<&IntervalSet<T>> = boxes()
        .map(|b| part(b.dst))
        .chain(std::iter::once(part(input.scope)))
        .collect();
    let src = Partition::new(&src_sets);
    let dst = Partition::new(&dst_sets);
    let rule_count = input.rules.len();
    let service_count = services.len();
    let rule_services = RuleServices::new(services, rule_count);
    // The destination classes of each rule, to find the pairs a source
    // class can have without trying every destination class.
    let mut dsts_of_rule: Vec<Vec<u32>> = vec![Vec::new(); rule_count];
    for (d, membership) in dst.membership.iter().enumerate() {
        for rule in membership.ones_below(rule_count) {
            dsts_of_rule[rule].push(d as u32);
        }
    }
    let mut pair_start = Vec::with_capacity(src.len() + 1);
    let mut pair_dst = Vec::new();
    let mut pair_row = Vec::new();
    let mut rows: Vec<u32> = Vec::new();
    let mut row_ids: WordMap<Vec<u32>, u32> = WordMap::default();
    let mut row = vec![NONE; service_count];
    let mut taken = vec![0; rule_services.width];
    let mut seen = vec![usize::MAX; dst.len()];
    let mut candidates: Vec<u32> = Vec::new();
    for s in 0..src.len() {
        pair_start.push(pair_dst.len());
        let source_rules = SparseBits::below(&src.membership[s], rule_count);
        let reach: usize = source_rules.ones().map(|r| dsts_of_rule[r].len()).sum();
        candidates.clear();
        if reach < dst.len() {
            for rule in source_rules.ones() {
                for &d in &dsts_of_rule[rule] {
                    if seen[d as usize] != s {
                        seen[d as usize] = s;
                        candidates.push(d);
                    }
                }
            }
            candidates.sort_unstable();
        } else {
            candidates.extend(0..dst.len() as u32);
        }
        for &d in &candidates {
            let matching = source_rules.and_ones(&dst.membership[d as usize]);
            if !rule_services.first_matches(matching, &mut taken, &mut row) {
                continue;
            }
            let id = match row_ids.get(row.as_slice()) {
                Some(&id) => id,
                None => {
                    let id = (rows.len() / service_count) as u32;
                    rows.extend_from_slice(&row);
                    row_ids.insert(row.clone(), id);
                    id
                }
            };
            pair_dst.push(d);
            pair_row.push(id);
        }
    }
    pair_start.push(pair_dst.len());
    FamilyTable {
        src,
        dst,
        pair_start,
        pair_dst,
        pair_row,
        rows,
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
pub(crate) mod testing;
#[cfg(test)]
mod tests;
