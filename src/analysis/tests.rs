use super::testing::*;
use super::*;
use crate::addr::service::ServicePoint;
use crate::analysis::bits::Bits;
use crate::analysis::region::{blocks, Block};
use crate::model::Action;
use crate::model::Date;
use crate::resolve;
use crate::source::SourceMap;
use proptest::prelude::*;
use std::path::Path;

#[test]
fn ams1_table_agrees_with_first_match_on_cell_representatives() {
    let mut sources = SourceMap::default();
    let today = Date::parse("2026-11-21").unwrap();
    let (policy, diagnostics) = resolve::load(
        Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/ams1/ams1.wall"
        )),
        &mut sources,
        &resolve::Options::new(today),
    );
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let analysis = Analysis::new(&policy);
    for (s, src) in analysis.v4.src.classes.iter().enumerate() {
        for (d, dst) in analysis.v4.dst.classes.iter().enumerate() {
            for (v, svc) in analysis.services.classes.iter().enumerate() {
                let flow = Flow {
                    family: Family::V4,
                    src: u128::from(src.first().unwrap()),
                    dst: u128::from(dst.first().unwrap()),
                    service: service::representative(svc).unwrap(),
                };
                let expected = first_match(&policy, &flow);
                assert_eq!(
                    analysis.v4.decision(s, d, v).map(|o| analysis.rules[o]),
                    expected
                );
                assert_eq!(analysis.decide(&flow), expected);
            }
        }
    }
}

