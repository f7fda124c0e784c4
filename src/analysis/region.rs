//! Regions of the decision table as boxes: the allowed space, the flows a
//! logging rule decides, and so on, merged into few (source, destination,
//! service) boxes for the nftables output.

use super::{Analysis, FamilyTable};
use crate::addr::service::ServiceSet;
use crate::addr::{Bound, IntervalSet};
use std::collections::{BTreeMap, HashMap};

/// A box of flows: every source in `src` to every destination in `dst` on every
/// service in `services`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Block<T: Bound> {
    pub src: IntervalSet<T>,
    pub dst: IntervalSet<T>,
    pub services: ServiceSet,
}

/// The cells whose deciding rule satisfies `decides` (given a rule ordinal), and
/// whose source or destination is in scope, as boxes. Only the stored pairs
/// of the table are visited.
pub fn blocks<T: Bound>(
    analysis: &Analysis,
    table: &FamilyTable<T>,
    decides: impl Fn(usize) -> bool,
) -> Vec<Block<T>> {
    let scope = analysis.layout.scope_bit();
    let mut lists = ServiceLists::default();
    // The kept service classes of each distinct row, as a list id.
    let kept: Vec<Option<u32>> = table
        .rows()
        .map(|row| {
            lists.id(row
                .decided()
                .filter(|&(_, o)| decides(o))
                .map(|(v, _)| v as u32))
        })
        .collect();
    group(analysis, table, &mut lists, |s, _, out| {
        let src_in = table.src.membership[s].get(scope);
        for (d, id, _) in table.pairs(s) {
            if let Some(list) = kept[id] {
                if src_in || table.dst.membership[d].get(scope) {
                    out.push((d as u32, list));
                }
            }
        }
    })
}

/// The cells that `cells` lists, as boxes. For source class `s`, `cells(s,
/// push)` calls `push(d, services)` for each destination class `d` with cells
/// to keep, by ascending `d`, with the kept service classes of the pair.
pub fn listed_blocks<T: Bound>(
    analysis: &Analysis,
    table: &FamilyTable<T>,
    mut cells: impl FnMut(usize, &mut dyn FnMut(usize, &mut dyn Iterator<Item = u32>)),
) -> Vec<Block<T>> {
    group(
        analysis,
        table,
        &mut ServiceLists::default(),
        |s, lists, out| {
            cells(s, &mut |d, services| {
                if let Some(list) = lists.id(services) {
                    out.push((d as u32, list));
                }
            });
        },
    )
}

/// Distinct non-empty lists of service classes, each with an id.
#[derive(Default)]
struct ServiceLists {
    lists: Vec<Vec<u32>>,
    ids: HashMap<Vec<u32>, u32>,
    scratch: Vec<u32>,
}

impl ServiceLists {
    /// The id of the list `services`, `None` when it is empty.
    fn id(&mut self, services: impl Iterator<Item = u32>) -> Option<u32> {
        self.scratch.clear();
        self.scratch.extend(services);
        if self.scratch.is_empty() {
            return None;
        }
        if let Some(&id) = self.ids.get(&self.scratch) {
            return Some(id);
        }
        let id = self.lists.len() as u32;
        self.lists.push(self.scratch.clone());
        self.ids.insert(self.scratch.clone(), id);
        Some(id)
    }
}

/// Boxes from the cells `cells` lists per source class, as (destination
/// class, service list id) pairs by ascending destination class. Cells are
/// grouped first by service list, then by destination set, so a rule that
/// covers many addresses on a few services becomes a few boxes.
fn group<T: Bound>(
    analysis: &Analysis,
    table: &FamilyTable<T>,
    lists: &mut ServiceLists,
    mut cells: impl FnMut(usize, &mut ServiceLists, &mut Vec<(u32, u32)>),
) -> Vec<Block<T>> {
    // (destination classes, service list) -> source classes.
    let mut groups: BTreeMap<(Vec<u32>, u32), Vec<u32>> = BTreeMap::new();
    let mut row = Vec::new();
    for s in 0..table.src.len() {
        row.clear();
        cells(s, lists, &mut row);
        // service list -> destination classes, for this source class.
        let mut by_services: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for &(d, list) in &row {
            by_services.entry(list).or_default().push(d);
        }
        for (list, dsts) in by_services {
            groups.entry((dsts, list)).or_default().push(s as u32);
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
        .map(|((dsts, list), srcs)| Block {
            src: union(&srcs, &table.src.classes),
            dst: union(&dsts, &table.dst.classes),
            services: IntervalSet::from_intervals(
                lists.lists[list as usize]
                    .iter()
                    .flat_map(|&v| {
                        analysis.services.classes[v as usize]
                            .intervals()
                            .iter()
                            .copied()
                    })
                    .collect(),
            ),
        })
        .collect();
    out.sort();
    out
}
