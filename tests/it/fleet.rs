//! Fleets in real kernels: the shipped fleet (examples/fleet/) compiled with
//! `compile --all`, each gateway's table loaded into its own network
//! namespace of a lab with three sites (one behind an HA pair), a core
//! router, the outside and a jump host in `mode host`; probes across the
//! sites, through the jump host and out of them arrive exactly when every
//! gateway they cross lets them, as `check`'s model says: the flow is
//! allowed, or none of those gateways governs it. Both layouts, both forms,
//! and again after the pair fails over.

use crate::harness::{self, fleet::FleetLab};
use crate::support::{bmcwall, check, crate_root};
use bmcwall::addr::service::{ServicePoint, TCP, UDP};
use bmcwall::analysis::{Family, Flow};
use std::collections::BTreeSet;

const FLEET: &str = "examples/fleet/fleet.wall";

fn flow(src: &str, dst: &str, proto: u8, port: Option<u16>) -> Flow {
    let address = |a: &str| u128::from(u32::from(a.parse::<std::net::Ipv4Addr>().expect("IPv4")));
    Flow {
        family: Family::V4,
        src: address(src),
        dst: address(dst),
        service: ServicePoint { proto, port },
    }
}

/// The probes: (what it is, flow).
fn probes() -> Vec<(&'static str, Flow)> {
    let (ams1, ams1_dell, fra1, nyc1_dell, nyc1_lenovo) = (
        "10.1.10.11",
        "10.1.10.21",
        "10.2.10.11",
        "10.3.10.11",
        "10.3.10.12",
    );
    let (noc, jump, ntp, internet, ops) = (
        "10.30.8.9",
        "10.2.0.5",
        "10.30.0.123",
        "198.51.100.7",
        "10.1.8.5",
    );
    vec![
        (
            "NOC to a NYC1 Dell iDRAC web",
            flow(noc, nyc1_dell, TCP, Some(443)),
        ),
        (
            "NOC to a NYC1 Lenovo (not Dell)",
            flow(noc, nyc1_lenovo, TCP, Some(443)),
        ),
        ("NOC to an AMS1 BMC", flow(noc, ams1, TCP, Some(443))),
        ("NOC to the jump host's SSH", flow(noc, jump, TCP, Some(22))),
        (
            "the internet to the jump host's SSH",
            flow(internet, jump, TCP, Some(22)),
        ),
        (
            "the internet to an AMS1 BMC",
            flow(internet, ams1_dell, TCP, Some(443)),
        ),
        (
            "the jump host to an AMS1 BMC, Redfish",
            flow(jump, ams1, TCP, Some(443)),
        ),
        (
            "the jump host to an AMS1 BMC, IPMI",
            flow(jump, ams1_dell, UDP, Some(623)),
        ),
        (
            "the jump host to a FRA1 BMC, Redfish",
            flow(jump, fra1, TCP, Some(443)),
        ),
        (
            "the jump host to a NYC1 BMC, SSH",
            flow(jump, nyc1_lenovo, TCP, Some(22)),
        ),
        (
            "the jump host to the NOC (only its own table governs it)",
            flow(jump, noc, TCP, Some(80)),
        ),
        ("an AMS1 BMC to NTP", flow(ams1, ntp, UDP, Some(123))),
        (
            "an AMS1 BMC to the internet, DNS",
            flow(ams1, internet, UDP, Some(53)),
        ),
        (
            "an AMS1 BMC to a FRA1 BMC (lateral, across sites)",
            flow(ams1, fra1, TCP, Some(443)),
        ),
        (
            "a NYC1 BMC to an AMS1 BMC",
            flow(nyc1_dell, ams1_dell, TCP, Some(443)),
        ),
        (
            "AMS1 operators to a NYC1 BMC",
            flow(ops, nyc1_dell, TCP, Some(443)),
        ),
        ("AMS1 operators to the NOC", flow(ops, noc, TCP, Some(443))),
        (
            "a FRA1 BMC pinging the internet",
            flow(fra1, internet, 1, None),
        ),
    ]
}

