//! `bmcwall diff OLD NEW` (or `--base REV NEW`): what a change to a policy
//! does, in the policy's terms, as `plan` says it against a live table:
//! the flows the new policy's table treats differently from the old one's
//! (the old policy read as first-match rules, `TableRule::of_policy`), and
//! the findings added and fixed. For people, for a pull-request comment
//! (Markdown) or for pipelines (JSON); exit 0 when nothing changes.

use super::args::{DiffArgs, DiffFormat};
use super::plan::{changes_json, counts, heading, json_text, services, short};
use super::{left_to_exit, printed, render, Exit};
use crate::analysis::compare::{self, Change, Compiled, State, TableRule};
use crate::diagnostic::Severity;
use crate::nft::text::addresses;
use crate::pipeline::{self, Checked};
use serde_json::json;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

pub(super) fn run(args: DiffArgs) -> Exit {
    let (old_arg, new) = match (&args.base, args.policies.as_slice()) {
        (Some(_), [new]) => (None, new.clone()),
        (None, [old, new]) => (Some(old.clone()), new.clone()),
        (Some(_), _) => return usage("with --base, give only the new policy"),
        (None, _) => {
            return usage("give the old and the new policy, or --base REV and the new one")
        }
    };
    // The old tree from git lives as long as the comparison.
    let exported = match &args.base {
        Some(rev) => match export(rev, &new) {
            Ok(exported) => Some(exported),
            Err(message) => return usage(&message),
        },
        None => None,
    };
    let old = match (&old_arg, &exported) {
        (Some(old), _) => old.clone(),
        (None, Some(exported)) => exported.policy.clone(),
        (None, None) => return usage("no old policy"),
    };
    let today = args.common.today();
    let mut checked = Vec::new();
    for path in [&old, &new] {
        let settings = match args.common.settings(path) {
            Ok(settings) => settings,
            Err(exit) => return exit,
        };
        checked.push(pipeline::check(path, today, &settings));
    }
    let (old_checked, new_checked) = (&checked[0], &checked[1]);
    for side in [old_checked, new_checked] {
        if side.input_invalid() {
            let report = render::human(side, &args.common.render_options());
            let _ = std::io::stderr().lock().write_all(report.as_bytes());
            let _ = writeln!(std::io::stderr(), "bmcwall: no diff: a policy is not valid");
            return Exit::Invalid;
        }
    }
    let (Some((old_policy, _)), Some((new_policy, new_analysis))) =
        (&old_checked.model, &new_checked.model)
    else {
        return Exit::Invalid;
    };
    let old_name = |path: &str| match (&args.base, &exported) {
        (Some(rev), Some(exported)) => exported.shown(rev, path),
        _ => path.to_string(),
    };
    let old_rules = TableRule::of_policy(old_policy, |index| {
        old_name(&old_policy.rule_text(&old_checked.sources, index))
    });
    let changes = compare::changes(&Compiled::of(new_policy, new_analysis), Some(&old_rules));
    let findings = FindingChanges::between(old_checked, new_checked, &old_name);
    let title = format!(
        "{} -> {}",
        old_name(&crate::source::normalize(&old).display().to_string()),
        new.display()
    );
    let text = match args.format {
        DiffFormat::Text => {
            crate::source::for_people(text(&title, &changes, &findings, new_checked))
        }
        DiffFormat::Markdown => {
            crate::source::for_people(markdown(&title, &changes, &findings, new_checked))
        }
        DiffFormat::Json => {
            let (added, removed, other) = counts(&changes);
            let (policy, sources) = (new_policy, &new_checked.sources);
            let document = json!({
                "version": 1,
                "old": title.split(" -> ").next(),
                "new": new.display().to_string(),
                "changes": changes_json(&changes, policy, sources)
                    .into_iter()
                    .map(|mut item| {
                        // The rule that decided the flows before is the old policy's.
                        if let Some(object) = item.as_object_mut() {
                            let before = object.remove("live_rule").unwrap_or_default();
                            object.insert("old_rule".into(), before);
                        }
                        item
                    })
                    .collect::<Vec<_>>(),
                "findings": {"added": findings.added, "fixed": findings.fixed},
                "summary": {
                    "newly_allowed": added,
                    "no_longer_allowed": removed,
                    "other": other,
                    "findings_added": findings.added.len(),
                    "findings_fixed": findings.fixed.len(),
                },
            });
            match json_text(&document) {
                Ok(text) => text,
                Err(error) => {
                    return super::unwritten(&format!("cannot write the diff as JSON: {error}"))
                }
            }
        }
    };
    let same = changes.is_empty() && findings.added.is_empty() && findings.fixed.is_empty();
    left_to_exit(checked);
    if let Err(exit) = printed(&text) {
        return exit;
    }
    if same {
        Exit::Success
    } else {
        Exit::Findings
    }
}

