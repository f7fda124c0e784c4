//! What applying a compiled table would change, in policy terms: the flows a
//! live table (read back from the kernel) treats differently from the
//! policy's table.
//!
//! Both tables are seen as first-match rules over boxes of flows. The live
//! table's rules become the rules of a scratch policy, the compiled policy's
//! rules and scope its expectations and scope, so one [`Analysis`] cuts the
//! flow space finely enough that every cell is decided one way by each table.
//! Cells that differ are merged into boxes and reported with the compiled rule
//! that decides them now and the live rule (its comment) that decided them.

use crate::addr::service::{self, ServiceSet};
use crate::addr::{AddrSet, Bound, IntervalSet};
use crate::analysis::region::{listed_blocks, Block};
use crate::analysis::{Analysis, FamilyTable};
use crate::model::Action;
use crate::nft::{Chain, Field, Match, Rule, Ruleset, Selector, Statement};
use crate::resolve::{Policy, PolicyExpectation, PolicyRule};
use crate::source::{FileId, Span};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What a table does with a new connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// Accepted by a rule.
    Allowed,
    /// Dropped.
    Denied,
    /// Outside the table's scope: accepted, left to other tables.
    Passed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Allowed => "allowed",
            State::Denied => "denied",
            State::Passed => "outside the scope",
        }
    }
}

/// Flows whose treatment changes, as a box.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// What the live table does with them.
    pub before: State,
    /// What the compiled table does with them.
    pub after: State,
    pub src: AddrSet,
    pub dst: AddrSet,
    pub services: ServiceSet,
    /// The policy rule that decides them now (index into `Policy::rules`).
    pub rule: Option<usize>,
    /// The comment of the live nft rule that decided them before.
    pub live_rule: Option<String>,
}

/// One rule of a live table as a box of flows and what it does to them.
#[derive(Clone, Debug)]
struct BoxRule {
    state: State,
    src: AddrSet,
    dst: AddrSet,
    services: ServiceSet,
    comment: Option<String>,
}

/// The changes from `live` to the policy's table. `None` (no such table)
/// counts as everything new: the flows the compiled table allows.
/// `Err` when the live table holds something bmcwall does not write.
pub fn diff(
    policy: &Policy,
    analysis: &Analysis,
    live: Option<&Ruleset>,
) -> Result<Vec<Change>, String> {
    let rules = match live {
        Some(ruleset) => box_rules(ruleset)?,
        None => Vec::new(),
    };
    let span = Span::new(FileId(0), 0, 0);
    let scratch = Policy {
        rules: rules
            .iter()
            .map(|r| {
                let action = if r.state == State::Denied {
                    Action::Deny
                } else {
                    Action::Allow
                };
                PolicyRule::bare(
                    action,
                    r.src.clone(),
                    r.dst.clone(),
                    r.services.clone(),
                    span,
                )
            })
            .collect(),
        expectations: policy
            .active_rules()
            .map(|(_, r)| PolicyExpectation {
                action: r.action,
                src: r.src.clone(),
                dst: r.dst.clone(),
                services: r.services.clone(),
                description: None,
                span,
            })
            .collect(),
        scope: policy.scope.clone(),
        ..Policy::default()
    };
    let joint = Analysis::new(&scratch);
    let context = Context {
        policy,
        analysis,
        joint: &joint,
        rules: &rules,
        service_reps: joint.services.classes.iter().map(real_key).collect(),
        new_only: live.is_none(),
    };
    let mut changes = family_changes(&context, &joint.v4, &analysis.v4, |block| {
        (
            AddrSet {
                v4: block.src,
                v6: IntervalSet::empty(),
            },
            AddrSet {
                v4: block.dst,
                v6: IntervalSet::empty(),
            },
        )
    });
    changes.extend(family_changes(&context, &joint.v6, &analysis.v6, |block| {
        (
            AddrSet {
                v4: IntervalSet::empty(),
                v6: block.src,
            },
            AddrSet {
                v4: IntervalSet::empty(),
                v6: block.dst,
            },
        )
    }));
    changes.sort_by(|a, b| {
        (a.before, a.after, a.rule, &a.src, &a.dst, &a.services).cmp(&(
            b.before,
            b.after,
            b.rule,
            &b.src,
            &b.dst,
            &b.services,
        ))
    });
    Ok(changes)
}

