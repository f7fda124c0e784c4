//! `bmcwall audit`: the denied flows a live table recorded (its recording
//! sets, docs/auditing.md), in the policy's terms: each BMC by its inventory
//! name and labels, each other address by the smallest policy definition
//! that holds it, each port by its service. Findings carry codes
//! (BW601-BW607) so that levels apply as to every check; exit 1 when one is
//! an error (a BMC that tried the internet).

use super::args::{SensorArgs, UsageFormat};
use super::sensor::{self, Kept, Table};
use super::{checked_with_report, compilable, printed, Exit};
use crate::addr::service::{self, has_ports};
use crate::addr::AddrSet;
use crate::diagnostic::{Code, Level};
use crate::nft::{self, Counted, Field};
use crate::resolve::{services, AddressNames, InventoryEntry, NamedKind, Policy};
use crate::source::{escape_line, SourceMap};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::Rc;

/// One end of a recorded flow, named as the policy names it.
#[derive(Clone, Serialize)]
struct Peer {
    address: String,
    /// The BMC's inventory name, the definition that is exactly the
    /// address, `in NAME` for the smallest that holds it, or `internet`.
    name: String,
    /// Where a BMC's inventory entry is (`file:line`).
    #[serde(skip_serializing_if = "Option::is_none")]
    inventory: Option<String>,
    /// A BMC's inventory labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<String, Vec<String>>,
}

/// One recorded flow.
#[derive(Clone, Serialize)]
struct Flow {
    source: Rc<Peer>,
    destination: Rc<Peer>,
    protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    /// The policy's or the catalogue's name of the port.
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<String>,
    packets: u64,
    bytes: u64,
    /// When its last packet was (seconds since 1970, UTC), from the
    /// element's expiry; with `--state`, the last run that saw it grow.
    last_seen: i64,
    /// With `--state`: the first run that saw it.
    #[serde(skip_serializing_if = "Option::is_none")]
    first_seen: Option<i64>,
    /// The recording set it is in.
    set: String,
}

/// A finding: one code, about one device (a BMC, an unknown device, or a
/// set), with its flows.
#[derive(Serialize)]
struct Finding {
    #[serde(skip)]
    kind: Code,
    code: &'static str,
    name: &'static str,
    level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    gateway: Option<String>,
    message: String,
    flows: Vec<Flow>,
    packets: u64,
    bytes: u64,
}

#[derive(Serialize)]
struct Report {
    version: u32,
    table: String,
    policy: String,
    findings: Vec<Finding>,
    /// Findings per level.
    summary: BTreeMap<&'static str, usize>,
}

pub(super) fn run(args: SensorArgs) -> Exit {
    let checked = match checked_with_report(&args.policy, &args.common) {
        Ok(checked) => checked,
        Err(exit) => return exit,
    };
    let (policy, _) = match compilable(&checked, "read") {
        Ok(model) => model,
        Err(_) => return Exit::Invalid,
    };
    let settings = match args.common.settings(&args.policy) {
        Ok(settings) => settings,
        Err(exit) => return exit,
    };
    let tables = match sensor::tables(&args, policy, &checked.sources) {
        Ok(tables) => tables,
        Err(exit) => return exit,
    };
    let now = super::now();
    let mut state = match sensor::read_state(args.state.as_deref()) {
        Ok(state) => state,
        Err(exit) => return exit,
    };
    let namer = Namer::new(policy, &checked.sources);
    let mut findings = Vec::new();
    for table in &tables {
        let mut flows = recorded(table, &namer, now);
        let full = full_sets(table);
        if let Some(state) = state.as_mut() {
            keep(state.table(table, &args.live.table, now), &mut flows, now);
        }
        findings.extend(group(flows, table.gateway.as_deref()));
        for (set, size) in full {
            findings.push(Finding {
                kind: Code::RecordingFull,
                code: Code::RecordingFull.as_str(),
                name: Code::RecordingFull.name(),
                level: "",
                gateway: table.gateway.clone(),
                message: format!(
                    "recording set {set} is full ({size} elements): denied flows beyond them \
                     were dropped but not recorded"
                ),
                flows: Vec::new(),
                packets: 0,
                bytes: 0,
            });
        }
    }
    if let Some(state) = state {
        if let Err(exit) = state.write(now) {
            return exit;
        }
    }
    // Levels as every check has them: a code set to `allow` is not reported.
    let mut levelled = Vec::new();
    for mut finding in findings {
        let level = settings.levels.level(finding.kind);
        if level == Level::Allow {
            continue;
        }
        finding.level = level.as_str();
        levelled.push(finding);
    }
    // Errors first, then by code and the most packets.
    levelled.sort_by(|a, b| {
        level_rank(b.level)
            .cmp(&level_rank(a.level))
            .then(a.code.cmp(b.code))
            .then(b.packets.cmp(&a.packets))
            .then(a.message.cmp(&b.message))
    });
    let mut summary = BTreeMap::new();
    for finding in &levelled {
        *summary.entry(finding.level).or_insert(0) += 1;
    }
    let errors = summary.get("error").copied().unwrap_or(0);
    let report = Report {
        version: 1,
        table: args.live.table.clone(),
        policy: checked.sources.digest(),
        findings: levelled,
        summary,
    };
    let text = match args.format {
        UsageFormat::Human => crate::source::for_people(human(&report, &tables)),
        UsageFormat::Json => match serde_json::to_string_pretty(&report) {
            Ok(text) => text + "\n",
            Err(error) => return super::unwritten(&error),
        },
        UsageFormat::Prometheus => prometheus(&report),
    };
    if let Err(exit) = printed(&text) {
        return exit;
    }
    if errors > 0 {
        Exit::Findings
    } else {
        Exit::Success
    }
}

