//! Concrete flows: what a witness shows and what a probe sends.

use crate::addr::service::{self, ServicePoint};
use crate::addr::{AddrSet, Bound, IntervalSet};
use crate::diagnostic::Witness;
use crate::resolve::PolicyRule;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    V4,
    V6,
}

/// A new connection attempt: addresses of one family, protocol and port.
/// IPv4 addresses are kept in the low 32 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Flow {
    pub family: Family,
    pub src: u128,
    pub dst: u128,
    pub service: ServicePoint,
}

impl Flow {
    pub fn new(src: IpAddr, dst: IpAddr, service: ServicePoint) -> Option<Flow> {
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => Some(Flow {
                family: Family::V4,
                src: u128::from(u32::from(s)),
                dst: u128::from(u32::from(d)),
                service,
            }),
            (IpAddr::V6(s), IpAddr::V6(d)) => Some(Flow {
                family: Family::V6,
                src: u128::from(s),
                dst: u128::from(d),
                service,
            }),
            _ => None,
        }
    }

    pub fn src_ip(&self) -> IpAddr {
        to_ip(self.family, self.src)
    }

    pub fn dst_ip(&self) -> IpAddr {
        to_ip(self.family, self.dst)
    }

    pub fn witness(&self) -> Witness {
        Witness {
            src: self.src_ip().to_string(),
            dst: self.dst_ip().to_string(),
            proto: service::proto_name(self.service.proto),
            port: self.service.port,
            gateways: Vec::new(),
        }
    }
}

impl Flow {
    /// The rule's sources, destinations and services all contain the flow.
    pub fn matched_by(&self, rule: &PolicyRule) -> bool {
        holds(&rule.src, self.family, self.src)
            && holds(&rule.dst, self.family, self.dst)
            && rule.services.contains(self.service.key())
    }

    /// The generated table governs the flow: its source or destination is in `scope`.
    pub fn in_scope(&self, scope: &AddrSet) -> bool {
        holds(scope, self.family, self.src) || holds(scope, self.family, self.dst)
    }
}

/// `set` contains the address `value` of `family`.
pub fn holds(set: &AddrSet, family: Family, value: u128) -> bool {
    match family {
        Family::V4 => set.v4.contains(value as u32),
        Family::V6 => set.v6.contains(value),
    }
}

pub fn to_ip(family: Family, value: u128) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::from(value as u32)),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(value)),
    }
}

/// An address type that can name its special-purpose ranges.
pub trait Address: Bound {
    const FAMILY: Family;
    /// Ranges that make poor examples and cannot be routed as probes:
    /// unspecified, loopback, link-local, multicast and reserved space;
    /// ascending and disjoint.
    const SPECIAL: &'static [(Self, Self)];
    fn widen(self) -> u128;

    /// [`Address::SPECIAL`] as a set.
    fn special() -> IntervalSet<Self> {
        IntervalSet::from_intervals(Self::SPECIAL.to_vec())
    }
}

impl Address for u32 {
    const FAMILY: Family = Family::V4;
    const SPECIAL: &'static [(u32, u32)] = &[
        (0x0000_0000, 0x00FF_FFFF), // 0.0.0.0/8
        (0x7F00_0000, 0x7FFF_FFFF), // 127.0.0.0/8
        (0xA9FE_0000, 0xA9FE_FFFF), // 169.254.0.0/16
        (0xE000_0000, 0xFFFF_FFFF), // 224.0.0.0/3
    ];
    fn widen(self) -> u128 {
        u128::from(self)
    }
}

impl Address for u128 {
    const FAMILY: Family = Family::V6;
    const SPECIAL: &'static [(u128, u128)] = &[
        (0, (1 << 120) - 1),                  // ::/8 (unspecified, loopback, mapped)
        (0xfe80 << 112, (0xfec0 << 112) - 1), // fe80::/10
        (0xff00 << 112, u128::MAX),           // ff00::/8
    ];
    fn widen(self) -> u128 {
        self
    }
}

/// A member of `set` that reads well: the lowest ordinary address if there is
/// one, else the lowest member.
pub fn representative<T: Address>(set: &IntervalSet<T>) -> Option<T> {
    set.intervals()
        .iter()
        .find_map(|&(lo, hi)| first_ordinary(lo).filter(|&a| a <= hi))
        .or_else(|| set.first())
}

/// The lowest address at or above `from` outside [`Address::SPECIAL`].
fn first_ordinary<T: Address>(from: T) -> Option<T> {
    let mut candidate = from;
    for &(lo, hi) in T::SPECIAL {
        if candidate < lo {
            break;
        }
        if candidate <= hi {
            if hi == T::MAX {
                return None;
            }
            candidate = hi.succ();
        }
    }
    Some(candidate)
}
