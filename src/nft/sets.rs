//! The `sets` layout: the allowed part of the decision table as verdict maps,
//! in two steps. A packet's source address picks, in one map lookup, the
//! chain of its row of the table (source classes allowed the same flows share
//! a row); that chain looks up destination, protocol and port in the row's
//! own maps, whose verdicts go to the chain of the rule that allows the cell,
//! which counts it in the rule's named counter and accepts (or logs and
//! accepts). A packet the row does not accept returns to the base chain,
//! where each deny rule, in policy order, looks up its own flows and goes to
//! its chain (count, then drop or log and drop), and the rest is counted as
//! matching no rule and dropped. Each allowed packet meets a constant number
//! of rules whatever the policy's size, and a lookup searches one row, not
//! the whole allowed space.
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
//!     ip saddr @deny_partners_v4 ip daddr @deny_site_v4 meta l4proto . th dport @deny_https_ports goto deny_<hash>
//!     counter name "no_rule_matched" drop
//! }
//! chain rowN_v4 {
//!     meta l4proto { tcp, udp } ip daddr . meta l4proto . th dport vmap @rowN_ports_v4
//!     ip daddr . meta l4proto vmap @rowN_proto_v4        # goto allow_<hash>
//! }
//! chain allow_<hash> { counter name "allow_<hash>" accept comment "ams1.wall:16: ..." }
//! chain log_allow { limit rate 10/second burst 20 packets log prefix "bmcwall allow: "; accept }
//! ```
//!
//! A row is what one source class is allowed: per destination class, the services it
//! may use and the rule that allows each. Source classes with the same row share it
//! (`sources_v4` maps each of their intervals to `jump rowN_v4`); classes allowed
//! nothing are not in the map. A row's chain looks up destination, protocol and port in
//! its own maps (`rowN_ports_v4`: `ipv4_addr . inet_proto . inet_service`, TCP and UDP,
//! behind `meta l4proto { tcp, udp }`; `rowN_proto_v4`: `ipv4_addr . inet_proto`, other
//! protocols), whose verdicts are `goto` the deciding rule's chain; destination classes
//! that get the same services from the same rule merge into one element first, never
//! across rules, so a packet counts for the rule that decided it (first match). Only
//! cells in scope are written (the scope rule accepts the others before). Each rule's
//! chain is named as its counter ([`super::counter_names`]). A packet its row does not
//! accept returns to the base chain: the deny rules, in policy order, as the `rules`
//! layout writes them (sets named `deny_...`), each `goto` its chain; a flow in a deny
//! rule's box that gets there is that rule's, since allowed flows were accepted and an
//! earlier deny rule's flows met its lookup first. What is left matched no rule:
//! counted in `no_rule_matched` and dropped. Elements are disjoint and sorted. An
//! allowed packet meets a constant number of rules whatever the policy's size (its
//! rule's chain among them), a denied one also each deny rule's lookup, and a
//! lookup searches one row's map, not the whole allowed space. Both forms add the table, delete it and add it in full, so loading
//! replaces it atomically whether or not it existed; the JSON form adds sets, then
//! chains, then maps (their elements name chains), then rules.

use super::{
    log_chain, prelude, ruleset, AddrField, Chain, FamilySpec, Field, Input, KeyType, Match, Rule,
    Ruleset, Selector, Set, Statement, LOG_ALLOW_CHAIN, LOG_ALLOW_PREFIX, LOG_DENY_CHAIN,
    LOG_DENY_PREFIX, NO_RULE_COUNTER, V4, V6,
};
use crate::addr::service::{self, ServicePiece};
use crate::addr::IntervalSet;
use crate::analysis::region::{blocks, Block};
use crate::analysis::{Analysis, FamilyTable, FlowBox, Input as AnalysisInput};
use crate::model::Action;
use crate::resolve::{Policy, PolicyRule};
use std::collections::{BTreeSet, HashMap};

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
pub(super) fn build(input: Input<'_>, table: &str, counters: &[String]) -> Ruleset {
    let policy = input.policy;
    let mut used = BTreeSet::new();
    let until: Vec<usize> = policy
        .active_rules()
        .filter(|(_, rule)| rule.until.is_some())
        .map(|(index, _)| index)
        .collect();
    let mut ruleset = if until.is_empty() {
        build_one(input, table, counters, &mut used)
    } else {
        build_until(input, table, counters, &until, &mut used)
    };
    // The log chains and the rules' chains first: every goto target comes
    // before the rules that name it.
    ruleset
        .chains
        .splice(0..0, rule_chains(input, counters, &used));
    ruleset
}

