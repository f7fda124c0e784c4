//! Reading a live table back: the JSON of `nft -j -p list table inet NAME`
//! into the ruleset model, for `plan` to compare with a compiled one.
//!
//! Only what bmcwall writes is understood (both layouts, any version of the
//! policy); anything else in the table is an error that names it, so a plan is
//! never computed from a table half understood.

use super::{
    Chain, Counted, CounterObject, Field, Hook, KeyType, Match, Record, Rule, Ruleset, Selector,
    Set, Statement,
};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

/// What in a listing is not understood.
#[derive(Debug)]
pub enum ListingError {
    NotJson(serde_json::Error),
    NoObjects,
    RuleWithoutChain,
    /// A rule of this chain is not understood.
    InChain {
        chain: String,
        error: Box<ListingError>,
    },
    UnknownChain(String),
    /// An object of this kind, which bmcwall does not write.
    Foreign(String),
    BaseChains,
    SetWithoutName,
    CounterWithoutName,
    DataMap(String),
    Untyped(String),
    ElementWithoutVerdict(String),
    ElementWidth(String),
    /// An element of this set is not understood.
    InSet {
        set: String,
        error: Box<ListingError>,
    },
    /// A `goto` or `jump` without a target.
    NoTarget(&'static str),
    ForeignVerdict(String),
    ForeignType(String),
    PrefixWithoutLength,
    PrefixOfNonAddress,
    PrefixLength(u32),
    RangeEnds,
    NotAnAddress(String),
    NotAProtocol(String),
    NotAPort(String),
    UnexpectedElement(String),
    UnknownProtocol(String),
    ChainWithoutName,
    BasePolicy(String),
    ForeignHook {
        chain: String,
        hook: String,
    },
    RuleWithoutExpressions,
    ForeignExpression(String),
    UnknownState,
    LookupOperator(String),
    BadProtocol,
    ForeignMatch(String),
    AnonymousMap,
    ForeignSelector(String),
}

impl fmt::Display for ListingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ListingError::*;
        match self {
            NotJson(e) => write!(f, "the listing is not JSON: {e}"),
            NoObjects => f.write_str("the listing has no `nftables` array"),
            RuleWithoutChain => f.write_str("a rule without a chain"),
            InChain { chain, error } => write!(f, "chain {chain}: {error}"),
            UnknownChain(chain) => write!(f, "a rule of unknown chain {chain}"),
            Foreign(kind) => write!(f, "the table holds a {kind}, which bmcwall does not write"),
            BaseChains => f.write_str("the table does not have one base chain per hook it uses"),
            SetWithoutName => f.write_str("a set without a name"),
            CounterWithoutName => f.write_str("a counter without a name"),
            DataMap(name) => write!(f, "map {name} maps to data, not to verdicts"),
            Untyped(name) => write!(f, "set {name} has no type"),
            ElementWithoutVerdict(name) => write!(f, "map {name} has an element without a verdict"),
            ElementWidth(name) => write!(f, "set {name} has an element of the wrong width"),
            InSet { set, error } => write!(f, "set {set}: {error}"),
            NoTarget(verdict) => write!(f, "a {verdict} without a target"),
            ForeignVerdict(value) => {
                write!(f, "a map verdict `{value}`, which bmcwall does not write")
            }
            ForeignType(name) => write!(f, "sets of type {name} are not written by bmcwall"),
            PrefixWithoutLength => f.write_str("a prefix without a length"),
            PrefixOfNonAddress => f.write_str("a prefix of something other than an address"),
            PrefixLength(len) => write!(f, "a prefix length of {len}"),
            RangeEnds => f.write_str("a range without two ends"),
            NotAnAddress(text) => write!(f, "`{text}` is not an address of the set's family"),
            NotAProtocol(n) => write!(f, "{n} is not a protocol"),
            NotAPort(n) => write!(f, "{n} is not a port"),
            UnexpectedElement(value) => write!(f, "unexpected element {value}"),
            UnknownProtocol(name) => write!(f, "unknown protocol `{name}`"),
            ChainWithoutName => f.write_str("a chain without a name"),
            BasePolicy(name) => write!(f, "base chain {name} does not have policy accept"),
            ForeignHook { chain, hook } => {
                write!(
                    f,
                    "chain {chain} hooks {hook}, not forward, input or output"
                )
            }
            RuleWithoutExpressions => f.write_str("a rule without expressions"),
            ForeignExpression(expr) => {
                write!(f, "a rule with `{expr}`, which bmcwall does not write")
            }
            UnknownState => f.write_str("an unknown connection state"),
            LookupOperator(op) => write!(f, "a set lookup with operator {op}"),
            BadProtocol => f.write_str("bad protocol"),
            ForeignMatch(m) => write!(f, "a match `{m}`, which bmcwall does not write"),
            AnonymousMap => f.write_str("a vmap that is not a named map"),
            ForeignSelector(value) => {
                write!(f, "a match on `{value}`, which bmcwall does not write")
            }
        }
    }
}

