//! The `sets` layout: the allowed part of the decision table as verdict maps,
//! in three steps. One address of a packet (its source, or its destination:
//! whichever gives the smaller table) picks, in one map lookup, the chain of
//! its group of classes (classes that decide the same cells share a group);
//! that chain looks the other address up in the group's own map, whose
//! verdict is the chain of the cell's decision vector (which rule allows
//! which service), shared by every group and family that has it; that chain
//! looks protocol and port up and goes to the chain of the rule that allows
//! them, which counts the packet in the rule's named counter and accepts (or
//! logs and accepts). A packet no map accepts returns to the base chain,
//! where each deny rule, in policy order, looks up its own flows and goes to
//! its chain (count, then drop or log and drop), and the rest is counted as
//! matching no rule and dropped. Each allowed packet meets a constant number
//! of rules whatever the policy's size, and a lookup searches one group's
//! map, not the whole allowed space.
//!
//! # The table
//!
//! One table, `table inet NAME`:
//!
//! ```text
//! chain forward { type filter hook forward priority filter; policy accept;
//!     ct state { established, related } accept          # replies to allowed flows
//!     ct state invalid drop
//!     ip saddr != @scope_v4 ip daddr != @scope_v4 accept    # not ours to govern
//!     ip6 saddr != @scope_v6 ip6 daddr != @scope_v6 accept
//!     ip saddr vmap @sources_v4                          # source -> jump rowN_v4
//!     ip6 daddr vmap @destinations_v6                    # or destination -> jump columnN_v6
//!     ip saddr @deny_partners_v4 ip daddr @deny_site_v4 meta l4proto . th dport @deny_https_ports goto deny_<hash>
//!     counter name "no_rule_matched" drop
//! }
//! chain rowN_v4 { ip daddr vmap @rowN_v4 }                # destination -> jump servicesK
//! chain columnN_v6 { ip6 saddr vmap @columnN_v6 }         # source -> jump servicesK
//! chain servicesK {
//!     meta l4proto . th dport vmap @servicesK_ports      # TCP and UDP: goto allow_<hash>
//!     meta l4proto vmap @servicesK_proto                 # other protocols
//! }
//! chain allow_<hash> { counter name "allow_<hash>" accept comment "ams1.wall:16: ..." }
//! chain log_allow { limit rate 10/second burst 20 packets log prefix "bmcwall allow: "; accept }
//! ```
//!
//! A row is what one source class is allowed: per destination class, the
//! services it may use and the rule that allows each (its decision vector). A
//! column is the same seen from a destination class. Each family is written
//! by rows or by columns, whichever has fewer map elements (rows when equal):
//! the dispatch map's intervals plus each group's map's, where the other
//! address's classes with the same vector merge into one element. Classes
//! with the same row (column) share it; classes allowed nothing are not in
//! the dispatch map. Only cells in scope are written (the scope rule accepts
//! the others before). A group's map `jump`s to the vector's chain
//! `servicesK`, numbered in the order the maps first name them; its maps
//! (`servicesK_ports`: `inet_proto . inet_service`, of TCP and UDP only, so no
//! other protocol's packet is in it; `servicesK_proto`: `inet_proto`, other
//! protocols)
//! `goto` the deciding rule's chain, one element per service piece and rule,
//! never merged across rules, so a packet counts for the rule that decided it
//! (first match). Each rule's chain is named as its counter
//! ([`super::counter_names`]). A packet the vector's chain does not accept
//! returns through the group's chain to the base chain: the deny rules, in
//! policy order, as the `rules` layout writes them (sets named `deny_...`),
//! each `goto` its chain; a flow in a deny rule's box that gets there is that
//! rule's, since allowed flows were accepted and an earlier deny rule's flows
//! met its lookup first. What is left matched no rule: counted in
//! `no_rule_matched` and dropped. Elements are disjoint and sorted. An
//! allowed packet meets a constant number of rules whatever the policy's size
//! (its rule's chain among them), a denied one also each deny rule's lookup.
//! The vectors take the services out of the address maps: a group's map holds
//! each address interval once, not once per service piece. Both forms add the
//! table, delete it and add it in full, so loading replaces it atomically
//! whether or not it existed; the JSON form adds sets, then chains, then maps
//! (their elements name chains), then rules.

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
    let mut vectors = Vectors::default();
    let v4 = family(policy, analysis, &analysis.v4, &V4, &mut vectors);
    let v6 = family(policy, analysis, &analysis.v6, &V6, &mut vectors);
    // The vectors' chains first: the groups' maps name them.
    let (mut row_chains, vector_maps) = vector_chains(analysis, &vectors, counters, used);
    for part in [v4, v6].into_iter().flatten() {
        sets.push(part.dispatch);
        sets.extend(part.maps);
        rules.push(part.rule);
        row_chains.extend(part.chains);
    }
    sets.extend(vector_maps);
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

