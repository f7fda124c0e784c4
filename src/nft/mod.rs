//! nftables output: a small model of the table bmcwall owns, two layouts that
//! build it, and two renderers (text for `nft -f`, JSON via the nftables crate).
//!
//! Boundary: only this module knows nft syntax. Invariant: both layouts decide
//! every flow as the decision table ([`Analysis`]) does. The `sets` layout is
//! built from the table itself (the allowed space as interval sets); the
//! `rules` layout writes the policy's rules in order and lets nft's first
//! match do what the table's first match does. A table is read back from
//! its listing (`parse`) and interpreted (`interp`), as nft would run it, for
//! `plan` to compare with the compiled one ([`compare_live`]). Every policy
//! rule counts in a named counter of its own ([`counter_names`]), and the
//! flows the policy denies that start or end at a BMC are recorded in
//! bounded sets ([`RECORD_SETS`]).

pub mod interp;
pub mod json;
pub(crate) mod parse;
mod rules;
mod sets;
pub mod text;

use crate::addr::{AddrSet, Bound};
use crate::analysis::compare::{self, Change, Compiled};
use crate::analysis::Analysis;
use crate::resolve::{Policy, Resolution};
use crate::source::{hex, SourceMap};

/// The table name used unless `--table` says otherwise.
pub const DEFAULT_TABLE: &str = "bmcwall";

/// How many log lines per second a logging rule may write, and its burst.
pub const LOG_RATE_PER_SECOND: u32 = 10;
pub const LOG_BURST: u32 = 20;

/// Prefixes of the kernel log lines of logged flows.
pub const LOG_ALLOW_PREFIX: &str = "bmcwall allow: ";
pub const LOG_DENY_PREFIX: &str = "bmcwall deny: ";

/// How the policy becomes nft rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The decision table as verdict maps: one address picks its row's (or
    /// column's) chain, whose map looks up the other address and jumps to
    /// the chain of the cell's decision vector, whose maps decide protocol
    /// and port. A constant number of rules per packet whatever the policy's
    /// size.
    Sets,
    /// One nft rule per policy rule (and address family), in policy order,
    /// with named sets, a counter and a comment naming the rule.
    Rules,
}

/// What a layout is built from.
#[derive(Clone, Copy)]
pub struct Input<'a> {
    pub policy: &'a Policy,
    pub analysis: &'a Analysis,
    /// For rule locations and the names rules were written with.
    pub sources: &'a SourceMap,
}

/// What the table does with packets whose source fails the reverse-path
/// check (`fib saddr . iif oif missing`): the route back to the source does
/// not leave through the interface the packet came in on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReversePath {
    /// Drop them, before anything else (the default).
    #[default]
    Drop,
    /// No check: for gateways with asymmetric routes.
    Off,
}

/// How a table is built beyond its layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    pub reverse_path: ReversePath,
    /// Record denied flows that start or end at a BMC ([`record_denied`]),
    /// with these bounds; `None` records nothing.
    pub record: Option<Record>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            reverse_path: ReversePath::Drop,
            record: Some(Record::default()),
        }
    }
}

/// Builds table `table` in `layout`, dropping spoofed sources first and
/// recording denied flows of BMCs.
pub fn build(layout: Layout, input: Input<'_>, table: &str) -> Ruleset {
    build_with(layout, input, table, &Options::default())
}

/// Builds table `table` in `layout` with the given options.
pub fn build_with(layout: Layout, input: Input<'_>, table: &str, options: &Options) -> Ruleset {
    let reverse_path = options.reverse_path;
    let resolved = input.policy.resolutions();
    let names = counter_names(input.policy, input.sources);
    let enforcement = input.policy.enforcement;
    let mut ruleset = match layout {
        Layout::Sets => sets::build(input, table, &names),
        Layout::Rules => rules::build(input, table, &names),
    };
    ruleset.resolved = resolved;
    ruleset.counters = counter_objects(input.policy, &names);
    // The digest of the policy on a rule no new connection meets: nft 1.0's
    // JSON neither reads nor lists a table's comment, a rule's it does.
    if let Some(rule) = ruleset
        .base_chain_mut()
        .rules
        .iter_mut()
        .find(|r| r.matches == [Match::CtState(vec!["invalid"])])
    {
        rule.comment = Some(policy_comment(input.sources));
    }
    if let Some(record) = options.record {
        record_denied(&mut ruleset, input.policy, record);
    }
    if enforcement.host {
        hook_host(&mut ruleset, enforcement.forward);
    }
    if reverse_path == ReversePath::Drop {
        // `iif` has no meaning for what the host sends: not in `output`.
        for chain in &mut ruleset.chains {
            if matches!(chain.hook, Some(Hook::Forward | Hook::Input)) {
                let at = usize::from(chain.hook == Some(Hook::Input));
                chain.rules.insert(
                    at,
                    Rule::new(vec![Match::ReversePathMissing], vec![Statement::Drop]),
                );
            }
        }
    }
    ruleset
}

