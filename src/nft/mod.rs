//! nftables output: a small model of the table bmcwall owns, built from the
//! decision table, and two renderers (text for `nft -f`, JSON via the nftables
//! crate).
//!
//! Boundary: only this module knows nft syntax. Invariant: which flows are
//! accepted comes from the decision table ([`Analysis`]) alone; the policy only
//! adds each deciding rule's action and `log` flag and the scope, so the kernel
//! decides each flow as the table does.

pub mod json;
pub mod text;

use crate::addr::service::{self, ServicePiece};
use crate::addr::{AddrSet, Bound};
use crate::analysis::region::{blocks, Block};
use crate::analysis::Analysis;
use crate::resolve::Policy;
use crate::syntax::Action;

/// The table name used unless `--table` says otherwise.
pub const DEFAULT_TABLE: &str = "bmcwall";

/// How many log lines per second a logging rule may write, and its burst.
pub const LOG_RATE_PER_SECOND: u32 = 10;
pub const LOG_BURST: u32 = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyType {
    Ipv4Addr,
    Ipv6Addr,
    InetProto,
    InetService,
}

impl KeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Ipv4Addr => "ipv4_addr",
            KeyType::Ipv6Addr => "ipv6_addr",
            KeyType::InetProto => "inet_proto",
            KeyType::InetService => "inet_service",
        }
    }
}

/// One field of a set element: an inclusive range of its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    V4(u32, u32),
    V6(u128, u128),
    Proto(u8, u8),
    Port(u16, u16),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Set {
    pub name: String,
    pub key: Vec<KeyType>,
    /// Elements in ascending order; each has one field per key type.
    pub elements: Vec<Vec<Field>>,
}