struct Context<'a> {
    policy: &'a Policy,
    analysis: &'a Analysis,
    joint: &'a Analysis,
    rules: &'a [BoxRule],
    /// A key of a real flow in each service class of the joint analysis.
    service_reps: Vec<Option<u32>>,
    /// There is no live table: only flows that become allowed are reported.
    new_only: bool,
}

/// What identifies a group of changed cells.
type Key = (State, State, Option<usize>, Option<usize>);

fn family_changes<T: Bound>(
    context: &Context<'_>,
    joint: &FamilyTable<T>,
    compiled: &FamilyTable<T>,
    to_sets: impl Fn(Block<T>) -> (AddrSet, AddrSet),
) -> Vec<Change> {
    let scope_bit = context.joint.layout.scope_bit();
    // Each joint class lies inside one compiled class.
    let src_class: Vec<usize> = joint
        .src
        .classes
        .iter()
        .map(|c| {
            compiled
                .src
                .class_of(c.first().expect("classes are not empty"))
        })
        .collect();
    let dst_class: Vec<usize> = joint
        .dst
        .classes
        .iter()
        .map(|c| {
            compiled
                .dst
                .class_of(c.first().expect("classes are not empty"))
        })
        .collect();
    let svc_class: Vec<Option<usize>> = context
        .service_reps
        .iter()
        .map(|k| k.map(|k| context.analysis.services.class_of(k)))
        .collect();
    // The cells of a pair change according to its live row, its compiled row
    // and whether it is in scope: the changed cells of each such combination
    // are worked out once, as (service class, group) by ascending class,
    // groups numbered in `index`.
    let mut index: BTreeMap<Key, u32> = BTreeMap::new();
    let mut combos: HashMap<Combo, u32> = HashMap::new();
    let mut combo_cells: Vec<Vec<(u32, u32)>> = Vec::new();
    // The pairs of each source class with changed cells: (destination class,
    // combination), by ascending destination class.
    let mut changed: Vec<Vec<(u32, u32)>> = vec![Vec::new(); joint.src.len()];
    // The compiled row id of each compiled destination class, for one compiled
    // source class at a time: sources are visited by compiled class.
    let mut compiled_rows: Vec<Option<u32>> = vec![None; compiled.dst.len()];
    let mut rows_of = None;
    let mut sources: Vec<usize> = (0..joint.src.len()).collect();
    sources.sort_by_key(|&s| src_class[s]);
    for s in sources {
        if rows_of != Some(src_class[s]) {
            compiled_rows.fill(None);
            for (d, id, _) in compiled.pairs(src_class[s]) {
                compiled_rows[d] = Some(id as u32);
            }
            rows_of = Some(src_class[s]);
        }
        let src_in = joint.src.membership[s].get(scope_bit);
        let mut live_pairs = joint.pairs(s).peekable();
        let mut last: Option<(Combo, u32)> = None;
        for d in 0..joint.dst.len() {
            let live = live_pairs
                .next_if(|&(pair_dst, _, _)| pair_dst == d)
                .map(|(_, id, _)| id as u32);
            let in_scope = src_in || joint.dst.membership[d].get(scope_bit);
            let combo = (live, compiled_rows[dst_class[d]], in_scope);
            let id = match last {
                Some((previous, id)) if previous == combo => id,
                _ => *combos.entry(combo).or_insert_with(|| {
                    combo_cells.push(changed_cells(
                        context, joint, compiled, combo, &svc_class, &mut index,
                    ));
                    (combo_cells.len() - 1) as u32
                }),
            };
            last = Some((combo, id));
            if !combo_cells[id as usize].is_empty() {
                changed[s].push((d as u32, id));
            }
        }
    }
    let keys: BTreeSet<(Key, u32)> = index.into_iter().collect();
    let mut out = Vec::new();
    for (k, i) in keys {
        let blocks = listed_blocks(context.joint, joint, |s, push| {
            for &(d, combo) in &changed[s] {
                let cells = &combo_cells[combo as usize];
                push(
                    d as usize,
                    &mut cells.iter().filter(|&&(_, key)| key == i).map(|&(v, _)| v),
                );
            }
        });
        for block in blocks {
            let services = real_services(&block.services);
            let (src, dst) = to_sets(block);
            out.push(Change {
                before: k.0,
                after: k.1,
                src,
                dst,
                services,
                rule: k.2,
                live_rule: k.3.and_then(|i| context.rules[i].comment.clone()),
            });
        }
    }
    out
}

