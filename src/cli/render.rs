//! Rendering findings: miette for people, JSON for machines.

use super::snippet::Snippet;
use crate::diagnostic::{Diagnostic, Severity};
use crate::pipeline::{Checked, Finding};
use crate::source::{SourceMap, Span};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan};
use serde::Serialize;
use std::fmt;

/// A machine-readable report serde_json could not write. Nothing is written
/// then, rather than an empty report that reads as no findings.
#[derive(Debug)]
pub struct Unwritable {
    /// The report: `JSON` or `SARIF`.
    report: &'static str,
    error: serde_json::Error,
}

impl fmt::Display for Unwritable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write the {} report: {}", self.report, self.error)
    }
}

impl std::error::Error for Unwritable {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// A report as pretty-printed JSON with a final newline.
fn pretty(report: &'static str, value: &impl Serialize) -> Result<String, Unwritable> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|error| Unwritable { report, error })?;
    text.push('\n');
    Ok(text)
}

pub struct Options {
    pub color: bool,
    pub quiet: bool,
    pub verbose: bool,
}

/// A finding in the shape miette renders: labels in the primary file, and
/// labels in other files as related reports.
#[derive(Debug)]
struct Report {
    code: String,
    severity: miette::Severity,
    message: String,
    help: Option<String>,
    source: Snippet,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

/// The snippet of `file` for the labels at `spans`, and its labels.
fn snippet(
    sources: &SourceMap,
    file: crate::source::FileId,
    spans: &[(Span, &str, bool)],
) -> (Snippet, Vec<LabeledSpan>) {
    let ranges: Vec<(usize, usize)> = spans
        .iter()
        .map(|(span, _, _)| (span.start as usize, span.end as usize))
        .collect();
    let (snippet, shown) = Snippet::new(sources.file(file), &ranges);
    let labels = spans
        .iter()
        .zip(shown)
        .map(|((_, message, primary), (start, end))| {
            let message = Some(neutral(message).into_owned());
            if *primary {
                LabeledSpan::new_primary_with_span(message, (start, end - start))
            } else {
                LabeledSpan::new_with_span(message, (start, end - start))
            }
        })
        .collect();
    (snippet, labels)
}

/// Text from a file or about one, as people are shown it: hidden control
/// characters escaped.
fn neutral(text: &str) -> std::borrow::Cow<'_, str> {
    crate::source::escape_controls(text)
}

fn miette_severity(severity: Severity) -> miette::Severity {
    match severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    }
}

fn report(sources: &SourceMap, diagnostic: &Diagnostic, waived: Option<&str>) -> Report {
    let primary = diagnostic.primary();
    let mut here = vec![(primary.span, primary.message.as_str(), true)];
    let mut related = Vec::new();
    for label in &diagnostic.labels[1..] {
        if label.span.file == primary.span.file {
            here.push((label.span, label.message.as_str(), false));
        } else {
            let (source, labels) = snippet(
                sources,
                label.span.file,
                &[(label.span, &label.message, true)],
            );
            related.push(Report {
                code: String::new(),
                severity: miette::Severity::Advice,
                message: neutral(&label.message).into_owned(),
                help: None,
                source,
                labels,
                related: Vec::new(),
            });
        }
    }
    let (source, labels) = snippet(sources, primary.span.file, &here);
    let mut help = diagnostic.help.clone();
    if let Some(witness) = &diagnostic.witness {
        let line = format!("witness flow: {witness}");
        help = Some(match help {
            Some(h) => format!("{h}\n{line}"),
            None => line,
        });
    }
    if let Some(reason) = waived {
        help = Some(format!("waived: {reason}"));
    }
    Report {
        code: format!("{}({})", diagnostic.code, diagnostic.code.name()),
        severity: miette_severity(diagnostic.severity),
        message: neutral(&diagnostic.message).into_owned(),
        help: help.map(|help| neutral(&help).into_owned()),
        source,
        labels,
        related,
    }
}

/// At most this many findings of one code in one file are shown, in every
/// form; the rest are counted ("and N more").
pub const MAX_PER_CODE_AND_FILE: usize = 20;
/// At most this many findings of one policy are shown in all.
pub const MAX_SHOWN: usize = 200;
/// At most this many "and N more" notes are given one by one; the rest are
/// summed in one.
const MAX_OMITTED_NOTES: usize = 20;

