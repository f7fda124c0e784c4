//! The `sets` layout: the allowed part of the decision table as verdict maps,
//! in two steps. A packet's source address picks, in one map lookup, the
//! chain of its row of the table (source classes allowed the same flows share
//! a row); that chain looks up destination, protocol and port in the row's
//! own maps, whose verdicts accept, or log and accept. A packet the row does
//! not accept returns to the base chain, where one set per family holds the
//! denied flows that are logged, and is dropped. Each packet meets a
//! constant number of rules whatever the policy's size, and a lookup searches
//! one row, not the whole allowed space.
//!
//! # The table
//!
//! One table, `table inet NAME`: the allowed part of the decision table as verdict maps,
//! looked up in two steps.
//!
//! ```text
//! chain forward { type filter hook forward priority filter; policy accept;
//!     ct state { established, related } accept          # replies to allowed flows
//!     ct state invalid drop
//!     ip saddr != @scope_v4 ip daddr != @scope_v4 accept    # not ours to govern
//!     ip6 saddr != @scope_v6 ip6 daddr != @scope_v6 accept
//!     ip saddr vmap @sources_v4                          # source -> jump rowN_v4
//!     ip6 saddr vmap @sources_v6
//!     ... @log_deny_*    limit + log
//!     drop
//! }
//! chain rowN_v4 {
//!     meta l4proto { tcp, udp } ip daddr . meta l4proto . th dport vmap @rowN_ports_v4
//!     ip daddr . meta l4proto vmap @rowN_proto_v4        # accept | goto log_allow
//! }
//! chain log_allow { limit rate 10/second burst 20 packets log prefix "bmcwall allow: "; accept }
//! ```
//!
//! A row is what one source class is allowed: per destination class, the services it
//! may use and whether the rule that allows them logs. Source classes with the same row
//! share it (`sources_v4` maps each of their intervals to `jump rowN_v4`); classes allowed
//! nothing are not in the map. A row's chain looks up destination, protocol and port in
//! its own maps (`rowN_ports_v4`: `ipv4_addr . inet_proto . inet_service`, TCP and UDP,
//! behind `meta l4proto { tcp, udp }`; `rowN_proto_v4`: `ipv4_addr . inet_proto`, other
//! protocols), whose verdicts are `accept` or `goto log_allow`; destination classes that
//! get the same services merge into one box first. Only cells in scope are written (the
//! scope rule accepts the others before). A packet its row does not accept returns to the
//! base chain: the logged-deny sets (`log_deny_ports_v4`, source . destination .
//! protocol . port, made with `region::blocks`; allowed cells are added to them freely,
//! since they never get there, which merges them into few elements) log it, and `drop`
//! drops it. Elements are disjoint and sorted. A packet meets at most 13 rules whatever
//! the policy's size, and a lookup searches one row's map, not the whole allowed space:
//! at 10,000 BMCs the largest row map has 7,639 elements, where one set of the whole
//! space had 111,784. Both forms add the table, delete it and add it in full, so loading
//! replaces it atomically whether or not it existed; the JSON form adds sets, then
//! chains, then maps (their elements name chains), then rules.

use super::{
    log_chain, log_statements, prelude, ruleset, AddrField, Chain, FamilySpec, Field, Input,
    KeyType, Match, Rule, Ruleset, Selector, Set, Statement, LOG_ALLOW_CHAIN, LOG_ALLOW_PREFIX,
    LOG_DENY_CHAIN, LOG_DENY_PREFIX, V4, V6,
};
use crate::addr::service::{self, ServicePiece};
use crate::addr::{restrict_box, IntervalSet};
use crate::analysis::region::{blocks, blocks_with, Block};
use crate::analysis::{Analysis, FamilyTable, FlowBox, Input as AnalysisInput};
use crate::model::Action;
use crate::resolve::{Policy, PolicyRule};
use std::collections::HashMap;

/// What a row map does with an allowed cell. Denied cells, and cells that
/// connection tracking and scope settle before, are not in the rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Accept,
    LogAllow,
}

const OUTCOMES: [Outcome; 2] = [Outcome::Accept, Outcome::LogAllow];

impl Outcome {
    fn verdict(self) -> Statement {
        match self {
            Outcome::Accept => Statement::Accept,
            Outcome::LogAllow => Statement::Goto(LOG_ALLOW_CHAIN.into()),
        }
    }
}