/// One family's part of the table: the map from the first address looked up
/// to its group's chain, the rule that looks it up, and each group's chain and
/// map.
struct FamilyPart {
    dispatch: Set,
    rule: Rule,
    chains: Vec<Chain>,
    maps: Vec<Set>,
}

/// The service classes a pair row's allow rules decide, as `(rule ordinal,
/// word, bits)` by ascending ordinal and word, zero words left out: a
/// decision vector, what each service of a cell is allowed by.
type RuleBits = Vec<(u32, u16, u64)>;

/// The distinct decision vectors of a table, numbered in the order the
/// groups' maps first name them; each becomes chain `servicesN`, shared by
/// both families and every group that has it.
#[derive(Default)]
struct Vectors {
    number: HashMap<RuleBits, usize>,
    list: Vec<RuleBits>,
}

impl Vectors {
    /// The chain of `bits`, numbering it when it is new.
    fn chain(&mut self, bits: &RuleBits) -> String {
        let n = match self.number.get(bits) {
            Some(&n) => n,
            None => {
                self.list.push(bits.clone());
                self.number.insert(bits.clone(), self.list.len() - 1);
                self.list.len() - 1
            }
        };
        format!("services{}", n + 1)
    }
}

/// Which address a family's first lookup reads: the source, whose class
/// picks its row (what it may reach), or the destination, whose class picks
/// its column (who may reach it). The table takes the one with fewer
/// elements.
#[derive(Clone, Copy, PartialEq, Eq)]
enum First {
    Source,
    Destination,
}

/// Classes of the first address that decide the same cells, as one group:
/// the intervals of their addresses, and per decision vector the intervals
/// of the other address that get it.
struct Group<T> {
    first: Vec<(T, T)>,
    second: Vec<(T, T, u32)>,
}

/// A cell seen from one of its classes: the other class and its vector.
type Cell = (u32, u32);

/// The groups of one orientation, numbered in the order of their first
/// class; `cells[c]` are class `c`'s cells by ascending other class.
fn groups<T: AddrField>(
    cells: &[Vec<Cell>],
    first: &[IntervalSet<T>],
    second: &[IntervalSet<T>],
) -> Vec<Group<T>> {
    let mut number: HashMap<&[Cell], usize> = HashMap::new();
    let mut members: Vec<(&[Cell], Vec<usize>)> = Vec::new();
    for (c, list) in cells.iter().enumerate() {
        if list.is_empty() {
            continue;
        }
        match number.get(list.as_slice()) {
            Some(&g) => members[g].1.push(c),
            None => {
                number.insert(list, members.len());
                members.push((list, vec![c]));
            }
        }
    }
    members
        .into_iter()
        .map(|(list, classes)| {
            let union = |of: &mut dyn Iterator<Item = &IntervalSet<T>>| {
                IntervalSet::from_intervals(
                    of.flat_map(|set| set.intervals().iter().copied()).collect(),
                )
            };
            let first = union(&mut classes.iter().map(|&c| &first[c]));
            let mut by_vector: Vec<(u32, Vec<usize>)> = Vec::new();
            let mut at: HashMap<u32, usize> = HashMap::new();
            for &(other, v) in list {
                let i = *at.entry(v).or_insert_with(|| {
                    by_vector.push((v, Vec::new()));
                    by_vector.len() - 1
                });
                by_vector[i].1.push(other as usize);
            }
            let mut second_part = Vec::new();
            for (v, others) in by_vector {
                let set = union(&mut others.iter().map(|&o| &second[o]));
                second_part.extend(set.intervals().iter().map(|&(lo, hi)| (lo, hi, v)));
            }
            second_part.sort_unstable_by_key(|&(lo, _, _)| lo);
            Group {
                first: first.intervals().to_vec(),
                second: second_part,
            }
        })
        .collect()
}