/// A packet field a rule matches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selector {
    IpSaddr,
    IpDaddr,
    Ip6Saddr,
    Ip6Daddr,
    L4proto,
    ThDport,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    /// `ct state { ... }`.
    CtState(Vec<&'static str>),
    /// `meta l4proto { tcp, udp }`.
    L4protoIn(Vec<u8>),
    /// `KEY @set`, or `KEY != @set` when `negate`.
    InSet {
        key: Vec<Selector>,
        set: String,
        negate: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Statement {
    Limit { per_second: u32, burst: u32 },
    Log { prefix: String },
    Accept,
    Drop,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub matches: Vec<Match>,
    pub statements: Vec<Statement>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub name: String,
    pub rules: Vec<Rule>,
}

/// The whole table. Its one chain hooks `forward` at filter priority with
/// policy accept: flows it does not govern are left to other tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ruleset {
    pub table: String,
    pub sets: Vec<Set>,
    pub chain: Chain,
}

/// The two families, with what differs between them.
struct FamilySpec {
    suffix: &'static str,
    addr: KeyType,
    saddr: Selector,
    daddr: Selector,
}

const V4: FamilySpec = FamilySpec {
    suffix: "v4",
    addr: KeyType::Ipv4Addr,
    saddr: Selector::IpSaddr,
    daddr: Selector::IpDaddr,
};
const V6: FamilySpec = FamilySpec {
    suffix: "v6",
    addr: KeyType::Ipv6Addr,
    saddr: Selector::Ip6Saddr,
    daddr: Selector::Ip6Daddr,
};

/// Builds the `sets` layout: the allowed space as concatenated interval sets,
/// a constant number of rules per packet whatever the policy's size.
pub fn build(policy: &Policy, analysis: &Analysis, table: &str) -> Ruleset {
    let mut sets = Vec::new();
    let mut rules = vec![
        Rule {
            matches: vec![Match::CtState(vec!["established", "related"])],
            statements: vec![Statement::Accept],
        },
        Rule {
            matches: vec![Match::CtState(vec!["invalid"])],
            statements: vec![Statement::Drop],
        },
    ];
    for (spec, scope) in [
        (&V4, addr_fields_v4(&policy.scope)),
        (&V6, addr_fields_v6(&policy.scope)),
    ] {
        let name = format!("scope_{}", spec.suffix);
        sets.push(Set {
            name: name.clone(),
            key: vec![spec.addr],
            elements: scope.into_iter().map(|f| vec![f]).collect(),
        });
        rules.push(Rule {
            matches: vec![
                Match::InSet {
                    key: vec![spec.saddr],
                    set: name.clone(),
                    negate: true,
                },
                Match::InSet {
                    key: vec![spec.daddr],
                    set: name,
                    negate: true,
                },
            ],
            statements: vec![Statement::Accept],
        });
    }
    // Which cells go into a region's sets. Packets that reach the deny log
    // rule were not accepted, so allowed cells may be added there freely:
    // they cost nothing and let the region merge into far fewer elements.
    let decided_by = |action: Action, log_only: bool| {
        move |ordinal: usize| {
            let rule = &policy.rules[analysis.rules[ordinal]];
            let decides = rule.action == action && (!log_only || rule.log);
            let dont_care = action == Action::Deny && rule.action == Action::Allow;
            decides || dont_care
        }
    };
    let mut regions = Vec::new();
    // Order matters only for logging, which must see packets before the verdict.
    let steps: [(&str, Action, bool, Vec<Statement>); 3] = [
        (
            "log_allow",
            Action::Allow,
            true,
            log_statements("bmcwall allow: "),
        ),
        ("allow", Action::Allow, false, vec![Statement::Accept]),
        (
            "log_deny",
            Action::Deny,
            true,
            log_statements("bmcwall deny: "),
        ),
    ];
    for (prefix, action, log_only, statements) in steps {
        let v4 = blocks(analysis, &analysis.v4, decided_by(action, log_only));
        let v6 = blocks(analysis, &analysis.v6, decided_by(action, log_only));
        let always = !log_only;
        regions.push((
            prefix,
            statements,
            family_sets(&V4, prefix, &v4, always),
            family_sets(&V6, prefix, &v6, always),
        ));
    }
    for (_, statements, v4, v6) in regions {
        for (set, rule_matches) in v4.into_iter().chain(v6) {
            sets.push(set);
            rules.push(Rule {
                matches: rule_matches,
                statements: statements.clone(),
            });
        }
    }
    rules.push(Rule {
        matches: Vec::new(),
        statements: vec![Statement::Drop],
    });
    Ruleset {
        table: table.to_string(),
        sets,
        chain: Chain {
            name: "forward".into(),
            rules,
        },
    }
}

fn log_statements(prefix: &str) -> Vec<Statement> {
    vec![
        Statement::Limit {
            per_second: LOG_RATE_PER_SECOND,
            burst: LOG_BURST,
        },
        Statement::Log {
            prefix: prefix.to_string(),
        },
    ]
}

/// The two sets of one region in one family (TCP/UDP with ports, other
/// protocols without), with the matches that look them up. Empty sets are left
/// out unless `always`.
fn family_sets<T>(
    spec: &FamilySpec,
    prefix: &str,
    blocks: &[Block<T>],
    always: bool,
) -> Vec<(Set, Vec<Match>)>
where
    T: AddrField,
{
    let mut ported = Vec::new();
    let mut bare = Vec::new();
    for block in blocks {
        let pieces = service::pieces(&block.services);
        for &(slo, shi) in block.src.intervals() {
            for &(dlo, dhi) in block.dst.intervals() {
                let (s, d) = (T::field(slo, shi), T::field(dlo, dhi));
                for piece in &pieces {
                    match *piece {
                        ServicePiece::Ports { proto, lo, hi } => {
                            ported.push(vec![s, d, Field::Proto(proto, proto), Field::Port(lo, hi)])
                        }
                        ServicePiece::Protocols { lo, hi } => {
                            bare.push(vec![s, d, Field::Proto(lo, hi)])
                        }
                    }
                }
            }
        }
    }
    ported.sort();
    bare.sort();
    let mut out = Vec::new();
    let ports_name = format!("{prefix}_ports_{}", spec.suffix);
    if always || !ported.is_empty() {
        out.push((
            Set {
                name: ports_name.clone(),
                key: vec![
                    spec.addr,
                    spec.addr,
                    KeyType::InetProto,
                    KeyType::InetService,
                ],
                elements: ported,
            },
            vec![
                Match::L4protoIn(vec![service::TCP, service::UDP]),
                Match::InSet {
                    key: vec![spec.saddr, spec.daddr, Selector::L4proto, Selector::ThDport],
                    set: ports_name,
                    negate: false,
                },
            ],
        ));
    }
    let proto_name = format!("{prefix}_proto_{}", spec.suffix);
    if always || !bare.is_empty() {
        out.push((
            Set {
                name: proto_name.clone(),
                key: vec![spec.addr, spec.addr, KeyType::InetProto],
                elements: bare,
            },
            vec![Match::InSet {
                key: vec![spec.saddr, spec.daddr, Selector::L4proto],
                set: proto_name,
                negate: false,
            }],
        ));
    }
    out
}

/// An address type that becomes a set field.
pub trait AddrField: Bound {
    fn field(lo: Self, hi: Self) -> Field;
}

impl AddrField for u32 {
    fn field(lo: u32, hi: u32) -> Field {
        Field::V4(lo, hi)
    }
}

impl AddrField for u128 {
    fn field(lo: u128, hi: u128) -> Field {
        Field::V6(lo, hi)
    }
}

fn addr_fields_v4(set: &AddrSet) -> Vec<Field> {
    set.v4
        .intervals()
        .iter()
        .map(|&(lo, hi)| Field::V4(lo, hi))
        .collect()
}

fn addr_fields_v6(set: &AddrSet) -> Vec<Field> {
    set.v6
        .intervals()
        .iter()
        .map(|&(lo, hi)| Field::V6(lo, hi))
        .collect()
}
