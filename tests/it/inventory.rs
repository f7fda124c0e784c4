//! Inventories from Ansible and NetBox: the entries each importer reads, the
//! BMCs that selectors pick from them, and that their policies check and
//! compile. Broken inventories are in the invalid corpus (`diagnostics.rs`).

use crate::support::{bmcwall, check, fixture, text};
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
                    format!("{key}={}", values.iter().collect::<Vec<_>>().join(","))
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

const REAL: &str = "tests/fixtures/inventory/real/real.wall";

/// Inventories as people keep them (tests/fixtures/inventory/real/README.md),
/// each read as it is written: the format detected, the address found in
/// the key its tools use, groups and variables as labels, secrets not.
#[test]
fn real_inventories_load_as_written() {
    let (checked, policy) = clean(REAL);
    assert_eq!(
        entries(&policy),
        [
            // Dell Redfish: `baseuri`, also as a URL and with a port; the
            // vendor in lower case; `password` is no label.
            "r640-db1 10.60.1.11 datacenter=ams1 group=myhosts rack=r1 username=root vendor=dell",
            "r640-db2 10.60.1.12 datacenter=ams1 group=myhosts rack=r1 username=root vendor=dell",
            "r750-app1 10.60.2.11 datacenter=ams1 group=myhosts rack=r2 username=root vendor=dell",
            // OpenShift IPI: `ipmi_address`; `[all:vars]` inherited, the
            // quoted values without their quotes, `pullsecret` no label;
            // the provisioner has no BMC address and is skipped.
            "master-0 10.70.1.10 cluster=ocp4 domain=example.com group=masters hardware_profile=default ipmi_port=623 ipmi_user=admin prov_nic=eno1 provision_mac=ec:f4:bb:da:0c:58 pub_nic=eno2 role=master",
            "master-1 10.70.1.11 cluster=ocp4 domain=example.com group=masters hardware_profile=default ipmi_port=623 ipmi_user=admin prov_nic=eno1 provision_mac=ec:f4:bb:da:32:88 pub_nic=eno2 role=master",
            "master-2 10.70.1.12 cluster=ocp4 domain=example.com group=masters hardware_profile=default ipmi_port=623 ipmi_user=admin prov_nic=eno1 provision_mac=ec:f4:bb:da:0d:98 pub_nic=eno2 role=master",
            "worker-0 10.70.1.20 cluster=ocp4 domain=example.com group=workers hardware_profile=unknown ipmi_port=623 ipmi_user=admin prov_nic=eno1 provision_mac=ec:f4:bb:da:0c:18 pub_nic=eno2 role=worker",
            // Omnia's mapping file: `BMC_IP`, named by `HOSTNAME`; the other
            // columns are labels, in lower case.
            "node001 10.3.0.101 admin_ip=10.5.0.101 admin_mac=ec:2a:72:32:c6:98 service_tag=XXXXXXX1",
            "node002 10.3.0.102 admin_ip=10.5.0.102 admin_mac=f4:02:70:b8:bc:2a service_tag=XXXXXXX2",
            "node003 10.3.0.103 admin_ip=10.5.0.103 admin_mac=70:b5:e8:d1:84:22 service_tag=XXXXXXX3",
            // NetBox's plugin through `ansible-inventory --list`, with
            // `address oob_ip`: the switch has none; lists are no labels.
            "ams1-r1-n01 10.10.1.11 group=device_roles_compute,sites_ams1 primary_ip4=10.10.1.101",
            "ams1-r1-n02 10.10.1.12 group=device_roles_compute,sites_ams1 primary_ip4=10.10.1.102",
            // A directory: `group_vars/` override the inventory's group
            // variables, `host_vars/` give `idrac_ip`; the Vault value is no
            // label.
            "fra1-db1 10.80.1.11 group=idrac idrac_user=root rack=r1 site=fra1 vendor=dell",
            "fra1-db2 10.80.1.12 group=idrac idrac_user=root rack=r2 site=fra1 vendor=dell",
            "fra1-web1 10.80.2.21 group=ilo site=fra1",
        ]
    );
    assert_eq!(
        definition(&policy, "masters"),
        ["10.70.1.10", "10.70.1.11", "10.70.1.12"]
    );
    let formats: Vec<(String, &str, Option<&str>, usize)> = checked
        .inventories
        .iter()
        .map(|i| {
            (
                i.path
                    .file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
                i.format,
                i.detected,
                i.bmcs,
            )
        })
        .collect();
    assert_eq!(
        formats,
        [
            (
                "dell-redfish.ini".into(),
                "ansible",
                Some("an Ansible INI inventory"),
                3
            ),
            (
                "openshift-ipi.ini".into(),
                "ansible",
                Some("an Ansible INI inventory"),
                4
            ),
            (
                "omnia-mapping.csv".into(),
                "csv",
                Some("a CSV file with a header row"),
                3
            ),
            ("netbox-plugin.json".into(), "ansible", None, 2),
            (
                "ansible-dir".into(),
                "ansible",
                Some("an Ansible inventory directory"),
                3
            ),
        ]
    );
    let output = bmcwall(&["compile", REAL]);
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).contains("table inet bmcwall"));
}

