//! The lints: a data-driven corpus, the examples, waivers, level overrides,
//! the four output formats and the lint docs. The corpus runs in-process
//! through the library (`pipeline::check` with the fixture's levels), and once
//! through the real binary, whose JSON report must list the same findings;
//! the rest runs through the binary.
//!
//! `tests/fixtures/lints/` holds, for every code BW101-BW503, a policy that
//! triggers it (`bwNNN_trigger.wall`) and a near miss that must not
//! (`bwNNN_near_miss.wall`): as close to the trigger as possible but on the
//! safe side. Other `.wall` files there are extra cases (waivers); inventories
//! they share live in `data/`. Every fixture starts with header lines:
//!
//! ```text
//! # flags: --warn BW104
//! # expect: BW101 12:1 related 8:1 related 9:1
//! # expect: BW206 10:1 waived
//! # witness: BW101 12:1 10.30.0.7 -> 10.10.1.11 tcp 443
//! # expect: none
//! ```
//!
//! `flags` are extra arguments for `check`. Each `expect` is one finding: its
//! code, the line:column of its primary location (`FILE:LINE:COLUMN` for a file
//! relative to the fixtures folder), then exactly its related locations, and
//! `waived` when a `waive` on the rule silences it. `none` says there is no
//! finding. A `witness` pins the witness flow of a listed finding.
//!
//! `check --format json --today 2026-11-21` (and the library's check on
//! that date) must report exactly the listed
//! findings among those at warning level or above, plus the listed info ones,
//! at the level the code table below (and the flags) give them; the exit
//! status is 1 when a listed finding is an unwaived error, else 0. A trigger
//! must list an unwaived finding of its code; a near miss must not report its
//! code at all, at any level.

use crate::support::{bmcwall, crate_root, text, today, AMS1, TODAY};
use bmcwall::cli::Exit;
use bmcwall::diagnostic::{self, Code};
use bmcwall::pipeline::{self, Levels};
use bmcwall::source::{SourceMap, Span};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::process::Output;

/// Where the corpus is, relative to the crate root.
const FIXTURES: &str = "tests/fixtures/lints";
const EXPOSED: &str = "examples/exposed.wall";
const SARIF_SCHEMA: &str = "tests/fixtures/sarif/sarif-schema-2.1.0.json";

/// A code's level: whether and how severely it is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Allow,
    Info,
    Warning,
    Error,
}

impl Level {
    /// The `severity` JSON gives a finding at this level.
    fn severity(self) -> Option<&'static str> {
        match self {
            Level::Allow => None,
            Level::Info => Some("info"),
            Level::Warning => Some("warning"),
            Level::Error => Some("error"),
        }
    }
}

/// Every lint code with its default level, from the design's table. Each
/// must have a trigger and a near-miss fixture.
const CODES: &[(&str, Level)] = &[
    ("BW101", Level::Error),
    ("BW102", Level::Warning),
    ("BW103", Level::Warning),
    ("BW104", Level::Allow),
    ("BW105", Level::Warning),
    ("BW106", Level::Warning),
    ("BW201", Level::Error),
    ("BW202", Level::Error),
    ("BW203", Level::Error),
    ("BW204", Level::Warning),
    ("BW205", Level::Warning),
    ("BW206", Level::Warning),
    ("BW207", Level::Warning),
    ("BW208", Level::Warning),
    ("BW301", Level::Warning),
    ("BW302", Level::Info),
    ("BW303", Level::Warning),
    ("BW304", Level::Warning),
    ("BW401", Level::Error),
    ("BW501", Level::Error),
    ("BW502", Level::Error),
    ("BW503", Level::Warning),
];

fn default_level(code: &str) -> Option<Level> {
    CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|&(_, level)| level)
}

// ---------------------------------------------------------------------------
// Running the binary.

/// `check FILE --today TODAY --format FORMAT` plus `extra`.
fn check(file: &str, format: &str, extra: &[&str]) -> Output {
    let mut args = vec!["check", file, "--today", TODAY, "--format", format];
    args.extend_from_slice(extra);
    bmcwall(&args)
}

/// `check --format json`: the exit status and the parsed report.
fn check_json(file: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let output = check(file, "json", extra);
    let stderr = text(&output.stderr);
    assert!(
        !stderr.contains("panicked"),
        "{file}: bmcwall panicked:\n{stderr}"
    );
    let stdout = text(&output.stdout);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{file}: output is not JSON ({e}):\n{stdout}\n{stderr}"));
    (output.status.code().unwrap_or(-1), json)
}

// ---------------------------------------------------------------------------
// Running the library.

/// The levels `--deny/--warn/--allow CODE` flags give, as the binary sets them.
fn levels_of(flags: &[&str]) -> Levels {
    let mut levels = Levels::default();
    for pair in flags.windows(2) {
        let level = match pair[0] {
            "--deny" => diagnostic::Level::Error,
            "--warn" => diagnostic::Level::Warning,
            "--allow" => diagnostic::Level::Allow,
            _ => continue,
        };
        let code = Code::parse(pair[1]).unwrap_or_else(|| panic!("no code {}", pair[1]));
        levels.set(code, level);
    }
    levels
}

/// `check` of `file` (relative to the crate root) in-process on [`TODAY`]
/// with the levels of `flags`: the exit status the binary would give and the
/// findings as its JSON report lists them.
fn check_in_process(file: &str, flags: &[&str]) -> (i32, Vec<Finding>) {
    let checked = pipeline::check(Path::new(file), today(), &levels_of(flags).into());
    let findings = checked
        .findings
        .iter()
        .map(|finding| finding_of(&checked.sources, finding))
        .collect();
    (i32::from(Exit::of(&checked).code()), findings)
}

/// Where `span` starts, as the JSON report gives it.
fn location_at(sources: &SourceMap, span: Span) -> Location {
    let file = sources.file(span.file);
    let (line, column) = file.line_col(span.start as usize);
    Location {
        file: file.display_path(),
        line: line as u64,
        column: column as u64,
    }
}

