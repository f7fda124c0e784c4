//! Hostile input: policies and inventories built to abort, hang or flood
//! bmcwall. Each test runs the real binary on one such input and asserts the
//! exact finding (code and place), the exit status, and that the run stays
//! under a stated time and output size. `docs/reliability.md` lists them.

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one bounded run of the binary gave.
struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

/// Runs `bmcwall ARGS` in `dir`, killed if it runs longer than `limit`
/// (which fails the test).
fn run(dir: &Path, args: &[&str], limit: Duration) -> Run {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bmcwall"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the bmcwall binary runs");
    let mut out = child.stdout.take().expect("stdout pipe");
    let mut err = child.stderr.take().expect("stderr pipe");
    let out_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = out.read_to_end(&mut bytes);
        bytes
    });
    let err_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = err.read_to_end(&mut bytes);
        bytes
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bmcwall {args:?} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8 output");
    Run {
        status: status.code().expect("exited, not killed by a signal"),
        stdout: text(out_reader.join().expect("stdout reader")),
        stderr: text(err_reader.join().expect("stderr reader")),
    }
}

/// Checks `policy.wall` in `dir` with `--format json`; returns the run and
/// each finding as `CODE file:line:column` (the file's name only).
fn check_json(dir: &Path, limit: Duration) -> (Run, Vec<String>) {
    let run = run(
        dir,
        &[
            "check",
            "--today",
            crate::support::TODAY,
            "--format",
            "json",
            "policy.wall",
        ],
        limit,
    );
    let findings = findings(&run.stdout);
    (run, findings)
}

/// The findings of a JSON report as `CODE file:line:column`.
fn findings(json: &str) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_str(json).expect("a JSON report");
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            let file = Path::new(d["file"].as_str().expect("file"))
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            format!(
                "{} {file}:{}:{}",
                d["code"].as_str().expect("code"),
                d["line"],
                d["column"]
            )
        })
        .collect()
}

/// A temporary directory holding `policy.wall` with `text`.
fn policy_dir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("policy.wall"), text).expect("write policy");
    dir
}

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn a_chain_of_4000_definitions_resolves_without_deep_recursion() {
    let mut text = String::from("internal 10.0.0.0/8;\n");
    for i in 0..4000 {
        text.push_str(&format!("group g{i} = g{};\n", i + 1));
    }
    text.push_str("host g4000 = 10.0.0.1;\n");
    for i in 0..4000 {
        text.push_str(&format!("service s{i} = s{};\n", i + 1));
    }
    text.push_str("service s4000 = ssh;\nallow 10.0.0.2 -> g0 : s0;\n");
    let dir = policy_dir(&text);
    let (run, findings) = check_json(dir.path(), LIMIT);
    assert_eq!(findings, Vec::<String>::new(), "{}", run.stderr);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout.len() < 1_000);
}

#[test]
fn a_cycle_of_5000_definitions_is_one_short_bw007() {
    let mut text = String::new();
    for i in 0..5000 {
        text.push_str(&format!("group g{i} = g{};\n", (i + 1) % 5000));
    }
    text.push_str("allow g0 -> g0 : ssh;\n");
    let dir = policy_dir(&text);
    let (run, findings) = check_json(dir.path(), LIMIT);
    assert_eq!(findings, ["BW007 policy.wall:1:7"]);
    assert_eq!(run.status, 2);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        report["diagnostics"][0]["message"],
        "`g0` is defined through itself: `g0` -> `g1` -> `g2` -> `g3` -> `g4` -> `g5` -> `g6` \
         -> `g7` -> ... (4992 more) -> `g0`"
    );
    assert_eq!(
        report["diagnostics"][0]["related"].as_array().map(Vec::len),
        Some(7)
    );
    let human = run_human(dir.path());
    assert_eq!(human.status, 2);
    assert!(human.stderr.len() < 4_000, "{} bytes", human.stderr.len());
}

/// `check` in human form on `policy.wall` in `dir`.
fn run_human(dir: &Path) -> Run {
    run(
        dir,
        &[
            "check",
            "--today",
            crate::support::TODAY,
            "--color",
            "never",
            "policy.wall",
        ],
        LIMIT,
    )
}

