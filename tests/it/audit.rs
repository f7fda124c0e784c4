//! `bmcwall audit` against real tables in network namespaces: BMCs that
//! call out, try each other or internal hosts, an unknown device on a
//! watched network, the internet and an admin knocking; each finding with its
//! exact packets, names and exit status, in both layouts and forms and both
//! families. A full set is reported, a table of another policy refused, and
//! `apply` and `--state` keep what was recorded.

use crate::harness::verify::{build, form_name, render, FORMS};
use crate::harness::{self, Lab};
use crate::support::{bmcwall, bmcwall_in, crate_root, fixture, stderr, stdout, AMS1, TODAY};
use bmcwall::addr::service::ServicePoint;
use bmcwall::analysis::Flow;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;

const SITE: &str = "tests/fixtures/audit/site.wall";

fn flow(src: &str, dst: &str, proto: u8, port: Option<u16>) -> Flow {
    let (src, dst): (IpAddr, IpAddr) = (src.parse().expect("src"), dst.parse().expect("dst"));
    Flow::new(src, dst, ServicePoint { proto, port }).expect("one family")
}

/// The lab's traffic: each flow with how many times it is sent (each time a
/// new connection).
fn traffic() -> Vec<(Flow, u64)> {
    vec![
        // bmc-a1 calls out: DNS, HTTPS, ICMP.
        (flow("10.1.0.11", "203.0.113.53", 17, Some(53)), 3),
        (flow("10.1.0.11", "198.51.100.7", 6, Some(443)), 2),
        (flow("10.1.0.11", "203.0.113.1", 1, None), 1),
        // bmc-a1 tries bmc-a2's IPMI.
        (flow("10.1.0.11", "10.1.0.12", 17, Some(623)), 2),
        // bmc-a2 tries the internal time server.
        (flow("10.1.0.12", "10.0.9.9", 17, Some(123)), 4),
        // An unknown device on the watched network: out, and to a BMC.
        (flow("10.1.0.99", "203.0.113.9", 6, Some(443)), 5),
        (flow("10.1.0.99", "10.1.0.11", 6, Some(22)), 1),
        // The internet knocks on bmc-a1's IPMI; the admin tries SSH.
        (flow("203.0.113.7", "10.1.0.11", 17, Some(623)), 3),
        (flow("10.0.5.5", "10.1.0.11", 6, Some(22)), 2),
        // Allowed: the admin's HTTPS, the office's NTP.
        (flow("10.0.5.5", "10.1.0.11", 6, Some(443)), 1),
        (flow("10.0.5.20", "10.0.9.9", 17, Some(123)), 2),
        // IPv6: bmc-v6 calls out, the internet knocks, an unknown device.
        (flow("fd00:1::11", "2001:db8::53", 17, Some(53)), 2),
        (flow("2001:db8::7", "fd00:1::11", 6, Some(443)), 1),
        (flow("fd00:1::99", "fd00::5", 17, Some(161)), 1),
    ]
}

fn send(lab: &Lab, traffic: &[(Flow, u64)]) {
    let most = traffic.iter().map(|(_, n)| *n).max().unwrap_or(0);
    for round in 0..most {
        let flows: Vec<Flow> = traffic
            .iter()
            .filter(|(_, n)| *n > round)
            .map(|(f, _)| *f)
            .collect();
        lab.probe(&flows);
    }
}

/// A flow as the test compares it: source, destination, protocol, port,
/// service, packets.
type SeenFlow = (String, String, String, Option<u64>, Option<String>, u64);

/// A finding as the test compares it: code, level, message and its flows.
type Seen = (String, String, String, Vec<SeenFlow>);

/// [`SeenFlow`] as written in the test.
type Written<'a> = (&'a str, &'a str, &'a str, Option<u64>, Option<&'a str>, u64);

