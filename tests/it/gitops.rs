//! `plan` and `apply` against a real nftables in network namespaces of the
//! tests' own: plans after applies, exact changed flows, foreign tables left
//! alone, and refused rulesets (`rollback` has the confirm window).

use crate::harness::{self, Namespace};
use crate::support::{bmcwall, bmcwall_in, crate_root, stderr, stdout, TODAY};
use std::path::{Path, PathBuf};
use std::process::Output;

/// A copy of the ams1 example (policy and inventory) in a temporary
/// directory, with `edit` applied to the policy text; returns the policy path.
fn ams1_variant(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let source = crate_root().join("examples/ams1");
    let inventory = dir.join("inventory");
    std::fs::create_dir_all(&inventory).expect("inventory dir");
    std::fs::copy(
        source.join("inventory/ams1.yaml"),
        inventory.join("ams1.yaml"),
    )
    .expect("copy inventory");
    let text = std::fs::read_to_string(source.join("ams1.wall")).expect("ams1");
    let path = dir.join(name);
    std::fs::write(&path, edit(text)).expect("write policy");
    path
}

/// ams1 as shipped, and ams1 with NTP open to everyone.
fn ams1_and_open_ntp(dir: &Path) -> (PathBuf, PathBuf) {
    let old = ams1_variant(dir, "old.wall", |t| t);
    let new = ams1_variant(dir, "new.wall", |t| {
        t.replace(
            "allow bmcs      -> ntp1    : ntp;",
            "allow any -> ntp1 : ntp;",
        )
    });
    (old, new)
}

fn apply(policy: &Path, ns: &Namespace, extra: &[&str]) -> Output {
    apply_with(policy, ns, extra, "", &[])
}

/// `apply` with text on its standard input and extra environment.
fn apply_with(
    policy: &Path,
    ns: &Namespace,
    extra: &[&str],
    stdin: &str,
    env: &[(&str, &str)],
) -> Output {
    let mut args = vec![
        "apply",
        policy.to_str().expect("path"),
        "--netns",
        &ns.name,
        "--today",
        TODAY,
    ];
    args.extend_from_slice(extra);
    let mut env = env.to_vec();
    env.push(ns.run_env());
    bmcwall_in(crate_root(), &args, stdin, &env)
}

fn plan(policy: &Path, ns: &Namespace, format: &str) -> Output {
    bmcwall(&[
        "plan",
        policy.to_str().expect("path"),
        "--netns",
        &ns.name,
        "--today",
        TODAY,
        "--format",
        format,
    ])
}

fn table_text(ns: &Namespace) -> String {
    ns.nft(&["list", "table", "inet", "bmcwall"])
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `sha256:` and the SHA-256 of the table's stateless listing.
fn fingerprint_of(ns: &Namespace) -> String {
    use sha2::Digest;
    let listing = ns
        .nft(&["-j", "-p", "list", "table", "inet", "bmcwall"])
        .unwrap_or_else(|e| panic!("{e}"));
    // The listing without what traffic changes: counters' values, the
    // elements of sets the packet path fills, anonymous counters' values.
    let mut value: serde_json::Value = serde_json::from_str(&listing).expect("JSON");
    for object in value["nftables"].as_array_mut().expect("objects") {
        if let Some(counter) = object.get_mut("counter") {
            let counter = counter.as_object_mut().expect("a counter");
            counter.remove("packets");
            counter.remove("bytes");
        }
        if let Some(set) = object.get_mut("set").and_then(|s| s.as_object_mut()) {
            let flags = set.get("flags").cloned().unwrap_or_default();
            if flags
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f == "timeout"))
            {
                set.remove("elem");
            }
        }
        if let Some(exprs) = object
            .pointer_mut("/rule/expr")
            .and_then(|e| e.as_array_mut())
        {
            for expr in exprs {
                if expr
                    .get("counter")
                    .is_some_and(|c| c.get("name").is_none() && c.is_object())
                {
                    expr["counter"] = serde_json::Value::Null;
                }
            }
        }
    }
    let listing = value.to_string();
    let digest = sha2::Sha256::digest(listing.as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256:{hex}")
}

/// The same change as people and pipelines see it, without the temporary
/// directory and the namespace's name.
fn normalised(text: &str, dir: &Path, ns: &Namespace) -> String {
    text.replace(&dir.display().to_string(), "DIR")
        .replace(&ns.name, "NS")
}