/// What decides the cells of a pair: its row in the joint table (the live
/// table's rules), its row in the compiled table, and whether the pair is in
/// scope.
type Combo = (Option<u32>, Option<u32>, bool);

/// The cells of a pair decided by `combo` that change, as (service class,
/// group in `index`).
fn changed_cells<T: Bound>(
    context: &Context<'_>,
    joint: &FamilyTable<T>,
    compiled: &FamilyTable<T>,
    (live, now, in_scope): Combo,
    svc_class: &[Option<usize>],
    index: &mut BTreeMap<Key, u32>,
) -> Vec<(u32, u32)> {
    let live = live.map(|id| joint.row_by_id(id as usize));
    let now = now.map(|id| compiled.row_by_id(id as usize));
    let mut cells = Vec::new();
    for (v, compiled_v) in svc_class.iter().enumerate() {
        let Some(compiled_v) = *compiled_v else {
            continue;
        };
        let live_rule = live.and_then(|row| row.decision(v));
        let before = live_rule.map_or(State::Passed, |o| {
            context.rules[context.joint.rules[o]].state
        });
        let rule = now
            .and_then(|row| row.decision(compiled_v))
            .map(|o| context.analysis.rules[o]);
        let after = if !in_scope {
            State::Passed
        } else if rule.is_some_and(|r| context.policy.rules[r].action == Action::Allow) {
            State::Allowed
        } else {
            State::Denied
        };
        // Without a live table only what becomes allowed is news.
        if before == after || (context.new_only && after != State::Allowed) {
            continue;
        }
        let key = (
            before,
            after,
            if in_scope { rule } else { None },
            live_rule.map(|o| context.joint.rules[o]),
        );
        let next = index.len() as u32;
        cells.push((v as u32, *index.entry(key).or_insert(next)));
    }
    cells
}

/// The lowest key of `set` that a real flow has (a port-less protocol has
/// only port 0), if any.
fn real_key(set: &ServiceSet) -> Option<u32> {
    for &(lo, hi) in set.intervals() {
        let proto = service::proto_of(lo);
        if service::has_ports(proto) || service::port_of(lo) == 0 {
            return Some(lo);
        }
        let next = service::key(proto, 0) + 0x1_0000;
        if proto < 255 && next <= hi {
            return Some(next);
        }
    }
    None
}

/// `set` without the keys no real flow has, for reporting.
fn real_services(set: &ServiceSet) -> ServiceSet {
    let unreal = IntervalSet::from_intervals(
        (0..=255u8)
            .filter(|&p| !service::has_ports(p))
            .map(|p| (service::key(p, 1), service::key(p, 0xFFFF)))
            .collect(),
    );
    set.difference(&unreal)
}

// ---------------------------------------------------------------------------
// The live table as first-match boxes.
// ---------------------------------------------------------------------------

/// One box of flows of a rule being interpreted.
#[derive(Clone, Debug)]
struct FlowBox {
    src: AddrSet,
    dst: AddrSet,
    services: ServiceSet,
}

impl FlowBox {
    fn all() -> FlowBox {
        FlowBox {
            src: AddrSet::any(),
            dst: AddrSet::any(),
            services: service::any(),
        }
    }

