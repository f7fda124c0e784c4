//! Inventories from Ansible and NetBox: the entries each importer reads, the
//! BMCs that selectors pick from them, and that their policies check and
//! compile. Broken inventories are in the invalid corpus (`diagnostics.rs`).

use crate::support::{check, fixture};
use bmcwall::addr::AddrSet;
use bmcwall::cli::Exit;
use bmcwall::nft;
use bmcwall::pipeline::Checked;
use bmcwall::resolve::{NamedKind, Policy};
use std::net::{Ipv4Addr, Ipv6Addr};

const ANSIBLE: &str = "tests/fixtures/inventory/ansible/site.wall";
const NETBOX: &str = "tests/fixtures/inventory/netbox/site.wall";
const NETBOX_LIST: &str = "tests/fixtures/inventory/netbox/list.wall";

/// The findings of a run, as `CODE file:line:column message`.
fn findings(checked: &Checked) -> Vec<String> {
    checked
        .findings
        .iter()
        .map(|finding| {
            let diagnostic = &finding.diagnostic;
            let span = diagnostic.primary().span;
            let file = checked.sources.file(span.file);
            let (line, column) = file.line_col(span.start as usize);
            format!(
                "{} {}:{line}:{column} {}",
                diagnostic.code.as_str(),
                file.path.display(),
                diagnostic.message
            )
        })
        .collect()
}

/// A policy that checks without any finding.
fn clean(path: &str) -> (Checked, Policy) {
    let checked = check(&fixture(path));
    assert_eq!(findings(&checked), Vec::<String>::new(), "{path}");
    assert_eq!(Exit::of(&checked), Exit::Success);
    let policy = checked.model.as_ref().expect("a valid policy").0.clone();
    (checked, policy)
}

/// Every address in a set, IPv4 first, in order.
fn addresses(set: &AddrSet) -> Vec<String> {
    let mut out = Vec::new();
    for &(lo, hi) in set.v4.intervals() {
        assert!(hi - lo < 256, "a set this large is not a list of BMCs");
        out.extend((lo..=hi).map(|a| Ipv4Addr::from(a).to_string()));
    }
    for &(lo, hi) in set.v6.intervals() {
        assert!(hi - lo < 256, "a set this large is not a list of BMCs");
        out.extend((lo..=hi).map(|a| Ipv6Addr::from(a).to_string()));
    }
    out
}

/// One inventory entry as text: name, addresses, then each label with its
/// values (`group=bmc,rack_a`).
fn entries(policy: &Policy) -> Vec<String> {
    policy
        .inventory
        .iter()
        .map(|entry| {
            let labels: Vec<String> = entry
                .labels
                .iter()
                .map(|(key, values)| {
                    format!(
                        "{key}={}",
                        values.iter().cloned().collect::<Vec<_>>().join(",")
                    )
                })
                .collect();
            format!(
                "{} {} {}",
                entry.name,
                addresses(&entry.addresses).join(","),
                labels.join(" ")
            )
        })
        .collect()
}

/// The addresses of a named definition.
fn definition(policy: &Policy, name: &str) -> Vec<String> {
    let named = policy
        .definitions
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("no definition `{name}`"));
    match &named.kind {
        NamedKind::Address(_, set) => addresses(set),
        NamedKind::Service(_) => panic!("`{name}` is a service"),
    }
}

/// The policy compiles in both layouts and both forms, and every BMC is in
/// the text output.
fn compiles(checked: &Checked, policy: &Policy) {
    let (_, analysis) = checked.model.as_ref().expect("a valid policy");
    for layout in [nft::Layout::Sets, nft::Layout::Rules] {
        let input = nft::Input {
            policy,
            analysis,
            sources: &checked.sources,
        };
        let ruleset = nft::build(layout, input, nft::DEFAULT_TABLE);
        let text = nft::text::render(&ruleset, "");
        assert!(text.contains("chain forward"), "{text}");
        assert!(nft::json::render(&ruleset)
            .expect("nft JSON")
            .contains("\"forward\""));
        if layout == nft::Layout::Rules {
            for entry in &policy.inventory {
                for address in addresses(&entry.addresses) {
                    assert!(text.contains(&address), "{address} missing:\n{text}");
                }
            }
        }
    }
}