/// The table of `input`. When rules in force have `until` dates, the maps are
/// the table of the rules without one, and each `until` rule comes first, in
/// policy order, as sets of the flows it takes from the rules after it (its
/// flows but those of the earlier rules without `until`), matched only while
/// `meta time` is before the day after its date. An earlier `until` rule in
/// force decides first; an expired one matches nothing, and its flows go on
/// to the later rules. The kernel so stops each rule on time, without a
/// recompile. Those rules are in chain `until_rules`, which only packets in some
/// `until` rule's flows jump to (one set lookup for the others), and none
/// after the last date.
pub(super) fn build(input: Input<'_>, table: &str) -> Ruleset {
    let policy = input.policy;
    let until: Vec<usize> = policy
        .active_rules()
        .filter(|(_, rule)| rule.until.is_some())
        .map(|(index, _)| index)
        .collect();
    if until.is_empty() {
        return build_one(input, table);
    }
    let mut permanent = policy.clone();
    for &index in &until {
        permanent.rules[index].expired = true;
    }
    let analysis = Analysis::new(&permanent);
    let mut ruleset = build_one(
        Input {
            policy: &permanent,
            analysis: &analysis,
            sources: input.sources,
        },
        table,
    );
    let prelude_len = prelude(policy, &mut Vec::new()).len();
    let mut timed = Vec::new();
    let mut log_chains = Vec::new();
    let mut last_second = i64::MIN;
    for &index in &until {
        let rule = &policy.rules[index];
        let Some((date, _)) = rule.until else {
            continue;
        };
        last_second = last_second.max(super::expiry_second(date));
        // The earlier rules without `until` that share flows with it.
        let mut boxes: Vec<(usize, FlowBox<'_>)> = policy
            .active_rules()
            .take_while(|&(other, _)| other < index)
            .filter(|(_, other)| other.until.is_none() && overlaps(other, rule))
            .map(|(other, r)| (other, FlowBox::of_rule(r)))
            .collect();
        boxes.push((index, FlowBox::of_rule(rule)));
        let own = Analysis::from_boxes(&AnalysisInput {
            rules: boxes,
            cuts: Vec::new(),
            scope: &policy.scope,
        });
        let last = own.rules.len() - 1;
        let verdict = match (rule.action, rule.log) {
            (Action::Allow, false) => Statement::Accept,
            (Action::Deny, false) => Statement::Drop,
            (Action::Allow, true) => Statement::Goto(LOG_ALLOW_CHAIN.into()),
            (Action::Deny, true) => Statement::Goto(LOG_DENY_CHAIN.into()),
        };
        if let Statement::Goto(chain) = &verdict {
            log_chains.push(chain.clone());
        }
        let name = format!("until{}", index + 1);
        let families = [
            family_sets(&V4, &name, &blocks(&own, &own.v4, |o| o == last)),
            family_sets(&V6, &name, &blocks(&own, &own.v6, |o| o == last)),
        ];
        for (set, matches) in families.into_iter().flatten() {
            ruleset.sets.push(set);
            let mut all = vec![Match::Time {
                before: true,
                at: super::expiry_second(date),
            }];
            all.extend(matches);
            timed.push(Rule::new(all, vec![verdict.clone()]));
        }
    }
    for (name, prefix, verdict) in [
        (LOG_ALLOW_CHAIN, LOG_ALLOW_PREFIX, Statement::Accept),
        (LOG_DENY_CHAIN, LOG_DENY_PREFIX, Statement::Drop),
    ] {
        let needed = log_chains.iter().any(|c| c == name);
        if needed && !ruleset.chains.iter().any(|c| c.name == name) {
            ruleset.chains.insert(0, log_chain(name, prefix, verdict));
        }
    }
    // Every `until` rule's flows, for the one lookup that sends packets to
    // their chain.
    let all = Analysis::from_boxes(&AnalysisInput {
        rules: until
            .iter()
            .map(|&index| (index, FlowBox::of_rule(&policy.rules[index])))
            .collect(),
        cuts: Vec::new(),
        scope: &policy.scope,
    });
    let mut entry = Vec::new();
    let families = [
        family_sets(&V4, UNTIL_CHAIN, &blocks(&all, &all.v4, |_| true)),
        family_sets(&V6, UNTIL_CHAIN, &blocks(&all, &all.v6, |_| true)),
    ];
    for (set, matches) in families.into_iter().flatten() {
        ruleset.sets.push(set);
        let mut all = vec![Match::Time {
            before: true,
            at: last_second,
        }];
        all.extend(matches);
        entry.push(Rule::new(all, vec![Statement::Jump(UNTIL_CHAIN.into())]));
    }
    let base = ruleset.chains.len() - 1;
    ruleset.chains.insert(
        base,
        Chain {
            name: UNTIL_CHAIN.into(),
            hook: None,
            rules: timed,
        },
    );
    ruleset
        .base_chain_mut()
        .rules
        .splice(prelude_len..prelude_len, entry);
    ruleset
}

/// The chain of the `until` rules.
const UNTIL_CHAIN: &str = "until_rules";

/// Whether two rules match some flow in common.
fn overlaps(a: &PolicyRule, b: &PolicyRule) -> bool {
    a.src.intersects(&b.src) && a.dst.intersects(&b.dst) && a.services.intersects(&b.services)
}

/// The table of `input` as it stands: the rules in force decide.
fn build_one(input: Input<'_>, table: &str) -> Ruleset {
    let Input {
        policy, analysis, ..
    } = input;
    let mut sets = Vec::new();
    let mut rules = prelude(policy, &mut sets);
    let mut row_chains = Vec::new();
    let mut logs_allow = false;
    let v4 = family(policy, analysis, &analysis.v4, &V4, &mut logs_allow);
    let v6 = family(policy, analysis, &analysis.v6, &V6, &mut logs_allow);
    for part in [v4, v6].into_iter().flatten() {
        sets.push(part.dispatch);
        sets.extend(part.maps);
        rules.push(part.rule);
        row_chains.extend(part.chains);
    }
    // Logged denies: the cells a logging deny rule decides. The allowed cells
    // never get here (their rows accepted them), so they are added freely:
    // they let the region merge into far fewer elements.
    // In a gateway's table, flows out of its scope never get here either.
    let free_outside = !policy.gateways.is_empty();
    let logged_deny = |ordinal: usize| {
        let rule = &policy.rules[analysis.rules[ordinal]];
        rule.action == Action::Allow || rule.log
    };
    let logs_deny = |v4: bool| {
        policy.active_rules().any(|(_, r)| {
            let (src, dst) = if v4 {
                (!r.src.v4.is_empty(), !r.dst.v4.is_empty())
            } else {
                (!r.src.v6.is_empty(), !r.dst.v6.is_empty())
            };
            r.action == Action::Deny && r.log && src && dst
        })
    };
    let mut deny_sets = Vec::new();
    if logs_deny(true) {
        let blocks = blocks_with(analysis, &analysis.v4, logged_deny, free_outside);
        let governed = free_outside.then_some(&policy.scope.v4);
        deny_sets.extend(logged_sets(&V4, &blocks, governed));
    }
    if logs_deny(false) {
        let blocks = blocks_with(analysis, &analysis.v6, logged_deny, free_outside);
        let governed = free_outside.then_some(&policy.scope.v6);
        deny_sets.extend(logged_sets(&V6, &blocks, governed));
    }
    for (set, matches) in deny_sets {
        sets.push(set);
        // A set a later lookup also reads has no rule of its own.
        if !matches.is_empty() {
            rules.push(Rule::new(matches, log_statements(LOG_DENY_PREFIX)));
        }
    }
    rules.push(Rule::new(Vec::new(), vec![Statement::Drop]));
    // Every goto and jump target comes before the rules that name it.
    let mut chains = Vec::new();
    if logs_allow {
        chains.push(log_chain(
            LOG_ALLOW_CHAIN,
            LOG_ALLOW_PREFIX,
            Statement::Accept,
        ));
    }
    chains.extend(row_chains);
    ruleset(table, sets, chains, rules)
}

/// One family's part of the table: the map from source address to row chain,
/// the rule that looks it up, and each row's chain and maps.
struct FamilyPart {
    dispatch: Set,
    rule: Rule,
    chains: Vec<Chain>,
    maps: Vec<Set>,
}

/// A row of the table: the source classes that share it, and its cells that
/// a map decides.
struct Row {
    sources: Vec<usize>,
    cells: Cells,
}

/// Cells as `(destination class, outcome, word, service class bits)`, in that
/// order, with the zero words left out.
type Cells = Vec<(u32, u8, u16, u64)>;

/// One family's part of the table, or `None` when no source class is allowed
/// anything in it; sets `logs_allow` when a row logs what it accepts.
fn family<T: AddrField>(
    policy: &Policy,
    analysis: &Analysis,
    table: &FamilyTable<T>,
    spec: &FamilySpec,
    logs_allow: &mut bool,
) -> Option<FamilyPart> {
    let words = analysis.services.len().div_ceil(64);
    let outcomes = rule_outcomes(policy, analysis);
    let row_bits = outcome_bits(table, &outcomes, words);
    let rows = distinct_rows(table, analysis.layout.scope_bit(), &row_bits, words);
    if rows.is_empty() {
        return None;
    }
    let suffix = spec.suffix;
    let mut dispatch = Vec::new();
    let mut chains = Vec::new();
    let mut maps = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        let chain = format!("row{}_{suffix}", r + 1);
        let sources = IntervalSet::from_intervals(
            row.sources
                .iter()
                .flat_map(|&s| table.src.classes[s].intervals().iter().copied())
                .collect(),
        );
        for &(lo, hi) in sources.intervals() {
            dispatch.push((vec![T::field(lo, hi)], Statement::Jump(chain.clone())));
        }
        let (ported, bare) = row_elements(analysis, table, row, words, logs_allow);
        chains.push(row_chain(spec, r, chain, ported, bare, &mut maps));
    }
    let name = format!("sources_{suffix}");
    Some(FamilyPart {
        dispatch: verdict_map(&name, vec![spec.addr], dispatch),
        rule: Rule::new(
            Vec::new(),
            vec![Statement::Vmap {
                key: vec![spec.saddr],
                map: name,
            }],
        ),
        chains,
        maps,
    })
}

