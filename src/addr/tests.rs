use super::service::{self, ServicePiece, ServicePoint, ServiceSet};
use super::*;
use proptest::prelude::*;
use proptest::test_runner::Config;

#[test]
fn prefixes_cover_a_range_exactly() {
    assert_eq!(to_prefixes(0u32, u32::MAX), vec![(0, 0)]);
    assert_eq!(to_prefixes(10u32, 10), vec![(10, 32)]);
    assert_eq!(
        to_prefixes(1u32, 6),
        vec![(1, 32), (2, 31), (4, 31), (6, 32)]
    );
}

/// Proptest settings: a fixed number of cases and no regression files written
/// into the tree (a failure prints its minimal input instead).
fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------
// The set algebra against a model.
//
// A set under test lies in a window of 64 consecutive values `[base, base + 63]`,
// optionally together with *everything* outside the window (so complements stay
// representable). The model is a 64-bit mask for the window plus one flag for
// the outside. Windows sit at the bottom and the top of the space (overflow
// edges), in the middle, and (u128) across the 64-bit boundary.
// ---------------------------------------------------------------------------

/// A bound type the tests can do arithmetic on through `u128`.
trait Wide: Bound + PrefixBits {
    const WIDTH: u32;
    fn wide(self) -> u128;
    fn narrow(value: u128) -> Self;
}

impl Wide for u32 {
    const WIDTH: u32 = 32;
    fn wide(self) -> u128 {
        u128::from(self)
    }
    fn narrow(value: u128) -> Self {
        u32::try_from(value).expect("value fits u32")
    }
}

impl Wide for u128 {
    const WIDTH: u32 = 128;
    fn wide(self) -> u128 {
        self
    }
    fn narrow(value: u128) -> Self {
        value
    }
}

const WINDOW: u32 = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Model {
    /// Bit `i`: `base + i` is a member.
    mask: u64,
    /// Every value outside the window is a member (else none is).
    outside: bool,
}

/// The values outside the window `[base, base + 63]`, as intervals.
fn outside_intervals<T: Wide>(base: T) -> Vec<(T, T)> {
    let (lo, hi) = (base.wide(), base.wide() + u128::from(WINDOW - 1));
    let mut out = Vec::new();
    if lo > T::MIN.wide() {
        out.push((T::MIN, T::narrow(lo - 1)));
    }
    if hi < T::MAX.wide() {
        out.push((T::narrow(hi + 1), T::MAX));
    }
    out
}

fn at<T: Wide>(base: T, offset: u32) -> T {
    T::narrow(base.wide() + u128::from(offset))
}

/// Interval bounds as window offsets (possibly `lo > hi`: an empty input
/// interval, which `from_intervals` must drop), plus the outside flag.
type RawSet = (Vec<(u32, u32)>, bool);

fn raw_set() -> impl Strategy<Value = RawSet> {
    (
        prop::collection::vec((0..WINDOW, 0..WINDOW), 0..6),
        prop::bool::weighted(0.25),
    )
}

/// The set and its model, built independently of each other.
fn build<T: Wide>(base: T, raw: &RawSet) -> (IntervalSet<T>, Model) {
    let (offsets, outside) = raw;
    let mut intervals: Vec<(T, T)> = offsets
        .iter()
        .map(|&(lo, hi)| (at(base, lo), at(base, hi)))
        .collect();
    let mut mask = 0u64;
    for &(lo, hi) in offsets {
        for i in lo..=hi {
            mask |= 1 << i;
        }
    }
    if *outside {
        intervals.extend(outside_intervals(base));
    }
    (
        IntervalSet::from_intervals(intervals),
        Model {
            mask,
            outside: *outside,
        },
    )
}

