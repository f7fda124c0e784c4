//! Kernel tests: compiled rulesets loaded into a real nftables in a network
//! namespace decide probe packets exactly as the decision table says.

mod harness;

use bmcwall::addr::service::ServicePoint;
use bmcwall::addr::Bound;
use bmcwall::analysis::{Analysis, Family, FamilyTable, Flow};
use bmcwall::nft;
use bmcwall::pipeline::{self, Levels};
use bmcwall::resolve::Policy;
use bmcwall::syntax::{Action, Date};
use harness::{probe_address_v4, probe_address_v6, probe_services, Lab};
use std::collections::BTreeSet;
use std::path::Path;

fn today() -> Date {
    Date::parse("2026-11-21").expect("date")
}

fn compile(path: &str) -> (Policy, Analysis) {
    let checked = pipeline::check(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join(path),
        today(),
        &Levels::default(),
    );
    assert_eq!(checked.exit_code(), 0, "{path} must check clean");
    checked.model.expect("valid policy")
}

/// Probe flows for every (source class, destination class, service class)
/// cell: the first usable address of each class with every probe service of
/// the service class, and the last usable addresses with one service.
fn probes_for<T: Bound>(
    analysis: &Analysis,
    table: &FamilyTable<T>,
    family: Family,
    addresses: impl Fn(&bmcwall::addr::IntervalSet<T>) -> Vec<u128>,
) -> Vec<Flow> {
    let services: Vec<Vec<ServicePoint>> = analysis
        .services
        .classes
        .iter()
        .map(|class| probe_services(class, family))
        .collect();
    let mut flows = Vec::new();
    for src_class in &table.src.classes {
        let sources = addresses(src_class);
        for dst_class in &table.dst.classes {
            let destinations = addresses(dst_class);
            let (Some(&src), Some(&dst)) = (sources.first(), destinations.first()) else {
                continue;
            };
            for service in services.iter().flatten() {
                flows.push(Flow {
                    family,
                    src,
                    dst,
                    service: *service,
                });
            }
            if let (Some(&src), Some(&dst)) = (sources.last(), destinations.last()) {
                if let Some(service) = services.iter().flatten().next() {
                    flows.push(Flow {
                        family,
                        src,
                        dst,
                        service: *service,
                    });
                }
            }
        }
    }
    flows.retain(|f| f.src != f.dst);
    flows.sort();
    flows.dedup();
    flows
}

fn all_probes(analysis: &Analysis) -> Vec<Flow> {
    let mut flows = probes_for(analysis, &analysis.v4, Family::V4, |set| {
        probe_address_v4(set).into_iter().map(u128::from).collect()
    });
    flows.extend(probes_for(
        analysis,
        &analysis.v6,
        Family::V6,
        probe_address_v6,
    ));
    flows
}

/// What the gateway must forward: flows outside the scope, and flows the
/// decision table allows.
fn expected_arrivals(policy: &Policy, analysis: &Analysis, flows: &[Flow]) -> BTreeSet<Flow> {
    flows
        .iter()
        .filter(|flow| {
            let in_scope = flow.in_scope(&policy.scope);
            let allowed = analysis
                .decide(flow)
                .is_some_and(|rule| policy.rules[rule].action == Action::Allow);
            !in_scope || allowed
        })
        .copied()
        .collect()
}

fn describe(flows: impl IntoIterator<Item = Flow>) -> String {
    flows
        .into_iter()
        .take(20)
        .map(|f| format!("  {}\n", f.witness()))
        .collect()
}