/// The chains that decide the flows of the rules in `used`, by policy index:
/// `log_allow` and `log_deny` when one of them logs, then one chain per rule,
/// named as its counter, that counts in it and decides.
fn rule_chains(input: Input<'_>, counters: &[String], used: &BTreeSet<usize>) -> Vec<Chain> {
    let policy = input.policy;
    let mut chains = Vec::new();
    for (action, name, prefix, verdict) in [
        (
            Action::Allow,
            LOG_ALLOW_CHAIN,
            LOG_ALLOW_PREFIX,
            Statement::Accept,
        ),
        (
            Action::Deny,
            LOG_DENY_CHAIN,
            LOG_DENY_PREFIX,
            Statement::Drop,
        ),
    ] {
        let logs = used.iter().any(|&i| {
            let rule = &policy.rules[i];
            rule.action == action && rule.log
        });
        if logs {
            chains.push(log_chain(name, prefix, verdict));
        }
    }
    for &index in used {
        let rule = &policy.rules[index];
        chains.push(Chain {
            name: counters[index].clone(),
            hook: None,
            rules: vec![Rule {
                matches: Vec::new(),
                statements: vec![
                    Statement::NamedCounter(counters[index].clone()),
                    rule_verdict(rule),
                ],
                comment: Some(super::rules::comment(input.sources, rule)),
            }],
        });
    }
    chains
}

/// What a rule's chain does after counting: accept or drop, or go to the
/// chain that logs and then does so.
fn rule_verdict(rule: &PolicyRule) -> Statement {
    match (rule.action, rule.log) {
        (Action::Allow, false) => Statement::Accept,
        (Action::Deny, false) => Statement::Drop,
        (Action::Allow, true) => Statement::Goto(LOG_ALLOW_CHAIN.into()),
        (Action::Deny, true) => Statement::Goto(LOG_DENY_CHAIN.into()),
    }
}