/// Sorted, each interval non-empty, consecutive intervals disjoint and not adjacent.
fn assert_normal<T: Wide>(set: &IntervalSet<T>) -> Result<(), TestCaseError> {
    let iv = set.intervals();
    for &(lo, hi) in iv {
        prop_assert!(lo <= hi, "empty interval in {set:?}");
    }
    for pair in iv.windows(2) {
        let ((_, a_hi), (b_lo, _)) = (pair[0], pair[1]);
        prop_assert!(
            a_hi < b_lo && a_hi.succ() < b_lo,
            "overlapping or adjacent intervals in {set:?}"
        );
    }
    prop_assert_eq!(&IntervalSet::from_intervals(iv.to_vec()), set);
    Ok(())
}

/// Reads the model back from a set, failing when the set does not fit one
/// (the outside partly covered).
fn model_of<T: Wide>(base: T, set: &IntervalSet<T>) -> Result<Model, TestCaseError> {
    assert_normal(set)?;
    let (wlo, whi) = (base.wide(), base.wide() + u128::from(WINDOW - 1));
    let mut mask = 0u64;
    let (mut below, mut above) = (0u128, 0u128);
    for &(lo, hi) in set.intervals() {
        let (lo, hi) = (lo.wide(), hi.wide());
        for v in lo.max(wlo)..=hi.min(whi) {
            mask |= 1 << (v - wlo);
        }
        if lo < wlo {
            below += hi.min(wlo - 1) - lo + 1;
        }
        if hi > whi {
            above += hi - lo.max(whi + 1) + 1;
        }
    }
    let below_size = wlo - T::MIN.wide();
    let above_size = T::MAX.wide() - whi;
    let below_full = below_size > 0 && below == below_size;
    let above_full = above_size > 0 && above == above_size;
    prop_assert!(
        below == 0 || below_full,
        "set covers part of the space below the window: {set:?}"
    );
    prop_assert!(
        above == 0 || above_full,
        "set covers part of the space above the window: {set:?}"
    );
    let outside = below_full || above_full;
    prop_assert!(
        !outside || ((below_full || below_size == 0) && (above_full || above_size == 0)),
        "set covers one side of the window only: {set:?}"
    );
    Ok(Model { mask, outside })
}

/// Values worth probing: the whole window and the values around it.
fn probes<T: Wide>(base: T) -> Vec<T> {
    let mut out: Vec<T> = (0..WINDOW).map(|i| at(base, i)).collect();
    out.extend([T::MIN, T::MAX]);
    let (wlo, whi) = (base.wide(), base.wide() + u128::from(WINDOW - 1));
    if wlo > T::MIN.wide() {
        out.extend([T::narrow(wlo - 1), T::narrow((wlo - 1) / 2)]);
    }
    if whi < T::MAX.wide() {
        out.push(T::narrow(whi + 1));
    }
    out
}

fn model_contains<T: Wide>(base: T, m: Model, v: T) -> bool {
    let (wlo, whi) = (base.wide(), base.wide() + u128::from(WINDOW - 1));
    let v = v.wide();
    if (wlo..=whi).contains(&v) {
        m.mask & (1 << (v - wlo)) != 0
    } else {
        m.outside
    }
}

fn model_first<T: Wide>(base: T, m: Model) -> Option<T> {
    let below = base.wide() > T::MIN.wide();
    let above = base.wide() + u128::from(WINDOW - 1) < T::MAX.wide();
    if m.outside && below {
        Some(T::MIN)
    } else if m.mask != 0 {
        Some(at(base, m.mask.trailing_zeros()))
    } else if m.outside && above {
        Some(at(base, WINDOW))
    } else {
        None
    }
}