#[test]
fn every_gateway_of_the_fleet_enforces_its_share_of_the_policy() {
    if harness::skipped() {
        return;
    }
    let checked = check(&crate_root().join(FLEET));
    let (policy, analysis) = checked.model.as_ref().expect("the fleet checks");
    let lab = FleetLab::new(
        &[
            (&["ams1-gw", "ams1-gw-b"], &["10.1.10.0/24", "10.1.8.0/24"]),
            (&["fra1-gw"], &["10.2.10.0/24"]),
            (&["nyc1-gw"], &["10.3.10.0/24"]),
        ],
        ("jump-fra1-fw", "10.2.0.5"),
    );
    // The gateways a probe crosses: its source's and destination's site
    // gateway (the active member of a pair), the jump host when it is an end.
    let site_gateway = |address: u128| -> Option<&str> {
        let a = address as u32 >> 16;
        match a {
            0x0A01 => Some("ams1-gw"),
            0x0A02 if address as u32 != 0x0A02_0005 => Some("fra1-gw"),
            0x0A03 => Some("nyc1-gw"),
            _ => None,
        }
    };
    let expected = |active_ams1: &str| -> BTreeSet<Flow> {
        probes()
            .into_iter()
            .map(|(_, f)| f)
            .filter(|f| {
                let mut crossed: Vec<&str> = [site_gateway(f.src), site_gateway(f.dst)]
                    .into_iter()
                    .flatten()
                    .map(|g| if g == "ams1-gw" { active_ams1 } else { g })
                    .collect();
                if f.src == 0x0A02_0005 || f.dst == 0x0A02_0005 {
                    crossed.push("jump-fra1-fw");
                }
                let governing: Vec<usize> = policy.gateways_on(f.src_ip(), f.dst_ip());
                let allowed = analysis
                    .decide(f)
                    .is_some_and(|r| policy.rules[r].action == bmcwall::model::Action::Allow);
                crossed.iter().all(|name| {
                    let index = policy.gateway_named(name).expect("a gateway of the fleet");
                    allowed || !governing.contains(&index)
                })
            })
            .collect()
    };
    let want = expected("ams1-gw");
    assert_eq!(
        want,
        expected("ams1-gw-b"),
        "the pair's members share a table"
    );
    let flows: Vec<Flow> = probes().into_iter().map(|(_, f)| f).collect();
    // Not vacuous: some arrive, some do not, and the jump host's own table
    // is what stops one of them.
    assert_eq!(
        (want.len(), flows.len()),
        (6, 18),
        "expected arrivals: {want:?}"
    );
    let describe = |set: &BTreeSet<Flow>| -> Vec<&str> {
        probes()
            .into_iter()
            .filter(|(_, f)| set.contains(f))
            .map(|(what, _)| what)
            .collect()
    };
    for (layout, json) in [
        ("sets", false),
        ("sets", true),
        ("rules", false),
        ("rules", true),
    ] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let out = dir.path().join("out");
        let mut args = vec![
            "compile",
            FLEET,
            "--all",
            "-o",
            out.to_str().expect("UTF-8"),
            "--layout",
            layout,
        ];
        if json {
            args.extend(["--format", "json"]);
        }
        let compiled = bmcwall(&args);
        assert_eq!(
            compiled.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&compiled.stderr)
        );
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("manifest.json")).expect("a manifest"),
        )
        .expect("JSON");
        let files: Vec<&str> = manifest["gateways"]
            .as_array()
            .expect("gateways")
            .iter()
            .map(|g| g["file"].as_str().expect("a file"))
            .collect();
        let extension = if json { "json" } else { "nft" };
        assert_eq!(
            files,
            ["ams1-gw", "ams1-gw-b", "fra1-gw", "jump-fra1-fw", "nyc1-gw"]
                .map(|g| format!("{g}.{extension}")),
        );
        for (name, ns) in &lab.gateways {
            let file = out.join(format!("{name}.{extension}"));
            let file = file.to_str().expect("UTF-8");
            let mut load = vec!["ip", "netns", "exec", ns, "nft"];
            if json {
                load.push("-j");
            }
            load.extend(["-f", file]);
            let loaded = std::process::Command::new(load[0])
                .args(&load[1..])
                .output()
                .expect("nft runs");
            assert!(
                loaded.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&loaded.stderr)
            );
        }
        for (member, active) in [(0, "ams1-gw"), (1, "ams1-gw-b")] {
            lab.fail_over(0, member);
            let arrived = lab.probe(&flows);
            assert_eq!(
                describe(&arrived),
                describe(&want),
                "{layout} layout, {} form, AMS1 through {active}",
                if json { "JSON" } else { "text" }
            );
        }
        lab.fail_over(0, 0);
        // Every gateway's table is the compiled one, as plan sees it.
        for (name, ns) in &lab.gateways {
            let plan = bmcwall(&["plan", FLEET, "--gateway", name, "--netns", ns]);
            assert_eq!(
                plan.status.code(),
                Some(0),
                "{name}: {}",
                String::from_utf8_lossy(&plan.stdout)
            );
        }
    }
}