/// Per rule ordinal, what its cells become: an outcome if it allows, `None` if it denies.
fn rule_outcomes(policy: &Policy, analysis: &Analysis) -> Vec<Option<Outcome>> {
    analysis
        .rules
        .iter()
        .map(|&i| {
            let rule = &policy.rules[i];
            match (rule.action, rule.log) {
                (Action::Allow, false) => Some(Outcome::Accept),
                (Action::Allow, true) => Some(Outcome::LogAllow),
                (Action::Deny, _) => None,
            }
        })
        .collect()
}

/// The service bits of each distinct pair row of the table, per outcome.
fn outcome_bits<T: AddrField>(
    table: &FamilyTable<T>,
    outcomes: &[Option<Outcome>],
    words: usize,
) -> Vec<Vec<u64>> {
    table
        .rows()
        .map(|row| {
            let mut bits = vec![0u64; OUTCOMES.len() * words];
            for (v, ordinal) in row.decided() {
                if let Some(outcome) = outcomes[ordinal] {
                    bits[outcome as usize * words + v / 64] |= 1 << (v % 64);
                }
            }
            bits
        })
        .collect()
}

/// The distinct rows of the table's source classes, cells in scope only,
/// numbered in the order of their first source class.
fn distinct_rows<T: AddrField>(
    table: &FamilyTable<T>,
    scope: usize,
    row_bits: &[Vec<u64>],
    words: usize,
) -> Vec<Row> {
    // Each distinct row's cells, with its number and sources.
    let mut row_of: HashMap<Cells, (usize, Vec<usize>)> = HashMap::new();
    let mut cells = Vec::new();
    for s in 0..table.src.len() {
        cells.clear();
        let src_in_scope = table.src.membership[s].get(scope);
        for (d, id, _) in table.pairs(s) {
            // Flows with both ends outside the scope are accepted before.
            if !src_in_scope && !table.dst.membership[d].get(scope) {
                continue;
            }
            for (i, &bits) in row_bits[id].iter().enumerate() {
                if bits != 0 {
                    cells.push((d as u32, (i / words) as u8, (i % words) as u16, bits));
                }
            }
        }
        if cells.is_empty() {
            continue;
        }
        match row_of.get_mut(&cells) {
            Some((_, sources)) => sources.push(s),
            None => {
                let number = row_of.len();
                row_of.insert(std::mem::take(&mut cells), (number, vec![s]));
            }
        }
    }
    let mut numbered: Vec<(usize, Row)> = row_of
        .into_iter()
        .map(|(cells, (number, sources))| (number, Row { sources, cells }))
        .collect();
    numbered.sort_unstable_by_key(|(number, _)| *number);
    numbered.into_iter().map(|(_, row)| row).collect()
}

