//! The shipped Ansible playbook (`examples/fleet/ansible/`) run for real
//! against the shipped fleet, with one network namespace of the test's own
//! standing in for each gateway: `--check` loads nothing, every gateway ends
//! with its table, a second run changes nothing, and a drift planted on one
//! gateway fails the play's plan step naming that gateway; an inventory that
//! does not match the policy stops the play before any gateway.

use crate::harness::{self, Namespace};
use crate::support::{bmcwall, crate_root, stderr, stdout};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// The gateways `examples/fleet/fleet.wall` declares.
const GATEWAYS: [&str; 5] = ["ams1-gw", "ams1-gw-b", "fra1-gw", "jump-fra1-fw", "nyc1-gw"];

/// The rule the drift leaves out; only nyc1-gw's table holds it.
const NYC1_RULE: &str = "allow noc       -> nyc1-dell : https  \"iDRAC web from the NOC\";\n";

/// `ansible-playbook` from `BMCWALL_ANSIBLE_PLAYBOOK` or the `PATH`.
fn ansible_playbook() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("BMCWALL_ANSIBLE_PLAYBOOK") {
        return Some(PathBuf::from(path));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("ansible-playbook"))
        .find(|path| path.is_file())
}

/// The lab: the fleet's policy copied to a temporary directory, a namespace
/// per gateway and an inventory naming them.
struct Fleet {
    dir: tempfile::TempDir,
    namespaces: BTreeMap<&'static str, Namespace>,
    playbook: PathBuf,
}

impl Fleet {
    /// The lab with a namespace of its own for each gateway of the fleet.
    fn new(playbook: PathBuf) -> Fleet {
        let namespaces = GATEWAYS.iter().map(|g| (*g, Namespace::new())).collect();
        Fleet::with_hosts(playbook, namespaces, &[])
    }

    /// The lab whose inventory names `namespaces`' gateways and `absent`
    /// hosts, whose namespaces do not exist (nft cannot run for them
    /// anywhere).
    fn with_hosts(
        playbook: PathBuf,
        namespaces: BTreeMap<&'static str, Namespace>,
        absent: &[&str],
    ) -> Fleet {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = crate_root().join("examples/fleet");
        let policy = dir.path().join("fleet");
        std::fs::create_dir_all(policy.join("inventory")).expect("policy dir");
        for file in [
            "fleet.wall",
            "common.wall",
            "inventory/ams1.yaml",
            "inventory/fra1.yaml",
            "inventory/nyc1.yaml",
        ] {
            std::fs::copy(source.join(file), policy.join(file)).expect("copy the fleet");
        }
        let path = |p: &Path| p.to_str().expect("a UTF-8 path").to_string();
        let bin = env!("CARGO_BIN_EXE_bmcwall");
        let mut inventory = format!(
            "bmcwall_gateways:\n  vars:\n    ansible_connection: local\n    \
             ansible_python_interpreter: \"{{{{ ansible_playbook_python }}}}\"\n    \
             bmcwall_bin: {bin}\n    bmcwall_controller_bin: {bin}\n    \
             bmcwall_policy: {}\n    bmcwall_out_dir: {}\n    bmcwall_live_dir: {}\n  hosts:\n",
            path(&policy.join("fleet.wall")),
            path(&dir.path().join("out")),
            path(&dir.path().join("live")),
        );
        let hosts = namespaces
            .iter()
            .map(|(gateway, ns)| (*gateway, ns.name.clone(), path(ns.run_dir.path())))
            .chain(absent.iter().map(|host| {
                let run_dir = path(&dir.path().join("run").join(host));
                (*host, format!("bwt-absent-{host}"), run_dir)
            }));
        for (host, netns, run_dir) in hosts {
            // Every host has its namespace: no nft runs outside one.
            let ruleset = dir.path().join("gateways").join(host).join("bmcwall.nft");
            inventory.push_str(&format!(
                "    {host}:\n      bmcwall_netns: {netns}\n      bmcwall_run_dir: {run_dir}\n      \
                 bmcwall_ruleset_path: {}\n",
                path(&ruleset),
            ));
        }
        std::fs::write(dir.path().join("inventory.yml"), inventory).expect("inventory");
        Fleet {
            dir,
            namespaces,
            playbook,
        }
    }