/// `text` with every path under `dir` replaced by `DIR`.
fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A copy of the shipped fleet in `dir`, with `edit` applied to fleet.wall.
fn fleet_copy(dir: &std::path::Path, edit: impl Fn(String) -> String) -> std::path::PathBuf {
    let from = crate_root().join("examples/fleet");
    std::fs::create_dir_all(dir.join("inventory")).expect("a directory");
    for file in [
        "common.wall",
        "inventory/ams1.yaml",
        "inventory/fra1.yaml",
        "inventory/nyc1.yaml",
    ] {
        std::fs::copy(from.join(file), dir.join(file)).expect("copy");
    }
    let text = std::fs::read_to_string(from.join("fleet.wall")).expect("read");
    let path = dir.join("fleet.wall");
    std::fs::write(&path, edit(text)).expect("write");
    path
}

#[test]
fn compile_all_writes_every_gateway_and_a_manifest() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("out");
    let compiled = bmcwall(&[
        "compile",
        FLEET,
        "--all",
        "-o",
        out.to_str().expect("UTF-8"),
    ]);
    assert_eq!(compiled.status.code(), Some(0), "{}", stderr_of(&compiled));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .expect("the directory")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "ams1-gw-b.nft",
            "ams1-gw.nft",
            "fra1-gw.nft",
            "jump-fra1-fw.nft",
            "manifest.json",
            "nyc1-gw.nft"
        ]
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).expect("read"))
            .expect("JSON");
    let gateways = manifest["gateways"].as_array().expect("gateways");
    for gateway in gateways {
        let text =
            std::fs::read(out.join(gateway["file"].as_str().expect("a file"))).expect("read");
        let digest: String = Sha256::digest(&text)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(gateway["sha256"], digest.as_str(), "{}", gateway["gateway"]);
    }
    let pick = |name: &str| {
        gateways
            .iter()
            .find(|g| g["gateway"] == name)
            .expect("listed")
    };
    let (primary, member, jump) = (pick("ams1-gw"), pick("ams1-gw-b"), pick("jump-fra1-fw"));
    assert_eq!(member["table_of"], "ams1-gw");
    assert_eq!(
        member["sha256"], primary["sha256"],
        "a pair's members get one table"
    );
    assert_eq!(
        primary["members"],
        serde_json::json!(["ams1-gw", "ams1-gw-b"])
    );
    assert_eq!(primary["mode"], serde_json::json!(["forward", "host"]));
    assert_eq!(jump["mode"], serde_json::json!(["host"]));
    assert_eq!(jump["addresses"], serde_json::json!(["10.2.0.5"]));
    assert_eq!(
        (
            primary["bmcs"].as_u64(),
            pick("fra1-gw")["bmcs"].as_u64(),
            jump["bmcs"].as_u64()
        ),
        (Some(3), Some(2), Some(0))
    );
    // The sizes follow each gateway's own share: FRA1's table is smaller
    // than AMS1's, which also filters its own traffic.
    assert!(pick("fra1-gw")["elements"].as_u64() < primary["elements"].as_u64());
    let sources: Vec<&str> = manifest["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .map(|s| s["path"].as_str().expect("a path"))
        .collect();
    assert_eq!(
        sources,
        [
            "examples/fleet/fleet.wall",
            "examples/fleet/common.wall",
            "examples/fleet/inventory/ams1.yaml",
            "examples/fleet/inventory/fra1.yaml",
            "examples/fleet/inventory/nyc1.yaml"
        ]
    );
    // One gateway's table on its own is the file --all wrote for it.
    let one = bmcwall(&["compile", FLEET, "--gateway", "ams1-gw-b"]);
    assert_eq!(
        one.stdout,
        std::fs::read(out.join("ams1-gw-b.nft")).expect("read")
    );
    // The same input gives the same bytes; the JSON form replaces the text
    // files of the manifest before, and no others.
    std::fs::write(out.join("notes.txt"), "kept").expect("write");
    let again = bmcwall(&[
        "compile",
        FLEET,
        "--all",
        "-o",
        out.to_str().expect("UTF-8"),
        "--format",
        "json",
    ]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr_of(&again));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .expect("the directory")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "ams1-gw-b.json",
            "ams1-gw.json",
            "fra1-gw.json",
            "jump-fra1-fw.json",
            "manifest.json",
            "notes.txt",
            "nyc1-gw.json"
        ]
    );
}