/// Map elements with their verdicts.
type VerdictElements = Vec<(Vec<Field>, Statement)>;

/// A row's map elements: TCP and UDP with ports, and other protocols without;
/// sets `logs_allow` when the row logs what it accepts.
fn row_elements<T: AddrField>(
    analysis: &Analysis,
    table: &FamilyTable<T>,
    row: &Row,
    words: usize,
    logs_allow: &mut bool,
) -> (VerdictElements, VerdictElements) {
    let service_count = analysis.services.len();
    let mut ported = Vec::new();
    let mut bare = Vec::new();
    for outcome in OUTCOMES {
        // Each destination class's service bits, then the classes
        // grouped by the services they get.
        let mut services_of: Vec<(usize, Vec<u64>)> = Vec::new();
        for &(d, o, w, bits) in &row.cells {
            if o != outcome as u8 {
                continue;
            }
            let d = d as usize;
            if services_of.last().is_none_or(|(last, _)| *last != d) {
                services_of.push((d, vec![0; words]));
            }
            if let Some((_, all)) = services_of.last_mut() {
                all[usize::from(w)] = bits;
            }
        }
        let mut by_services: HashMap<&[u64], Vec<usize>> = HashMap::new();
        for (d, bits) in &services_of {
            by_services.entry(bits).or_default().push(*d);
        }
        if outcome == Outcome::LogAllow && !by_services.is_empty() {
            *logs_allow = true;
        }
        for (bits, dsts) in by_services {
            let services = IntervalSet::from_intervals(
                (0..service_count)
                    .filter(|&v| bits[v / 64] & (1 << (v % 64)) != 0)
                    .flat_map(|v| analysis.services.classes[v].intervals().iter().copied())
                    .collect(),
            );
            let dst = IntervalSet::from_intervals(
                dsts.iter()
                    .flat_map(|&d| table.dst.classes[d].intervals().iter().copied())
                    .collect(),
            );
            let pieces = service::pieces(&services);
            for &(lo, hi) in dst.intervals() {
                let d = T::field(lo, hi);
                for piece in &pieces {
                    match *piece {
                        ServicePiece::Ports { proto, lo, hi } => ported.push((
                            vec![d, Field::Proto(proto, proto), Field::Port(lo, hi)],
                            outcome.verdict(),
                        )),
                        ServicePiece::Protocols { lo, hi } => {
                            bare.push((vec![d, Field::Proto(lo, hi)], outcome.verdict()))
                        }
                    }
                }
            }
        }
    }
    (ported, bare)
}