fn check_algebra<T: Wide>(
    base: T,
    a: &RawSet,
    b: &RawSet,
    c: &RawSet,
) -> Result<(), TestCaseError> {
    let (sa, ma) = build(base, a);
    let (sb, mb) = build(base, b);
    let (sc, mc) = build(base, c);
    let full_mask = u64::MAX;
    let has_outside = !outside_intervals(base).is_empty();
    let norm = |m: Model| Model {
        mask: m.mask,
        outside: m.outside && has_outside,
    };

    // Construction and normal form.
    prop_assert_eq!(model_of(base, &sa)?, norm(ma));
    prop_assert_eq!(model_of(base, &sb)?, norm(mb));
    prop_assert_eq!(model_of(base, &sc)?, norm(mc));

    // Equality is membership equality.
    prop_assert_eq!(sa == sb, norm(ma) == norm(mb));

    // The same members given in another shape (split, overlapping, duplicated,
    // reversed, with empty intervals mixed in) give the same set.
    let mut reshaped = Vec::new();
    for &(lo, hi) in sa.intervals().iter().rev() {
        let mid = T::narrow(lo.wide() + (hi.wide() - lo.wide()) / 2);
        reshaped.extend([(mid, hi), (lo, mid), (hi, lo), (lo, lo), (hi, hi)]);
    }
    prop_assert_eq!(&IntervalSet::from_intervals(reshaped), &sa);

    // Each operation against the model.
    let union = sa.union(&sb);
    prop_assert_eq!(
        model_of(base, &union)?,
        norm(Model {
            mask: ma.mask | mb.mask,
            outside: ma.outside || mb.outside
        })
    );
    let inter = sa.intersection(&sb);
    prop_assert_eq!(
        model_of(base, &inter)?,
        norm(Model {
            mask: ma.mask & mb.mask,
            outside: ma.outside && mb.outside
        })
    );
    let diff = sa.difference(&sb);
    prop_assert_eq!(
        model_of(base, &diff)?,
        norm(Model {
            mask: ma.mask & !mb.mask,
            outside: ma.outside && !mb.outside
        })
    );
    let comp = sa.complement();
    prop_assert_eq!(
        model_of(base, &comp)?,
        norm(Model {
            mask: !ma.mask,
            outside: !ma.outside
        })
    );

    // Predicates and queries.
    let expect_intersects = ma.mask & mb.mask != 0 || (has_outside && ma.outside && mb.outside);
    prop_assert_eq!(sa.intersects(&sb), expect_intersects);
    prop_assert_eq!(sb.intersects(&sa), expect_intersects);
    let expect_subset = ma.mask & !mb.mask == 0 && (!has_outside || !ma.outside || mb.outside);
    prop_assert_eq!(sa.is_subset(&sb), expect_subset);
    prop_assert_eq!(sa.is_empty(), ma.mask == 0 && (!has_outside || !ma.outside));
    prop_assert_eq!(
        sa.is_full(),
        ma.mask == full_mask && (!has_outside || ma.outside)
    );
    prop_assert_eq!(sa.first(), model_first(base, ma));
    for v in probes(base) {
        prop_assert_eq!(
            sa.contains(v),
            model_contains(base, ma, v),
            "contains({:?})",
            v
        );
        prop_assert_eq!(
            union.contains(v),
            sa.contains(v) || sb.contains(v),
            "union contains({:?})",
            v
        );
        prop_assert_eq!(
            comp.contains(v),
            !sa.contains(v),
            "complement contains({:?})",
            v
        );
    }

    // Laws.
    prop_assert_eq!(&comp.complement(), &sa);
    prop_assert_eq!(&union.complement(), &comp.intersection(&sb.complement()));
    prop_assert_eq!(&inter.complement(), &comp.union(&sb.complement()));
    prop_assert_eq!(&diff, &sa.intersection(&sb.complement()));
    prop_assert_eq!(&union, &sb.union(&sa));
    prop_assert_eq!(&inter, &sb.intersection(&sa));
    prop_assert_eq!(&sa.union(&sb).union(&sc), &sa.union(&sb.union(&sc)));
    prop_assert_eq!(
        &sa.intersection(&sb).intersection(&sc),
        &sa.intersection(&sb.intersection(&sc))
    );
    prop_assert_eq!(
        &sa.intersection(&sb.union(&sc)),
        &inter.union(&sa.intersection(&sc))
    );
    prop_assert_eq!(
        &sa.union(&sb.intersection(&sc)),
        &union.intersection(&sa.union(&sc))
    );
    prop_assert_eq!(sa.is_subset(&sb), union == sb);
    prop_assert_eq!(sa.is_subset(&sb), inter == sa);
    prop_assert!(diff.is_subset(&sa) && !diff.intersects(&sb));
    prop_assert_eq!(&diff.union(&inter), &sa);
    prop_assert_eq!(&sa.union(&comp), &IntervalSet::full());
    prop_assert!(sa.intersection(&comp).is_empty());
    prop_assert!(!sa.intersects(&comp));
    prop_assert_eq!(&sa.union(&IntervalSet::empty()), &sa);
    prop_assert_eq!(&sa.intersection(&IntervalSet::full()), &sa);
    prop_assert!(sa.intersection(&IntervalSet::empty()).is_empty());
    prop_assert!(IntervalSet::<T>::empty().is_subset(&sa));
    prop_assert!(sa.is_subset(&IntervalSet::full()));
    prop_assert_eq!(sa.intersects(&sb), !inter.is_empty());
    Ok(())
}