#[test]
fn yaml_and_json_nested_20000_deep_is_a_located_error_in_every_format() {
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let formats = [
        "native",
        "ansible",
        "netbox",
        "metal3",
        "openshift",
        "ironic",
        "tripleo",
        "warewulf",
    ];
    for format in formats {
        let dir = policy_dir(&format!(
            "inventory \"deep.json\" format {format};\nallow 10.0.0.1 -> bmcs : ssh;\n"
        ));
        std::fs::write(dir.path().join("deep.json"), &deep).expect("write");
        let (run, findings) = check_json(dir.path(), LIMIT);
        assert_eq!(findings, ["BW005 deep.json:1:65"], "format {format}");
        assert_eq!(run.status, 2);
        assert!(
            run.stdout.contains("nested more than 64 deep"),
            "{}",
            run.stdout
        );
        assert!(run.stdout.len() < 4_000);
        // The 40,000-byte line is shown as a window around the error.
        let human = run_human(dir.path());
        assert_eq!(human.status, 2);
        assert!(human.stderr.len() < 4_000, "{} bytes", human.stderr.len());
    }
    // Detected from its `bmcs` key, as YAML in block style.
    let dir = policy_dir("inventory \"deep.yaml\";\nallow 10.0.0.1 -> bmcs : ssh;\n");
    let nested: String = (0..20_000).map(|_| "- ").collect();
    std::fs::write(
        dir.path().join("deep.yaml"),
        format!("bmcs:\n  {nested}x\n"),
    )
    .expect("write");
    let (run, findings) = check_json(dir.path(), LIMIT);
    assert_eq!(findings, ["BW005 deep.yaml:2:129"]);
    assert_eq!(run.status, 2);
}

