//! What the property tests of the decision table and of the nft model share:
//! generators of random policies and flows, the reference first match they
//! are held to, and the flows at the boundaries of a policy's sets.

use super::{Analysis, Family, FamilyTable, Flow};
use crate::addr::service::{self, ServicePoint, ServiceSet};
use crate::addr::{AddrSet, Bound, IntervalSet};
use crate::model::{Action, ExpectKind};
use crate::resolve::{Policy, PolicyExpectation, PolicyRule};
use crate::source::{FileId, Span};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Proptest settings: a fixed number of cases and no regression files written
/// into the tree (a failure prints its minimal input instead).
pub(crate) fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// 10.0.0.0: random IPv4 sets lie in 10.0.0.0-10.0.0.255 so that they overlap often.
pub(crate) const V4_BASE: u32 = 0x0A00_0000;
/// fd00::: random IPv6 sets lie in fd00::-fd00::ff.
pub(crate) const V6_BASE: u128 = 0xfd00 << 112;

/// One family of an address set, as offsets from the family's base.
#[derive(Clone, Debug)]
pub(crate) enum Shape {
    Empty,
    Full,
    /// The union of these (inclusive) offset ranges.
    Ranges(Vec<(u8, u8)>),
    /// Everything except these offset ranges (reaches both ends of the space).
    Except(Vec<(u8, u8)>),
}

impl Shape {
    pub(crate) fn build<T: Fam>(&self) -> IntervalSet<T> {
        let ranges = |r: &[(u8, u8)]| {
            IntervalSet::from_intervals(r.iter().map(|&(lo, hi)| (T::at(lo), T::at(hi))).collect())
        };
        match self {
            Shape::Empty => IntervalSet::empty(),
            Shape::Full => IntervalSet::full(),
            Shape::Ranges(r) => ranges(r),
            Shape::Except(r) => ranges(r).complement(),
        }
    }
}

pub(crate) fn offset_range() -> impl Strategy<Value = (u8, u8)> {
    prop_oneof![
        // Wide ranges anywhere in the region.
        3 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| (a.min(b), a.max(b))),
        // Narrow ranges, single addresses.
        2 => (any::<u8>(), 0..4u8).prop_map(|(a, w)| (a, a.saturating_add(w))),
        // Ranges touching the ends of the region.
        1 => any::<u8>().prop_map(|a| (0, a)),
        1 => any::<u8>().prop_map(|a| (a, 255)),
    ]
}

pub(crate) fn shape() -> impl Strategy<Value = Shape> {
    let ranges = || prop::collection::vec(offset_range(), 1..4);
    prop_oneof![
        1 => Just(Shape::Empty),
        2 => Just(Shape::Full),
        8 => ranges().prop_map(Shape::Ranges),
        1 => ranges().prop_map(Shape::Except),
    ]
}

#[derive(Clone, Debug)]
pub(crate) struct AddrSpec {
    v4: Shape,
    v6: Shape,
}

impl AddrSpec {
    pub(crate) fn build(&self) -> AddrSet {
        AddrSet {
            v4: self.v4.build(),
            v6: self.v6.build(),
        }
    }
}

pub(crate) fn addr_spec() -> impl Strategy<Value = AddrSpec> {
    (shape(), shape()).prop_map(|(v4, v6)| AddrSpec { v4, v6 })
}

pub(crate) fn scope_spec() -> impl Strategy<Value = AddrSpec> {
    prop_oneof![
        1 => Just(AddrSpec { v4: Shape::Full, v6: Shape::Full }),
        3 => addr_spec(),
    ]
}

/// Ports of the random TCP/UDP items lie in 20-30.
pub(crate) const PORT_LO: u16 = 20;
pub(crate) const PORT_HI: u16 = 30;

#[derive(Clone, Debug)]
pub(crate) enum SvcItem {
    Tcp(u16, u16),
    Udp(u16, u16),
    Icmp,
    Any,
    AllTcp,
    Proto(u8),
}

impl SvcItem {
    pub(crate) fn build(&self) -> ServiceSet {
        match *self {
            SvcItem::Tcp(lo, hi) => service::ports(service::TCP, lo, hi),
            SvcItem::Udp(lo, hi) => service::ports(service::UDP, lo, hi),
            SvcItem::Icmp => service::icmp(),
            SvcItem::Any => service::any(),
            SvcItem::AllTcp => service::protocol(service::TCP),
            SvcItem::Proto(p) => service::protocol(p),
        }
    }
}