const U32_BASES: [u32; 4] = [0, u32::MAX - (WINDOW - 1), 0x0A00_0000, 0x8000_0000 - 32];
const U128_BASES: [u128; 4] = [
    0,
    u128::MAX - (WINDOW as u128 - 1),
    (1 << 64) - 32,
    0xfd00 << 112,
];

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn u32_algebra_agrees_with_model(
        base in prop::sample::select(U32_BASES.to_vec()),
        a in raw_set(), b in raw_set(), c in raw_set(),
    ) {
        check_algebra(base, &a, &b, &c)?;
    }

    #[test]
    fn u128_algebra_agrees_with_model(
        base in prop::sample::select(U128_BASES.to_vec()),
        a in raw_set(), b in raw_set(), c in raw_set(),
    ) {
        check_algebra(base, &a, &b, &c)?;
    }
}

#[test]
fn constructors_and_edges() {
    assert!(IntervalSet::<u32>::interval(5, 4).is_empty());
    assert_eq!(IntervalSet::<u32>::point(7).intervals(), &[(7, 7)]);
    assert!(IntervalSet::<u32>::full().is_full());
    assert!(IntervalSet::<u128>::full().complement().is_empty());
    assert!(IntervalSet::<u128>::empty().complement().is_full());
    assert_eq!(IntervalSet::<u32>::empty().first(), None);
    // Adjacent intervals merge, also at the top of the space.
    assert_eq!(
        IntervalSet::from_intervals(vec![
            (u32::MAX, u32::MAX),
            (0, 1),
            (2, 3),
            (u32::MAX - 1, u32::MAX - 1)
        ])
        .intervals(),
        &[(0, 3), (u32::MAX - 1, u32::MAX)]
    );
    assert_eq!(
        IntervalSet::from_intervals(vec![(0u128, u128::MAX), (5, 6)]).intervals(),
        &[(0, u128::MAX)]
    );
    assert_eq!(
        IntervalSet::point(u128::MAX).complement().intervals(),
        &[(0, u128::MAX - 1)]
    );
    assert_eq!(
        IntervalSet::point(0u32).complement().intervals(),
        &[(1, u32::MAX)]
    );
    assert!(!IntervalSet::point(u32::MAX).contains(u32::MAX - 1));
    assert!(IntervalSet::point(u32::MAX).contains(u32::MAX));
}

// ---------------------------------------------------------------------------
// Prefixes.
// ---------------------------------------------------------------------------