/// The JSON report's `omitted` as `CODE file count`.
fn omitted(json: &str) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_str(json).expect("a JSON report");
    report["omitted"]
        .as_array()
        .map(|notes| {
            notes
                .iter()
                .map(|n| {
                    format!(
                        "{} {} {}",
                        n["code"].as_str().unwrap_or(""),
                        n["file"].as_str().unwrap_or(""),
                        n["count"]
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn twenty_kilobytes_of_semicolons_give_twenty_findings_and_a_count() {
    let dir = policy_dir(&";".repeat(20_000));
    let (run, findings) = check_json(dir.path(), LIMIT);
    assert_eq!(run.status, 2);
    assert_eq!(findings.len(), 20);
    assert_eq!(findings[0], "BW001 policy.wall:1:1");
    assert_eq!(omitted(&run.stdout), ["BW001 policy.wall 19980"]);
    assert!(run.stdout.contains("\"errors\": 20000"));
    assert!(run.stdout.len() < 20_000, "{} bytes", run.stdout.len());
    let human = run_human(dir.path());
    assert_eq!(human.status, 2);
    assert!(
        human
            .stderr
            .contains("... and 19980 more BW001(syntax-error) in policy.wall, not shown\n"),
        "{}",
        human.stderr
    );
    assert!(human
        .stderr
        .ends_with("bmcwall: 20000 errors, 0 warnings, 0 infos\n"));
    assert!(human.stderr.len() < 20_000, "{} bytes", human.stderr.len());
}

#[test]
fn forty_thousand_errors_on_their_own_lines_are_bounded() {
    let text: String = (0..40_000)
        .map(|i| format!("host h{i} = 10.0.0.300;\n"))
        .collect();
    let dir = policy_dir(&text);
    let (run, findings) = check_json(dir.path(), Duration::from_secs(40));
    assert_eq!(run.status, 2);
    assert_eq!(findings.len(), 20);
    assert_eq!(findings[19], "BW006 policy.wall:20:12");
    assert_eq!(omitted(&run.stdout), ["BW006 policy.wall 39980"]);
    assert!(run.stdout.len() < 20_000, "{} bytes", run.stdout.len());
}

#[test]
fn forty_thousand_definitions_on_one_line_show_a_window_of_it() {
    let line: Vec<String> = (0..40_000)
        .map(|i| format!("host h{i} = 10.0.{}.{};", i / 250 % 250, i % 250 + 1))
        .collect();
    let dir = policy_dir(&format!("{}\n", line.join(" ")));
    let (run, findings) = check_json(dir.path(), Duration::from_secs(40));
    assert_eq!(run.status, 0);
    assert_eq!(findings.len(), 20);
    assert_eq!(findings[1], "BW303 policy.wall:1:26");
    assert_eq!(omitted(&run.stdout), ["BW303 policy.wall 39980"]);
    let human = run_human(dir.path());
    assert_eq!(human.status, 0);
    assert!(human.stderr.len() < 20_000, "{} bytes", human.stderr.len());
    let longest = human.stderr.lines().map(|l| l.chars().count()).max();
    assert!(longest < Some(200), "a line of {longest:?} characters");
    assert!(human
        .stderr
        .contains(" 1 │ host h0 = 10.0.0.1; host h1 = 10.0.0.2;"));
}

/// The JSON report's findings as `CODE file:line:column message`.
fn messages(json: &str) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_str(json).expect("a JSON report");
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            format!(
                "{} {}:{} {}",
                d["code"].as_str().unwrap_or(""),
                d["line"],
                d["column"],
                d["message"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn a_fifo_a_device_or_a_huge_file_is_an_error_not_a_hang() {
    let dir = policy_dir("include \"fifo.wall\";\ninventory \"fifo.yaml\";\ninventory \"/dev/zero\";\ninventory \"huge.yaml\";\nallow 10.0.0.1 -> bmcs : ssh;\n");
    for fifo in ["fifo.wall", "fifo.yaml"] {
        let status = Command::new("mkfifo")
            .arg(dir.path().join(fifo))
            .status()
            .expect("mkfifo runs");
        assert!(status.success());
    }
    let huge = std::fs::File::create(dir.path().join("huge.yaml")).expect("create");
    huge.set_len(bmcwall::resolve::MAX_FILE_BYTES + 1)
        .expect("a sparse file");
    // `/dev/zero` is outside the policy's directory: with `--unconfined`, it
    // is read for what it is.
    let unconfined = run(
        dir.path(),
        &["check", "--unconfined", "--format", "json", "policy.wall"],
        LIMIT,
    );
    let run = unconfined;
    assert_eq!(run.status, 2);
    assert_eq!(
        messages(&run.stdout),
        [
            "BW004 1:9 cannot include `fifo.wall`: a FIFO, not a regular file",
            "BW005 2:11 cannot read inventory `fifo.yaml`: a FIFO, not a regular file",
            "BW005 3:11 cannot read inventory `/dev/zero`: a device, not a regular file",
            "BW005 4:11 cannot read inventory `huge.yaml`: larger than the limit of 64 MiB a file may have",
        ]
    );
    assert!(run.stdout.len() < 4_000);
}

#[test]
fn a_byte_that_is_not_utf8_is_named_by_its_place() {
    let dir = policy_dir("inventory \"bad.json\";\nallow 10.0.0.1 -> bmcs : ssh;\n");
    std::fs::write(
        dir.path().join("bad.json"),
        b"{\"bmcs\": [\n  {\"name\": \"a\xff\"}]}\n",
    )
    .expect("write");
    let (run, found) = check_json(dir.path(), LIMIT);
    assert_eq!(run.status, 2);
    assert_eq!(found, ["BW005 bad.json:2:14"]);
    assert_eq!(
        messages(&run.stdout),
        ["BW005 2:14 inventory is not UTF-8 text: the byte 0xff is not UTF-8"]
    );
    // The snippet is the line, the byte shown as U+FFFD, and no other.
    let human = run_human(dir.path());
    assert_eq!(human.status, 2);
    assert!(
        human
            .stderr
            .contains(" 2 │   {\"name\": \"a\u{fffd}\"}]}\n"),
        "{}",
        human.stderr
    );
    assert!(!human.stderr.contains("\"bmcs\""), "{}", human.stderr);
}

#[test]
fn a_nul_byte_is_an_error_at_its_place_in_every_format() {
    let cases: [(&str, &[u8], &str); 5] = [
        (
            "bmcs.yaml",
            b"bmcs:\n  - name: a\n    address: 10.0.0.1\n    site: x\0y\n",
            "4:12",
        ),
        (
            "hosts.ini",
            b"[r1]\nn1 bmc_address=10.0.0.1 ra\0ck=1\n",
            "2:27",
        ),
        ("bmcs.csv", b"name,address\nn1,10.0.\0.1\n", "2:9"),
        (
            "devices.json",
            b"[{\"name\": \"n1\",\n  \"oob_ip\": {\"address\": \"10.0.0.1\0/24\"}}]",
            "2:34",
        ),
        (
            "hosts.yml",
            b"all:\n  hosts:\n    n1: {bmc_address: 10.0.0.1}\n\0\n",
            "4:1",
        ),
    ];
    for (name, bytes, place) in cases {
        let dir = policy_dir(&format!(
            "inventory \"{name}\";\nallow 10.0.0.1 -> bmcs : ssh;\n"
        ));
        std::fs::write(dir.path().join(name), bytes).expect("write");
        let (run, found) = check_json(dir.path(), LIMIT);
        assert_eq!(run.status, 2, "{name}");
        assert_eq!(found, [format!("BW005 {name}:{place}")], "{name}");
        assert_eq!(
            messages(&run.stdout)[0],
            format!("BW005 {place} inventory holds a NUL byte: an inventory is text"),
            "{name}"
        );
        assert!(run.stdout.len() < 4_000, "{name}");
    }
}

#[test]
fn a_file_that_is_not_an_inventory_is_quoted_by_its_offending_line_only() {
    // A copy of /etc/shadow, and a YAML file with a syntax error in its
    // middle: the snippet is the lines the finding's labels are on (the
    // error's, and where the list it is in starts), no other.
    let dir = policy_dir(
        "inventory \"shadow\";\ninventory \"broken.yaml\";\nallow 10.0.0.1 -> bmcs : ssh;\n",
    );
    std::fs::write(
        dir.path().join("shadow"),
        "root:$6$firsthash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nalice:$6$secondhash:19000:0:99999:7:::\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("broken.yaml"),
        "bmcs:\n  - name: first\n    address: 10.0.0.1\n    site: before-line\n  - name: a\n   address: 10.0.0.2\n  - name: after-line\n",
    )
    .expect("write");
    let (run, found) = check_json(dir.path(), LIMIT);
    assert_eq!(run.status, 2);
    assert_eq!(found, ["BW005 shadow:1:1", "BW005 broken.yaml:6:4"]);
    let human = run_human(dir.path());
    assert_eq!(human.status, 2);
    for hidden in ["daemon", "secondhash", "before-line", "after-line"] {
        assert!(!human.stderr.contains(hidden), "{hidden}: {}", human.stderr);
    }
    assert!(human.stderr.contains("firsthash"), "{}", human.stderr);
    // A policy's own snippets still show the lines around a finding.
    let dir = policy_dir("host a = 10.0.0.1;\nhost b = 10.0.0.300;\nhost c = 10.0.0.3;\n");
    let human = run_human(dir.path());
    assert!(human.stderr.contains("host a") && human.stderr.contains("host c"));
}

#[test]
fn a_link_out_of_an_ansible_directory_is_refused_unless_unconfined() {
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("all.yml"), "bmc_password: hunter2\n").expect("write");
    std::fs::create_dir(outside.path().join("vars")).expect("mkdir");
    std::fs::write(
        outside.path().join("vars/n1.yml"),
        "bmc_address: 10.0.0.9\n",
    )
    .expect("write");
    let dir = policy_dir("inventory \"inv\";\nallow 10.0.0.1 -> bmcs : ssh;\n");
    let inv = dir.path().join("inv");
    std::fs::create_dir_all(inv.join("group_vars")).expect("mkdir");
    std::fs::write(inv.join("hosts"), "[r1]\nn1 bmc_address=10.0.0.1\n").expect("write");
    // A file in group_vars/ that leads out; then a whole host_vars/.
    std::os::unix::fs::symlink(
        outside.path().join("all.yml"),
        inv.join("group_vars/all.yml"),
    )
    .expect("symlink");
    let (refused, found) = check_json(dir.path(), LIMIT);
    assert_eq!(refused.status, 2);
    assert_eq!(found, ["BW005 policy.wall:1:11"]);
    let message = &messages(&refused.stdout)[0];
    assert!(
        message.contains("group_vars/all.yml`: ") || message.contains("all.yml is outside "),
        "{message}"
    );
    assert!(message.contains(" is outside "), "{message}");
    assert!(!refused.stdout.contains("hunter2"));
    std::fs::remove_file(inv.join("group_vars/all.yml")).expect("rm");
    std::os::unix::fs::symlink(outside.path().join("vars"), inv.join("host_vars"))
        .expect("symlink");
    let (refused, found) = check_json(dir.path(), LIMIT);
    assert_eq!(refused.status, 2);
    assert_eq!(found, ["BW005 policy.wall:1:11"]);
    assert!(messages(&refused.stdout)[0].contains(" is outside "));
    // Unconfined, the link is followed: n1's address is host_vars'.
    let unconfined = run(
        dir.path(),
        &["check", "--unconfined", "--format", "json", "policy.wall"],
        LIMIT,
    );
    assert_eq!(findings(&unconfined.stdout), Vec::<String>::new());
    assert_eq!(unconfined.status, 0);
    // A link inside the policy's directory is fine.
    std::fs::remove_file(inv.join("host_vars")).expect("rm");
    std::fs::create_dir(dir.path().join("vars")).expect("mkdir");
    std::fs::write(dir.path().join("vars/n1.yml"), "site: ams1\n").expect("write");
    std::os::unix::fs::symlink(dir.path().join("vars"), inv.join("host_vars")).expect("symlink");
    let (inside, found) = check_json(dir.path(), LIMIT);
    assert_eq!((inside.status, found), (0, vec![]));
}

#[test]
fn terminal_escapes_from_a_policy_are_shown_escaped_in_every_output() {
    let dir = policy_dir(
        "allow 10.0.0.1 -> 10.0.0.2 : ssh \"desc \u{1b}]0;owned\u{7} \u{202e} end\";\nallow \u{1b}[2J -> x : ssh;\n",
    );
    let raw = |text: &str| {
        text.contains(['\u{7}', '\u{202e}'])
            || text.contains("\u{1b}]")
            || text.contains("\u{1b}[2J")
    };
    let human = run_human(dir.path());
    assert_eq!(human.status, 2);
    assert!(
        !human.stderr.contains('\u{1b}') && !raw(&human.stderr),
        "{:?}",
        human.stderr
    );
    assert!(
        human.stderr.contains(" 2 │ allow \\u{1b}[2J -> x : ssh;\n"),
        "{}",
        human.stderr
    );
    let coloured = run(
        dir.path(),
        &["check", "--color", "always", "policy.wall"],
        LIMIT,
    );
    assert_eq!(coloured.status, 2);
    assert!(!raw(&coloured.stderr), "{:?}", coloured.stderr);
    let github = run(
        dir.path(),
        &["check", "--format", "github", "policy.wall"],
        LIMIT,
    );
    assert_eq!(
        github.stdout,
        "::error file=policy.wall,line=2,col=7,endLine=2,endColumn=8,title=BW001 syntax-error::\
         expected an address expression, found `\\u{1b}`\n"
    );
    // The compiled table's header and comments.
    std::fs::write(
        dir.path().join("policy.wall"),
        "allow 10.0.0.1 -> 10.0.0.2 : ssh \"desc \u{1b}]0;owned\u{7} \u{202e} end\";\n",
    )
    .expect("write");
    let compiled = run(
        dir.path(),
        &["compile", "--today", crate::support::TODAY, "policy.wall"],
        LIMIT,
    );
    assert_eq!(compiled.status, 0, "{}", compiled.stderr);
    assert!(
        !compiled.stdout.contains(['\u{1b}', '\u{7}', '\u{202e}']),
        "{:?}",
        compiled.stdout
    );
    assert!(compiled
        .stdout
        .contains("#     1  policy.wall:1  allow  \"desc \\u{1b}]0;owned\\u{7} \\u{202e} end\"\n"));
}

#[test]
fn includes_and_inventories_outside_the_policy_directory_are_refused() {
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        outside.path().join("secret.wall"),
        "# TOKEN=hunter2\nhost s = 10.0.0.9;\n",
    )
    .expect("write");
    std::fs::write(
        outside.path().join("shadow.yaml"),
        "root:$6$hash:19000:0:99999:7:::\n",
    )
    .expect("write");
    let dir = policy_dir(&format!(
        "include \"../{0}/secret.wall\";\ninclude \"{1}/secret.wall\";\ninclude \"link.wall\";\n\
         inventory \"{1}/shadow.yaml\";\ninventory \"/proc/self/environ\";\nallow 10.0.0.1 -> 10.0.0.2 : ssh;\n",
        outside.path().file_name().expect("name").to_string_lossy(),
        outside.path().display()
    ));
    // The policy's directory and the other one are both in the temp root.
    assert_eq!(dir.path().parent(), outside.path().parent());
    std::os::unix::fs::symlink(
        outside.path().join("secret.wall"),
        dir.path().join("link.wall"),
    )
    .expect("symlink");
    let (refused, found) = check_json(dir.path(), LIMIT);
    assert_eq!(refused.status, 2);
    assert_eq!(
        found,
        [
            "BW004 policy.wall:1:9",
            "BW004 policy.wall:2:9",
            "BW004 policy.wall:3:9",
            "BW005 policy.wall:4:11",
            "BW005 policy.wall:5:11",
        ]
    );
    assert!(refused.stdout.contains("is outside "), "{}", refused.stdout);
    assert!(!refused.stdout.contains("hunter2") && !refused.stdout.contains("$6$"));
    let human = run_human(dir.path());
    assert!(!human.stderr.contains("hunter2") && !human.stderr.contains("$6$"));
    assert!(human.stderr.contains("`--unconfined`"), "{}", human.stderr);
    // `--root` widens the confinement to a directory holding both; the
    // links then lead inside it. `--unconfined` lifts it.
    let root = dir
        .path()
        .parent()
        .expect("parent")
        .to_string_lossy()
        .into_owned();
    std::fs::write(
        dir.path().join("policy.wall"),
        format!(
            "include \"../{}/secret.wall\";\nallow 10.0.0.1 -> s : ssh;\n",
            outside.path().file_name().expect("name").to_string_lossy()
        ),
    )
    .expect("write");
    for flag in [vec!["--root", root.as_str()], vec!["--unconfined"]] {
        let mut args = vec!["check", "--format", "json"];
        args.extend(flag);
        args.push("policy.wall");
        let wider = run(dir.path(), &args, LIMIT);
        assert_eq!(findings(&wider.stdout), Vec::<String>::new(), "{args:?}");
        assert_eq!(wider.status, 0, "{args:?}");
    }
}

#[test]
fn smaller_cases_a_bom_a_mapped_address_and_names_that_are_not_strings() {
    // A byte-order mark before a policy is not part of it.
    let dir = policy_dir("\u{feff}allow 10.0.0.1 -> 10.0.0.2 : ssh;\n");
    let (run, found) = check_json(dir.path(), LIMIT);
    assert_eq!((run.status, found), (0, vec![]));
    // An IPv4-mapped IPv6 address would never match the IPv4 host.
    let dir = policy_dir("host h = ::ffff:10.0.0.1;\nallow h -> 10.0.0.2 : ssh;\n");
    let (run, _) = check_json(dir.path(), LIMIT);
    assert_eq!(run.status, 2);
    assert_eq!(
        messages(&run.stdout),
        ["BW006 1:10 `::ffff:10.0.0.1` is an IPv4-mapped IPv6 address"]
    );
    assert!(run.stdout.contains("write the IPv4 address `10.0.0.1`"));
    // Native entries whose name is empty or a number.
    let dir = policy_dir("inventory \"bmcs.yaml\";\nallow 10.0.0.1 -> bmcs : ssh;\n");
    std::fs::write(
        dir.path().join("bmcs.yaml"),
        "bmcs:\n  - name: \"\"\n    address: 10.1.0.1\n  - name: 5\n    address: 10.1.0.2\n  - name: \"6\"\n    address: 10.1.0.3\n",
    )
    .expect("write");
    let (run, _) = check_json(dir.path(), LIMIT);
    assert_eq!(run.status, 2);
    assert_eq!(
        messages(&run.stdout),
        [
            "BW005 2:11 `name` is empty",
            "BW005 4:11 `name` must be a string, not the YAML value `5`",
        ]
    );
}

#[test]
fn a_look_alike_or_mixed_script_label_value_or_name_is_a_warning() {
    let dir = policy_dir(
        "inventory \"bmcs.yaml\";\nbmc rack-a = inventory(rack = \"a\");\nallow 10.0.0.1 -> rack-a : https;\n",
    );
    std::fs::write(
        dir.path().join("bmcs.yaml"),
        "bmcs:\n  - name: r1-bmc\n    address: 10.10.1.11\n    rack: a\n  - name: r2-bmc\n    address: 10.10.1.12\n    rack: \u{430}\n  - name: r3-b\u{43c}c\n    address: 10.10.1.13\n    rack: a\n",
    )
    .expect("write");
    let (run, _) = check_json(dir.path(), LIMIT);
    assert_eq!(run.status, 0);
    assert_eq!(
        messages(&run.stdout),
        [
            "BW311 5:11 the `rack` value `\u{430}` of `r2-bmc` looks like `a` but is not: `\u{430}` is U+0430",
            "BW311 8:11 the name `r3-b\u{43c}c` mixes scripts: `\u{43c}` is U+043C",
        ]
    );
}

/// A policy whose rule description and whose inventory's names and labels
/// hold terminal escapes, and the older policy it replaces (`https`, not
/// `ssh`): what `explain`, `plan`, `diff`, `usage` and the fleet's commands
/// print of it.
fn escapes_dir(gateway: bool) -> tempfile::TempDir {
    let gateways = if gateway {
        "gateway gw1 = 10.1.0.1 { scope inventory(rack = \"r\u{1b}[2Jx\"); }\n"
    } else {
        ""
    };
    let policy = format!(
        "internal 10.0.0.0/8;\n{gateways}inventory \"bmcs.yaml\";\nhost jump = 10.1.0.5;\n\
         allow jump -> bmcs : ssh \"open \u{1b}[31mred\u{1b}[0m \u{7} \u{202e}\";\n"
    );
    let dir = policy_dir(&policy);
    std::fs::write(
        dir.path().join("old.wall"),
        policy.replace(": ssh", ": https"),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("bmcs.yaml"),
        "bmcs:\n  - name: \"n1\\e]0;title\\a\"\n    address: 10.10.0.1\n    rack: \"r\\e[2Jx\"\n",
    )
    .expect("write");
    dir
}

/// The listing `nft -j list table` would give of the table compiled from
/// `policy` in `dir` (with `more` arguments), written to `to`: the compiled
/// commands' objects, each rule with a handle.
fn listing(dir: &Path, policy: &str, more: &[&str], to: &str) {
    let mut args = vec![
        "compile",
        "--today",
        crate::support::TODAY,
        "--format",
        "json",
    ];
    args.extend(more);
    args.push(policy);
    let compiled = run(dir, &args, LIMIT);
    assert_eq!(compiled.status, 0, "{}", compiled.stderr);
    let commands: serde_json::Value = serde_json::from_str(&compiled.stdout).expect("JSON");
    let mut objects = Vec::new();
    for (handle, command) in commands["nftables"]
        .as_array()
        .expect("commands")
        .iter()
        .enumerate()
    {
        let Some(object) = command.get("add").and_then(|o| o.as_object()) else {
            continue;
        };
        let mut object = object.clone();
        if let Some(rule) = object.get_mut("rule") {
            rule["handle"] = serde_json::json!(handle + 1);
        }
        objects.push(serde_json::Value::Object(object));
    }
    std::fs::write(
        dir.join(to),
        serde_json::json!({ "nftables": objects }).to_string(),
    )
    .expect("write");
}

/// `out` holds no raw escape, and shows `shown` (the escaped form).
fn escaped(command: &str, out: &Run, shown: &[&str]) {
    assert!(
        !out.stdout.contains(['\u{1b}', '\u{7}', '\u{202e}'])
            && !out.stderr.contains(['\u{1b}', '\u{7}', '\u{202e}']),
        "{command}: {:?} {:?}",
        out.stdout,
        out.stderr
    );
    for text in shown {
        assert!(
            out.stdout.contains(text),
            "{command}: {text} in {}",
            out.stdout
        );
    }
}

const TODAY_ARGS: [&str; 2] = ["--today", crate::support::TODAY];

#[test]
fn terminal_escapes_never_reach_the_terminal_from_explain() {
    let dir = escapes_dir(false);
    let mut args = vec![
        "explain",
        "--from",
        "jump",
        "--to",
        "10.10.0.1",
        "--port",
        "22",
    ];
    args.extend(TODAY_ARGS);
    args.push("policy.wall");
    let out = run(dir.path(), &args, LIMIT);
    assert_eq!(out.status, 0, "{}", out.stderr);
    escaped(
        "explain",
        &out,
        &[
            "inventory n1\\u{1b}]0;title\\u{7} (rack=r\\u{1b}[2Jx)",
            "\"open \\u{1b}[31mred\\u{1b}[0m \\u{7} \\u{202e}\"",
        ],
    );
}

#[test]
fn terminal_escapes_never_reach_the_terminal_from_plan() {
    let dir = escapes_dir(false);
    listing(dir.path(), "old.wall", &[], "live.json");
    let mut args = vec!["plan", "--live", "live.json"];
    args.extend(TODAY_ARGS);
    args.push("policy.wall");
    let out = run(dir.path(), &args, LIMIT);
    assert_eq!(out.status, 1, "{}", out.stderr);
    escaped(
        "plan",
        &out,
        &["policy.wall:4: allow jump -> bmcs : ssh \"open \\u{1b}[31mred\\u{1b}[0m \\u{7} \\u{202e}\";"],
    );
}

#[test]
fn terminal_escapes_never_reach_the_terminal_from_diff() {
    let dir = escapes_dir(false);
    for format in ["text", "markdown"] {
        let mut args = vec!["diff", "--format", format];
        args.extend(TODAY_ARGS);
        args.extend(["old.wall", "policy.wall"]);
        let out = run(dir.path(), &args, LIMIT);
        assert_eq!(out.status, 1, "{}", out.stderr);
        escaped(
            format,
            &out,
            &["old.wall:4: allow jump -> bmcs : https \"open \\u{1b}[31mred\\u{1b}[0m \\u{7} \\u{202e}\";"],
        );
    }
}

#[test]
fn terminal_escapes_never_reach_the_terminal_from_usage() {
    let dir = escapes_dir(false);
    listing(dir.path(), "policy.wall", &[], "live.json");
    let mut args = vec!["usage", "--live", "live.json"];
    args.extend(TODAY_ARGS);
    args.push("policy.wall");
    let out = run(dir.path(), &args, LIMIT);
    assert_eq!(out.status, 0, "{}", out.stderr);
    escaped(
        "usage",
        &out,
        &["\"open \\u{1b}[31mred\\u{1b}[0m \\u{7} \\u{202e}\""],
    );
}

#[test]
fn terminal_escapes_never_reach_the_terminal_from_the_fleet_commands() {
    let dir = escapes_dir(true);
    let mut args = vec!["explain", "--gateway", "gw1"];
    args.extend(TODAY_ARGS);
    args.push("policy.wall");
    let out = run(dir.path(), &args, LIMIT);
    assert_eq!(out.status, 0, "{}", out.stderr);
    escaped(
        "explain --gateway",
        &out,
        &["\"open \\u{1b}[31mred\\u{1b}[0m \\u{7} \\u{202e}\""],
    );
    // `plan --all` against a live table per gateway.
    std::fs::create_dir(dir.path().join("live")).expect("mkdir");
    listing(
        dir.path(),
        "old.wall",
        &["--gateway", "gw1"],
        "live/gw1.json",
    );
    let mut args = vec!["plan", "--all", "--live", "live"];
    args.extend(TODAY_ARGS);
    args.push("policy.wall");
    let out = run(dir.path(), &args, LIMIT);
    assert_eq!(out.status, 1, "{} {}", out.stdout, out.stderr);
    escaped(
        "plan --all",
        &out,
        &["\"open \\u{1b}[31mred\\u{1b}[0m \\u{7} \\u{202e}\""],
    );
}