/// Findings not shown: how many of one code in one file.
struct Omitted {
    code: crate::diagnostic::Code,
    file: String,
    count: usize,
}

/// The findings of `checked` that `keep` admits, bounded: the first
/// [`MAX_PER_CODE_AND_FILE`] of each code in each file (in report order), at
/// most [`MAX_SHOWN`] in all; and what was left out, by code and file.
fn bounded(checked: &Checked, keep: impl Fn(&Finding) -> bool) -> (Vec<&Finding>, Vec<Omitted>) {
    use std::collections::BTreeMap;
    let mut shown = Vec::new();
    let mut per_group: BTreeMap<(crate::diagnostic::Code, crate::source::FileId), usize> =
        BTreeMap::new();
    let mut omitted: BTreeMap<(crate::source::FileId, crate::diagnostic::Code), usize> =
        BTreeMap::new();
    for finding in checked.findings.iter().filter(|f| keep(f)) {
        let code = finding.diagnostic.code;
        let file = finding.diagnostic.primary().span.file;
        let seen = per_group.entry((code, file)).or_default();
        *seen += 1;
        if *seen <= MAX_PER_CODE_AND_FILE && shown.len() < MAX_SHOWN {
            shown.push(finding);
        } else {
            *omitted.entry((file, code)).or_default() += 1;
        }
    }
    let omitted = omitted
        .into_iter()
        .map(|((file, code), count)| Omitted {
            code,
            file: checked.sources.file(file).display_path(),
            count,
        })
        .collect();
    (shown, omitted)
}