impl std::error::Error for ListingError {}

/// Parses the listing of table `inet NAME`; `Err` says what is not understood.
pub fn listing(json: &str, table: &str) -> Result<Ruleset, ListingError> {
    let value: Value = serde_json::from_str(json).map_err(ListingError::NotJson)?;
    let objects = value["nftables"]
        .as_array()
        .ok_or(ListingError::NoObjects)?;
    let mut ruleset = Ruleset {
        table: table.to_string(),
        counters: Vec::new(),
        sets: Vec::new(),
        chains: Vec::new(),
        resolved: Vec::new(),
    };
    // Each chain's place in `ruleset.chains`, by name: a rule names its chain.
    let mut chain_index: HashMap<String, usize> = HashMap::new();
    for object in objects {
        if let Some(set) = object.get("set") {
            ruleset.sets.push(parse_set(set, false)?);
        } else if let Some(map) = object.get("map") {
            ruleset.sets.push(parse_set(map, true)?);
        } else if let Some(chain) = object.get("chain") {
            let chain = parse_chain(chain)?;
            chain_index
                .entry(chain.name.clone())
                .or_insert(ruleset.chains.len());
            ruleset.chains.push(chain);
        } else if let Some(rule) = object.get("rule") {
            let chain_name = rule["chain"]
                .as_str()
                .ok_or(ListingError::RuleWithoutChain)?;
            let parsed = parse_rule(rule).map_err(|e| ListingError::InChain {
                chain: chain_name.to_string(),
                error: Box::new(e),
            })?;
            let index = *chain_index
                .get(chain_name)
                .ok_or_else(|| ListingError::UnknownChain(chain_name.to_string()))?;
            ruleset.chains[index].rules.push(parsed);
        } else if let Some(counter) = object.get("counter") {
            ruleset.counters.push(parse_counter(counter)?);
        } else if object.get("metainfo").is_none() && object.get("table").is_none() {
            let kind = object
                .as_object()
                .and_then(|o| o.keys().next())
                .map_or("?", |k| k.as_str());
            return Err(ListingError::Foreign(kind.to_string()));
        }
    }
    let mut hooks: Vec<Hook> = ruleset.chains.iter().filter_map(|c| c.hook).collect();
    let count = hooks.len();
    hooks.sort_unstable();
    hooks.dedup();
    if count == 0 || hooks.len() != count {
        return Err(ListingError::BaseChains);
    }
    Ok(ruleset)
}

/// A named counter object and its values.
fn parse_counter(counter: &Value) -> Result<CounterObject, ListingError> {
    let name = counter["name"]
        .as_str()
        .ok_or(ListingError::CounterWithoutName)?;
    Ok(CounterObject {
        name: name.to_string(),
        packets: counter["packets"].as_u64().unwrap_or(0),
        bytes: counter["bytes"].as_u64().unwrap_or(0),
        since: counter["comment"].as_str().and_then(super::since_of),
    })
}