#[test]
fn ansible_inventory_entries() {
    let (_, policy) = clean(ANSIBLE);
    assert_eq!(
        entries(&policy),
        [
            "ams1-a01-bmc 10.10.1.11 group=bmc,rack_a owner=infra rack=a role=bmc site=ams1 vendor=supermicro",
            // In rack_a (depth 2) and spares (depth 1): rack_a's `rack` wins;
            // bmc and spares are both depth 1, so the later name (spares)
            // sets `owner`.
            "ams1-a02-bmc 10.10.1.12 group=bmc,rack_a,spares owner=spares-pool rack=a role=bmc site=ams1 state=spare vendor=supermicro",
            // Only `ansible_host`; its own `vendor` overrides the group's.
            "ams1-a03-bmc 10.10.1.13 group=bmc,rack_a owner=infra rack=a role=bmc site=ams1 vendor=dell",
            "ams1-b01-bmc fd00:10:2::11 group=bmc,rack_b owner=infra rack=b role=bmc site=ams1 vendor=hpe",
            // Variables from both places it is listed.
            "ams1-b02-bmc 10.10.2.12 group=bmc,rack_b,spares note=replace-psu owner=spares-pool rack=b role=bmc site=ams1 spare_parts=true state=spare vendor=hpe",
        ]
    );
}

#[test]
fn ansible_selectors_pick_the_expected_bmcs() {
    let (checked, policy) = clean(ANSIBLE);
    assert_eq!(
        addresses(&policy.bmcs),
        [
            "10.10.1.11",
            "10.10.1.12",
            "10.10.1.13",
            "10.10.2.12",
            "fd00:10:2::11"
        ]
    );
    // group = "bmc", group != "spares"
    assert_eq!(
        definition(&policy, "in-service"),
        ["10.10.1.11", "10.10.1.13", "fd00:10:2::11"]
    );
    assert_eq!(definition(&policy, "spares"), ["10.10.1.12", "10.10.2.12"]);
    assert_eq!(definition(&policy, "rack-a-dell"), ["10.10.1.13"]);
    assert_eq!(
        addresses(&policy.rules[0].dst),
        ["10.10.1.11", "10.10.1.13", "fd00:10:2::11"]
    );
    assert_eq!(
        addresses(&policy.rules[1].dst),
        ["10.10.1.12", "10.10.2.12"]
    );
    compiles(&checked, &policy);
}

#[test]
fn netbox_page_entries() {
    let (_, policy) = clean(NETBOX);
    assert_eq!(
        entries(&policy),
        [
            "ams1-r1-n01 10.10.1.11 manufacturer=dell rack=R1 role=compute site=ams1 tag=gpu,prod",
            "ams1-r1-n02 fd00:10:1::12 manufacturer=supermicro rack=R1 role=compute site=ams1 tag=prod",
            // ams1-r1-sw1 has `oob_ip: null`: not a BMC. No tags, no `tag`.
            "ams1-r2-n01 10.10.2.11 manufacturer=hpe rack=R2 role=storage site=ams1",
            // NetBox 3.x: `device_role` instead of `role`.
            "ams1-r2-n02 10.10.2.12 manufacturer=hpe rack=R2 role=storage site=ams1 tag=prod",
            // Not in a rack.
            "ams1-spare-01 10.10.9.1 manufacturer=dell role=compute site=ams1 tag=spare",
        ]
    );
}

#[test]
fn netbox_selectors_pick_the_expected_bmcs() {
    let (checked, policy) = clean(NETBOX);
    assert_eq!(
        addresses(&policy.bmcs),
        [
            "10.10.1.11",
            "10.10.2.11",
            "10.10.2.12",
            "10.10.9.1",
            "fd00:10:1::12"
        ]
    );
    assert_eq!(
        definition(&policy, "prod-compute"),
        ["10.10.1.11", "fd00:10:1::12"]
    );
    assert_eq!(definition(&policy, "storage"), ["10.10.2.11", "10.10.2.12"]);
    assert_eq!(
        definition(&policy, "rack-r1"),
        ["10.10.1.11", "fd00:10:1::12"]
    );
    // tag != "prod": devices without the tag, also those without any tag.
    assert_eq!(definition(&policy, "not-prod"), ["10.10.2.11", "10.10.9.1"]);
    assert_eq!(definition(&policy, "hpe"), ["10.10.2.11", "10.10.2.12"]);
    assert_eq!(
        addresses(&policy.rules[0].dst),
        ["10.10.1.11", "fd00:10:1::12"]
    );
    compiles(&checked, &policy);
}

#[test]
fn netbox_plain_list() {
    let (checked, policy) = clean(NETBOX_LIST);
    assert_eq!(
        entries(&policy),
        [
            "ams2-r1-n01 10.12.1.11 manufacturer=dell rack=R1 role=compute site=ams2 tag=prod",
            // The unnamed switch between them has no `oob_ip`: skipped.
            "ams2-r1-n02 fd00:12:1::12 manufacturer=supermicro rack=R1 role=compute site=ams2 tag=gpu,prod",
        ]
    );
    assert_eq!(definition(&policy, "gpu"), ["fd00:12:1::12"]);
    compiles(&checked, &policy);
}