/// `-v` says what each inventory was read as.
#[test]
fn verbose_says_which_format_was_detected() {
    let output = bmcwall(&["check", "-v", "--color", "never", REAL]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        text(&output.stderr),
        "\
inventory tests/fixtures/inventory/real/dell-redfish.ini: ansible (detected: an Ansible INI inventory), 3 BMCs
inventory tests/fixtures/inventory/real/openshift-ipi.ini: ansible (detected: an Ansible INI inventory), 4 BMCs
inventory tests/fixtures/inventory/real/omnia-mapping.csv: csv (detected: a CSV file with a header row), 3 BMCs
inventory tests/fixtures/inventory/real/netbox-plugin.json: ansible, 2 BMCs
inventory tests/fixtures/inventory/real/ansible-dir: ansible (detected: an Ansible inventory directory), 3 BMCs

bmcwall: 0 errors, 0 warnings, 0 infos
"
    );
}

/// Entries read with warnings: vendors compared without case (`Dell`) and
/// unknown ones with a suggestion, addresses shared by entries with other
/// names (in one file or across files), and one NetBox device object.
#[test]
fn vendors_and_shared_addresses_are_warnings() {
    let checked = check(&fixture("tests/fixtures/inventory/checks/checks.wall"));
    let root = format!("{}/", fixture("tests/fixtures/inventory/checks").display());
    let reported: Vec<String> = findings(&checked)
        .into_iter()
        .map(|f| f.replace(&root, ""))
        .collect();
    assert_eq!(
        reported,
        [
            "BW309 unknown_vendor.yaml:5:17 unknown vendor `IBM`",
            "BW310 shared_ansible.yaml:8:24 `fra1-a02-bmc` and `fra1-a01-bmc` share the address 10.20.1.11",
            "BW310 shared_ansible.yaml:14:24 `fra1-b02-bmc` and `fra1-b01-bmc` share the address fd00:20:2::11",
            "BW310 site_b.yaml:7:9 `lon1-b02-bmc` and `lon1-a01-bmc` share the address fd00:30:1::11",
            "BW309 native_vendor.yaml:7:13 unknown vendor `quanta`",
        ]
    );
    let helps: Vec<&str> = checked
        .findings
        .iter()
        .filter(|f| f.diagnostic.code.as_str() == "BW309")
        .filter_map(|f| f.diagnostic.help.as_deref())
        .collect();
    assert_eq!(
        helps,
        [
            "did you mean `lenovo`? known vendors: dell, hpe, supermicro, lenovo, cisco, openbmc, other",
            "known vendors: dell, hpe, supermicro, lenovo, cisco, openbmc, other; `other` for the rest",
        ]
    );
    assert_eq!(Exit::of(&checked), Exit::Success);
    let policy = &checked.model.as_ref().expect("a valid policy").0;
    let vendors: Vec<String> = policy
        .inventory
        .iter()
        .filter_map(|e| {
            Some(format!(
                "{} {}",
                e.name,
                e.labels.get("vendor")?.iter().next()?
            ))
        })
        .collect();
    assert_eq!(
        vendors,
        [
            "ams1-a01-bmc ibm",
            "ams1-a02-bmc ibm",
            "ams1-b01-bmc dell",
            "par1-a01-bmc dell",
            "par1-a02-bmc quanta",
        ]
    );
    assert!(
        policy.inventory.iter().any(|e| e.name == "ams1-r1-n01"),
        "one device object is read"
    );
}