/// A witness flow, through the serialisation the JSON report uses.
fn flow_from(witness: &diagnostic::Witness) -> Flow {
    flow_of(&serde_json::to_value(witness).expect("a witness serialises"))
}

/// A finding of the library, in the shape of a JSON report's finding.
fn finding_of(sources: &SourceMap, finding: &pipeline::Finding) -> Finding {
    let diagnostic = &finding.diagnostic;
    let severity = serde_json::to_value(diagnostic.severity).expect("a severity serialises");
    Finding {
        code: diagnostic.code.as_str().to_string(),
        severity: severity.as_str().expect("a severity word").to_string(),
        location: location_at(sources, diagnostic.primary().span),
        related: diagnostic.labels[1..]
            .iter()
            .map(|label| location_at(sources, label.span))
            .collect(),
        witness: diagnostic.witness.as_ref().map(flow_from),
        path: diagnostic
            .path
            .iter()
            .map(|(flow, span)| Hop {
                flow: flow_from(flow),
                rule: location_at(sources, *span),
            })
            .collect(),
        waived: finding.waived.clone(),
    }
}

// ---------------------------------------------------------------------------
// Findings as JSON reports them.

/// A place in a file: the file as the binary prints it, 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Location {
    file: String,
    line: u64,
    column: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A finding's identity: its code and primary location.
type Key = (String, Location);

/// A concrete flow: source, destination, protocol, port.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Flow {
    src: String,
    dst: String,
    proto: String,
    port: Option<u64>,
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {} {}", self.src, self.dst, self.proto)?;
        match self.port {
            Some(port) => write!(f, " {port}"),
            None => Ok(()),
        }
    }
}

/// One hop of an exposure path.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Hop {
    flow: Flow,
    rule: Location,
}

/// One finding of a JSON report.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Finding {
    code: String,
    severity: String,
    location: Location,
    related: Vec<Location>,
    witness: Option<Flow>,
    path: Vec<Hop>,
    waived: Option<String>,
}

impl Finding {
    fn key(&self) -> Key {
        (self.code.clone(), self.location.clone())
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.code, self.severity, self.location)?;
        for related in &self.related {
            write!(f, " related {related}")?;
        }
        if let Some(reason) = &self.waived {
            write!(f, " waived ({reason})")?;
        }
        if let Some(witness) = &self.witness {
            write!(f, " witness {witness}")?;
        }
        Ok(())
    }
}

fn location_of(value: &serde_json::Value) -> Location {
    Location {
        file: value["file"].as_str().expect("file").to_string(),
        line: value["line"].as_u64().expect("line"),
        column: value["column"].as_u64().expect("column"),
    }
}

fn flow_of(value: &serde_json::Value) -> Flow {
    Flow {
        src: value["src"].as_str().expect("src").to_string(),
        dst: value["dst"].as_str().expect("dst").to_string(),
        proto: value["proto"].as_str().expect("proto").to_string(),
        port: value["port"].as_u64(),
    }
}