#[test]
fn a_fleet_with_an_error_writes_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let exposed = fleet_copy(dir.path(), |text| {
        text.replace("\nallow ", "\nallow any -> nyc1-dell : https;\nallow ")
    });
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("a directory");
    std::fs::write(out.join("fra1-gw.nft"), "the table before").expect("write");
    let compiled = bmcwall(&[
        "compile",
        exposed.to_str().expect("UTF-8"),
        "--all",
        "-o",
        out.to_str().expect("UTF-8"),
    ]);
    assert_eq!(compiled.status.code(), Some(1), "{}", stderr_of(&compiled));
    assert!(
        stderr_of(&compiled).contains("BW201"),
        "{}",
        stderr_of(&compiled)
    );
    let names: Vec<String> = std::fs::read_dir(&out)
        .expect("the directory")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names, ["fra1-gw.nft"]);
    assert_eq!(
        std::fs::read_to_string(out.join("fra1-gw.nft")).expect("read"),
        "the table before"
    );
}

#[test]
fn fleet_commands_name_their_gateway() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["compile", FLEET],
            "bmcwall: the policy declares gateways (ams1-gw, ams1-gw-b, fra1-gw, jump-fra1-fw, nyc1-gw): name one with --gateway NAME, or all of them with --all -o DIR\n",
        ),
        (
            &["compile", FLEET, "--gateway", "fra1-wg"],
            "bmcwall: the policy declares no gateway `fra1-wg` (did you mean `fra1-gw`?); its gateways: ams1-gw, ams1-gw-b, fra1-gw, jump-fra1-fw, nyc1-gw\n",
        ),
        (
            &["compile", "examples/ams1/ams1.wall", "--gateway", "ams1-gw"],
            "bmcwall: --gateway ams1-gw: the policy declares no gateway (it has one table: leave out --gateway)\n",
        ),
        (
            &["explain", FLEET, "--gateway", "nyc2-gw"],
            "bmcwall: the policy declares no gateway `nyc2-gw` (did you mean `nyc1-gw`?); its gateways: ams1-gw, ams1-gw-b, fra1-gw, jump-fra1-fw, nyc1-gw\n",
        ),
        (
            &["plan", FLEET, "--live", "/nonexistent.json"],
            "bmcwall: the policy declares gateways (ams1-gw, ams1-gw-b, fra1-gw, jump-fra1-fw, nyc1-gw): name one with --gateway NAME\n",
        ),
    ];
    for (args, said) in cases {
        let output = bmcwall(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        let stderr = stderr_of(&output);
        assert!(stderr.ends_with(said), "{args:?}: {stderr}");
    }
}