/// An inventory that yields no BMC is an error at its statement (BW009),
/// whose help names the keys that look like addresses, and `check` and
/// `compile` exit 2.
#[test]
fn an_inventory_without_bmcs_is_an_error() {
    let cases: [(&str, &str, &str, &str, &str); 5] = [
        (
            "inventory \"hosts.ini\";",
            "hosts.ini",
            "[nodes]\nn1 ansible_host=10.0.0.1 mgmt_ip=10.9.0.1\nn2 ansible_host=10.0.0.2 mgmt_ip=10.9.0.2\n",
            "no BMC in the inventory: none of its 2 hosts has `bmc_address`, `ipmi_address`, `idrac_ip`, `ilo_ip`, `oob_ip`, `bmc_ip`, `baseuri`, `ipmi_host` or `bmc_host` at all",
            "keys that look like addresses: `ansible_host` (2 hosts), `mgmt_ip` (2 hosts); name the one that holds each BMC's address with `address KEY` (`inventory \"PATH\" address ansible_host;`); `ansible_host` is the address Ansible connects to, usually the host's own, so it is read only when named",
        ),
        (
            "inventory \"hosts.ini\" address mgmt_ip;",
            "hosts.ini",
            "[nodes]\nn1 ansible_host=10.0.0.1\n",
            "no BMC in the inventory: none of its 1 host has `mgmt_ip` at all",
            "keys that look like addresses: `ansible_host` (1 host); name the one that holds each BMC's address with `address KEY` (`inventory \"PATH\" address ansible_host;`); `ansible_host` is the address Ansible connects to, usually the host's own, so it is read only when named",
        ),
        (
            "inventory \"devices.json\";",
            "devices.json",
            r#"{"count": 2, "next": null, "results": [{"name": "a", "device_type": {"slug": "r760"}, "primary_ip4": {"address": "10.0.0.1/24"}}, {"name": "b", "device_type": {"slug": "r760"}}]}"#,
            "no BMC in the inventory: none of its 2 devices has `oob_ip.address` at all",
            "NetBox before 3.6 has no `oob_ip` field: export from NetBox 3.6 or later with each BMC's address as the device's out-of-band IP; keys that look like addresses: `primary_ip4.address` (1 device); name the one that holds each BMC's address with `address KEY` (`inventory \"PATH\" address primary_ip4.address;`)",
        ),
        (
            "inventory \"devices.json\" format netbox;",
            "devices.json",
            r#"[{"name": "a", "device_type": {"slug": "r760"}, "oob_ip": null}]"#,
            "no BMC in the inventory: none of its 1 device has `oob_ip.address` set",
            "name the field that holds each BMC's address with `address KEY` (`inventory \"PATH\" address KEY;`)",
        ),
        (
            "inventory \"hosts.yaml\" format ansible;",
            "hosts.yaml",
            "all:\n  children:\n    empty:\n",
            "the inventory has no hosts, so no BMC",
            "name the field that holds each BMC's address with `address KEY` (`inventory \"PATH\" address KEY;`)",
        ),
    ];
    for (statement, file, text, message, help) in cases {
        let policy = format!("{statement}\nexpect deny internet -> bmcs;\n");
        let (dir, checked) = check_files(&[("policy.wall", &policy), (file, text)]);
        let reported: Vec<String> = findings(&checked)
            .into_iter()
            .map(|f| f.replace(&dir.path().display().to_string(), ""))
            .collect();
        assert_eq!(
            reported,
            [format!("BW009 /policy.wall:1:11 {message}")],
            "{statement}"
        );
        assert_eq!(
            checked.findings[0].diagnostic.help.as_deref(),
            Some(help),
            "{statement}"
        );
        assert_eq!(Exit::of(&checked), Exit::Invalid, "{statement}");
        let path = dir.path().join("policy.wall");
        let output = bmcwall(&["compile", path.to_str().expect("a path")]);
        assert_eq!(output.status.code(), Some(2), "{statement}");
        assert!(output.stdout.is_empty(), "{statement}");
    }
}

