//! Seeded random policies (as `.wall` text with an inventory) and probe flows
//! for the differential tests. The same seed always gives the same policy and
//! the same probes, so a failure is replayed from its seed alone.

use bmcwall::addr::service::{self, ServicePoint};
use bmcwall::addr::IntervalSet;
use bmcwall::analysis::flow::Address;
use bmcwall::analysis::{Analysis, Family, Flow};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// splitmix64: small, fast, and good enough to pick test cases.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u128, hi: u128) -> u128 {
        let span = hi - lo;
        if span == u128::MAX {
            return (u128::from(self.next()) << 64) | u128::from(self.next());
        }
        let wide = (u128::from(self.next()) << 64) | u128::from(self.next());
        lo + wide % (span + 1)
    }
}

/// A generated policy: the `.wall` text and, when it loads one, the
/// inventory it names (`inventory.yaml`, next to the policy).
pub struct RandomPolicy {
    pub seed: u64,
    pub text: String,
    pub inventory: Option<String>,
}

impl RandomPolicy {
    /// Writes the policy (and its inventory) into `dir`; returns the policy's path.
    pub fn write_to(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("policy.wall");
        std::fs::write(&path, &self.text).expect("write policy");
        if let Some(inventory) = &self.inventory {
            std::fs::write(dir.join("inventory.yaml"), inventory).expect("write inventory");
        }
        path
    }

    /// Everything needed to replay a failure.
    pub fn describe(&self) -> String {
        let mut out = format!("seed {}\n--- policy.wall\n{}", self.seed, self.text);
        if let Some(inventory) = &self.inventory {
            let _ = write!(out, "--- inventory.yaml\n{inventory}");
        }
        out
    }
}

/// Random policies hit small regions (10.0.0.0/24 and fd00::/120) so that
/// their sets overlap often, with wider prefixes, other networks and the
/// keywords around them.
pub fn policy(seed: u64) -> RandomPolicy {
    let mut rng = Rng::new(seed);
    let mut g = Generator {
        rng: &mut rng,
        names: Vec::new(),
    };
    let mut out = format!("# random policy, seed {seed}\n");
    if g.rng.chance(30) {
        let _ = writeln!(out, "internal 10.0.0.0/25, 10.0.1.0/24, fd00::/121;");
    }
    let inventory = g.rng.chance(40).then(|| g.inventory());
    if inventory.is_some() {
        let _ = writeln!(out, "inventory \"inventory.yaml\";");
        let _ = writeln!(out, "bmc rack-a = inventory(rack = \"a\");");
        let _ = writeln!(out, "bmc not.rack-a = inventory(rack != \"a\");");
        g.names.push("rack-a".into());
        g.names.push("not.rack-a".into());
    }
    let definitions = 2 + g.rng.below(6);
    let mut services = Vec::new();
    for i in 0..definitions {
        let line = match g.rng.below(5) {
            0 => {
                let name = format!("h{i}");
                let line = format!("host {name} = {};", g.host_addresses());
                g.names.push(name);
                line
            }
            1 => {
                let name = format!("net-{i}");
                let line = format!("network {name} = {};", g.literal_expr());
                g.names.push(name);
                line
            }
            2 => {
                let name = format!("g.{i}");
                let line = format!("group {name} = {};", g.expr());
                g.names.push(name);
                line
            }
            3 => {
                let name = format!("b{i}");
                let line = format!("bmc {name} = {};", g.literal_expr());
                g.names.push(name);
                line
            }
            _ => {
                let name = format!("svc-{i}");
                let line = format!("service {name} = {};", g.service_items());
                services.push(name);
                line
            }
        };
        let _ = writeln!(out, "{line}");
    }
    if g.rng.chance(50) {
        let _ = writeln!(out, "scope {};", g.expr());
    }
    let rules = 1 + g.rng.below(10);
    for i in 0..rules {
        let action = if g.rng.chance(60) { "allow" } else { "deny" };
        let mut line = format!("{action} {} -> {}", g.expr(), g.expr());
        if g.rng.chance(75) {
            let items = if !services.is_empty() && g.rng.chance(30) {
                g.rng.pick(&services).clone()
            } else {
                g.service_items()
            };
            let _ = write!(line, " : {items}");
        }
        if g.rng.chance(20) {
            line.push_str(" log");
        }
        if g.rng.chance(10) {
            let date = if g.rng.chance(50) {
                "2020-01-01"
            } else {
                "2099-12-31"
            };
            let _ = write!(line, " until {date}");
        }
        if g.rng.chance(30) {
            let _ = write!(line, " \"rule {i}: \\\"quoted\\\" text\"");
        }
        let _ = writeln!(out, "{line};");
    }
    RandomPolicy {
        seed,
        text: out,
        inventory,
    }
}

