//! Atoms and classes: cutting a space so that every given set is a union of parts.
//!
//! Atoms are the coarsest disjoint intervals such that each given set is a union
//! of atoms. Atoms that belong to exactly the same sets are merged into one
//! class; the decision table works on classes, so its size depends on how many
//! distinct roles addresses play, not on how many addresses are named.

use super::bits::{Bits, WordMap};
use crate::addr::{Bound, IntervalSet};

#[derive(Clone, Debug)]
pub struct Partition<T: Bound> {
    /// First value of each atom, ascending; atom `i` ends where atom `i + 1` starts.
    atom_starts: Vec<T>,
    /// Class of each atom.
    atom_class: Vec<u32>,
    /// The members of each class.
    pub classes: Vec<IntervalSet<T>>,
    /// For each class, which of the input sets contain it.
    pub membership: Vec<Bits>,
}

impl<T: Bound> Partition<T> {
    /// Partitions the whole space `[T::MIN, T::MAX]` by `sets`. Classes are
    /// numbered in order of their lowest member, so the result is deterministic.
    pub fn new(sets: &[&IntervalSet<T>]) -> Self {
        Self::within(sets, T::MAX)
    }

    /// Like [`Partition::new`] over `[T::MIN, max]` only.
    pub fn within(sets: &[&IntervalSet<T>], max: T) -> Self {
        let mut starts = vec![T::MIN];
        for set in sets {
            for &(lo, hi) in set.intervals() {
                starts.push(lo);
                if hi < max {
                    starts.push(hi.succ());
                }
            }
        }
        starts.sort_unstable();
        starts.dedup();
        starts.retain(|&s| s <= max);
        let atom_count = starts.len();
        let mut signatures = vec![Bits::new(sets.len()); atom_count];
        for (bit, set) in sets.iter().enumerate() {
            for &(lo, hi) in set.intervals() {
                let first = starts.partition_point(|&s| s < lo);
                let last = starts.partition_point(|&s| s <= hi);
                for signature in &mut signatures[first..last] {
                    signature.set(bit);
                }
            }
        }
        let mut class_of_signature: WordMap<&Bits, u32> = WordMap::default();
        let mut atom_class = Vec::with_capacity(atom_count);
        let mut class_intervals: Vec<Vec<(T, T)>> = Vec::new();
        let mut membership = Vec::new();
        for (atom, signature) in signatures.iter().enumerate() {
            let class = *class_of_signature.entry(signature).or_insert_with(|| {
                class_intervals.push(Vec::new());
                membership.push(signature.clone());
                (class_intervals.len() - 1) as u32
            });
            let lo = starts[atom];
            let hi = starts.get(atom + 1).map_or(max, |next| next.pred());
            class_intervals[class as usize].push((lo, hi));
            atom_class.push(class);
        }
        Self {
            atom_starts: starts,
            atom_class,
            classes: class_intervals
                .into_iter()
                .map(IntervalSet::from_intervals)
                .collect(),
            membership,
        }
    }

    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    pub fn atom_count(&self) -> usize {
        self.atom_starts.len()
    }

    /// The class holding `value`.
    pub fn class_of(&self, value: T) -> usize {
        let atom = self.atom_starts.partition_point(|&s| s <= value) - 1;
        self.atom_class[atom] as usize
    }

    /// The classes contained in input set `bit`.
    pub fn classes_in(&self, bit: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.classes.len()).filter(move |&c| self.membership[c].get(bit))
    }
}