/// Writes `files` into a temporary directory and checks `policy.wall` there.
fn check_files(files: &[(&str, &str)]) -> (tempfile::TempDir, Checked) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("the file is written");
    }
    let checked = check(&dir.path().join("policy.wall"));
    (dir, checked)
}

#[test]
fn inventories_of_every_format_in_one_policy() {
    let (_, checked) = check_files(&[
        (
            "policy.wall",
            "inventory \"native.yaml\";\n\
             inventory \"native2.yaml\" format native;\n\
             inventory \"ansible.yaml\" format ansible;\n\
             inventory \"netbox.json\" format netbox;\n\
             host format = 10.20.0.5;\n\
             bmc one = inventory(site = \"ams1\");\n\
             allow format -> one : redfish;\n\
             deny any -> bmcs log;\n",
        ),
        (
            "native.yaml",
            "bmcs:\n  - name: n1\n    address: 10.10.0.1\n    site: ams1\n",
        ),
        (
            "native2.yaml",
            "bmcs:\n  - name: n2\n    address: 10.10.0.2\n    site: ams2\n",
        ),
        (
            "ansible.yaml",
            "all:\n  hosts:\n    a1:\n      bmc_address: 10.10.0.3\n      site: ams1\n",
        ),
        (
            "netbox.json",
            r#"[{"name": "d1", "site": {"slug": "ams1"}, "oob_ip": {"address": "10.10.0.4/16"}}]"#,
        ),
    ]);
    assert_eq!(findings(&checked), Vec::<String>::new());
    let policy = &checked.model.as_ref().expect("a valid policy").0;
    assert_eq!(
        definition(policy, "one"),
        ["10.10.0.1", "10.10.0.3", "10.10.0.4"]
    );
    assert_eq!(definition(policy, "format"), ["10.20.0.5"]);
}

#[test]
fn ansible_group_priority_and_depth() {
    let (_, checked) = check_files(&[
        (
            "policy.wall",
            "inventory \"hosts.yaml\" format ansible;\nbmc x = inventory();\n",
        ),
        (
            "hosts.yaml",
            "\
all:
  vars: {color: all, size: all, shape: all}
  children:
    zeta:
      vars: {color: zeta, ansible_group_priority: 0}
      hosts:
        h1: {bmc_address: 10.0.0.1}
    alpha:
      vars: {color: alpha, size: alpha, ansible_group_priority: 5}
      children:
        inner:
          vars: {shape: inner}
          hosts:
            h1:
              shape: own
            h2: {bmc_ip: 10.0.0.2}
",
        ),
    ]);
    assert_eq!(findings(&checked), Vec::<String>::new());
    let policy = &checked.model.as_ref().expect("a valid policy").0;
    assert_eq!(
        entries(policy),
        [
            // alpha outranks zeta by priority at the same depth; the host's
            // own `shape` outranks the deeper group `inner`.
            "h1 10.0.0.1 color=alpha group=alpha,inner,zeta shape=own size=alpha",
            "h2 10.0.0.2 color=alpha group=alpha,inner shape=inner size=alpha",
        ]
    );
}

#[test]
fn netbox_json_escapes_and_long_strings() {
    let long = "x".repeat(100_000);
    let json = format!(
        "{{\"count\": 1, \"next\": null, \"previous\": null, \"results\": [{{\
         \"name\": \"r\\u00e9-n01\\/bmc \\\"a\\\" \\\\ \\t\",\
         \"comments\": \"{long}\",\
         \"custom_fields\": {{\"nested\": {{\"deeper\": [1, 2.5, -3e2, true, false, null, {{}}, []]}}}},\
         \"oob_ip\": {{\"address\": \"2001:db8::5/64\", \"family\": {{\"value\": 6}}}},\
         \"tags\": [{{\"slug\": \"caf\\u00e9\"}}, {{\"slug\": \"\\ud83d\\ude00\"}}]\
         }}]}}"
    );
    let (_, checked) = check_files(&[
        (
            "policy.wall",
            "inventory \"devices.json\" format netbox;\nbmc x = inventory(tag = \"café\");\n",
        ),
        ("devices.json", &json),
    ]);
    assert_eq!(findings(&checked), Vec::<String>::new());
    let policy = &checked.model.as_ref().expect("a valid policy").0;
    assert_eq!(
        entries(policy),
        ["ré-n01/bmc \"a\" \\ \t 2001:db8::5 tag=café,😀"]
    );
}

