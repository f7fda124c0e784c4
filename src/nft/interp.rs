//! The one interpreter of the ruleset model: walks a table's chains as nft
//! does with the first packet of a connection (rules in order, `goto`,
//! `jump` and verdict maps, with a stack of the rules a `jump` returns to).
//!
//! It reads either symbolically, every flow at once, into first-match
//! [`TableRule`]s (what `plan` compares with the compiled decision table), or
//! one flow at a time (`Ruleset::evaluate`, which the unit tests hold both
//! layouts to). Both go through the same walk; only what a set of flows is
//! differs (`Reading`).
//!
//! The symbolic walk writes decisions in the order nft meets them, and the
//! first decision whose box holds a flow is that flow's: flows are never
//! subtracted. Where that order alone would be wrong (flows that a `goto`
//! sends off and that reach the end of its chain skip the rest of the chain
//! they came from), the walk follows them on at once, to the rule a `jump`
//! returns to or to the base chain's policy (accept, outside the scope).

use super::{Chain, Field, Match, Rule, Ruleset, Selector, Set, Statement};
use crate::addr::service::{self, ServiceSet};
use crate::addr::{AddrSet, IntervalSet};
use crate::analysis::compare::{State, TableRule};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// How many chains a walk may enter through `goto` and `jump` on one path.
const MAX_DEPTH: usize = 8;

/// A ruleset the interpreter cannot read: what, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// A rule holds something the interpreter does not understand.
    Rule {
        /// The chain, `None` for the base chain.
        chain: Option<String>,
        /// The rule's position in its chain, from 1.
        number: usize,
        problem: Problem,
    },
    /// A chain lies deeper than `MAX_DEPTH` gotos and jumps.
    TooDeep(String),
}

/// What is wrong with one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    MissingSet(String),
    MissingMap(String),
    NotAMap(String),
    MissingGotoTarget(String),
    MissingJumpTarget(String),
    NegatedConcatenation,
    /// A selector looked up in elements of a field of another type.
    FieldMismatch(Selector, Field),
    PortWithoutProtocol,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Rule {
                chain: None,
                number,
                problem,
            } => write!(f, "rule {number} of the base chain: {problem}"),
            ReadError::Rule {
                chain: Some(chain),
                number,
                problem,
            } => write!(f, "rule {number} of chain {chain}: {problem}"),
            ReadError::TooDeep(chain) => {
                write!(f, "chain {chain} is reached through too many gotos")
            }
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::MissingSet(set) => write!(f, "lookup in a missing set {set}"),
            Problem::MissingMap(map) => write!(f, "lookup in a missing map {map}"),
            Problem::NotAMap(set) => write!(f, "{set} is a set, not a map"),
            Problem::MissingGotoTarget(chain) => write!(f, "goto to a missing chain {chain}"),
            Problem::MissingJumpTarget(chain) => write!(f, "jump to a missing chain {chain}"),
            Problem::NegatedConcatenation => f.write_str("a negated lookup of a concatenation"),
            Problem::FieldMismatch(selector, field) => {
                write!(f, "{selector:?} looked up in elements of {field:?}")
            }
            Problem::PortWithoutProtocol => f.write_str("a port looked up without its protocol"),
        }
    }
}

impl std::error::Error for ReadError {}

/// The base chain's rules that decide new connections, in first-match order,
/// as boxes of flows with what the table does to them. Flows no rule holds
/// meet the base chain's policy: they pass (outside the scope).
/// `meta time` matches are read at `now`, seconds since 1970 (UTC).
pub fn table_rules(ruleset: &Ruleset, now: i64) -> Result<Vec<TableRule>, ReadError> {
    let mut walker = Walker {
        index: Index::of(ruleset),
        now,
        reading: Symbolic {
            rules: Vec::new(),
            lookups: RefCell::default(),
        },
    };
    let start = Frame {
        chain: ruleset.base_chain(),
        next: 0,
        comment: None,
    };
    walker.walk(start, vec![Piece::all()], &[], End::Policy, 0)?;
    Ok(walker.reading.rules)
}