/// How many map elements an orientation's groups take.
fn element_count<T>(groups: &[Group<T>]) -> usize {
    groups.iter().map(|g| g.first.len() + g.second.len()).sum()
}

/// One family's part of the table, or `None` when no source class is allowed
/// anything in it. Its cells in scope are split by the first address into
/// groups; each group's chain looks the other address up in its own map,
/// whose verdicts go to the chain of the cell's decision vector.
fn family<T: AddrField>(
    policy: &Policy,
    analysis: &Analysis,
    table: &FamilyTable<T>,
    spec: &FamilySpec,
    vectors: &mut Vectors,
) -> Option<FamilyPart> {
    let row_bits = rule_bits(policy, analysis, table);
    // The family's distinct vectors, by pair row id (`None`: nothing allowed).
    let mut local: HashMap<&RuleBits, u32> = HashMap::new();
    let mut distinct: Vec<&RuleBits> = Vec::new();
    let vector_of: Vec<Option<u32>> = row_bits
        .iter()
        .map(|bits| {
            if bits.is_empty() {
                return None;
            }
            Some(*local.entry(bits).or_insert_with(|| {
                distinct.push(bits);
                distinct.len() as u32 - 1
            }))
        })
        .collect();
    let scope = analysis.layout.scope_bit();
    let mut by_src: Vec<Vec<Cell>> = vec![Vec::new(); table.src.len()];
    let mut by_dst: Vec<Vec<Cell>> = vec![Vec::new(); table.dst.len()];
    for (s, cells) in by_src.iter_mut().enumerate() {
        let src_in_scope = table.src.membership[s].get(scope);
        for (d, id, _) in table.pairs(s) {
            // Flows with both ends outside the scope are accepted before.
            if !src_in_scope && !table.dst.membership[d].get(scope) {
                continue;
            }
            let Some(v) = vector_of[id] else {
                continue;
            };
            cells.push((d as u32, v));
            by_dst[d].push((s as u32, v));
        }
    }
    let rows = groups(&by_src, &table.src.classes, &table.dst.classes);
    if rows.is_empty() {
        return None;
    }
    let columns = groups(&by_dst, &table.dst.classes, &table.src.classes);
    let (first, groups) = if element_count(&columns) < element_count(&rows) {
        (First::Destination, columns)
    } else {
        (First::Source, rows)
    };
    let suffix = spec.suffix;
    let (dispatch_name, word, first_key, second_key) = match first {
        First::Source => ("sources", "row", spec.saddr, spec.daddr),
        First::Destination => ("destinations", "column", spec.daddr, spec.saddr),
    };
    let mut dispatch = Vec::new();
    let mut chains = Vec::new();
    let mut maps = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        let name = format!("{word}{}_{suffix}", g + 1);
        for &(lo, hi) in &group.first {
            dispatch.push((vec![T::field(lo, hi)], Statement::Jump(name.clone())));
        }
        let elements = group
            .second
            .iter()
            .map(|&(lo, hi, v)| {
                let chain = vectors.chain(distinct[v as usize]);
                (vec![T::field(lo, hi)], Statement::Jump(chain))
            })
            .collect();
        maps.push(verdict_map(&name, vec![spec.addr], elements));
        chains.push(Chain {
            name: name.clone(),
            hook: None,
            rules: vec![Rule::new(
                Vec::new(),
                vec![Statement::Vmap {
                    key: vec![second_key],
                    map: name,
                }],
            )],
        });
    }
    let name = format!("{dispatch_name}_{suffix}");
    Some(FamilyPart {
        dispatch: verdict_map(&name, vec![spec.addr], dispatch),
        rule: Rule::new(
            Vec::new(),
            vec![Statement::Vmap {
                key: vec![first_key],
                map: name,
            }],
        ),
        chains,
        maps,
    })
}