    fn intersect(&self, other: &FlowBox) -> FlowBox {
        FlowBox {
            src: self.src.intersection(&other.src),
            dst: self.dst.intersection(&other.dst),
            services: self.services.intersection(&other.services),
        }
    }

    fn is_empty(&self) -> bool {
        self.src.is_empty() || self.dst.is_empty() || self.services.is_empty()
    }
}

/// The base chain's rules that decide new connections, in order, as boxes.
fn box_rules(ruleset: &Ruleset) -> Result<Vec<BoxRule>, String> {
    let mut out = Vec::new();
    chain_box_rules(
        ruleset,
        ruleset.base_chain(),
        &[FlowBox::all()],
        &mut out,
        0,
    )?;
    Ok(out)
}

/// The rules of `chain` as boxes within `within`, appended to `out` in order.
/// A verdict map's elements become boxes of their own; one whose verdict
/// goes to a chain with conditions (a row of the `sets` layout) is followed
/// into that chain.
fn chain_box_rules(
    ruleset: &Ruleset,
    chain: &Chain,
    within: &[FlowBox],
    out: &mut Vec<BoxRule>,
    depth: usize,
) -> Result<(), String> {
    if depth > 8 {
        return Err(format!(
            "chain {} is reached through too many gotos",
            chain.name
        ));
    }
    for (index, rule) in chain.rules.iter().enumerate() {
        let describe = |e: String| match chain.base {
            true => format!("rule {} of the base chain: {e}", index + 1),
            false => format!("rule {} of chain {}: {e}", index + 1, chain.name),
        };
        let Some(boxes) = rule_boxes(ruleset, rule).map_err(describe)? else {
            continue;
        };
        let boxes = intersect_all(&boxes, within);
        if boxes.is_empty() {
            continue;
        }
        if let Some(Statement::Vmap { key, map }) = rule
            .statements
            .iter()
            .find(|s| matches!(s, Statement::Vmap { .. }))
        {
            let map = ruleset
                .sets
                .iter()
                .find(|s| &s.name == map)
                .ok_or_else(|| describe(format!("lookup in a missing map {map}")))?;
            let verdicts = map
                .verdicts
                .as_ref()
                .ok_or_else(|| describe(format!("{} is a set, not a map", map.name)))?;
            for (element, verdict) in map.elements.iter().zip(verdicts) {
                let element = element_box(key, element).map_err(describe)?;
                let matched = intersect_all(&boxes, std::slice::from_ref(&element));
                if matched.is_empty() {
                    continue;
                }
                let (target, goto) = match verdict {
                    Statement::Goto(name) => {
                        (ruleset.chains.iter().find(|c| &c.name == name), true)
                    }
                    Statement::Jump(name) => {
                        (ruleset.chains.iter().find(|c| &c.name == name), false)
                    }
                    _ => (None, false),
                };
                match target {
                    Some(target) if !goto || target.rules.iter().any(|r| !r.matches.is_empty()) => {
                        chain_box_rules(ruleset, target, &matched, out, depth + 1)?;
                        // Flows a goto chain leaves undecided meet the base
                        // chain's policy; after a jump, the next rule here.
                        if goto {
                            push_boxes(out, State::Passed, matched, None);
                        }
                    }
                    _ => {
                        let single = Rule {
                            matches: Vec::new(),
                            statements: vec![verdict.clone()],
                            comment: None,
                        };
                        if let Some(state) = verdict_of(ruleset, &single).map_err(describe)? {
                            push_boxes(out, state, matched, None);
                        }
                    }
                }
            }
            continue;
        }
        let Some(state) = verdict_of(ruleset, rule).map_err(describe)? else {
            continue;
        };
        push_boxes(out, state, boxes, rule.comment.clone());
    }
    Ok(())
}

/// Every non-empty intersection of a box of `a` with a box of `b`.
fn intersect_all(a: &[FlowBox], b: &[FlowBox]) -> Vec<FlowBox> {
    a.iter()
        .flat_map(|x| b.iter().map(move |y| x.intersect(y)))
        .filter(|x| !x.is_empty())
        .collect()
}