fn level_rank(level: &str) -> u8 {
    match level {
        "error" => 3,
        "warning" => 2,
        "info" => 1,
        _ => 0,
    }
}

/// An address of a recorded element.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Addr {
    V4(u32),
    V6(u128),
}

impl Addr {
    fn of(field: Field) -> Option<Addr> {
        match field {
            Field::V4(lo, hi) if lo == hi => Some(Addr::V4(lo)),
            Field::V6(lo, hi) if lo == hi => Some(Addr::V6(lo)),
            _ => None,
        }
    }

    fn ip(self) -> IpAddr {
        match self {
            Addr::V4(a) => IpAddr::V4(Ipv4Addr::from(a)),
            Addr::V6(a) => IpAddr::V6(Ipv6Addr::from(a)),
        }
    }

    fn is_in(self, set: &AddrSet) -> bool {
        match self {
            Addr::V4(a) => set.v4.contains(a),
            Addr::V6(a) => set.v6.contains(a),
        }
    }

    fn text(self) -> String {
        self.ip().to_string()
    }
}

/// An inventory entry's addresses `lo..=hi` (IPv4 as `u128`), and the
/// entry's index.
type Interval = (u128, u128, usize);

/// Names addresses and ports as the policy does; each address named once
/// (a full set holds 65,536 elements, most of them sharing their ends).
struct Namer<'a> {
    policy: &'a Policy,
    sources: &'a SourceMap,
    names: AddressNames,
    unknown: AddrSet,
    /// Per family (IPv4, IPv6): every inventory entry's address intervals
    /// by their start, with the entry's index, and the widest interval's
    /// width (0 when every entry's addresses are single addresses).
    entries: [(Vec<Interval>, u128); 2],
    named: std::cell::RefCell<BTreeMap<Addr, Rc<Peer>>>,
}