/// A set, or a verdict map when `map`.
fn parse_set(set: &Value, map: bool) -> Result<Set, ListingError> {
    let name = set["name"].as_str().ok_or(ListingError::SetWithoutName)?;
    if map && set["map"].as_str() != Some("verdict") {
        return Err(ListingError::DataMap(name.to_string()));
    }
    let key: Vec<KeyType> = match &set["type"] {
        Value::String(one) => vec![key_type(one)?],
        Value::Array(many) => many
            .iter()
            .map(|t| key_type(t.as_str().unwrap_or("?")))
            .collect::<Result<_, _>>()?,
        _ => return Err(ListingError::Untyped(name.to_string())),
    };
    // A recording set: nft lists `flags dynamic, timeout` as `timeout`.
    let flags: Vec<&str> = set["flags"]
        .as_array()
        .map(|f| f.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let record = (flags.contains(&"timeout") || flags.contains(&"dynamic")).then(|| Record {
        size: set["size"].as_u64().unwrap_or(0) as u32,
        timeout: set["timeout"].as_u64().unwrap_or(0) as u32,
    });
    let mut elements = Vec::new();
    for element in set["elem"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let (element, verdict) = if map {
            match element.as_array().map(Vec::as_slice) {
                Some([element, verdict]) => (element, Some(parse_verdict(verdict)?)),
                _ => return Err(ListingError::ElementWithoutVerdict(name.to_string())),
            }
        } else {
            (element, None)
        };
        // A recording set's element: `{"elem": {"val": ..., "expires": S,
        // "counter": {"packets": P, "bytes": B}}}`.
        let counted = element.get("elem").map(|e| Counted {
            packets: e["counter"]["packets"].as_u64().unwrap_or(0),
            bytes: e["counter"]["bytes"].as_u64().unwrap_or(0),
            expires: e["expires"].as_u64().unwrap_or(0) as u32,
        });
        let element = element.get("elem").map_or(element, |e| &e["val"]);
        let parts: Vec<&Value> = match element.get("concat") {
            Some(Value::Array(parts)) => parts.iter().collect(),
            _ => vec![element],
        };
        if parts.len() != key.len() {
            return Err(ListingError::ElementWidth(name.to_string()));
        }
        let fields = parts
            .iter()
            .zip(&key)
            .map(|(part, kind)| field(part, *kind))
            .collect::<Result<Vec<Field>, ListingError>>()
            .map_err(|e| ListingError::InSet {
                set: name.to_string(),
                error: Box::new(e),
            })?;
        elements.push((fields, verdict, counted));
    }
    elements.sort_by(|a, b| a.0.cmp(&b.0));
    let mut fields = Vec::with_capacity(elements.len());
    let mut verdicts = Vec::new();
    let mut counted = Vec::new();
    for (element, verdict, count) in elements {
        fields.push(element);
        verdicts.extend(verdict);
        if record.is_some() {
            counted.push(count.unwrap_or_default());
        }
    }
    Ok(Set {
        name: name.to_string(),
        key,
        elements: fields,
        verdicts: map.then_some(verdicts),
        record,
        counted,
    })
}

/// The verdict of a map element: accept, drop, goto or jump.
fn parse_verdict(value: &Value) -> Result<Statement, ListingError> {
    if value.get("accept").is_some() {
        Ok(Statement::Accept)
    } else if value.get("drop").is_some() {
        Ok(Statement::Drop)
    } else if let Some(goto) = value.get("goto") {
        let target = goto["target"]
            .as_str()
            .ok_or(ListingError::NoTarget("goto"))?;
        Ok(Statement::Goto(target.to_string()))
    } else if let Some(jump) = value.get("jump") {
        let target = jump["target"]
            .as_str()
            .ok_or(ListingError::NoTarget("jump"))?;
        Ok(Statement::Jump(target.to_string()))
    } else {
        Err(ListingError::ForeignVerdict(value.to_string()))
    }
}

pub(super) fn key_type(name: &str) -> Result<KeyType, ListingError> {
    Ok(match name {
        "ipv4_addr" => KeyType::Ipv4Addr,
        "ipv6_addr" => KeyType::Ipv6Addr,
        "inet_proto" => KeyType::InetProto,
        "inet_service" => KeyType::InetService,
        other => return Err(ListingError::ForeignType(other.to_string())),
    })
}

/// One field of an element: a value, a prefix or a range.
fn field(value: &Value, kind: KeyType) -> Result<Field, ListingError> {
    let (lo, hi) = if let Some(prefix) = value.get("prefix") {
        let len = prefix["len"]
            .as_u64()
            .ok_or(ListingError::PrefixWithoutLength)? as u32;
        let base = scalar(&prefix["addr"], kind)?;
        let bits = match kind {
            KeyType::Ipv4Addr => 32,
            KeyType::Ipv6Addr => 128,
            _ => return Err(ListingError::PrefixOfNonAddress),
        };
        if len > bits {
            return Err(ListingError::PrefixLength(len));
        }
        let host = (u128::MAX >> (128 - bits)).checked_shr(len).unwrap_or(0);
        (base, base | host)
    } else if let Some(Value::Array(ends)) = value.get("range") {
        match ends.as_slice() {
            [lo, hi] => (scalar(lo, kind)?, scalar(hi, kind)?),
            _ => return Err(ListingError::RangeEnds),
        }
    } else {
        let v = scalar(value, kind)?;
        (v, v)
    };
    Ok(match kind {
        KeyType::Ipv4Addr => Field::V4(lo as u32, hi as u32),
        KeyType::Ipv6Addr => Field::V6(lo, hi),
        KeyType::InetProto => Field::Proto(lo as u8, hi as u8),
        KeyType::InetService => Field::Port(lo as u16, hi as u16),
    })
}

fn scalar(value: &Value, kind: KeyType) -> Result<u128, ListingError> {
    match (kind, value) {
        (KeyType::Ipv4Addr | KeyType::Ipv6Addr, Value::String(text)) => {
            match (kind, text.parse::<IpAddr>()) {
                (KeyType::Ipv4Addr, Ok(IpAddr::V4(a))) => Ok(u128::from(u32::from(a))),
                (KeyType::Ipv6Addr, Ok(IpAddr::V6(a))) => Ok(u128::from(a)),
                _ => Err(ListingError::NotAnAddress(text.clone())),
            }
        }
        (KeyType::InetProto, Value::String(name)) => protocol(name).map(u128::from),
        (KeyType::InetProto, Value::Number(n)) => n
            .as_u64()
            .filter(|&p| p <= 255)
            .map(u128::from)
            .ok_or_else(|| ListingError::NotAProtocol(n.to_string())),
        (KeyType::InetService, Value::Number(n)) => n
            .as_u64()
            .filter(|&p| p <= 65535)
            .map(u128::from)
            .ok_or_else(|| ListingError::NotAPort(n.to_string())),
        _ => Err(ListingError::UnexpectedElement(value.to_string())),
    }
}

/// Protocol names nft prints without `-p`.
/// The protocol names nft lists without `-p` (it takes them from
/// /etc/protocols: netbase's list, the same on Debian and Red Hat systems).
const PROTOCOLS: &[(&str, u8)] = &[
    ("ip", 0),
    ("hopopt", 0),
    ("icmp", 1),
    ("igmp", 2),
    ("ggp", 3),
    ("ipencap", 4),
    ("st", 5),
    ("tcp", 6),
    ("egp", 8),
    ("igp", 9),
    ("pup", 12),
    ("udp", 17),
    ("hmp", 20),
    ("xns-idp", 22),
    ("rdp", 27),
    ("iso-tp4", 29),
    ("dccp", 33),
    ("xtp", 36),
    ("ddp", 37),
    ("idpr-cmtp", 38),
    ("ipv6", 41),
    ("ipv6-route", 43),
    ("ipv6-frag", 44),
    ("idrp", 45),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("skip", 57),
    ("ipv6-icmp", 58),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("rspf", 73),
    ("vmtp", 81),
    ("eigrp", 88),
    ("ospf", 89),
    ("ax.25", 93),
    ("ipip", 94),
    ("etherip", 97),
    ("encap", 98),
    ("pim", 103),
    ("ipcomp", 108),
    ("vrrp", 112),
    ("l2tp", 115),
    ("isis", 124),
    ("sctp", 132),
    ("fc", 133),
    ("mobility-header", 135),
    ("udplite", 136),
    ("mpls-in-ip", 137),
    ("manet", 138),
    ("hip", 139),
    ("shim6", 140),
    ("wesp", 141),
    ("rohc", 142),
    ("ethernet", 143),
];

fn protocol(name: &str) -> Result<u8, ListingError> {
    if name == "icmpv6" {
        return Ok(58);
    }
    if let Some(&(_, number)) = PROTOCOLS.iter().find(|(known, _)| *known == name) {
        return Ok(number);
    }
    name.parse()
        .map_err(|_| ListingError::UnknownProtocol(name.to_string()))
}

fn parse_chain(chain: &Value) -> Result<Chain, ListingError> {
    let name = chain["name"]
        .as_str()
        .ok_or(ListingError::ChainWithoutName)?;
    let hook = match chain.get("hook").and_then(Value::as_str) {
        None => None,
        Some(written) => {
            let hook = Hook::parse(written).ok_or_else(|| ListingError::ForeignHook {
                chain: name.to_string(),
                hook: written.to_string(),
            })?;
            if chain["policy"].as_str() != Some("accept") {
                return Err(ListingError::BasePolicy(name.to_string()));
            }
            Some(hook)
        }
    };
    Ok(Chain {
        name: name.to_string(),
        hook,
        rules: Vec::new(),
    })
}

fn parse_rule(rule: &Value) -> Result<Rule, ListingError> {
    let mut out = Rule {
        matches: Vec::new(),
        statements: Vec::new(),
        comment: rule["comment"].as_str().map(str::to_string),
    };
    for expr in rule["expr"]
        .as_array()
        .ok_or(ListingError::RuleWithoutExpressions)?
    {
        if let Some(m) = expr.get("match") {
            out.matches.push(parse_match(m)?);
        } else if let Some(counter) = expr.get("counter") {
            out.statements.push(match counter.as_str() {
                Some(name) => Statement::NamedCounter(name.to_string()),
                None => Statement::Counter,
            });
        } else if let Some(limit) = expr.get("limit") {
            out.statements.push(Statement::Limit {
                per_second: limit["rate"].as_u64().unwrap_or(0) as u32,
                burst: limit["burst"].as_u64().unwrap_or(0) as u32,
            });
        } else if let Some(log) = expr.get("log") {
            out.statements.push(Statement::Log {
                prefix: log["prefix"].as_str().unwrap_or("").to_string(),
            });
        } else if expr.get("accept").is_some() {
            out.statements.push(Statement::Accept);
        } else if expr.get("drop").is_some() {
            out.statements.push(Statement::Drop);
        } else if let Some(goto) = expr.get("goto") {
            let target = goto["target"]
                .as_str()
                .ok_or(ListingError::NoTarget("goto"))?;
            out.statements.push(Statement::Goto(target.to_string()));
        } else if let Some(jump) = expr.get("jump") {
            let target = jump["target"]
                .as_str()
                .ok_or(ListingError::NoTarget("jump"))?;
            out.statements.push(Statement::Jump(target.to_string()));
        } else if let Some(update) = expr.get("set").filter(|u| u["op"] == "update") {
            let set = update["set"]
                .as_str()
                .and_then(|d| d.strip_prefix('@'))
                .ok_or(ListingError::AnonymousMap)?;
            out.statements.push(Statement::Update {
                key: key(&update["elem"])?,
                set: set.to_string(),
            });
        } else if let Some(vmap) = expr.get("vmap") {
            let map = vmap["data"]
                .as_str()
                .and_then(|d| d.strip_prefix('@'))
                .ok_or(ListingError::AnonymousMap)?;
            out.statements.push(Statement::Vmap {
                key: key(&vmap["key"])?,
                map: map.to_string(),
            });
        } else {
            return Err(ListingError::ForeignExpression(expr.to_string()));
        }
    }
    Ok(out)
}

fn parse_match(m: &Value) -> Result<Match, ListingError> {
    let op = m["op"].as_str().unwrap_or("==");
    let left = &m["left"];
    let right = &m["right"];
    if left.get("meta").is_some_and(|meta| meta["key"] == "time") {
        let before = match op {
            "<" => true,
            ">=" => false,
            _ => return Err(ListingError::ForeignMatch(m.to_string())),
        };
        let at = match right {
            Value::Number(n) => n.as_i64(),
            Value::String(text) => utc_seconds(text),
            _ => None,
        };
        let at = at.ok_or_else(|| ListingError::ForeignMatch(m.to_string()))?;
        return Ok(Match::Time { before, at });
    }
    if let Some(fib) = left.get("fib") {
        let mut flags: Vec<&str> = fib["flags"]
            .as_array()
            .map(|flags| flags.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        flags.sort_unstable();
        let missing = op == "==" && *right == Value::Bool(false);
        if fib["result"] == "oif" && flags == ["iif", "saddr"] && missing {
            return Ok(Match::ReversePathMissing);
        }
        return Err(ListingError::ForeignMatch(m.to_string()));
    }
    if let Some(meta) = left.get("meta") {
        let input = match meta["key"].as_str() {
            Some("iifname") => Some(true),
            Some("oifname") => Some(false),
            _ => None,
        };
        if let (Some(input), "==", Some("lo")) = (input, op, right.as_str()) {
            return Ok(Match::Loopback { input });
        }
    }
    let payload = &left["payload"];
    if payload["protocol"] == "icmpv6" && payload["field"] == "type" && op == "==" {
        let types: Vec<&str> = right["set"]
            .as_array()
            .map(|items| items.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if types == super::ND_TYPES {
            return Ok(Match::NeighbourDiscovery);
        }
        return Err(ListingError::ForeignMatch(m.to_string()));
    }
    if left.get("ct").is_some_and(|ct| ct["key"] == "state") {
        let states = match right {
            Value::String(s) => vec![s.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            other => other["set"]
                .as_array()
                .map(|items| items.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default(),
        };
        let known = ["new", "established", "related", "invalid", "untracked"];
        let states: Vec<&'static str> = states
            .iter()
            .map(|s| known.iter().find(|k| *k == s).copied())
            .collect::<Option<_>>()
            .ok_or(ListingError::UnknownState)?;
        return Ok(Match::CtState(states));
    }
    if let Some(set) = right.as_str().and_then(|r| r.strip_prefix('@')) {
        let key = key(left)?;
        let negate = match op {
            "==" | "in" => false,
            "!=" => true,
            other => return Err(ListingError::LookupOperator(other.to_string())),
        };
        return Ok(Match::InSet {
            key,
            set: set.to_string(),
            negate,
        });
    }
    if selector(left)? == Selector::L4proto && (op == "==" || op == "!=") {
        if let Some(items) = right["set"].as_array() {
            let protos = items
                .iter()
                .map(|p| match p {
                    Value::Number(n) => {
                        n.as_u64().map(|n| n as u8).ok_or(ListingError::BadProtocol)
                    }
                    Value::String(name) => protocol(name),
                    _ => Err(ListingError::BadProtocol),
                })
                .collect::<Result<Vec<u8>, ListingError>>()?;
            return Ok(if op == "==" {
                Match::L4protoIn(protos)
            } else {
                Match::L4protoNotIn(protos)
            });
        }
    }
    Err(ListingError::ForeignMatch(m.to_string()))
}

/// Seconds since 1970 of `YYYY-MM-DD HH:MM:SS`, a time of day in UTC (nft
/// writes `meta time` in the time zone it runs in; bmcwall runs it in UTC).
fn utc_seconds(text: &str) -> Option<i64> {
    crate::model::utc_seconds(text, ' ')
}

/// A lookup key: one selector or a concatenation.
fn key(value: &Value) -> Result<Vec<Selector>, ListingError> {
    match value.get("concat") {
        Some(Value::Array(parts)) => parts.iter().map(selector).collect(),
        _ => Ok(vec![selector(value)?]),
    }
}

fn selector(value: &Value) -> Result<Selector, ListingError> {
    if value.get("meta").is_some_and(|m| m["key"] == "l4proto") {
        return Ok(Selector::L4proto);
    }
    let payload = &value["payload"];
    Ok(
        match (payload["protocol"].as_str(), payload["field"].as_str()) {
            (Some("ip"), Some("saddr")) => Selector::IpSaddr,
            (Some("ip"), Some("daddr")) => Selector::IpDaddr,
            (Some("ip6"), Some("saddr")) => Selector::Ip6Saddr,
            (Some("ip6"), Some("daddr")) => Selector::Ip6Daddr,
            (Some("th"), Some("dport")) => Selector::ThDport,
            _ => return Err(ListingError::ForeignSelector(value.to_string())),
        },
    )
}
