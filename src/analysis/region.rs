//! Regions of the decision table as boxes: the allowed space, the flows a
//! logging rule decides, and so on, merged into few (source, destination,
//! service) boxes for the nftables output.

use super::{Analysis, FamilyTable};
use crate::addr::service::ServiceSet;
use crate::addr::{Bound, IntervalSet};
use std::collections::HashMap;

/// A box of flows: every source in `src` to every destination in `dst` on every
/// service in `services`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Block<T: Bound> {
    pub src: IntervalSet<T>,
    pub dst: IntervalSet<T>,
    pub services: ServiceSet,
}

/// The cells whose deciding rule satisfies `decides` (given a rule ordinal), and
/// whose source or destination is in scope, as boxes.
pub fn blocks<T: Bound>(
    analysis: &Analysis,
    table: &FamilyTable<T>,
    decides: impl Fn(usize) -> bool,
) -> Vec<Block<T>> {
    let scope = analysis.layout.scope_bit();
    cell_blocks(analysis, table, |s, d, v| {
        (table.src.membership[s].get(scope) || table.dst.membership[d].get(scope))
            && table.decision(s, d, v).is_some_and(&decides)
    })
}

/// The cells `(source class, destination class, service class)` that `keep`
/// selects, as boxes. Cells are grouped first by service set, then by
/// destination set, so a rule that covers many addresses on a few services
/// becomes a few boxes. The boxes come out sorted, whatever order the groups
/// were found in.
pub fn cell_blocks<T: Bound>(
    analysis: &Analysis,
    table: &FamilyTable<T>,
    keep: impl Fn(usize, usize, usize) -> bool,
) -> Vec<Block<T>> {
    let service_count = analysis.services.len();
    // The service classes of one cell pair, as bits.
    let mut row = vec![0u64; service_count.div_ceil(64)];
    // (destination classes, service classes) -> source classes, in order.
    let mut groups: HashMap<(Vec<u32>, Vec<u64>), Vec<u32>> = HashMap::new();
    // service classes -> destination classes, for one source class.
    let mut by_services: HashMap<Vec<u64>, Vec<u32>> = HashMap::new();
    for s in 0..table.src.len() {
        for d in 0..table.dst.len() {
            row.fill(0);
            let mut any = false;
            for v in 0..service_count {
                if keep(s, d, v) {
                    row[v / 64] |= 1 << (v % 64);
                    any = true;
                }
            }
            if !any {
                continue;
            }
            match by_services.get_mut(row.as_slice()) {
                Some(dsts) => dsts.push(d as u32),
                None => {
                    by_services.insert(row.clone(), vec![d as u32]);
                }
            }
        }
        for (services, dsts) in by_services.drain() {
            groups.entry((dsts, services)).or_default().push(s as u32);
        }
    }
    let union = |classes: &[u32], sets: &[IntervalSet<T>]| -> IntervalSet<T> {
        IntervalSet::from_intervals(
            classes
                .iter()
                .flat_map(|&c| sets[c as usize].intervals().iter().copied())
                .collect(),
        )
    };
    let mut out: Vec<Block<T>> = groups
        .into_iter()
        .map(|((dsts, services), srcs)| Block {
            src: union(&srcs, &table.src.classes),
            dst: union(&dsts, &table.dst.classes),
            services: IntervalSet::from_intervals(
                (0..service_count)
                    .filter(|&v| services[v / 64] & (1 << (v % 64)) != 0)
                    .flat_map(|v| analysis.services.classes[v].intervals().iter().copied())
                    .collect(),
            ),
        })
        .collect();
    out.sort();
    out
}