/// The chain every flow a policy rule denies goes through (jumped to before
/// its drop, and by `log_deny`): it records the flows that start or end at a
/// BMC, and decides nothing.
pub const RECORD_CHAIN: &str = "record_denied";

/// The chain policy denies go to: record, then drop.
pub const DENIED_CHAIN: &str = "denied";

/// The recording sets: flows from a BMC (egress and lateral) and to one
/// (who knocks), TCP/UDP with their port and other protocols without, per
/// family. `(name, direction is from the BMC, with ports)`.
pub const RECORD_SETS: [(&str, bool, bool); 4] = [
    ("denied_from_bmcs_ports", true, true),
    ("denied_from_bmcs_proto", true, false),
    ("denied_to_bmcs_ports", false, true),
    ("denied_to_bmcs_proto", false, false),
];

/// The recording sets of the devices on watched networks that the policy
/// does not know (`watch`, [`Policy::unknown_watched`]): the flows they send
/// that the policy denies, looked up in set `unknown_devices_v4`, `_v6`.
pub const UNKNOWN_SETS: [(&str, bool, bool); 2] = [
    ("denied_from_unknown_ports", true, true),
    ("denied_from_unknown_proto", true, false),
];

/// The set of the unknown addresses of the watched networks, per family.
pub const UNKNOWN_DEVICES: &str = "unknown_devices";

/// One rule of `record_denied`: the packets whose end (the source when
/// `from`, else the destination) is in set `lookup`, of TCP or UDP when
/// `ports`, else of any other protocol, update recording set `NAME_FAMILY`,
/// which it adds to `ruleset`.
fn record_rule(
    ruleset: &mut Ruleset,
    spec: &FamilySpec,
    lookup: &str,
    name: &str,
    from: bool,
    ports: bool,
    record: Record,
) -> Rule {
    let name = format!("{name}_{}", spec.suffix);
    let mut key = vec![spec.addr, spec.addr, KeyType::InetProto];
    let mut selectors = vec![spec.saddr, spec.daddr, Selector::L4proto];
    let tcp_udp = vec![crate::addr::service::TCP, crate::addr::service::UDP];
    let protocols = if ports {
        key.push(KeyType::InetService);
        selectors.push(Selector::ThDport);
        Match::L4protoIn(tcp_udp)
    } else {
        Match::L4protoNotIn(tcp_udp)
    };
    ruleset.sets.push(Set {
        name: name.clone(),
        key,
        elements: Vec::new(),
        verdicts: None,
        record: Some(record),
        counted: Vec::new(),
    });
    let end = if from { spec.saddr } else { spec.daddr };
    Rule::new(
        vec![
            protocols,
            Match::InSet {
                key: vec![end],
                set: lookup.to_string(),
                negate: false,
            },
        ],
        vec![Statement::Update {
            key: selectors,
            set: name,
        }],
    )
}

