//! `bmcwall usage`: each policy rule's packets and bytes, read from the
//! named counters of a live table (or a saved `nft -j list table`), in
//! policy order, with the rules that allowed nothing. A view of the counters
//! `nft::counter_names` gives the rules; a table that names another policy
//! is refused (exit 3), so counts are never read through the wrong policy.

use super::args::{UsageArgs, UsageFormat};
use super::{checked_with_report, compilable, live, printed, Exit};
use crate::model::Action;
use crate::nft::{self, CounterObject, NO_RULE_COUNTER};
use crate::resolve::Policy;
use crate::source::SourceMap;
use serde::Serialize;
use std::fmt::Write;
use std::io::Write as _;

/// One counter of the report: a policy rule's, or the flows no rule matched.
#[derive(Serialize)]
struct Count {
    /// The counter object's name.
    counter: String,
    /// `file:line` of the rule, `None` for the flows no rule matched.
    rule: Option<String>,
    action: &'static str,
    description: Option<String>,
    packets: u64,
    bytes: u64,
    /// The rule's share of the packets of every counter, in percent.
    share: f64,
}

#[derive(Serialize)]
struct Report {
    table: String,
    /// The digest of the policy the table was compiled from.
    policy: String,
    /// When the counts started, seconds since 1970 (UTC): not recorded yet,
    /// always `null`.
    counts_started: Option<i64>,
    rules: Vec<Count>,
    /// The allow rules with no packet since the counts started, as `file:line`.
    unused: Vec<String>,
}

pub(super) fn run(args: UsageArgs) -> Exit {
    let checked = match checked_with_report(&args.policy, &args.common) {
        Ok(checked) => checked,
        Err(exit) => return exit,
    };
    let (policy, _) = match compilable(&checked, "read") {
        Ok(model) => model,
        Err(_) => return Exit::Invalid,
    };
    let table = &args.live.table;
    let fail = |what: String| {
        let _ = writeln!(std::io::stderr(), "bmcwall: {what}");
        Exit::Refused
    };
    let (listing, place) = match &args.listing {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => (text, path.display().to_string()),
            Err(error) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "bmcwall: cannot read {}: {error}",
                    path.display()
                );
                return Exit::Invalid;
            }
        },
        None => {
            let runner = live::Nft::new(args.live.netns.clone());
            let place = runner.place();
            match runner.list(table, true) {
                Ok(Some(listing)) => (listing, place),
                Ok(None) => return fail(format!("there is no table inet {table} in {place}")),
                Err(error) => {
                    return fail(format!(
                        "cannot read table inet {table} in {place}: {error}"
                    ))
                }
            }
        }
    };
    let ruleset = match nft::parse::listing(&listing, table) {
        Ok(ruleset) => ruleset,
        Err(error) => {
            return fail(format!(
                "table inet {table} in {place} is not one bmcwall can read: {error}"
            ))
        }
    };
    let ours = checked.sources.digest();
    let theirs = match nft::policy_digest(&ruleset) {
        Some(digest) => digest.to_string(),
        None => {
            return fail(format!(
                "table inet {table} in {place} does not name the policy it was compiled from: \
                 compile and apply it with this bmcwall"
            ))
        }
    };
    if theirs != ours {
        return fail(format!(
            "table inet {table} in {place} was compiled from policy {theirs}, not from {} \
             ({ours}): its counters are not this policy's rules",
            args.policy.display()
        ));
    }
    let report = match counts(policy, &checked.sources, &ruleset.counters) {
        Ok(rules) => {
            let unused = rules
                .iter()
                .filter(|c| c.action == "allow" && c.packets == 0)
                .filter_map(|c| c.rule.clone())
                .collect();
            Report {
                table: table.clone(),
                policy: theirs,
                counts_started: None,
                rules,
                unused,
            }
        }
        Err(missing) => {
            return fail(format!(
                "table inet {table} in {place} has no counter {missing}"
            ))
        }
    };
    let text = match args.format {
        UsageFormat::Human => super::render::for_people(human(&report, &place)),
        UsageFormat::Json => match serde_json::to_string_pretty(&report) {
            Ok(text) => text + "\n",
            Err(error) => return super::unwritten(&error),
        },
        UsageFormat::Prometheus => prometheus(&report),
    };
    match printed(&text) {
        Ok(()) => Exit::Success,
        Err(exit) => exit,
    }
}

