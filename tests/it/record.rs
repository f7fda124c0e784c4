//! The recording sets in network namespaces: every probe the policy denies
//! that starts or ends at a BMC is an element with its exact packet count,
//! in both layouts, forms and families; a full set changes no verdict; a
//! short timeout lets elements expire.

use crate::harness::verify::{self, expected_arrivals, form_name, render, FORMS};
use crate::harness::{self, Lab};
use crate::kernel::cell_probes;
use crate::support::{self, fixture, AMS1};
use bmcwall::analysis::{Family, Flow};
use bmcwall::model::Action;
use bmcwall::nft::{self, Layout, Options, Record, RECORD_SETS};
use bmcwall::pipeline::Checked;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A recorded key: set name, source, destination, protocol, port.
type Key = (String, u128, u128, u8, Option<u16>);

fn build(checked: &Checked, layout: Layout, record: Record) -> nft::Ruleset {
    let (policy, analysis) = checked.model.as_ref().expect("a valid policy");
    let input = nft::Input {
        policy,
        analysis,
        sources: &checked.sources,
    };
    let options = Options {
        record: Some(record),
        ..Options::default()
    };
    nft::build_with(layout, input, nft::DEFAULT_TABLE, &options)
}

/// The elements of every recording set in the gateway, with their packets.
fn recorded(lab: &Lab) -> BTreeMap<Key, u64> {
    let mut out = BTreeMap::new();
    for family in ["v4", "v6"] {
        for (name, _, _) in RECORD_SETS {
            let set = format!("{name}_{family}");
            let listing = std::process::Command::new("ip")
                .args(["netns", "exec", &lab.gw, "nft", "-j", "-p", "list", "set"])
                .args(["inet", nft::DEFAULT_TABLE, &set])
                .output()
                .expect("nft runs");
            assert!(listing.status.success(), "{set}");
            let value: serde_json::Value =
                serde_json::from_slice(&listing.stdout).expect("nft JSON");
            let elements = value["nftables"]
                .as_array()
                .expect("objects")
                .iter()
                .find_map(|o| o["set"]["elem"].as_array().cloned())
                .unwrap_or_default();
            for element in elements {
                let element = &element["elem"];
                let parts = element["val"]["concat"]
                    .as_array()
                    .expect("a concatenation");
                let address = |v: &serde_json::Value| -> u128 {
                    match v.as_str().expect("an address").parse::<IpAddr>() {
                        Ok(IpAddr::V4(a)) => u128::from(u32::from(a)),
                        Ok(IpAddr::V6(a)) => u128::from(a),
                        Err(e) => panic!("{v}: {e}"),
                    }
                };
                let proto = parts[2].as_u64().expect("a protocol number") as u8;
                let port = parts.get(3).map(|p| p.as_u64().expect("a port") as u16);
                let packets = element["counter"]["packets"].as_u64().expect("a counter");
                let key = (
                    set.clone(),
                    address(&parts[0]),
                    address(&parts[1]),
                    proto,
                    port,
                );
                out.insert(key, packets);
            }
        }
    }
    out
}

/// What the sets must hold after each probe was sent once: the denied
/// probes in scope from a BMC and to one, by key, with how many probes
/// share the key.
fn expected_records(checked: &Checked, probes: &[Flow]) -> BTreeMap<Key, u64> {
    let (policy, analysis) = checked.model.as_ref().expect("a valid policy");
    let mut out = BTreeMap::new();
    for flow in probes {
        let allowed = analysis
            .decide(flow)
            .is_some_and(|r| policy.rules[r].action == Action::Allow);
        if !flow.in_scope(&policy.scope) || allowed {
            continue;
        }
        let family = if flow.family == Family::V4 {
            "v4"
        } else {
            "v6"
        };
        let holds = |address: u128| match flow.family {
            Family::V4 => policy.bmcs.v4.contains(address as u32),
            Family::V6 => policy.bmcs.v6.contains(address),
        };
        let ports = matches!(flow.service.proto, 6 | 17);
        for (name, from, with_ports) in RECORD_SETS {
            let end = if from { flow.src } else { flow.dst };
            if with_ports == ports && holds(end) {
                let port = if ports { flow.service.port } else { None };
                let key = (
                    format!("{name}_{family}"),
                    flow.src,
                    flow.dst,
                    flow.service.proto,
                    port,
                );
                *out.entry(key).or_default() += 1;
            }
        }
    }
    out
}

