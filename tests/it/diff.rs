//! `bmcwall diff` through the real binary, on pairs of policies: a flow
//! added, removed, narrowed, and rules only reordered (no change); the
//! three formats, exit 0 and 1, and the old policy read from git.

use crate::support::{bmcwall, bmcwall_in, stderr, stdout, TODAY};

const DIR: &str = "tests/fixtures/diff";

fn diff(new: &str, extra: &[&str]) -> std::process::Output {
    let (old, new) = (format!("{DIR}/base.wall"), format!("{DIR}/{new}.wall"));
    let mut args = vec!["diff", old.as_str(), new.as_str(), "--today", TODAY];
    args.extend_from_slice(extra);
    bmcwall(&args)
}

#[test]
fn a_flow_added_is_newly_allowed_with_its_finding() {
    let output = diff("added", &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "tests/fixtures/diff/base.wall -> tests/fixtures/diff/added.wall: 1 newly allowed, 0 no \
         longer allowed, 0 other; 1 finding added, 0 fixed\n\
         \n\
         + newly allowed: noc -> rack1 : tcp 23\n\
         \x20   10.30.0.0/24 -> 10.10.1.0/24\n\
         \x20   now:    tests/fixtures/diff/added.wall:8: allow noc -> rack1 : https, telnet;\n\
         \x20   before: no rule matched (denied)\n\
         \n\
         findings added:\n\
         \x20   BW206 cleartext-service (warning) at tests/fixtures/diff/added.wall:8: cleartext \
         service `telnet` (tcp 23) is allowed to BMCs\n"
    );
    // Backwards, the flow is no longer allowed and the finding fixed.
    let output = bmcwall(&[
        "diff",
        "tests/fixtures/diff/added.wall",
        "tests/fixtures/diff/base.wall",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(
        report["summary"],
        serde_json::json!({"newly_allowed": 0, "no_longer_allowed": 1, "other": 0,
                           "findings_added": 0, "findings_fixed": 1})
    );
    assert_eq!(report["changes"][0]["before"], "allowed");
    assert_eq!(report["changes"][0]["after"], "denied");
    assert_eq!(
        report["changes"][0]["old_rule"],
        "tests/fixtures/diff/added.wall:8: allow noc -> rack1 : https, telnet;"
    );
    assert_eq!(
        report["changes"][0]["services"],
        serde_json::json!(["tcp 23"])
    );
}

#[test]
fn a_rule_removed_or_narrowed_is_no_longer_allowed() {
    for (new, addresses) in [("removed", "10.30.0.0/24"), ("narrowed", "10.30.0.128/25")] {
        let output = diff(new, &["--format", "json"]);
        assert_eq!(output.status.code(), Some(1), "{new}: {}", stderr(&output));
        let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
        let changes = report["changes"].as_array().expect("changes");
        assert_eq!(changes.len(), 1, "{new}: {report:#}");
        assert_eq!(changes[0]["before"], "allowed", "{new}");
        assert_eq!(changes[0]["after"], "denied", "{new}");
        assert_eq!(
            changes[0]["src"]["addresses"],
            serde_json::json!([addresses]),
            "{new}"
        );
        assert_eq!(
            changes[0]["old_rule"],
            "tests/fixtures/diff/base.wall:8: allow noc -> rack1 : https;"
        );
    }
}

#[test]
fn rules_only_reordered_change_nothing() {
    for format in ["text", "markdown", "json"] {
        let output = diff("reordered", &["--format", format]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{format}: {}",
            stdout(&output)
        );
    }
    assert_eq!(
        stdout(&diff("reordered", &[])),
        "tests/fixtures/diff/base.wall -> tests/fixtures/diff/reordered.wall: no change\n"
    );
}

#[test]
fn markdown_fits_a_pull_request_comment() {
    let output = diff("added", &["--format", "markdown"]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("diff_added_markdown", stdout(&output));
}

#[test]
fn an_invalid_policy_is_exit_2_and_usage_is_checked() {
    let output = bmcwall(&[
        "diff",
        "tests/fixtures/diff/base.wall",
        "tests/fixtures/invalid/syntax_missing_arrow.wall",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).ends_with("bmcwall: no diff: a policy is not valid\n"));
    let output = bmcwall(&["diff", "tests/fixtures/diff/base.wall"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "bmcwall: give the old and the new policy, or --base REV and the new one\n"
    );
}

#[test]
fn base_reads_the_old_policy_from_git() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .expect("git runs");
        assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
    };
    let fixture = |name: &str| {
        std::fs::read_to_string(crate::support::fixture(&format!("{DIR}/{name}.wall")))
            .expect("fixture")
    };
    std::fs::create_dir(root.join("sites")).expect("mkdir");
    std::fs::write(root.join("sites/fra1.wall"), fixture("base")).expect("write");
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "base"]);
    std::fs::write(root.join("sites/fra1.wall"), fixture("added")).expect("write");
    let output = bmcwall_in(
        root,
        &[
            "diff",
            "--base",
            "HEAD",
            "sites/fra1.wall",
            "--today",
            TODAY,
        ],
        "",
        &[],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("HEAD:sites/fra1.wall -> sites/fra1.wall: 1 newly allowed"),
        "{text}"
    );
    // The working tree as committed: no change.
    git(&["commit", "-qam", "telnet"]);
    let output = bmcwall_in(
        root,
        &["diff", "--base", "HEAD", "sites/fra1.wall"],
        "",
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let output = bmcwall_in(
        root,
        &["diff", "--base", "nope", "sites/fra1.wall"],
        "",
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with("bmcwall: git archive"),
        "{}",
        stderr(&output)
    );
}