/// Many rules that each let one host reach one BMC on a port of its own: the
/// table stores one pair per rule, not every pair of classes, and its more
/// than 64 service classes are decided as first match decides them.
#[test]
fn one_host_per_bmc_stores_one_pair_per_rule() {
    let count = 150;
    let mut text = String::from("internal 10.0.0.0/8;\n");
    for i in 0..count {
        text += &format!(
            "host h{i} = 10.1.0.{};\nbmc b{i} = 10.64.0.{};\n",
            i + 1,
            i + 1
        );
    }
    for i in 0..count {
        text += &format!("allow h{i} -> b{i} : tcp {};\n", 1000 + i);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.wall");
    std::fs::write(&path, text).unwrap();
    let mut sources = SourceMap::default();
    let today = Date::parse("2026-11-21").unwrap();
    let (policy, diagnostics) = resolve::load(&path, &mut sources, &resolve::Options::new(today));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let analysis = Analysis::new(&policy);
    let table = &analysis.v4;
    assert!(analysis.services.len() > count);
    assert!(table.src.len() > count && table.dst.len() > count);
    let stored: usize = (0..table.src.len()).map(|s| table.pairs(s).count()).sum();
    assert_eq!(stored, count);
    assert_eq!(table.row_count(), count);
    for i in [0, 1, 63, 64, 100, count - 1] {
        for j in [0, 64, i, count - 1] {
            for port in [1000 + i, 1000 + j, 22] {
                let flow = Flow {
                    family: Family::V4,
                    src: u128::from(0x0A01_0001 + i as u32),
                    dst: u128::from(0x0A40_0001 + j as u32),
                    service: ServicePoint {
                        proto: service::TCP,
                        port: Some(port as u16),
                    },
                };
                assert_eq!(
                    analysis.decide(&flow),
                    first_match(&policy, &flow),
                    "{flow:?}"
                );
            }
        }
    }
}

fn block_contains<T: Fam>(block: &Block<T>, flow: &Flow) -> bool {
    block.src.contains(T::narrow(flow.src))
        && block.dst.contains(T::narrow(flow.dst))
        && block.services.contains(flow.service.key())
}

/// Blocks are non-empty and pairwise disjoint.
fn check_blocks_disjoint<T: Fam>(blocks: &[Block<T>]) -> Result<(), TestCaseError> {
    for (i, a) in blocks.iter().enumerate() {
        prop_assert!(
            !a.src.is_empty() && !a.dst.is_empty() && !a.services.is_empty(),
            "empty block {:?}",
            a
        );
        for b in &blocks[i + 1..] {
            prop_assert!(
                !(a.src.intersects(&b.src)
                    && a.dst.intersects(&b.dst)
                    && a.services.intersects(&b.services)),
                "blocks overlap:\n{:?}\n{:?}",
                a,
                b
            );
        }
    }
    Ok(())
}

/// The analysis partitions are exact for the policy's own sets, with the bits
/// laid out as documented: rules in force, then expectations, then scope.
fn check_layout<T: Fam>(
    policy: &Policy,
    analysis: &Analysis,
    table: &FamilyTable<T>,
) -> Result<(), TestCaseError> {
    let layout = analysis.layout;
    prop_assert_eq!(layout.rules, analysis.rules.len());
    prop_assert_eq!(layout.expectations, policy.expectations.len());
    let union_of = |part: &Partition<T>, bit: usize| {
        part.classes_in(bit)
            .fold(IntervalSet::empty(), |acc, c| acc.union(&part.classes[c]))
    };
    let service_union = |bit: usize| {
        analysis
            .services
            .classes_in(bit)
            .fold(ServiceSet::empty(), |acc, c| {
                acc.union(&analysis.services.classes[c])
            })
    };
    for (ordinal, &i) in analysis.rules.iter().enumerate() {
        let rule = &policy.rules[i];
        prop_assert_eq!(
            &union_of(&table.src, ordinal),
            T::part(&rule.src),
            "rule {} src",
            i
        );
        prop_assert_eq!(
            &union_of(&table.dst, ordinal),
            T::part(&rule.dst),
            "rule {} dst",
            i
        );
        prop_assert_eq!(
            &service_union(ordinal),
            &rule.services,
            "rule {} services",
            i
        );
    }
    for (e, expectation) in policy.expectations.iter().enumerate() {
        let bit = layout.expectation_bit(e);
        prop_assert_eq!(&union_of(&table.src, bit), T::part(&expectation.src));
        prop_assert_eq!(&union_of(&table.dst, bit), T::part(&expectation.dst));
        prop_assert_eq!(&service_union(bit), &expectation.services);
    }
    let scope = T::part(&policy.scope);
    prop_assert_eq!(&union_of(&table.src, layout.scope_bit()), scope);
    prop_assert_eq!(&union_of(&table.dst, layout.scope_bit()), scope);
    prop_assert!(service_union(layout.scope_bit()).is_empty());
    Ok(())
}

/// Above this many cells, the table is checked through flows only.
const CELL_LIMIT: usize = 3000;

/// Every cell of a small table: its decision is the first match of the lowest
/// and the highest member of its classes.
fn check_cells<T: Fam>(
    policy: &Policy,
    analysis: &Analysis,
    table: &FamilyTable<T>,
) -> Result<(), TestCaseError> {
    let services = &analysis.services;
    if table.src.len() * table.dst.len() * services.len() > CELL_LIMIT {
        return Ok(());
    }
    prop_assert_eq!(
        table.cell_count(),
        table.src.len() * table.dst.len() * services.len()
    );
    let ends = |set: &IntervalSet<T>| {
        let iv = set.intervals();
        (iv[0].0, iv[iv.len() - 1].1)
    };
    for (s, src) in table.src.classes.iter().enumerate() {
        for (d, dst) in table.dst.classes.iter().enumerate() {
            for (v, svc) in services.classes.iter().enumerate() {
                // A class of keys no real flow has (a port-less protocol
                // with a port) decides nothing anyone can observe.
                let Some(point) = service::representative(svc) else {
                    continue;
                };
                let ((s_lo, s_hi), (d_lo, d_hi)) = (ends(src), ends(dst));
                for (a, b) in [(s_lo, d_lo), (s_hi, d_hi), (s_lo, d_hi)] {
                    let flow = Flow {
                        family: T::FAMILY,
                        src: a.wide(),
                        dst: b.wide(),
                        service: point,
                    };
                    let expected = naive(policy, &flow);
                    prop_assert_eq!(
                        table.decision(s, d, v).map(|o| analysis.rules[o]),
                        expected,
                        "cell ({}, {}, {}), flow {:?}",
                        s,
                        d,
                        v,
                        flow
                    );
                    prop_assert_eq!(analysis.decide(&flow), expected, "decide, flow {:?}", flow);
                }
            }
        }
    }
    Ok(())
}

fn check_family<T: Fam>(
    policy: &Policy,
    analysis: &Analysis,
    random: &[FlowSpec],
    subset: u128,
    seed: u64,
) -> Result<(), TestCaseError> {
    let table = T::table(analysis);
    check_layout(policy, analysis, table)?;
    check_cells(policy, analysis, table)?;
    let allows = blocks(analysis, table, |o| {
        policy.rules[analysis.rules[o]].action == Action::Allow
    });
    // Any predicate on rules, not only "allow": a random subset of the rules.
    let chosen = |rule: usize| subset & (1 << rule) != 0;
    assert!(policy.rules.len() <= 128);
    let subset_blocks = blocks(analysis, table, |o| chosen(analysis.rules[o]));
    check_blocks_disjoint(&allows)?;
    check_blocks_disjoint(&subset_blocks)?;

    let mut flows = boundary_flows::<T>(policy, seed);
    flows.extend(random.iter().map(|f| f.flow_in::<T>()));
    for flow in &flows {
        let expected = naive(policy, flow);
        prop_assert_eq!(
            first_match(policy, flow),
            expected,
            "first_match, flow {:?}",
            flow
        );
        prop_assert_eq!(analysis.decide(flow), expected, "decide, flow {:?}", flow);
        let scoped = in_scope(policy, flow);
        let allowed = expected.is_some_and(|r| policy.rules[r].action == Action::Allow);
        let in_blocks: Vec<&Block<T>> = allows.iter().filter(|b| block_contains(b, flow)).collect();
        prop_assert_eq!(
            !in_blocks.is_empty(),
            allowed && scoped,
            "allow blocks, flow {:?} (decided by {:?}, in scope: {}), blocks holding it: {:?}",
            flow,
            expected,
            scoped,
            in_blocks
        );
        let in_subset = subset_blocks.iter().any(|b| block_contains(b, flow));
        prop_assert_eq!(
            in_subset,
            expected.is_some_and(chosen) && scoped,
            "subset {:#b} blocks, flow {:?} (decided by {:?}, in scope: {})",
            subset,
            flow,
            expected,
            scoped
        );
    }
    Ok(())
}

fn check_policy(
    spec: &PolicySpec,
    random: &[FlowSpec],
    subset: u128,
    seed: u64,
) -> Result<(), TestCaseError> {
    let policy = spec.build();
    let analysis = Analysis::new(&policy);
    let active: Vec<usize> = (0..policy.rules.len())
        .filter(|&i| !policy.rules[i].expired)
        .collect();
    prop_assert_eq!(&analysis.rules, &active);
    check_family::<u32>(&policy, &analysis, random, subset, seed)?;
    check_family::<u128>(&policy, &analysis, random, subset, seed)?;
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn table_and_blocks_agree_with_first_match(
        spec in policy_spec(1..=12, 0..=3),
        random in prop::collection::vec(flow_spec(), 32),
        subset in any::<u128>(),
        seed in any::<u64>(),
    ) {
        check_policy(&spec, &random, subset, seed)?;
    }
}

proptest! {
    #![proptest_config(config(32))]

    /// Deciding rules past bit 64: class signatures span several words.
    #[test]
    fn table_with_many_rules_agrees_with_first_match(
        fillers in filler_rules(),
        spec in policy_spec(1..=12, 0..=3),
        random in prop::collection::vec(flow_spec(), 32),
        subset in any::<u128>(),
        seed in any::<u64>(),
    ) {
        let mut spec = spec;
        spec.rules.splice(0..0, fillers);
        check_policy(&spec, &random, subset, seed)?;
    }
}

// ---------------------------------------------------------------------------
// Partitions against a model.
//
// Sets lie in a window of 64 values `[base, base + 63]`, each optionally with
// everything outside the window; the signature of a value is the list of sets
// holding it.
// ---------------------------------------------------------------------------

const WINDOW: u32 = 64;

type RawSet = (Vec<(u32, u32)>, bool);

fn raw_sets() -> impl Strategy<Value = Vec<RawSet>> {
    let one = (
        prop::collection::vec(
            (0..WINDOW, 0..WINDOW).prop_map(|(a, b)| (a.min(b), a.max(b))),
            0..4,
        ),
        prop::bool::weighted(0.2),
    );
    prop::collection::vec(one, 0..7)
}

fn window_at<T: Fam>(base: T, offset: u32) -> T {
    T::narrow(base.wide() + u128::from(offset))
}

fn build_window_set<T: Fam>(base: T, raw: &RawSet) -> IntervalSet<T> {
    let mut intervals: Vec<(T, T)> = raw
        .0
        .iter()
        .map(|&(lo, hi)| (window_at(base, lo), window_at(base, hi)))
        .collect();
    if raw.1 {
        let top = window_at(base, WINDOW - 1);
        if base > T::MIN {
            intervals.push((T::MIN, base.pred()));
        }
        if top < T::MAX {
            intervals.push((top.succ(), T::MAX));
        }
    }
    IntervalSet::from_intervals(intervals)
}

/// Values whose signatures describe the whole space: the window, and the
/// values just below, just above, and at both ends.
fn partition_probes<T: Fam>(base: T, max: T) -> Vec<T> {
    let mut out: Vec<T> = (0..WINDOW).map(|i| window_at(base, i)).collect();
    out.extend([T::MIN, max]);
    if base > T::MIN {
        out.push(base.pred());
    }
    let top = window_at(base, WINDOW - 1);
    if top < max {
        out.push(top.succ());
    }
    out.retain(|&v| v <= max);
    out.sort_unstable();
    out.dedup();
    out
}

fn check_partition<T: Fam>(base: T, raw: &[RawSet], max: Option<T>) -> Result<(), TestCaseError> {
    let sets: Vec<IntervalSet<T>> = raw.iter().map(|r| build_window_set(base, r)).collect();
    let refs: Vec<&IntervalSet<T>> = sets.iter().collect();
    let (part, max) = match max {
        None => (Partition::new(&refs), T::MAX),
        Some(max) => (Partition::within(&refs, max), max),
    };
    let space = IntervalSet::interval(T::MIN, max);

    // Classes: non-empty, disjoint, covering the space, ordered by first member.
    prop_assert_eq!(part.len(), part.classes.len());
    prop_assert_eq!(part.membership.len(), part.classes.len());
    let mut covered = IntervalSet::empty();
    for (c, class) in part.classes.iter().enumerate() {
        prop_assert!(!class.is_empty(), "class {} is empty", c);
        prop_assert!(
            class.is_subset(&space),
            "class {} {:?} outside the space",
            c,
            class
        );
        prop_assert!(
            !class.intersects(&covered),
            "class {} {:?} overlaps another",
            c,
            class
        );
        covered = covered.union(class);
    }
    prop_assert_eq!(&covered, &space);
    let firsts: Vec<T> = part.classes.iter().map(|c| c.first().unwrap()).collect();
    prop_assert!(
        firsts.windows(2).all(|w| w[0] < w[1]),
        "classes not in order: {:?}",
        firsts
    );

    // Every input set is exactly the union of the classes marked as in it, and
    // each class lies wholly inside or wholly outside each set.
    for (i, set) in sets.iter().enumerate() {
        let mut union = IntervalSet::empty();
        for (c, class) in part.classes.iter().enumerate() {
            if part.membership[c].get(i) {
                prop_assert!(
                    class.is_subset(set),
                    "class {} marked in set {} but not inside",
                    c,
                    i
                );
                union = union.union(class);
            } else {
                prop_assert!(!class.intersects(set), "class {} cuts set {}", c, i);
            }
        }
        prop_assert_eq!(&union, &set.intersection(&space), "set {}", i);
        let listed: Vec<usize> = part.classes_in(i).collect();
        let marked: Vec<usize> = (0..part.len())
            .filter(|&c| part.membership[c].get(i))
            .collect();
        prop_assert_eq!(listed, marked);
    }

    // Coarsest: classes have distinct signatures, and atoms start exactly where
    // the signature changes.
    let signature = |v: T| -> Vec<bool> { sets.iter().map(|s| s.contains(v)).collect() };
    for a in 0..part.len() {
        for b in a + 1..part.len() {
            prop_assert_ne!(
                &part.membership[a],
                &part.membership[b],
                "classes {} and {}",
                a,
                b
            );
        }
    }
    let probes = partition_probes(base, max);
    let changes = probes
        .iter()
        .filter(|&&v| v > T::MIN && signature(v) != signature(v.pred()))
        .count();
    prop_assert_eq!(part.atom_count(), changes + 1);
    let mut signatures: Vec<Vec<bool>> = probes.iter().map(|&v| signature(v)).collect();
    signatures.sort();
    signatures.dedup();
    prop_assert_eq!(part.len(), signatures.len());

    // class_of finds the class holding the value.
    for &v in &probes {
        let c = part.class_of(v);
        prop_assert!(c < part.len());
        prop_assert!(
            part.classes[c].contains(v),
            "class_of({:?}) = {} does not hold it",
            v,
            c
        );
        for (i, set) in sets.iter().enumerate() {
            prop_assert_eq!(part.membership[c].get(i), set.contains(v));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(500))]

    #[test]
    fn u32_partition_is_exact(
        base in prop::sample::select(vec![0u32, V4_BASE, u32::MAX - (WINDOW - 1)]),
        raw in raw_sets(),
    ) {
        check_partition(base, &raw, None)?;
    }

    #[test]
    fn u128_partition_is_exact(
        base in prop::sample::select(vec![0u128, V6_BASE, u128::MAX - (WINDOW as u128 - 1)]),
        raw in raw_sets(),
    ) {
        check_partition(base, &raw, None)?;
    }

    #[test]
    fn partition_within_a_bound_is_exact(
        raw in raw_sets(),
        max in prop_oneof![0..=70u32, Just(service::MAX_KEY)],
    ) {
        check_partition(0u32, &raw, Some(max))?;
    }
}

// ---------------------------------------------------------------------------
// Bit sets (class signatures) against a model, across word boundaries.
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(500))]

    #[test]
    fn bits_agree_with_model(
        len in 1..200usize,
        a in prop::collection::vec(0..200usize, 0..20),
        b in prop::collection::vec(0..200usize, 0..20),
        limit in 0..=200usize,
    ) {
        let build = |members: &[usize]| {
            let mut bits = Bits::new(len);
            let mut model = std::collections::BTreeSet::new();
            for &m in members.iter().filter(|&&m| m < len) {
                bits.set(m);
                model.insert(m);
            }
            (bits, model)
        };
        let (ba, ma) = build(&a);
        let (bb, mb) = build(&b);
        for i in 0..len + 70 {
            prop_assert_eq!(ba.get(i), ma.contains(&i), "get({})", i);
        }
        let mut both = Bits::new(len);
        ba.and_into(&bb, &mut both);
        let mboth: Vec<usize> = ma.intersection(&mb).copied().collect();
        prop_assert_eq!(both.ones_below(usize::MAX).collect::<Vec<_>>(), mboth.clone());
        prop_assert_eq!(
            both.ones_below(limit).collect::<Vec<_>>(),
            mboth.iter().copied().filter(|&m| m < limit).collect::<Vec<_>>()
        );
        prop_assert_eq!(
            both.first_below(limit),
            mboth.iter().copied().find(|&m| m < limit)
        );
        prop_assert_eq!(ba.first_below(limit), ma.iter().copied().find(|&m| m < limit));
        let sparse = SparseBits::below(&ba, limit);
        prop_assert_eq!(
            sparse.ones().collect::<Vec<_>>(),
            ma.iter().copied().filter(|&m| m < limit).collect::<Vec<_>>()
        );
        prop_assert_eq!(sparse.is_empty(), !ma.iter().any(|&m| m < limit));
        prop_assert_eq!(
            sparse.and_ones(&bb).collect::<Vec<_>>(),
            mboth.iter().copied().filter(|&m| m < limit).collect::<Vec<_>>()
        );
        // Equal bit sets are equal values (signatures are hashed and compared).
        prop_assert_eq!(ba == bb, ma == mb);
    }
}