/// Hosts whose names are their BMC's address (Dell's examples list iDRACs
/// by address) are read with `address inventory_hostname`; a dotted path
/// reaches a nested field; Jinja and Vault in the address variable are
/// errors naming it.
#[test]
fn address_keys_name_where_the_address_is() {
    let (_, checked) = check_files(&[
        (
            "policy.wall",
            "inventory \"idrac.ini\" address inventory_hostname;\ninventory \"nested.yaml\" format ansible address bmc.endpoint;\nbmc all = inventory();\n",
        ),
        ("idrac.ini", "[idrac]\n10.90.0.11\n10.90.0.12:443 rack=r2\n"),
        (
            "nested.yaml",
            "all:\n  hosts:\n    n1:\n      bmc: {endpoint: 'redfish+https://10.90.1.11/redfish/v1/Systems/1', user: root}\n",
        ),
    ]);
    assert_eq!(findings(&checked), Vec::<String>::new());
    let policy = &checked.model.as_ref().expect("a valid policy").0;
    assert_eq!(
        entries(policy),
        [
            "10.90.0.11 10.90.0.11 group=idrac",
            "10.90.0.12 10.90.0.12 group=idrac rack=r2",
            "n1 10.90.1.11 "
        ]
    );
    let (dir, checked) = check_files(&[
        ("policy.wall", "inventory \"hosts.ini\";\n"),
        (
            "hosts.ini",
            "[idrac]\ndb1 idrac_ip=\"{{ lookup('env', 'DB1') }}\"\ndb2 bmc_address='$ANSIBLE_VAULT;1.1;AES256'\ndb3 idrac_ip=10.90.2.13 note=\"{{ x }}\"\n",
        ),
    ]);
    let root = dir.path().display().to_string();
    let reported: Vec<String> = findings(&checked)
        .into_iter()
        .map(|f| f.replace(&root, ""))
        .collect();
    assert_eq!(
        reported,
        [
            "BW005 /hosts.ini:2:15 `idrac_ip` is a Jinja template: bmcwall does not render templates",
            "BW005 /hosts.ini:3:18 `bmc_address` is encrypted with Ansible Vault: bmcwall does not decrypt it",
        ]
    );
}

/// INI inventories: host ranges, `:children`, `:vars`, ports, comments,
/// and a bad range located where it is written.
#[test]
fn ansible_ini_groups_ranges_and_variables() {
    let (_, checked) = check_files(&[
        ("policy.wall", "inventory \"hosts\" format ansible;\nbmc r = inventory(group = \"racks\");\n"),
        (
            "hosts",
            "; a comment\nlone bmc_ip=10.91.0.1\n\n[rack_a]\nnode[01:03] rack=a\n\n[rack_b]\nn-[a:c:2] rack=b bmc_ip=10.91.2.1\n\n[racks:children]\nrack_a\nrack_b\n\n[rack_a:vars]\nbmc_ip=10.91.1.1\n\n[rack_a:vars]\nvendor = HPE\n",
        ),
    ]);
    let reported = findings(&checked);
    // One address for every node of rack_a (a group variable), shared.
    assert_eq!(reported.len(), 3, "{reported:?}");
    assert!(
        reported.iter().all(|f| f.starts_with("BW310 ")),
        "{reported:?}"
    );
    let policy = &checked.model.as_ref().expect("a valid policy").0;
    assert_eq!(
        entries(policy),
        [
            "lone 10.91.0.1 ",
            "node01 10.91.1.1 group=rack_a,racks rack=a vendor=hpe",
            "node02 10.91.1.1 group=rack_a,racks rack=a vendor=hpe",
            "node03 10.91.1.1 group=rack_a,racks rack=a vendor=hpe",
            "n-a 10.91.2.1 group=rack_b,racks rack=b",
            "n-c 10.91.2.1 group=rack_b,racks rack=b",
        ]
    );
    let (dir, checked) = check_files(&[
        ("policy.wall", "inventory \"hosts.ini\";\n"),
        ("hosts.ini", "[rack]\nnode[3:1] bmc_ip=10.91.0.1\n"),
    ]);
    let root = dir.path().display().to_string();
    let reported: Vec<String> = findings(&checked)
        .into_iter()
        .map(|f| f.replace(&root, ""))
        .collect();
    assert_eq!(
        reported,
        ["BW005 /hosts.ini:2:1 bad host range in `node[3:1]`: `3` comes after `1`"]
    );
}

/// Secrets never reach the output: every secret in the fixtures holds
/// `s3cr3t`, and no output of `check` (every format, `-v`) or `compile`
/// (both forms) of any fixture policy shows it, nor the text of any
/// diagnostic quoting the lines that hold them.
#[test]
fn secrets_never_reach_the_output() {
    let mut policies = Vec::new();
    let mut with_secrets = 0;
    let mut stack = vec![crate::support::crate_root().join("tests/fixtures")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("a directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "wall") {
                policies.push(path);
            } else if std::fs::read_to_string(&path).is_ok_and(|t| t.contains("s3cr3t")) {
                with_secrets += 1;
            }
        }
    }
    policies.sort();
    assert!(
        with_secrets >= 6,
        "fixtures with secrets went missing: {with_secrets}"
    );
    for policy in &policies {
        let path = policy.to_str().expect("a path");
        let mut runs: Vec<Vec<&str>> = ["human", "json", "sarif", "github"]
            .iter()
            .map(|format| vec!["check", "-v", "--color", "never", "--format", format, path])
            .collect();
        runs.push(vec!["compile", path]);
        runs.push(vec!["compile", "--format", "json", path]);
        for args in runs {
            let output = bmcwall(&args);
            for stream in [&output.stdout, &output.stderr] {
                let shown = text(stream);
                assert!(
                    !shown.contains("s3cr3t"),
                    "{args:?} shows a secret:\n{shown}"
                );
            }
        }
    }
}