/// The lines saying what was left out, for people.
fn omitted_notes(omitted: &[Omitted]) -> String {
    let mut out = String::new();
    for note in omitted.iter().take(MAX_OMITTED_NOTES) {
        out.push_str(&format!(
            "... and {} more {}({}) in {}, not shown\n",
            note.count,
            note.code,
            note.code.name(),
            neutral(&note.file)
        ));
    }
    if omitted.len() > MAX_OMITTED_NOTES {
        let rest = &omitted[MAX_OMITTED_NOTES..];
        let count: usize = rest.iter().map(|note| note.count).sum();
        out.push_str(&format!(
            "... and {count} more findings of other codes or files, not shown\n"
        ));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Every finding of one policy, rendered for a terminal.
pub fn human(checked: &Checked, options: &Options) -> String {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    if options.verbose {
        out.push_str(&inventories(checked));
        out.push_str(&gateways(checked));
    }
    let (shown, omitted) = bounded(checked, |finding| {
        match (&finding.waived, finding.diagnostic.severity) {
            (Some(_), _) => options.verbose,
            (None, Severity::Error) => true,
            (None, _) => !options.quiet,
        }
    });
    for finding in shown {
        let report = report(
            &checked.sources,
            &finding.diagnostic,
            finding.waived.as_deref(),
        );
        let _ = handler.render_report(&mut out, &report);
        out.push('\n');
    }
    out.push_str(&omitted_notes(&omitted));
    out
}

/// What each inventory was read as, for `-v`: its format (and what it was
/// detected as), its BMCs and the names it resolved.
/// Each gateway's table in numbers, for `-v`: its nft rules and set
/// elements (the default layout) and the BMCs it governs.
fn gateways(checked: &Checked) -> String {
    let Some((policy, analysis)) = checked.model.as_ref() else {
        return String::new();
    };
    let mut out = String::new();
    let mut counted: Vec<(usize, usize, usize)> = Vec::new();
    for index in 0..policy.gateways.len() {
        let target = policy.target_of(index);
        let (rules, elements) = match counted.iter().find(|(t, _, _)| *t == target) {
            Some(&(_, rules, elements)) => (rules, elements),
            None => {
                let ruleset = super::fleet::ruleset(
                    policy,
                    analysis,
                    &checked.sources,
                    Some(target),
                    crate::nft::Layout::Sets,
                    crate::nft::DEFAULT_TABLE,
                    &crate::nft::Options::default(),
                );
                let rules = ruleset.chains.iter().map(|c| c.rules.len()).sum();
                let elements = ruleset.sets.iter().map(|s| s.elements.len()).sum();
                counted.push((target, rules, elements));
                (rules, elements)
            }
        };
        let gateway = &policy.gateways[index];
        let shared = if target == index {
            String::new()
        } else {
            format!(", the table of {}", policy.gateways[target].name)
        };
        out.push_str(&format!(
            "gateway {}: mode {}{shared}, {rules} rules, {elements} set elements, {} BMCs\n",
            gateway.name,
            super::fleet::mode_words(policy, index).join(", "),
            super::fleet::bmcs_governed(policy, index)
        ));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

fn inventories(checked: &Checked) -> String {
    let mut out = String::new();
    for inventory in &checked.inventories {
        let how = match inventory.detected {
            Some(what) => format!("{} (detected: {what})", inventory.format),
            None => inventory.format.to_string(),
        };
        let bmcs = match inventory.bmcs {
            1 => "1 BMC".to_string(),
            n => format!("{n} BMCs"),
        };
        out.push_str(&format!(
            "inventory {}: {how}, {bmcs}\n",
            neutral(&inventory.path.display().to_string())
        ));
        for resolution in &inventory.resolved {
            let addresses: Vec<String> = resolution
                .addresses
                .iter()
                .map(ToString::to_string)
                .collect();
            out.push_str(&format!(
                "  {} resolved to {}\n",
                neutral(&resolution.name),
                addresses.join(", ")
            ));
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

#[derive(Default, Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    infos: usize,
    waived: usize,
}

fn count(results: &[Checked]) -> Summary {
    let mut summary = Summary::default();
    for finding in results.iter().flat_map(|c| &c.findings) {
        if finding.waived.is_some() {
            summary.waived += 1;
            continue;
        }
        match finding.diagnostic.severity {
            Severity::Error => summary.errors += 1,
            Severity::Warning => summary.warnings += 1,
            Severity::Info => summary.infos += 1,
        }
    }
    summary
}

/// `1 error, 2 warnings, 0 infos`.
pub fn levels_line(errors: usize, warnings: usize, infos: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}, {}",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(infos, "info")
    )
}

/// The closing line of human output.
pub fn summary(results: &[Checked]) -> String {
    let s = count(results);
    let mut line = format!("bmcwall: {}", levels_line(s.errors, s.warnings, s.infos));
    if s.waived > 0 {
        line.push_str(&format!(", {} waived", s.waived));
    }
    line.push('\n');
    line
}

#[derive(Serialize)]
struct JsonLocation {
    message: String,
    file: String,
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    /// The top-level policy whose check reported it.
    policy: String,
    code: &'static str,
    name: &'static str,
    severity: Severity,
    message: &'a str,
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    related: Vec<JsonLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    witness: Option<&'a crate::diagnostic::Witness>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    path: Vec<JsonHop<'a>>,
    /// The gateways a gateway-specific finding is about.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    gateways: &'a [String],
    waived: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonHop<'a> {
    #[serde(flatten)]
    flow: &'a crate::diagnostic::Witness,
    rule: JsonPlace,
}

#[derive(Serialize)]
struct JsonPlace {
    file: String,
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    /// Isolation checks lowered on the command line.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    lowered: Vec<JsonLowered>,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    /// Findings left out of `diagnostics`, by code and file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    omitted: Vec<JsonOmitted>,
    summary: Summary,
}

#[derive(Serialize)]
struct JsonOmitted {
    policy: String,
    code: &'static str,
    name: &'static str,
    file: String,
    count: usize,
}

#[derive(Serialize)]
struct JsonLowered {
    code: &'static str,
    name: &'static str,
    level: &'static str,
}

/// The isolation checks lowered for a run (the same for every policy it
/// checks).
fn lowered(results: &[Checked]) -> &[crate::diagnostic::Lowered] {
    results.first().map_or(&[], |checked| &checked.lowered)
}

fn json_diagnostic<'a>(sources: &SourceMap, finding: &'a Finding) -> JsonDiagnostic<'a> {
    let diagnostic = &finding.diagnostic;
    let primary = diagnostic.primary().span;
    let file = sources.file(primary.file);
    let (line, column) = file.line_col(primary.start as usize);
    let (end_line, end_column) = file.line_col(primary.end as usize);
    JsonDiagnostic {
        policy: sources.file(crate::source::FileId(0)).display_path(),
        code: diagnostic.code.as_str(),
        name: diagnostic.code.name(),
        severity: diagnostic.severity,
        message: &diagnostic.message,
        file: file.display_path(),
        line,
        column,
        end_line,
        end_column,
        related: diagnostic.labels[1..]
            .iter()
            .map(|label| {
                let file = sources.file(label.span.file);
                let (line, column) = file.line_col(label.span.start as usize);
                JsonLocation {
                    message: label.message.clone(),
                    file: file.display_path(),
                    line,
                    column,
                }
            })
            .collect(),
        help: diagnostic.help.as_deref(),
        witness: diagnostic.witness.as_ref(),
        gateways: &diagnostic.gateways,
        path: diagnostic
            .path
            .iter()
            .map(|(flow, span)| {
                let file = sources.file(span.file);
                let (line, column) = file.line_col(span.start as usize);
                JsonHop {
                    flow,
                    rule: JsonPlace {
                        file: file.display_path(),
                        line,
                        column,
                    },
                }
            })
            .collect(),
        waived: finding.waived.as_deref(),
    }
}

/// The JSON report of docs/lints.md's contract, for all policies checked.
pub fn json(results: &[Checked]) -> Result<String, Unwritable> {
    let report = JsonReport {
        version: 1,
        lowered: lowered(results)
            .iter()
            .map(|l| JsonLowered {
                code: l.code.as_str(),
                name: l.code.name(),
                level: l.level.as_str(),
            })
            .collect(),
        diagnostics: Vec::new(),
        omitted: Vec::new(),
        summary: count(results),
    };
    let mut report = report;
    for checked in results {
        let (shown, omitted) = bounded(checked, |_| true);
        let policy = checked
            .sources
            .file(crate::source::FileId(0))
            .display_path();
        report.diagnostics.extend(
            shown
                .into_iter()
                .map(|finding| json_diagnostic(&checked.sources, finding)),
        );
        report
            .omitted
            .extend(omitted.into_iter().map(|note| JsonOmitted {
                policy: policy.clone(),
                code: note.code.as_str(),
                name: note.code.name(),
                file: note.file,
                count: note.count,
            }));
    }
    pretty("JSON", &report)
}

/// Where docs/lints.md is published; SARIF help URIs point into it.
pub const LINTS_URL: &str = concat!(env!("CARGO_PKG_HOMEPAGE"), "/blob/main/docs/lints.md");

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn sarif_location(sources: &SourceMap, span: Span) -> serde_json::Value {
    let file = sources.file(span.file);
    let (line, column) = file.line_col(span.start as usize);
    let (end_line, end_column) = file.line_col(span.end as usize);
    serde_json::json!({
        "physicalLocation": {
            "artifactLocation": {"uri": file.display_path()},
            "region": {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}
        }
    })
}

/// SARIF 2.1.0: one run, one reporting descriptor per code, one result per
/// finding (waived findings carry an in-source suppression).
pub fn sarif(results: &[Checked]) -> Result<String, Unwritable> {
    use crate::diagnostic::{Code, Level};
    let rules: Vec<serde_json::Value> = Code::ALL
        .iter()
        .map(|code| {
            let level = match code.default_level() {
                Level::Allow => "none",
                Level::Info => "note",
                Level::Warning => "warning",
                Level::Error => "error",
            };
            serde_json::json!({
                "id": code.as_str(),
                "name": code.name(),
                "shortDescription": {"text": code.summary()},
                "fullDescription": {"text": code.doc()},
                "helpUri": format!("{LINTS_URL}#{}", code.as_str().to_lowercase()),
                "help": {"text": code.doc(), "markdown": code.doc()},
                "defaultConfiguration": {"level": level}
            })
        })
        .collect();
    let mut sarif_results = Vec::new();
    for checked in results {
        for finding in &checked.findings {
            let diagnostic = &finding.diagnostic;
            let rule_index = Code::ALL
                .iter()
                .position(|c| *c == diagnostic.code)
                .unwrap_or(0);
            let mut message = diagnostic.message.clone();
            if let Some(help) = &diagnostic.help {
                message.push('\n');
                message.push_str(help);
            }
            let related: Vec<serde_json::Value> = diagnostic.labels[1..]
                .iter()
                .enumerate()
                .map(|(i, label)| {
                    let mut location = sarif_location(&checked.sources, label.span);
                    location["id"] = serde_json::json!(i + 1);
                    location["message"] = serde_json::json!({"text": label.message});
                    location
                })
                .collect();
            let mut result = serde_json::json!({
                "ruleId": diagnostic.code.as_str(),
                "ruleIndex": rule_index,
                "level": sarif_level(diagnostic.severity),
                "message": {"text": message},
                "locations": [sarif_location(&checked.sources, diagnostic.primary().span)],
            });
            if !related.is_empty() {
                result["relatedLocations"] = serde_json::Value::Array(related);
            }
            let policy = checked
                .sources
                .file(crate::source::FileId(0))
                .display_path();
            result["properties"] = match &diagnostic.witness {
                Some(witness) => serde_json::json!({"policy": policy, "witness": witness}),
                None => serde_json::json!({"policy": policy}),
            };
            if !diagnostic.gateways.is_empty() {
                result["properties"]["gateways"] = serde_json::json!(diagnostic.gateways);
            }
            if let Some(reason) = &finding.waived {
                result["suppressions"] =
                    serde_json::json!([{"kind": "inSource", "justification": reason}]);
            }
            sarif_results.push(result);
        }
    }
    let mut run = serde_json::json!({
        "tool": {"driver": {
            "name": "bmcwall",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": env!("CARGO_PKG_HOMEPAGE"),
            "rules": rules
        }},
        "results": sarif_results
    });
    let overrides: Vec<serde_json::Value> = lowered(results)
        .iter()
        .map(|l| {
            let index = Code::ALL.iter().position(|c| *c == l.code).unwrap_or(0);
            let level = match l.level {
                Level::Allow => "none",
                Level::Info => "note",
                Level::Warning => "warning",
                Level::Error => "error",
            };
            serde_json::json!({
                "descriptor": {"id": l.code.as_str(), "index": index},
                "configuration": {"level": level, "enabled": l.level != Level::Allow}
            })
        })
        .collect();
    if !overrides.is_empty() {
        run["invocations"] = serde_json::json!([{
            "executionSuccessful": true,
            "ruleConfigurationOverrides": overrides
        }]);
    }
    let log = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run]
    });
    pretty("SARIF", &log)
}