impl<'a> Namer<'a> {
    fn new(policy: &'a Policy, sources: &'a SourceMap) -> Namer<'a> {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for (index, entry) in policy.inventory.iter().enumerate() {
            let addresses = &entry.addresses;
            v4.extend(
                addresses
                    .v4
                    .intervals()
                    .iter()
                    .map(|&(lo, hi)| (u128::from(lo), u128::from(hi), index)),
            );
            v6.extend(
                addresses
                    .v6
                    .intervals()
                    .iter()
                    .map(|&(lo, hi)| (lo, hi, index)),
            );
        }
        let entries = [v4, v6].map(|mut family| {
            family.sort_unstable();
            let widest = family.iter().map(|&(lo, hi, _)| hi - lo).max().unwrap_or(0);
            (family, widest)
        });
        Namer {
            policy,
            sources,
            names: policy.address_names(),
            unknown: policy.unknown_watched(),
            entries,
            named: Default::default(),
        }
    }

    fn entry(&self, addr: Addr) -> Option<&InventoryEntry> {
        let (family, a) = match addr {
            Addr::V4(a) => (0, u128::from(a)),
            Addr::V6(a) => (1, a),
        };
        let (entries, widest) = &self.entries[family];
        // Only intervals starting within the widest width below can hold it.
        let start = entries.partition_point(|&(lo, _, _)| lo < a.saturating_sub(*widest));
        let end = entries.partition_point(|&(lo, _, _)| lo <= a);
        // The first entry that holds it, as a scan in inventory order would.
        entries[start..end]
            .iter()
            .filter(|&&(_, hi, _)| a <= hi)
            .map(|&(_, _, index)| index)
            .min()
            .map(|index| &self.policy.inventory[index])
    }

    fn peer(&self, addr: Addr) -> Rc<Peer> {
        if let Some(peer) = self.named.borrow().get(&addr) {
            return Rc::clone(peer);
        }
        let peer = Rc::new(self.name_peer(addr));
        self.named.borrow_mut().insert(addr, Rc::clone(&peer));
        peer
    }

    fn name_peer(&self, addr: Addr) -> Peer {
        let address = addr.text();
        if let Some(entry) = self.entry(addr) {
            return Peer {
                address,
                name: entry.name.clone(),
                inventory: Some(self.sources.file_line(entry.span)),
                labels: entry
                    .labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.iter().map(str::to_string).collect()))
                    .collect(),
            };
        }
        let name = match self.names.name_address(addr.ip()) {
            name if name == "in internet" => "internet".to_string(),
            name => name,
        };
        Peer {
            address,
            name,
            inventory: None,
            labels: BTreeMap::new(),
        }
    }

    /// The smallest named service (the policy's definitions, then the
    /// catalogue) that holds the port, if any.
    fn service(&self, proto: u8, port: u16) -> Option<String> {
        let key = service::key(proto, port);
        let size = |set: &service::ServiceSet| -> u64 {
            set.intervals()
                .iter()
                .map(|&(lo, hi)| u64::from(hi - lo) + 1)
                .sum()
        };
        let defined = self
            .policy
            .definitions
            .iter()
            .filter_map(|d| match &d.kind {
                NamedKind::Service(set) if set.contains(key) => Some((d.name.clone(), size(set))),
                _ => None,
            });
        let builtin = services::BUILTIN.iter().filter_map(|(name, items)| {
            let set = services::to_set(items);
            set.contains(key).then(|| (name.to_string(), size(&set)))
        });
        defined
            .chain(builtin)
            .min_by_key(|(_, size)| *size)
            .map(|(name, _)| name)
    }
}

/// What kind of finding a recorded flow is, by its set and its ends.
fn code_of(namer: &Namer<'_>, set: &str, src: Addr, dst: Addr) -> Option<Code> {
    let policy = namer.policy;
    let base = set.rsplit_once('_').map_or(set, |(base, _)| base);
    if nft::UNKNOWN_SETS.iter().any(|(name, _, _)| *name == base) {
        return Some(Code::UnknownDevice);
    }
    let (_, from, _) = nft::RECORD_SETS.iter().find(|(name, _, _)| *name == base)?;
    if *from {
        Some(if dst.is_in(&policy.bmcs) {
            Code::BmcTriedBmc
        } else if dst.is_in(&policy.internal) {
            Code::BmcTriedInternal
        } else {
            Code::BmcCalledOut
        })
    } else if src.is_in(&policy.bmcs) || src.is_in(&namer.unknown) {
        // Reported from the BMC's (lateral) or the unknown device's set.
        None
    } else if src.is_in(&policy.internal) {
        Some(Code::KnockFromInternal)
    } else {
        Some(Code::KnockFromInternet)
    }
}

/// Every element of the table's recording sets, with the code it is
/// reported under.
fn recorded(table: &Table, namer: &Namer<'_>, now: i64) -> Vec<(Code, Flow, String)> {
    let mut out = Vec::new();
    for set in table.ruleset.sets.iter() {
        let Some(record) = set.record else { continue };
        for (fields, counted) in set.elements.iter().zip(&set.counted) {
            let (Some(src), Some(dst)) = (
                fields.first().copied().and_then(Addr::of),
                fields.get(1).copied().and_then(Addr::of),
            ) else {
                continue;
            };
            let Some(code) = code_of(namer, &set.name, src, dst) else {
                continue;
            };
            let proto = match fields.get(2) {
                Some(Field::Proto(p, _)) => *p,
                _ => continue,
            };
            let port = match fields.get(3) {
                Some(Field::Port(p, _)) if has_ports(proto) => Some(*p),
                _ => None,
            };
            let Counted {
                packets,
                bytes,
                expires,
            } = *counted;
            out.push((
                code,
                Flow {
                    source: namer.peer(src),
                    destination: namer.peer(dst),
                    protocol: service::proto_name(proto),
                    port,
                    service: port.and_then(|port| namer.service(proto, port)),
                    packets,
                    bytes,
                    last_seen: now - i64::from(record.timeout.saturating_sub(expires)),
                    first_seen: None,
                    set: set.name.clone(),
                },
                sensor::flow_key(&set.name, fields),
            ));
        }
    }
    out
}