/// Each rule in force's counter, in policy order, then the flows no rule
/// matched; `Err` names a counter the table lacks.
fn counts(
    policy: &Policy,
    sources: &SourceMap,
    counters: &[CounterObject],
) -> Result<Vec<Count>, String> {
    let names = nft::counter_names(policy, sources);
    let value = |name: &str| {
        counters
            .iter()
            .find(|c| c.name == name)
            .map(|c| (c.packets, c.bytes))
            .ok_or_else(|| name.to_string())
    };
    let mut out = Vec::new();
    for (index, rule) in policy.active_rules() {
        let (packets, bytes) = value(&names[index])?;
        out.push(Count {
            counter: names[index].clone(),
            rule: Some(sources.file_line(rule.span)),
            action: rule.action.as_str(),
            description: rule.description.clone(),
            packets,
            bytes,
            share: 0.0,
        });
    }
    let (packets, bytes) = value(NO_RULE_COUNTER)?;
    out.push(Count {
        counter: NO_RULE_COUNTER.into(),
        rule: None,
        action: Action::Deny.as_str(),
        description: Some("no rule matched".into()),
        packets,
        bytes,
        share: 0.0,
    });
    let total: u64 = out.iter().map(|c| c.packets).sum();
    for count in &mut out {
        if total > 0 {
            count.share = (count.packets as f64 * 1000.0 / total as f64).round() / 10.0;
        }
    }
    Ok(out)
}

/// The report for people: one line per rule, then the unused allow rules.
fn human(report: &Report, place: &str) -> String {
    let mut out = format!(
        "table inet {} in {place}: counts since the table was loaded (when is not recorded)\n",
        report.table
    );
    let width = report
        .rules
        .iter()
        .map(|c| c.rule.as_deref().unwrap_or("no rule matched").len())
        .max()
        .unwrap_or(0);
    for count in &report.rules {
        let rule = count.rule.as_deref().unwrap_or("no rule matched");
        let _ = write!(
            out,
            "  {rule:<width$}  {:<5}  {:>12} packets  {:>14} bytes  {:>5.1}%",
            count.action, count.packets, count.bytes, count.share
        );
        if let (Some(description), Some(_)) = (&count.description, &count.rule) {
            let _ = write!(out, "  \"{description}\"");
        }
        out.push('\n');
    }
    if report.unused.is_empty() {
        out.push_str("every allow rule was used\n");
    } else {
        let _ = writeln!(
            out,
            "allow rules with no packet since the counts started: {}",
            report.unused.join(", ")
        );
    }
    out
}

/// A node_exporter textfile: one series per rule in force and one for the
/// flows no rule matched, labelled by counter name and action, so the label
/// values are bounded by the policy's rules.
fn prometheus(report: &Report) -> String {
    let mut out = String::new();
    for (metric, help, value) in [
        (
            "bmcwall_rule_packets_total",
            "Packets each policy rule decided (first match) since its count started.",
            (|c: &Count| c.packets) as fn(&Count) -> u64,
        ),
        (
            "bmcwall_rule_bytes_total",
            "Bytes each policy rule decided (first match) since its count started.",
            |c: &Count| c.bytes,
        ),
    ] {
        let _ = writeln!(out, "# HELP {metric} {help}");
        let _ = writeln!(out, "# TYPE {metric} counter");
        for count in &report.rules {
            let _ = writeln!(
                out,
                "{metric}{{rule=\"{}\",action=\"{}\"}} {}",
                count.counter,
                count.action,
                value(count)
            );
        }
    }
    out
}