/// Records the flows the policy denies that start or end at a BMC: every
/// rule that counts in a named counter and drops goes to chain `denied`
/// instead (which jumps to `record_denied`, then drops), and `log_deny`
/// jumps to it first. `record_denied` updates the recording sets: a bounded
/// set update per packet, never a verdict, so a full set or a failed
/// update leaves the packet to be dropped all the same.
fn record_denied(ruleset: &mut Ruleset, policy: &Policy, record: Record) {
    let unknown = policy.unknown_watched();
    let mut rules = Vec::new();
    for spec in [&V4, &V6] {
        let lookups = [
            (&policy.bmcs, "recorded_bmcs", &RECORD_SETS[..]),
            (&unknown, UNKNOWN_DEVICES, &UNKNOWN_SETS[..]),
        ];
        for (addresses, lookup, recording) in lookups {
            let fields = spec.fields(addresses);
            if fields.is_empty() {
                continue;
            }
            let lookup = format!("{lookup}_{}", spec.suffix);
            ruleset.sets.push(Set {
                name: lookup.clone(),
                key: vec![spec.addr],
                elements: fields.into_iter().map(|f| vec![f]).collect(),
                verdicts: None,
                record: None,
                counted: Vec::new(),
            });
            for &(name, from, ports) in recording {
                rules.push(record_rule(
                    ruleset, spec, &lookup, name, from, ports, record,
                ));
            }
        }
    }
    let mut counted_drop = false;
    for chain in &mut ruleset.chains {
        for rule in &mut chain.rules {
            let counted = rule
                .statements
                .iter()
                .any(|s| matches!(s, Statement::NamedCounter(_)));
            if let (true, Some(last)) = (counted, rule.statements.last_mut()) {
                if *last == Statement::Drop {
                    *last = Statement::Goto(DENIED_CHAIN.into());
                    counted_drop = true;
                }
            }
        }
        if chain.name == LOG_DENY_CHAIN {
            chain.rules.insert(
                0,
                Rule::new(Vec::new(), vec![Statement::Jump(RECORD_CHAIN.into())]),
            );
        }
    }
    let mut chains = vec![Chain {
        name: RECORD_CHAIN.into(),
        hook: None,
        rules,
    }];
    if counted_drop {
        chains.push(Chain {
            name: DENIED_CHAIN.into(),
            hook: None,
            rules: vec![
                Rule::new(Vec::new(), vec![Statement::Jump(RECORD_CHAIN.into())]),
                Rule::new(Vec::new(), vec![Statement::Drop]),
            ],
        });
    }
    ruleset.chains.splice(0..0, chains);
}

/// What the comment naming a table's policy begins with; the policy's
/// digest follows.
const POLICY_COMMENT: &str = "bmcwall policy ";

/// The comment that names the policy a table was compiled from (the files
/// in `sources`): its digest ([`SourceMap::digest`]), so that a report never
/// reads a table's counters through another policy. It is the comment of
/// the base chain's `ct state invalid drop`.
pub fn policy_comment(sources: &SourceMap) -> String {
    format!("{POLICY_COMMENT}{}", sources.digest())
}

/// The digest of the policy a table was compiled from, `None` for a table
/// that does not name one.
pub fn policy_digest(ruleset: &Ruleset) -> Option<&str> {
    ruleset
        .chains
        .iter()
        .flat_map(|c| &c.rules)
        .find_map(|r| r.comment.as_deref()?.strip_prefix(POLICY_COMMENT))
}

/// The chain that decides in a table of `mode host`, which every base chain
/// goes to.
pub const DECIDE_CHAIN: &str = "decide";

/// Makes the table of a gateway in `mode host` (and `forward` when
/// `forward`): the `forward` chain becomes the regular chain `decide`, and
/// the base chains `input` and `output` (and `forward`) go to it, but for
/// loopback traffic and IPv6 neighbour discovery, which they accept first
/// (outside the policy: the model's ICMPv6 flows are echo requests).
fn hook_host(ruleset: &mut Ruleset, forward: bool) {
    let base = ruleset
        .chains
        .iter_mut()
        .find(|c| c.hook.is_some())
        .expect("a ruleset has a base chain");
    base.name = DECIDE_CHAIN.into();
    base.hook = None;
    let decide = || Rule::new(Vec::new(), vec![Statement::Goto(DECIDE_CHAIN.into())]);
    if forward {
        ruleset.chains.push(Chain {
            name: "forward".into(),
            hook: Some(Hook::Forward),
            rules: vec![decide()],
        });
    }
    for (name, hook, input) in [
        ("input", Hook::Input, true),
        ("output", Hook::Output, false),
    ] {
        ruleset.chains.push(Chain {
            name: name.into(),
            hook: Some(hook),
            rules: vec![
                Rule::new(vec![Match::Loopback { input }], vec![Statement::Accept]),
                Rule::new(vec![Match::NeighbourDiscovery], vec![Statement::Accept]),
                decide(),
            ],
        });
    }
}