#[test]
fn explain_gateway_lists_what_reaches_its_bmcs() {
    let output = bmcwall(&["explain", FLEET, "--gateway", "ams1-gw-b"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "gateway ams1-gw-b: what reaches its 3 BMCs, by rule (first match)\n\
         (the table of its pair, ams1-gw)\n\
         FROM       TO         SERVICES                          RULE\n\
         jump-fra1  ams1-bmcs  tcp 443, udp 623                  examples/fleet/fleet.wall:29 \"the jump host manages every BMC\"\n\
         ams1-ops   ams1-bmcs  tcp 443, tcp 5120, tcp 5900-5901  examples/fleet/fleet.wall:30 \"AMS1 operators manage their site\"\n"
    );
    let crossing = bmcwall(&[
        "explain",
        FLEET,
        "--from",
        "jump-fra1",
        "--to",
        "nyc1-r1-01",
        "--proto",
        "tcp",
        "--port",
        "443",
    ]);
    assert_eq!(crossing.status.code(), Some(0));
    let text = String::from_utf8_lossy(&crossing.stdout);
    assert!(
        text.contains("\ngateways: jump-fra1-fw, nyc1-gw\n"),
        "{text}"
    );
}

#[test]
fn check_verbose_counts_each_gateway() {
    let output = bmcwall(&["check", "-v", FLEET]);
    assert_eq!(output.status.code(), Some(0));
    let stderr = stderr_of(&output);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("gateway "))
        .collect();
    assert_eq!(lines.len(), 5, "{stderr}");
    assert!(
        lines[1].starts_with("gateway ams1-gw-b: mode forward, host, the table of ams1-gw, "),
        "{}",
        lines[1]
    );
    assert!(
        lines[3].starts_with("gateway jump-fra1-fw: mode host, "),
        "{}",
        lines[3]
    );
    assert!(lines[3].ends_with(", 0 BMCs"), "{}", lines[3]);
}

/// Loads `file` (text) into `ns` and saves its listing as `nft -j list
/// table inet bmcwall` does, to `to`.
fn load_and_save(ns: &harness::Namespace, file: &std::path::Path, to: &std::path::Path) {
    ns.load(&std::fs::read_to_string(file).expect("read"))
        .expect("load");
    let listing = ns
        .nft(&["-j", "list", "table", "inet", "bmcwall"])
        .expect("list");
    std::fs::write(to, listing).expect("write");
}

#[test]
fn plan_all_reads_the_live_tables_a_pipeline_saved() {
    if harness::skipped() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (out, live) = (dir.path().join("out"), dir.path().join("live"));
    std::fs::create_dir(&live).expect("a directory");
    let compiled = bmcwall(&[
        "compile",
        FLEET,
        "--all",
        "-o",
        out.to_str().expect("UTF-8"),
    ]);
    assert_eq!(compiled.status.code(), Some(0));
    let gateways = ["ams1-gw", "ams1-gw-b", "fra1-gw", "jump-fra1-fw", "nyc1-gw"];
    let namespaces: Vec<harness::Namespace> =
        gateways.iter().map(|_| harness::Namespace::new()).collect();
    for (name, ns) in gateways.iter().zip(&namespaces) {
        load_and_save(
            ns,
            &out.join(format!("{name}.nft")),
            &live.join(format!("{name}.json")),
        );
    }
    let live_arg = live.to_str().expect("UTF-8");
    let plan = bmcwall(&["plan", FLEET, "--all", "--live", live_arg]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stdout)
    );
    assert_eq!(
        String::from_utf8_lossy(&plan.stdout),
        "5 gateways:\n  ams1-gw: no changes\n  ams1-gw-b: no changes\n  fra1-gw: no changes\n  \
         jump-fra1-fw: no changes\n  nyc1-gw: no changes\n"
    );
    // Drift on one gateway: NYC1 runs a table without the iDRAC rule.
    let edited = dir.path().join("edited");
    let drifted = fleet_copy(&edited, |text| {
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !l.contains("iDRAC web from the NOC"))
            .collect();
        assert_eq!(
            kept.len() + 1,
            text.lines().count(),
            "the fleet has the iDRAC rule"
        );
        kept.join("\n") + "\n"
    });
    let drifted_out = edited.join("out");
    let recompiled = bmcwall(&[
        "compile",
        drifted.to_str().expect("UTF-8"),
        "--gateway",
        "nyc1-gw",
        "-o",
        drifted_out.to_str().expect("UTF-8"),
    ]);
    assert_eq!(
        recompiled.status.code(),
        Some(0),
        "{}",
        stderr_of(&recompiled)
    );
    load_and_save(&namespaces[4], &drifted_out, &live.join("nyc1-gw.json"));
    let plan = bmcwall(&["plan", FLEET, "--all", "--live", live_arg]);
    assert_eq!(plan.status.code(), Some(1));
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(text.ends_with("  fra1-gw: no changes\n  jump-fra1-fw: no changes\n  nyc1-gw: 1 newly allowed, 0 no longer allowed, 0 other\n"), "{text}");
    assert!(
        text.starts_with("gateway nyc1-gw: table inet bmcwall in "),
        "{text}"
    );
    let json = bmcwall(&[
        "plan", FLEET, "--all", "--live", live_arg, "--format", "json",
    ]);
    assert_eq!(json.status.code(), Some(1));
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let drifting: Vec<&str> = document["gateways"]
        .as_array()
        .expect("gateways")
        .iter()
        .filter(|g| g["changes"].as_array().is_some_and(|c| !c.is_empty()))
        .map(|g| g["gateway"].as_str().expect("a name"))
        .collect();
    assert_eq!(drifting, ["nyc1-gw"]);
    // A gateway whose live table was not collected: exit 3, named.
    std::fs::remove_file(live.join("fra1-gw.json")).expect("remove");
    let plan = bmcwall(&["plan", FLEET, "--all", "--live", live_arg]);
    assert_eq!(plan.status.code(), Some(3));
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        text.contains("\n  fra1-gw: cannot read the saved live table "),
        "{text}"
    );
    // An empty file is a gateway without the table: everything is new.
    std::fs::write(live.join("fra1-gw.json"), "").expect("write");
    let plan = bmcwall(&[
        "plan",
        FLEET,
        "--gateway",
        "fra1-gw",
        "--live",
        live.join("fra1-gw.json").to_str().expect("UTF-8"),
    ]);
    assert_eq!(plan.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&plan.stdout).contains("(absent: everything is new)"));
}