/// Where one family's random literals lie.
struct LiteralFamily {
    bits: u64,
    /// The address at an offset in the small region.
    at: fn(u64) -> String,
    wider: &'static [&'static str],
    elsewhere: fn(u64) -> String,
    far: &'static [&'static str],
}

const V4_LITERALS: LiteralFamily = LiteralFamily {
    bits: 32,
    at: |o| format!("10.0.0.{o}"),
    wider: &["10.0.0.0/16", "10.0.0.0/8", "10.0.1.0/24"],
    elsewhere: |o| format!("192.0.2.{o}"),
    far: &["172.16.0.0/12", "192.0.2.0/24", "0.0.0.0/0"],
};

const V6_LITERALS: LiteralFamily = LiteralFamily {
    bits: 128,
    at: |o| format!("fd00::{o:x}"),
    wider: &["fd00::/64", "fd00::/16", "fd00:0:0:1::/64"],
    elsewhere: |o| format!("2001:db8::{o:x}"),
    far: &["2001:db8::/32", "fc00::/7", "::/0"],
};

struct Generator<'a> {
    rng: &'a mut Rng,
    /// Address names defined so far (definitions only use earlier names, so
    /// there are no cycles).
    names: Vec<String>,
}

impl Generator<'_> {
    fn v4_offset(&mut self) -> u64 {
        self.rng.below(256)
    }

    /// A literal of one family: mostly in its small region (single
    /// addresses, aligned prefixes, ranges), else a wider prefix around it,
    /// an address elsewhere, or a prefix elsewhere.
    fn family_literal(&mut self, family: &LiteralFamily) -> String {
        let at = family.at;
        match self.rng.below(12) {
            0..=3 => at(self.v4_offset()),
            4..=6 => {
                let len = family.bits - 8 + self.rng.below(9);
                let block = 1u64 << (family.bits - len);
                let base = self.v4_offset() / block * block;
                format!("{}/{len}", at(base))
            }
            7..=8 => {
                let (a, b) = (self.v4_offset(), self.v4_offset());
                format!("{}-{}", at(a.min(b)), at(a.max(b)))
            }
            9 => self.rng.pick(family.wider).to_string(),
            10 => (family.elsewhere)(self.v4_offset()),
            _ => self.rng.pick(family.far).to_string(),
        }
    }

    fn literal(&mut self) -> String {
        if self.rng.chance(60) {
            self.family_literal(&V4_LITERALS)
        } else {
            self.family_literal(&V6_LITERALS)
        }
    }

    fn host_addresses(&mut self) -> String {
        let v4 = format!("10.0.0.{}", self.v4_offset());
        let v6 = format!("fd00::{:x}", self.v4_offset());
        match self.rng.below(3) {
            0 => v4,
            1 => v6,
            _ => format!("{v4}, {v6}"),
        }
    }

    fn term(&mut self) -> String {
        match self.rng.below(10) {
            0..=4 => self.literal(),
            5..=7 if !self.names.is_empty() => self.rng.pick(&self.names).clone(),
            8 => self
                .rng
                .pick(&["any", "internet", "internal", "bmcs"])
                .to_string(),
            _ => self.literal(),
        }
    }

    fn terms(&mut self, literal_only: bool) -> String {
        let count = 1 + self.rng.below(3);
        (0..count)
            .map(|_| {
                if literal_only {
                    self.literal()
                } else {
                    self.term()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn expr_of(&mut self, literal_only: bool) -> String {
        let mut out = self.terms(literal_only);
        if self.rng.chance(25) {
            let except = self.terms(literal_only);
            let _ = write!(out, " except {except}");
        }
        out
    }

    fn expr(&mut self) -> String {
        self.expr_of(false)
    }

    fn literal_expr(&mut self) -> String {
        self.expr_of(true)
    }

    fn service_item(&mut self) -> String {
        let port = |rng: &mut Rng| 20 + rng.below(11);
        match self.rng.below(12) {
            0..=3 => format!("tcp {}", port(self.rng)),
            4..=5 => {
                let (a, b) = (port(self.rng), port(self.rng));
                format!("tcp {}-{}", a.min(b), a.max(b))
            }
            6..=7 => {
                let (a, b) = (port(self.rng), port(self.rng));
                format!("udp {}-{}", a.min(b), a.max(b))
            }
            8 => "icmp".into(),
            9 => self
                .rng
                .pick(&["ssh", "https", "ipmi", "dns", "vnc", "supermicro"])
                .to_string(),
            10 => self
                .rng
                .pick(&["tcp 1-65535", "udp 1024-65535", "tcp 20, 22-23, 65535"])
                .to_string(),
            _ => "any".into(),
        }
    }

    fn service_items(&mut self) -> String {
        let count = 1 + self.rng.below(3);
        (0..count)
            .map(|_| self.service_item())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A few BMCs in the random regions, racks `a` and `b`.
    fn inventory(&mut self) -> String {
        let mut out = String::from("bmcs:\n");
        let mut used = BTreeSet::new();
        for i in 0..2 + self.rng.below(5) {
            let v4 = self.v4_offset();
            if !used.insert(v4) {
                continue;
            }
            let rack = if self.rng.chance(50) { "a" } else { "b" };
            let _ = writeln!(out, "  - name: bmc-{i}");
            if self.rng.chance(50) {
                let _ = writeln!(out, "    addresses: [10.0.0.{v4}, fd00::{v4:x}]");
            } else {
                let _ = writeln!(out, "    address: 10.0.0.{v4}");
            }
            let _ = writeln!(out, "    rack: {rack}");
        }
        out
    }
}

// ---------------------------------------------------------------------------
// Probes
// ---------------------------------------------------------------------------

/// Protocols a probe may carry: not an IPv6 extension header or the
/// no-next-header value; not DCCP, SCTP or UDP-Lite, whose headers the
/// kernel's connection tracking checks (a probe has none, so it is `invalid`
/// and dropped before any rule); and ICMP of the packet's own family.
pub fn sendable_protocol(proto: u8, family: Family) -> bool {
    let excluded = [0u8, 33, 43, 44, 50, 51, 59, 60, 132, 135, 136, 139, 140];
    !excluded.contains(&proto)
        && (proto != service::ICMP || family == Family::V4)
        && (proto != service::ICMPV6 || family == Family::V6)
}

/// Not in a special range (see [`Address::special`]), so it can be routed.
fn usable<T: Address>(value: u128) -> bool {
    !T::special()
        .intervals()
        .iter()
        .any(|&(lo, hi)| (lo.widen()..=hi.widen()).contains(&value))
}

/// The ends of every atom (class interval) of a partition and the values
/// just outside them, where a lookup most easily goes wrong; usable
/// addresses only.
fn address_boundaries<T: Address>(classes: &[IntervalSet<T>]) -> Vec<u128> {
    let mut out = BTreeSet::new();
    for class in classes {
        for &(lo, hi) in class.intervals() {
            let outside = [
                (lo > T::MIN).then(|| lo.pred()),
                (hi < T::MAX).then(|| hi.succ()),
            ];
            for v in [lo, hi].into_iter().chain(outside.into_iter().flatten()) {
                if usable::<T>(v.widen()) {
                    out.insert(v.widen());
                }
            }
        }
    }
    out.into_iter().collect()
}

/// A random usable member of a random class.
fn random_address<T: Address>(rng: &mut Rng, classes: &[IntervalSet<T>]) -> Option<u128> {
    for _ in 0..8 {
        let class = rng.pick(classes);
        let intervals = class.intervals();
        if intervals.is_empty() {
            continue;
        }
        let &(lo, hi) = rng.pick(intervals);
        let v = rng.between(lo.widen(), hi.widen());
        if usable::<T>(v) {
            return Some(v);
        }
    }
    None
}

/// Service points at the ends of every service class and beyond them, and a
/// few fixed ones: TCP/UDP ports 1 and 65535, ICMP, GRE.
fn service_boundaries(analysis: &Analysis, family: Family) -> Vec<ServicePoint> {
    let mut keys = BTreeSet::new();
    for class in &analysis.services.classes {
        for &(lo, hi) in class.intervals() {
            keys.extend([lo, hi, lo.saturating_sub(1), hi.saturating_add(1)]);
        }
    }
    let mut out: BTreeSet<ServicePoint> = keys
        .into_iter()
        .filter(|&k| k <= service::MAX_KEY)
        .map(|k| {
            ServicePoint::from_key(k).unwrap_or(ServicePoint {
                proto: service::proto_of(k),
                port: None,
            })
        })
        .collect();
    for proto in [service::TCP, service::UDP] {
        out.insert(ServicePoint {
            proto,
            port: Some(1),
        });
        out.insert(ServicePoint {
            proto,
            port: Some(65535),
        });
    }
    for proto in [service::ICMP, service::ICMPV6, 47] {
        out.insert(ServicePoint { proto, port: None });
    }
    out.into_iter()
        .filter(|p| sendable_protocol(p.proto, family) && p.port != Some(0))
        .collect()
}

fn random_service(rng: &mut Rng, family: Family) -> ServicePoint {
    loop {
        let point = match rng.below(4) {
            0 => ServicePoint {
                proto: service::TCP,
                port: Some(1 + rng.below(65535) as u16),
            },
            1 => ServicePoint {
                proto: service::UDP,
                port: Some(1 + rng.below(65535) as u16),
            },
            2 => ServicePoint {
                proto: if family == Family::V4 {
                    service::ICMP
                } else {
                    service::ICMPV6
                },
                port: None,
            },
            _ => {
                let proto = rng.below(256) as u8;
                ServicePoint {
                    proto,
                    port: service::has_ports(proto).then_some(1 + rng.below(65535) as u16),
                }
            }
        };
        if sendable_protocol(point.proto, family) {
            return point;
        }
    }
}

/// Endpoint candidates of one family.
struct FamilyProbes {
    family: Family,
    src_bounds: Vec<u128>,
    dst_bounds: Vec<u128>,
    services: Vec<ServicePoint>,
}

/// `count` distinct probe flows for a policy: mostly combinations of atom
/// boundaries (addresses and services), the rest random points of random
/// classes. Deterministic for a seed.
pub fn probes(analysis: &Analysis, seed: u64, count: usize) -> Vec<Flow> {
    let mut rng = Rng::new(seed ^ 0x5EED_F10E);
    let families = [
        FamilyProbes {
            family: Family::V4,
            src_bounds: address_boundaries(&analysis.v4.src.classes),
            dst_bounds: address_boundaries(&analysis.v4.dst.classes),
            services: service_boundaries(analysis, Family::V4),
        },
        FamilyProbes {
            family: Family::V6,
            src_bounds: address_boundaries(&analysis.v6.src.classes),
            dst_bounds: address_boundaries(&analysis.v6.dst.classes),
            services: service_boundaries(analysis, Family::V6),
        },
    ];
    let mut out = BTreeSet::new();
    let mut attempts = 0;
    while out.len() < count && attempts < count * 20 {
        attempts += 1;
        let f = rng.pick(&families);
        let boundary = rng.chance(70);
        let address = |rng: &mut Rng, bounds: &[u128], src: bool| -> Option<u128> {
            if boundary && !bounds.is_empty() {
                return Some(*rng.pick(bounds));
            }
            match (f.family, src) {
                (Family::V4, true) => random_address(rng, &analysis.v4.src.classes),
                (Family::V4, false) => random_address(rng, &analysis.v4.dst.classes),
                (Family::V6, true) => random_address(rng, &analysis.v6.src.classes),
                (Family::V6, false) => random_address(rng, &analysis.v6.dst.classes),
            }
        };
        let (Some(src), Some(dst)) = (
            address(&mut rng, &f.src_bounds, true),
            address(&mut rng, &f.dst_bounds, false),
        ) else {
            continue;
        };
        if src == dst {
            continue;
        }
        let service = if boundary && !f.services.is_empty() {
            *rng.pick(&f.services)
        } else {
            random_service(&mut rng, f.family)
        };
        out.insert(Flow {
            family: f.family,
            src,
            dst,
            service,
        });
    }
    out.into_iter().collect()
}