/// The first second (UTC) at which a rule `until DATE` is no longer in
/// force: the start of the next day.
pub fn expiry_second(until: crate::model::Date) -> i64 {
    (until.days_since_epoch() + 1) * 86_400
}

/// Why a live table cannot be compared with a compiled one.
#[derive(Debug)]
pub enum CompareError {
    /// The listing is not one bmcwall wrote.
    Listing(parse::ListingError),
    /// The ruleset holds what the interpreter does not read.
    Reading(interp::ReadError),
}

impl std::fmt::Display for CompareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompareError::Listing(error) => error.fmt(f),
            CompareError::Reading(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for CompareError {}

/// A live table, read from its `nft -j -p list table inet NAME` listing into
/// the model a compiled table has; `Err` when it is not a table bmcwall
/// wrote.
pub fn read_listing(listing: &str, table: &str) -> Result<Ruleset, CompareError> {
    parse::listing(listing, table).map_err(CompareError::Listing)
}

/// What replacing the `live` table (read with [`read_listing`], `None` when
/// there is no such table: then only what becomes allowed is reported)
/// with the compiled one changes. Its `meta time` matches are read at `now`
/// (seconds since 1970, UTC): the start of the day the compiled table is
/// for. When `expected` is the table compiled from the same model and the
/// live table is exactly it ([`is_loaded`]), nothing changes, and the live
/// table is not interpreted.
pub fn compare_live(
    live: Option<&Ruleset>,
    compiled: &Compiled<'_>,
    expected: Option<&Ruleset>,
    now: i64,
) -> Result<Vec<Change>, CompareError> {
    let Some(live) = live else {
        return Ok(compare::changes(compiled, None));
    };
    if expected.is_some_and(|expected| is_loaded(live, expected)) {
        return Ok(Vec::new());
    }
    let rules = interp::table_rules(live, now).map_err(CompareError::Reading)?;
    Ok(compare::changes(compiled, Some(&rules)))
}

/// Whether a live table (read with [`read_listing`]) is one whose rules the
/// interpreter reads, at `now`.
pub fn readable(live: &Ruleset, now: i64) -> Result<(), CompareError> {
    interp::table_rules(live, now).map_err(CompareError::Reading)?;
    Ok(())
}

/// Whether the `live` table names the policy of `sources` ([`policy_digest`]):
/// only such a table can be the one compiled from it.
pub fn names_policy(live: &Ruleset, sources: &SourceMap) -> bool {
    policy_digest(live) == Some(sources.digest().as_str())
}

/// `ruleset` as it replaces the `live` table (`None` when there is none) at
/// `now` (seconds since 1970): each counter whose name the live table has
/// keeps its count and the time the count started (unknown when the live
/// table did not know it), the others start at zero now; each recording set
/// the live table has with the same key keeps its elements, with what they
/// counted and the time they have left.
pub fn carried(live: Option<&Ruleset>, ruleset: &Ruleset, now: i64) -> Ruleset {
    let mut out = ruleset.clone();
    for counter in &mut out.counters {
        carry_counter(counter, live, now);
    }
    for set in out.sets.iter_mut().filter(|s| s.record.is_some()) {
        carry_elements(set, live);
    }
    out
}

/// `counter` with the count and start of the live table's counter of the
/// same name, or starting at `now`.
fn carry_counter(counter: &mut CounterObject, live: Option<&Ruleset>, now: i64) {
    match live
        .into_iter()
        .flat_map(|live| &live.counters)
        .find(|c| c.name == counter.name)
    {
        Some(old) => {
            counter.packets = old.packets;
            counter.bytes = old.bytes;
            counter.since = old.since;
        }
        None => counter.since = Some(now),
    }
}

/// Recording set `set` with the elements of the live table's recording set
/// of the same name and key.
fn carry_elements(set: &mut Set, live: Option<&Ruleset>) {
    let old = live
        .into_iter()
        .flat_map(|live| &live.sets)
        .find(|s| s.name == set.name && s.key == set.key && s.record.is_some());
    if let Some(old) = old {
        set.elements = old.elements.clone();
        set.counted = old.counted.clone();
    }
}

/// [`carried`] for a table compiled elsewhere: `text`, as [`text::render`]
/// wrote it, with its counters and recording sets carried over from the
/// `live` table (`None`: there is none); the rest of the text as it is.
pub fn carried_text(text: &str, live: Option<&Ruleset>, now: i64) -> String {
    text::carry_into(
        text,
        |counter| carry_counter(counter, live, now),
        |set| carry_elements(set, live),
    )
}

/// Whether the `live` table (read with [`read_listing`]) is exactly
/// `ruleset`: the same counter names, sets, elements, chains, rules and
/// comments, so that loading `ruleset` would change nothing but its
/// counters' values. nft lists sets and counters in an order of its own.
pub fn is_loaded(live: &Ruleset, ruleset: &Ruleset) -> bool {
    fn by_name(sets: &[Set]) -> Vec<&Set> {
        let mut sets: Vec<&Set> = sets.iter().collect();
        sets.sort_by(|a, b| a.name.cmp(&b.name));
        sets
    }
    fn names(counters: &[CounterObject]) -> Vec<&str> {
        let mut names: Vec<&str> = counters.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        names
    }
    live.table == ruleset.table
        && names(&live.counters) == names(&ruleset.counters)
        && live.chains == ruleset.chains
        && live.sets.len() == ruleset.sets.len()
        && by_name(&live.sets)
            .into_iter()
            .zip(by_name(&ruleset.sets))
            .all(|(a, b)| {
                // What a recording set holds is the traffic's, not the table's.
                match (a.record, b.record) {
                    (Some(_), Some(_)) => {
                        a.name == b.name
                            && a.key == b.key
                            && a.verdicts == b.verdicts
                            && a.record == b.record
                    }
                    _ => a == b,
                }
            })
}

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
    /// For a verdict map, each element's verdict (`accept`, `drop` or
    /// `goto CHAIN`), in the order of `elements`; `None` for a set.
    pub verdicts: Option<Vec<Statement>>,
    /// For a set the packet path fills (`flags dynamic, timeout`, a counter
    /// per element), its bounds; `None` for a set of fixed elements.
    pub record: Option<Record>,
    /// For a recording set, what each element has counted, in the order of
    /// `elements`: read from a live table, or carried over to the table that
    /// replaces it; empty for a compiled table.
    pub counted: Vec<Counted>,
}

