//! Tests of the nft model against the decision table: both layouts decide
//! every flow as first match does (through the interpreter, one flow at a
//! time), and `plan` between two random policies' tables reports exactly the
//! flows they treat differently (through the interpreter, every flow at once).

use super::interp::{table_rules, ReadError};
use super::*;
use crate::addr::service::ServicePoint;
use crate::analysis::compare::{changes, Change, Compiled, State};
use crate::analysis::testing::*;
use crate::analysis::Flow;
use crate::model::{Action, Date};
use crate::source::SourceMap;
use proptest::prelude::*;

/// A source map with one empty file, for the comments of random policies.
fn sources() -> SourceMap {
    let mut sources = SourceMap::default();
    sources.add("random.wall".into(), String::new());
    sources
}

/// The named counters a flow is counted in: none outside the scope (the
/// table lets it pass uncounted), else exactly the counter of the rule that
/// decides it first, or of no rule matching.
fn expected_count(names: &[String], scoped: bool, decided_by: Option<usize>) -> Vec<String> {
    match (scoped, decided_by) {
        (false, _) => Vec::new(),
        (true, Some(rule)) => vec![names[rule].clone()],
        (true, None) => vec![NO_RULE_COUNTER.to_string()],
    }
}

/// Both layouts of a random policy against first match: what the table does
/// with each flow, whether it logs it, and the one counter it counts in.
fn check_layouts(spec: &PolicySpec, random: &[FlowSpec], seed: u64) -> Result<(), TestCaseError> {
    let policy = spec.build();
    let analysis = Analysis::new(&policy);
    let sources = sources();
    let input = Input {
        policy: &policy,
        analysis: &analysis,
        sources: &sources,
    };
    let rulesets = [Layout::Sets, Layout::Rules].map(|layout| build(layout, input, DEFAULT_TABLE));
    let names = counter_names(&policy, &sources);
    let mut flows = boundary_flows::<u32>(&policy, seed);
    flows.extend(boundary_flows::<u128>(&policy, seed));
    flows.extend(random.iter().map(|f| f.flow_in::<u32>()));
    flows.extend(random.iter().map(|f| f.flow_in::<u128>()));
    for flow in &flows {
        let expected = naive(&policy, flow);
        let scoped = in_scope(&policy, flow);
        let allowed = expected.is_some_and(|r| policy.rules[r].action == Action::Allow);
        let logged = scoped && expected.is_some_and(|r| policy.rules[r].log);
        let counted = expected_count(&names, scoped, expected);
        for ruleset in &rulesets {
            let verdict = ruleset.evaluate(flow);
            prop_assert_eq!(
                (verdict.accept, !verdict.logged.is_empty(), &verdict.counted),
                (!scoped || allowed, logged, &counted),
                "nft ruleset, flow {:?} (decided by {:?}, in scope: {}):\n{}",
                flow,
                expected,
                scoped,
                text::render(ruleset, "")
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn layouts_agree_with_first_match(
        spec in policy_spec(1..=12, 0..=3),
        random in prop::collection::vec(flow_spec(), 32),
        seed in any::<u64>(),
    ) {
        check_layouts(&spec, &random, seed)?;
    }
}

proptest! {
    #![proptest_config(config(32))]

    /// Deciding rules past bit 64: sets named after many rules.
    #[test]
    fn layouts_with_many_rules_agree_with_first_match(
        fillers in filler_rules(),
        spec in policy_spec(1..=12, 0..=3),
        random in prop::collection::vec(flow_spec(), 32),
        seed in any::<u64>(),
    ) {
        let mut spec = spec;
        spec.rules.splice(0..0, fillers);
        check_layouts(&spec, &random, seed)?;
    }
}

/// Both layouts of a random policy whose rules have `until` dates (three
/// dates, from the seed): at an instant in each stretch of days between
/// them, the table decides every flow as first match over the rules still
/// in force then, and `plan`'s reading at that instant agrees.
fn check_expiry(spec: &PolicySpec, seed: u64) -> Result<(), TestCaseError> {
    let mut policy = spec.build();
    let dates = ["2027-01-10", "2027-01-20", "2027-02-01"].map(|d| Date::parse(d).expect("a date"));
    for (i, rule) in policy.rules.iter_mut().enumerate() {
        if (seed >> (i % 64)) & 1 == 1 && !rule.expired {
            let date = dates[(seed as usize / 64 + i) % 3];
            rule.until = Some((date, rule.span));
        }
    }
    let analysis = Analysis::new(&policy);
    let sources = sources();
    let input = Input {
        policy: &policy,
        analysis: &analysis,
        sources: &sources,
    };
    let rulesets = [Layout::Sets, Layout::Rules].map(|layout| build(layout, input, DEFAULT_TABLE));
    let names = counter_names(&policy, &sources);
    let mut flows = boundary_flows::<u32>(&policy, seed);
    flows.extend(boundary_flows::<u128>(&policy, seed));
    // An instant before every date, one on the last second of each date's
    // day, and one on the first second of the next day.
    let mut instants = vec![0];
    for date in dates {
        let end = expiry_second(date);
        instants.extend([end - 1, end]);
    }
    for now in instants {
        let mut then = policy.clone();
        for rule in &mut then.rules {
            rule.expired |= rule.until.is_some_and(|(d, _)| expiry_second(d) <= now);
        }
        let then_analysis = Analysis::new(&then);
        for flow in &flows {
            let expected = naive(&then, flow);
            let allowed = expected.is_some_and(|r| then.rules[r].action == Action::Allow);
            let scoped = in_scope(&then, flow);
            let accept = !scoped || allowed;
            let logged = scoped && expected.is_some_and(|r| then.rules[r].log);
            let counted = expected_count(&names, scoped, expected);
            for ruleset in &rulesets {
                let verdict = ruleset.evaluate_at(flow, now);
                prop_assert_eq!(
                    (verdict.accept, !verdict.logged.is_empty(), &verdict.counted),
                    (accept, logged, &counted),
                    "at {}, flow {:?} (decided by {:?}):\n{}",
                    now,
                    flow,
                    expected,
                    text::render(ruleset, "")
                );
            }
        }
        for ruleset in &rulesets {
            let rules = table_rules(ruleset, now).expect("a table bmcwall built reads");
            let found = changes(&Compiled::of(&then, &then_analysis), Some(&rules));
            prop_assert!(found.is_empty(), "at {}: {:?}", now, found);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn layouts_stop_until_rules_on_time(
        spec in policy_spec(1..=8, 0..=2),
        seed in any::<u64>(),
    ) {
        check_expiry(&spec, seed)?;
    }
}

/// What `plan` reports between `live` and the policy's table.
fn plan(policy: &Policy, analysis: &Analysis, live: Option<&Ruleset>) -> Vec<Change> {
    let rules = live.map(|ruleset| table_rules(ruleset, 0).expect("a table bmcwall built reads"));
    changes(&Compiled::of(policy, analysis), rules.as_deref())
}

/// What a policy's table does with a flow, as `plan` reports it.
fn plan_state(policy: &Policy, flow: &Flow) -> State {
    if !in_scope(policy, flow) {
        State::Passed
    } else if naive(policy, flow).is_some_and(|r| policy.rules[r].action == Action::Allow) {
        State::Allowed
    } else {
        State::Denied
    }
}

/// `plan` between the tables of two random policies: a flow lies in a change
/// exactly when the two treat it differently, and the change says how.
fn check_plan(
    before: &PolicySpec,
    after: &PolicySpec,
    random: &[FlowSpec],
    seed: u64,
) -> Result<(), TestCaseError> {
    let (old, new) = (before.build(), after.build());
    let (old_analysis, new_analysis) = (Analysis::new(&old), Analysis::new(&new));
    let mut sources = SourceMap::default();
    sources.add("random.wall".into(), String::new());
    let old_input = Input {
        policy: &old,
        analysis: &old_analysis,
        sources: &sources,
    };
    let layout = if seed.is_multiple_of(2) {
        Layout::Sets
    } else {
        Layout::Rules
    };
    let live = build(layout, old_input, DEFAULT_TABLE);
    let changes = plan(&new, &new_analysis, Some(&live));
    let mut flows = boundary_flows::<u32>(&old, seed);
    flows.extend(boundary_flows::<u32>(&new, seed));
    flows.extend(boundary_flows::<u128>(&old, seed));
    flows.extend(boundary_flows::<u128>(&new, seed));
    flows.extend(random.iter().map(|f| f.flow_in::<u32>()));
    flows.extend(random.iter().map(|f| f.flow_in::<u128>()));
    for flow in &flows {
        if ServicePoint::from_key(flow.service.key()).is_none() {
            continue;
        }
        let expected = (plan_state(&old, flow), plan_state(&new, flow));
        let holding: Vec<&Change> = changes
            .iter()
            .filter(|c| {
                crate::analysis::flow::holds(&c.src, flow.family, flow.src)
                    && crate::analysis::flow::holds(&c.dst, flow.family, flow.dst)
                    && c.services.contains(flow.service.key())
            })
            .collect();
        if expected.0 == expected.1 {
            prop_assert!(
                holding.is_empty(),
                "flow {:?} is unchanged but in {:?}",
                flow,
                holding
            );
        } else {
            prop_assert_eq!(
                holding.len(),
                1,
                "flow {:?} ({:?}) in {:?}",
                flow,
                expected,
                holding
            );
            prop_assert_eq!(
                (holding[0].before, holding[0].after),
                expected,
                "flow {:?}",
                flow
            );
            let rule = naive(&new, flow).filter(|_| in_scope(&new, flow));
            prop_assert_eq!(holding[0].rule, rule, "flow {:?}", flow);
        }
    }
    // A table compared with itself has no changes; a missing table makes
    // every allowed flow new.
    let own = Input {
        policy: &new,
        analysis: &new_analysis,
        sources: &sources,
    };
    let same = build(layout, own, DEFAULT_TABLE);
    prop_assert_eq!(plan(&new, &new_analysis, Some(&same)), vec![]);
    // Given the new policy's table as the one expected, the old table is
    // still interpreted unless it is exactly that table, and the changes
    // are the same; a live table that is the expected one is not
    // interpreted at all: nothing changes, whatever the model says.
    let compiled = Compiled::of(&new, &new_analysis);
    let shortcut = compare_live(Some(&live), &compiled, Some(&same), 0).expect("reads");
    prop_assert_eq!(shortcut, changes);
    prop_assert_eq!(
        compare_live(Some(&live), &compiled, Some(&live), 0).expect("reads"),
        vec![]
    );
    let fresh = plan(&new, &new_analysis, None);
    prop_assert!(fresh.iter().all(|c| c.before == State::Passed));
    Ok(())
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn plan_reports_exactly_the_flows_two_tables_treat_differently(
        before in policy_spec(1..=8, 0..=0),
        after in policy_spec(1..=8, 0..=0),
        random in prop::collection::vec(flow_spec(), 32),
        seed in any::<u64>(),
    ) {
        check_plan(&before, &after, &random, seed)?;
    }
}

// ---------------------------------------------------------------------------
// The interpreter on tables bmcwall does not write: `jump` and maps inside a
// chain reached by `goto`, and a `goto` inside a chain reached by `jump`.
// ---------------------------------------------------------------------------

fn v4_set(name: &str, lo: u32, hi: u32) -> Set {
    Set {
        name: name.into(),
        key: vec![KeyType::Ipv4Addr],
        elements: vec![vec![Field::V4(lo, hi)]],
        verdicts: None,
        record: None,
        counted: Vec::new(),
    }
}

fn chain(name: &str, rules: Vec<Rule>) -> Chain {
    Chain {
        name: name.into(),
        hook: None,
        rules,
    }
}

fn source_in(set: &str) -> Match {
    Match::InSet {
        key: vec![Selector::IpSaddr],
        set: set.into(),
        negate: false,
    }
}

/// 10.0.0.0-10.0.0.255 and 10.0.1.0-10.0.1.255, by the last octet's block.
const A: (u32, u32) = (0x0A00_0000, 0x0A00_00FF);
const B: (u32, u32) = (0x0A00_0100, 0x0A00_01FF);

/// Base: `ip saddr @a goto outer`, then `drop`. `outer` jumps to `inner`
/// (which accepts sources in `b` and falls through for the rest), then maps
/// sources in `b` to `drop`; what `outer` leaves meets the base chain's
/// policy (accept), never the `drop` after the goto.
fn nested() -> Ruleset {
    let map = Set {
        name: "by_source".into(),
        key: vec![KeyType::Ipv4Addr],
        elements: vec![vec![Field::V4(B.0, B.1)]],
        verdicts: Some(vec![Statement::Drop]),
        record: None,
        counted: Vec::new(),
    };
    let inner = chain(
        "inner",
        vec![Rule::new(vec![source_in("b")], vec![Statement::Accept])],
    );
    let outer = chain(
        "outer",
        vec![
            Rule::new(Vec::new(), vec![Statement::Jump("inner".into())]),
            Rule::new(
                Vec::new(),
                vec![Statement::Vmap {
                    key: vec![Selector::IpSaddr],
                    map: "by_source".into(),
                }],
            ),
        ],
    );
    let mut sets = vec![v4_set("a", A.0, B.1), v4_set("b", B.0, B.1), map];
    sets.sort_by(|x, y| x.name.cmp(&y.name));
    ruleset(
        "t",
        sets,
        vec![inner, outer],
        vec![
            Rule::new(vec![source_in("a")], vec![Statement::Goto("outer".into())]),
            Rule::new(Vec::new(), vec![Statement::Drop]),
        ],
    )
}

fn tcp_flow(src: u32) -> Flow {
    Flow {
        family: crate::analysis::Family::V4,
        src: u128::from(src),
        dst: 0x0A00_0203,
        service: ServicePoint {
            proto: crate::addr::service::TCP,
            port: Some(22),
        },
    }
}

/// The first table rule holding a flow decides it; none: passed.
fn symbolic_state(rules: &[crate::analysis::compare::TableRule], flow: &Flow) -> State {
    rules
        .iter()
        .find(|r| {
            crate::analysis::flow::holds(&r.src, flow.family, flow.src)
                && crate::analysis::flow::holds(&r.dst, flow.family, flow.dst)
                && r.services.contains(flow.service.key())
        })
        .map_or(State::Passed, |r| r.state)
}

#[test]
fn jumps_inside_a_goto_target_are_followed_one_flow_and_every_flow_alike() {
    let ruleset = nested();
    let rules = table_rules(&ruleset, 0).expect("reads");
    // In `a` but not `b`: `outer` leaves it, so it passes; in `b`: `inner`
    // accepts it before the map drops it; outside `a`: dropped.
    for (src, accept, state) in [
        (A.0 + 5, true, State::Passed),
        (B.0 + 5, true, State::Allowed),
        (0x0A00_0300, false, State::Denied),
    ] {
        let flow = tcp_flow(src);
        assert_eq!(ruleset.evaluate(&flow).accept, accept, "{src:#x}");
        assert_eq!(symbolic_state(&rules, &flow), state, "{src:#x}");
    }
}

#[test]
fn a_goto_inside_a_jump_target_returns_to_the_rule_after_the_jump() {
    // Base: `jump middle`, `ip saddr @b accept`, `drop`. `middle`: `goto
    // empty` (a chain without rules), then `accept`: flows come back from
    // `empty` to the base chain, never to `middle`'s accept.
    let ruleset = ruleset(
        "t",
        vec![v4_set("b", B.0, B.1)],
        vec![
            chain("empty", Vec::new()),
            chain(
                "middle",
                vec![
                    Rule::new(Vec::new(), vec![Statement::Goto("empty".into())]),
                    Rule::new(Vec::new(), vec![Statement::Accept]),
                ],
            ),
        ],
        vec![
            Rule::new(Vec::new(), vec![Statement::Jump("middle".into())]),
            Rule::new(vec![source_in("b")], vec![Statement::Accept]),
            Rule::new(Vec::new(), vec![Statement::Drop]),
        ],
    );
    let rules = table_rules(&ruleset, 0).expect("reads");
    for (src, accept, state) in [(B.0, true, State::Allowed), (A.0, false, State::Denied)] {
        let flow = tcp_flow(src);
        assert_eq!(ruleset.evaluate(&flow).accept, accept, "{src:#x}");
        assert_eq!(symbolic_state(&rules, &flow), state, "{src:#x}");
    }
}

#[test]
fn a_loop_of_gotos_is_an_error() {
    let ruleset = ruleset(
        "t",
        Vec::new(),
        vec![chain(
            "again",
            vec![Rule::new(Vec::new(), vec![Statement::Goto("again".into())])],
        )],
        vec![Rule::new(Vec::new(), vec![Statement::Goto("again".into())])],
    );
    let error = table_rules(&ruleset, 0).expect_err("a loop");
    assert_eq!(error, ReadError::TooDeep("again".into()));
    assert_eq!(
        error.to_string(),
        "chain again is reached through too many gotos"
    );
}

#[test]
fn a_missing_target_names_the_rule() {
    let ruleset = ruleset(
        "t",
        Vec::new(),
        Vec::new(),
        vec![Rule::new(
            Vec::new(),
            vec![Statement::Jump("nowhere".into())],
        )],
    );
    let error = table_rules(&ruleset, 0).expect_err("no such chain");
    assert_eq!(
        error.to_string(),
        "rule 1 of the base chain: jump to a missing chain nowhere"
    );
}

/// A live table is the compiled one when only what traffic changes
/// differs: counter values and the elements of recording sets. Any other
/// difference, one address of a set's element included, makes it another.
#[test]
fn a_table_is_loaded_when_only_what_traffic_changes_differs() {
    let compiled = nested();
    let mut live = compiled.clone();
    live.sets.reverse();
    assert!(
        is_loaded(&live, &compiled),
        "nft lists sets in its own order"
    );
    live.counters.push(CounterObject {
        name: "c".into(),
        packets: 0,
        bytes: 0,
        since: None,
    });
    let mut counted = compiled.clone();
    counted.counters.push(CounterObject {
        name: "c".into(),
        packets: 7,
        bytes: 700,
        since: Some(1),
    });
    assert!(is_loaded(&live, &counted), "counts are the traffic's");
    let mut recording = nested();
    recording.sets.push(Set {
        record: Some(Record::default()),
        ..v4_set("seen", 0, 0)
    });
    let mut recorded = recording.clone();
    recorded.sets[3].elements = vec![vec![Field::V4(A.0, A.0)], vec![Field::V4(B.0, B.0)]];
    recorded.sets[3].counted = vec![Counted::default(); 2];
    assert!(
        is_loaded(&recorded, &recording),
        "recorded flows are the traffic's"
    );
    let mut widened = compiled.clone();
    widened.sets[0].elements[0][0] = Field::V4(A.0, B.1 + 1);
    assert!(!is_loaded(&widened, &compiled));
    let mut sized = recording.clone();
    sized.sets[3].record = Some(Record {
        size: 1,
        timeout: 60,
    });
    assert!(!is_loaded(&sized, &recording));
    let mut commented = compiled.clone();
    commented.chains[0].rules[0].comment = Some("by hand".into());
    assert!(!is_loaded(&commented, &compiled));
}

#[test]
fn listing_errors_keep_their_words() {
    let not_json = parse::listing("{", "t").expect_err("not JSON");
    assert!(not_json
        .to_string()
        .starts_with("the listing is not JSON: "));
    let foreign = parse::listing(r#"{"nftables": [{"flowtable": {}}]}"#, "t").expect_err("foreign");
    assert_eq!(
        foreign.to_string(),
        "the table holds a flowtable, which bmcwall does not write"
    );
    let no_base = parse::listing(r#"{"nftables": []}"#, "t").expect_err("no base chain");
    assert_eq!(
        no_base.to_string(),
        "the table does not have one base chain per hook it uses"
    );
}

/// A random gateway: its addresses, scope, mode, sync and, for a member, the
/// earlier gateway it pairs with (`pair % index`, when it is one).
#[derive(Clone, Debug)]
struct GatewaySpec {
    addrs: AddrSpec,
    scope: Option<AddrSpec>,
    forward: bool,
    host: bool,
    sync: (bool, bool),
    pair: Option<usize>,
}

fn gateway_spec() -> impl Strategy<Value = GatewaySpec> {
    (
        addr_spec(),
        prop::option::of(addr_spec()),
        0..3u8,
        (any::<bool>(), any::<bool>()),
        prop::option::weighted(0.3, any::<usize>()),
    )
        .prop_map(|(addrs, scope, mode, sync, pair)| GatewaySpec {
            addrs,
            scope,
            forward: mode != 1,
            host: mode != 0,
            sync,
            pair,
        })
}

/// A policy of `spec`'s rules with `gateways`, resolved as the resolver does:
/// pairs joined (a member takes its peer's scope and mode), scope the fleet's.
fn fleet(spec: &PolicySpec, gateways: &[GatewaySpec]) -> Policy {
    use crate::resolve::{Enforcement, Gateway, Pairing, Sync};
    let span = crate::source::Span::new(crate::source::FileId(0), 0, 0);
    let mut policy = spec.build();
    for (index, g) in gateways.iter().enumerate() {
        // A member pairs with an earlier gateway that is no member.
        let peer = g
            .pair
            .filter(|_| index > 0)
            .map(|p| p % index)
            .filter(|&p| policy.gateways[p].pair.is_none());
        let mut gateway = Gateway {
            name: format!("g{index}"),
            name_span: span,
            span,
            addrs: g.addrs.build(),
            scope: g.scope.as_ref().map_or_else(AddrSet::any, AddrSpec::build),
            enforcement: Enforcement {
                forward: g.forward,
                host: g.host,
            },
            sync: Sync {
                vrrp: g.sync.0,
                conntrackd: g.sync.1,
            },
            pair: peer.map(|p| Pairing {
                peer: format!("g{p}"),
                span,
                index: Some(p),
            }),
            scope_item: None,
            mode_item: None,
            sync_item: (g.sync.0 || g.sync.1).then_some(span),
        };
        if let Some(p) = peer {
            gateway.scope = policy.gateways[p].scope.clone();
            gateway.enforcement = policy.gateways[p].enforcement;
        }
        policy.gateways.push(gateway);
    }
    policy.scope = policy.fleet_scope();
    policy
}

/// The set elements of a table that can match no flow with source or
/// destination in `governed`: in a rule's address sets, a source element
/// outside `governed` when no destination of the rule is in it (and the
/// other way round); in a row of the `sets` layout, a destination element
/// outside when no source interval that jumps to the row is in it; in the
/// logged-deny sets, an element with both ends outside.
fn useless_elements(ruleset: &Ruleset, governed: &AddrSet) -> Vec<String> {
    let set = |name: &str| ruleset.sets.iter().find(|s| s.name == name);
    let inside = |field: &Field| match *field {
        Field::V4(lo, hi) => governed
            .v4
            .intersects(&crate::addr::IntervalSet::interval(lo, hi)),
        Field::V6(lo, hi) => governed
            .v6
            .intersects(&crate::addr::IntervalSet::interval(lo, hi)),
        _ => false,
    };
    let any_inside = |name: &str, at: usize| {
        set(name).is_some_and(|s| s.elements.iter().any(|e| inside(&e[at])))
    };
    let mut useless = Vec::new();
    for chain in &ruleset.chains {
        for rule in &chain.rules {
            let lookups: Vec<(&Selector, &str)> = rule
                .matches
                .iter()
                .filter_map(|m| match m {
                    Match::InSet {
                        key,
                        set,
                        negate: false,
                    } if key.len() == 1 => Some((&key[0], set.as_str())),
                    _ => None,
                })
                .collect();
            let saddr = lookups
                .iter()
                .find(|(s, _)| matches!(s, Selector::IpSaddr | Selector::Ip6Saddr));
            let daddr = lookups
                .iter()
                .find(|(s, _)| matches!(s, Selector::IpDaddr | Selector::Ip6Daddr));
            if let (Some(&(_, src)), Some(&(_, dst))) = (saddr, daddr) {
                for (own, other) in [(src, dst), (dst, src)] {
                    if any_inside(other, 0) {
                        continue;
                    }
                    for element in set(own).map_or(&[][..], |s| &s.elements[..]) {
                        if !inside(&element[0]) {
                            useless.push(format!("{own}: {element:?}"));
                        }
                    }
                }
            }
        }
    }
    // Rows: the source intervals that jump to each row's chain.
    for sources in ruleset
        .sets
        .iter()
        .filter(|s| s.name.starts_with("sources_"))
    {
        let Some(verdicts) = &sources.verdicts else {
            continue;
        };
        for chain in &ruleset.chains {
            let jumps_here = |v: &Statement| matches!(v, Statement::Jump(c) if *c == chain.name);
            let any_src_inside = sources
                .elements
                .iter()
                .zip(verdicts)
                .any(|(e, v)| jumps_here(v) && inside(&e[0]));
            if any_src_inside || !verdicts.iter().any(jumps_here) {
                continue;
            }
            for rule in &chain.rules {
                for statement in &rule.statements {
                    let Statement::Vmap { map, .. } = statement else {
                        continue;
                    };
                    for element in set(map).map_or(&[][..], |s| &s.elements[..]) {
                        if !inside(&element[0]) {
                            useless.push(format!("{map}: {element:?}"));
                        }
                    }
                }
            }
        }
    }
    for logged in ruleset.sets.iter().filter(|s| {
        // Sets of source . destination (the `until` sets).
        let two_ends = s.key.len() >= 2
            && matches!(s.key[0], KeyType::Ipv4Addr | KeyType::Ipv6Addr)
            && s.key[1] == s.key[0];
        s.verdicts.is_none() && s.record.is_none() && two_ends
    }) {
        for element in &logged.elements {
            if !inside(&element[0]) && !inside(&element[1]) {
                useless.push(format!("{}: {element:?}", logged.name));
            }
        }
    }
    useless
}

/// Every gateway's table of a random fleet, in both layouts: each flow with
/// source or destination in what the gateway governs is decided as the whole
/// policy decides (after the pair's state-sync rules), every other flow
/// passes, and no set element is there that cannot match a governed flow.
fn check_fleet(
    spec: &PolicySpec,
    gateways: &[GatewaySpec],
    random: &[FlowSpec],
    seed: u64,
) -> Result<(), TestCaseError> {
    let policy = fleet(spec, gateways);
    let sources = sources();
    for index in 0..policy.gateways.len() {
        let own = policy.for_gateway(index);
        let analysis = Analysis::new(&own);
        // The reference, read from the gateways here: what the pair governs
        // (its primary's scope in `mode forward`, every member's addresses in
        // `mode host`), the whole policy, and the pair's state sync.
        let target = policy.target_of(index);
        let members: Vec<&crate::resolve::Gateway> = policy
            .members_of(target)
            .map(|m| &policy.gateways[m])
            .collect();
        let primary = &policy.gateways[target];
        let host = primary.enforcement.host;
        let mut governed = AddrSet::empty();
        if primary.enforcement.forward {
            governed = governed.union(&primary.scope);
        }
        if host {
            for member in &members {
                governed = governed.union(&member.addrs);
            }
        }
        let mut reference = policy.clone();
        reference.scope = governed.clone();
        let vrrp = host && members.iter().any(|m| m.sync.vrrp);
        let conntrackd = host && members.iter().any(|m| m.sync.conntrackd);
        let member_addrs = members
            .iter()
            .fold(AddrSet::empty(), |all, m| all.union(&m.addrs));
        let holds = |set: &AddrSet, flow: &Flow, at: u128| match flow.family {
            crate::analysis::Family::V4 => set.v4.contains(at as u32),
            crate::analysis::Family::V6 => set.v6.contains(at),
        };
        let synced = |flow: &Flow| {
            let between =
                holds(&member_addrs, flow, flow.src) && holds(&member_addrs, flow, flow.dst);
            between
                && ((vrrp && flow.service.proto == 112)
                    || (conntrackd && flow.service.proto == 17 && flow.service.port == Some(3780)))
        };
        // Flows between the members on the sync services, to be sure they are tried.
        let mut sync_flows = Vec::new();
        if let (Some(&(a, _)), Some(&(_, b))) = (
            member_addrs.v4.intervals().first(),
            member_addrs.v4.intervals().last(),
        ) {
            for service in [
                ServicePoint {
                    proto: 112,
                    port: None,
                },
                ServicePoint {
                    proto: 17,
                    port: Some(3780),
                },
            ] {
                sync_flows.push(Flow {
                    family: crate::analysis::Family::V4,
                    src: u128::from(a),
                    dst: u128::from(b),
                    service,
                });
            }
        }
        let input = Input {
            policy: &own,
            analysis: &analysis,
            sources: &sources,
        };
        let mut flows = boundary_flows::<u32>(&reference, seed);
        flows.extend(boundary_flows::<u128>(&reference, seed));
        flows.extend(random.iter().map(|f| f.flow_in::<u32>()));
        flows.extend(random.iter().map(|f| f.flow_in::<u128>()));
        flows.extend(sync_flows);
        for layout in [Layout::Sets, Layout::Rules] {
            let ruleset = build(layout, input, DEFAULT_TABLE);
            for flow in &flows {
                let decided = naive(&reference, flow);
                let allowed = synced(flow)
                    || decided.is_some_and(|r| reference.rules[r].action == Action::Allow);
                let governs = in_scope(&reference, flow);
                prop_assert_eq!(
                    ruleset.evaluate(flow).accept,
                    !governs || allowed,
                    "gateway g{}, {:?}, flow {:?} (decided by {:?}, governed: {}):\n{}",
                    index,
                    layout,
                    flow,
                    decided,
                    governs,
                    text::render(&ruleset, "")
                );
            }
            let useless = useless_elements(&ruleset, &governed);
            prop_assert!(
                useless.is_empty(),
                "gateway g{}, {:?}: elements that match no governed flow: {:?}\n{}",
                index,
                layout,
                useless,
                text::render(&ruleset, "")
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn every_gateway_decides_its_flows_as_the_fleet_policy_does(
        spec in policy_spec(1..=10, 0..=1),
        gateways in prop::collection::vec(gateway_spec(), 1..=4),
        random in prop::collection::vec(flow_spec(), 24),
        seed in any::<u64>(),
    ) {
        check_fleet(&spec, &gateways, &random, seed)?;
    }
}

/// The table compiled elsewhere (`apply --ruleset`) is carried over as the
/// compiled one is: its text with the live counts, starts and recorded
/// elements is the text of the ruleset carried over.
fn check_carried_text(spec: &PolicySpec, seed: u64) -> Result<(), TestCaseError> {
    let policy = spec.build();
    let analysis = Analysis::new(&policy);
    let sources = sources();
    let input = Input {
        policy: &policy,
        analysis: &analysis,
        sources: &sources,
    };
    for layout in [Layout::Sets, Layout::Rules] {
        let ruleset = build(layout, input, DEFAULT_TABLE);
        // A live table: every other counter counted, some recorded elements.
        let mut live = ruleset.clone();
        live.counters
            .retain(|c| c.name.len() % 2 == (seed % 2) as usize);
        for (i, counter) in live.counters.iter_mut().enumerate() {
            counter.packets = seed % 1000 + i as u64;
            counter.bytes = counter.packets * 60;
            counter.since = (i % 2 == 0).then_some(1_700_000_000 + i as i64);
        }
        for set in live.sets.iter_mut().filter(|s| s.record.is_some()) {
            let width = set.key.len();
            set.elements = vec![(0..width)
                .map(|j| match set.key[j] {
                    super::KeyType::Ipv4Addr => Field::V4(seed as u32, seed as u32),
                    super::KeyType::Ipv6Addr => Field::V6(u128::from(seed), u128::from(seed)),
                    super::KeyType::InetProto => Field::Proto(17, 17),
                    super::KeyType::InetService => Field::Port(53, 53),
                })
                .collect()];
            set.counted = vec![super::Counted {
                packets: 3,
                bytes: 180,
                expires: 600,
            }];
        }
        let now = 1_800_000_000;
        let mut expected = ruleset.clone();
        for counter in &mut expected.counters {
            super::carry_counter(counter, Some(&live), now);
        }
        for set in expected.sets.iter_mut().filter(|s| s.record.is_some()) {
            super::carry_elements(set, Some(&live));
        }
        let header = "Generated by bmcwall (test)";
        let carried = text::carry_into(
            &text::render(&ruleset, header),
            |c| super::carry_counter(c, Some(&live), now),
            |s| super::carry_elements(s, Some(&live)),
        );
        prop_assert_eq!(carried, text::render(&expected, header));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn a_ruleset_file_is_carried_over_as_its_ruleset(
        spec in policy_spec(1..=8, 0..=2),
        seed in any::<u64>(),
    ) {
        check_carried_text(&spec, seed)?;
    }
}
