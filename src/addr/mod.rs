//! Address and service space algebra: sorted sets of disjoint inclusive intervals.
//!
//! IPv4 addresses are `u32`, IPv6 addresses `u128`, services `u32` keys (see
//! [`service`]). Every set is kept normalised: intervals sorted, disjoint and not
//! adjacent, so two sets are equal exactly when their vectors are equal.

pub mod service;

use std::fmt;

/// An unsigned integer type that can carry interval bounds.
pub trait Bound: Copy + Ord + Eq + fmt::Debug + std::hash::Hash + Send + Sync + 'static {
    const MIN: Self;
    const MAX: Self;
    fn succ(self) -> Self;
    fn pred(self) -> Self;
    /// Midpoint of `[lo, hi]`, rounded down.
    fn mid(lo: Self, hi: Self) -> Self;
}

macro_rules! impl_bound {
    ($t:ty) => {
        impl Bound for $t {
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            fn succ(self) -> Self {
                self + 1
            }
            fn pred(self) -> Self {
                self - 1
            }
            fn mid(lo: Self, hi: Self) -> Self {
                lo + (hi - lo) / 2
            }
        }
    };
}
impl_bound!(u32);
impl_bound!(u128);

/// A set of values as sorted, disjoint, non-adjacent inclusive intervals.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IntervalSet<T: Bound> {
    intervals: Vec<(T, T)>,
}

impl<T: Bound> Default for IntervalSet<T> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<T: Bound> fmt::Debug for IntervalSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.intervals.iter()).finish()
    }
}

impl<T: Bound> IntervalSet<T> {
    pub const fn empty() -> Self {
        Self {
            intervals: Vec::new(),
        }
    }

    pub fn full() -> Self {
        Self::interval(T::MIN, T::MAX)
    }

    /// The interval `[lo, hi]`; empty when `lo > hi`.
    pub fn interval(lo: T, hi: T) -> Self {
        if lo > hi {
            Self::empty()
        } else {
            Self {
                intervals: vec![(lo, hi)],
            }
        }
    }

    pub fn point(value: T) -> Self {
        Self::interval(value, value)
    }

    /// Builds a set from arbitrary (possibly overlapping, unsorted) intervals.
    pub fn from_intervals(mut intervals: Vec<(T, T)>) -> Self {
        intervals.retain(|&(lo, hi)| lo <= hi);
        intervals.sort_unstable();
        let mut merged: Vec<(T, T)> = Vec::with_capacity(intervals.len());
        for (lo, hi) in intervals {
            match merged.last_mut() {
                Some(last) if last.1 == T::MAX || lo <= last.1.succ() => {
                    if hi > last.1 {
                        last.1 = hi;
                    }
                }
                _ => merged.push((lo, hi)),
            }
        }
        Self { intervals: merged }
    }

    pub fn intervals(&self) -> &[(T, T)] {
        &self.intervals
    }

    pub fn is_empty(&self) -> bool {
        self.intervals.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.intervals == [(T::MIN, T::MAX)]
    }

    /// The smallest member, if any.
    pub fn first(&self) -> Option<T> {
        self.intervals.first().map(|&(lo, _)| lo)
    }

    pub fn contains(&self, value: T) -> bool {
        let idx = self.intervals.partition_point(|&(_, hi)| hi < value);
        self.intervals.get(idx).is_some_and(|&(lo, _)| lo <= value)
    }

    pub fn union(&self, other: &Self) -> Self {
        let mut all = Vec::with_capacity(self.intervals.len() + other.intervals.len());
        all.extend_from_slice(&self.intervals);
        all.extend_from_slice(&other.intervals);
        Self::from_intervals(all)
    }

    pub fn complement(&self) -> Self {
        let mut out = Vec::with_capacity(self.intervals.len() + 1);
        let mut next = Some(T::MIN);
        for &(lo, hi) in &self.intervals {
            if let Some(start) = next {
                if start < lo {
                    out.push((start, lo.pred()));
                }
            }
            next = if hi == T::MAX { None } else { Some(hi.succ()) };
        }
        if let Some(start) = next {
            out.push((start, T::MAX));
        }
        Self { intervals: out }
    }

    pub fn intersection(&self, other: &Self) -> Self {
        let (a, b) = (&self.intervals, &other.intervals);
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < a.len() && j < b.len() {
            let lo = a[i].0.max(b[j].0);
            let hi = a[i].1.min(b[j].1);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a[i].1 < b[j].1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        Self { intervals: out }
    }

    pub fn difference(&self, other: &Self) -> Self {
        self.intersection(&other.complement())
    }

    pub fn intersects(&self, other: &Self) -> bool {
        let (a, b) = (&self.intervals, &other.intervals);
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            if a[i].0.max(b[j].0) <= a[i].1.min(b[j].1) {
                return true;
            }
            if a[i].1 < b[j].1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        false
    }

    /// Whether every member of `self` is in `other`, without building the
    /// difference: `other` being normalised (no two intervals touch), each
    /// interval of `self` lies inside one of `other`'s or is not covered.
    pub fn is_subset(&self, other: &Self) -> bool {
        let theirs = &other.intervals;
        let mut j = 0;
        self.intervals.iter().all(|&(lo, hi)| {
            while theirs.get(j).is_some_and(|&(_, their_hi)| their_hi < lo) {
                j += 1;
            }
            theirs
                .get(j)
                .is_some_and(|&(their_lo, their_hi)| their_lo <= lo && hi <= their_hi)
        })
    }
}

/// A set of IP addresses of both families.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct AddrSet {
    pub v4: IntervalSet<u32>,
    pub v6: IntervalSet<u128>,
}