/// An expectation over an empty side would hold whatever the rules say: it
/// fails with BW401, "no flow to test".
#[test]
fn an_expectation_over_an_empty_side_fails() {
    let (dir, checked) = check_files(&[
        (
            "policy.wall",
            "inventory \"bmcs.yaml\";\nhost jump = 10.20.0.5;\nhost v6 = fd00::5;\nbmc rack-z = inventory(rack = \"z\");\nallow jump -> bmcs : https;\nexpect deny internet -> rack-z;\nexpect allow jump -> v6 : https;\nexpect deny internet -> bmcs;\n",
        ),
        ("bmcs.yaml", "bmcs:\n  - name: a\n    address: 10.10.0.1\n    rack: a\n"),
    ]);
    let root = dir.path().display().to_string();
    let reported: Vec<String> = findings(&checked)
        .into_iter()
        .map(|f| f.replace(&root, ""))
        .collect();
    assert_eq!(
        reported,
        [
            "BW008 /policy.wall:4:14 selector matches no inventory entry",
            "BW401 /policy.wall:6:1 expectation has no flow to test: its source holds IPv4 and IPv6 addresses and its destination no address",
            "BW401 /policy.wall:7:1 expectation has no flow to test: its source holds only IPv4 addresses and its destination only IPv6 addresses",
        ]
    );
}

const MACHINES: &str = "tests/fixtures/inventory/real/machines.wall";

/// The files of provisioning tools (tests/fixtures/inventory/real/README.md),
/// each detected and read as written: the BMC's URL in the tool's own field,
/// the tool's groupings as labels, other objects skipped, secrets not labels.
#[test]
fn provisioning_tools_files_load_as_written() {
    let (checked, policy) = clean(MACHINES);
    assert_eq!(
        entries(&policy),
        [
            // metal3: `spec.bmc.address` URLs; the namespace and the
            // Kubernetes labels; the Secret and the ConfigMap skipped.
            "worker-0 10.40.1.10 cluster.x-k8s.io/cluster-name=test1 namespace=metal3 rack=r07",
            "worker-1 10.40.1.11 namespace=metal3 rack=r07",
            "storage-0 10.40.2.10 namespace=metal3",
            // OpenShift: `platform.baremetal.hosts[].bmc.address`, the role
            // and the cluster's name.
            "openshift-master-0 10.41.1.10 cluster=ocp-lab role=master",
            "openshift-master-1 10.41.1.11 cluster=ocp-lab role=master",
            "openshift-master-2 10.41.1.12 cluster=ocp-lab role=master",
            "openshift-worker-0 10.41.2.10 cluster=ocp-lab role=worker",
            // Bifrost: named by their keys; `ipmi_address`, then
            // `redfish_address` as a URL, then the old `power` nesting;
            // `host_groups` as `group`.
            "compute-0 10.42.1.10 driver=ipmi group=baremetal,compute",
            "compute-1 10.42.1.11 driver=redfish group=baremetal resource_class=baremetal-large",
            "legacy-0 10.42.2.10 driver=ipmi",
            // TripleO: `pm_addr`; a node without a name is named after its
            // first MAC, or without one its place in `nodes`.
            "controller-0 10.43.1.10 arch=x86_64 boot_option=local pm_type=ipmi profile=control",
            "node-52-54-00-aa-bb-02 10.43.1.11 arch=x86_64 pm_type=redfish profile=compute",
            "node-3 10.43.1.12 pm_type=ipmi",
            // Warewulf: `ipmi.ipaddr`; profiles, cluster and tags; the login
            // node has no BMC address and is skipped.
            "n0000 10.44.1.10 profile=default",
            "n0001 10.44.1.11 cluster=hpc1 profile=default,gpu rack=r2",
        ]
    );
    assert_eq!(
        definition(&policy, "masters"),
        ["10.41.1.10", "10.41.1.11", "10.41.1.12"]
    );
    assert_eq!(definition(&policy, "gpu"), ["10.44.1.11"]);
    let formats: Vec<(&str, Option<&str>, usize)> = checked
        .inventories
        .iter()
        .map(|i| (i.format, i.detected, i.bmcs))
        .collect();
    assert_eq!(
        formats,
        [
            ("metal3", Some("metal3 BareMetalHost manifests"), 3),
            ("openshift", Some("an OpenShift install-config"), 4),
            ("ironic", Some("Ironic or Bifrost nodes"), 3),
            ("tripleo", Some("a TripleO instackenv file"), 3),
            ("warewulf", Some("a Warewulf nodes.conf"), 2),
        ]
    );
    let output = bmcwall(&["compile", MACHINES]);
    assert_eq!(output.status.code(), Some(0));
    let table = text(&output.stdout);
    assert!(table.contains("10.44.1.10/31 : jump services1\n"));
    assert!(table.contains("map services1_ports {"));
    let services1 = &table[table.find("map services1_ports {").unwrap()..];
    let services1 = &services1[..services1.find("\n\t}").unwrap()];
    assert!(services1.contains("tcp . 443 : goto allow_"));
}