#[test]
fn apply_to_an_empty_namespace_then_plan_shows_no_change() {
    if harness::skipped() {
        return;
    }
    let ns = Namespace::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = ams1_variant(dir.path(), "ams1.wall", |t| t);
    let before = plan(&policy, &ns, "human");
    assert_eq!(
        before.status.code(),
        Some(1),
        "absent table: {}",
        stderr(&before)
    );
    assert!(stdout(&before).contains("(absent: everything is new): 6 newly allowed"));
    // JSON says what the text says: there was no table.
    let before = plan(&policy, &ns, "json");
    let report: serde_json::Value = serde_json::from_str(&stdout(&before)).expect("JSON");
    assert_eq!(report["live"], "absent");
    let states: Vec<&str> = report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["before"].as_str().expect("before"))
        .collect();
    assert_eq!(states, ["no table"; 6]);
    let applied = apply(&policy, &ns, &[]);
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    assert!(stderr(&applied).contains("applied table inet bmcwall in network namespace"));
    let after = plan(&policy, &ns, "human");
    assert_eq!(after.status.code(), Some(0), "{}", stderr(&after));
    assert_eq!(
        normalised(&stdout(&after), dir.path(), &ns),
        "table inet bmcwall in network namespace NS: no changes\n"
    );
    // The same policy in the other layout decides every flow the same way.
    let rules = apply(&policy, &ns, &["--layout", "rules"]);
    assert_eq!(rules.status.code(), Some(0), "{}", stderr(&rules));
    assert!(table_text(&ns).contains("counter name \"allow_"));
    assert_eq!(plan(&policy, &ns, "human").status.code(), Some(0));
}

#[test]
fn plan_lists_exactly_the_changed_flows() {
    if harness::skipped() {
        return;
    }
    let ns = Namespace::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let old = ams1_variant(dir.path(), "old.wall", |t| t);
    // The vendor rule goes, NTP becomes NTP and DNS, and the NOC may now use
    // SSH on every BMC.
    let new = ams1_variant(dir.path(), "new.wall", |t| {
        t.replace(
            "allow vendor-vpn -> lab-bmc : https  until 2027-03-31  \"vendor support, ticket OPS-123\";\n",
            "",
        )
        .replace("allow bmcs      -> ntp1    : ntp;", "allow bmcs      -> ntp1    : ntp, dns;")
        .replace(
            "deny  any       -> bmcs    log;",
            "allow noc       -> bmcs    : ssh;\ndeny  any       -> bmcs    log;",
        )
    });
    for layout in ["sets", "rules"] {
        let applied = apply(&old, &ns, &["--layout", layout]);
        assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
        let human = plan(&new, &ns, "human");
        assert_eq!(human.status.code(), Some(1), "{}", stderr(&human));
        let json = plan(&new, &ns, "json");
        assert_eq!(json.status.code(), Some(1));
        insta::assert_snapshot!(
            format!("plan_changed_flows_{layout}_human"),
            normalised(&stdout(&human), dir.path(), &ns)
        );
        // The fingerprint is that of the live table, as this nft lists it.
        let mut json: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON");
        let fingerprint = json["live_fingerprint"].as_str().expect("a fingerprint");
        assert_eq!(fingerprint, fingerprint_of(&ns));
        json["live_fingerprint"] = "FINGERPRINT".into();
        let json = serde_json::to_string_pretty(&json).expect("JSON") + "\n";
        insta::assert_snapshot!(
            format!("plan_changed_flows_{layout}_json"),
            normalised(&json, dir.path(), &ns)
        );
    }
}

/// Loaded before bmcwall's table and compared byte for byte afterwards: a
/// table of another family, and another inet table with a base chain, a
/// regular chain and a set.
const FOREIGN: &str = "table ip site-filter {
	set blocked {
		type ipv4_addr
		elements = { 192.0.2.1, 192.0.2.77 }
	}
	chain input {
		type filter hook input priority filter; policy accept;
		ip saddr @blocked counter drop
	}
}
table inet monitoring {
	chain audit {
		counter
	}
	chain forward {
		type filter hook forward priority 10; policy accept;
		jump audit
	}
}
";

#[test]
fn apply_leaves_foreign_tables_and_chains_alone() {
    if harness::skipped() {
        return;
    }
    let ns = Namespace::new();
    ns.load(FOREIGN).expect("foreign tables");
    let foreign = |ns: &Namespace| {
        [
            ns.nft(&["list", "table", "ip", "site-filter"]),
            ns.nft(&["list", "table", "inet", "monitoring"]),
        ]
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")))
    };
    let before = foreign(&ns);
    let dir = tempfile::tempdir().expect("temp dir");
    let first = ams1_variant(dir.path(), "ams1.wall", |t| t);
    let second = ams1_variant(dir.path(), "second.wall", |t| {
        t.replace(
            "deny  any       -> bmcs    log;",
            "deny  any       -> bmcs;",
        )
    });
    for policy in [&first, &second, &first] {
        let applied = apply(policy, &ns, &[]);
        assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
        assert_eq!(foreign(&ns), before, "a foreign table changed");
    }
    let tables = ns.nft(&["list", "tables"]).expect("tables");
    assert_eq!(
        tables,
        "table ip site-filter\ntable inet monitoring\ntable inet bmcwall\n"
    );
}