/// The canonical cover of `[lo, hi]` by walking the prefix tree: a node fully
/// inside is one prefix, a node partly inside is split in two. Every prefix of
/// a cover lies inside some node of this walk, so no cover has fewer prefixes.
fn tree_cover<T: Wide>(lo: T, hi: T) -> Vec<(T, u8)> {
    fn walk<T: Wide>(net: T, len: u8, lo: T, hi: T, out: &mut Vec<(T, u8)>) {
        let end = net.or(T::host_mask(len));
        if end < lo || net > hi {
            return;
        }
        if lo <= net && end <= hi {
            out.push((net, len));
            return;
        }
        let half = net.or(T::host_mask(len + 1));
        walk(net, len + 1, lo, hi, out);
        walk(half.succ(), len + 1, lo, hi, out);
    }
    let mut out = Vec::new();
    walk(T::zero(), 0, lo, hi, &mut out);
    out
}

/// The fewest prefixes that cover `[lo, hi]` exactly, by dynamic programming
/// over every aligned block (small ranges only).
fn fewest_prefixes<T: Wide>(lo: T, hi: T) -> usize {
    let n = usize::try_from(hi.wide() - lo.wide() + 1).expect("small range");
    // best[i]: fewest prefixes covering [lo + i, hi].
    let mut best = vec![usize::MAX; n + 1];
    best[n] = 0;
    for i in (0..n).rev() {
        let start = lo.wide() + i as u128;
        for len in 0..=T::WIDTH {
            let Some(size) = 1u128.checked_shl(T::WIDTH - len) else {
                continue;
            };
            if !start.is_multiple_of(size) || size > (n - i) as u128 {
                continue;
            }
            let next = i + size as usize;
            if best[next] != usize::MAX {
                best[i] = best[i].min(best[next] + 1);
            }
        }
    }
    best[0]
}

fn check_prefixes<T: Wide>(lo: T, hi: T) -> Result<(), TestCaseError> {
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    let prefixes = to_prefixes(lo, hi);
    prop_assert!(!prefixes.is_empty());
    let mut next = Some(lo);
    for &(net, len) in &prefixes {
        prop_assert!(u32::from(len) <= T::WIDTH, "length {len} too long");
        prop_assert_eq!(
            net.and(T::host_mask(len)),
            T::zero(),
            "{:?}/{} not aligned",
            net,
            len
        );
        prop_assert_eq!(Some(net), next, "gap or overlap at {:?}/{}", net, len);
        let end = net.or(T::host_mask(len));
        prop_assert!(end <= hi, "{:?}/{} goes past {:?}", net, len, hi);
        next = (end < T::MAX).then(|| end.succ());
    }
    let last = prefixes.last().unwrap();
    prop_assert_eq!(last.0.or(T::host_mask(last.1)), hi);
    prop_assert_eq!(&prefixes, &tree_cover(lo, hi));
    if hi.wide() - lo.wide() < 256 {
        prop_assert_eq!(prefixes.len(), fewest_prefixes(lo, hi));
    }
    Ok(())
}

/// Bounds that make interesting ranges: anywhere, near the edges, and values
/// with long runs of zero or one bits (aligned block ends).
fn bound<T: Wide + 'static>(any_value: BoxedStrategy<T>) -> BoxedStrategy<T> {
    let edge = 0..300u32;
    prop_oneof![
        any_value.clone(),
        edge.clone().prop_map(|d| T::narrow(u128::from(d))),
        edge.prop_map(|d| T::narrow(T::MAX.wide() - u128::from(d))),
        (any_value, 0..T::WIDTH, prop::bool::ANY, 0..4u32).prop_map(|(v, bits, ones, d)| {
            let mask = T::host_mask(u8::try_from(T::WIDTH - bits).unwrap());
            let v = if ones {
                v.or(mask)
            } else {
                v.and(mask_not(mask))
            };
            let v = v.wide();
            T::narrow(if ones {
                v.saturating_sub(u128::from(d))
            } else {
                v.saturating_add(u128::from(d)).min(T::MAX.wide())
            })
        }),
    ]
    .boxed()
}