/// What an element of a recording set has counted, and when it expires.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counted {
    pub packets: u64,
    pub bytes: u64,
    /// Seconds until the element expires: its last packet was the set's
    /// timeout less this ago.
    pub expires: u32,
}

/// The bounds of a recording set: how many elements it holds at most, and
/// how long an element stays after its last packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub size: u32,
    /// Seconds.
    pub timeout: u32,
}

impl Default for Record {
    /// 65,536 elements per set, kept a day after their last packet.
    fn default() -> Record {
        Record {
            size: 65_536,
            timeout: 86_400,
        }
    }
}

/// A packet field a rule matches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// `meta l4proto != { tcp, udp }`.
    L4protoNotIn(Vec<u8>),
    /// `KEY @set`, or `KEY != @set` when `negate`.
    InSet {
        key: Vec<Selector>,
        set: String,
        negate: bool,
    },
    /// `meta time < AT` when `before`, else `meta time >= AT`; `AT` in
    /// seconds since 1970-01-01 UTC, so the kernel stops an `until` rule
    /// on time whatever the gateway's time zone.
    Time { before: bool, at: i64 },
    /// `fib saddr . iif oif missing`: no route back to the source through
    /// the interface the packet came in on (a spoofed source).
    ReversePathMissing,
    /// `iifname "lo"` (`input`) or `oifname "lo"`: the host talking to
    /// itself, which never crosses a network.
    Loopback { input: bool },
    /// `icmpv6 type { ... }` of IPv6 neighbour and router discovery, which a
    /// host needs to have IPv6 at all.
    NeighbourDiscovery,
}

