//! `bmcwall fmt` on every policy in the repository and through the binary.
//!
//! Every `.wall` file under `tests/fixtures/` and `examples/` that parses is
//! formatted; formatting it again must change nothing, and the formatted text
//! must mean what the original means: checked in a copy of the tree (so
//! includes and inventories resolve), the policy has the same rules,
//! expectations, definitions and findings, and both nft layouts compile to the
//! same tables (rule comments that name a `file:line` aside). A file that
//! does not parse is refused with exit status 2 and left as it is.

use crate::support::{bmcwall_in, crate_root, stderr, stdout, today, wall_files, AMS1};
use bmcwall::cli::Exit;
use bmcwall::diagnostic::Code;
use bmcwall::fmt::{self as wallfmt, FormatError};
use bmcwall::nft;
use bmcwall::pipeline::{self, Settings};
use bmcwall::source::FileId;
use bmcwall::syntax;
use proptest::prelude::*;
use std::path::Path;

/// The folders whose policies are formatted, relative to the crate root.
const TREES: &[&str] = &["tests/fixtures", "examples"];
/// Fewer files than these means fixtures went missing.
const MIN_FORMATTED: usize = 60;
const MIN_REFUSED: usize = 10;
const MESSY: &str = "tests/fixtures/fmt/messy.wall";

/// Copies the directory `from` into `to`, recursively.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a directory is created");
    for entry in std::fs::read_dir(from).expect("a readable directory") {
        let path = entry.expect("a directory entry").path();
        let target = to.join(path.file_name().expect("a file name"));
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("a file is copied");
        }
    }
}

fn parses(text: &str) -> bool {
    let (_, diagnostics) = syntax::parse(FileId(0), text);
    !diagnostics.iter().any(|d| d.code == Code::SyntaxError)
}

/// Formats `text`, which must parse.
fn format(text: &str) -> String {
    match wallfmt::format(FileId(0), text) {
        Ok(formatted) => formatted,
        Err(error) => panic!("does not format: {error:?}"),
    }
}