fn mask_not<T: Wide>(mask: T) -> T {
    T::narrow(T::MAX.wide() ^ mask.wide())
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn u32_prefixes_are_exact_aligned_and_fewest(
        lo in bound::<u32>(any::<u32>().boxed()),
        hi in bound::<u32>(any::<u32>().boxed()),
    ) {
        check_prefixes(lo, hi)?;
    }

    #[test]
    fn u128_prefixes_are_exact_aligned_and_fewest(
        lo in bound::<u128>(any::<u128>().boxed()),
        hi in bound::<u128>(any::<u128>().boxed()),
    ) {
        check_prefixes(lo, hi)?;
    }

}

proptest! {
    #![proptest_config(config(500))]

    #[test]
    fn small_ranges_use_the_fewest_prefixes(
        base in prop::sample::select(vec![0u32, 64, 1000, u32::MAX - 255]),
        a in 0..256u32, b in 0..256u32,
    ) {
        check_prefixes(at(base, a.min(b)), at(base, a.max(b)))?;
        let base = u128::MAX - 255;
        check_prefixes(at(base, a.min(b)), at(base, a.max(b)))?;
    }
}

proptest! {
    #![proptest_config(config(2000))]


    #[test]
    fn v4_prefix_rejects_host_bits(addr in any::<u32>(), len in 0..=32u8, clear in prop::bool::ANY) {
        let host: u32 = if len == 0 { u32::MAX } else { ((1u64 << (32 - len)) - 1) as u32 };
        let addr = if clear { addr & !host } else { addr };
        match v4_prefix(addr, len) {
            None => prop_assert!(addr & host != 0),
            Some((lo, hi)) => {
                prop_assert_eq!(addr & host, 0);
                prop_assert_eq!((lo, hi), (addr, addr | host));
                prop_assert_eq!(u64::from(hi - lo) + 1, 1u64 << (32 - len));
                prop_assert_eq!(to_prefixes(lo, hi), vec![(addr, len)]);
            }
        }
    }

    #[test]
    fn v6_prefix_rejects_host_bits(addr in any::<u128>(), len in 0..=128u8, clear in prop::bool::ANY) {
        let host: u128 = if len == 0 { u128::MAX } else { (1u128 << (128 - len)) - 1 };
        let addr = if clear { addr & !host } else { addr };
        match v6_prefix(addr, len) {
            None => prop_assert!(addr & host != 0),
            Some((lo, hi)) => {
                prop_assert_eq!(addr & host, 0);
                prop_assert_eq!((lo, hi), (addr, addr | host));
                prop_assert_eq!(to_prefixes(lo, hi), vec![(addr, len)]);
            }
        }
    }
}

#[test]
fn prefix_examples() {
    assert_eq!(v4_prefix(0x0A01_0203, 16), None);
    assert_eq!(v4_prefix(0x0A01_0000, 16), Some((0x0A01_0000, 0x0A01_FFFF)));
    assert_eq!(v4_prefix(0, 0), Some((0, u32::MAX)));
    assert_eq!(v4_prefix(1, 0), None);
    assert_eq!(v4_prefix(0x0A01_0203, 32), Some((0x0A01_0203, 0x0A01_0203)));
    assert_eq!(
        v6_prefix(0xfd00 << 112, 8),
        Some((0xfd00 << 112, (0xfe00 << 112) - 1))
    );
    assert_eq!(v6_prefix((0xfd00 << 112) | 5, 64), None);
    assert_eq!(v6_prefix(0, 0), Some((0, u128::MAX)));
    assert_eq!(v6_prefix(u128::MAX, 128), Some((u128::MAX, u128::MAX)));
    assert_eq!(to_prefixes(0u128, u128::MAX), vec![(0, 0)]);
    assert_eq!(to_prefixes(u128::MAX, u128::MAX), vec![(u128::MAX, 128)]);
    assert_eq!(
        to_prefixes(u32::MAX - 1, u32::MAX),
        vec![(u32::MAX - 1, 31)]
    );
    assert_eq!(to_prefixes(1u32, u32::MAX).len(), 32);
    assert_eq!(to_prefixes(0u32, u32::MAX - 1).len(), 32);
    assert_eq!(to_prefixes(1u128, u128::MAX - 1).len(), 254);
}

