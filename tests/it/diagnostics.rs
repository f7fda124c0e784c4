//! Every broken input in `tests/fixtures/invalid/` run through the real binary.
//!
//! Each case is a `.wall` file directly in that folder (helpers it includes or
//! loads live in `data/`). Its first lines say what `check` must report:
//!
//! ```text
//! # expect: BW002 5:12 exit 2
//! # expect: BW005 data/bad.yaml:3:14 exit 2
//! ```
//!
//! meaning: `check --format json` reports exactly these findings (code and the
//! line:column of the primary label, in the case file or in a file relative to
//! the fixtures folder) and exits with that code. For every case the test also
//! checks that nothing panics, that `compile -o` refuses (with the same exit
//! status, reporting the same codes) without leaving any file behind, and
//! compares the human output of `check` with a snapshot in `tests/it/snapshots/`.

use crate::support::{bmcwall, crate_root, text, TODAY};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where the cases are, relative to the crate root.
const FIXTURES: &str = "tests/fixtures/invalid";
/// Fewer cases than this means fixtures went missing.
const MIN_CASES: usize = 34;
/// Where insta keeps this test's snapshots, relative to the crate root.
const SNAPSHOTS: &str = "tests/it/snapshots";
/// The prefix insta gives this test's snapshots (crate `it`, module `diagnostics`).
const SNAPSHOT_PREFIX: &str = "it__diagnostics__";

/// One expected finding: code and primary location.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Finding {
    code: String,
    file: String,
    line: u64,
    column: u64,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}:{}:{}",
            self.code, self.file, self.line, self.column
        )
    }
}

/// A case and what its header says.
struct Case {
    /// The file name without `.wall`; also the snapshot's name.
    name: String,
    /// The path relative to the crate root, as passed to the binary.
    path: String,
    findings: Vec<Finding>,
    exit: i32,
}

/// Every `.wall` file directly in the fixtures folder, sorted.
fn case_files() -> Vec<PathBuf> {
    let dir = crate_root().join(FIXTURES);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|e| e == "wall"))
        .collect();
    files.sort();
    files
}

/// Reads a case's `# expect:` header.
fn parse_case(file: &Path) -> Result<Case, String> {
    let name = file
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or("file name is not UTF-8")?
        .to_string();
    let path = format!("{FIXTURES}/{name}.wall");
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read: {e}"))?;
    let mut findings = Vec::new();
    let mut exit = None;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# expect:") else {
            break;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let [code, location, "exit", status] = words[..] else {
            return Err(format!(
                "bad header line `{line}`: want `# expect: CODE [FILE:]LINE:COLUMN exit N`"
            ));
        };
        if !(code.len() == 5
            && code.starts_with("BW")
            && code[2..].bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!("bad code `{code}` in `{line}`"));
        }
        let mut parts = location.rsplitn(3, ':');
        let (column, line_number, other_file) = (parts.next(), parts.next(), parts.next());
        let number = |part: Option<&str>| -> Result<u64, String> {
            part.and_then(|p| p.parse().ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("bad location `{location}` in `{line}`"))
        };
        let status: i32 = status
            .parse()
            .map_err(|_| format!("bad exit status `{status}` in `{line}`"))?;
        if exit.is_some_and(|e| e != status) {
            return Err(format!(
                "header lines disagree on the exit status at `{line}`"
            ));
        }
        exit = Some(status);
        findings.push(Finding {
            code: code.to_string(),
            file: match other_file {
                Some(other) => format!("{FIXTURES}/{other}"),
                None => path.clone(),
            },
            line: number(line_number)?,
            column: number(column)?,
        });
    }
    let exit = exit.ok_or("no `# expect:` header on the first line")?;
    findings.sort();
    Ok(Case {
        name,
        path,
        findings,
        exit,
    })
}