/// A real export of a large site is megabytes of nested objects: the parser's
/// default budget (250,000 nodes) would refuse it.
#[test]
fn netbox_large_export() {
    let device = |i: usize| {
        format!(
            "{{\"id\":{i},\"url\":\"https://netbox.example.com/api/dcim/devices/{i}/\",\"name\":\"n{i}\",\
             \"device_type\":{{\"id\":3,\"manufacturer\":{{\"id\":1,\"name\":\"Dell\",\"slug\":\"dell\"}},\"model\":\"R760\",\"slug\":\"r760\"}},\
             \"role\":{{\"id\":2,\"name\":\"Compute\",\"slug\":\"compute\"}},\"tenant\":null,\"platform\":null,\
             \"site\":{{\"id\":1,\"name\":\"AMS1\",\"slug\":\"ams1\"}},\"rack\":{{\"id\":{},\"name\":\"R{}\"}},\
             \"status\":{{\"value\":\"active\",\"label\":\"Active\"}},\"primary_ip\":null,\
             \"oob_ip\":{{\"id\":{i},\"family\":{{\"value\":4,\"label\":\"IPv4\"}},\"address\":\"10.{}.{}.{}/8\"}},\
             \"config_context\":{{\"ntp\":{{\"servers\":[\"10.0.0.123\",\"10.0.0.124\"]}}}},\
             \"tags\":[{{\"id\":1,\"name\":\"Prod\",\"slug\":\"prod\",\"color\":\"4caf50\"}}],\
             \"custom_fields\":{{\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":null,\"f\":null,\"g\":null,\"h\":null}},\
             \"interface_count\":4,\"console_port_count\":1,\"power_port_count\":2}}",
            i / 40,
            i / 40,
            i >> 16,
            (i >> 8) & 255,
            i & 255
        )
    };
    let count = 5000;
    let devices: Vec<String> = (0..count).map(device).collect();
    let json = format!(
        "{{\"count\":{count},\"next\":null,\"previous\":null,\"results\":[{}]}}",
        devices.join(",")
    );
    let (_, checked) = check_files(&[
        (
            "policy.wall",
            "inventory \"devices.json\" format netbox;\nbmc x = inventory(tag = \"prod\");\n",
        ),
        ("devices.json", &json),
    ]);
    assert_eq!(findings(&checked), Vec::<String>::new());
    let policy = &checked.model.as_ref().expect("a valid policy").0;
    assert_eq!(policy.inventory.len(), count);
}

/// Every selector of up to three conditions over a native inventory picks
/// exactly the entries a direct reading of the conditions picks: the label
/// index and the narrowing of its lists change nothing. Values are taken as
/// written (`rack: 01` is not `1`).
#[test]
fn selectors_pick_what_their_conditions_say() {
    let sites = ["ams1", "fra1", "lon1"];
    let racks = ["01", "1", "02"];
    let vendors = ["dell", "hpe"];
    let mut yaml = String::from("bmcs:\n");
    let mut entries = Vec::new();
    for i in 0..54u32 {
        let (site, rack, vendor) = (
            sites[i as usize % 3],
            racks[i as usize / 3 % 3],
            vendors[i as usize / 9 % 2],
        );
        let address = format!("10.0.{}.{}", i / 200, i % 200 + 1);
        yaml.push_str(&format!(
            "  - name: n{i}\n    address: {address}\n    site: {site}\n    rack: {rack}\n    vendor: {vendor}\n"
        ));
        entries.push((site, rack, vendor, address));
    }
    let mut selectors = Vec::new();
    for site in sites.iter().map(Some).chain([None]) {
        for rack in racks.iter().map(Some).chain([None]) {
            for (vendor, negated) in [(Some("dell"), false), (Some("hpe"), true), (None, false)] {
                selectors.push((site.copied(), rack.copied(), vendor, negated));
            }
        }
    }
    let mut policy = String::from("inventory \"inv.yaml\";\n");
    for (i, (site, rack, vendor, negated)) in selectors.iter().enumerate() {
        let mut conditions = Vec::new();
        if let Some(site) = site {
            conditions.push(format!("site = \"{site}\""));
        }
        if let Some(rack) = rack {
            conditions.push(format!("rack = \"{rack}\""));
        }
        if let Some(vendor) = vendor {
            let op = if *negated { "!=" } else { "=" };
            conditions.push(format!("vendor {op} \"{vendor}\""));
        }
        if conditions.is_empty() {
            conditions.push("vendor != \"none\"".into());
        }
        policy.push_str(&format!(
            "bmc s{i} = inventory({});\n",
            conditions.join(", ")
        ));
    }
    policy.push_str("host admin = 10.99.0.1;\nallow admin -> bmcs : https;\n");
    let (_, checked) = check_files(&[("policy.wall", &policy), ("inv.yaml", &yaml)]);
    let policy = &checked.model.as_ref().expect("a valid policy").0;
    for (i, (site, rack, vendor, negated)) in selectors.iter().enumerate() {
        let mut expected: Vec<&str> = entries
            .iter()
            .filter(|(s, r, v, _)| {
                site.is_none_or(|site| site == *s)
                    && rack.is_none_or(|rack| rack == *r)
                    && vendor.is_none_or(|vendor| (vendor == *v) != *negated)
            })
            .map(|(_, _, _, address)| address.as_str())
            .collect();
        expected.sort_by_key(|a| a.parse::<Ipv4Addr>().expect("an address"));
        assert_eq!(
            definition(policy, &format!("s{i}")),
            expected,
            "selector {:?}",
            selectors[i]
        );
    }
}