fn assert_kernel_agrees(policy_path: &str) {
    if harness::skipped() {
        return;
    }
    let (policy, analysis) = compile(policy_path);
    let ruleset = nft::build(&policy, &analysis, nft::DEFAULT_TABLE);
    let dir = tempfile::tempdir().expect("temp dir");
    let text = dir.path().join("ruleset.nft");
    let json = dir.path().join("ruleset.json");
    std::fs::write(&text, nft::text::render(&ruleset, "kernel test")).expect("write");
    std::fs::write(&json, nft::json::render(&ruleset)).expect("write");
    let probes = all_probes(&analysis);
    let expected = expected_arrivals(&policy, &analysis, &probes);
    assert!(
        expected.len() > 10 && expected.len() < probes.len(),
        "probes must include both verdicts"
    );
    for (form, path, is_json) in [("text", &text, false), ("json", &json, true)] {
        let lab = Lab::new();
        lab.check_ruleset(path, is_json)
            .unwrap_or_else(|e| panic!("nft -c rejected the {form} form: {e}"));
        lab.load(path, is_json)
            .unwrap_or_else(|e| panic!("nft -f rejected the {form} form: {e}"));
        let arrived = lab.probe(&probes);
        let unexpected: Vec<Flow> = arrived.difference(&expected).copied().collect();
        let missing: Vec<Flow> = expected.difference(&arrived).copied().collect();
        assert!(
            unexpected.is_empty() && missing.is_empty(),
            "{policy_path} ({form}): kernel and decision table disagree on {} of {} probes\n\
             forwarded but denied by the table:\n{}dropped but allowed by the table:\n{}",
            unexpected.len() + missing.len(),
            probes.len(),
            describe(unexpected),
            describe(missing),
        );
        eprintln!(
            "{policy_path} ({form}): {} probes, {} forwarded, all as the table says",
            probes.len(),
            arrived.len()
        );
    }
}

#[test]
fn ams1_kernel_decides_every_probe_as_the_table() {
    assert_kernel_agrees("examples/ams1/ams1.wall");
}

#[test]
fn probes_cover_both_families_and_all_protocol_kinds() {
    let (_, analysis) = compile("examples/ams1/ams1.wall");
    let probes = all_probes(&analysis);
    for family in [Family::V4, Family::V6] {
        for proto in [6u8, 17, if family == Family::V4 { 1 } else { 58 }] {
            assert!(
                probes
                    .iter()
                    .any(|f| f.family == family && f.service.proto == proto),
                "no {family:?} probe of protocol {proto}"
            );
        }
    }
}

/// The harness itself must be able to fail: a ruleset with one allowed element
/// removed must show exactly the flows of that element as dropped.
#[test]
fn harness_catches_a_ruleset_missing_one_element() {
    if harness::skipped() {
        return;
    }
    let (policy, analysis) = compile("examples/ams1/ams1.wall");
    let mut ruleset = nft::build(&policy, &analysis, nft::DEFAULT_TABLE);
    let set = ruleset
        .sets
        .iter_mut()
        .find(|s| s.name == "allow_ports_v4")
        .expect("allow set");
    let removed = set.elements.remove(0);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("wrong.nft");
    std::fs::write(&path, nft::text::render(&ruleset, "planted error")).expect("write");
    let probes = all_probes(&analysis);
    let expected = expected_arrivals(&policy, &analysis, &probes);
    let lab = Lab::new();
    lab.load(&path, false).expect("load");
    let arrived = lab.probe(&probes);
    let missing: Vec<Flow> = expected.difference(&arrived).copied().collect();
    assert!(
        arrived.is_subset(&expected),
        "removing an element must not allow more"
    );
    assert!(
        !missing.is_empty(),
        "the harness did not notice element {removed:?} was removed"
    );
    for flow in &missing {
        let inside = match (&removed[0], &removed[1], &removed[3]) {
            (nft::Field::V4(slo, shi), nft::Field::V4(dlo, dhi), nft::Field::Port(plo, phi)) => {
                (u128::from(*slo)..=u128::from(*shi)).contains(&flow.src)
                    && (u128::from(*dlo)..=u128::from(*dhi)).contains(&flow.dst)
                    && flow
                        .service
                        .port
                        .is_some_and(|p| (*plo..=*phi).contains(&p))
            }
            _ => false,
        };
        assert!(
            inside,
            "{} was dropped but is not in the removed element",
            flow.witness()
        );
    }
}