fn findings(report: &Value) -> Vec<Seen> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let flows = f["flows"]
                .as_array()
                .expect("flows")
                .iter()
                .map(|flow| {
                    (
                        flow["source"]["name"].as_str().expect("name").to_string(),
                        flow["destination"]["name"]
                            .as_str()
                            .expect("name")
                            .to_string(),
                        flow["protocol"].as_str().expect("protocol").to_string(),
                        flow["port"].as_u64(),
                        flow["service"].as_str().map(str::to_string),
                        flow["packets"].as_u64().expect("packets"),
                    )
                })
                .collect();
            (
                f["code"].as_str().expect("code").to_string(),
                f["level"].as_str().expect("level").to_string(),
                f["message"].as_str().expect("message").to_string(),
                flows,
            )
        })
        .collect()
}

fn seen(code: &str, level: &str, message: &str, flows: &[Written<'_>]) -> Seen {
    (
        code.into(),
        level.into(),
        message.into(),
        flows
            .iter()
            .map(|&(s, d, p, port, service, n)| {
                (
                    s.into(),
                    d.into(),
                    p.into(),
                    port,
                    service.map(str::to_string),
                    n,
                )
            })
            .collect(),
    )
}

fn expected() -> Vec<Seen> {
    let a1 =
        "BMC bmc-a1 (10.1.0.11; tests/fixtures/audit/bmcs.yaml:2: rack=a, site=ams1, vendor=dell)";
    vec![
        seen(
            "BW601",
            "error",
            &format!("{a1} tried the internet"),
            &[
                ("bmc-a1", "internet", "udp", Some(53), Some("dns"), 3),
                ("bmc-a1", "internet", "tcp", Some(443), Some("https"), 2),
                ("bmc-a1", "internet", "icmp", None, None, 1),
            ],
        ),
        seen(
            "BW601",
            "error",
            "BMC bmc-v6 (fd00:1::11; tests/fixtures/audit/bmcs.yaml:12: rack=a, site=ams1, vendor=supermicro) tried the internet",
            &[("bmc-v6", "internet", "udp", Some(53), Some("dns"), 2)],
        ),
        seen(
            "BW602",
            "warning",
            &format!("{a1} tried other BMCs"),
            &[("bmc-a1", "bmc-a2", "udp", Some(623), Some("ipmi"), 2)],
        ),
        seen(
            "BW603",
            "warning",
            "BMC bmc-a2 (10.1.0.12; tests/fixtures/audit/bmcs.yaml:7: rack=b, site=ams1, vendor=hpe) tried internal hosts",
            &[("bmc-a2", "time", "udp", Some(123), Some("ntp"), 4)],
        ),
        seen(
            "BW604",
            "warning",
            "unknown device 10.1.0.99 (in internal) on a watched network",
            &[
                ("in internal", "internet", "tcp", Some(443), Some("https"), 5),
                ("in internal", "bmc-a1", "tcp", Some(22), Some("ssh"), 1),
            ],
        ),
        seen(
            "BW604",
            "warning",
            "unknown device fd00:1::99 (in internal) on a watched network",
            &[("in internal", "in internal", "udp", Some(161), Some("snmp"), 1)],
        ),
        seen(
            "BW605",
            "info",
            &format!("the internet tried {a1}"),
            &[("internet", "bmc-a1", "udp", Some(623), Some("ipmi"), 3)],
        ),
        seen(
            "BW605",
            "info",
            "the internet tried BMC bmc-v6 (fd00:1::11; tests/fixtures/audit/bmcs.yaml:12: rack=a, site=ams1, vendor=supermicro)",
            &[("internet", "bmc-v6", "tcp", Some(443), Some("https"), 1)],
        ),
        seen(
            "BW606",
            "info",
            &format!("internal addresses tried {a1}"),
            &[("admin", "bmc-a1", "tcp", Some(22), Some("ssh"), 2)],
        ),
    ]
}

fn audit(policy: &str, lab: &Lab, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["audit", policy, "--netns", &lab.gw, "--today", TODAY];
    args.extend_from_slice(extra);
    bmcwall(&args)
}

/// Per counter name, the packets `usage` reports.
fn usage(policy: &str, lab: &Lab) -> BTreeMap<String, u64> {
    let out = bmcwall(&[
        "usage", policy, "--netns", &lab.gw, "--format", "json", "--today", TODAY,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    report["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            let rule = r["rule"].as_str().unwrap_or("no rule matched").to_string();
            (rule, r["packets"].as_u64().expect("packets"))
        })
        .collect()
}

#[test]
fn audit_reports_each_recorded_flow_in_policy_terms() {
    if harness::skipped() {
        return;
    }
    let checked = crate::support::check(&fixture(SITE));
    let traffic = traffic();
    let denied: u64 = traffic.iter().map(|(_, n)| n).sum::<u64>() - 3;
    let dir = tempfile::tempdir().expect("temp dir");
    for (layout, json) in FORMS {
        let name = form_name(layout, json);
        let lab = Lab::new();
        let path = dir.path().join(if json { "t.json" } else { "t.nft" });
        std::fs::write(&path, render(&build(&checked, layout), json)).expect("write");
        lab.load(&path, json)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        send(&lab, &traffic);
        let out = audit(SITE, &lab, &["--format", "json"]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
        assert_eq!(findings(&report), expected(), "{name}");
        assert_eq!(
            report["summary"],
            serde_json::json!({"error": 2, "warning": 4, "info": 3}),
            "{name}"
        );
        let first = &report["findings"][0]["flows"][0];
        assert_eq!(first["destination"]["address"], "203.0.113.53", "{name}");
        let bytes = 3 * harness::craft(&traffic[0].0, 40000).len() as u64;
        assert_eq!(first["bytes"].as_u64(), Some(bytes), "{name}: {first}");
        assert_eq!(
            usage(SITE, &lab),
            BTreeMap::from([
                ("tests/fixtures/audit/site.wall:11".to_string(), 1),
                ("tests/fixtures/audit/site.wall:12".to_string(), 2),
                ("no rule matched".to_string(), denied),
            ]),
            "{name}"
        );
        // For people: the error first, each flow's far end and service.
        let out = audit(SITE, &lab, &[]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let text = stdout(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[1],
            "error[BW601] bmc-called-out: BMC bmc-a1 (10.1.0.11; tests/fixtures/audit/bmcs.yaml:2: rack=a, site=ams1, vendor=dell) tried the internet",
            "{name}"
        );
        let line = format!(
            "    -> 203.0.113.53 (internet) udp 53 (dns): 3 packets, {bytes} bytes, last seen "
        );
        assert!(lines[2].starts_with(&line), "{name}: {}", lines[2]);
        assert_eq!(
            lines.last(),
            Some(&"2 errors, 4 warnings, 3 infos"),
            "{name}"
        );
        // Levels apply as to every check: the BMC calling out lowered to a
        // warning is exit 0; knocks not reported at all.
        let out = audit(
            SITE,
            &lab,
            &["--warn", "BW601", "--allow", "BW605", "--format", "json"],
        );
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
        assert_eq!(
            report["summary"],
            serde_json::json!({"warning": 6, "info": 1}),
            "{name}"
        );
        // Prometheus: per BMC, direction and peer class.
        let out = audit(SITE, &lab, &["--format", "prometheus"]);
        let text = stdout(&out);
        for line in [
            "bmcwall_bmc_denied_packets_total{bmc=\"bmc-a1\",direction=\"from\",peer_class=\"internet\"} 6",
            "bmcwall_bmc_denied_packets_total{bmc=\"bmc-a1\",direction=\"from\",peer_class=\"bmc\"} 2",
            "bmcwall_bmc_denied_packets_total{bmc=\"bmc-a2\",direction=\"from\",peer_class=\"internal\"} 4",
            "bmcwall_bmc_denied_packets_total{bmc=\"bmc-a1\",direction=\"to\",peer_class=\"internet\"} 3",
            "bmcwall_bmc_denied_packets_total{bmc=\"bmc-a1\",direction=\"to\",peer_class=\"internal\"} 2",
            "bmcwall_bmc_denied_packets_total{bmc=\"bmc-v6\",direction=\"from\",peer_class=\"internet\"} 2",
            "bmcwall_bmc_denied_packets_total{bmc=\"bmc-v6\",direction=\"to\",peer_class=\"internet\"} 1",
            "bmcwall_unknown_devices 2",
            "bmcwall_unknown_device_denied_packets_total 7",
            "bmcwall_recording_sets_full 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{name}: {line} in\n{text}");
        }
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("bmcwall_bmc_denied_packets_total{"))
                .count(),
            7,
            "{name}"
        );
    }
}

/// Sets of one element: the second flow is dropped all the same, not
/// recorded, and the report says the set is full. The same listing read
/// through another policy is refused with exit 3.
#[test]
fn audit_says_a_set_is_full_and_refuses_another_policys_table() {
    if harness::skipped() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let table = dir.path().join("t.nft");
    let out = bmcwall(&[
        "compile",
        SITE,
        "--record-size",
        "1",
        "-o",
        table.to_str().expect("path"),
        "--today",
        TODAY,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lab = Lab::new();
    lab.load(&table, false).expect("load");
    let calls = [
        (flow("10.1.0.11", "203.0.113.53", 17, Some(53)), 1),
        (flow("10.1.0.11", "198.51.100.7", 6, Some(443)), 1),
    ];
    let mut arrived = 0;
    for (flow, _) in &calls {
        arrived += lab.probe(&[*flow]).len();
    }
    assert_eq!(arrived, 0, "both are dropped");
    let out = audit(SITE, &lab, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let codes: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        [
            (
                "BW601",
                "BMC bmc-a1 (10.1.0.11; tests/fixtures/audit/bmcs.yaml:2: rack=a, site=ams1, vendor=dell) tried the internet"
            ),
            (
                "BW607",
                "recording set denied_from_bmcs_ports_v4 is full (1 elements): denied flows beyond them were dropped but not recorded"
            ),
        ]
    );
    assert_eq!(
        report["findings"][0]["flows"].as_array().map(Vec::len),
        Some(1)
    );
    let saved = dir.path().join("live.json");
    std::fs::write(&saved, lab.list_table_json("bmcwall").expect("list")).expect("write");
    let out = bmcwall(&[
        "audit",
        AMS1,
        "--live",
        saved.to_str().unwrap(),
        "--today",
        TODAY,
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains("was compiled from policy sha256:")
            && message.contains("not from examples/ams1/ams1.wall"),
        "{message}"
    );
    assert_eq!(stdout(&out), "");
}

/// `apply` over a table that recorded flows keeps its elements and counts,
/// and records when each count started; `--state` keeps totals and first
/// seen across a reload that resets everything.
#[test]
fn apply_and_state_keep_what_was_recorded() {
    if harness::skipped() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for file in ["site.wall", "bmcs.yaml"] {
        std::fs::copy(
            fixture(&format!("tests/fixtures/audit/{file}")),
            dir.path().join(file),
        )
        .expect("copy");
    }
    let first = dir.path().join("site.wall");
    let first = first.to_str().expect("path").to_string();
    let run = tempfile::Builder::new()
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir()
        .expect("state directory");
    let env = [("BMCWALL_RUN_DIR", run.path().to_str().expect("path"))];
    let lab = Lab::new();
    let apply = |policy: &str| {
        let out = bmcwall_in(
            crate_root(),
            &["apply", policy, "--netns", &lab.gw, "--today", TODAY],
            "",
            &env,
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    let before_apply = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64;
    apply(&first);
    let call = flow("10.1.0.11", "203.0.113.53", 17, Some(53));
    send(&lab, &[(call, 3)]);
    // A changed policy: the recorded flow and the unchanged rules' counts
    // and starts stay.
    let second = dir.path().join("site2.wall");
    let text = std::fs::read_to_string(&first).expect("read");
    std::fs::write(&second, format!("{text}allow admin -> bmcs : ssh;\n")).expect("write");
    let second = second.to_str().expect("path").to_string();
    apply(&second);
    let packets_of = |report: &Value| report["findings"][0]["flows"][0]["packets"].as_u64();
    let out = audit(&second, &lab, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(packets_of(&report), Some(3), "{report}");
    let out = bmcwall(&[
        "usage", &second, "--netns", &lab.gw, "--format", "json", "--today", TODAY,
    ]);
    let usage: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let started = usage["counts_started"].as_i64().expect("a start");
    assert!(started >= before_apply, "{usage}");
    let rules = usage["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 4, "{usage}");
    assert!(
        rules.iter().all(|r| r["since"].as_i64() >= Some(started)),
        "{usage}"
    );
    assert_eq!(
        rules[3]["packets"].as_u64(),
        Some(3),
        "no rule matched: {usage}"
    );
    // --state across a reload with nft -f, which resets every count.
    let state = dir.path().join("state.json");
    let state = state.to_str().expect("path");
    let out = audit(&second, &lab, &["--format", "json", "--state", state]);
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let first_seen = report["findings"][0]["flows"][0]["first_seen"]
        .as_i64()
        .expect("first seen");
    let compiled = dir.path().join("t.nft");
    let out = bmcwall(&[
        "compile",
        &second,
        "-o",
        compiled.to_str().unwrap(),
        "--today",
        TODAY,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    lab.load(&compiled, false).expect("reload");
    send(&lab, &[(call, 1)]);
    let out = audit(&second, &lab, &["--format", "json", "--state", state]);
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(
        packets_of(&report),
        Some(4),
        "3 before the reload, 1 after: {report}"
    );
    assert_eq!(
        report["findings"][0]["flows"][0]["first_seen"].as_i64(),
        Some(first_seen)
    );
    let out = bmcwall(&[
        "usage", &second, "--netns", &lab.gw, "--format", "json", "--today", TODAY, "--state",
        state,
    ]);
    let usage: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let rules = usage["rules"].as_array().expect("rules");
    assert_eq!(
        rules[3]["packets"].as_u64(),
        Some(1),
        "the first usage run began the state: {usage}"
    );
    let out = bmcwall(&[
        "usage", &second, "--netns", &lab.gw, "--format", "json", "--today", TODAY, "--state",
        state,
    ]);
    let usage: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(usage["rules"][3]["packets"].as_u64(), Some(1), "{usage}");
    assert!(usage["counts_started"].as_i64().is_some(), "{usage}");
}

/// What `watch` makes unknown: its networks (several statements joined)
/// less the BMCs, the `host`s and the gateways' addresses; a network or
/// group is no known device.
#[test]
fn watched_networks_less_what_the_policy_knows_are_unknown() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        fixture("tests/fixtures/audit/bmcs.yaml"),
        dir.path().join("bmcs.yaml"),
    )
    .expect("copy");
    let policy = dir.path().join("p.wall");
    std::fs::write(
        &policy,
        "internal 10.0.0.0/8, fd00::/8;\n\
         watch 10.1.0.0/28;\n\
         watch fd00:1::/126;\n\
         inventory \"bmcs.yaml\";\n\
         host jump = 10.1.0.5;\n\
         network lab = 10.1.0.8/30;\n\
         gateway gw = 10.1.0.1 { scope bmcs, 10.1.0.0/28, fd00:1::/126; }\n\
         allow jump -> bmcs : https;\n",
    )
    .expect("write");
    let checked = crate::support::check(&policy);
    let (model, _) = checked.model.as_ref().expect("valid");
    let unknown = model.unknown_watched();
    let v4: Vec<(String, String)> = unknown
        .v4
        .intervals()
        .iter()
        .map(|&(lo, hi)| {
            (
                std::net::Ipv4Addr::from(lo).to_string(),
                std::net::Ipv4Addr::from(hi).to_string(),
            )
        })
        .collect();
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        v4,
        [
            pair("10.1.0.0", "10.1.0.0"),
            pair("10.1.0.2", "10.1.0.4"),
            pair("10.1.0.6", "10.1.0.10"),
            pair("10.1.0.13", "10.1.0.15"),
        ]
    );
    let v6: Vec<(u128, u128)> = unknown.v6.intervals().to_vec();
    let base = u128::from("fd00:1::".parse::<std::net::Ipv6Addr>().expect("v6"));
    assert_eq!(
        v6,
        [(base, base + 3)],
        "fd00:1::11 is outside the watched /126"
    );
    // The table looks them up, and records what they send.
    let out = bmcwall(&[
        "compile",
        policy.to_str().expect("path"),
        "--gateway",
        "gw",
        "--today",
        TODAY,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("ip saddr @unknown_devices_v4 update @denied_from_unknown_ports_v4"),
        "{text}"
    );
    assert!(text.contains("set unknown_devices_v6 {"), "{text}");
}

/// `apply --ruleset` (a table compiled elsewhere, as a pipeline pushes it)
/// carries counts, their starts and recorded elements over as an apply of
/// the policy does.
#[test]
fn apply_ruleset_carries_what_was_recorded() {
    if harness::skipped() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for file in ["site.wall", "bmcs.yaml"] {
        std::fs::copy(
            fixture(&format!("tests/fixtures/audit/{file}")),
            dir.path().join(file),
        )
        .expect("copy");
    }
    let first = dir.path().join("site.wall");
    let second = dir.path().join("site2.wall");
    let text = std::fs::read_to_string(&first).expect("read");
    std::fs::write(&second, format!("{text}allow admin -> bmcs : ssh;\n")).expect("write");
    let run = tempfile::Builder::new()
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir()
        .expect("state directory");
    let env = [("BMCWALL_RUN_DIR", run.path().to_str().expect("path"))];
    let lab = Lab::new();
    let push = |policy: &std::path::Path| {
        let compiled = policy.with_extension("nft");
        let out = bmcwall(&[
            "compile",
            policy.to_str().expect("path"),
            "-o",
            compiled.to_str().expect("path"),
            "--today",
            TODAY,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let out = bmcwall_in(
            crate_root(),
            &[
                "apply",
                "--ruleset",
                compiled.to_str().expect("path"),
                "--netns",
                &lab.gw,
            ],
            "",
            &env,
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    push(&first);
    let call = flow("10.1.0.11", "203.0.113.53", 17, Some(53));
    let admin = flow("10.0.5.5", "10.1.0.11", 6, Some(443));
    send(&lab, &[(call, 2), (admin, 3)]);
    push(&second);
    let second = second.to_str().expect("path");
    let out = audit(second, &lab, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(
        report["findings"][0]["flows"][0]["packets"].as_u64(),
        Some(2),
        "{report}"
    );
    let out = bmcwall(&[
        "usage", second, "--netns", &lab.gw, "--format", "json", "--today", TODAY,
    ]);
    let usage: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let counts: Vec<(Option<u64>, bool)> = usage["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| (r["packets"].as_u64(), r["since"].is_i64()))
        .collect();
    assert_eq!(
        counts,
        [
            (Some(3), true),
            (Some(0), true),
            (Some(0), true),
            (Some(2), true)
        ],
        "{usage}"
    );
}

/// Naming one address by lookups names it as naming its one-address set
/// does: every address of the example's definitions, their neighbours and
/// some of the internet, both families.
#[test]
fn one_address_is_named_as_its_set_is() {
    let checked = crate::support::check(&fixture(AMS1));
    let (policy, _) = checked.model.as_ref().expect("valid");
    let names = policy.address_names();
    let mut addresses: Vec<IpAddr> = ["8.8.8.8", "10.0.0.1", "2001:db8::1", "fd00::1", "::"]
        .iter()
        .map(|a| a.parse().expect("address"))
        .collect();
    for set in policy
        .definitions
        .iter()
        .filter_map(|d| match &d.kind {
            bmcwall::resolve::NamedKind::Address(_, set) => Some(set),
            _ => None,
        })
        .chain([&policy.bmcs])
    {
        for &(lo, hi) in set.v4.intervals() {
            for a in [lo.saturating_sub(1), lo, hi, hi.saturating_add(1)] {
                addresses.push(IpAddr::V4(a.into()));
            }
        }
        for &(lo, hi) in set.v6.intervals() {
            for a in [lo.saturating_sub(1), lo, hi, hi.saturating_add(1)] {
                addresses.push(IpAddr::V6(a.into()));
            }
        }
    }
    assert!(addresses.len() > 40, "{}", addresses.len());
    for address in addresses {
        let mut set = bmcwall::addr::AddrSet::empty();
        match address {
            IpAddr::V4(a) => set.v4 = bmcwall::addr::IntervalSet::interval(a.into(), a.into()),
            IpAddr::V6(a) => set.v6 = bmcwall::addr::IntervalSet::interval(a.into(), a.into()),
        }
        assert_eq!(names.name_address(address), names.name(&set), "{address}");
    }
}