/// What the table does with a new connection's first packet.
#[cfg(test)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub accept: bool,
    /// Log prefixes written on the way, in order.
    pub logged: Vec<String>,
    /// The named counters counted in on the way, in order.
    pub counted: Vec<String>,
}

#[cfg(test)]
impl Ruleset {
    /// What the table does with the first packet of `flow`'s connection,
    /// before any `until` date has passed.
    pub fn evaluate(&self, flow: &crate::analysis::Flow) -> Verdict {
        self.evaluate_at(flow, 0)
    }

    /// What the table does with the first packet of `flow`'s connection at
    /// `now` (seconds since 1970, UTC).
    pub fn evaluate_at(&self, flow: &crate::analysis::Flow, now: i64) -> Verdict {
        let mut walker = Walker {
            index: Index::of(self),
            now,
            reading: Packet {
                flow,
                state: None,
                logged: Vec::new(),
                counted: Vec::new(),
            },
        };
        let start = Frame {
            chain: self.base_chain(),
            next: 0,
            comment: None,
        };
        if let Err(error) = walker.walk(start, true, &[], End::Policy, 0) {
            panic!("a ruleset the tests build reads: {error}");
        }
        Verdict {
            accept: walker.reading.state != Some(State::Denied),
            logged: walker.reading.logged,
            counted: walker.reading.counted,
        }
    }
}

/// What a set of flows is, and what the walk does with one.
trait Reading {
    /// The flows at one point of the walk (a superset of those not yet
    /// decided).
    type Flows: Clone;
    fn is_empty(&self, flows: &Self::Flows) -> bool;
    /// The flows that match `m` (not a connection state).
    fn restrict(
        &self,
        index: &Index<'_>,
        flows: &Self::Flows,
        m: &Match,
    ) -> Result<Self::Flows, Problem>;
    /// The flows whose `key` lies in a set element.
    fn element(
        &self,
        flows: &Self::Flows,
        key: &[Selector],
        element: &[Field],
    ) -> Result<Self::Flows, Problem>;
    /// The flows are decided `state`, unless an earlier decision holds them.
    fn decide(&mut self, flows: Self::Flows, state: State, comment: Option<&str>);
    /// The flows are logged with `prefix`.
    fn log(&mut self, flows: &Self::Flows, prefix: &str);
    /// The flows are counted in the named counter `name`.
    fn count(&mut self, flows: &Self::Flows, name: &str);
    /// Adds the flows of `more` to `into`.
    fn absorb(&self, into: &mut Self::Flows, more: Self::Flows);
}

/// Where the walk goes on: a chain, the rule to start at, and the comment of
/// the rule that led there (decisions of rules without one carry it).
#[derive(Clone, Copy)]
struct Frame<'r> {
    chain: &'r Chain,
    next: usize,
    comment: Option<&'r str>,
}

/// What becomes of flows that reach the end of a chain.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    /// The base chain: they meet its policy; left undecided, which means
    /// passed.
    Policy,
    /// A chain entered by `jump`: the caller goes on with the rule after it.
    Return,
    /// Nobody goes on with them: they are followed now, to the rule the
    /// last `jump` returns to, or to the base chain's policy.
    Follow,
}

/// A table's sets and chains by name.
struct Index<'r> {
    sets: HashMap<&'r str, &'r Set>,
    chains: HashMap<&'r str, &'r Chain>,
}

impl<'r> Index<'r> {
    /// The first of each name, as a search in order finds it.
    fn of(ruleset: &'r Ruleset) -> Index<'r> {
        let mut index = Index {
            sets: HashMap::new(),
            chains: HashMap::new(),
        };
        for set in &ruleset.sets {
            index.sets.entry(set.name.as_str()).or_insert(set);
        }
        for chain in &ruleset.chains {
            index.chains.entry(chain.name.as_str()).or_insert(chain);
        }
        index
    }

    fn set(&self, name: &str) -> Option<&'r Set> {
        self.sets.get(name).copied()
    }

    fn chain(&self, name: &str) -> Option<&'r Chain> {
        self.chains.get(name).copied()
    }
}