fn findings(report: &serde_json::Value) -> Vec<Finding> {
    let list = report["diagnostics"].as_array().expect("diagnostics array");
    list.iter()
        .map(|d| Finding {
            code: d["code"].as_str().expect("code").to_string(),
            severity: d["severity"].as_str().expect("severity").to_string(),
            location: location_of(d),
            related: d["related"]
                .as_array()
                .expect("related array")
                .iter()
                .map(location_of)
                .collect(),
            witness: d.get("witness").filter(|w| !w.is_null()).map(flow_of),
            path: d
                .get("path")
                .and_then(|p| p.as_array())
                .map(|hops| {
                    hops.iter()
                        .map(|hop| Hop {
                            flow: flow_of(hop),
                            rule: location_of(&hop["rule"]),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            waived: d["waived"].as_str().map(str::to_string),
        })
        .collect()
}

/// Findings at warning level or above, as (code, line) pairs in report order.
fn warnings_and_errors(report: &serde_json::Value) -> Vec<(String, u64)> {
    findings(report)
        .into_iter()
        .filter(|f| f.severity != "info")
        .map(|f| (f.code, f.location.line))
        .collect()
}

// ---------------------------------------------------------------------------
// Fixture headers.

/// One expected finding.
#[derive(Clone, Debug)]
struct Expected {
    code: String,
    location: Location,
    related: Vec<Location>,
    waived: bool,
}

impl Expected {
    fn key(&self) -> Key {
        (self.code.clone(), self.location.clone())
    }
}

/// What a fixture's header says.
#[derive(Debug, Default)]
struct Header {
    flags: Vec<String>,
    expected: Vec<Expected>,
    witnesses: Vec<(Key, Flow)>,
}

impl Header {
    /// The level of `code` after the header's `--deny/--warn/--allow` flags.
    fn level(&self, code: &str) -> Option<Level> {
        let mut level = default_level(code)?;
        for pair in self.flags.windows(2) {
            if pair[1].eq_ignore_ascii_case(code) {
                level = match pair[0].as_str() {
                    "--deny" => Level::Error,
                    "--warn" => Level::Warning,
                    "--allow" => Level::Allow,
                    _ => level,
                };
            }
        }
        Some(level)
    }
}

fn is_code(word: &str) -> bool {
    word.len() == 5 && word.starts_with("BW") && word[2..].bytes().all(|b| b.is_ascii_digit())
}

/// `LINE:COLUMN` in `file`, or `OTHER:LINE:COLUMN` in a file relative to the
/// fixtures folder.
fn parse_location(word: &str, file: &str) -> Result<Location, String> {
    let mut parts = word.rsplitn(3, ':');
    let (column, line, other) = (parts.next(), parts.next(), parts.next());
    let number = |part: Option<&str>| {
        part.and_then(|p| p.parse::<u64>().ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("bad location `{word}`: want [FILE:]LINE:COLUMN"))
    };
    Ok(Location {
        file: match other {
            Some(other) => format!("{FIXTURES}/{other}"),
            None => file.to_string(),
        },
        line: number(line)?,
        column: number(column)?,
    })
}

/// Reads the header lines at the top of `source`, the fixture at `file`.
fn parse_header(source: &str, file: &str) -> Result<Header, String> {
    let mut header = Header::default();
    let mut none = false;
    let mut lines = source.lines();
    for line in lines.by_ref() {
        // A header line is `# key: ...` with a lower-case one-word key; the
        // first other line ends the header.
        let Some((key, value)) = line
            .strip_prefix("# ")
            .and_then(|rest| rest.split_once(':'))
        else {
            break;
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_lowercase()) {
            break;
        }
        let words: Vec<&str> = value.split_whitespace().collect();
        match key {
            "flags" => header.flags.extend(words.iter().map(|w| w.to_string())),
            "expect" if words == ["none"] => none = true,
            "expect" => {
                let [code, location, rest @ ..] = &words[..] else {
                    return Err(format!(
                        "bad header `{line}`: want `# expect: CODE LINE:COLUMN ...`"
                    ));
                };
                if !is_code(code) {
                    return Err(format!("bad code `{code}` in `{line}`"));
                }
                let mut expected = Expected {
                    code: code.to_string(),
                    location: parse_location(location, file)?,
                    related: Vec::new(),
                    waived: false,
                };
                let mut rest = rest.iter();
                while let Some(&word) = rest.next() {
                    match word {
                        "waived" => expected.waived = true,
                        "related" => {
                            let place = rest.next().ok_or_else(|| {
                                format!("`related` without a location in `{line}`")
                            })?;
                            expected.related.push(parse_location(place, file)?);
                        }
                        other => return Err(format!("unexpected `{other}` in `{line}`")),
                    }
                }
                header.expected.push(expected);
            }
            "witness" => {
                let [code, location, src, "->", dst, proto, port @ ..] = &words[..] else {
                    return Err(format!(
                        "bad header `{line}`: want `# witness: CODE LINE:COLUMN SRC -> DST PROTO [PORT]`"
                    ));
                };
                let port = match port {
                    [] => None,
                    [port] => Some(port.parse().map_err(|_| format!("bad port in `{line}`"))?),
                    _ => return Err(format!("unexpected words after the port in `{line}`")),
                };
                let key = (code.to_string(), parse_location(location, file)?);
                let flow = Flow {
                    src: src.to_string(),
                    dst: dst.to_string(),
                    proto: proto.to_string(),
                    port,
                };
                header.witnesses.push((key, flow));
            }
            other => return Err(format!("unknown header `{other}` in `{line}`")),
        }
    }
    if let Some(late) = lines.find(|l| {
        ["# expect:", "# flags:", "# witness:"]
            .iter()
            .any(|p| l.starts_with(p))
    }) {
        return Err(format!("header line `{late}` after the header"));
    }
    match (none, header.expected.is_empty()) {
        (true, false) => Err("`# expect: none` together with findings".into()),
        (false, true) => {
            Err("no `# expect:` header (write `# expect: none` for no finding)".into())
        }
        _ => Ok(header),
    }
}

#[test]
fn headers_are_strict() {
    let file = "tests/fixtures/lints/x.wall";
    let header = parse_header(
        "# flags: --warn BW104\n# expect: BW101 12:1 related 8:1 related data/a.wall:9:2\n\
         # expect: BW206 3:5 waived\n# witness: BW101 12:1 10.0.0.1 -> 10.0.0.2 tcp 443\n# body\nallow ...",
        file,
    )
    .expect("a valid header");
    assert_eq!(header.flags, ["--warn", "BW104"]);
    assert_eq!(header.level("BW104"), Some(Level::Warning));
    assert_eq!(header.expected.len(), 2);
    assert_eq!(
        header.expected[0].related[1].to_string(),
        "tests/fixtures/lints/data/a.wall:9:2"
    );
    assert!(header.expected[1].waived);
    assert_eq!(header.witnesses[0].1.port, Some(443));
    for bad in [
        "internal 10.0.0.0/8;\n",
        "# expect: none\n# expect: BW101 1:1\n",
        "# expect: BW101\n",
        "# expect: BW1011 1:1\n",
        "# expect: BW101 0:1\n",
        "# expect: BW101 1:1 related\n",
        "# expect: BW101 1:1 whatever\n",
        "# witness: BW101 1:1 10.0.0.1 10.0.0.2 tcp\n# expect: none\n",
        "# expects: BW101 1:1\n",
        "# expect: none\n# A description.\n# expect: BW101 1:1\n",
    ] {
        assert!(parse_header(bad, file).is_err(), "accepted `{bad}`");
    }
}

// ---------------------------------------------------------------------------
// The corpus.

/// The `.wall` files directly in the fixtures folder, by name, sorted.
fn fixture_names() -> Vec<String> {
    let dir = crate_root().join(FIXTURES);
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    let mut names: Vec<String> = entries
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|e| e == "wall"))
        .map(|path| {
            path.file_stem()
                .and_then(|s| s.to_str())
                .expect("UTF-8 name")
                .to_string()
        })
        .collect();
    names.sort();
    names
}

/// For `bw205_near_miss`: (`BW205`, false); for `bw205_trigger`: (`BW205`, true).
fn role(name: &str) -> Option<(String, bool)> {
    let (code, kind) = name.split_once('_')?;
    let code = code.to_uppercase();
    match kind {
        "trigger" => Some((code, true)),
        "near_miss" => Some((code, false)),
        _ => None,
    }
}

/// Everything wrong with one fixture, empty when it passes.
fn run_fixture(name: &str) -> Vec<String> {
    let path = format!("{FIXTURES}/{name}.wall");
    let source = match std::fs::read_to_string(crate_root().join(&path)) {
        Ok(source) => source,
        Err(e) => return vec![format!("cannot read: {e}")],
    };
    let header = match parse_header(&source, &path) {
        Ok(header) => header,
        Err(e) => return vec![e],
    };
    let flags: Vec<&str> = header.flags.iter().map(String::as_str).collect();
    let (status, all) = check_in_process(&path, &flags);
    let mut problems = Vec::new();

    // Findings grouped by code and location: BW103 and BW104 may report one
    // rule more than once, once for each earlier rule.
    let mut expected: BTreeMap<Key, Vec<&Expected>> = BTreeMap::new();
    for e in &header.expected {
        expected.entry(e.key()).or_default().push(e);
    }
    let mut reported: BTreeMap<Key, Vec<&Finding>> = BTreeMap::new();
    for f in &all {
        if f.severity != "info" || expected.contains_key(&f.key()) {
            reported.entry(f.key()).or_default().push(f);
        }
    }
    for key in expected
        .keys()
        .chain(reported.keys())
        .collect::<BTreeSet<_>>()
    {
        let (want, got) = (
            expected.get(key).map_or(&[][..], Vec::as_slice),
            reported.get(key).map_or(&[][..], Vec::as_slice),
        );
        if want.is_empty() {
            problems.extend(got.iter().map(|f| format!("unexpected: {f}")));
            continue;
        }
        if got.is_empty() {
            problems.push(format!("missing: {} at {}", key.0, key.1));
            continue;
        }
        if want.len() != got.len() {
            problems.push(format!(
                "{} at {}: reported {} times, want {}",
                key.0,
                key.1,
                got.len(),
                want.len()
            ));
            continue;
        }
        // Compare as multisets of (related locations, waived).
        let shape = |related: &[Location], waived: bool| {
            let mut related: Vec<String> = related.iter().map(ToString::to_string).collect();
            related.sort();
            (related, waived)
        };
        let mut want_shapes: Vec<_> = want.iter().map(|e| shape(&e.related, e.waived)).collect();
        let mut got_shapes: Vec<_> = got
            .iter()
            .map(|f| shape(&f.related, f.waived.is_some()))
            .collect();
        want_shapes.sort();
        got_shapes.sort();
        if want_shapes != got_shapes {
            problems.push(format!(
                "{} at {}: (related, waived) {got_shapes:?}, want {want_shapes:?}",
                key.0, key.1
            ));
        }
        if let Some(level) = header.level(&key.0) {
            for f in got
                .iter()
                .filter(|f| level.severity() != Some(f.severity.as_str()))
            {
                problems.push(format!(
                    "{} at {}: severity {}, want {level:?}",
                    key.0, key.1, f.severity
                ));
            }
        }
    }
    for (key, flow) in &header.witnesses {
        let Some(got) = reported.get(key).filter(|_| expected.contains_key(key)) else {
            problems.push(format!(
                "witness for {} at {}, which is not an expected finding",
                key.0, key.1
            ));
            continue;
        };
        if !got.iter().any(|f| f.witness.as_ref() == Some(flow)) {
            let witnesses: Vec<String> = got
                .iter()
                .map(|f| {
                    f.witness
                        .as_ref()
                        .map_or("none".to_string(), ToString::to_string)
                })
                .collect();
            problems.push(format!(
                "{} at {}: witness {}, want {flow}",
                key.0,
                key.1,
                witnesses.join(" / ")
            ));
        }
    }
    for finding in &all {
        problems.extend(path_problems(finding));
    }

    // The exit status follows the listed findings.
    let errors = header
        .expected
        .iter()
        .any(|e| !e.waived && header.level(&e.code) == Some(Level::Error));
    let want_status = i32::from(errors);
    if status != want_status {
        problems.push(format!("exit status {status}, want {want_status}"));
    }

    // A trigger reports its code; a near miss never does.
    if let Some((code, trigger)) = role(name) {
        if trigger && !header.expected.iter().any(|e| e.code == code && !e.waived) {
            problems.push(format!("a trigger must list an unwaived {code} finding"));
        }
        if !trigger {
            for finding in all.iter().filter(|f| f.code == code) {
                problems.push(format!("a near miss must not report {code}: {finding}"));
            }
        }
    }
    if !problems.is_empty() {
        problems.push(format!(
            "reported: {}",
            all.iter()
                .map(|f| format!("\n      {f}"))
                .collect::<String>()
        ));
    }
    problems
}

/// An exposure path is a chain of hops ending at the finding's witness: each
/// hop starts where the last one ended (or at the other address of a
/// dual-stack host, when the family changes); the finding is at the rule of
/// its last hop, or for BW202 (reported at its cause) of its first, and the
/// other hops' rules are related locations.
fn path_problems(finding: &Finding) -> Vec<String> {
    let mut problems = Vec::new();
    let (Some(first), Some(last)) = (finding.path.first(), finding.path.last()) else {
        return problems;
    };
    let is_v6 = |address: &str| address.contains(':');
    for pair in finding.path.windows(2) {
        let same_family = is_v6(&pair[0].flow.dst) == is_v6(&pair[1].flow.src);
        if same_family && pair[0].flow.dst != pair[1].flow.src {
            problems.push(format!(
                "{finding}: hop {} does not start where {} ends",
                pair[1].flow, pair[0].flow
            ));
        }
    }
    let (at, which) = if finding.code == "BW202" {
        (first, "first")
    } else {
        (last, "last")
    };
    if finding.code != "BW401" && at.rule != finding.location {
        problems.push(format!(
            "{finding}: the {which} hop's rule is {}, not the finding's",
            at.rule
        ));
    }
    if finding.witness.as_ref() != Some(&last.flow) {
        problems.push(format!(
            "{finding}: the last hop {} is not the witness",
            last.flow
        ));
    }
    for hop in &finding.path {
        if hop.rule != finding.location && !finding.related.contains(&hop.rule) {
            problems.push(format!(
                "{finding}: hop rule {} is not a related location",
                hop.rule
            ));
        }
    }
    problems
}

#[test]
fn every_lint_has_a_trigger_and_a_near_miss() {
    let names: BTreeSet<String> = fixture_names().into_iter().collect();
    let mut missing = Vec::new();
    for (code, _) in CODES {
        for kind in ["trigger", "near_miss"] {
            let name = format!("{}_{kind}", code.to_lowercase());
            if !names.contains(&name) {
                missing.push(format!("{FIXTURES}/{name}.wall"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "missing lint fixtures:\n  {}",
        missing.join("\n  ")
    );
    // A misspelt name would escape the check above.
    let stray: Vec<&String> = names
        .iter()
        .filter(|name| name.starts_with("bw"))
        .filter(|name| role(name).is_none_or(|(code, _)| default_level(&code).is_none()))
        .collect();
    assert!(
        stray.is_empty(),
        "fixtures named like a lint fixture but not one: {stray:?}"
    );
}

#[test]
fn every_lint_fixture_reports_exactly_what_it_says() {
    let names = fixture_names();
    assert!(
        names.len() >= 2 * CODES.len(),
        "only {} fixtures in {FIXTURES}",
        names.len()
    );
    let mut failures = Vec::new();
    for name in &names {
        let problems = run_fixture(name);
        if !problems.is_empty() {
            failures.push(format!(
                "{FIXTURES}/{name}.wall:\n    {}",
                problems.join("\n    ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures failed:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}

/// The summary of a JSON report counts its unwaived findings by severity,
/// and its waived ones.
fn summary_problems(report: &serde_json::Value, all: &[Finding]) -> Vec<String> {
    let mut problems = Vec::new();
    for (field, severity) in [
        ("errors", "error"),
        ("warnings", "warning"),
        ("infos", "info"),
    ] {
        let count = all
            .iter()
            .filter(|f| f.waived.is_none() && f.severity == severity)
            .count() as u64;
        if report["summary"][field].as_u64() != Some(count) {
            problems.push(format!(
                "summary.{field} is {}, want {count}",
                report["summary"][field]
            ));
        }
    }
    let waived = all.iter().filter(|f| f.waived.is_some()).count() as u64;
    if report["summary"]["waived"].as_u64().unwrap_or(0) != waived {
        problems.push(format!(
            "summary.waived is {}, want {waived}",
            report["summary"]["waived"]
        ));
    }
    problems
}

/// The corpus through the real binary, one `check --format json` run for the
/// fixtures that share flags: the report lists, in order, the findings the
/// library gives for each fixture, its summary counts them, and the exit
/// status is the worst of the fixtures'.
#[test]
fn the_binary_reports_the_lint_fixtures_as_the_library_does() {
    let mut by_flags: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for name in fixture_names() {
        let path = format!("{FIXTURES}/{name}.wall");
        let source = std::fs::read_to_string(crate_root().join(&path)).expect("a fixture");
        let header = parse_header(&source, &path).unwrap_or_else(|e| panic!("{path}: {e}"));
        by_flags.entry(header.flags).or_default().push(path);
    }
    for (flags, paths) in &by_flags {
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let mut args: Vec<&str> = vec!["check", "--today", TODAY, "--format", "json"];
        args.extend(paths.iter().map(String::as_str));
        args.extend_from_slice(&flags);
        let output = bmcwall(&args);
        let stderr = text(&output.stderr);
        assert!(!stderr.contains("panicked"), "bmcwall panicked:\n{stderr}");
        let report: serde_json::Value =
            serde_json::from_str(&text(&output.stdout)).expect("a JSON report");
        let mut want_status = 0;
        let mut want = Vec::new();
        for path in paths {
            let (status, findings) = check_in_process(path, &flags);
            want_status = want_status.max(status);
            want.extend(findings);
        }
        let got = findings(&report);
        assert_eq!(got, want, "{args:?}: the binary and the library differ");
        let problems = summary_problems(&report, &got);
        assert!(problems.is_empty(), "{args:?}: {}", problems.join("\n"));
        assert_eq!(output.status.code(), Some(want_status), "{args:?}");
    }
}

// ---------------------------------------------------------------------------
// The examples.

/// The findings `examples/exposed.wall` is annotated with.
const EXPOSED_FINDINGS: &[(&str, u64)] = &[
    ("BW102", 11),
    ("BW101", 12),
    ("BW202", 13),
    ("BW201", 15),
    ("BW203", 16),
    ("BW204", 16),
    ("BW206", 17),
    ("BW401", 19),
];

/// `BWnnn:` marks in the comments of a policy, as (code, line).
fn annotations(source: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for (index, line) in source.lines().enumerate() {
        let Some((_, comment)) = line.split_once('#') else {
            continue;
        };
        for (at, _) in comment.match_indices("BW") {
            let word = &comment[at..];
            if word.len() > 5 && is_code(&word[..5]) && word[5..].starts_with(':') {
                out.push((word[..5].to_string(), index as u64 + 1));
            }
        }
    }
    out
}

#[test]
fn exposed_example_reports_what_its_comments_say() {
    let source = std::fs::read_to_string(crate_root().join(EXPOSED)).expect("read example");
    let want: Vec<(String, u64)> = EXPOSED_FINDINGS
        .iter()
        .map(|&(c, l)| (c.to_string(), l))
        .collect();
    let mut annotated = annotations(&source);
    annotated.sort_by_key(|(code, line)| (*line, code.clone()));
    assert_eq!(annotated, want, "the comments of {EXPOSED} changed");

    let (status, report) = check_json(EXPOSED, &[]);
    assert_eq!(status, 1);
    let mut got = warnings_and_errors(&report);
    got.sort_by_key(|(code, line)| (*line, code.clone()));
    assert_eq!(got, want);

    let all = findings(&report);
    let find = |code: &str| {
        all.iter()
            .find(|f| f.code == code)
            .unwrap_or_else(|| panic!("no {code}"))
    };
    let bw101 = find("BW101");
    assert_eq!(
        bw101.related.iter().map(|r| r.line).collect::<Vec<_>>(),
        [10]
    );
    let bw202 = find("BW202");
    assert_eq!(
        bw202.path.iter().map(|h| h.rule.line).collect::<Vec<_>>(),
        [13, 14]
    );
    assert!(
        path_problems(bw202).is_empty(),
        "{:?}",
        path_problems(bw202)
    );
}

#[test]
fn ams1_example_has_no_findings() {
    let (status, report) = check_json(AMS1, &[]);
    assert_eq!(status, 0);
    assert_eq!(report["diagnostics"], serde_json::json!([]), "{report:#}");
}

// ---------------------------------------------------------------------------
// Waivers and levels.

const WAIVED: &str = "tests/fixtures/lints/waiver.wall";
const WAIVED_OTHER_CODE: &str = "tests/fixtures/lints/waiver_other_code.wall";
const WAIVER_REASON: &str = "SNMPv2c read-only, isolated VLAN, ticket OPS-512";

#[test]
fn a_waived_finding_is_listed_but_not_counted() {
    let (status, report) = check_json(WAIVED, &[]);
    assert_eq!(status, 0);
    let all = findings(&report);
    assert_eq!(all.len(), 1, "{report:#}");
    assert_eq!(all[0].code, "BW206");
    assert_eq!(all[0].waived.as_deref(), Some(WAIVER_REASON));
    assert_eq!(report["summary"]["warnings"], 0);
    assert_eq!(report["summary"]["errors"], 0);

    // Raised to an error, it still does not count and does not fail the run.
    let (status, report) = check_json(WAIVED, &["--deny", "BW206"]);
    assert_eq!(status, 0, "{report:#}");
    assert_eq!(findings(&report)[0].severity, "error");
    assert_eq!(report["summary"]["errors"], 0);
}

#[test]
fn a_waiver_that_names_services_silences_only_a_finding_it_names_all_of() {
    let file = "tests/fixtures/lints/bw304_near_miss.wall";
    let (status, report) = check_json(file, &[]);
    assert_eq!(status, 0, "{report:#}");
    let all = &report["diagnostics"];
    assert_eq!(
        all[0]["message"],
        "cleartext services `idrac` (tcp 3668-3669), `telnet` (tcp 23) and `http` (tcp 80) are \
         allowed to BMCs"
    );
    assert_eq!(all[0]["waived"], serde_json::Value::Null);
    let help = all[0]["help"].as_str().expect("help");
    assert!(
        help.starts_with("the waiver names `idrac` only; not waived: `telnet`, `http`\n"),
        "{help}"
    );
    // Naming every service the finding lists waives it.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let policy = dir.path().join("all.wall");
    let text = std::fs::read_to_string(crate_root().join(file))
        .expect("the fixture")
        .replace("BW206(idrac)", "BW206(idrac, http, telnet)");
    std::fs::write(&policy, text).expect("write the policy");
    // Its inventory beside it, inside the directory it is confined to.
    std::fs::create_dir(dir.path().join("data")).expect("a data directory");
    std::fs::copy(
        crate_root().join("tests/fixtures/lints/data/fra2.yaml"),
        dir.path().join("data/fra2.yaml"),
    )
    .expect("copy the inventory");
    let (status, report) = check_json(policy.to_str().expect("a UTF-8 path"), &[]);
    assert_eq!(status, 0, "{report:#}");
    assert_eq!(report["diagnostics"][0]["waived"], "iDRAC8 virtual console");
    assert_eq!(report["summary"]["warnings"], 0, "{report:#}");
}

#[test]
fn an_empty_selector_suggests_the_label_or_value_the_inventory_has() {
    // Its inventory is in the lints' fixtures, outside its own directory.
    let (status, report) = check_json(
        "tests/fixtures/inventory/typos/selectors.wall",
        &["--root", "tests/fixtures"],
    );
    assert_eq!(status, 0, "{report:#}");
    let got: Vec<(String, u64, u64, String)> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().expect("code").to_string(),
                d["line"].as_u64().expect("line"),
                d["column"].as_u64().expect("column"),
                d["help"].as_str().expect("help").to_string(),
            )
        })
        .collect();
    let want = [
        (
            5,
            "`supermciro` is not a vendor; did you mean `supermicro`?",
        ),
        (6, "no entry has the label `rak`; did you mean `rack`?"),
        (7, "no entry has `rack` = \"aa\"; did you mean \"a\"?"),
        // A vendor that exists, but no entry has it.
        (8, "no entry has `vendor` = \"lenovo\""),
        // Each condition holds for some entry, but not together.
        (9, "check the labels and values against the inventory files"),
    ];
    let want: Vec<(String, u64, u64, String)> = want
        .iter()
        .map(|&(line, help)| ("BW008".to_string(), line, 9, help.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn a_waiver_for_another_code_does_not_silence() {
    let (status, report) = check_json(WAIVED_OTHER_CODE, &["--deny", "BW206"]);
    assert_eq!(status, 1, "{report:#}");
    let all = findings(&report);
    assert_eq!(all.len(), 1, "{report:#}");
    assert_eq!(
        (all[0].code.as_str(), all[0].waived.as_deref()),
        ("BW206", None)
    );
    assert_eq!(report["summary"]["errors"], 1);
}

#[test]
fn human_output_shows_waived_findings_only_when_verbose() {
    let quiet = check(WAIVED, "human", &["--color", "never"]);
    assert_eq!(quiet.status.code(), Some(0));
    let stderr = text(&quiet.stderr);
    assert!(!stderr.contains("BW206"), "{stderr}");
    assert!(!stderr.contains(WAIVER_REASON), "{stderr}");

    let verbose = check(WAIVED, "human", &["--color", "never", "-v"]);
    assert_eq!(verbose.status.code(), Some(0));
    let stderr = text(&verbose.stderr);
    assert!(stderr.contains("BW206"), "{stderr}");
    assert!(stderr.contains(WAIVER_REASON), "{stderr}");

    let other = check(WAIVED_OTHER_CODE, "human", &["--color", "never"]);
    assert!(text(&other.stderr).contains("BW206"));
}

fn codes_at(report: &serde_json::Value, severity: &str) -> Vec<String> {
    findings(report)
        .into_iter()
        .filter(|f| f.severity == severity)
        .map(|f| f.code)
        .collect()
}

#[test]
fn levels_change_through_the_command_line() {
    let lateral = "tests/fixtures/lints/bw204_trigger.wall";
    let (status, report) = check_json(lateral, &[]);
    assert_eq!(
        (status, codes_at(&report, "warning")),
        (0, vec!["BW204".to_string()])
    );
    let (status, report) = check_json(lateral, &["--deny", "BW204"]);
    assert_eq!(
        (status, codes_at(&report, "error")),
        (1, vec!["BW204".to_string()])
    );
    assert_eq!(report["summary"]["errors"], 1);

    let exposure = "tests/fixtures/lints/bw201_trigger.wall";
    let (status, report) = check_json(exposure, &[]);
    assert_eq!(
        (status, codes_at(&report, "error")),
        (1, vec!["BW201".to_string()])
    );
    let (status, report) = check_json(exposure, &["--allow", "BW201"]);
    assert_eq!(status, 0);
    assert_eq!(report["diagnostics"], serde_json::json!([]), "{report:#}");

    let generalization = "tests/fixtures/lints/bw104_trigger.wall";
    let (status, report) = check_json(generalization, &[]);
    assert_eq!(status, 0);
    assert_eq!(
        report["diagnostics"],
        serde_json::json!([]),
        "BW104 is off by default: {report:#}"
    );
    let (status, report) = check_json(generalization, &["--warn", "BW104"]);
    assert_eq!(
        (status, codes_at(&report, "warning")),
        (0, vec!["BW104".to_string()])
    );
}

// ---------------------------------------------------------------------------
// Output formats, on examples/exposed.wall.

/// A policy whose only errors are failed expectations (BW401).
const UNREACHABLE: &str = "tests/fixtures/lints/expect_unreachable.wall";

#[test]
fn lowering_an_isolation_check_warns_and_is_recorded_in_every_output() {
    let warning = "bmcwall: warning: BW401 (expectation-failed) lowered to allow, a check that \
                   keeps BMCs isolated; the compiled table and the JSON and SARIF reports \
                   record it\n";
    let output = bmcwall(&[
        "compile",
        UNREACHABLE,
        "--today",
        TODAY,
        "--allow",
        "BW401",
        "-q",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), warning);
    let nft = text(&output.stdout);
    let header: Vec<&str> = nft.lines().take(3).collect();
    assert_eq!(
        header,
        [
            "# Generated by bmcwall 0.1.0 from tests/fixtures/lints/expect_unreachable.wall. Do not edit: change the policy.",
            "# WARNING: BW401 (expectation-failed) lowered to allow: findings of this isolation check did not stop this compile",
            "# Rules in policy order (first match wins; unmatched flows are dropped):",
        ]
    );
    // Without the flag nothing is compiled, and nothing is recorded.
    let output = bmcwall(&["compile", UNREACHABLE, "--today", TODAY, "-q"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "");

    let (status, report) = check_json(UNREACHABLE, &["--warn", "BW401"]);
    assert_eq!(status, 0, "{report:#}");
    assert_eq!(
        report["lowered"],
        serde_json::json!([{"code": "BW401", "name": "expectation-failed", "level": "warning"}])
    );
    let (_, report) = check_json(UNREACHABLE, &[]);
    assert_eq!(report.get("lowered"), None, "{report:#}");
    // Raising a check, or lowering one that is not an isolation check, is
    // not recorded.
    let (_, report) = check_json(UNREACHABLE, &["--deny", "BW202", "--allow", "BW102"]);
    assert_eq!(report.get("lowered"), None, "{report:#}");

    let output = check(UNREACHABLE, "sarif", &["--allow", "BW401"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(text(&output.stderr), warning);
    let (_, sarif) = valid_sarif(&text(&output.stdout));
    let index = Code::ALL
        .iter()
        .position(|c| c.as_str() == "BW401")
        .expect("BW401");
    assert_eq!(
        sarif["runs"][0]["invocations"],
        serde_json::json!([{
            "executionSuccessful": true,
            "ruleConfigurationOverrides": [{
                "descriptor": {"id": "BW401", "index": index},
                "configuration": {"level": "none", "enabled": false}
            }]
        }])
    );
}

#[test]
fn codes_that_make_the_input_invalid_cannot_be_lowered() {
    for flag in ["--allow", "--warn"] {
        let output = check(EXPOSED, "json", &[flag, "BW001"]);
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(text(&output.stdout), "");
        let stderr = text(&output.stderr);
        assert!(
            stderr.starts_with(&format!(
                "error: invalid value 'BW001' for '{flag} <CODE>': BW001 (syntax-error) cannot \
                 be lowered: it means the input is not a valid policy\n"
            )),
            "{stderr}"
        );
    }
    // Raising one is allowed (it is an error already), and so is lowering
    // BW008, a warning.
    assert_eq!(
        check(EXPOSED, "json", &["--deny", "BW001"]).status.code(),
        Some(1)
    );
    assert_eq!(
        check(EXPOSED, "json", &["--allow", "BW008"]).status.code(),
        Some(1)
    );
}

#[test]
fn human_output_is_golden() {
    let output = check(EXPOSED, "human", &["--color", "never"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "");
    insta::assert_snapshot!("exposed_human", text(&output.stderr));
}

#[test]
fn json_output_is_golden() {
    let output = check(EXPOSED, "json", &[]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("exposed_json", text(&output.stdout));
}

/// The SARIF 2.1.0 validator and `text` as JSON; fails unless `text` is
/// valid SARIF.
fn valid_sarif(text: &str) -> (jsonschema::Validator, serde_json::Value) {
    let root = crate_root();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join(SARIF_SCHEMA)).expect("read the SARIF schema"),
    )
    .expect("the schema is JSON");
    // The published schema's `language` patterns (of `run` and
    // `toolComponent`) have a stray `]`, a literal in ECMA-262 that Rust regex
    // engines reject, so the schema fails its own meta-schema check; use the
    // pattern they mean. bmcwall writes no `language`, so this changes nothing
    // about whether its output is valid.
    let mut schema = schema;
    let fixed = fix_language_patterns(&mut schema);
    assert!(fixed <= 2, "{fixed} language patterns fixed");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles");
    let sarif: serde_json::Value = serde_json::from_str(text).expect("SARIF output is JSON");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF output breaks the 2.1.0 schema:\n{}",
        errors.join("\n")
    );
    (validator, sarif)
}

#[test]
fn sarif_output_is_golden_and_valid_sarif_2_1_0() {
    let output = check(EXPOSED, "sarif", &[]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    insta::assert_snapshot!("exposed_sarif", stdout);

    let (validator, sarif) = valid_sarif(&stdout);
    assert_eq!(sarif["version"], "2.1.0");
    // The validation is not vacuous: a wrong version and, with formats on, a
    // `$schema` that is not a URI are caught.
    let mut broken = sarif.clone();
    broken["version"] = serde_json::json!("2.0.0");
    assert!(!validator.is_valid(&broken));
    let mut broken = sarif.clone();
    broken["$schema"] = serde_json::json!("not a uri");
    assert!(!validator.is_valid(&broken));
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), EXPOSED_FINDINGS.len());
    let rules = &sarif["runs"][0]["tool"]["driver"]["rules"];
    for result in results {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(
            rules[index]["id"], result["ruleId"],
            "ruleIndex of {result}"
        );
    }
}

/// Replaces the SARIF schema's broken `language` pattern wherever it occurs;
/// returns how many it replaced.
fn fix_language_patterns(schema: &mut serde_json::Value) -> usize {
    const BROKEN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    const MEANT: &str = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$";
    match schema {
        serde_json::Value::Object(map) => {
            let mut fixed = 0;
            for (key, value) in map.iter_mut() {
                if key == "pattern" && value == BROKEN {
                    *value = serde_json::json!(MEANT);
                    fixed += 1;
                } else {
                    fixed += fix_language_patterns(value);
                }
            }
            fixed
        }
        serde_json::Value::Array(items) => items.iter_mut().map(fix_language_patterns).sum(),
        _ => 0,
    }
}

#[test]
fn github_output_is_golden_workflow_commands() {
    let output = check(EXPOSED, "github", &[]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    insta::assert_snapshot!("exposed_github", stdout);
    assert_eq!(stdout.lines().count(), EXPOSED_FINDINGS.len());
    for line in stdout.lines() {
        let command = ["::error ", "::warning ", "::notice "]
            .iter()
            .find_map(|prefix| line.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("not a workflow command: {line}"));
        let (parameters, _message) = command
            .split_once("::")
            .unwrap_or_else(|| panic!("no message: {line}"));
        let keys: Vec<&str> = parameters
            .split(',')
            .filter_map(|p| p.split_once('='))
            .map(|(k, _)| k)
            .collect();
        for key in ["file", "line", "col"] {
            assert!(keys.contains(&key), "no {key}= in {line}");
        }
    }
}

// ---------------------------------------------------------------------------
// The lint docs.

fn lints(args: &[&str]) -> String {
    let mut all = vec!["lints"];
    all.extend_from_slice(args);
    let output = bmcwall(&all);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    text(&output.stdout)
}

#[test]
fn the_code_table_is_golden() {
    insta::assert_snapshot!("lints_table", lints(&[]));
}

#[test]
fn docs_lints_md_is_generated() {
    let generated = lints(&["--markdown"]);
    let committed =
        std::fs::read_to_string(crate_root().join("docs/lints.md")).expect("read docs/lints.md");
    assert!(
        generated == committed,
        "docs/lints.md is stale: run `cargo run -q -- lints --markdown > docs/lints.md`"
    );
}

#[test]
fn every_code_is_documented_under_the_four_headings() {
    const HEADINGS: [&str; 4] = [
        "## What it does",
        "## Why it matters",
        "## Example",
        "## How to fix",
    ];
    let table = lints(&[]);
    let codes: Vec<(&str, &str)> = table
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((words.next()?, words.next()?))
        })
        .collect();
    for (code, _) in CODES {
        assert!(
            codes.iter().any(|(c, _)| c == code),
            "`bmcwall lints` does not list {code}"
        );
    }
    for (code, name) in codes {
        let doc = lints(&[code]);
        assert!(
            doc.starts_with(&format!("{code} {name}")),
            "{code}: the doc starts with {doc:?}"
        );
        assert_eq!(
            lints(&[name]),
            doc,
            "`bmcwall lints {name}` differs from `bmcwall lints {code}`"
        );
        let lines: Vec<&str> = doc.lines().collect();
        let positions: Vec<usize> = HEADINGS
            .iter()
            .map(|heading| {
                let found: Vec<usize> =
                    (0..lines.len()).filter(|&i| lines[i] == *heading).collect();
                assert_eq!(
                    found.len(),
                    1,
                    "{code}: `{heading}` appears {} times:\n{doc}",
                    found.len()
                );
                found[0]
            })
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{code}: headings out of order:\n{doc}"
        );
        for (i, &at) in positions.iter().enumerate() {
            let end = positions.get(i + 1).copied().unwrap_or(lines.len());
            assert!(
                lines[at + 1..end].iter().any(|l| !l.trim().is_empty()),
                "{code}: `{}` has no text:\n{doc}",
                HEADINGS[i]
            );
        }
        let example = &lines[positions[2] + 1..positions[3]];
        assert!(
            example.iter().any(|l| l.starts_with("```")),
            "{code}: the example has no code block:\n{doc}"
        );
    }
}