/// The findings of `check --format json`, sorted.
fn json_findings(stdout: &str) -> Result<Vec<Finding>, String> {
    let report: serde_json::Value =
        serde_json::from_str(stdout).map_err(|e| format!("JSON output does not parse: {e}"))?;
    let diagnostics = report["diagnostics"]
        .as_array()
        .ok_or("JSON output has no `diagnostics` list")?;
    let mut findings = diagnostics
        .iter()
        .map(|d| {
            Some(Finding {
                code: d["code"].as_str()?.to_string(),
                file: d["file"].as_str()?.to_string(),
                line: d["line"].as_u64()?,
                column: d["column"].as_u64()?,
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or("a diagnostic lacks code, file, line or column")?;
    findings.sort();
    Ok(findings)
}

/// Checks one case through `check` (JSON and human) and `compile`; returns the
/// human output for the snapshot and every problem found.
fn run_case(case: &Case) -> (String, Vec<String>) {
    let mut problems = Vec::new();
    let path = case.path.as_str();

    let json = bmcwall(&[
        "check", path, "--today", TODAY, "--color", "never", "--format", "json",
    ]);
    let stdout = text(&json.stdout);
    if json.status.code() != Some(case.exit) {
        problems.push(format!(
            "`check --format json` exited with {:?}, expected {}",
            json.status.code(),
            case.exit
        ));
    }
    if text(&json.stderr).contains("panicked") {
        problems.push(format!(
            "`check --format json` panicked:\n{}",
            text(&json.stderr)
        ));
    }
    match json_findings(&stdout) {
        Ok(found) if found != case.findings => {
            let show = |list: &[Finding]| {
                list.iter()
                    .map(|f| format!("    {f}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            problems.push(format!(
                "findings differ\n  expected:\n{}\n  reported:\n{}",
                show(&case.findings),
                show(&found)
            ));
        }
        Ok(_) => {}
        Err(error) => problems.push(format!("{error}:\n{stdout}")),
    }

    let human = bmcwall(&["check", path, "--today", TODAY, "--color", "never"]);
    let report = text(&human.stderr);
    if human.status.code() != Some(case.exit) {
        problems.push(format!(
            "`check` exited with {:?}, expected {}",
            human.status.code(),
            case.exit
        ));
    }
    if report.contains("panicked") {
        problems.push(format!("`check` panicked:\n{report}"));
    }
    if !human.stdout.is_empty() {
        problems.push(format!("`check` wrote to stdout:\n{}", text(&human.stdout)));
    }

    let out_dir = tempfile::tempdir().expect("a temporary directory");
    let out = out_dir.path().join("out.nft");
    let out_arg = out.to_str().expect("a UTF-8 temporary path");
    let compile = bmcwall(&[
        "compile", path, "--today", TODAY, "--color", "never", "-o", out_arg,
    ]);
    let compile_report = text(&compile.stderr);
    if compile.status.code() != Some(case.exit) {
        problems.push(format!(
            "`compile` exited with {:?}, expected {} (it must refuse, for the same reason as `check`)",
            compile.status.code(),
            case.exit
        ));
    }
    if compile_report.contains("panicked") {
        problems.push(format!("`compile` panicked:\n{compile_report}"));
    }
    for finding in &case.findings {
        if !compile_report.contains(&finding.code) {
            problems.push(format!(
                "`compile` did not report {} as its reason:\n{compile_report}",
                finding.code
            ));
        }
    }
    let left: Vec<String> = std::fs::read_dir(out_dir.path())
        .expect("the temporary directory is readable")
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    if !left.is_empty() {
        problems.push(format!("`compile` left files behind: {left:?}"));
    }
    (report, problems)
}

#[test]
fn every_invalid_fixture_is_diagnosed() {
    let files = case_files();
    assert!(
        files.len() >= MIN_CASES,
        "{FIXTURES} holds {} cases, expected at least {MIN_CASES}",
        files.len()
    );
    let mut failures: Vec<String> = Vec::new();
    let mut names = BTreeSet::new();
    for file in &files {
        if let Some(stem) = file.file_stem() {
            names.insert(stem.to_string_lossy().into_owned());
        }
        let case = match parse_case(file) {
            Ok(case) => case,
            Err(error) => {
                failures.push(format!("{}: {error}", file.display()));
                continue;
            }
        };
        let (report, problems) = run_case(&case);
        failures.extend(problems.into_iter().map(|p| format!("{}: {p}", case.path)));
        // A snapshot mismatch panics; catch it so one run lists every case that fails.
        let mut settings = insta::Settings::clone_current();
        settings.set_description(format!("bmcwall check {} --color never", case.path));
        settings.set_omit_expression(true);
        let snapshot = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(case.name.as_str(), report));
        }));
        if snapshot.is_err() {
            failures.push(format!(
                "{}: human output differs from its snapshot",
                case.path
            ));
        }
    }
    failures.extend(orphan_snapshots(&names));
    assert!(
        failures.is_empty(),
        "{} problem(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Snapshots of this test whose case no longer exists.
fn orphan_snapshots(names: &BTreeSet<String>) -> Vec<String> {
    let dir = crate_root().join(SNAPSHOTS);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let file = entry.ok()?.file_name().to_string_lossy().into_owned();
            let name = file
                .strip_prefix(SNAPSHOT_PREFIX)?
                .strip_suffix(".snap")?
                .to_string();
            (!names.contains(&name)).then(|| {
                format!("{SNAPSHOTS}/{file}: no case {FIXTURES}/{name}.wall; delete the snapshot")
            })
        })
        .collect()
}

/// The header parser itself: a case without a header, or with a malformed one,
/// is rejected rather than silently passing.
#[test]
fn headers_are_required_and_strict() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let write = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).expect("the file is written");
        path
    };
    let good = parse_case(&write(
        "good.wall",
        "# expect: BW002 5:12 exit 2\n# expect: BW005 data/x.yaml:3:4 exit 2\nhost a = 10.0.0.1;\n",
    ))
    .expect("a good header parses");
    assert_eq!(good.exit, 2);
    assert_eq!(
        good.findings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            format!("BW002 {FIXTURES}/good.wall:5:12"),
            format!("BW005 {FIXTURES}/data/x.yaml:3:4"),
        ]
    );
    for body in [
        "host a = 10.0.0.1;\n",
        "# a comment first\n# expect: BW002 5:12 exit 2\n",
        "# expect: BW002 5:12\n",
        "# expect: BW02 5:12 exit 2\n",
        "# expect: BW002 5 exit 2\n",
        "# expect: BW002 0:1 exit 2\n",
        "# expect: BW002 5:12 exit 2\n# expect: BW401 6:1 exit 1\n",
    ] {
        assert!(
            parse_case(&write("bad.wall", body)).is_err(),
            "accepted a bad header: {body:?}"
        );
    }
}