#[test]
fn apply_ruleset_loads_a_table_compiled_elsewhere() {
    if harness::skipped() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("out");
    let compiled = bmcwall(&[
        "compile",
        FLEET,
        "--all",
        "-o",
        out.to_str().expect("UTF-8"),
    ]);
    assert_eq!(compiled.status.code(), Some(0));
    let ns = harness::Namespace::new();
    let file = out.join("fra1-gw.nft");
    let file = file.to_str().expect("UTF-8");
    let apply = |args: &[&str]| {
        let mut all = vec!["apply", "--netns", &ns.name];
        all.extend_from_slice(args);
        crate::support::bmcwall_in(crate_root(), &all, "", &[ns.run_env()])
    };
    let first = apply(&["--ruleset", file]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr_of(&first));
    assert!(stderr_of(&first).ends_with(&format!(
        "bmcwall: applied table inet bmcwall in network namespace {}\n",
        ns.name
    )));
    let plan = bmcwall(&["plan", FLEET, "--gateway", "fra1-gw", "--netns", &ns.name]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stdout)
    );
    let again = apply(&[
        "--ruleset",
        file,
        "--confirm",
        "30",
        "--confirm-with",
        "true",
    ]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr_of(&again));
    assert!(
        stderr_of(&again).ends_with("is already the compiled table: left as it is\n"),
        "{}",
        stderr_of(&again)
    );
    // Another gateway's file is another table: loaded, with the rollback window.
    let other = out.join("nyc1-gw.nft");
    let switched = apply(&[
        "--ruleset",
        other.to_str().expect("UTF-8"),
        "--confirm",
        "30",
        "--confirm-with",
        "true",
    ]);
    assert_eq!(switched.status.code(), Some(0), "{}", stderr_of(&switched));
    let plan = bmcwall(&["plan", FLEET, "--gateway", "nyc1-gw", "--netns", &ns.name]);
    assert_eq!(plan.status.code(), Some(0));
    // Files that are not a table bmcwall compiled for this table name.
    let json = bmcwall(&["compile", FLEET, "--gateway", "fra1-gw", "--format", "json"]);
    let json_file = dir.path().join("fra1-gw.json");
    std::fs::write(&json_file, &json.stdout).expect("write");
    let refused = apply(&["--ruleset", json_file.to_str().expect("UTF-8")]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr_of(&refused).contains("is the JSON form; --ruleset takes the text form"),
        "{}",
        stderr_of(&refused)
    );
    let refused = apply(&["--ruleset", file, "--table", "other"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr_of(&refused).contains("is not a table bmcwall compiled for table inet other (it replaces table inet bmcwall: give --table bmcwall)"), "{}", stderr_of(&refused));
    // A table of the same name that bmcwall did not write stays.
    let foreign = harness::Namespace::new();
    foreign
        .load("table inet bmcwall {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\ttcp dport 22 accept\n\t}\n}\n")
        .expect("load");
    let refused = crate::support::bmcwall_in(
        crate_root(),
        &["apply", "--netns", &foreign.name, "--ruleset", file],
        "",
        &[foreign.run_env()],
    );
    assert_eq!(refused.status.code(), Some(3), "{}", stderr_of(&refused));
    assert!(
        stderr_of(&refused).contains("is not one bmcwall wrote"),
        "{}",
        stderr_of(&refused)
    );
}