pub(crate) fn build_services(items: &[SvcItem]) -> ServiceSet {
    items
        .iter()
        .fold(ServiceSet::empty(), |acc, item| acc.union(&item.build()))
}

pub(crate) fn svc_item() -> impl Strategy<Value = SvcItem> {
    let ports = (PORT_LO..=PORT_HI, PORT_LO..=PORT_HI).prop_map(|(a, b)| (a.min(b), a.max(b)));
    prop_oneof![
        4 => ports.clone().prop_map(|(lo, hi)| SvcItem::Tcp(lo, hi)),
        3 => ports.prop_map(|(lo, hi)| SvcItem::Udp(lo, hi)),
        1 => Just(SvcItem::Icmp),
        1 => Just(SvcItem::Any),
        1 => Just(SvcItem::AllTcp),
        1 => prop::sample::select(vec![0u8, 5, 7, 47, 255]).prop_map(SvcItem::Proto),
    ]
}

pub(crate) fn services_spec() -> impl Strategy<Value = Vec<SvcItem>> {
    prop::collection::vec(svc_item(), 1..4)
}

#[derive(Clone, Debug)]
pub(crate) struct RuleSpec {
    allow: bool,
    expired: bool,
    log: bool,
    src: AddrSpec,
    dst: AddrSpec,
    services: Vec<SvcItem>,
}

#[derive(Clone, Debug)]
pub(crate) struct ExpectSpec {
    allow: bool,
    src: AddrSpec,
    dst: AddrSpec,
    services: Vec<SvcItem>,
}

#[derive(Clone, Debug)]
pub(crate) struct PolicySpec {
    pub(crate) rules: Vec<RuleSpec>,
    expectations: Vec<ExpectSpec>,
    scope: AddrSpec,
}

pub(crate) fn rule_spec() -> impl Strategy<Value = RuleSpec> {
    (
        prop::bool::ANY,
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.2),
        addr_spec(),
        addr_spec(),
        services_spec(),
    )
        .prop_map(|(allow, expired, log, src, dst, services)| RuleSpec {
            allow,
            expired,
            log,
            src,
            dst,
            services,
        })
}

pub(crate) fn expect_spec() -> impl Strategy<Value = ExpectSpec> {
    (prop::bool::ANY, addr_spec(), addr_spec(), services_spec()).prop_map(
        |(allow, src, dst, services)| ExpectSpec {
            allow,
            src,
            dst,
            services,
        },
    )
}

