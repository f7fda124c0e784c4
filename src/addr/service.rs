//! The service space: every (protocol, destination port) pair as one `u32` key.
//!
//! A key is `protocol << 16 | port`. Only TCP and UDP carry ports; a flow of any
//! other protocol has port 0, so a set "contains protocol P" when it contains
//! `P << 16`. `icmp` means ICMP (1) and ICMPv6 (58) in both address families.

use super::IntervalSet;

pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const ICMP: u8 = 1;
pub const ICMPV6: u8 = 58;

/// The largest key: protocol 255, port 65535.
pub const MAX_KEY: u32 = (255 << 16) | 0xFFFF;

pub type ServiceSet = IntervalSet<u32>;

pub fn key(proto: u8, port: u16) -> u32 {
    (u32::from(proto) << 16) | u32::from(port)
}

pub fn proto_of(key: u32) -> u8 {
    (key >> 16) as u8
}

pub fn port_of(key: u32) -> u16 {
    (key & 0xFFFF) as u16
}

pub fn has_ports(proto: u8) -> bool {
    proto == TCP || proto == UDP
}

/// `tcp lo-hi` or `udp lo-hi`.
pub fn ports(proto: u8, lo: u16, hi: u16) -> ServiceSet {
    ServiceSet::interval(key(proto, lo), key(proto, hi))
}

/// One whole protocol, all ports.
pub fn protocol(proto: u8) -> ServiceSet {
    ServiceSet::interval(key(proto, 0), key(proto, 0xFFFF))
}

pub fn icmp() -> ServiceSet {
    protocol(ICMP).union(&protocol(ICMPV6))
}

pub fn any() -> ServiceSet {
    ServiceSet::interval(0, MAX_KEY)
}

/// The name nft and people use for a protocol number.
pub fn proto_name(proto: u8) -> String {
    match proto {
        ICMP => "icmp".into(),
        TCP => "tcp".into(),
        UDP => "udp".into(),
        ICMPV6 => "icmpv6".into(),
        other => other.to_string(),
    }
}

/// A piece of a service set in the shape nft matches it: a protocol with a port
/// range (TCP/UDP), or a bare protocol (everything else).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServicePiece {
    Ports { proto: u8, lo: u16, hi: u16 },
    Protocols { lo: u8, hi: u8 },
}

/// Cuts a service set into nft-shaped pieces: port ranges for TCP and UDP, and
/// ranges of port-less protocols (a protocol counts when its port-0 key is in the
/// set, which is how flows of that protocol are keyed).
pub fn pieces(set: &ServiceSet) -> Vec<ServicePiece> {
    let mut ported = Vec::new();
    let mut protos: Vec<(u8, u8)> = Vec::new();
    for &(lo, hi) in set.intervals() {
        for proto in proto_of(lo)..=proto_of(hi) {
            let first = if proto == proto_of(lo) {
                port_of(lo)
            } else {
                0
            };
            let last = if proto == proto_of(hi) {
                port_of(hi)
            } else {
                0xFFFF
            };
            if has_ports(proto) {
                ported.push(ServicePiece::Ports {
                    proto,
                    lo: first,
                    hi: last,
                });
            } else if first == 0 {
                match protos.last_mut() {
                    Some(last_range) if last_range.1.checked_add(1) == Some(proto) => {
                        last_range.1 = proto
                    }
                    _ => protos.push((proto, proto)),
                }
            }
        }
    }
    ported.extend(
        protos
            .into_iter()
            .map(|(lo, hi)| ServicePiece::Protocols { lo, hi }),
    );
    ported
}

/// A concrete flow service: the protocol and, for TCP and UDP, the port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServicePoint {
    pub proto: u8,
    pub port: Option<u16>,
}

impl ServicePoint {
    pub fn key(self) -> u32 {
        key(self.proto, self.port.unwrap_or(0))
    }

    /// The flow a key stands for, or `None` for keys no real flow has (a
    /// port-less protocol with a non-zero port).
    pub fn from_key(k: u32) -> Option<Self> {
        let proto = proto_of(k);
        if has_ports(proto) {
            Some(Self {
                proto,
                port: Some(port_of(k)),
            })
        } else {
            (port_of(k) == 0).then_some(Self { proto, port: None })
        }
    }
}

/// A flow service from `set` that reads well in a witness: TCP or UDP with the
/// lowest non-zero port, then ICMP, then any other protocol.
pub fn representative(set: &ServiceSet) -> Option<ServicePoint> {
    let candidates = [
        ServicePiece::Ports {
            proto: TCP,
            lo: 1,
            hi: 0xFFFF,
        },
        ServicePiece::Ports {
            proto: UDP,
            lo: 1,
            hi: 0xFFFF,
        },
    ];
    for candidate in candidates {
        if let ServicePiece::Ports { proto, lo, hi } = candidate {
            if let Some(k) = set.intersection(&ports(proto, lo, hi)).first() {
                return ServicePoint::from_key(k);
            }
        }
    }
    for proto in [ICMP, ICMPV6] {
        if set.contains(key(proto, 0)) {
            return Some(ServicePoint { proto, port: None });
        }
    }
    pieces(set).into_iter().next().map(|piece| match piece {
        ServicePiece::Ports { proto, lo, .. } => ServicePoint {
            proto,
            port: Some(lo),
        },
        ServicePiece::Protocols { lo, .. } => ServicePoint {
            proto: lo,
            port: None,
        },
    })
}

/// Each piece of a service set as people write it: `tcp 22`, `udp 5900-5901`,
/// `icmp`, `proto 0-5`.
pub fn words(set: &ServiceSet) -> Vec<String> {
    pieces(set)
        .into_iter()
        .map(|piece| match piece {
            ServicePiece::Ports {
                proto,
                lo: 0,
                hi: 0xFFFF,
            } => proto_name(proto),
            ServicePiece::Ports { proto, lo, hi } if lo == hi => {
                format!("{} {lo}", proto_name(proto))
            }
            ServicePiece::Ports { proto, lo, hi } => {
                format!("{} {lo}-{hi}", proto_name(proto))
            }
            ServicePiece::Protocols { lo, hi } if lo == hi => proto_name(lo),
            ServicePiece::Protocols { lo, hi } => format!("proto {lo}-{hi}"),
        })
        .collect()
}

/// The pieces of a service set, the first few.
pub fn short_words(set: &ServiceSet) -> String {
    let mut parts = words(set);
    if parts.len() > 6 {
        let rest = parts.len() - 5;
        parts.truncate(5);
        parts.push(format!("+{rest} more"));
    }
    parts.join(", ")
}