/// The ICMPv6 types of neighbour and router discovery (RFC 4861).
pub const ND_TYPES: [&str; 4] = [
    "nd-router-solicit",
    "nd-router-advert",
    "nd-neighbor-solicit",
    "nd-neighbor-advert",
];

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Statement {
    /// `counter`: an anonymous counter of the rule.
    Counter,
    /// `counter name "NAME"`: counts in the table's counter object `NAME`.
    NamedCounter(String),
    Limit {
        per_second: u32,
        burst: u32,
    },
    Log {
        prefix: String,
    },
    Accept,
    Drop,
    /// `goto CHAIN`: the chain decides, and does not return here.
    Goto(String),
    /// `jump CHAIN`: the chain may decide; if it does not, the next rule here.
    Jump(String),
    /// `KEY vmap @MAP`: the verdict of the element the packet's key is in;
    /// none (the next rule) when it is in no element.
    Vmap {
        key: Vec<Selector>,
        map: String,
    },
    /// `update @SET { KEY }`: adds the packet's key to a recording set, or
    /// refreshes its element and counts in it. Not a verdict: when the set is
    /// full the rule stops, and the packet goes on as if it had not matched.
    Update {
        key: Vec<Selector>,
        set: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub matches: Vec<Match>,
    pub statements: Vec<Statement>,
    pub comment: Option<String>,
}

impl Rule {
    fn new(matches: Vec<Match>, statements: Vec<Statement>) -> Rule {
        Rule {
            matches,
            statements,
            comment: None,
        }
    }
}

/// Where a base chain hooks in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Hook {
    /// Flows the gateway forwards.
    Forward,
    /// Flows to the gateway's own addresses (`mode host`).
    Input,
    /// Flows from them (`mode host`).
    Output,
}

impl Hook {
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Forward => "forward",
            Hook::Input => "input",
            Hook::Output => "output",
        }
    }

    pub fn parse(name: &str) -> Option<Hook> {
        [Hook::Forward, Hook::Input, Hook::Output]
            .into_iter()
            .find(|hook| hook.as_str() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub name: String,
    /// A base chain hooks in at filter priority with policy accept: flows
    /// it does not govern are left to other tables. Other chains are
    /// reached by `goto` or `jump`.
    pub hook: Option<Hook>,
    pub rules: Vec<Rule>,
}

/// The whole table. Chains are listed so that every `goto` and `jump` target
/// comes before the rules that name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ruleset {
    pub table: String,
    /// The named counter objects, one per policy rule in force and one for
    /// the flows no rule matches, in policy order.
    pub counters: Vec<CounterObject>,
    pub sets: Vec<Set>,
    pub chains: Vec<Chain>,
    /// The host names of inventories read with `resolve`, with the addresses
    /// they resolved to: written in the output (the text form's header, the
    /// JSON form's `metainfo`), not loaded into the kernel.
    pub resolved: Vec<Resolution>,
}

impl Ruleset {
    /// The first base chain, where the decision of a flow starts: `forward`,
    /// or `input` in a table of `mode host` alone (every base chain reaches
    /// the same decision).
    pub fn base_chain(&self) -> &Chain {
        self.chains
            .iter()
            .find(|c| c.hook.is_some())
            .expect("a ruleset has a base chain")
    }

    pub fn base_chain_mut(&mut self) -> &mut Chain {
        self.chains
            .iter_mut()
            .find(|c| c.hook.is_some())
            .expect("a ruleset has a base chain")
    }
}

/// A named counter object (`counter NAME { packets P bytes B }`), created
/// with the values it carries over from the table it replaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterObject {
    pub name: String,
    pub packets: u64,
    pub bytes: u64,
    /// When the count started (seconds since 1970, UTC), as `apply` writes it
    /// in the counter's comment ([`since_comment`]); `None` when unknown (a
    /// table loaded with `nft -f`).
    pub since: Option<i64>,
}

/// What the comment of a counter that knows when its count started begins
/// with; the RFC 3339 time (UTC) follows.
const SINCE_COMMENT: &str = "counting since ";

/// The comment of a counter whose count started at `since`.
pub fn since_comment(since: i64) -> String {
    format!("{SINCE_COMMENT}{}", crate::model::utc_text(since))
}

/// When the count of a counter with `comment` started.
pub(crate) fn since_of(comment: &str) -> Option<i64> {
    let time = comment.strip_prefix(SINCE_COMMENT)?.strip_suffix('Z')?;
    crate::model::utc_seconds(time, 'T')
}

