//! bmcwall.toml and policies checked together, through the real binary:
//! levels by code, prefix and group, thresholds, the flags over the file, a
//! file that is not valid (located BW013, exit 2), and several policies that
//! share an included file.

use crate::support::{bmcwall, bmcwall_in, crate_root, stderr, stdout, TODAY};

/// `(code, severity, line)` of every finding of a JSON report.
fn findings(output: &std::process::Output) -> Vec<(String, String, u64)> {
    let report: serde_json::Value = serde_json::from_str(&stdout(output))
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", stderr(output)));
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().expect("code").to_string(),
                d["severity"].as_str().expect("severity").to_string(),
                d["line"].as_u64().expect("line"),
            )
        })
        .collect()
}

fn found(list: &[(&str, &str, u64)]) -> Vec<(String, String, u64)> {
    list.iter()
        .map(|&(c, s, l)| (c.to_string(), s.to_string(), l))
        .collect()
}

const STRICT: &str = "tests/fixtures/config/strict/site/policy.wall";

#[test]
fn bmcwall_toml_is_found_upward_and_sets_levels_and_thresholds() {
    let output = bmcwall(&["check", STRICT, "--today", TODAY, "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    // deny warnings: BW102 and BW104 (warned by the file) are errors;
    // allow BW303; broad-source-v4 24 flags the /23; the expiry warning
    // reaches 30 days ahead.
    assert_eq!(
        findings(&output),
        found(&[
            ("BW102", "error", 8),
            ("BW104", "error", 8),
            ("BW207", "error", 9),
            ("BW302", "info", 9),
        ])
    );
    // Without the file (an empty one): the defaults.
    let output = bmcwall(&[
        "check",
        STRICT,
        "--today",
        TODAY,
        "--format",
        "json",
        "--config",
        "/dev/null",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        findings(&output),
        found(&[("BW303", "warning", 5), ("BW102", "warning", 8)])
    );
}

#[test]
fn flags_override_the_file_and_take_prefixes_and_groups() {
    let output = bmcwall(&[
        "check", STRICT, "--today", TODAY, "--format", "json", "--warn", "BW2", "--allow", "BW104",
        "--warn", "infos",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        findings(&output),
        found(&[
            ("BW102", "error", 8),
            ("BW207", "warning", 9),
            ("BW302", "warning", 9),
        ])
    );
    // A group on the command line overrides the file's group.
    let output = bmcwall(&[
        "check", STRICT, "--today", TODAY, "--format", "json", "--allow", "warnings",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(findings(&output), found(&[("BW302", "info", 9)]));
    // Lowering an isolation check through a prefix is warned about too.
    let output = bmcwall(&[
        "check", STRICT, "--today", TODAY, "--format", "json", "--allow", "BW2",
    ]);
    assert_eq!(
        stderr(&output),
        "bmcwall: warning: BW201 (internet-exposure) lowered to allow, a check that keeps BMCs \
         isolated; the compiled table and the JSON and SARIF reports record it\n\
         bmcwall: warning: BW202 (transitive-exposure) lowered to allow, a check that keeps BMCs \
         isolated; the compiled table and the JSON and SARIF reports record it\n\
         bmcwall: warning: BW203 (bmc-egress) lowered to allow, a check that keeps BMCs \
         isolated; the compiled table and the JSON and SARIF reports record it\n"
    );
}

#[test]
fn a_bmcwall_toml_that_is_not_valid_is_located_and_exit_2() {
    let dir = crate_root().join("tests/fixtures/config");
    let output = bmcwall_in(
        &dir,
        &[
            "check",
            "invalid/policy.wall",
            "--color",
            "never",
            "--format",
            "json",
        ],
        "",
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    insta::assert_snapshot!("invalid_config", stderr(&output));
    let output = bmcwall_in(
        &dir,
        &[
            "check",
            "invalid/policy.wall",
            "--color",
            "never",
            "--config",
            "unknown-key.toml",
        ],
        "",
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    insta::assert_snapshot!("unknown_config_key", stderr(&output));
    let output = bmcwall(&["check", STRICT, "--config", "no/such/bmcwall.toml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read no/such/bmcwall.toml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn policies_checked_together_report_a_shared_file_once() {
    let dir = crate_root().join("tests/fixtures/sites");
    let run = |policies: &[&str]| {
        let mut args = vec!["check", "--today", TODAY, "--format", "json"];
        args.extend_from_slice(policies);
        let output = bmcwall_in(&dir, &args, "", &[]);
        let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
        let listed: Vec<String> = report["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .map(|d| {
                format!(
                    "{} {} {}:{} {}",
                    d["policy"].as_str().expect("policy"),
                    d["code"].as_str().expect("code"),
                    d["file"].as_str().expect("file"),
                    d["line"],
                    d["message"].as_str().expect("message")
                )
            })
            .collect();
        (output.status.code(), listed, report["summary"].clone())
    };
    let (status, listed, summary) = run(&["fra1.wall", "ams1.wall"]);
    assert_eq!(status, Some(0));
    assert_eq!(
        listed,
        [
            "fra1.wall BW303 common/admins.wall:4 `old-noc` is defined but never used",
            "fra1.wall BW207 common/admins.wall:5 BMCs are reachable from a network as wide as /15",
        ]
    );
    assert_eq!(summary["warnings"], 2);
    // Alone, each policy leaves the other's jump host unused.
    let (_, listed, _) = run(&["fra1.wall"]);
    assert_eq!(
        listed,
        [
            "fra1.wall BW303 common/admins.wall:3 `jump-ams1` is defined but never used",
            "fra1.wall BW303 common/admins.wall:4 `old-noc` is defined but never used",
            "fra1.wall BW207 common/admins.wall:5 BMCs are reachable from a network as wide as /15",
        ]
    );
    // SARIF names the policy too.
    let output = bmcwall_in(
        &dir,
        &[
            "check",
            "--today",
            TODAY,
            "--format",
            "sarif",
            "ams1.wall",
            "fra1.wall",
        ],
        "",
        &[],
    );
    let sarif: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("SARIF");
    let policies: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["properties"]["policy"].as_str().expect("policy"))
        .collect();
    assert_eq!(policies, ["ams1.wall", "ams1.wall"]);
    // One set of settings for both: a lowered check is warned about once.
    let output = bmcwall_in(
        &dir,
        &[
            "check",
            "--today",
            TODAY,
            "--allow",
            "BW202",
            "fra1.wall",
            "ams1.wall",
        ],
        "",
        &[],
    );
    assert_eq!(stderr(&output).matches("lowered to allow").count(), 1);
}