struct Walker<'r, R> {
    index: Index<'r>,
    /// The instant `meta time` matches are read at, seconds since 1970 (UTC).
    now: i64,
    reading: R,
}

impl<'r, R: Reading> Walker<'r, R> {
    /// Walks `flows` through the rules of `at.chain` from `at.next`; `stack`
    /// holds where each `jump` on the way returns to.
    fn walk(
        &mut self,
        at: Frame<'r>,
        flows: R::Flows,
        stack: &[Frame<'r>],
        end: End,
        depth: usize,
    ) -> Result<(), ReadError> {
        if depth > MAX_DEPTH {
            return Err(ReadError::TooDeep(at.chain.name.clone()));
        }
        for (index, rule) in at.chain.rules.iter().enumerate().skip(at.next) {
            let here = |problem| ReadError::Rule {
                chain: at.chain.hook.is_none().then(|| at.chain.name.clone()),
                number: index + 1,
                problem,
            };
            let Some(matched) = self.matching(rule, &flows).map_err(here)? else {
                continue;
            };
            let next = Frame {
                chain: at.chain,
                next: index + 1,
                comment: rule.comment.as_deref().or(at.comment),
            };
            let decided = self.statements(rule, matched, next, stack, depth, here)?;
            if decided && unconditional(rule) {
                // No flow gets past this rule.
                return Ok(());
            }
        }
        match end {
            End::Policy | End::Return => Ok(()),
            End::Follow => match stack.split_last() {
                None => {
                    self.reading.decide(flows, State::Passed, None);
                    Ok(())
                }
                Some((&back, rest)) => self.walk(back, flows, rest, End::Follow, depth),
            },
        }
    }

    /// The flows a rule matches; `None` when it matches none, or never sees
    /// the first packet of a connection (`ct state established`).
    fn matching(&self, rule: &Rule, flows: &R::Flows) -> Result<Option<R::Flows>, Problem> {
        let mut matched = flows.clone();
        for m in &rule.matches {
            match m {
                Match::CtState(states) if states.contains(&"new") => {}
                Match::CtState(_) => return Ok(None),
                Match::Time { before, at } if (self.now < *at) != *before => return Ok(None),
                Match::Time { .. } => {}
                // Flows come in where the route back to their source leaves,
                // over a network, not over loopback.
                // Neither are they neighbour discovery: the model's ICMPv6
                // flows are echo requests.
                Match::ReversePathMissing | Match::Loopback { .. } | Match::NeighbourDiscovery => {
                    return Ok(None)
                }
                other => matched = self.reading.restrict(&self.index, &matched, other)?,
            }
        }
        Ok((!self.reading.is_empty(&matched)).then_some(matched))
    }

    /// Runs a rule's statements on the flows it matched; `next` is the rule
    /// after it. Returns whether the rule decided them all (a verdict other
    /// than `jump`).
    fn statements(
        &mut self,
        rule: &'r Rule,
        flows: R::Flows,
        next: Frame<'r>,
        stack: &[Frame<'r>],
        depth: usize,
        here: impl Fn(Problem) -> ReadError,
    ) -> Result<bool, ReadError> {
        for statement in &rule.statements {
            match statement {
                // A recording set's update decides nothing, full or not.
                Statement::Counter | Statement::Limit { .. } | Statement::Update { .. } => {}
                Statement::NamedCounter(name) => self.reading.count(&flows, name),
                Statement::Log { prefix } => self.reading.log(&flows, prefix),
                // Flows in no element go on with the next rule.
                Statement::Vmap { key, map } => {
                    let set = self
                        .index
                        .set(map)
                        .ok_or_else(|| here(Problem::MissingMap(map.clone())))?;
                    let verdicts = set
                        .verdicts
                        .as_ref()
                        .ok_or_else(|| here(Problem::NotAMap(set.name.clone())))?;
                    // Elements are disjoint: the flows of each verdict are
                    // gathered and decided together, in the order of its
                    // first element.
                    let mut by_verdict: Vec<(&Statement, R::Flows)> = Vec::new();
                    let mut at: HashMap<&Statement, usize> = HashMap::new();
                    for (element, verdict) in set.elements.iter().zip(verdicts) {
                        let matched = self.reading.element(&flows, key, element).map_err(&here)?;
                        if self.reading.is_empty(&matched) {
                            continue;
                        }
                        match at.get(verdict) {
                            Some(&i) => {
                                self.reading.absorb(&mut by_verdict[i].1, matched);
                            }
                            None => {
                                at.insert(verdict, by_verdict.len());
                                by_verdict.push((verdict, matched));
                            }
                        }
                    }
                    for (verdict, matched) in by_verdict {
                        self.verdict(verdict, false, matched, next, stack, depth, &here)?;
                    }
                    return Ok(false);
                }
                verdict => {
                    let passes = scope_rule(rule);
                    return self.verdict(verdict, passes, flows, next, stack, depth, &here);
                }
            }
        }
        Ok(false)
    }

    /// Applies a verdict to flows; `passes` when an accept lets them pass as
    /// outside the scope. Returns whether it decided them all.
    #[allow(clippy::too_many_arguments)]
    fn verdict(
        &mut self,
        verdict: &Statement,
        passes: bool,
        flows: R::Flows,
        next: Frame<'r>,
        stack: &[Frame<'r>],
        depth: usize,
        here: impl Fn(Problem) -> ReadError,
    ) -> Result<bool, ReadError> {
        // The first frame of the chain a `goto` or `jump` names.
        let start = |name: &String, missing: fn(String) -> Problem| {
            let chain = self.index.chain(name);
            let chain = chain.ok_or_else(|| here(missing(name.clone())))?;
            Ok::<_, ReadError>(Frame {
                chain,
                next: 0,
                comment: next.comment,
            })
        };
        match verdict {
            Statement::Accept if passes => self.reading.decide(flows, State::Passed, next.comment),
            Statement::Accept => self.reading.decide(flows, State::Allowed, next.comment),
            Statement::Drop => self.reading.decide(flows, State::Denied, next.comment),
            Statement::Goto(name) => {
                let start = start(name, Problem::MissingGotoTarget)?;
                self.walk(start, flows, stack, End::Follow, depth + 1)?;
            }
            Statement::Jump(name) => {
                let start = start(name, Problem::MissingJumpTarget)?;
                let mut inner = stack.to_vec();
                inner.push(next);
                self.walk(start, flows, &inner, End::Return, depth + 1)?;
                return Ok(false);
            }
            // Not verdicts: a map element never holds them.
            Statement::Counter
            | Statement::NamedCounter(_)
            | Statement::Update { .. }
            | Statement::Limit { .. }
            | Statement::Log { .. }
            | Statement::Vmap { .. } => return Ok(false),
        }
        Ok(true)
    }
}

/// A rule that every new connection reaching it matches.
fn unconditional(rule: &Rule) -> bool {
    rule.matches
        .iter()
        .all(|m| matches!(m, Match::CtState(states) if states.contains(&"new")))
}

/// The scope rule: flows whose addresses are both outside a set pass.
fn scope_rule(rule: &Rule) -> bool {
    !rule.matches.is_empty()
        && rule
            .matches
            .iter()
            .all(|m| matches!(m, Match::InSet { key, negate: true, .. } if key.len() == 1))
}

// ---------------------------------------------------------------------------
// Every flow at once: boxes.
// ---------------------------------------------------------------------------

/// One box of flows of a rule being interpreted.
#[derive(Clone, Debug)]
struct Piece {
    src: AddrSet,
    dst: AddrSet,
    services: ServiceSet,
}

impl Piece {
    fn all() -> Piece {
        Piece {
            src: AddrSet::any(),
            dst: AddrSet::any(),
            services: service::any(),
        }
    }

    fn intersect(&self, other: &Piece) -> Piece {
        Piece {
            src: self.src.intersection(&other.src),
            dst: self.dst.intersection(&other.dst),
            services: self.services.intersection(&other.services),
        }
    }

    fn is_empty(&self) -> bool {
        self.src.is_empty() || self.dst.is_empty() || self.services.is_empty()
    }
}

/// The symbolic reading: the decisions met so far, as table rules.
struct Symbolic {
    rules: Vec<TableRule>,
    /// What each set lookup matches, by set, key and negation.
    lookups: RefCell<HashMap<Lookup, Vec<Piece>>>,
}

/// A set lookup: the set, the key and whether it is negated.
type Lookup = (String, Vec<Selector>, bool);

impl Reading for Symbolic {
    type Flows = Vec<Piece>;

    fn is_empty(&self, flows: &Vec<Piece>) -> bool {
        flows.is_empty()
    }

    fn restrict(
        &self,
        index: &Index<'_>,
        flows: &Vec<Piece>,
        m: &Match,
    ) -> Result<Vec<Piece>, Problem> {
        let allowed = match m {
            // Read by the walk.
            Match::CtState(_)
            | Match::Time { .. }
            | Match::ReversePathMissing
            | Match::Loopback { .. }
            | Match::NeighbourDiscovery => return Ok(flows.clone()),
            Match::L4protoIn(protos) => vec![Piece {
                services: protocols(protos.iter().map(|&p| (p, p))),
                ..Piece::all()
            }],
            Match::L4protoNotIn(protos) => vec![Piece {
                services: protocols(protos.iter().map(|&p| (p, p))).complement(),
                ..Piece::all()
            }],
            Match::InSet { key, set, negate } => {
                // A set's elements are read once however often it is looked
                // up (the recording chain, from every deny rule's chain).
                let id = (set.clone(), key.clone(), *negate);
                if let Some(allowed) = self.lookups.borrow().get(&id) {
                    return Ok(intersect_all(flows, allowed));
                }
                let allowed = lookup_pieces(index, key, set, *negate)?;
                self.lookups.borrow_mut().insert(id, allowed.clone());
                allowed
            }
        };
        Ok(intersect_all(flows, &allowed))
    }

    fn element(
        &self,
        flows: &Vec<Piece>,
        key: &[Selector],
        element: &[Field],
    ) -> Result<Vec<Piece>, Problem> {
        let element = element_piece(key, element)?;
        Ok(intersect_all(flows, std::slice::from_ref(&element)))
    }

    fn decide(&mut self, flows: Vec<Piece>, state: State, comment: Option<&str>) {
        for (src, dst, services) in merge(flows) {
            self.rules.push(TableRule {
                state,
                src,
                dst,
                services,
                comment: comment.map(str::to_string),
            });
        }
    }

    fn log(&mut self, _: &Vec<Piece>, _: &str) {}

    fn count(&mut self, _: &Vec<Piece>, _: &str) {}

    fn absorb(&self, into: &mut Vec<Piece>, more: Vec<Piece>) {
        into.extend(more);
    }
}

/// The flows a lookup of `key` in set `name` matches (or, `negate`, does not).
fn lookup_pieces(
    index: &Index<'_>,
    key: &[Selector],
    name: &str,
    negate: bool,
) -> Result<Vec<Piece>, Problem> {
    let set = index
        .set(name)
        .ok_or_else(|| Problem::MissingSet(name.to_string()))?;
    let elements: Vec<Piece> = set
        .elements
        .iter()
        .map(|element| element_piece(key, element))
        .collect::<Result<_, _>>()?;
    Ok(if negate {
        if key.len() != 1 {
            return Err(Problem::NegatedConcatenation);
        }
        vec![complement_one(key[0], &elements)]
    } else if key.iter().all(|&s| dimension(s) == dimension(key[0])) {
        // Elements that differ in one dimension only are one box: flows
        // times elements would multiply lookups in turn.
        vec![union_along(key[0], &elements)]
    } else {
        elements
    })
}

/// Every non-empty intersection of a box of `a` with a box of `b`.
fn intersect_all(a: &[Piece], b: &[Piece]) -> Vec<Piece> {
    a.iter()
        .flat_map(|x| b.iter().map(move |y| x.intersect(y)))
        .filter(|x| !x.is_empty())
        .collect()
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
fn element_piece(key: &[Selector], element: &[Field]) -> Result<Piece, Problem> {
    let mut piece = Piece::all();
    let mut proto: Option<(u8, u8)> = None;
    let mut port: Option<(u16, u16)> = None;
    for (selector, field) in key.iter().zip(element) {
        match (selector, *field) {
            (Selector::IpSaddr, Field::V4(lo, hi)) => piece.src = v4(lo, hi),
            (Selector::IpDaddr, Field::V4(lo, hi)) => piece.dst = v4(lo, hi),
            (Selector::Ip6Saddr, Field::V6(lo, hi)) => piece.src = v6(lo, hi),
            (Selector::Ip6Daddr, Field::V6(lo, hi)) => piece.dst = v6(lo, hi),
            (Selector::L4proto, Field::Proto(lo, hi)) => proto = Some((lo, hi)),
            (Selector::ThDport, Field::Port(lo, hi)) => port = Some((lo, hi)),
            (selector, field) => return Err(Problem::FieldMismatch(*selector, field)),
        }
    }
    piece.services = match (proto, port) {
        (None, None) => service::any(),
        (Some(range), None) => protocols(std::iter::once(range)),
        (Some((plo, phi)), Some((lo, hi))) => IntervalSet::from_intervals(
            (plo..=phi)
                .map(|p| (service::key(p, lo), service::key(p, hi)))
                .collect(),
        ),
        (None, Some(_)) => return Err(Problem::PortWithoutProtocol),
    };
    Ok(piece)
}

/// Which dimension of a flow a selector reads.
#[derive(PartialEq, Eq)]
enum Dimension {
    Source,
    Destination,
    Service,
}

fn dimension(selector: Selector) -> Dimension {
    match selector {
        Selector::IpSaddr | Selector::Ip6Saddr => Dimension::Source,
        Selector::IpDaddr | Selector::Ip6Daddr => Dimension::Destination,
        Selector::L4proto | Selector::ThDport => Dimension::Service,
    }
}

/// The flows in some element, when the elements (looked up through
/// selectors of `selector`'s dimension) differ in that dimension only.
fn union_along(selector: Selector, elements: &[Piece]) -> Piece {
    let mut piece = Piece::all();
    match dimension(selector) {
        Dimension::Source => piece.src = addr_union(elements, |b| &b.src),
        Dimension::Destination => piece.dst = addr_union(elements, |b| &b.dst),
        Dimension::Service => {
            piece.services = IntervalSet::from_intervals(
                elements
                    .iter()
                    .flat_map(|b| b.services.intervals().iter().copied())
                    .collect(),
            )
        }
    }
    piece
}

/// The union of one address dimension of the elements.
fn addr_union(elements: &[Piece], pick: fn(&Piece) -> &AddrSet) -> AddrSet {
    AddrSet {
        v4: IntervalSet::from_intervals(
            elements
                .iter()
                .flat_map(|b| pick(b).v4.intervals().iter().copied())
                .collect(),
        ),
        v6: IntervalSet::from_intervals(
            elements
                .iter()
                .flat_map(|b| pick(b).v6.intervals().iter().copied())
                .collect(),
        ),
    }
}

/// The flows whose `selector` value is in none of the elements.
fn complement_one(selector: Selector, elements: &[Piece]) -> Piece {
    let union = |pick: fn(&Piece) -> &AddrSet| addr_union(elements, pick);
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
    let mut piece = Piece::all();
    match selector {
        Selector::IpSaddr => piece.src = outside(union(|b| &b.src), true),
        Selector::IpDaddr => piece.dst = outside(union(|b| &b.dst), true),
        Selector::Ip6Saddr => piece.src = outside(union(|b| &b.src), false),
        Selector::Ip6Daddr => piece.dst = outside(union(|b| &b.dst), false),
        Selector::L4proto | Selector::ThDport => {
            piece.services = elements
                .iter()
                .fold(ServiceSet::empty(), |acc, b| acc.union(&b.services))
                .complement()
        }
    }
    piece
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
fn merge(boxes: Vec<Piece>) -> Vec<(AddrSet, AddrSet, ServiceSet)> {
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

// ---------------------------------------------------------------------------
// One flow: whether the packet is among the flows.
// ---------------------------------------------------------------------------

/// The reading of one packet: its flow, the first decision that holds it and
/// what was logged before.
#[cfg(test)]
struct Packet<'f> {
    flow: &'f crate::analysis::Flow,
    state: Option<State>,
    logged: Vec<String>,
    counted: Vec<String>,
}

#[cfg(test)]
impl Reading for Packet<'_> {
    /// Whether the packet is here.
    type Flows = bool;

    fn is_empty(&self, here: &bool) -> bool {
        !*here || self.state.is_some()
    }

    fn restrict(&self, index: &Index<'_>, here: &bool, m: &Match) -> Result<bool, Problem> {
        Ok(*here
            && match m {
                Match::CtState(states) => states.contains(&"new"),
                // Read by the walk.
                Match::Time { .. }
                | Match::ReversePathMissing
                | Match::Loopback { .. }
                | Match::NeighbourDiscovery => true,
                Match::L4protoIn(protos) => protos.contains(&self.flow.service.proto),
                Match::L4protoNotIn(protos) => !protos.contains(&self.flow.service.proto),
                Match::InSet { key, set, negate } => {
                    let set = index
                        .set(set)
                        .ok_or_else(|| Problem::MissingSet(set.clone()))?;
                    // A packet without the key's fields matches nothing.
                    let has_key = key.iter().all(|s| value(*s, self.flow).is_some());
                    let found = set
                        .elements
                        .iter()
                        .any(|element| holds(key, element, self.flow));
                    has_key && found != *negate
                }
            })
    }

    fn element(&self, here: &bool, key: &[Selector], element: &[Field]) -> Result<bool, Problem> {
        Ok(*here && holds(key, element, self.flow))
    }

    fn decide(&mut self, here: bool, state: State, _: Option<&str>) {
        if !self.is_empty(&here) {
            self.state = Some(state);
        }
    }

    fn log(&mut self, here: &bool, prefix: &str) {
        if !self.is_empty(here) {
            self.logged.push(prefix.to_string());
        }
    }

    fn absorb(&self, into: &mut bool, more: bool) {
        *into |= more;
    }

    fn count(&mut self, here: &bool, name: &str) {
        if !self.is_empty(here) {
            self.counted.push(name.to_string());
        }
    }
}

/// Whether the packet's `key` lies in the element.
#[cfg(test)]
fn holds(key: &[Selector], element: &[Field], flow: &crate::analysis::Flow) -> bool {
    key.iter()
        .zip(element)
        .all(|(selector, field)| value(*selector, flow).is_some_and(|v| contains(*field, v)))
}

/// The packet's value of a selector; `None` when the packet has no such
/// field (an IPv6 packet has no `ip saddr`).
#[cfg(test)]
fn value(selector: Selector, flow: &crate::analysis::Flow) -> Option<u128> {
    let v4 = flow.family == crate::analysis::Family::V4;
    match selector {
        Selector::IpSaddr => v4.then_some(flow.src),
        Selector::IpDaddr => v4.then_some(flow.dst),
        Selector::Ip6Saddr => (!v4).then_some(flow.src),
        Selector::Ip6Daddr => (!v4).then_some(flow.dst),
        Selector::L4proto => Some(u128::from(flow.service.proto)),
        Selector::ThDport => flow.service.port.map(u128::from),
    }
}

#[cfg(test)]
fn contains(field: Field, v: u128) -> bool {
    match field {
        Field::V4(lo, hi) => (u128::from(lo)..=u128::from(hi)).contains(&v),
        Field::V6(lo, hi) => (lo..=hi).contains(&v),
        Field::Proto(lo, hi) => (u128::from(lo)..=u128::from(hi)).contains(&v),
        Field::Port(lo, hi) => (u128::from(lo)..=u128::from(hi)).contains(&v),
    }
}
