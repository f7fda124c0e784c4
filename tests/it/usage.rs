//! `bmcwall usage` against real tables in network namespaces: every probe
//! counted once, for the rule that decided it, in both layouts and forms;
//! a table of another policy refused with exit 3.

use crate::harness::verify::{build, form_name, render, FORMS};
use crate::harness::{self, Lab};
use crate::kernel::cell_probes;
use crate::support::{bmcwall, fixture, stderr, stdout, AMS1, TODAY};
use bmcwall::nft::{self, NO_RULE_COUNTER};
use std::collections::BTreeMap;

/// Each ams1 cell probed once (both families, TCP, UDP, ICMP and other
/// protocols): `usage` gives each rule exactly the number of probes the
/// decision table says it decides first, `no_rule_matched` the rest in
/// scope, and lists the allow rules that got none.
#[test]
fn usage_counts_each_probe_for_the_rule_that_decided_it() {
    if harness::skipped() {
        return;
    }
    let checked = crate::support::check(&fixture(AMS1));
    let (policy, analysis) = checked.model.as_ref().expect("model");
    let probes = cell_probes(analysis);
    let names = nft::counter_names(policy, &checked.sources);
    let mut expected: BTreeMap<String, u64> = policy
        .active_rules()
        .map(|(i, _)| (names[i].clone(), 0))
        .chain([(NO_RULE_COUNTER.to_string(), 0)])
        .collect();
    for flow in probes.iter().filter(|f| f.in_scope(&policy.scope)) {
        let counter = match analysis.decide(flow) {
            Some(rule) => names[rule].clone(),
            None => NO_RULE_COUNTER.to_string(),
        };
        *expected.entry(counter).or_default() += 1;
    }
    assert!(
        expected.values().filter(|&&n| n > 0).count() >= 4,
        "probes reach most rules: {expected:?}"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    for (layout, json) in FORMS {
        let name = form_name(layout, json);
        let lab = Lab::new();
        let path = dir.path().join(if json { "t.json" } else { "t.nft" });
        std::fs::write(&path, render(&build(&checked, layout), json)).expect("write");
        lab.load(&path, json)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        lab.probe(&probes);
        let out = bmcwall(&[
            "usage", AMS1, "--netns", &lab.gw, "--format", "json", "--today", TODAY,
        ]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
        let counted: BTreeMap<String, u64> = report["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .map(|r| {
                let counter = r["counter"].as_str().expect("counter").to_string();
                (counter, r["packets"].as_u64().expect("packets"))
            })
            .collect();
        assert_eq!(counted, expected, "{name}");
        let unused: Vec<&str> = report["unused"]
            .as_array()
            .expect("unused")
            .iter()
            .map(|u| u.as_str().expect("location"))
            .collect();
        let want: Vec<String> = policy
            .active_rules()
            .filter(|(i, r)| r.action == bmcwall::model::Action::Allow && expected[&names[*i]] == 0)
            .map(|(_, r)| checked.sources.file_line(r.span))
            .collect();
        assert_eq!(unused, want, "{name}");
        let prometheus = bmcwall(&[
            "usage",
            AMS1,
            "--netns",
            &lab.gw,
            "--format",
            "prometheus",
            "--today",
            TODAY,
        ]);
        let total = expected[NO_RULE_COUNTER];
        assert!(
            stdout(&prometheus).contains(&format!(
                "bmcwall_rule_packets_total{{rule=\"{NO_RULE_COUNTER}\",action=\"deny\"}} {total}\n"
            )),
            "{name}: {}",
            stdout(&prometheus)
        );
    }
}

/// A saved listing of a table compiled from another policy: exit 3, naming
/// the digest of the policy it came from; a listing that is not one exits 3.
#[test]
fn usage_refuses_a_table_of_another_policy() {
    if harness::skipped() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let other = dir.path().join("other.wall");
    std::fs::write(&other, "allow 10.0.0.1 -> 10.0.0.2 : ssh;\n").expect("write");
    let lab = Lab::new();
    let compiled = bmcwall(&["compile", other.to_str().expect("path"), "--today", TODAY]);
    assert_eq!(compiled.status.code(), Some(0), "{}", stderr(&compiled));
    let path = dir.path().join("other.nft");
    std::fs::write(&path, stdout(&compiled)).expect("write");
    lab.load(&path, false).expect("loads");
    let listing = dir.path().join("listing.json");
    std::fs::write(
        &listing,
        lab.list_table_json(nft::DEFAULT_TABLE).expect("lists"),
    )
    .expect("write");
    let digest = stdout(&compiled)
        .split_once("bmcwall policy ")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(digest, _)| digest.to_string())
        .expect("the compiled table names its policy");
    let out = bmcwall(&[
        "usage",
        AMS1,
        "--live",
        listing.to_str().expect("path"),
        "--today",
        TODAY,
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains(&format!(
            "was compiled from policy {digest}, not from {AMS1}"
        )),
        "{}",
        stderr(&out)
    );
    // The policy it came from reads it.
    let own = bmcwall(&[
        "usage",
        other.to_str().expect("path"),
        "--live",
        listing.to_str().expect("path"),
        "--today",
        TODAY,
    ]);
    assert_eq!(own.status.code(), Some(0), "{}", stderr(&own));
    assert!(stdout(&own).contains("allow rules with no packet since the counts started: "));
}

/// `apply` of a changed policy keeps the counts of the rules that did not
/// change: ams1 applied and probed, then ams1 with one more rule applied
/// over it; every rule of both has the counts of the first table, the new
/// rule none.
#[test]
fn apply_carries_the_counts_of_unchanged_rules_over() {
    if harness::skipped() {
        return;
    }
    let checked = crate::support::check(&fixture(AMS1));
    let (policy, analysis) = checked.model.as_ref().expect("model");
    let probes = cell_probes(analysis);
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("ams1");
    std::fs::create_dir_all(copy.join("inventory")).expect("mkdir");
    std::fs::copy(
        fixture("examples/ams1/inventory/ams1.yaml"),
        copy.join("inventory/ams1.yaml"),
    )
    .expect("copy");
    let first = copy.join("ams1.wall");
    std::fs::copy(fixture(AMS1), &first).expect("copy");
    let run = tempfile::Builder::new()
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir()
        .expect("state directory");
    let env = [("BMCWALL_RUN_DIR", run.path().to_str().expect("path"))];
    let lab = Lab::new();
    let first = first.to_str().expect("path").to_string();
    let apply = |policy: &str| {
        let out = crate::support::bmcwall_in(
            crate::support::crate_root(),
            &["apply", policy, "--netns", &lab.gw, "--today", TODAY],
            "",
            &env,
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    let counts = |policy: &str| -> BTreeMap<String, u64> {
        let out = bmcwall(&[
            "usage", policy, "--netns", &lab.gw, "--format", "json", "--today", TODAY,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
        report["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .map(|r| {
                let counter = r["counter"].as_str().expect("counter").to_string();
                (counter, r["packets"].as_u64().expect("packets"))
            })
            .collect()
    };
    apply(&first);
    lab.probe(&probes);
    let before = counts(&first);
    let total: u64 = before.values().sum();
    assert!(total > 0, "{before:?}");
    let second = copy.join("ams1-more.wall");
    let text = std::fs::read_to_string(&first).expect("read");
    std::fs::write(
        &second,
        format!("{text}allow 10.30.8.0/24 -> 10.0.0.123 : tcp 9999;\n"),
    )
    .expect("write");
    let second = second.to_str().expect("path").to_string();
    apply(&second);
    let after = counts(&second);
    let names = nft::counter_names(policy, &checked.sources);
    for name in &names {
        assert_eq!(after.get(name), before.get(name), "{name}");
    }
    assert_eq!(after[NO_RULE_COUNTER], before[NO_RULE_COUNTER]);
    assert_eq!(after.len(), before.len() + 1, "{after:?}");
    assert_eq!(
        after.values().sum::<u64>(),
        total,
        "the new rule counts nothing"
    );
}

/// `usage --all --live DIR` over the example fleet, each gateway's table
/// loaded in a lab of its own and sent what it would see: the allow rules
/// no gateway that enforces them used, and those not needed where they are
/// enforced but unused (the standby of the AMS1 pair counts with its peer).
#[test]
fn usage_all_reports_the_fleets_unused_rules_and_where_rules_are_not_needed() {
    if harness::skipped() {
        return;
    }
    use bmcwall::addr::service::ServicePoint;
    use bmcwall::analysis::Flow;
    let flow = |src: &str, dst: &str, proto: u8, port: u16| {
        Flow::new(
            src.parse().expect("src"),
            dst.parse().expect("dst"),
            ServicePoint {
                proto,
                port: Some(port),
            },
        )
        .expect("one family")
    };
    const FLEET: &str = "examples/fleet/fleet.wall";
    let dir = tempfile::tempdir().expect("temp dir");
    let tables = dir.path().join("tables");
    let out = bmcwall(&[
        "compile",
        FLEET,
        "--all",
        "-o",
        tables.to_str().expect("path"),
        "--today",
        TODAY,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let live = dir.path().join("live");
    std::fs::create_dir(&live).expect("mkdir");
    let traffic: [(&str, Vec<Flow>); 5] = [
        (
            "ams1-gw",
            vec![
                flow("10.2.0.5", "10.1.10.11", 6, 443),
                flow("10.1.8.7", "10.1.10.12", 6, 5900),
            ],
        ),
        ("ams1-gw-b", vec![]),
        ("fra1-gw", vec![flow("10.2.0.5", "10.2.10.11", 17, 623)]),
        ("jump-fra1-fw", vec![]),
        ("nyc1-gw", vec![flow("10.30.8.5", "10.3.10.11", 6, 443)]),
    ];
    for (gateway, flows) in &traffic {
        let lab = Lab::new();
        lab.load(&tables.join(format!("{gateway}.nft")), false)
            .unwrap_or_else(|e| panic!("{gateway}: {e}"));
        let arrived = lab.probe(flows);
        assert_eq!(arrived.len(), flows.len(), "{gateway}: allowed");
        if *gateway == "fra1-gw" {
            // A BMC of FRA1 calls out: denied, and recorded.
            let call = Flow::new(
                "10.2.10.12".parse().expect("src"),
                "203.0.113.53".parse().expect("dst"),
                ServicePoint {
                    proto: 17,
                    port: Some(53),
                },
            )
            .expect("v4");
            assert!(lab.probe(&[call]).is_empty(), "denied");
        }
        let listing = lab.list_table_json(nft::DEFAULT_TABLE).expect("list");
        std::fs::write(live.join(format!("{gateway}.json")), listing).expect("write");
    }
    let out = bmcwall(&[
        "usage",
        FLEET,
        "--all",
        "--live",
        live.to_str().expect("path"),
        "--format",
        "json",
        "--today",
        TODAY,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let gateways: Vec<&str> = report["gateways"]
        .as_array()
        .expect("gateways")
        .iter()
        .map(|g| g["gateway"].as_str().expect("name"))
        .collect();
    assert_eq!(
        gateways,
        ["ams1-gw", "ams1-gw-b", "fra1-gw", "jump-fra1-fw", "nyc1-gw"]
    );
    let used: BTreeMap<(String, String), u64> = report["gateways"]
        .as_array()
        .expect("gateways")
        .iter()
        .flat_map(|g| {
            let name = g["gateway"].as_str().expect("name").to_string();
            g["rules"]
                .as_array()
                .expect("rules")
                .iter()
                .filter_map(move |r| {
                    let packets = r["packets"].as_u64().expect("packets");
                    (packets > 0).then(|| {
                        let rule = r["rule"].as_str().unwrap_or("no rule matched").to_string();
                        ((name.clone(), rule), packets)
                    })
                })
        })
        .collect();
    let key = |g: &str, r: &str| (g.to_string(), format!("examples/fleet/fleet.wall:{r}"));
    assert_eq!(
        used,
        BTreeMap::from([
            (key("ams1-gw", "29"), 1),
            (key("ams1-gw", "30"), 1),
            (key("fra1-gw", "29"), 1),
            (("fra1-gw".to_string(), "no rule matched".to_string()), 1),
            (key("nyc1-gw", "31"), 1),
        ])
    );
    // The AMS1 pair's state sync (line 12: VRRP and conntrackd) saw no
    // failover here; bmcs -> ntp1, the NOC's SSH to the pair and to the
    // jump host no packet on any gateway that enforces them.
    assert_eq!(
        report["unused"],
        serde_json::json!([
            "examples/fleet/fleet.wall:12",
            "examples/fleet/fleet.wall:32",
            "examples/fleet/fleet.wall:33",
            "examples/fleet/fleet.wall:28",
        ]),
        "{report:#}"
    );
    assert_eq!(
        report["not_needed"],
        serde_json::json!([{
            "rule": "examples/fleet/fleet.wall:29",
            "counter": report["not_needed"][0]["counter"],
            "unused_on": ["jump-fra1-fw", "nyc1-gw"],
        }]),
        "{report:#}"
    );
    // `audit --all` over the same tables: the one BMC that called out, on
    // the gateway that saw it.
    let out = bmcwall(&[
        "audit",
        FLEET,
        "--all",
        "--live",
        live.to_str().expect("path"),
        "--today",
        TODAY,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let findings: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("gateway "))
        .collect();
    assert_eq!(findings.len(), 3, "{text}");
    assert_eq!(
        findings[0],
        "error[BW601] bmc-called-out [fra1-gw]: BMC fra1-r1-02 (10.2.10.12; \
         examples/fleet/inventory/fra1.yaml:4: rack=r1, site=fra1, vendor=hpe) tried the internet"
    );
    assert!(
        findings[1].starts_with("    -> 203.0.113.53 (internet) udp 53 (dns): 1 packets, "),
        "{text}"
    );
    assert_eq!(findings[2], "1 error, 0 warnings, 0 infos");
}
