//! Kernel tests: compiled rulesets loaded into a real nftables in a network
//! namespace decide probe packets exactly as the decision table says, in both
//! layouts and both forms; the two forms load into identical tables.

use crate::harness::verify::{self, build, expected_arrivals, form_name, render, FORMS};
use crate::harness::{self, probe_address_v4, probe_address_v6, probe_services, Lab};
use crate::support::{self, fixture};
use bmcwall::addr::service::ServicePoint;
use bmcwall::addr::Bound;
use bmcwall::analysis::{Analysis, Family, FamilyTable, Flow};
use bmcwall::cli::Exit;
use bmcwall::nft::{self, Layout, Statement};
use std::path::PathBuf;

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

pub(crate) fn cell_probes(analysis: &Analysis) -> Vec<Flow> {
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

#[test]
fn ams1_kernel_decides_every_cell_as_the_table_in_every_form() {
    if harness::skipped() {
        return;
    }
    let checked = support::check(&fixture("examples/ams1/ams1.wall"));
    assert_eq!(Exit::of(&checked), Exit::Success, "ams1 must check clean");
    let (policy, analysis) = checked.model.as_ref().expect("model");
    let probes = cell_probes(analysis);
    let expected = expected_arrivals(policy, analysis, &probes);
    assert!(
        expected.len() > 10 && expected.len() < probes.len(),
        "probes must include both verdicts"
    );
    let lab = Lab::new();
    let dir = tempfile::tempdir().expect("temp dir");
    for (layout, json) in FORMS {
        let text = render(&build(&checked, layout), json);
        let name = form_name(layout, json);
        match verify::verify(&lab, dir.path(), &text, json, &probes, &expected) {
            Ok(forwarded) => eprintln!(
                "ams1 ({name}): {} probes, {forwarded} forwarded, all as the table says",
                probes.len()
            ),
            Err(mismatch) => panic!(
                "ams1 ({name}): kernel and decision table disagree on {} probes\n{}",
                probes.len(),
                mismatch.describe(policy, analysis)
            ),
        }
    }
}

/// A `sets` table written by columns in one family and by rows in the
/// other: the kernel decides every cell as the table, in both forms.
#[test]
fn a_table_by_columns_and_by_rows_decides_every_cell_as_the_table() {
    if harness::skipped() {
        return;
    }
    let checked = support::check(&fixture("tests/fixtures/layout/columns.wall"));
    assert_eq!(
        Exit::of(&checked),
        Exit::Success,
        "the fixture must check clean"
    );
    let (policy, analysis) = checked.model.as_ref().expect("model");
    let ruleset = build(&checked, Layout::Sets);
    let dispatch: Vec<&str> = ruleset
        .sets
        .iter()
        .map(|s| s.name.as_str())
        .filter(|name| name.starts_with("sources_") || name.starts_with("destinations_"))
        .collect();
    assert_eq!(dispatch, ["destinations_v4", "sources_v6"]);
    let probes = cell_probes(analysis);
    let expected = expected_arrivals(policy, analysis, &probes);
    assert!(!expected.is_empty() && expected.len() < probes.len());
    let lab = Lab::new();
    let dir = tempfile::tempdir().expect("temp dir");
    for json in [false, true] {
        if let Err(mismatch) = verify::verify(
            &lab,
            dir.path(),
            &render(&ruleset, json),
            json,
            &probes,
            &expected,
        ) {
            panic!(
                "columns ({}): kernel and decision table disagree\n{}",
                form_name(Layout::Sets, json),
                mismatch.describe(policy, analysis)
            );
        }
    }
}

#[test]
fn probes_cover_both_families_and_all_protocol_kinds() {
    let checked = support::check(&fixture("examples/ams1/ams1.wall"));
    let (_, analysis) = checked.model.as_ref().expect("model");
    let probes = cell_probes(analysis);
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

/// Loads a deliberately wrong ruleset for ams1 and returns how the harness
/// saw it differ from the decision table; it must notice.
fn planted(
    checked: &bmcwall::pipeline::Checked,
    ruleset: &nft::Ruleset,
    json: bool,
) -> verify::Mismatch {
    let (policy, analysis) = checked.model.as_ref().expect("model");
    let probes = cell_probes(analysis);
    let expected = expected_arrivals(policy, analysis, &probes);
    let lab = Lab::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let mismatch = verify::verify(
        &lab,
        dir.path(),
        &render(ruleset, json),
        json,
        &probes,
        &expected,
    )
    .expect_err("the harness did not notice the planted error");
    assert!(mismatch.rejected.is_none(), "{mismatch:?}");
    mismatch
}

/// The harness itself must be able to fail: a `sets` ruleset with one allowed
/// element removed from a row's map must show exactly the flows of that
/// element, from that row's sources, as dropped.
#[test]
fn harness_catches_a_ruleset_missing_one_element() {
    if harness::skipped() {
        return;
    }
    let checked = support::check(&fixture("examples/ams1/ams1.wall"));
    let mut ruleset = build(&checked, Layout::Sets);
    // The row of the admins (10.30.8.0/24) and the sources that share it.
    let sources = ruleset
        .sets
        .iter()
        .find(|s| s.name == "sources_v4")
        .expect("the IPv4 dispatch map");
    let verdicts = sources.verdicts.as_ref().expect("a map");
    let admins = u32::from(std::net::Ipv4Addr::new(10, 30, 8, 1));
    let row = sources
        .elements
        .iter()
        .zip(verdicts)
        .find_map(|(element, verdict)| match (element[0], verdict) {
            (nft::Field::V4(lo, hi), nft::Statement::Jump(row)) if (lo..=hi).contains(&admins) => {
                Some(row.clone())
            }
            _ => None,
        })
        .expect("the admins' row");
    let row_sources: Vec<(u32, u32)> = sources
        .elements
        .iter()
        .zip(verdicts)
        .filter_map(|(element, verdict)| match (element[0], verdict) {
            (nft::Field::V4(lo, hi), nft::Statement::Jump(r)) if *r == row => Some((lo, hi)),
            _ => None,
        })
        .collect();
    // The row's map, named as its chain: destination -> the chain of the
    // services and rules the row gets there.
    let map = ruleset
        .sets
        .iter_mut()
        .find(|s| s.name == row)
        .expect("the row's map");
    let removed = map.elements.remove(0);
    map.verdicts.as_mut().expect("a map").remove(0);
    let mismatch = planted(&checked, &ruleset, false);
    assert!(
        mismatch.unexpected.is_empty(),
        "removing an element must not allow more"
    );
    assert!(!mismatch.missing.is_empty());
    for flow in &mismatch.missing {
        let inside = match removed[0] {
            nft::Field::V4(dlo, dhi) => {
                row_sources
                    .iter()
                    .any(|&(lo, hi)| (u128::from(lo)..=u128::from(hi)).contains(&flow.src))
                    && (u128::from(dlo)..=u128::from(dhi)).contains(&flow.dst)
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

/// The same for the `rules` layout: a rule whose verdict is turned around
/// shows exactly that rule's flows decided the other way.
#[test]
fn harness_catches_a_rule_with_the_wrong_verdict() {
    if harness::skipped() {
        return;
    }
    let checked = support::check(&fixture("examples/ams1/ams1.wall"));
    let mut ruleset = build(&checked, Layout::Rules);
    // The first IPv4 rule of ams1.wall:16 (admins -> rack-a) now drops.
    let rule = ruleset
        .base_chain_mut()
        .rules
        .iter_mut()
        .find(|r| {
            r.comment
                .as_deref()
                .is_some_and(|c| c.contains("ams1.wall:16"))
        })
        .expect("rule of line 16");
    assert!(matches!(
        rule.statements.as_slice(),
        [Statement::NamedCounter(_), Statement::Accept]
    ));
    rule.statements[1] = Statement::Drop;
    let mismatch = planted(&checked, &ruleset, true);
    let (_, analysis) = checked.model.as_ref().expect("model");
    assert!(mismatch.unexpected.is_empty() && !mismatch.missing.is_empty());
    for flow in &mismatch.missing {
        assert_eq!(flow.family, Family::V4);
        assert_eq!(
            analysis.decide(flow),
            Some(0),
            "{} is not decided by the first rule",
            flow.witness()
        );
    }
}

/// Every policy among the fixtures and examples that compiles.
fn compilable_fixtures() -> Vec<PathBuf> {
    let mut paths = vec![
        fixture("examples/ams1/ams1.wall"),
        fixture("examples/exposed.wall"),
        fixture("tests/fixtures/layout/columns.wall"),
    ];
    let mut lints: Vec<PathBuf> = std::fs::read_dir(fixture("tests/fixtures/lints"))
        .expect("lint fixtures")
        .map(|entry| entry.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wall"))
        .collect();
    lints.sort();
    paths.extend(lints);
    paths
        .into_iter()
        .filter(|p| support::check(p).model.is_some())
        .collect()
}

/// `nft -j list table` with the kernel's handles left out: they number
/// objects in the order they were made, not what they are.
fn listing_without_handles(lab: &Lab) -> serde_json::Value {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.remove("handle");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let text = lab
        .list_table_json(nft::DEFAULT_TABLE)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut value: serde_json::Value = serde_json::from_str(&text).expect("nft JSON");
    strip(&mut value);
    value
}

#[test]
fn text_and_json_forms_list_identically_for_every_fixture() {
    if harness::skipped() {
        return;
    }
    let fixtures = compilable_fixtures();
    assert!(fixtures.len() > 30, "fixtures: {}", fixtures.len());
    let lab = Lab::new();
    let dir = tempfile::tempdir().expect("temp dir");
    for path in &fixtures {
        let checked = support::check(path);
        for layout in [Layout::Sets, Layout::Rules] {
            let ruleset = build(&checked, layout);
            let mut listings = Vec::new();
            for json in [false, true] {
                let file = dir.path().join("ruleset");
                std::fs::write(&file, render(&ruleset, json)).expect("write");
                lab.load(&file, json).unwrap_or_else(|e| {
                    panic!("{} ({}): {e}", path.display(), form_name(layout, json))
                });
                listings.push(listing_without_handles(&lab));
            }
            assert_eq!(
                listings[0],
                listings[1],
                "{} ({:?} layout): the text and JSON forms load differently",
                path.display(),
                layout
            );
        }
    }
}

/// Every probe is the first packet of its connection: a port-less flow and
/// its reverse go in separate batches, and connection tracking is flushed
/// between them and between calls. Otherwise the reverse would be the reply
/// of an accepted flow (`established`) and pass a table that denies it.
#[test]
fn every_probe_is_a_new_connection() {
    if harness::skipped() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("one-way.wall");
    std::fs::write(&path, "allow 10.0.0.1 -> 10.0.0.2;\n").expect("write");
    let checked = support::check(&path);
    let lab = Lab::new();
    let file = dir.path().join("ruleset.nft");
    std::fs::write(&file, render(&build(&checked, Layout::Rules), false)).expect("write");
    lab.load(&file, false).expect("load");
    let flow = |src: u32, dst: u32| Flow {
        family: Family::V4,
        src: u128::from(src),
        dst: u128::from(dst),
        service: ServicePoint {
            proto: 253,
            port: None,
        },
    };
    let (a, b) = (0x0A00_0001, 0x0A00_0002);
    let arrived = lab.probe(&[flow(a, b), flow(b, a)]);
    assert_eq!(arrived, [flow(a, b)].into());
    assert!(lab.probe(&[flow(b, a)]).is_empty());
}

/// A policy written into `dir`, checked on `today` at the default levels.
fn policy_in(
    dir: &std::path::Path,
    text: &str,
    today: bmcwall::model::Date,
) -> bmcwall::pipeline::Checked {
    let path = dir.join("policy.wall");
    std::fs::write(&path, text).expect("write the policy");
    bmcwall::pipeline::check(&path, today, &bmcwall::pipeline::Settings::default())
}

fn flow(src: &str, dst: &str, port: u16) -> Flow {
    let service = ServicePoint {
        proto: bmcwall::addr::service::TCP,
        port: Some(port),
    };
    Flow::new(
        src.parse().expect("an address"),
        dst.parse().expect("an address"),
        service,
    )
    .expect("one family")
}

#[test]
fn the_kernel_stops_an_until_rule_on_time_by_its_own_clock() {
    if harness::skipped() {
        return;
    }
    // Dates around the real date; the clock is read, never set. Compiled as
    // of the day before `past`, both rules are in force for the compiler;
    // the kernel, on the real date, must deny what `past` allowed.
    let today = bmcwall::pipeline::today_utc();
    let days = today.days_since_epoch();
    let past = bmcwall::model::Date::from_days_since_epoch(days - 3);
    let compiled_on = bmcwall::model::Date::from_days_since_epoch(days - 4);
    let future = bmcwall::model::Date::from_days_since_epoch(days + 30);
    let dir = tempfile::tempdir().expect("temp dir");
    let text = format!(
        "internal 10.0.0.0/8;\nhost jump = 10.20.0.5;\nbmc b = 10.10.1.11;\n\
         allow jump -> b : ssh  until {past}  \"expired three days ago\";\n\
         allow jump -> b : https  until {future}  \"still in force\";\n"
    );
    let checked = policy_in(dir.path(), &text, compiled_on);
    assert_eq!(
        Exit::of(&checked),
        Exit::Success,
        "the policy checks clean on {compiled_on}"
    );
    let (policy, analysis) = checked.model.as_ref().expect("model");
    let (ssh, https) = (
        flow("10.20.0.5", "10.10.1.11", 22),
        flow("10.20.0.5", "10.10.1.11", 443),
    );
    // The compiler saw both rules in force: it is the kernel that stops one.
    assert_eq!(expected_arrivals(policy, analysis, &[ssh, https]).len(), 2);
    let lab = Lab::new();
    for (layout, json) in FORMS {
        let name = form_name(layout, json);
        let text = render(&build(&checked, layout), json);
        let path = dir
            .path()
            .join(if json { "ruleset.json" } else { "ruleset.nft" });
        std::fs::write(&path, &text).expect("write the ruleset");
        lab.load(&path, json)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let arrived = lab.probe(&[ssh, https]);
        assert_eq!(
            arrived.into_iter().collect::<Vec<_>>(),
            [https],
            "{name}: the kernel forwards exactly the flow whose `until` is {future}"
        );
    }
}

#[test]
fn a_spoofed_jump_host_source_is_dropped_unless_the_check_is_off() {
    if harness::skipped() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "internal 10.0.0.0/8;\nhost jump = 10.20.0.5;\nnetwork noc = 10.30.0.0/24;\n\
                bmc b = 10.10.1.11;\nallow jump, noc -> b : ssh;\n";
    let checked = policy_in(dir.path(), text, support::today());
    assert_eq!(Exit::of(&checked), Exit::Success);
    let (policy, analysis) = checked.model.as_ref().expect("model");
    let (jump, noc) = (
        flow("10.20.0.5", "10.10.1.11", 22),
        flow("10.30.0.7", "10.10.1.11", 22),
    );
    // Only the NOC's network is routed back through the side the probes
    // come from: a packet there claiming the jump host's address is spoofed.
    let lab = Lab::new();
    lab.route_back(&["10.30.0.0/24"]);
    for (layout, json) in FORMS {
        let name = form_name(layout, json);
        for (check, want) in [
            (nft::ReversePath::Drop, vec![noc]),
            (nft::ReversePath::Off, vec![jump, noc]),
        ] {
            let input = nft::Input {
                policy,
                analysis,
                sources: &checked.sources,
            };
            let ruleset = nft::build_with(
                layout,
                input,
                nft::DEFAULT_TABLE,
                &nft::Options {
                    reverse_path: check,
                    ..nft::Options::default()
                },
            );
            let path = dir
                .path()
                .join(if json { "ruleset.json" } else { "ruleset.nft" });
            std::fs::write(&path, render(&ruleset, json)).expect("write the ruleset");
            lab.load(&path, json)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut want = want;
            want.sort();
            assert_eq!(
                lab.probe(&[jump, noc]).into_iter().collect::<Vec<_>>(),
                want,
                "{name}, reverse path {check:?}"
            );
        }
    }
}