pub(crate) fn policy_spec(
    rules: std::ops::RangeInclusive<usize>,
    expectations: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = PolicySpec> {
    (
        prop::collection::vec(rule_spec(), rules),
        prop::collection::vec(expect_spec(), expectations),
        scope_spec(),
    )
        .prop_map(|(rules, expectations, scope)| PolicySpec {
            rules,
            expectations,
            scope,
        })
}

pub(crate) fn action(allow: bool) -> Action {
    if allow {
        Action::Allow
    } else {
        Action::Deny
    }
}

impl PolicySpec {
    pub(crate) fn build(&self) -> Policy {
        let span = Span::new(FileId(0), 0, 0);
        Policy {
            scope: self.scope.build(),
            rules: self
                .rules
                .iter()
                .map(|r| PolicyRule {
                    unresolved: false,
                    action: action(r.allow),
                    src: r.src.build(),
                    dst: r.dst.build(),
                    services: build_services(&r.services),
                    cleartext: Vec::new(),
                    log: r.log,
                    until: None,
                    expired: r.expired,
                    description: None,
                    waivers: Vec::new(),
                    span,
                    src_span: span,
                    dst_span: span,
                    services_span: None,
                })
                .collect(),
            expectations: self
                .expectations
                .iter()
                .map(|e| PolicyExpectation {
                    kind: if e.allow {
                        ExpectKind::Allow
                    } else {
                        ExpectKind::Deny
                    },
                    src: e.src.build(),
                    dst: e.dst.build(),
                    services: build_services(&e.services),
                    description: None,
                    span,
                    unresolved: false,
                })
                .collect(),
            ..Policy::default()
        }
    }
}

/// An address family as the tests see it.
pub(crate) trait Fam: Bound {
    const FAMILY: Family;
    /// `base + offset` in the family's random region.
    fn at(offset: u8) -> Self;
    fn wide(self) -> u128;
    fn narrow(value: u128) -> Self;
    fn part(set: &AddrSet) -> &IntervalSet<Self>;
    fn table(analysis: &Analysis) -> &FamilyTable<Self>;
}

impl Fam for u32 {
    const FAMILY: Family = Family::V4;
    fn at(offset: u8) -> Self {
        V4_BASE + u32::from(offset)
    }
    fn wide(self) -> u128 {
        u128::from(self)
    }
    fn narrow(value: u128) -> Self {
        value as u32
    }
    fn part(set: &AddrSet) -> &IntervalSet<Self> {
        &set.v4
    }
    fn table(analysis: &Analysis) -> &FamilyTable<Self> {
        &analysis.v4
    }
}

impl Fam for u128 {
    const FAMILY: Family = Family::V6;
    fn at(offset: u8) -> Self {
        V6_BASE + u128::from(offset)
    }
    fn wide(self) -> u128 {
        self
    }
    fn narrow(value: u128) -> Self {
        value
    }
    fn part(set: &AddrSet) -> &IntervalSet<Self> {
        &set.v6
    }
    fn table(analysis: &Analysis) -> &FamilyTable<Self> {
        &analysis.v6
    }
}

/// The reference: try every rule in order, skipping expired ones. Written here
/// again (not `first_match`) so that the reference does not share code with
/// the analysis.
pub(crate) fn naive(policy: &Policy, flow: &Flow) -> Option<usize> {
    for (i, rule) in policy.rules.iter().enumerate() {
        if rule.expired {
            continue;
        }
        let (src, dst) = match flow.family {
            Family::V4 => (
                rule.src.v4.contains(flow.src as u32),
                rule.dst.v4.contains(flow.dst as u32),
            ),
            Family::V6 => (
                rule.src.v6.contains(flow.src),
                rule.dst.v6.contains(flow.dst),
            ),
        };
        if src && dst && rule.services.contains(flow.service.key()) {
            return Some(i);
        }
    }
    None
}

pub(crate) fn in_scope(policy: &Policy, flow: &Flow) -> bool {
    match flow.family {
        Family::V4 => {
            policy.scope.v4.contains(flow.src as u32) || policy.scope.v4.contains(flow.dst as u32)
        }
        Family::V6 => policy.scope.v6.contains(flow.src) || policy.scope.v6.contains(flow.dst),
    }
}

/// Interval ends and their neighbours, and the ends of the space.
pub(crate) fn boundaries<'a, T: Bound>(sets: impl Iterator<Item = &'a IntervalSet<T>>) -> Vec<T> {
    let mut out = vec![T::MIN, T::MAX];
    for set in sets {
        for &(lo, hi) in set.intervals() {
            out.extend([lo, hi]);
            if lo > T::MIN {
                out.push(lo.pred());
            }
            if hi < T::MAX {
                out.push(hi.succ());
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Services that real flows have, around every interval end of `sets`.
pub(crate) fn service_boundaries<'a>(
    sets: impl Iterator<Item = &'a ServiceSet>,
) -> Vec<ServicePoint> {
    let mut keys = Vec::new();
    for set in sets {
        for &(lo, hi) in set.intervals() {
            keys.extend([lo, hi, lo.saturating_sub(1), hi.saturating_add(1)]);
        }
    }
    keys.extend([
        service::key(service::TCP, 0),
        service::key(service::TCP, 65535),
        service::key(service::UDP, 0),
        service::key(service::UDP, 65535),
        service::MAX_KEY,
    ]);
    let mut out: Vec<ServicePoint> = keys
        .into_iter()
        .filter(|&k| k <= service::MAX_KEY)
        .map(|k| {
            ServicePoint::from_key(k).unwrap_or(ServicePoint {
                proto: service::proto_of(k),
                port: None,
            })
        })
        .chain(fixed_services())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

pub(crate) fn fixed_services() -> Vec<ServicePoint> {
    let mut out: Vec<ServicePoint> = [service::TCP, service::UDP]
        .into_iter()
        .flat_map(|proto| {
            [0, 1, PORT_LO - 1, PORT_LO, 25, PORT_HI, PORT_HI + 1, 65535].map(|port| ServicePoint {
                proto,
                port: Some(port),
            })
        })
        .collect();
    for proto in [0, 1, 2, 5, 7, 47, 58, 255] {
        out.push(ServicePoint { proto, port: None });
    }
    out
}

/// A concrete flow from the generator, tried in both families: an address is
/// an offset in the region or one of a few values elsewhere.
#[derive(Clone, Debug)]
pub(crate) struct FlowSpec {
    src: AddrPick,
    dst: AddrPick,
    service: ServicePoint,
}

#[derive(Clone, Debug)]
pub(crate) enum AddrPick {
    Region(u8),
    Below,
    Above,
    Min,
    Max,
    Anywhere(u128),
}

impl AddrPick {
    pub(crate) fn value<T: Fam>(&self) -> T {
        match *self {
            AddrPick::Region(o) => T::at(o),
            AddrPick::Below => T::at(0).pred(),
            AddrPick::Above => T::at(255).succ(),
            AddrPick::Min => T::MIN,
            AddrPick::Max => T::MAX,
            AddrPick::Anywhere(v) => T::narrow(v),
        }
    }
}

pub(crate) fn addr_pick() -> impl Strategy<Value = AddrPick> {
    prop_oneof![
        8 => any::<u8>().prop_map(AddrPick::Region),
        1 => Just(AddrPick::Below),
        1 => Just(AddrPick::Above),
        1 => Just(AddrPick::Min),
        1 => Just(AddrPick::Max),
        1 => any::<u128>().prop_map(AddrPick::Anywhere),
    ]
}

pub(crate) fn flow_spec() -> impl Strategy<Value = FlowSpec> {
    (
        addr_pick(),
        addr_pick(),
        prop::sample::select(fixed_services()),
    )
        .prop_map(|(src, dst, service)| FlowSpec { src, dst, service })
}

impl FlowSpec {
    pub(crate) fn flow_in<T: Fam>(&self) -> Flow {
        Flow {
            family: T::FAMILY,
            src: self.src.value::<T>().wide(),
            dst: self.dst.value::<T>().wide(),
            service: self.service,
        }
    }
}

/// A small deterministic generator to pick combinations.
pub(crate) struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Above this many boundary combinations, each boundary value of each dimension
/// is combined with a few random values of the other two instead.
pub(crate) const PRODUCT_LIMIT: usize = 3000;
pub(crate) const PARTNERS: usize = 3;

/// Flows at the boundaries of every set the policy mentions.
pub(crate) fn boundary_flows<T: Fam>(policy: &Policy, seed: u64) -> Vec<Flow> {
    let srcs = boundaries(
        policy
            .rules
            .iter()
            .map(|r| T::part(&r.src))
            .chain(policy.expectations.iter().map(|e| T::part(&e.src)))
            .chain([T::part(&policy.scope)]),
    );
    let dsts = boundaries(
        policy
            .rules
            .iter()
            .map(|r| T::part(&r.dst))
            .chain(policy.expectations.iter().map(|e| T::part(&e.dst)))
            .chain([T::part(&policy.scope)]),
    );
    let svcs = service_boundaries(
        policy
            .rules
            .iter()
            .map(|r| &r.services)
            .chain(policy.expectations.iter().map(|e| &e.services)),
    );
    let flow = |s: T, d: T, v: ServicePoint| Flow {
        family: T::FAMILY,
        src: s.wide(),
        dst: d.wide(),
        service: v,
    };
    let mut out = Vec::new();
    if srcs.len() * dsts.len() * svcs.len() <= PRODUCT_LIMIT {
        for &s in &srcs {
            for &d in &dsts {
                for &v in &svcs {
                    out.push(flow(s, d, v));
                }
            }
        }
        return out;
    }
    let mut rng = XorShift(seed | 1);
    for _ in 0..PARTNERS {
        for &s in &srcs {
            let (d, v) = (dsts[rng.below(dsts.len())], svcs[rng.below(svcs.len())]);
            out.push(flow(s, d, v));
        }
        for &d in &dsts {
            let (s, v) = (srcs[rng.below(srcs.len())], svcs[rng.below(svcs.len())]);
            out.push(flow(s, d, v));
        }
        for &v in &svcs {
            let (s, d) = (srcs[rng.below(srcs.len())], dsts[rng.below(dsts.len())]);
            out.push(flow(s, d, v));
        }
    }
    out
}

/// Rules that never match (empty source) but take rule bits: placed before
/// the random rules, they push the deciding rules and the expectations past
/// the first 64 bits of the class signatures.
pub(crate) fn filler_rules() -> impl Strategy<Value = Vec<RuleSpec>> {
    let filler =
        (prop::bool::ANY, addr_spec(), services_spec()).prop_map(|(allow, dst, services)| {
            RuleSpec {
                allow,
                expired: false,
                log: false,
                src: AddrSpec {
                    v4: Shape::Empty,
                    v6: Shape::Empty,
                },
                dst,
                services,
            }
        });
    prop::collection::vec(filler, 52..=70)
}