fn push_boxes(out: &mut Vec<BoxRule>, state: State, boxes: Vec<FlowBox>, comment: Option<String>) {
    for (src, dst, services) in merge(boxes) {
        out.push(BoxRule {
            state,
            src,
            dst,
            services,
            comment: comment.clone(),
        });
    }
}

/// What a rule does to the flows it matches: `None` when it decides nothing
/// (it only counts or logs).
fn verdict_of(ruleset: &Ruleset, rule: &Rule) -> Result<Option<State>, String> {
    // The scope rule: flows whose addresses are both outside a set pass.
    let outside_scope = !rule.matches.is_empty()
        && rule
            .matches
            .iter()
            .all(|m| matches!(m, Match::InSet { key, negate: true, .. } if key.len() == 1));
    for statement in &rule.statements {
        match statement {
            Statement::Accept if outside_scope => return Ok(Some(State::Passed)),
            Statement::Accept => return Ok(Some(State::Allowed)),
            Statement::Drop => return Ok(Some(State::Denied)),
            Statement::Goto(name) => {
                let chain = ruleset
                    .chains
                    .iter()
                    .find(|c| &c.name == name)
                    .ok_or_else(|| format!("goto to a missing chain {name}"))?;
                for target in &chain.rules {
                    if !target.matches.is_empty() {
                        return Err(format!("chain {name} has conditions"));
                    }
                    match verdict_of(ruleset, target)? {
                        Some(State::Passed) | None => {}
                        decided => return Ok(decided),
                    }
                }
                return Ok(Some(State::Passed));
            }
            _ => {}
        }
    }
    Ok(None)
}

/// The flows a rule matches, as boxes; `None` when it never sees the first
/// packet of a connection (`ct state established`).
fn rule_boxes(ruleset: &Ruleset, rule: &Rule) -> Result<Option<Vec<FlowBox>>, String> {
    let mut boxes = vec![FlowBox::all()];
    for m in &rule.matches {
        let allowed: Vec<FlowBox> = match m {
            Match::CtState(states) => {
                if states.contains(&"new") {
                    continue;
                }
                return Ok(None);
            }
            Match::L4protoIn(protos) => vec![FlowBox {
                services: protocols(protos.iter().map(|&p| (p, p))),
                ..FlowBox::all()
            }],
            Match::InSet { key, set, negate } => {
                let set = ruleset
                    .sets
                    .iter()
                    .find(|s| &s.name == set)
                    .ok_or_else(|| format!("lookup in a missing set {set}"))?;
                let elements: Vec<FlowBox> = set
                    .elements
                    .iter()
                    .map(|element| element_box(key, element))
                    .collect::<Result<_, _>>()?;
                if *negate {
                    if key.len() != 1 {
                        return Err("a negated lookup of a concatenation".into());
                    }
                    vec![complement_one(key[0], &elements)]
                } else {
                    elements
                }
            }
        };
        boxes = boxes
            .iter()
            .flat_map(|b| allowed.iter().map(move |a| b.intersect(a)))
            .filter(|b| !b.is_empty())
            .collect();
    }
    Ok(Some(boxes))
}

/// Every port of the protocols in the ranges.
fn protocols(ranges: impl Iterator<Item = (u8, u8)>) -> ServiceSet {
    IntervalSet::from_intervals(
        ranges
            .map(|(lo, hi)| (service::key(lo, 0), service::key(hi, 0xFFFF)))
            .collect(),
    )
}