// ---------------------------------------------------------------------------
// Services.
// ---------------------------------------------------------------------------

/// The keys real flows have: TCP and UDP on any port, every other protocol on
/// port 0 only.
fn real_keys() -> ServiceSet {
    let mut intervals = vec![
        (
            service::key(service::TCP, 0),
            service::key(service::TCP, 0xFFFF),
        ),
        (
            service::key(service::UDP, 0),
            service::key(service::UDP, 0xFFFF),
        ),
    ];
    intervals.extend((0..=255u8).map(|p| (service::key(p, 0), service::key(p, 0))));
    ServiceSet::from_intervals(intervals)
}

/// What nft matches for a piece: a bare protocol means all of its packets,
/// whatever the port.
fn piece_keys(piece: ServicePiece) -> ServiceSet {
    match piece {
        ServicePiece::Ports { proto, lo, hi } => service::ports(proto, lo, hi),
        ServicePiece::Protocols { lo, hi } => ServiceSet::from_intervals(
            (lo..=hi)
                .map(|p| {
                    if service::has_ports(p) {
                        (service::key(p, 0), service::key(p, 0xFFFF))
                    } else {
                        (service::key(p, 0), service::key(p, 0))
                    }
                })
                .collect(),
        ),
    }
}

fn service_key() -> impl Strategy<Value = u32> {
    let proto = prop::sample::select(vec![
        0u8, 1, 2, 5, 6, 7, 16, 17, 18, 47, 57, 58, 59, 254, 255,
    ]);
    let port = prop_oneof![
        prop::sample::select(vec![0u16, 1, 2, 22, 23, 443, 623, 65534, 65535]),
        any::<u16>(),
    ];
    (proto, port).prop_map(|(p, q)| service::key(p, q))
}

fn service_set() -> impl Strategy<Value = ServiceSet> {
    let interval = (service_key(), service_key()).prop_map(|(a, b)| (a.min(b), a.max(b)));
    let named = prop::sample::select(vec![
        service::any(),
        service::icmp(),
        service::protocol(service::TCP),
        service::ports(service::UDP, 623, 623),
        service::ports(service::TCP, 5900, 5901),
    ]);
    (
        prop::collection::vec(interval, 0..5),
        prop::collection::vec(named, 0..2),
    )
        .prop_map(|(intervals, named)| {
            named
                .iter()
                .fold(ServiceSet::from_intervals(intervals), |acc, s| acc.union(s))
        })
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn pieces_cover_exactly_the_real_keys(set in service_set()) {
        let expected = set.intersection(&real_keys());
        let pieces = service::pieces(&set);
        let mut covered = ServiceSet::empty();
        for &piece in &pieces {
            let keys = piece_keys(piece);
            match piece {
                ServicePiece::Ports { proto, lo, hi } => {
                    prop_assert!(service::has_ports(proto), "{:?}", piece);
                    prop_assert!(lo <= hi, "{:?}", piece);
                }
                ServicePiece::Protocols { lo, hi } => prop_assert!(lo <= hi, "{:?}", piece),
            }
            prop_assert!(!keys.intersects(&covered), "{:?} overlaps earlier pieces", piece);
            covered = covered.union(&keys);
        }
        prop_assert_eq!(&covered, &expected, "pieces {:?}", pieces);
        // Sorted and deterministic.
        let mut sorted = pieces.clone();
        sorted.sort();
        prop_assert_eq!(&sorted, &pieces);
    }

    #[test]
    fn representative_is_a_member_and_reads_well(set in service_set()) {
        let real = set.intersection(&real_keys());
        let rep = service::representative(&set);
        prop_assert_eq!(rep.is_some(), !real.is_empty());
        if let Some(point) = rep {
            prop_assert!(set.contains(point.key()), "{:?} not in {:?}", point, set);
            prop_assert_eq!(point.port.is_some(), service::has_ports(point.proto));
            prop_assert_eq!(ServicePoint::from_key(point.key()), Some(point));
            let tcp = set.intersection(&service::ports(service::TCP, 1, 0xFFFF)).first();
            let udp = set.intersection(&service::ports(service::UDP, 1, 0xFFFF)).first();
            if let Some(k) = tcp.or(udp) {
                prop_assert_eq!(point.key(), k);
            } else if set.contains(service::key(service::ICMP, 0)) {
                prop_assert_eq!(point, ServicePoint { proto: service::ICMP, port: None });
            } else if set.contains(service::key(service::ICMPV6, 0)) {
                prop_assert_eq!(point, ServicePoint { proto: service::ICMPV6, port: None });
            }
        }
    }

    #[test]
    fn service_keys_round_trip(key in service_key()) {
        let (proto, port) = (service::proto_of(key), service::port_of(key));
        prop_assert_eq!(service::key(proto, port), key);
        match ServicePoint::from_key(key) {
            Some(point) => {
                prop_assert_eq!(point.key(), key);
                prop_assert!(service::has_ports(proto) || port == 0);
            }
            None => prop_assert!(!service::has_ports(proto) && port != 0),
        }
    }
}