/// An nft that spoils every ruleset it is given (`-f FILE`, `-f -`), so the
/// real nft refuses it, and writes down how it is called, one line a call.
fn spoiling_nft(dir: &Path) -> (PathBuf, PathBuf) {
    let path = dir.join("nft-spoiling");
    let calls = dir.join("nft-calls");
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> '{}'\nspoil() {{ cat \"$@\"; echo 'add rule inet bmcwall forward meta nosuchkey 1'; }}\ncase \" $* \" in\n  *\" -f - \"*) spoil | nft \"$@\"; exit $? ;;\n  *\" -f \"*) for last; do :; done; spoil \"$last\" | nft -f -; exit $? ;;\nesac\nexec nft \"$@\"\n",
        calls.display()
    );
    std::fs::write(&path, script).expect("write script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (path, calls)
}

#[test]
fn a_refused_ruleset_leaves_the_previous_table_in_place() {
    if harness::skipped() {
        return;
    }
    let ns = Namespace::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let (old, new) = ams1_and_open_ntp(dir.path());
    assert_eq!(apply(&old, &ns, &[]).status.code(), Some(0));
    let saved = table_text(&ns);
    let (nft, calls) = spoiling_nft(dir.path());
    let nft = nft.to_str().expect("path");
    // Loaded by the apply, or by the rollback watchdog of a --confirm.
    for extra in [&[][..], &["--confirm", "5", "--confirm-with", "true"]] {
        let refused = apply_with(&new, &ns, extra, "", &[("BMCWALL_NFT", nft)]);
        assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
        assert!(
            stderr(&refused)
                .contains("nft refused the ruleset; the previous table is still in place"),
            "{}",
            stderr(&refused)
        );
        assert!(
            stderr(&refused).contains("nosuchkey"),
            "nft's own message is shown"
        );
        assert_eq!(table_text(&ns), saved);
        let left: Vec<_> = std::fs::read_dir(ns.run_dir.path())
            .expect("state directory")
            .map(|e| e.expect("entry").file_name())
            .filter(|name| name.to_string_lossy().ends_with(".nft"))
            .collect();
        assert_eq!(
            left,
            Vec::<std::ffi::OsString>::new(),
            "no saved table is left"
        );
    }
    // Each apply gave nft the table once, in the one transaction that loads
    // it, and never to `nft -c` first.
    let calls = std::fs::read_to_string(calls).expect("calls");
    let given: Vec<&str> = calls
        .lines()
        .filter(|call| call.split_whitespace().any(|word| word == "-f"))
        .collect();
    assert_eq!(given.len(), 2, "{calls}");
    assert!(
        !given
            .iter()
            .any(|call| call.split_whitespace().any(|word| word == "-c")),
        "{calls}"
    );
}

#[test]
fn plan_exits_3_on_a_table_bmcwall_cannot_compare() {
    if harness::skipped() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = ams1_variant(dir.path(), "ams1.wall", |t| t);
    // A table of the name that bmcwall did not write.
    let ns = Namespace::new();
    ns.load(
        "table inet bmcwall {\n\tchain prerouting {\n\t\ttype filter hook prerouting priority filter; policy accept;\n\t\ttcp dport 22 accept\n\t}\n}\n",
    )
    .expect("load");
    let foreign = plan(&policy, &ns, "human");
    assert_eq!(foreign.status.code(), Some(3));
    assert!(
        stderr(&foreign).contains("is not one bmcwall can compare: chain prerouting hooks prerouting, not forward, input or output"),
        "{}",
        stderr(&foreign)
    );
}

/// bmcwall run with `hosts` as /etc/hosts, in a private mount namespace of
/// its own: names resolve without a DNS server, and the host's file is
/// never touched.
fn with_hosts(hosts: &Path, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    std::process::Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            "mount --bind \"$0\" /etc/hosts && exec \"$@\"",
        ])
        .arg(hosts)
        .arg(env!("CARGO_BIN_EXE_bmcwall"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("unshare runs")
}

/// `resolve`: every name resolved is written in the compiled output (the
/// text form's header, the JSON form's `metainfo`), and `plan` marks a name
/// that now resolves to another address, with the changes of its flows.
#[test]
fn resolved_names_are_in_the_output_and_a_changed_one_is_drift() {
    if harness::skipped() {
        return;
    }
    let ns = Namespace::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text).expect("write");
        dir.path().join(name)
    };
    let before = write(
        "hosts.before",
        "127.0.0.1 localhost\n10.60.9.11 idrac-db1.lab.example\n10.60.9.12 idrac-db2.lab.example\n",
    );
    let after = write(
        "hosts.after",
        "127.0.0.1 localhost\n10.60.9.11 idrac-db1.lab.example\n10.60.9.22 idrac-db2.lab.example\n",
    );
    write(
        "idrac.ini",
        "[idrac]\ndb1 idrac_ip=idrac-db1.lab.example\ndb2 baseuri=https://idrac-db2.lab.example/redfish/v1\n",
    );
    write(
        "lab.wall",
        "internal 10.0.0.0/8;\ninventory \"idrac.ini\" resolve;\nhost jump = 10.20.0.5;\nallow jump -> bmcs : https;\n",
    );
    let compiled = with_hosts(&before, dir.path(), &["compile", "lab.wall"], &[]);
    assert_eq!(compiled.status.code(), Some(0), "{}", stderr(&compiled));
    assert!(
        stdout(&compiled).contains(
            "#     1  lab.wall:4  allow\n\
             # Host names resolved when the policy was read (`resolve`):\n\
             #   idrac-db1.lab.example  10.60.9.11\n\
             #   idrac-db2.lab.example  10.60.9.12\n\
             table inet bmcwall {}\n"
        ),
        "{}",
        stdout(&compiled)
    );
    let json = with_hosts(
        &before,
        dir.path(),
        &["compile", "--format", "json", "lab.wall"],
        &[],
    );
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let document: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON");
    assert_eq!(
        document["nftables"][0]["metainfo"]["bmcwall"]["resolved"],
        serde_json::json!([
            {"name": "idrac-db1.lab.example", "addresses": ["10.60.9.11"]},
            {"name": "idrac-db2.lab.example", "addresses": ["10.60.9.12"]},
        ])
    );
    // nft loads the JSON form with its metainfo.
    let path = write("lab.json", &stdout(&json));
    ns.nft(&["-c", "-j", "-f", path.to_str().expect("a path")])
        .unwrap_or_else(|e| panic!("{e}"));
    let ns_name = ns.name.clone();
    let live = ["--netns", ns_name.as_str(), "--today", TODAY];
    let mut args = vec!["apply", "lab.wall"];
    args.extend(live);
    let applied = with_hosts(&before, dir.path(), &args, &[ns.run_env()]);
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    let mut args = vec!["plan", "lab.wall"];
    args.extend(live);
    let same = with_hosts(&before, dir.path(), &args, &[]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    assert_eq!(
        normalised(&stdout(&same), dir.path(), &ns),
        "table inet bmcwall in network namespace NS: no changes\n\
         \n\
         host names resolved when the policy was read (`resolve`):\n  \
         idrac-db1.lab.example -> 10.60.9.11\n  \
         idrac-db2.lab.example -> 10.60.9.12\n"
    );
    let moved = with_hosts(&after, dir.path(), &args, &[]);
    assert_eq!(moved.status.code(), Some(1), "{}", stderr(&moved));
    let shown = normalised(&stdout(&moved), dir.path(), &ns);
    assert!(
        shown.starts_with("table inet bmcwall in network namespace NS: 1 newly allowed, 1 no longer allowed, 0 other\n"),
        "{shown}"
    );
    assert!(
        shown.ends_with(
            "host names resolved when the policy was read (`resolve`):\n  \
             idrac-db1.lab.example -> 10.60.9.11\n\
             ~ idrac-db2.lab.example -> 10.60.9.22  (changed: the live table does not match it so)\n"
        ),
        "{shown}"
    );
    args.extend(["--format", "json"]);
    let moved = with_hosts(&after, dir.path(), &args, &[]);
    assert_eq!(moved.status.code(), Some(1), "{}", stderr(&moved));
    let plan: serde_json::Value = serde_json::from_str(&stdout(&moved)).expect("JSON");
    assert_eq!(
        plan["resolved"],
        serde_json::json!([
            {"name": "idrac-db1.lab.example", "addresses": ["10.60.9.11"], "changed": false},
            {"name": "idrac-db2.lab.example", "addresses": ["10.60.9.22"], "changed": true},
        ])
    );
}