#[test]
fn an_exposure_path_across_sites_names_the_gateway_at_every_hop() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let policy = fleet_copy(dir.path(), |_| {
        "internal 10.0.0.0/8;\n\
         inventory \"inventory/ams1.yaml\";\n\
         inventory \"inventory/fra1.yaml\";\n\
         gateway ams1-gw = 10.1.0.1 { scope inventory(site = \"ams1\"); }\n\
         gateway fra1-gw = 10.2.0.1 { scope inventory(site = \"fra1\"), jump-fra1; }\n\
         host jump-fra1 = 10.2.0.5;\n\
         allow any -> jump-fra1 : ssh;\n\
         allow jump-fra1 -> bmcs : https;\n\
         deny any -> bmcs;\n"
            .to_string()
    });
    let output = bmcwall(&["check", policy.to_str().expect("UTF-8"), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let exposure = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["code"] == "BW202")
        .expect("the internet reaches AMS1's BMCs through the FRA1 jump host");
    let hops: Vec<(String, String, serde_json::Value, u64)> = exposure["path"]
        .as_array()
        .expect("a path")
        .iter()
        .map(|hop| {
            (
                hop["src"].as_str().expect("src").to_string(),
                hop["dst"].as_str().expect("dst").to_string(),
                hop["gateways"].clone(),
                hop["rule"]["line"].as_u64().expect("a line"),
            )
        })
        .collect();
    assert_eq!(
        hops,
        [
            (
                "1.0.0.0".into(),
                "10.2.0.5".into(),
                serde_json::json!(["fra1-gw"]),
                7
            ),
            (
                "10.2.0.5".into(),
                "10.1.10.11".into(),
                serde_json::json!(["ams1-gw", "fra1-gw"]),
                8
            ),
        ]
    );
    let help = exposure["help"].as_str().expect("help");
    assert!(help.contains(":8, on ams1-gw, fra1-gw)"), "{help}");
}

#[test]
fn gateway_findings_name_their_gateways_in_json_and_sarif() {
    let fixture = "tests/fixtures/lints/bw502_trigger.wall";
    let json = bmcwall(&["check", fixture, "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let named: Vec<serde_json::Value> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == "BW502")
        .map(|d| d["gateways"].clone())
        .collect();
    assert_eq!(
        named,
        [
            serde_json::json!(["ams1-gw-b"]),
            serde_json::json!(["ams1-gw-c"]),
            serde_json::json!(["ams1-gw-d"])
        ]
    );
    let sarif = bmcwall(&["check", fixture, "--format", "sarif"]);
    let log: serde_json::Value = serde_json::from_slice(&sarif.stdout).expect("SARIF");
    let named: Vec<serde_json::Value> = log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["ruleId"] == "BW502")
        .map(|r| r["properties"]["gateways"].clone())
        .collect();
    assert_eq!(named.len(), 3);
    assert_eq!(named[0], serde_json::json!(["ams1-gw-b"]));
}