/// Inventories are parsed ahead, on other threads and largest first, while
/// the policy is still being parsed: files, entries and findings must still be
/// those of reading them one after the other in statement order, included
/// files spliced in where they are included.
#[test]
fn inventories_read_ahead_keep_the_order_of_a_sequential_read() {
    let entry = |name: &str, address: &str| {
        format!("  - name: {name}\n    address: {address}\n    vendor: dell\n")
    };
    let mut big = String::from("bmcs:\n");
    for i in 0..300 {
        big.push_str(&entry(
            &format!("big-{i}"),
            &format!("10.1.{}.{}", i / 200, i % 200 + 1),
        ));
    }
    big.push_str(&entry("big-bad", "10.1.9.300"));
    let small = format!("bmcs:\n{}", entry("small-1", "10.2.0.1"));
    let mid = format!("bmcs:\n{}", entry("mid-1", "10.3.0.1"));
    let (dir, checked) = check_files(&[
        (
            "policy.wall",
            "inventory \"small.yaml\";\n\
             include \"more.wall\";\n\
             inventory \"big.yaml\";\n\
             inventory \"missing.yaml\";\n\
             inventory \"small.yaml\";\n\
             deny any -> bmcs;\n",
        ),
        ("more.wall", "inventory \"mid.yaml\";\n"),
        ("big.yaml", &big),
        ("small.yaml", &small),
        ("mid.yaml", &mid),
    ]);
    let root = dir.path().display().to_string();
    let files: Vec<String> = checked
        .sources
        .files()
        .map(|(_, file)| file.display_path().replace(&root, ""))
        .collect();
    assert_eq!(
        files,
        [
            "/policy.wall",
            "/more.wall",
            "/small.yaml",
            "/mid.yaml",
            "/big.yaml",
            "/small.yaml"
        ]
    );
    let reported: Vec<String> = findings(&checked)
        .into_iter()
        .map(|f| f.replace(&root, ""))
        .collect();
    assert_eq!(
        reported,
        [
            "BW005 /policy.wall:4:11 cannot read inventory `missing.yaml`: no such file",
            "BW005 /big.yaml:903:14 `10.1.9.300` in `address` is not an IP address",
            "BW005 /small.yaml:2:11 duplicate inventory name `small-1`",
            "BW005 /small.yaml:3:14 address 10.2.0.1 is listed twice for `small-1`",
        ]
    );
    // The second reading of small.yaml is the one reported, as file 5.
    let files_of_findings: Vec<u32> = checked
        .findings
        .iter()
        .map(|f| f.diagnostic.primary().span.file.0)
        .collect();
    assert_eq!(files_of_findings, [0, 4, 5, 5]);

    // Without the errors, the entries come in the same order.
    let big = big.replace("10.1.9.300", "10.1.9.30");
    let (_, checked) = check_files(&[
        (
            "policy.wall",
            "inventory \"small.yaml\";\ninclude \"more.wall\";\ninventory \"big.yaml\";\nhost admin = 10.9.0.1;\nallow admin -> bmcs : https;\n",
        ),
        ("more.wall", "inventory \"mid.yaml\";\n"),
        ("big.yaml", &big),
        ("small.yaml", &small),
        ("mid.yaml", &mid),
    ]);
    assert_eq!(findings(&checked), Vec::<String>::new());
    let names: Vec<&str> = checked
        .model
        .iter()
        .flat_map(|(policy, _)| &policy.inventory)
        .map(|entry| entry.name.as_str())
        .collect();
    assert_eq!(names.len(), 303);
    assert_eq!(names[..4], ["small-1", "mid-1", "big-0", "big-1"]);
    assert_eq!(names[302], "big-bad");
}