/// What is wrong in the files of provisioning tools, each said once where it
/// is written, with the same checks and codes as every other format.
#[test]
fn provisioning_tools_files_errors() {
    let (dir, checked) = check_files(&[
        (
            "policy.wall",
            "inventory \"aws.yaml\" format openshift;\ninventory \"ocp.yaml\";\ninventory \"instackenv.json\";\ninventory \"bmh.yaml\";\ninventory \"bifrost.json\" format ironic;\ninventory \"broken.yaml\" format metal3;\n",
        ),
        (
            "aws.yaml",
            "apiVersion: v1\nbaseDomain: example.com\nplatform:\n  aws:\n    region: us-east-1\n",
        ),
        (
            "ocp.yaml",
            "apiVersion: v1\nbaseDomain: example.com\nplatform:\n  baremetal:\n    hosts:\n    - name: master-0\n      role: master\n      bmc:\n        address: ipmi://10.41.9.10\n    - name: master-1\n      role: master\n      bootMACAddress: 52:54:00:11:22:31\n",
        ),
        (
            "instackenv.json",
            "{\"nodes\": [\n  {\"name\": \"c0\", \"pm_addr\": \"10.43.9.1\", \"pm_port\": \"6230\"},\n  {\"name\": \"c1\", \"pm_addr\": \"10.43.9.1\", \"pm_port\": \"6231\"},\n  {\"name\": \"c2\", \"pm_type\": \"fake_pxe\"}\n]}\n",
        ),
        (
            "bmh.yaml",
            "apiVersion: metal3.io/v1alpha1\nkind: BareMetalHost\nmetadata:\n  name: w0\nspec:\n  bmc:\n    address: redfish://bmc-w0.example.com/redfish/v1/Systems/1\n",
        ),
        (
            "bifrost.json",
            "{\"n1\": {\"driver_info\": {\"ipmi_address\": \"10.42.9.1\"}},\n \"n2\": [\"not\", \"a\", \"node\"]}\n",
        ),
        (
            "broken.yaml",
            "apiVersion: metal3.io/v1alpha1\nkind: BareMetalHost\nmetadata:\n  name: w1\n---\nkind: BareMetalHost\nspec: [unclosed\n",
        ),
    ]);
    let root = dir.path().display().to_string();
    let reported: Vec<String> = findings(&checked)
        .into_iter()
        .map(|f| f.replace(&root, ""))
        .collect();
    assert_eq!(
        reported,
        [
            "BW005 /aws.yaml:4:3 this install-config is for the platform `aws`, not `baremetal`",
            "BW005 /ocp.yaml:10:13 host `master-1` has no `bmc.address`",
            "BW310 /instackenv.json:3:29 `c1` and `c0` share the address 10.43.9.1",
            "BW005 /instackenv.json:4:12 node `c2` has no `pm_addr`",
            "BW010 /bmh.yaml:7:14 `bmc-w0.example.com` in `spec.bmc.address` is a host name, not an IP address",
            "BW005 /bifrost.json:2:8 node `n2` must be a mapping, not a list",
            "BW005 /broken.yaml:7:7 inventory is not valid YAML: while parsing a flow sequence, did not find expected ',' or ']'",
        ]
    );
    assert_eq!(Exit::of(&checked), Exit::Invalid);
    // No BMC in a file of each kind: BW009 at the statement, naming the
    // keys that look like addresses.
    let cases: [(&str, &str, &str, &str); 3] = [
        (
            "manifests.yaml\" format metal3",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\napiVersion: metal3.io/v1alpha1\nkind: BareMetalHost\nmetadata:\n  name: w0\nspec:\n  online: true\n  externallyProvisioned: true\n",
            "no BMC in the inventory: none of its 1 host has `spec.bmc.address` set",
            "name the field that holds each BMC's address with `address KEY` (`inventory \"PATH\" address KEY;`)",
        ),
        (
            "nodes.conf\"",
            "WW_INTERNAL: 45\nnodes:\n  n1:\n    network devices:\n      default:\n        ipaddr: 10.0.2.1\n",
            "no BMC in the inventory: none of its 1 node has `ipmi.ipaddr` or `ipmi ipaddr` at all",
            "keys that look like addresses: `network devices.default.ipaddr` (1 node); name the one that holds each BMC's address with `address KEY` (`inventory \"PATH\" address network devices.default.ipaddr;`)",
        ),
        (
            "nodes.json\" format ironic",
            "{\"nodes\": [{\"name\": \"n1\", \"driver\": \"fake-hardware\", \"driver_info\": {}}]}",
            "no BMC in the inventory: none of its 1 node has `driver_info.ipmi_address`, `driver_info.redfish_address`, `driver_info.idrac_address`, `driver_info.drac_address`, `driver_info.ilo_address`, `driver_info.irmc_address`, `driver_info.ibmc_address`, `driver_info.xclarity_address` or `driver_info.power.ipmi_address` set",
            "name the field that holds each BMC's address with `address KEY` (`inventory \"PATH\" address KEY;`)",
        ),
    ];
    for (statement, text, message, help) in cases {
        let file = statement.split('"').next().expect("a file");
        let policy = format!("inventory \"{statement};\nexpect deny internet -> bmcs;\n");
        let (dir, checked) = check_files(&[("policy.wall", &policy), (file, text)]);
        let reported: Vec<String> = findings(&checked)
            .into_iter()
            .map(|f| f.replace(&dir.path().display().to_string(), ""))
            .collect();
        assert_eq!(reported, [format!("BW009 /policy.wall:1:11 {message}")]);
        assert_eq!(checked.findings[0].diagnostic.help.as_deref(), Some(help));
        let path = dir.path().join("policy.wall");
        let output = bmcwall(&["compile", path.to_str().expect("a path")]);
        assert_eq!(output.status.code(), Some(2), "{statement}");
        assert!(output.stdout.is_empty(), "{statement}");
    }
}

