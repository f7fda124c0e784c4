//! What `compile` writes, and where: `-o` on device nodes and on standard
//! output (in a private mount namespace with a `/dev` of the test's own,
//! never the host's), and names that nft's limits would refuse, caught with
//! a located error before anything is written.

use crate::harness::{self, Namespace};
use crate::support::{bmcwall, crate_root, stderr, stdout, AMS1, TODAY};
use bmcwall::model::NAME_MAX;
use std::process::{Command, Output};

/// Runs the binary with `args` in a private mount namespace whose `/dev` is
/// a fresh tmpfs holding `null`, `full` and `stdout` (a link to fd 1), then
/// says on standard error what `/dev/null` and `/dev/full` are afterwards.
fn in_private_dev(args: &[&str]) -> Output {
    let script = "mount -t tmpfs tmpfs /dev \
        && mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/full c 1 7 \
        && ln -s /proc/self/fd/1 /dev/stdout || exit 99; \
        \"$@\"; status=$?; \
        echo \"after: $(stat -c %F /dev/null), $(stat -c %F /dev/full)\" >&2; exit $status";
    Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .arg(env!("CARGO_BIN_EXE_bmcwall"))
        .args(args)
        .current_dir(crate_root())
        .output()
        .expect("unshare runs")
}

#[test]
fn output_to_device_nodes_and_standard_output_writes_through_them() {
    if harness::skipped() {
        return;
    }
    let compiled = bmcwall(&["compile", AMS1, "--today", TODAY]);
    assert_eq!(compiled.status.code(), Some(0));
    let after = "after: character special file, character special file\n";

    let null = in_private_dev(&["compile", AMS1, "--today", TODAY, "-o", "/dev/null"]);
    assert_eq!(null.status.code(), Some(0), "{}", stderr(&null));
    assert_eq!(stderr(&null), after, "/dev/null stays a device");
    assert_eq!(stdout(&null), "");

    let full = in_private_dev(&["compile", AMS1, "--today", TODAY, "-o", "/dev/full"]);
    assert_eq!(full.status.code(), Some(2));
    assert_eq!(
        stderr(&full),
        format!(
            "bmcwall: cannot write /dev/full: could not write: No space left on device (os \
             error 28)\n{after}"
        )
    );

    let out = in_private_dev(&["compile", AMS1, "--today", TODAY, "-o", "/dev/stdout"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        stdout(&compiled),
        "the table is on standard output"
    );
    assert_eq!(stderr(&out), after);
}

/// A policy whose host, service and BMC group names are `length` long, with
/// a rule description of 400 bytes (nft keeps 128 of a comment).
fn long_names(length: usize) -> String {
    let name = |first: char| -> String {
        std::iter::once(first)
            .chain(std::iter::repeat_n('x', length - 1))
            .collect()
    };
    let (host, service, bmc) = (name('h'), name('s'), name('b'));
    let description = "é".repeat(200);
    format!(
        "host {host} = 10.0.0.1, fd00::1;\nservice {service} = tcp 443, udp 623, icmp;\n\
         bmc {bmc} = 10.9.0.0/24, fd00:9::/64;\n\
         allow {host} -> {bmc} : {service} \"{description}\";\nallow {host} -> {bmc} : ssh log;\n"
    )
}

#[test]
fn names_too_long_for_nft_are_refused_where_they_are_defined() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("long.wall");
    std::fs::write(&path, long_names(NAME_MAX + 1)).expect("write");
    let path = path.to_str().expect("path");
    let check = bmcwall(&["check", path, "--today", TODAY, "--format", "json"]);
    assert_eq!(check.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_str(&stdout(&check)).expect("JSON");
    let found: Vec<(String, u64, u64, String)> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().expect("code").to_string(),
                f["line"].as_u64().expect("line"),
                f["column"].as_u64().expect("column"),
                f["message"].as_str().expect("message").to_string(),
            )
        })
        .collect();
    let message = |first: char| {
        format!(
            "the name `{first}{}…` is {} characters long; names are at most {NAME_MAX}",
            "x".repeat(23),
            NAME_MAX + 1
        )
    };
    assert_eq!(
        found,
        [
            ("BW006".to_string(), 1, 6, message('h')),
            ("BW006".to_string(), 2, 9, message('s')),
            ("BW006".to_string(), 3, 5, message('b')),
        ]
    );
    let compile = bmcwall(&["compile", path, "--today", TODAY, "--layout", "rules"]);
    assert_eq!(compile.status.code(), Some(2));
    assert_eq!(stdout(&compile), "", "nothing is written");
    assert!(stderr(&compile).contains("too long for nftables"));
}

#[test]
fn the_longest_names_load_in_both_layouts() {
    if harness::skipped() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("long.wall");
    std::fs::write(&path, long_names(NAME_MAX)).expect("write");
    let path = path.to_str().expect("path");
    let ns = Namespace::new();
    for layout in ["sets", "rules"] {
        let compile = bmcwall(&["compile", path, "--today", TODAY, "--layout", layout]);
        assert_eq!(compile.status.code(), Some(0), "{}", stderr(&compile));
        let text = stdout(&compile);
        if layout == "rules" {
            let longest = format!("s{}_protos", "x".repeat(NAME_MAX - 1));
            assert!(
                text.contains(&format!("set {longest} {{")),
                "named after the service"
            );
        }
        ns.load(&text)
            .unwrap_or_else(|error| panic!("{layout}: the kernel refused it: {error}"));
    }
}
