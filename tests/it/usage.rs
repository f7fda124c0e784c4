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