/// A NetBox of the test's own: an HTTP server on a loopback port, in a
/// thread, serving recorded pages of `/api/dcim/devices/`. The second page
/// fails once with an error page (503) and is slow once, before it is
/// served; a wrong token gets NetBox's 403 page; `/slow/` never answers in
/// time. Returns the base URL.
fn netbox_server() -> String {
    use std::collections::HashMap;
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let tries: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let next = format!("{base}/api/dcim/devices/?site=ams1&limit=2&offset=2");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let tries = Arc::clone(&tries);
            let next = next.clone();
            std::thread::spawn(move || {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let request = String::from_utf8_lossy(&request).into_owned();
                let path = request.split(' ').nth(1).unwrap_or("").to_string();
                let try_number = {
                    let mut tries = tries.lock().expect("the counts");
                    let count = tries.entry(path.clone()).or_default();
                    *count += 1;
                    *count
                };
                let device = |id: u32, name: &str, oob: &str| {
                    format!(
                        "{{\"id\": {id}, \"name\": \"{name}\", \"site\": {{\"slug\": \"ams1\"}}, \"oob_ip\": {{\"address\": \"{oob}/24\"}}}}"
                    )
                };
                let (status, body) = if !request
                    .contains("\r\nauthorization: Token t0ken-s3cr3t\r\n")
                    && !request.contains("\r\nAuthorization: Token t0ken-s3cr3t\r\n")
                {
                    (
                        "403 Forbidden",
                        "{\"detail\": \"Invalid token.\"}".to_string(),
                    )
                } else if path == "/api/dcim/devices/?site=ams1&limit=2" {
                    (
                        "200 OK",
                        format!(
                            "{{\"count\": 3, \"next\": \"{next}\", \"previous\": null, \"results\": [{}, {}]}}",
                            device(3, "ams1-n03", "10.70.0.3"),
                            device(1, "ams1-n01", "10.70.0.1")
                        ),
                    )
                } else if path == "/api/dcim/devices/?site=ams1&limit=2&offset=2" {
                    match try_number {
                        1 => ("503 Service Unavailable", "<html>busy</html>".to_string()),
                        2 => {
                            std::thread::sleep(std::time::Duration::from_secs(3));
                            ("200 OK", "{}".to_string())
                        }
                        _ => (
                            "200 OK",
                            format!(
                                "{{\"count\": 3, \"next\": null, \"previous\": null, \"results\": [{}]}}",
                                device(2, "ams1-n02", "10.70.0.2")
                            ),
                        ),
                    }
                } else if path.starts_with("/slow/") {
                    std::thread::sleep(std::time::Duration::from_secs(3));
                    ("200 OK", "{}".to_string())
                } else {
                    ("404 Not Found", "{\"detail\": \"Not found.\"}".to_string())
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    base
}

/// `bmcwall inventory netbox` fetches every page, tries again after an
/// error page and a page that does not come in time, writes the devices in
/// the order of their `id`, and the export loads as it is; a wrong token
/// and a NetBox that never answers are errors that say so, exit 3, write
/// nothing and never show the token.
#[test]
fn inventory_netbox_fetches_every_page() {
    let base = netbox_server();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("devices.json");
    let out_arg = out.to_str().expect("a path");
    let env = [("NETBOX_TOKEN", "t0ken-s3cr3t")];
    let fetch = |url: &str, extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec![
            "inventory",
            "netbox",
            "--url",
            url,
            "--token-env",
            "NETBOX_TOKEN",
            "-o",
            out_arg,
        ];
        args.extend_from_slice(extra);
        crate::support::bmcwall_in(dir.path(), &args, "", env)
    };
    let started = std::time::Instant::now();
    let output = fetch(
        &format!("{base}/"),
        &[
            "--filter",
            "site=ams1",
            "--page-size",
            "2",
            "--timeout",
            "1",
            "--retries",
            "2",
        ],
        &env,
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stderr),
        format!("bmcwall: wrote 3 devices to {out_arg}\n")
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1400),
        "the backoff waits"
    );
    let written = std::fs::read_to_string(&out).expect("the export");
    let export: serde_json::Value = serde_json::from_str(&written).expect("JSON");
    let names: Vec<&str> = export["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|d| d["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, ["ams1-n01", "ams1-n02", "ams1-n03"]);
    assert_eq!(
        (export["count"].as_u64(), export["next"].is_null()),
        (Some(3), true)
    );
    assert!(!written.contains("s3cr3t"));
    let (_, checked) = check_files(&[
        ("policy.wall", "inventory \"devices.json\";\n"),
        ("devices.json", &written),
    ]);
    assert_eq!(findings(&checked), Vec::<String>::new());
    let policy = &checked.model.as_ref().expect("a valid policy").0;
    assert_eq!(
        entries(policy),
        [
            "ams1-n01 10.70.0.1 site=ams1",
            "ams1-n02 10.70.0.2 site=ams1",
            "ams1-n03 10.70.0.3 site=ams1",
        ]
    );
    std::fs::remove_file(&out).expect("remove the export");
    let wrong = fetch(&base, &[], &[("NETBOX_TOKEN", "wr0ng")]);
    assert_eq!(wrong.status.code(), Some(3));
    assert_eq!(
        text(&wrong.stderr),
        format!("bmcwall: NetBox answered {base}/api/dcim/devices/?limit=1000 with status 403: Invalid token.\n")
    );
    let unset = fetch(&base, &[], &[]);
    assert_eq!(unset.status.code(), Some(3));
    assert_eq!(
        text(&unset.stderr),
        "bmcwall: the environment variable NETBOX_TOKEN holding the NetBox API token is not set\n"
    );
    let slow = fetch(
        &format!("{base}/slow"),
        &["--timeout", "0.3", "--retries", "1"],
        &env,
    );
    assert_eq!(slow.status.code(), Some(3));
    let said = text(&slow.stderr);
    assert!(
        said.starts_with(&format!(
            "bmcwall: cannot fetch {base}/slow/api/dcim/devices/?limit=1000 (2 tries): "
        )),
        "{said}"
    );
    let bad = fetch("netbox.example.com", &[], &env);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(
        text(&bad.stderr),
        "bmcwall: `netbox.example.com` is not an http:// or https:// URL of a NetBox\n"
    );
    assert!(!out.exists(), "nothing is written");
    for output in [&wrong, &unset, &slow, &bad] {
        assert!(!text(&output.stderr).contains("s3cr3t"));
        assert!(output.stdout.is_empty());
    }
}