/// The flows one set element matches through the selectors of a lookup.
fn element_box(key: &[Selector], element: &[Field]) -> Result<FlowBox, String> {
    let mut flow_box = FlowBox::all();
    let mut proto: Option<(u8, u8)> = None;
    let mut port: Option<(u16, u16)> = None;
    for (selector, field) in key.iter().zip(element) {
        match (selector, *field) {
            (Selector::IpSaddr, Field::V4(lo, hi)) => flow_box.src = v4(lo, hi),
            (Selector::IpDaddr, Field::V4(lo, hi)) => flow_box.dst = v4(lo, hi),
            (Selector::Ip6Saddr, Field::V6(lo, hi)) => flow_box.src = v6(lo, hi),
            (Selector::Ip6Daddr, Field::V6(lo, hi)) => flow_box.dst = v6(lo, hi),
            (Selector::L4proto, Field::Proto(lo, hi)) => proto = Some((lo, hi)),
            (Selector::ThDport, Field::Port(lo, hi)) => port = Some((lo, hi)),
            (selector, field) => {
                return Err(format!("{selector:?} looked up in elements of {field:?}"))
            }
        }
    }
    flow_box.services = match (proto, port) {
        (None, None) => service::any(),
        (Some(range), None) => protocols(std::iter::once(range)),
        (Some((plo, phi)), Some((lo, hi))) => IntervalSet::from_intervals(
            (plo..=phi)
                .map(|p| (service::key(p, lo), service::key(p, hi)))
                .collect(),
        ),
        (None, Some(_)) => return Err("a port looked up without its protocol".into()),
    };
    Ok(flow_box)
}

/// The flows whose `selector` value is in none of the elements.
fn complement_one(selector: Selector, elements: &[FlowBox]) -> FlowBox {
    let union = |pick: fn(&FlowBox) -> &AddrSet| {
        elements
            .iter()
            .fold(AddrSet::default(), |acc, b| acc.union(pick(b)))
    };
    // The complement within the selector's own family.
    let outside = |set: AddrSet, v4: bool| {
        if v4 {
            AddrSet {
                v4: set.v4.complement(),
                v6: IntervalSet::empty(),
            }
        } else {
            AddrSet {
                v4: IntervalSet::empty(),
                v6: set.v6.complement(),
            }
        }
    };
    let mut flow_box = FlowBox::all();
    match selector {
        Selector::IpSaddr => flow_box.src = outside(union(|b| &b.src), true),
        Selector::IpDaddr => flow_box.dst = outside(union(|b| &b.dst), true),
        Selector::Ip6Saddr => flow_box.src = outside(union(|b| &b.src), false),
        Selector::Ip6Daddr => flow_box.dst = outside(union(|b| &b.dst), false),
        Selector::L4proto | Selector::ThDport => {
            flow_box.services = elements
                .iter()
                .fold(ServiceSet::empty(), |acc, b| acc.union(&b.services))
                .complement()
        }
    }
    flow_box
}

fn v4(lo: u32, hi: u32) -> AddrSet {
    AddrSet {
        v4: IntervalSet::interval(lo, hi),
        v6: IntervalSet::empty(),
    }
}

fn v6(lo: u128, hi: u128) -> AddrSet {
    AddrSet {
        v4: IntervalSet::empty(),
        v6: IntervalSet::interval(lo, hi),
    }
}

/// Boxes of one rule (one verdict, so their order does not matter) merged
/// into few: by destination and services, then by source and services, then
/// by source and destination.
fn merge(boxes: Vec<FlowBox>) -> Vec<(AddrSet, AddrSet, ServiceSet)> {
    let mut by_dst_svc: BTreeMap<(AddrSet, ServiceSet), AddrSet> = BTreeMap::new();
    for b in boxes {
        let src = by_dst_svc.entry((b.dst, b.services)).or_default();
        *src = src.union(&b.src);
    }
    let mut by_src_svc: BTreeMap<(AddrSet, ServiceSet), AddrSet> = BTreeMap::new();
    for ((dst, services), src) in by_dst_svc {
        let d = by_src_svc.entry((src, services)).or_default();
        *d = d.union(&dst);
    }
    let mut by_src_dst: BTreeMap<(AddrSet, AddrSet), ServiceSet> = BTreeMap::new();
    for ((src, services), dst) in by_src_svc {
        let v = by_src_dst
            .entry((src, dst))
            .or_insert_with(ServiceSet::empty);
        *v = v.union(&services);
    }
    by_src_dst
        .into_iter()
        .map(|((src, dst), services)| (src, dst, services))
        .collect()
}