/// The recording sets that hold as many elements as they may.
fn full_sets(table: &Table) -> Vec<(String, u32)> {
    table
        .ruleset
        .sets
        .iter()
        .filter_map(|set| {
            let record = set.record?;
            (record.size > 0 && set.elements.len() >= record.size as usize)
                .then(|| (set.name.clone(), record.size))
        })
        .collect()
}

/// With `--state`: each flow's totals over the lives of its element and
/// its first-seen time; flows the kernel no longer holds are kept with
/// their totals (their element expired, or the table was reloaded).
fn keep(kept: &mut sensor::TableState, flows: &mut [(Code, Flow, String)], now: i64) {
    let live: std::collections::BTreeSet<&String> = flows.iter().map(|(_, _, key)| key).collect();
    for (key, old) in kept.flows.iter_mut() {
        if !live.contains(key) && old.live_packets > 0 {
            old.take(0, 0, None, now);
        }
    }
    for (_, flow, key) in flows.iter_mut() {
        let entry = kept.flows.entry(key.clone()).or_insert_with(|| Kept {
            first_seen: flow.last_seen,
            last_seen: flow.last_seen,
            ..Kept::default()
        });
        let (packets, bytes) = entry.take(flow.packets, flow.bytes, None, now);
        entry.last_seen = entry.last_seen.max(flow.last_seen);
        flow.packets = packets;
        flow.bytes = bytes;
        flow.first_seen = Some(entry.first_seen);
        flow.last_seen = entry.last_seen;
    }
}

/// One finding per code and device: the BMC that tried, the unknown
/// device, the BMC knocked at.
fn group(flows: Vec<(Code, Flow, String)>, gateway: Option<&str>) -> Vec<Finding> {
    let mut groups: BTreeMap<(Code, String), Vec<Flow>> = BTreeMap::new();
    for (code, flow, _) in flows {
        let device = match code {
            Code::KnockFromInternet | Code::KnockFromInternal => flow.destination.address.clone(),
            _ => flow.source.address.clone(),
        };
        groups.entry((code, device)).or_default().push(flow);
    }
    groups
        .into_iter()
        .map(|((code, _), mut flows)| {
            flows.sort_by(|a, b| {
                b.packets
                    .cmp(&a.packets)
                    .then(a.set.cmp(&b.set))
                    .then(a.destination.address.cmp(&b.destination.address))
                    .then(a.source.address.cmp(&b.source.address))
                    .then(a.port.cmp(&b.port))
            });
            let first = &flows[0];
            let message = match code {
                Code::BmcCalledOut => format!("BMC {} tried the internet", who(&first.source)),
                Code::BmcTriedBmc => format!("BMC {} tried other BMCs", who(&first.source)),
                Code::BmcTriedInternal => {
                    format!("BMC {} tried internal hosts", who(&first.source))
                }
                Code::UnknownDevice => {
                    format!("unknown device {} on a watched network", who(&first.source))
                }
                Code::KnockFromInternet => {
                    format!("the internet tried BMC {}", who(&first.destination))
                }
                _ => format!("internal addresses tried BMC {}", who(&first.destination)),
            };
            Finding {
                kind: code,
                code: code.as_str(),
                name: code.name(),
                level: "",
                gateway: gateway.map(str::to_string),
                message,
                packets: flows.iter().map(|f| f.packets).sum(),
                bytes: flows.iter().map(|f| f.bytes).sum(),
                flows,
            }
        })
        .collect()
}

/// `bmc-a1 (10.1.0.11; bmcs.yaml:3: rack=a, site=ams1)`, `10.1.0.250 (in mgmt)`.
fn who(peer: &Peer) -> String {
    if peer.inventory.is_none() {
        return format!("{} ({})", peer.address, peer.name);
    }
    let mut out = format!("{} ({}", peer.name, peer.address);
    if let Some(place) = &peer.inventory {
        let _ = write!(out, "; {place}");
    }
    if !peer.labels.is_empty() {
        let labels: Vec<String> = peer
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={}", v.join("|")))
            .collect();
        let _ = write!(out, ": {}", labels.join(", "));
    }
    out.push(')');
    out
}