/// The counter of the flows no rule matches (the final drop).
pub const NO_RULE_COUNTER: &str = "no_rule_matched";

/// The name of each policy rule's counter, by index into `policy.rules`:
/// its action and the first 48 bits of the SHA-256 of what the rule says
/// (its source, destination and services as written, as code alone
/// ([`crate::syntax::code_only`]), and its description), so that editing other rules, or moving
/// the rule, keeps its name. Rules that say the same get `_2`, `_3` in
/// policy order.
pub fn counter_names(policy: &Policy, sources: &SourceMap) -> Vec<String> {
    use sha2::{Digest, Sha256};
    let written = |span: Option<crate::source::Span>| {
        span.map(|span| crate::syntax::code_only(sources.text(span)))
            .unwrap_or_default()
    };
    let mut taken = std::collections::BTreeMap::<String, usize>::new();
    policy
        .rules
        .iter()
        .map(|rule| {
            let mut hasher = Sha256::new();
            for part in [
                written(Some(rule.src_span)),
                written(Some(rule.dst_span)),
                written(rule.services_span),
                rule.description.clone().unwrap_or_default(),
            ] {
                hasher.update(part.as_bytes());
                hasher.update([0]);
            }
            let digest = hasher.finalize();
            let base = format!("{}_{}", rule.action.as_str(), hex(&digest[..6]));
            let seen = taken.entry(base.clone()).or_insert(0);
            *seen += 1;
            match *seen {
                1 => base,
                n => format!("{base}_{n}"),
            }
        })
        .collect()
}

/// The counter objects of a table of `policy`: its rules in force, then the
/// flows no rule matches, all at zero.
fn counter_objects(policy: &Policy, names: &[String]) -> Vec<CounterObject> {
    policy
        .active_rules()
        .map(|(index, _)| names[index].as_str())
        .chain([NO_RULE_COUNTER])
        .map(|name| CounterObject {
            name: name.to_string(),
            packets: 0,
            bytes: 0,
            since: None,
        })
        .collect()
}

/// The two families, with what differs between them.
struct FamilySpec {
    suffix: &'static str,
    addr: KeyType,
    saddr: Selector,
    daddr: Selector,
}

impl FamilySpec {
    /// The set fields of the addresses of `set` in this family.
    fn fields(&self, set: &AddrSet) -> Vec<Field> {
        match self.addr {
            KeyType::Ipv4Addr => addr_fields_v4(set),
            _ => addr_fields_v6(set),
        }
    }
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

/// The rules every layout starts with: connection tracking, then flows
/// outside the scope accepted (left to other tables); adds the scope sets.
fn prelude(policy: &Policy, sets: &mut Vec<Set>) -> Vec<Rule> {
    let mut rules = vec![
        Rule::new(
            vec![Match::CtState(vec!["established", "related"])],
            vec![Statement::Accept],
        ),
        Rule::new(vec![Match::CtState(vec!["invalid"])], vec![Statement::Drop]),
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
            verdicts: None,
            record: None,
            counted: Vec::new(),
        });
        rules.push(Rule::new(
            vec![
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
            vec![Statement::Accept],
        ));
    }
    rules
}

/// The table `table` with `sets`, `chains` and, last, the base chain of `rules`.
fn ruleset(table: &str, sets: Vec<Set>, mut chains: Vec<Chain>, rules: Vec<Rule>) -> Ruleset {
    chains.push(Chain {
        name: "forward".into(),
        hook: Some(Hook::Forward),
        rules,
    });
    Ruleset {
        table: table.to_string(),
        counters: Vec::new(),
        sets,
        chains,
        resolved: Vec::new(),
    }
}

/// The chains logged flows `goto`: they log (rate-limited), then decide.
const LOG_ALLOW_CHAIN: &str = "log_allow";
const LOG_DENY_CHAIN: &str = "log_deny";

fn log_chain(name: &str, prefix: &str, verdict: Statement) -> Chain {
    Chain {
        name: name.into(),
        hook: None,
        rules: vec![
            Rule::new(Vec::new(), log_statements(prefix)),
            Rule::new(Vec::new(), vec![verdict]),
        ],
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

#[cfg(test)]
mod tests;