fn usage(message: &str) -> Exit {
    let _ = writeln!(std::io::stderr(), "bmcwall: {message}");
    Exit::Invalid
}

/// The repository's tree at a revision, exported into a temporary directory.
struct Exported {
    dir: tempfile::TempDir,
    /// The old policy: the new one's path in the exported tree.
    policy: PathBuf,
}

impl Exported {
    /// A path in the exported tree as `REV:path`.
    fn shown(&self, rev: &str, text: &str) -> String {
        let root = format!("{}/", self.dir.path().display());
        text.replace(&root, &format!("{rev}:"))
    }
}

/// `git archive REV` of the repository `policy` is in, unpacked: the old
/// policy with the files it includes and the inventories it loads.
fn export(rev: &str, policy: &Path) -> Result<Exported, String> {
    let dir = policy
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let git = |dir: &Path, args: &[&str]| -> Result<Vec<u8>, String> {
        let output = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(format!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    };
    let root = String::from_utf8_lossy(&git(dir, &["rev-parse", "--show-toplevel"])?)
        .trim()
        .to_string();
    let absolute = std::path::absolute(policy).map_err(|e| e.to_string())?;
    let canonical_root = std::fs::canonicalize(&root).map_err(|e| e.to_string())?;
    let canonical = std::fs::canonicalize(absolute.parent().unwrap_or(Path::new("/")))
        .map_err(|e| format!("{}: {e}", policy.display()))?
        .join(absolute.file_name().unwrap_or_default());
    let relative = canonical
        .strip_prefix(&canonical_root)
        .map_err(|_| format!("{} is not in the repository at {root}", policy.display()))?
        .to_path_buf();
    // From the top: in a subdirectory, git archives only that subtree.
    let archive = git(Path::new(&root), &["archive", "--format=tar", rev])?;
    let temp = tempfile::tempdir().map_err(|e| format!("cannot make a directory: {e}"))?;
    let mut tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(temp.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    if let Some(mut stdin) = tar.stdin.take() {
        stdin
            .write_all(&archive)
            .map_err(|e| format!("cannot unpack {rev}: {e}"))?;
    }
    let status = tar
        .wait()
        .map_err(|e| format!("cannot unpack {rev}: {e}"))?;
    if !status.success() {
        return Err(format!("cannot unpack {rev}"));
    }
    let policy = temp.path().join(relative);
    if !policy.is_file() {
        return Err(format!("{} is not in {rev}", policy.display()));
    }
    Ok(Exported { dir: temp, policy })
}

/// Findings the new policy has that the old one has not, and the reverse,
/// matched by code and the text of the statement they are at (so moving a
/// rule changes nothing).
struct FindingChanges {
    added: Vec<String>,
    fixed: Vec<String>,
}

impl FindingChanges {
    fn between(old: &Checked, new: &Checked, old_name: &dyn Fn(&str) -> String) -> Self {
        let keyed = |checked: &Checked, rename: &dyn Fn(&str) -> String| {
            let mut out: Vec<(String, String)> = Vec::new();
            for finding in checked.findings.iter().filter(|f| f.waived.is_none()) {
                let diagnostic = &finding.diagnostic;
                let span = diagnostic.primary().span;
                let statement: Vec<&str> = checked.sources.text(span).split_whitespace().collect();
                let key = format!("{} {}", diagnostic.code, statement.join(" "));
                let severity = match diagnostic.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Info => "info",
                };
                let shown = format!(
                    "{} {} ({severity}) at {}: {}",
                    diagnostic.code,
                    diagnostic.code.name(),
                    rename(&checked.sources.file_line(span)),
                    diagnostic.message
                );
                out.push((key, shown));
            }
            out
        };
        let same = |s: &str| s.to_string();
        let (old, new) = (keyed(old, old_name), keyed(new, &same));
        let old_keys: BTreeSet<&String> = old.iter().map(|(k, _)| k).collect();
        let new_keys: BTreeSet<&String> = new.iter().map(|(k, _)| k).collect();
        FindingChanges {
            added: new
                .iter()
                .filter(|(k, _)| !old_keys.contains(k))
                .map(|(_, s)| s.clone())
                .collect(),
            fixed: old
                .iter()
                .filter(|(k, _)| !new_keys.contains(k))
                .map(|(_, s)| s.clone())
                .collect(),
        }
    }
}

/// One change in words: heading, names, addresses, the rules involved.
fn change_lines(change: &Change, checked: &Checked) -> (String, String, String, String) {
    let Some((policy, _)) = &checked.model else {
        return Default::default();
    };
    let names = policy.address_names();
    let what = format!(
        "{}: {} -> {} : {}",
        heading(change),
        names.name(&change.src),
        names.name(&change.dst),
        services(&change.services)
    );
    let addresses = format!(
        "{} -> {}",
        short(&addresses(&change.src)),
        short(&addresses(&change.dst))
    );
    let now = match change.rule {
        Some(rule) => policy.rule_text(&checked.sources, rule),
        None if change.after == State::Passed => "outside the scope".into(),
        None => "no rule matches (denied)".into(),
    };
    let before = match (&change.live_rule, change.before) {
        (Some(rule), state) => format!("{} by {rule}", state.as_str()),
        (None, State::Denied) => "no rule matched (denied)".into(),
        (None, state) => state.as_str().to_string(),
    };
    (what, addresses, now, before)
}

fn summary(changes: &[Change], findings: &FindingChanges) -> String {
    let (added, removed, other) = counts(changes);
    let findings_added = match findings.added.len() {
        1 => "1 finding added".to_string(),
        n => format!("{n} findings added"),
    };
    format!(
        "{added} newly allowed, {removed} no longer allowed, {other} other; {findings_added}, {} fixed",
        findings.fixed.len()
    )
}

fn text(title: &str, changes: &[Change], findings: &FindingChanges, new: &Checked) -> String {
    let same = changes.is_empty() && findings.added.is_empty() && findings.fixed.is_empty();
    if same {
        return format!("{title}: no change\n");
    }
    let mut out = format!("{title}: {}\n", summary(changes, findings));
    for change in changes {
        let (what, addresses, now, before) = change_lines(change, new);
        let _ = write!(
            out,
            "\n{what}\n    {addresses}\n    now:    {now}\n    before: {before}\n"
        );
    }
    for (heading, list) in [
        ("findings added", &findings.added),
        ("findings fixed", &findings.fixed),
    ] {
        if !list.is_empty() {
            let _ = writeln!(out, "\n{heading}:");
            for line in list {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    out
}

/// For a pull-request comment: a summary line, a table of the flows, and
/// the findings.
fn markdown(title: &str, changes: &[Change], findings: &FindingChanges, new: &Checked) -> String {
    let cell = |text: &str| text.replace('|', "\\|");
    let same = changes.is_empty() && findings.added.is_empty() && findings.fixed.is_empty();
    let mut out = format!("### bmcwall diff: `{title}`\n\n");
    if same {
        out.push_str(
            "No change: every flow is decided as before, and the findings are the same.\n",
        );
        return out;
    }
    let _ = writeln!(out, "{}\n", summary(changes, findings));
    if !changes.is_empty() {
        out.push_str("| change | flows | addresses | now | before |\n|---|---|---|---|---|\n");
        for change in changes {
            let (what, addresses, now, before) = change_lines(change, new);
            let (kind, flows) = what.split_once(": ").unwrap_or((&what, ""));
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | `{}` | {} |",
                cell(kind),
                cell(flows),
                cell(&addresses),
                cell(&now),
                cell(&before)
            );
        }
    }
    for (heading, list) in [
        ("Findings added", &findings.added),
        ("Findings fixed", &findings.fixed),
    ] {
        if !list.is_empty() {
            let _ = writeln!(out, "\n**{heading}**\n");
            for line in list {
                let _ = writeln!(out, "- {}", cell(line));
            }
        }
    }
    out
}