impl AddrSet {
    pub fn empty() -> Self {
        Self::default()
    }

    pub fn any() -> Self {
        Self {
            v4: IntervalSet::full(),
            v6: IntervalSet::full(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn union(&self, other: &Self) -> Self {
        Self {
            v4: self.v4.union(&other.v4),
            v6: self.v6.union(&other.v6),
        }
    }

    /// The union of many sets at once: one sort, where folding `union` would
    /// sort the growing result again for every set.
    pub fn union_of<'a>(sets: impl IntoIterator<Item = &'a AddrSet>) -> Self {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for set in sets {
            v4.extend_from_slice(set.v4.intervals());
            v6.extend_from_slice(set.v6.intervals());
        }
        Self {
            v4: IntervalSet::from_intervals(v4),
            v6: IntervalSet::from_intervals(v6),
        }
    }

    pub fn intersection(&self, other: &Self) -> Self {
        Self {
            v4: self.v4.intersection(&other.v4),
            v6: self.v6.intersection(&other.v6),
        }
    }

    pub fn difference(&self, other: &Self) -> Self {
        Self {
            v4: self.v4.difference(&other.v4),
            v6: self.v6.difference(&other.v6),
        }
    }

    pub fn complement(&self) -> Self {
        Self {
            v4: self.v4.complement(),
            v6: self.v6.complement(),
        }
    }

    pub fn intersects(&self, other: &Self) -> bool {
        self.v4.intersects(&other.v4) || self.v6.intersects(&other.v6)
    }
}

/// The interval covered by an IPv4 prefix, or `None` when host bits are set.
pub fn v4_prefix(addr: u32, len: u8) -> Option<(u32, u32)> {
    let host_mask = if len >= 32 { 0 } else { u32::MAX >> len };
    (addr & host_mask == 0).then_some((addr, addr | host_mask))
}

/// The interval covered by an IPv6 prefix, or `None` when host bits are set.
pub fn v6_prefix(addr: u128, len: u8) -> Option<(u128, u128)> {
    let host_mask = if len >= 128 { 0 } else { u128::MAX >> len };
    (addr & host_mask == 0).then_some((addr, addr | host_mask))
}

/// Splits `[lo, hi]` into the fewest CIDR prefixes, as `(network, length)` pairs.
pub fn to_prefixes<T: Bound + PrefixBits>(lo: T, hi: T) -> Vec<(T, u8)> {
    let mut out = Vec::new();
    let mut start = lo;
    loop {
        let mut len = T::BITS;
        // Grow the block while it stays aligned and within the range.
        while len > 0 {
            let candidate = len - 1;
            let host = T::host_mask(candidate);
            if start.and(host) != T::zero() || start.or(host) > hi {
                break;
            }
            len = candidate;
        }
        out.push((start, len));
        let end = start.or(T::host_mask(len));
        if end >= hi {
            return out;
        }
        start = end.succ();
    }
}

/// The prefix length when `[lo, hi]` is exactly one CIDR block.
pub fn single_prefix<T: Bound + PrefixBits>(lo: T, hi: T) -> Option<u8> {
    // A block is aligned at `lo` and `hi - lo` is all ones below some bit.
    let span = hi.xor(lo);
    let host_bits = span.count_ones();
    let len = T::BITS - host_bits as u8;
    (hi >= lo && lo.and(T::host_mask(len)) == T::zero() && lo.or(T::host_mask(len)) == hi)
        .then_some(len)
}

/// Bit operations needed to cut intervals into prefixes.
pub trait PrefixBits: Sized {
    const BITS: u8;
    fn zero() -> Self;
    fn host_mask(len: u8) -> Self;
    fn and(self, other: Self) -> Self;
    fn or(self, other: Self) -> Self;
    fn xor(self, other: Self) -> Self;
    fn count_ones(self) -> u32;
}

macro_rules! impl_prefix_bits {
    ($t:ty, $bits:expr) => {
        impl PrefixBits for $t {
            const BITS: u8 = $bits;
            fn zero() -> Self {
                0
            }
            fn host_mask(len: u8) -> Self {
                if len >= $bits {
                    0
                } else {
                    <$t>::MAX >> len
                }
            }
            fn and(self, other: Self) -> Self {
                self & other
            }
            fn or(self, other: Self) -> Self {
                self | other
            }
            fn xor(self, other: Self) -> Self {
                self ^ other
            }
            fn count_ones(self) -> u32 {
                <$t>::count_ones(self)
            }
        }
    };
}
impl_prefix_bits!(u32, 32);
impl_prefix_bits!(u128, 128);

/// Restricts a box's sources and destinations (one family) to the flows
/// with source or destination in `governed`, as far as a box can: when no
/// destination is governed, only governed sources can make such flows, and
/// the other way round; when neither is, the box is empty. Every governed
/// flow in the box stays in it, and no flow is added: for first-match rules,
/// their decisions of governed flows are unchanged.
pub fn restrict_box<T: Bound>(
    src: &mut IntervalSet<T>,
    dst: &mut IntervalSet<T>,
    governed: &IntervalSet<T>,
) {
    let src_in = src.intersection(governed);
    let dst_in = dst.intersection(governed);
    match (src_in.is_empty(), dst_in.is_empty()) {
        (true, true) => {
            *src = IntervalSet::default();
            *dst = IntervalSet::default();
        }
        (false, true) => *src = src_in,
        (true, false) => *dst = dst_in,
        (false, false) => {}
    }
}

#[cfg(test)]
mod tests;