/// A nft rendering without the rule comments that name a `file:line`, the
/// one thing formatting may change in it.
fn without_locations(text: &str) -> String {
    // Rule comments name places; the policy's digest changes with any byte.
    let located = |comment: &str| comment.contains(".wall:") || comment.contains("bmcwall policy");
    text.lines()
        .filter_map(|line| match line.find(" comment \"") {
            Some(at) if located(&line[at..]) => Some(line[..at].to_string()),
            _ if line.trim_start().starts_with("\"comment\": \"") && located(line) => None,
            _ => Some(line.to_string()),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a policy means, section by section: its findings, and when it is
/// valid its rules, expectations, names, inventory and compiled tables.
fn meaning(path: &Path) -> Vec<(&'static str, String)> {
    let checked = pipeline::check(path, today(), &Settings::default());
    let mut findings: Vec<String> = checked
        .findings
        .iter()
        .map(|f| {
            let d = &f.diagnostic;
            format!("{} {} waived={:?}", d.code, d.severity, f.waived)
        })
        .collect();
    findings.sort();
    let mut sections = vec![
        ("exit", Exit::of(&checked).code().to_string()),
        ("findings", findings.join("\n")),
    ];
    let Some((policy, analysis)) = &checked.model else {
        return sections;
    };
    let rules = policy.rules.iter().map(|r| {
        let waivers: Vec<(Code, &str)> = r
            .waivers
            .iter()
            .map(|w| (w.code, w.reason.as_str()))
            .collect();
        format!(
            "{:?} {:?} -> {:?} : {:?} log={} until={:?} expired={} description={:?} waivers={waivers:?}",
            r.action,
            r.src,
            r.dst,
            r.services,
            r.log,
            r.until.map(|(date, _)| date),
            r.expired,
            r.description,
        )
    });
    sections.push(("rules", rules.collect::<Vec<_>>().join("\n")));
    let expectations = policy.expectations.iter().map(|e| {
        format!(
            "{:?} {:?} -> {:?} : {:?} description={:?}",
            e.kind, e.src, e.dst, e.services, e.description
        )
    });
    sections.push(("expectations", expectations.collect::<Vec<_>>().join("\n")));
    let definitions = policy
        .definitions
        .iter()
        .map(|d| format!("{} {:?} uses={}", d.name, d.kind, d.uses));
    sections.push(("definitions", definitions.collect::<Vec<_>>().join("\n")));
    let inventory = policy
        .inventory
        .iter()
        .map(|i| format!("{} {:?} {:?}", i.name, i.addresses, i.labels));
    sections.push(("inventory", inventory.collect::<Vec<_>>().join("\n")));
    sections.push((
        "spaces",
        format!(
            "internal {:?} scope {:?} bmcs {:?}",
            policy.internal, policy.scope, policy.bmcs
        ),
    ));
    let input = nft::Input {
        policy,
        analysis,
        sources: &checked.sources,
    };
    for (name, layout) in [
        ("nft sets", nft::Layout::Sets),
        ("nft rules", nft::Layout::Rules),
    ] {
        let ruleset = nft::build(layout, input, nft::DEFAULT_TABLE);
        let text = nft::text::render(&ruleset, "");
        let json = nft::json::render(&ruleset).expect("nft JSON");
        sections.push((name, without_locations(&text)));
        sections.push((name, without_locations(&json)));
    }
    sections
}

#[test]
fn every_policy_formats_idempotently_and_keeps_its_meaning() {
    let copy = tempfile::tempdir().expect("a temporary directory");
    let mut files = Vec::new();
    for tree in TREES {
        copy_tree(&crate_root().join(tree), &copy.path().join(tree));
        wall_files(&crate_root().join(tree), &mut files);
    }
    let (mut formatted_count, mut refused_count) = (0, 0);
    let mut failures = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(crate_root()).expect("inside the crate");
        let shown = relative.display().to_string();
        let text = std::fs::read_to_string(file).expect("a readable file");
        if !parses(&text) {
            refused_count += 1;
            if !relative.starts_with("tests/fixtures/invalid") {
                failures.push(format!("{shown}: does not parse"));
            }
            failures.extend(refused(relative, &text));
            continue;
        }
        formatted_count += 1;
        let formatted = match wallfmt::format(FileId(0), &text) {
            Ok(formatted) => formatted,
            Err(error) => {
                failures.push(format!("{shown}: not formatted: {error:?}"));
                continue;
            }
        };
        match wallfmt::format(FileId(0), &formatted) {
            Ok(again) if again == formatted => {}
            Ok(again) => failures.push(format!(
                "{shown}: not idempotent:\n--- once\n{formatted}\n--- twice\n{again}"
            )),
            Err(error) => failures.push(format!("{shown}: output does not format: {error:?}")),
        }
        let copied = copy.path().join(relative);
        std::fs::write(&copied, &formatted).expect("the copy is written");
        let (before, after) = (meaning(file), meaning(&copied));
        std::fs::write(&copied, &text).expect("the copy is restored");
        if before.len() != after.len() {
            failures.push(format!(
                "{shown}: the formatted policy is valid in another way"
            ));
        }
        for ((name, old), (_, new)) in before.iter().zip(&after) {
            if old != new {
                failures.push(format!(
                    "{shown}: {name} changed:\n--- original\n{old}\n--- formatted\n{new}"
                ));
            }
        }
    }
    assert!(
        formatted_count >= MIN_FORMATTED && refused_count >= MIN_REFUSED,
        "{formatted_count} files formatted and {refused_count} refused; fixtures went missing"
    );
    assert!(
        failures.is_empty(),
        "{} problem(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// A file that does not parse, through the binary: `fmt` exits 2 with a
/// BW001 and leaves a copy of it as it was, `fmt --check` too.
fn refused(relative: &Path, text: &str) -> Vec<String> {
    let shown = relative.display().to_string();
    let mut problems = Vec::new();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let name = relative.file_name().expect("a file name");
    std::fs::write(dir.path().join(name), text).expect("the copy is written");
    let name = name.to_str().expect("a UTF-8 name");
    for args in [vec!["fmt", name], vec!["fmt", "--check", name]] {
        let output = bmcwall_in(dir.path(), &args, "", &[]);
        if output.status.code() != Some(2) {
            problems.push(format!(
                "{shown}: `{}` exited with {:?}, expected 2",
                args.join(" "),
                output.status.code()
            ));
        }
        if !stderr(&output).contains("BW001(syntax-error)") {
            problems.push(format!("{shown}: no BW001:\n{}", stderr(&output)));
        }
        if !output.stdout.is_empty() {
            problems.push(format!("{shown}: wrote to stdout:\n{}", stdout(&output)));
        }
    }
    let after = std::fs::read_to_string(dir.path().join(name)).expect("still there");
    if after != text {
        problems.push(format!("{shown}: changed although it does not parse"));
    }
    if std::fs::read_dir(dir.path()).expect("a directory").count() != 1 {
        problems.push(format!("{shown}: files left behind"));
    }
    problems
}

#[test]
fn the_example_and_the_messy_fixture_are_formatted_as_in_their_snapshots() {
    for (name, path) in [("ams1", AMS1), ("messy", MESSY)] {
        let text = std::fs::read_to_string(crate_root().join(path)).expect("a readable file");
        let formatted = format(&text);
        let mut settings = insta::Settings::clone_current();
        settings.set_description(format!("bmcwall fmt {path}"));
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(name, formatted));
        // CRLF line ends give the same result.
        assert_eq!(format(&text.replace('\n', "\r\n")), formatted, "{path}");
    }
}

/// A temporary directory holding `name` with `text`.
fn dir_with(name: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join(name), text).expect("the file is written");
    dir
}

fn ams1_text() -> String {
    std::fs::read_to_string(crate_root().join(AMS1)).expect("the example")
}

#[test]
fn check_passes_a_formatted_file_silently() {
    let dir = dir_with("ams1.wall", &format(&ams1_text()));
    let output = bmcwall_in(dir.path(), &["fmt", "--check", "ams1.wall"], "", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    assert_eq!(stderr(&output), "");
}

#[test]
fn check_prints_a_diff_for_an_unformatted_file_and_leaves_it() {
    let original = ams1_text();
    let dir = dir_with("ams1.wall", &original);
    let output = bmcwall_in(dir.path(), &["fmt", "--check", "ams1.wall"], "", &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let diff = stdout(&output);
    assert!(
        diff.starts_with("--- a/ams1.wall\n+++ b/ams1.wall\n@@ -1,"),
        "{diff}"
    );
    assert!(
        diff.contains("\n-expect deny  bmcs -> internet;\n"),
        "{diff}"
    );
    assert!(
        diff.contains("\n+expect deny  bmcs      -> internet;\n"),
        "{diff}"
    );
    assert!(
        diff.contains("\n host    jump-ams1  = 10.20.0.5, fd00:20::5;\n"),
        "context lines"
    );
    insta::assert_snapshot!("ams1_check_diff", diff);
    assert_eq!(stderr(&output), "bmcwall: ams1.wall is not formatted\n");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ams1.wall")).expect("still there"),
        original
    );
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
}

#[test]
fn fmt_rewrites_a_file_and_check_then_passes() {
    let messy = std::fs::read_to_string(crate_root().join(MESSY)).expect("the fixture");
    let dir = dir_with("messy.wall", &messy);
    let path = dir.path().join("messy.wall");
    let output = bmcwall_in(dir.path(), &["fmt", "messy.wall"], "", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        (stdout(&output), stderr(&output)),
        (String::new(), String::new())
    );
    let written = std::fs::read_to_string(&path).expect("written");
    assert_eq!(written, format(&messy));
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        1,
        "no temporary file may be left"
    );
    let check = bmcwall_in(dir.path(), &["fmt", "--check", "messy.wall"], "", &[]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    assert_eq!(stdout(&check), "");
}

#[cfg(unix)]
#[test]
fn fmt_leaves_a_formatted_file_alone() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = dir_with("ams1.wall", &format(&ams1_text()));
    let path = dir.path().join("ams1.wall");
    let before = std::fs::metadata(&path).expect("metadata").ino();
    let output = bmcwall_in(dir.path(), &["fmt", "ams1.wall"], "", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let after = std::fs::metadata(&path).expect("metadata").ino();
    assert_eq!(before, after, "a formatted file must not be replaced");
}

#[cfg(unix)]
#[test]
fn fmt_keeps_permissions_and_symbolic_links() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = dir_with("ams1.wall", &ams1_text());
    let path = dir.path().join("ams1.wall");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    std::os::unix::fs::symlink("ams1.wall", dir.path().join("link.wall")).expect("symlink");
    let output = bmcwall_in(dir.path(), &["fmt", "link.wall"], "", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let link = std::fs::symlink_metadata(dir.path().join("link.wall")).expect("metadata");
    assert!(link.file_type().is_symlink(), "the link must stay a link");
    assert_eq!(
        std::fs::read_to_string(&path).expect("readable"),
        format(&ams1_text())
    );
    let mode = std::fs::metadata(&path)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 2);
}

#[test]
fn a_syntax_error_exits_2_with_the_check_diagnostic_and_the_file_unchanged() {
    let text = "host jump = 10.20.0.5;\nbmc  rack = 10.10.1.0/24;\nallow jump rack : https;\n";
    let dir = dir_with("bad.wall", text);
    let check = bmcwall_in(
        dir.path(),
        &["check", "bad.wall", "--color", "never"],
        "",
        &[],
    );
    let report = stderr(&check);
    let report = report
        .strip_suffix("bmcwall: 1 error, 0 warnings, 0 infos\n")
        .unwrap_or_else(|| panic!("{report}"));
    for args in [
        &["fmt", "bad.wall", "--color", "never"][..],
        &["fmt", "--check", "bad.wall", "--color", "never"][..],
    ] {
        let output = bmcwall_in(dir.path(), args, "", &[]);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(stdout(&output), "", "{args:?}");
        let error = stderr(&output);
        assert_eq!(
            error,
            format!("{report}bmcwall: not formatted: bad.wall does not parse\n"),
            "{args:?}"
        );
        assert!(error.contains("BW001(syntax-error)"));
        assert!(error.contains("╭─[bad.wall:3:12]"), "{error}");
        assert!(error.contains("expected `,`, `->` or `except`"), "{error}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("bad.wall")).expect("still there"),
            text
        );
    }
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
}

#[test]
fn fmt_reads_standard_input_and_writes_standard_output() {
    let original = ams1_text();
    let dir = tempfile::tempdir().expect("a temporary directory");
    for args in [&["fmt"][..], &["fmt", "-"][..]] {
        let output = bmcwall_in(dir.path(), args, &original, &[]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(stdout(&output), format(&original));
    }
    let check = bmcwall_in(dir.path(), &["fmt", "--check", "-"], &original, &[]);
    assert_eq!(check.status.code(), Some(1));
    assert!(stdout(&check).starts_with("--- a/<stdin>\n+++ b/<stdin>\n"));
    let clean = bmcwall_in(dir.path(), &["fmt", "--check"], &format(&original), &[]);
    assert_eq!(clean.status.code(), Some(0));
    assert_eq!(stdout(&clean), "");
    let broken = bmcwall_in(
        dir.path(),
        &["fmt", "--color", "never"],
        "allow a b;\n",
        &[],
    );
    assert_eq!(broken.status.code(), Some(2));
    assert_eq!(stdout(&broken), "");
    assert!(
        stderr(&broken).contains("╭─[<stdin>:1:9]"),
        "{}",
        stderr(&broken)
    );
}

#[test]
fn fmt_takes_several_files_and_exits_with_the_worst_status() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let formatted = format(&ams1_text());
    std::fs::write(dir.path().join("clean.wall"), &formatted).expect("written");
    std::fs::write(
        dir.path().join("crlf.wall"),
        formatted.replace('\n', "\r\n"),
    )
    .expect("written");
    std::fs::write(dir.path().join("bad.wall"), "allow a b;\n").expect("written");
    let files = ["clean.wall", "crlf.wall", "bad.wall"];
    let check = bmcwall_in(
        dir.path(),
        &[
            "fmt", "--check", "--color", "never", files[0], files[1], files[2],
        ],
        "",
        &[],
    );
    assert_eq!(check.status.code(), Some(2));
    assert!(stdout(&check).starts_with("--- a/crlf.wall\n+++ b/crlf.wall\n"));
    let without_bad = bmcwall_in(dir.path(), &["fmt", "--check", files[0], files[1]], "", &[]);
    assert_eq!(without_bad.status.code(), Some(1));
    let output = bmcwall_in(
        dir.path(),
        &["fmt", "--color", "never", files[0], files[1], files[2]],
        "",
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    // The files that parse are formatted all the same; CRLF becomes LF.
    for name in ["clean.wall", "crlf.wall"] {
        let text = std::fs::read_to_string(dir.path().join(name)).expect("readable");
        assert_eq!(text, formatted, "{name}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("bad.wall")).expect("readable"),
        "allow a b;\n"
    );
}

#[test]
fn fmt_reports_a_missing_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = bmcwall_in(dir.path(), &["fmt", "no-such.wall"], "", &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).starts_with("bmcwall: cannot read no-such.wall: "));
}

/// The canonical texts the property below takes apart.
fn canonical_texts() -> Vec<String> {
    [AMS1, MESSY]
        .iter()
        .map(|path| format(&std::fs::read_to_string(crate_root().join(path)).expect("readable")))
        .collect()
}

/// Whitespace that may replace the whitespace between two tokens of a
/// statement. The empty string only replaces nothing.
const SPACING: &[&str] = &[" ", "  ", "\t", "\n", " \n\t  ", "\r\n    ", "\n\n"];

/// `text` with the whitespace between the tokens of each statement replaced
/// by other whitespace (`choices` pick it): line breaks inside statements,
/// spaces around and inside ranges, none or many before `,` and `;`. Gaps that
/// hold a comment are kept, as is the spacing before a trailing comment.
fn respace(text: &str, choices: &[usize]) -> String {
    let statements = syntax::statement_tokens(text).expect("a canonical text parses");
    let mut out = String::new();
    let mut cursor = 0;
    let mut gap_number = 0;
    for statement in statements {
        for pair in statement.tokens.windows(2) {
            let (before, after) = (pair[0], pair[1]);
            out.push_str(&text[cursor..before.end]);
            let gap = &text[before.end..after.start];
            let choice = choices[gap_number % choices.len()];
            gap_number += 1;
            if gap.contains('#') {
                out.push_str(gap);
            } else if gap.is_empty() && choice.is_multiple_of(2) {
                // Tight tokens may also be spaced.
            } else {
                out.push_str(SPACING[choice % SPACING.len()]);
            }
            cursor = after.start;
        }
    }
    out.push_str(&text[cursor..]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Formatting ignores how statements are spaced and broken into lines.
    #[test]
    fn spacing_inside_statements_does_not_matter(
        choices in prop::collection::vec(0usize..14, 1..64),
    ) {
        for canonical in canonical_texts() {
            let respaced = respace(&canonical, &choices);
            prop_assert!(parses(&respaced), "{}", respaced);
            prop_assert_eq!(format(&respaced), canonical);
        }
    }

    /// Whatever text parses formats without an internal error; text that
    /// does not parse is refused with a syntax error.
    #[test]
    fn edited_example_formats_or_is_refused(
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), prop::sample::select(&[" ", "\n", "#", ";", ",", "-", "\"", "\r\n", "(", "  # c\n"][..])),
            1..5,
        ),
    ) {
        let mut text = ams1_text();
        for (at, token) in edits {
            let mut cut = at.index(text.len() + 1);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.insert_str(cut, token);
        }
        match wallfmt::format(FileId(0), &text) {
            Ok(formatted) => {
                prop_assert!(parses(&text));
                prop_assert_eq!(format(&formatted), formatted);
            }
            Err(FormatError::Syntax(diagnostics)) => {
                prop_assert!(!parses(&text));
                prop_assert!(diagnostics.iter().any(|d| d.code == Code::SyntaxError));
            }
            Err(FormatError::Internal(message)) => {
                prop_assert!(false, "internal error {} on {:?}", message, text);
            }
        }
    }
}