#[test]
fn service_examples() {
    use ServicePiece::*;
    assert_eq!(
        service::pieces(&service::any()),
        vec![
            Ports {
                proto: 6,
                lo: 0,
                hi: 0xFFFF
            },
            Ports {
                proto: 17,
                lo: 0,
                hi: 0xFFFF
            },
            Protocols { lo: 0, hi: 5 },
            Protocols { lo: 7, hi: 16 },
            Protocols { lo: 18, hi: 255 },
        ]
    );
    assert_eq!(
        service::pieces(&service::icmp()),
        vec![Protocols { lo: 1, hi: 1 }, Protocols { lo: 58, hi: 58 }]
    );
    // A port-less protocol with only non-zero "ports" has no real flow.
    assert_eq!(
        service::pieces(&ServiceSet::interval(
            service::key(1, 1),
            service::key(1, 9)
        )),
        vec![]
    );
    assert_eq!(
        service::representative(&ServiceSet::interval(
            service::key(1, 1),
            service::key(1, 9)
        )),
        None
    );
    assert_eq!(
        service::representative(&service::any()),
        Some(ServicePoint {
            proto: service::TCP,
            port: Some(1)
        })
    );
    assert_eq!(
        service::representative(&service::ports(service::TCP, 0, 0)),
        Some(ServicePoint {
            proto: service::TCP,
            port: Some(0)
        })
    );
    assert_eq!(
        service::representative(&service::protocol(47)),
        Some(ServicePoint {
            proto: 47,
            port: None
        })
    );
}

proptest! {
    #[test]
    fn single_prefix_agrees_with_to_prefixes(a in any::<u32>(), b in any::<u32>(), shift in 0u32..32) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let expected = match to_prefixes(lo, hi).as_slice() {
            [(_, len)] => Some(*len),
            _ => None,
        };
        prop_assert_eq!(single_prefix(lo, hi), expected);
        let aligned = lo & !((1u32 << shift) - 1);
        let top = aligned | ((1u32 << shift) - 1);
        prop_assert_eq!(single_prefix(aligned, top), Some(32 - shift as u8));
        prop_assert_eq!(single_prefix(u128::from(aligned), u128::from(top)), Some(128 - shift as u8));
    }
}