/// GitHub Actions workflow commands: `::error file=...,line=...::message`.
pub fn github(results: &[Checked]) -> String {
    let data = |text: &str| {
        neutral(text)
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let property = |text: &str| data(text).replace(':', "%3A").replace(',', "%2C");
    let mut out = String::new();
    for checked in results {
        for finding in checked.findings.iter().filter(|f| f.waived.is_none()) {
            let diagnostic = &finding.diagnostic;
            let span = diagnostic.primary().span;
            let file = checked.sources.file(span.file);
            let (line, column) = file.line_col(span.start as usize);
            let (end_line, end_column) = file.line_col(span.end as usize);
            let command = match diagnostic.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let mut message = diagnostic.message.clone();
            if let Some(help) = &diagnostic.help {
                message.push('\n');
                message.push_str(help);
            }
            out.push_str(&format!(
                "::{command} file={},line={line},col={column},endLine={end_line},endColumn={end_column},title={}::{}\n",
                property(&file.display_path()),
                property(&format!("{} {}", diagnostic.code, diagnostic.code.name())),
                data(&message)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_report_serde_json_refuses_is_an_error_naming_the_report() {
        // JSON object keys are strings: serde_json refuses a map keyed by pairs.
        let unwritable = BTreeMap::from([((1u8, 2u8), 3u8)]);
        let error = pretty("SARIF", &unwritable).expect_err("an unwritable report");
        assert!(
            error
                .to_string()
                .starts_with("cannot write the SARIF report: "),
            "{error}"
        );
    }

    #[test]
    fn a_report_ends_with_a_newline() {
        let text = pretty("JSON", &BTreeMap::from([("version", 1)])).expect("writable");
        assert_eq!(text, "{\n  \"version\": 1\n}\n");
    }
}