    fn policy(&self) -> PathBuf {
        self.dir.path().join("fleet/fleet.wall")
    }

    /// Runs the shipped site.yml with `extra` arguments; prints how long it took.
    fn run(&self, what: &str, extra: &[&str]) -> Output {
        let started = Instant::now();
        let output = site_yml(&self.playbook, self.dir.path())
            .arg("-i")
            .arg(self.dir.path().join("inventory.yml"))
            .args(extra)
            .output()
            .expect("ansible-playbook runs");
        eprintln!(
            "ansible-playbook, {what}: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        output
    }

    /// `plan --gateway NAME --netns NS` straight from the namespace.
    fn plan_gateway(&self, gateway: &str) -> Output {
        bmcwall(&[
            "plan",
            self.policy().to_str().expect("path"),
            "--gateway",
            gateway,
            "--netns",
            &self.namespaces[gateway].name,
        ])
    }

    /// `plan --all --live` over what the playbook collected.
    fn plan_collected(&self) -> Output {
        bmcwall(&[
            "plan",
            self.policy().to_str().expect("path"),
            "--all",
            "--live",
            self.dir.path().join("live").to_str().expect("path"),
        ])
    }
}

/// `ansible-playbook site.yml` (the shipped one) run in `dir`, with its
/// configuration, home and temporary files there.
fn site_yml(playbook: &Path, dir: &Path) -> Command {
    let home = dir.join("ansible-home");
    std::fs::write(dir.join("ansible.cfg"), "").expect("ansible.cfg");
    let mut command = Command::new(playbook);
    command
        .arg(crate_root().join("examples/fleet/ansible/site.yml"))
        .current_dir(dir)
        .env("ANSIBLE_CONFIG", dir.join("ansible.cfg"))
        .env("ANSIBLE_HOME", &home)
        .env("ANSIBLE_LOCAL_TEMP", home.join("tmp"))
        .env("ANSIBLE_REMOTE_TEMP", home.join("remote"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        // Ansible refuses to start unless the locale's encoding is UTF-8.
        .env("LC_ALL", "C.UTF-8");
    command
}

/// `changed=` of every host in the PLAY RECAP, and `failed=`.
fn recap(output: &Output) -> BTreeMap<String, (u32, u32)> {
    let text = stdout(output);
    let recap = text
        .split("PLAY RECAP")
        .nth(1)
        .unwrap_or_else(|| panic!("no PLAY RECAP in:\n{text}\n{}", stderr(output)));
    let count = |fields: &str, key: &str| -> u32 {
        fields
            .split_whitespace()
            .find_map(|f| f.strip_prefix(key))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {fields}"))
    };
    recap
        .lines()
        .filter_map(|line| line.split_once(" : "))
        .map(|(host, fields)| {
            (
                host.trim().to_string(),
                (count(fields, "changed="), count(fields, "failed=")),
            )
        })
        .collect()
}

fn every_host(changed: u32) -> BTreeMap<String, (u32, u32)> {
    GATEWAYS
        .iter()
        .map(|g| (g.to_string(), (changed, 0)))
        .collect()
}

fn shown(output: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        output.status.code(),
        stdout(output),
        stderr(output)
    )
}

#[test]
fn the_playbook_pushes_the_fleet_once_and_its_plan_finds_drift() {
    if harness::skipped() {
        return;
    }
    let Some(playbook) = ansible_playbook() else {
        eprintln!(
            "ansible test skipped: no ansible-playbook on the PATH and BMCWALL_ANSIBLE_PLAYBOOK \
             is not set (.ci/run installs ansible-core)"
        );
        return;
    };
    let fleet = Fleet::new(playbook);

    // A dry run first: nothing is loaded or copied, and the plan fails the
    // play on every gateway's missing table.
    let dry = fleet.run("--check before the first push", &["--check"]);
    assert_eq!(dry.status.code(), Some(2), "{}", shown(&dry));
    let said = stdout(&dry);
    assert!(
        said.contains("\"bmcwall plan exited 1\""),
        "{}",
        shown(&dry)
    );
    for gateway in GATEWAYS {
        assert!(
            said.contains(&format!("\"  {gateway}: no table (everything is new)\"")),
            "{gateway}: {}",
            shown(&dry)
        );
        assert!(
            fleet.namespaces[gateway]
                .nft(&["list", "table", "inet", "bmcwall"])
                .is_err(),
            "{gateway} got a table under --check"
        );
    }
    assert!(
        !fleet.dir.path().join("gateways").exists(),
        "no file copied"
    );

    // First push: on every gateway its directory, its file and its table.
    let first = fleet.run("first push", &[]);
    assert_eq!(first.status.code(), Some(0), "{}", shown(&first));
    assert_eq!(recap(&first), every_host(3), "{}", shown(&first));
    for gateway in GATEWAYS {
        let plan = fleet.plan_gateway(gateway);
        assert_eq!(plan.status.code(), Some(0), "{gateway}: {}", shown(&plan));
        assert!(
            stdout(&plan).ends_with(": no changes\n"),
            "{gateway}: {}",
            shown(&plan)
        );
    }
    // Compiled beside the policy: the file names it as in any checkout.
    let copied = std::fs::read_to_string(fleet.dir.path().join("gateways/nyc1-gw/bmcwall.nft"))
        .expect("nyc1-gw's copy");
    assert!(
        copied.starts_with("# Generated by bmcwall ") && copied.contains(" from fleet.wall. "),
        "{}",
        copied.lines().next().unwrap_or_default()
    );
    // The pair's members hold the same table; the others each their own.
    let listing = |gateway: &str| {
        fleet.namespaces[gateway]
            .nft(&["-s", "list", "table", "inet", "bmcwall"])
            .unwrap_or_else(|e| panic!("{gateway}: {e}"))
    };
    assert_eq!(listing("ams1-gw"), listing("ams1-gw-b"));
    assert_ne!(listing("fra1-gw"), listing("nyc1-gw"));

    // Second push: nothing changes anywhere, and the fleet plans clean.
    let second = fleet.run("second push", &[]);
    assert_eq!(second.status.code(), Some(0), "{}", shown(&second));
    assert_eq!(recap(&second), every_host(0), "{}", shown(&second));
    let clean = fleet.plan_collected();
    assert_eq!(clean.status.code(), Some(0), "{}", shown(&clean));
    let summary: String = GATEWAYS
        .iter()
        .map(|g| format!("  {g}: no changes\n"))
        .collect();
    assert_eq!(stdout(&clean), format!("5 gateways:\n{summary}"));

    // Drift: nyc1-gw gets the table of the fleet without its NOC rule.
    let policy = std::fs::read_to_string(fleet.policy()).expect("policy");
    assert!(policy.contains(NYC1_RULE), "the rule to leave out is there");
    let drifted = fleet.dir.path().join("fleet/drifted.wall");
    std::fs::write(&drifted, policy.replace(NYC1_RULE, "")).expect("drifted policy");
    let compiled = bmcwall(&[
        "compile",
        drifted.to_str().expect("path"),
        "--gateway",
        "nyc1-gw",
    ]);
    assert_eq!(compiled.status.code(), Some(0), "{}", shown(&compiled));
    fleet.namespaces["nyc1-gw"]
        .load(&stdout(&compiled))
        .unwrap_or_else(|e| panic!("loading the drift: {e}"));

    // The drift check (--check: no push): the play fails at its plan step,
    // naming nyc1-gw.
    let check = fleet.run("drift check (--check)", &["--check"]);
    assert_eq!(check.status.code(), Some(2), "{}", shown(&check));
    let said = stdout(&check);
    assert!(
        said.contains("\"bmcwall plan exited 1\""),
        "{}",
        shown(&check)
    );
    assert!(
        said.contains("\"  nyc1-gw: 1 newly allowed, 0 no longer allowed, 0 other\""),
        "{}",
        shown(&check)
    );
    for gateway in GATEWAYS.iter().filter(|g| **g != "nyc1-gw") {
        assert!(
            said.contains(&format!("\"  {gateway}: no changes\"")),
            "{gateway}: {}",
            shown(&check)
        );
    }
    let changed: Vec<u32> = recap(&check)
        .values()
        .map(|(changed, _)| *changed)
        .collect();
    assert_eq!(changed, vec![0; 5], "a drift check changes nothing");
    let direct = fleet.plan_collected();
    assert_eq!(direct.status.code(), Some(1), "{}", shown(&direct));
    assert!(stdout(&direct).contains("gateway nyc1-gw: table inet bmcwall in "));
    assert!(stdout(&direct).contains("  nyc1-gw: 1 newly allowed, 0 no longer allowed, 0 other\n"));

    // A push repairs it, changing nyc1-gw's table only.
    let repair = fleet.run("repair", &[]);
    assert_eq!(repair.status.code(), Some(0), "{}", shown(&repair));
    let mut expected = every_host(0);
    expected.insert("nyc1-gw".to_string(), (1, 0));
    assert_eq!(recap(&repair), expected, "{}", shown(&repair));
    assert_eq!(fleet.plan_gateway("nyc1-gw").status.code(), Some(0));
}

#[test]
fn the_playbook_stops_before_any_gateway_when_the_inventory_does_not_match_the_policy() {
    let Some(playbook) = ansible_playbook() else {
        eprintln!(
            "ansible test skipped: no ansible-playbook on the PATH and BMCWALL_ANSIBLE_PLAYBOOK \
             is not set (.ci/run installs ansible-core)"
        );
        return;
    };
    // No namespace exists for any host: had a task reached a gateway, it
    // would have failed on `ip netns exec` or `--netns`.
    let stops = |hosts: &[&str], what: &str, says: &str| {
        let fleet = Fleet::with_hosts(playbook.clone(), BTreeMap::new(), hosts);
        let run = fleet.run(what, &[]);
        assert_eq!(run.status.code(), Some(2), "{}", shown(&run));
        assert!(stdout(&run).contains(says), "{}", shown(&run));
        assert!(
            !stdout(&run).contains("TASK [bmcwall : Make the gateway's directory"),
            "{}",
            shown(&run)
        );
        assert!(
            !fleet.dir.path().join("gateways").exists(),
            "no gateway got a file"
        );
    };
    let mut hosts = GATEWAYS.to_vec();
    hosts.push("lon1-gw");
    stops(
        &hosts,
        "a host that is no gateway",
        "lon1-gw: the policy declares no gateway lon1-gw (it declares ams1-gw, ams1-gw-b, \
         fra1-gw, jump-fra1-fw, nyc1-gw)",
    );
    stops(
        &GATEWAYS[..4],
        "a gateway left out",
        "gateways of the policy not in this play: nyc1-gw",
    );
}

#[test]
fn the_example_inventory_names_every_gateway_of_the_fleet() {
    let Some(playbook) = ansible_playbook() else {
        eprintln!(
            "ansible test skipped: no ansible-playbook on the PATH and BMCWALL_ANSIBLE_PLAYBOOK \
             is not set (.ci/run installs ansible-core)"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let compiled = bmcwall(&[
        "compile",
        "examples/fleet/fleet.wall",
        "--all",
        "-o",
        out.to_str().expect("path"),
    ]);
    assert_eq!(compiled.status.code(), Some(0), "{}", shown(&compiled));
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("manifest.json")).expect("manifest"),
    )
    .expect("manifest JSON");
    let declared: BTreeSet<&str> = manifest["gateways"]
        .as_array()
        .expect("gateways")
        .iter()
        .map(|g| g["gateway"].as_str().expect("a name"))
        .collect();
    assert_eq!(declared, GATEWAYS.into_iter().collect());
    let listed = site_yml(&playbook, dir.path())
        .arg("-i")
        .arg(crate_root().join("examples/fleet/ansible/inventory.yml"))
        .arg("--list-hosts")
        .output()
        .expect("ansible-playbook runs");
    assert_eq!(listed.status.code(), Some(0), "{}", shown(&listed));
    let said = stdout(&listed);
    let hosts: BTreeSet<&str> = said
        .split_once("hosts (5):")
        .unwrap_or_else(|| panic!("five hosts: {said}"))
        .1
        .split_whitespace()
        .collect();
    assert_eq!(hosts, declared);
}