/// The table of a policy with `until` rules (their policy indices): the
/// maps are the table of the rules without `until`, and each `until` rule
/// comes first, in policy order, as sets of the flows it takes from the
/// rules after it (its flows but those of the earlier rules without
/// `until`), matched only while `meta time` is before the day after its
/// date. An earlier `until` rule in force takes its flows first.
fn build_until(
    input: Input<'_>,
    table: &str,
    counters: &[String],
    until: &[usize],
    used: &mut BTreeSet<usize>,
) -> Ruleset {
    let policy = input.policy;
    let mut permanent = policy.clone();
    for &index in until {
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
        counters,
        used,
    );
    let prelude_len = prelude(policy, &mut Vec::new()).len();
    let mut timed = Vec::new();
    let mut last_second = i64::MIN;
    for &index in until {
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
            used.insert(index);
            timed.push(Rule::new(
                all,
                vec![Statement::Goto(counters[index].clone())],
            ));
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
    ruleset.chains.push(Chain {
        name: UNTIL_CHAIN.into(),
        hook: None,
        rules: timed,
    });
    // The base chain stays last.
    let base = ruleset.chains.len() - 2;
    ruleset.chains.swap(base, base + 1);
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

/// The table of `input` as it stands: the rules in force decide. The rules
/// whose chains it sends flows to are added to `used`.
fn build_one(
    input: Input<'_>,
    table: &str,
    counters: &[String],
    used: &mut BTreeSet<usize>,
) -> Ruleset {
    let Input {
        policy, analysis, ..
    } = input;
    let mut sets = Vec::new();
    let mut rules = prelude(policy, &mut sets);
    let mut row_chains = Vec::new();
    let v4 = family(policy, analysis, &analysis.v4, &V4, counters, used);
    let v6 = family(policy, analysis, &analysis.v6, &V6, counters, used);
    for part in [v4, v6].into_iter().flatten() {
        sets.push(part.dispatch);
        sets.extend(part.maps);
        rules.push(part.rule);
        row_chains.extend(part.chains);
    }
    // Each deny rule in policy order, as the `rules` layout writes it (its
    // sources, destinations and services in sets of their own), going to its
    // chain, which counts and drops (or logs and drops). A flow in a deny
    // rule's box that gets here is the rule's: the allowed flows were
    // accepted by their rows, and those of an earlier deny rule met its
    // lookup first. The sets' names begin with `deny_`, which the names of
    // this layout do not.
    let mut deny_sets = super::rules::SetNames::prefixed("deny_");
    for &index in &analysis.rules {
        let rule = &policy.rules[index];
        if rule.action != Action::Deny {
            continue;
        }
        let found = super::rules::policy_rule(
            &mut deny_sets,
            input.sources,
            index,
            rule,
            vec![Statement::Goto(counters[index].clone())],
            super::rules::comment(input.sources, rule),
        );
        if !found.is_empty() {
            used.insert(index);
        }
        rules.extend(found);
    }
    sets.extend(deny_sets.sets);
    rules.push(Rule::new(
        Vec::new(),
        vec![
            Statement::NamedCounter(NO_RULE_COUNTER.into()),
            Statement::Drop,
        ],
    ));
    ruleset(table, sets, row_chains, rules)
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

/// Cells as `(destination class, deciding rule ordinal, word, service class
/// bits)`, in that order, with the zero words left out.
type Cells = Vec<(u32, u32, u16, u64)>;

/// The service classes a pair row's allow rules decide, as `(rule ordinal,
/// word, bits)` by ascending ordinal and word, zero words left out.
type RuleBits = Vec<(u32, u16, u64)>;

/// One family's part of the table, or `None` when no source class is allowed
/// anything in it; the rules whose chains its maps name go to `used`.
fn family<T: AddrField>(
    policy: &Policy,
    analysis: &Analysis,
    table: &FamilyTable<T>,
    spec: &FamilySpec,
    counters: &[String],
    used: &mut BTreeSet<usize>,
) -> Option<FamilyPart> {
    let row_bits = rule_bits(policy, analysis, table);
    let rows = distinct_rows(table, analysis.layout.scope_bit(), &row_bits);
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
        let (ported, bare) = row_elements(analysis, table, row, counters, used);
        let mut rules = Vec::new();
        let prefix = format!("row{}", r + 1);
        for (map, rule) in row_maps(spec, &prefix, ported, bare) {
            maps.push(map);
            rules.push(rule);
        }
        chains.push(Chain {
            name: chain,
            hook: None,
            rules,
        });
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

/// A row's maps `PREFIX_ports_FAMILY` (destination . protocol . port, TCP
/// and UDP) and `PREFIX_proto_FAMILY` (destination . protocol, others), with
/// the rules that look them up; empty maps are left out.
fn row_maps(
    spec: &FamilySpec,
    prefix: &str,
    ported: VerdictElements,
    bare: VerdictElements,
) -> Vec<(Set, Rule)> {
    let suffix = spec.suffix;
    let mut out = Vec::new();
    if !ported.is_empty() {
        let name = format!("{prefix}_ports_{suffix}");
        out.push((
            verdict_map(
                &name,
                vec![spec.addr, KeyType::InetProto, KeyType::InetService],
                ported,
            ),
            Rule::new(
                vec![Match::L4protoIn(vec![service::TCP, service::UDP])],
                vec![Statement::Vmap {
                    key: vec![spec.daddr, Selector::L4proto, Selector::ThDport],
                    map: name,
                }],
            ),
        ));
    }
    if !bare.is_empty() {
        let name = format!("{prefix}_proto_{suffix}");
        out.push((
            verdict_map(&name, vec![spec.addr, KeyType::InetProto], bare),
            Rule::new(
                Vec::new(),
                vec![Statement::Vmap {
                    key: vec![spec.daddr, Selector::L4proto],
                    map: name,
                }],
            ),
        ));
    }
    out
}

/// The allowed service classes of each distinct pair row of the table, by
/// deciding rule.
fn rule_bits<T: AddrField>(
    policy: &Policy,
    analysis: &Analysis,
    table: &FamilyTable<T>,
) -> Vec<RuleBits> {
    let allows: Vec<bool> = analysis
        .rules
        .iter()
        .map(|&i| policy.rules[i].action == Action::Allow)
        .collect();
    table
        .rows()
        .map(|row| {
            let mut bits: RuleBits = Vec::new();
            for (v, ordinal) in row.decided() {
                if !allows[ordinal] {
                    continue;
                }
                let (o, w) = (ordinal as u32, (v / 64) as u16);
                match bits.iter_mut().find(|(bo, bw, _)| *bo == o && *bw == w) {
                    Some((_, _, b)) => *b |= 1 << (v % 64),
                    None => bits.push((o, w, 1 << (v % 64))),
                }
            }
            bits.sort_unstable();
            bits
        })
        .collect()
}

/// The distinct rows of the table's source classes, cells in scope only,
/// numbered in the order of their first source class.
fn distinct_rows<T: AddrField>(
    table: &FamilyTable<T>,
    scope: usize,
    row_bits: &[RuleBits],
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
            for &(o, w, bits) in &row_bits[id] {
                cells.push((d as u32, o, w, bits));
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

/// A row's map elements: TCP and UDP with ports, and other protocols without,
/// each to the chain of the rule that decides it. Destination classes merge
/// into one element only when the same rule gives them the same services, so
/// every element has one deciding rule. The rules named go to `used`.
fn row_elements<T: AddrField>(
    analysis: &Analysis,
    table: &FamilyTable<T>,
    row: &Row,
    counters: &[String],
    used: &mut BTreeSet<usize>,
) -> (VerdictElements, VerdictElements) {
    let words = analysis.services.len().div_ceil(64);
    let service_count = analysis.services.len();
    // Each (rule, destination class)'s service bits.
    let mut services_of: Vec<((u32, usize), Vec<u64>)> = Vec::new();
    let mut at: HashMap<(u32, usize), usize> = HashMap::new();
    for &(d, o, w, bits) in &row.cells {
        let key = (o, d as usize);
        let i = *at.entry(key).or_insert_with(|| {
            services_of.push((key, vec![0; words]));
            services_of.len() - 1
        });
        services_of[i].1[usize::from(w)] = bits;
    }
    // Per rule, the destination classes grouped by the services they get.
    let mut by_services: HashMap<(u32, &[u64]), Vec<usize>> = HashMap::new();
    for ((o, d), bits) in &services_of {
        by_services.entry((*o, bits)).or_default().push(*d);
    }
    let mut ported = Vec::new();
    let mut bare = Vec::new();
    for ((ordinal, bits), dsts) in by_services {
        let index = analysis.rules[ordinal as usize];
        used.insert(index);
        let verdict = Statement::Goto(counters[index].clone());
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
                        verdict.clone(),
                    )),
                    ServicePiece::Protocols { lo, hi } => {
                        bare.push((vec![d, Field::Proto(lo, hi)], verdict.clone()))
                    }
                }
            }
        }
    }
    (ported, bare)
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
        record: None,
        counted: Vec::new(),
    }
}

/// The elements of boxes, source . destination . protocol (. port): TCP and
/// UDP with ports, and other protocols without.
fn block_elements<T: AddrField>(blocks: &[Block<T>]) -> (Vec<Vec<Field>>, Vec<Vec<Field>>) {
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
    (ported, bare)
}

/// The two sets of one region in one family (TCP/UDP with ports, other
/// protocols without), with the matches that look them up. Empty sets are left
/// out.
fn family_sets<T>(spec: &FamilySpec, prefix: &str, blocks: &[Block<T>]) -> Vec<(Set, Vec<Match>)>
where
    T: AddrField,
{
    let (mut ported, mut bare) = block_elements(blocks);
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
                record: None,
                counted: Vec::new(),
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
                record: None,
                counted: Vec::new(),
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