// ---------------------------------------------------------------------------
// Witness addresses.
// ---------------------------------------------------------------------------

fn check_address_representative<T: Fam + flow::Address>(
    set: &IntervalSet<T>,
) -> Result<(), TestCaseError> {
    let rep = flow::representative(set);
    prop_assert_eq!(rep.is_some(), !set.is_empty());
    if let Some(v) = rep {
        prop_assert!(set.contains(v));
        let ordinary = set.difference(&T::special());
        prop_assert_eq!(
            !T::special().contains(v),
            !ordinary.is_empty(),
            "{:?} from {:?}",
            v,
            set
        );
        if let Some(first) = ordinary.first() {
            prop_assert_eq!(v, first);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(500))]

    #[test]
    fn address_representative_is_a_member(
        v4 in shape(),
        v6 in shape(),
        special in prop::collection::vec(
            prop::sample::select(vec![0u128, 1, 0x7F00_0001, 0xE000_0000, u128::MAX]),
            0..3,
        ),
    ) {
        let mut v4 = v4.build::<u32>();
        let mut v6 = v6.build::<u128>();
        for &s in &special {
            v4 = v4.union(&IntervalSet::point(s as u32));
            v6 = v6.union(&IntervalSet::point(s));
        }
        check_address_representative(&v4)?;
        check_address_representative(&v6)?;
        check_address_representative(&IntervalSet::point(0u32))?;
        check_address_representative(&IntervalSet::point(u128::MAX))?;
    }
}