/// Row `r`'s chain, named `chain`, with the rules that look up its maps; the
/// maps that are not empty go to `maps`.
fn row_chain(
    spec: &FamilySpec,
    r: usize,
    chain: String,
    ported: VerdictElements,
    bare: VerdictElements,
    maps: &mut Vec<Set>,
) -> Chain {
    let suffix = spec.suffix;
    let mut rules = Vec::new();
    if !ported.is_empty() {
        let name = format!("row{}_ports_{suffix}", r + 1);
        maps.push(verdict_map(
            &name,
            vec![spec.addr, KeyType::InetProto, KeyType::InetService],
            ported,
        ));
        rules.push(Rule::new(
            vec![Match::L4protoIn(vec![service::TCP, service::UDP])],
            vec![Statement::Vmap {
                key: vec![spec.daddr, Selector::L4proto, Selector::ThDport],
                map: name,
            }],
        ));
    }
    if !bare.is_empty() {
        let name = format!("row{}_proto_{suffix}", r + 1);
        maps.push(verdict_map(
            &name,
            vec![spec.addr, KeyType::InetProto],
            bare,
        ));
        rules.push(Rule::new(
            Vec::new(),
            vec![Statement::Vmap {
                key: vec![spec.daddr, Selector::L4proto],
                map: name,
            }],
        ));
    }
    Chain {
        name: chain,
        hook: None,
        rules,
    }
}

/// A verdict map of `elements`, sorted.
fn verdict_map(name: &str, key: Vec<KeyType>, mut elements: VerdictElements) -> Set {
    elements.sort_by(|a, b| a.0.cmp(&b.0));
    let (elements, verdicts) = elements.into_iter().unzip();
    Set {
        name: name.to_string(),
        key,
        elements,
        verdicts: Some(verdicts),
    }
}

/// The two sets of one region in one family (TCP/UDP with ports, other
/// protocols without), with the matches that look them up. Empty sets are left
/// out.
/// A box of more elements than this as one concatenated set is a rule of its
/// own with a set per dimension, in a gateway's table (in unit tests, almost
/// every box, so that the property tests read both kinds).
const SPLIT_ELEMENTS: usize = if cfg!(test) { 2 } else { 64 };