#[test]
fn denied_flows_of_bmcs_are_recorded_with_their_packet_counts() {
    if harness::skipped() {
        return;
    }
    let checked = support::check(&fixture(AMS1));
    let (policy, analysis) = checked.model.as_ref().expect("model");
    let probes = cell_probes(analysis);
    let arrivals = expected_arrivals(policy, analysis, &probes);
    let expected = expected_records(&checked, &probes);
    for family in ["_v4", "_v6"] {
        for (name, _, _) in RECORD_SETS {
            assert!(
                expected.keys().any(|k| k.0 == format!("{name}{family}")),
                "the probes fill {name}{family}"
            );
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for (layout, json) in FORMS {
        let name = form_name(layout, json);
        let lab = Lab::new();
        let text = render(&build(&checked, layout, Record::default()), json);
        if let Err(mismatch) = verify::verify(&lab, dir.path(), &text, json, &probes, &arrivals) {
            panic!("{name}: {}", mismatch.describe(policy, analysis));
        }
        assert_eq!(recorded(&lab), expected, "{name}");
    }
}

/// Sets of two elements fill at once: every probe is still decided as the
/// table says, and each set holds two of the flows it would record.
#[test]
fn a_full_recording_set_changes_no_verdict() {
    if harness::skipped() {
        return;
    }
    let checked = support::check(&fixture(AMS1));
    let (policy, analysis) = checked.model.as_ref().expect("model");
    let probes = cell_probes(analysis);
    let arrivals = expected_arrivals(policy, analysis, &probes);
    let expected = expected_records(&checked, &probes);
    let tiny = Record {
        size: 2,
        timeout: 3600,
    };
    let dir = tempfile::tempdir().expect("temp dir");
    for (layout, json) in [(Layout::Sets, false), (Layout::Rules, true)] {
        let name = form_name(layout, json);
        let lab = Lab::new();
        let text = render(&build(&checked, layout, tiny), json);
        if let Err(mismatch) = verify::verify(&lab, dir.path(), &text, json, &probes, &arrivals) {
            panic!("{name}: {}", mismatch.describe(policy, analysis));
        }
        let held = recorded(&lab);
        for family in ["_v4", "_v6"] {
            for (set, _, _) in RECORD_SETS {
                let set = format!("{set}{family}");
                let would = expected.keys().filter(|k| k.0 == set).count();
                let holds: Vec<&Key> = held.keys().filter(|k| k.0 == set).collect();
                assert_eq!(holds.len(), would.min(2), "{name}: {set}");
                assert!(
                    holds.iter().all(|k| expected.contains_key(*k)),
                    "{name}: {set}"
                );
            }
        }
    }
}

/// With a timeout of one second the elements are gone two seconds later.
#[test]
fn recorded_elements_expire_after_their_timeout() {
    if harness::skipped() {
        return;
    }
    let checked = support::check(&fixture(AMS1));
    let (policy, analysis) = checked.model.as_ref().expect("model");
    let probes = cell_probes(analysis);
    let arrivals = expected_arrivals(policy, analysis, &probes);
    let short = Record {
        size: 65_536,
        timeout: 1,
    };
    let lab = Lab::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let text = render(&build(&checked, Layout::Sets, short), false);
    if let Err(mismatch) = verify::verify(&lab, dir.path(), &text, false, &probes, &arrivals) {
        panic!("{}", mismatch.describe(policy, analysis));
    }
    assert!(!recorded(&lab).is_empty(), "recorded at first");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(recorded(&lab), BTreeMap::new(), "expired");
}