/// A flow's far end (the one the finding is not about), service and counts.
fn flow_line(code: Code, flow: &Flow) -> String {
    let knock = matches!(code, Code::KnockFromInternet | Code::KnockFromInternal);
    let (arrow, peer) = if knock {
        ("<-", &flow.source)
    } else {
        ("->", &flow.destination)
    };
    let mut line = format!("{arrow} {} {}", who(peer), flow.protocol);
    if let Some(port) = flow.port {
        let _ = write!(line, " {port}");
    }
    if let Some(service) = &flow.service {
        let _ = write!(line, " ({service})");
    }
    let _ = write!(
        line,
        ": {} packets, {} bytes, last seen {}",
        flow.packets,
        flow.bytes,
        crate::model::utc_text(flow.last_seen)
    );
    if let Some(first) = flow.first_seen {
        let _ = write!(line, ", first seen {}", crate::model::utc_text(first));
    }
    line
}

fn human(report: &Report, tables: &[Table]) -> String {
    let mut out = String::new();
    for table in tables {
        let gateway = table
            .gateway
            .as_deref()
            .map_or(String::new(), |g| format!("gateway {g}: "));
        let _ = writeln!(
            out,
            "{gateway}table inet {} in {}",
            report.table, table.place
        );
    }
    for finding in &report.findings {
        let gateway = finding
            .gateway
            .as_deref()
            .filter(|_| tables.len() > 1)
            .map_or(String::new(), |g| format!(" [{g}]"));
        let _ = writeln!(
            out,
            "{}[{}] {}{gateway}: {}",
            finding.level, finding.code, finding.name, finding.message
        );
        for flow in &finding.flows {
            let _ = writeln!(out, "    {}", flow_line(finding.kind, flow));
        }
    }
    let count = |level: &str| report.summary.get(level).copied().unwrap_or(0);
    if report.findings.is_empty() {
        out.push_str("no denied flow of a BMC or a watched network was recorded\n");
    } else {
        let line = super::render::levels_line(count("error"), count("warning"), count("info"));
        let _ = writeln!(out, "{line}");
    }
    out
}

/// A node_exporter textfile: denied packets per BMC, direction and peer
/// class (bounded by the BMCs, times two directions and four classes),
/// unknown devices as one count, and the full sets.
fn prometheus(report: &Report) -> String {
    let mut denied: BTreeMap<(String, &str, &str), u64> = BTreeMap::new();
    let mut unknown = std::collections::BTreeSet::new();
    let mut unknown_packets = 0;
    let mut full = Vec::new();
    for finding in &report.findings {
        let (direction, class) = match finding.kind {
            Code::BmcCalledOut => ("from", "internet"),
            Code::BmcTriedBmc => ("from", "bmc"),
            Code::BmcTriedInternal => ("from", "internal"),
            Code::KnockFromInternet => ("to", "internet"),
            Code::KnockFromInternal => ("to", "internal"),
            Code::UnknownDevice => {
                for flow in &finding.flows {
                    unknown.insert(flow.source.address.clone());
                    unknown_packets += flow.packets;
                }
                continue;
            }
            _ => {
                full.push(finding.message.clone());
                continue;
            }
        };
        for flow in &finding.flows {
            let bmc = if direction == "from" {
                &flow.source
            } else {
                &flow.destination
            };
            *denied
                .entry((bmc.name.clone(), direction, class))
                .or_default() += flow.packets;
        }
    }
    let mut out = String::new();
    let metric = "bmcwall_bmc_denied_packets_total";
    let _ = writeln!(
        out,
        "# HELP {metric} Denied packets of flows from or to each BMC that the table recorded, by the class of the other end."
    );
    let _ = writeln!(out, "# TYPE {metric} counter");
    for ((bmc, direction, class), packets) in &denied {
        let _ = writeln!(
            out,
            "{metric}{{bmc=\"{}\",direction=\"{direction}\",peer_class=\"{class}\"}} {packets}",
            label_value(bmc)
        );
    }
    for (metric, help, kind, value) in [
        (
            "bmcwall_unknown_devices",
            "Addresses on watched networks that the policy does not know and that sent denied flows.",
            "gauge",
            unknown.len() as u64,
        ),
        (
            "bmcwall_unknown_device_denied_packets_total",
            "Denied packets the unknown devices on watched networks sent.",
            "counter",
            unknown_packets,
        ),
        (
            "bmcwall_recording_sets_full",
            "Recording sets that hold as many elements as they may.",
            "gauge",
            full.len() as u64,
        ),
    ] {
        let _ = writeln!(out, "# HELP {metric} {help}");
        let _ = writeln!(out, "# TYPE {metric} {kind}");
        let _ = writeln!(out, "{metric} {value}");
    }
    out
}

/// A Prometheus label value: hidden controls shown as `\u{..}`, then
/// backslash, quote and newline escaped.
fn label_value(text: &str) -> String {
    escape_line(text)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