/// The logged-deny sets of one family and the matches that look them up. In
/// a gateway's table (`split`), a box whose concatenated elements (source
/// intervals times destination intervals times service pieces) would be more
/// than [`SPLIT_ELEMENTS`] is looked up dimension by dimension instead, in
/// sets of their sum: a gateway logs its BMCs' attempts to reach every other
/// BMC of the fleet, and that product grows with the fleet.
fn logged_sets<T: AddrField>(
    spec: &FamilySpec,
    blocks: &[Block<T>],
    governed: Option<&IntervalSet<T>>,
) -> Vec<(Set, Vec<Match>)> {
    let split = governed.is_some();
    let size = |b: &Block<T>| {
        b.src.intervals().len() * b.dst.intervals().len() * service::pieces(&b.services).len()
    };
    let (large, small): (Vec<&Block<T>>, Vec<&Block<T>>) = blocks
        .iter()
        .partition(|b| split && size(b) > SPLIT_ELEMENTS);
    // Only the flows in scope get here: the box holds no more.
    let large: Vec<Block<T>> = large
        .into_iter()
        .filter_map(|b| {
            let mut b = b.clone();
            restrict_box(&mut b.src, &mut b.dst, governed?);
            (!b.src.is_empty()).then_some(b)
        })
        .collect();
    let small: Vec<Block<T>> = small.into_iter().cloned().collect();
    let mut out = family_sets(spec, "log_deny", &small);
    // An element with both ends out of scope matches nothing that gets here.
    if let Some(governed) = governed {
        let inside = |field: &Field| {
            T::range(field)
                .is_some_and(|(lo, hi)| governed.intersects(&IntervalSet::interval(lo, hi)))
        };
        for (set, _) in &mut out {
            set.elements.retain(|e| inside(&e[0]) || inside(&e[1]));
        }
        out.retain(|(set, _)| !set.elements.is_empty());
    }
    for (n, block) in large.iter().enumerate() {
        let name = |part: &str| format!("log_deny{}_{part}_{}", n + 1, spec.suffix);
        let addresses = |set: &IntervalSet<T>| -> Vec<Vec<Field>> {
            set.intervals()
                .iter()
                .map(|&(lo, hi)| vec![T::field(lo, hi)])
                .collect()
        };
        let (src, dst) = (name("src"), name("dst"));
        let ends = [
            (src.clone(), spec.saddr, addresses(&block.src)),
            (dst.clone(), spec.daddr, addresses(&block.dst)),
        ];
        let mut ports = Vec::new();
        let mut protos = Vec::new();
        for piece in service::pieces(&block.services) {
            match piece {
                ServicePiece::Ports { proto, lo, hi } => {
                    ports.push(vec![Field::Proto(proto, proto), Field::Port(lo, hi)])
                }
                ServicePiece::Protocols { lo, hi } => protos.push(vec![Field::Proto(lo, hi)]),
            }
        }
        let lookups = [
            (
                name("ports"),
                vec![KeyType::InetProto, KeyType::InetService],
                vec![Selector::L4proto, Selector::ThDport],
                ports,
            ),
            (
                name("proto"),
                vec![KeyType::InetProto],
                vec![Selector::L4proto],
                protos,
            ),
        ];
        let mut first = true;
        for (set, key, selectors, elements) in lookups {
            if elements.is_empty() {
                continue;
            }
            let mut matches: Vec<Match> = ends
                .iter()
                .map(|(name, selector, _)| Match::InSet {
                    key: vec![*selector],
                    set: name.clone(),
                    negate: false,
                })
                .collect();
            matches.push(Match::InSet {
                key: selectors,
                set: set.clone(),
                negate: false,
            });
            // The address sets go with the first lookup that uses them.
            if first {
                for (name, _, elements) in &ends {
                    out.push((
                        Set {
                            name: name.clone(),
                            key: vec![spec.addr],
                            elements: elements.clone(),
                            verdicts: None,
                        },
                        Vec::new(),
                    ));
                }
                first = false;
            }
            out.push((
                Set {
                    name: set,
                    key,
                    elements,
                    verdicts: None,
                },
                matches,
            ));
        }
    }
    out
}

fn family_sets<T>(spec: &FamilySpec, prefix: &str, blocks: &[Block<T>]) -> Vec<(Set, Vec<Match>)>
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
    if !ported.is_empty() {
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
                verdicts: None,
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
    if !bare.is_empty() {
        out.push((
            Set {
                name: proto_name.clone(),
                key: vec![spec.addr, spec.addr, KeyType::InetProto],
                elements: bare,
                verdicts: None,
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
