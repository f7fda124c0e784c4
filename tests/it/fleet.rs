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