/// The chain of each decision vector and its maps: `servicesN_ports`
/// (protocol . port, TCP and UDP) and `servicesN_proto` (other protocols),
/// whose verdicts are `goto` the chain of the rule that allows the service,
/// so a packet counts for the rule that decided it. The rules named go to
/// `used`.
fn vector_chains(
    analysis: &Analysis,
    vectors: &Vectors,
    counters: &[String],
    used: &mut BTreeSet<usize>,
) -> (Vec<Chain>, Vec<Set>) {
    let mut chains = Vec::new();
    let mut maps = Vec::new();
    for (n, bits) in vectors.list.iter().enumerate() {
        let name = format!("services{}", n + 1);
        let mut ported = Vec::new();
        let mut bare = Vec::new();
        let mut i = 0;
        while i < bits.len() {
            let ordinal = bits[i].0;
            let mut services = Vec::new();
            while i < bits.len() && bits[i].0 == ordinal {
                let (_, w, word) = bits[i];
                for b in 0..64 {
                    if word & (1 << b) != 0 {
                        let v = usize::from(w) * 64 + b;
                        services.extend(analysis.services.classes[v].intervals().iter().copied());
                    }
                }
                i += 1;
            }
            let index = analysis.rules[ordinal as usize];
            used.insert(index);
            let verdict = Statement::Goto(counters[index].clone());
            for piece in service::pieces(&IntervalSet::from_intervals(services)) {
                match piece {
                    ServicePiece::Ports { proto, lo, hi } => ported.push((
                        vec![Field::Proto(proto, proto), Field::Port(lo, hi)],
                        verdict.clone(),
                    )),
                    ServicePiece::Protocols { lo, hi } => {
                        bare.push((vec![Field::Proto(lo, hi)], verdict.clone()))
                    }
                }
            }
        }
        let mut rules = Vec::new();
        if !ported.is_empty() {
            let map = format!("{name}_ports");
            maps.push(verdict_map(
                &map,
                vec![KeyType::InetProto, KeyType::InetService],
                ported,
            ));
            // No `meta l4proto { tcp, udp }` before it: the map's keys are
            // TCP and UDP alone, so another protocol's packet finds no
            // element however its header reads; and each such inline set
            // is an anonymous set the kernel binds by walking the whole
            // load's transaction, which made a load quadratic in chains.
            rules.push(Rule::new(
                Vec::new(),
                vec![Statement::Vmap {
                    key: vec![Selector::L4proto, Selector::ThDport],
                    map,
                }],
            ));
        }
        if !bare.is_empty() {
            let map = format!("{name}_proto");
            maps.push(verdict_map(&map, vec![KeyType::InetProto], bare));
            rules.push(Rule::new(
                Vec::new(),
                vec![Statement::Vmap {
                    key: vec![Selector::L4proto],
                    map,
                }],
            ));
        }
        chains.push(Chain {
            name,
            hook: None,
            rules,
        });
    }
    (chains, maps)
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

/// Map elements with their verdicts.
type VerdictElements = Vec<(Vec<Field>, Statement)>;

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
            // Its elements are TCP and UDP alone: no protocol match before
            // it (see `vector_chains`).
            vec![Match::InSet {
                key: vec![spec.saddr, spec.daddr, Selector::L4proto, Selector::ThDport],
                set: ports_name,
                negate: false,
            }],
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
