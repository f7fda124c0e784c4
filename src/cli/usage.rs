//! `bmcwall usage`: each policy rule's packets and bytes, read from the
//! named counters of a live table (or a saved `nft -j list table`), in
//! policy order, with the rules that allowed nothing. A view of the counters
//! `nft::counter_names` gives the rules; a table that names another policy
//! is refused (exit 3), so counts are never read through the wrong policy.

use super::args::{SensorArgs, UsageFormat};
use super::{checked_with_report, compilable, fleet, printed, sensor, Exit};
use crate::model::Action;
use crate::nft::{self, CounterObject, NO_RULE_COUNTER};
use crate::resolve::Policy;
use crate::source::SourceMap;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One counter of the report: a policy rule's, or the flows no rule matched.
#[derive(Clone, Serialize)]
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
    /// When this count started, seconds since 1970 (UTC): from the table
    /// (`apply` writes it), or the state's; `null` when unknown.
    since: Option<i64>,
    /// Whether this gateway's table decides any flow by the rule (a gateway
    /// enforces only the part of a rule it governs).
    #[serde(skip)]
    enforced: bool,
}

#[derive(Serialize)]
struct Report {
    /// The gateway whose table this is, when the policy declares gateways.
    #[serde(skip_serializing_if = "Option::is_none")]
    gateway: Option<String>,
    table: String,
    /// The digest of the policy the table was compiled from.
    policy: String,
    /// When the counts started, seconds since 1970 (UTC): the earliest
    /// start of a rule's count; `null` when some start is unknown (a table
    /// loaded with `nft -f`, without `--state`).
    counts_started: Option<i64>,
    rules: Vec<Count>,
    /// The allow rules with no packet since the counts started, as `file:line`.
    unused: Vec<String>,
}

/// An allow rule used on some gateways and not on others: where it is not
/// needed.
#[derive(Serialize)]
struct NotNeeded {
    rule: String,
    counter: String,
    /// The gateways (an HA pair's members joined by `+`) that enforce it
    /// without a packet.
    unused_on: Vec<String>,
}

pub(super) fn run(args: SensorArgs) -> Exit {
    let checked = match checked_with_report(&args.policy, &args.common) {
        Ok(checked) => checked,
        Err(exit) => return exit,
    };
    let (policy, _) = match compilable(&checked, "read") {
        Ok(model) => model,
        Err(_) => return Exit::Invalid,
    };
    let tables = match sensor::tables(&args, policy, &checked.sources) {
        Ok(tables) => tables,
        Err(exit) => return exit,
    };
    let now = super::now();
    let mut state = match sensor::read_state(args.state.as_deref()) {
        Ok(state) => state,
        Err(exit) => return exit,
    };
    let mut reports = Vec::new();
    for table in &tables {
        let own = table
            .gateway
            .as_deref()
            .map(|name| fleet::own(policy, fleet::gateway_index(policy, name).expect("read")).0);
        let gateway_policy = own.as_ref().unwrap_or(policy);
        let mut rules = match counts(gateway_policy, &checked.sources, &table.ruleset.counters) {
            Ok(rules) => rules,
            Err(missing) => {
                return sensor::refused(&format!(
                    "table inet {} in {} has no counter {missing}",
                    args.live.table, table.place
                ))
            }
        };
        if let Some(state) = state.as_mut() {
            let kept = state.table(table, &args.live.table, now);
            for count in &mut rules {
                let entry = kept
                    .counters
                    .entry(count.counter.clone())
                    .or_insert_with(|| sensor::Kept {
                        first_seen: count.since.unwrap_or(now),
                        last_seen: now,
                        ..sensor::Kept::default()
                    });
                (count.packets, count.bytes) =
                    entry.take(count.packets, count.bytes, count.since, now);
                count.since = Some(entry.first_seen);
            }
        }
        shares(&mut rules);
        let counts_started = rules
            .iter()
            .map(|c| c.since)
            .collect::<Option<Vec<i64>>>()
            .and_then(|starts| starts.into_iter().min());
        let unused = rules
            .iter()
            .filter(|c| c.action == "allow" && c.packets == 0 && c.enforced)
            .filter_map(|c| c.rule.clone())
            .collect();
        reports.push(Report {
            gateway: table.gateway.clone(),
            table: args.live.table.clone(),
            policy: checked.sources.digest(),
            counts_started,
            rules,
            unused,
        });
    }
    if let Some(state) = state {
        if let Err(exit) = state.write(now) {
            return exit;
        }
    }
    let text = if args.all {
        let (unused, not_needed) = fleet_unused(policy, &reports);
        match args.format {
            UsageFormat::Human => {
                crate::source::for_people(fleet_human(&reports, &tables, &unused, &not_needed))
            }
            UsageFormat::Json => {
                let document = serde_json::json!({
                    "policy": checked.sources.digest(),
                    "gateways": reports,
                    "unused": unused,
                    "not_needed": not_needed,
                });
                match serde_json::to_string_pretty(&document) {
                    Ok(text) => text + "\n",
                    Err(error) => return super::unwritten(&error),
                }
            }
            UsageFormat::Prometheus => prometheus(&reports),
        }
    } else {
        let report = &reports[0];
        match args.format {
            UsageFormat::Human => crate::source::for_people(human(report, &tables[0].place)),
            UsageFormat::Json => match serde_json::to_string_pretty(report) {
                Ok(text) => text + "\n",
                Err(error) => return super::unwritten(&error),
            },
            UsageFormat::Prometheus => prometheus(&reports),
        }
    };
    match printed(&text) {
        Ok(()) => Exit::Success,
        Err(exit) => exit,
    }
}

/// Over every gateway's report: the allow rules with no packet on any
/// gateway that enforces them, and those used on some gateways and not on
/// others (an HA pair counts as one: its members share the traffic).
fn fleet_unused(policy: &Policy, reports: &[Report]) -> (Vec<String>, Vec<NotNeeded>) {
    // Per counter: its rule, and per pair (or gateway) whether it enforces
    // the rule and how many packets it counted.
    let mut by_counter: BTreeMap<&str, (&str, BTreeMap<usize, u64>)> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for report in reports {
        let name = report.gateway.as_deref().expect("--all reads gateways");
        let target = policy.target_of(fleet::gateway_index(policy, name).expect("read"));
        for count in report
            .rules
            .iter()
            .filter(|c| c.action == "allow" && c.enforced)
        {
            let Some(rule) = count.rule.as_deref() else {
                continue;
            };
            let entry = by_counter.entry(&count.counter).or_insert_with(|| {
                order.push(&count.counter);
                (rule, BTreeMap::new())
            });
            *entry.1.entry(target).or_default() += count.packets;
        }
    }
    let group = |target: usize| -> String {
        policy
            .members_of(target)
            .map(|i| policy.gateways[i].name.as_str())
            .collect::<Vec<_>>()
            .join("+")
    };
    let mut unused = Vec::new();
    let mut not_needed = Vec::new();
    for counter in order {
        let (rule, per_target) = &by_counter[counter];
        if per_target.values().all(|&p| p == 0) {
            // A location once: a `sync` item's rules share it.
            if !unused.iter().any(|u| u == rule) {
                unused.push(rule.to_string());
            }
        } else {
            let idle: Vec<String> = per_target
                .iter()
                .filter(|(_, &p)| p == 0)
                .map(|(&t, _)| group(t))
                .collect();
            if !idle.is_empty() {
                not_needed.push(NotNeeded {
                    rule: rule.to_string(),
                    counter: counter.to_string(),
                    unused_on: idle,
                });
            }
        }
    }
    (unused, not_needed)
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
            .ok_or_else(|| name.to_string())
    };
    let mut out = Vec::new();
    for (index, rule) in policy.active_rules() {
        let counter = value(&names[index])?;
        out.push(Count {
            counter: names[index].clone(),
            rule: Some(sources.file_line(rule.span)),
            action: rule.action.as_str(),
            description: rule.description.clone(),
            packets: counter.packets,
            bytes: counter.bytes,
            share: 0.0,
            since: counter.since,
            enforced: !(rule.src.is_empty() || rule.dst.is_empty() || rule.services.is_empty()),
        });
    }
    let counter = value(NO_RULE_COUNTER)?;
    out.push(Count {
        counter: NO_RULE_COUNTER.into(),
        rule: None,
        action: Action::Deny.as_str(),
        description: Some("no rule matched".into()),
        packets: counter.packets,
        bytes: counter.bytes,
        share: 0.0,
        since: counter.since,
        enforced: true,
    });
    Ok(out)
}

/// Each count's share of all packets counted, in percent to one decimal.
fn shares(counts: &mut [Count]) {
    let total: u64 = counts.iter().map(|c| c.packets).sum();
    for count in counts {
        if total > 0 {
            count.share = (count.packets as f64 * 1000.0 / total as f64).round() / 10.0;
        }
    }
}

/// When the counts started, for the report's first line.
fn started(report: &Report) -> String {
    match report.counts_started {
        Some(since) => format!("counts since {}", crate::model::utc_text(since)),
        None => "counts since the table was loaded (when is not recorded)".into(),
    }
}

/// The report for people: one line per rule, then the unused allow rules.
fn human(report: &Report, place: &str) -> String {
    let mut out = format!(
        "table inet {} in {place}: {}\n",
        report.table,
        started(report)
    );
    rule_lines(&mut out, report);
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

fn rule_lines(out: &mut String, report: &Report) {
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
        if !count.enforced {
            out.push_str("  (not governed here)");
        }
        if let (Some(description), Some(_)) = (&count.description, &count.rule) {
            let _ = write!(out, "  \"{}\"", crate::source::escape_line(description));
        }
        out.push('\n');
    }
}

/// `--all` for people: each gateway's rules, then the fleet's unused allow
/// rules and those not needed on some gateways.
fn fleet_human(
    reports: &[Report],
    tables: &[sensor::Table],
    unused: &[String],
    not_needed: &[NotNeeded],
) -> String {
    let mut out = String::new();
    for (report, table) in reports.iter().zip(tables) {
        let gateway = report.gateway.as_deref().unwrap_or_default();
        let _ = writeln!(
            out,
            "gateway {gateway}: table inet {} in {}: {}",
            report.table,
            table.place,
            started(report)
        );
        rule_lines(&mut out, report);
    }
    if unused.is_empty() {
        out.push_str("every allow rule was used on some gateway\n");
    } else {
        let _ = writeln!(
            out,
            "allow rules with no packet on any gateway that enforces them: {}",
            unused.join(", ")
        );
    }
    for rule in not_needed {
        let _ = writeln!(
            out,
            "{} is used, but not on {}: not needed there",
            rule.rule,
            rule.unused_on.join(", ")
        );
    }
    out
}

/// A node_exporter textfile: one series per rule in force and one for the
/// flows no rule matched (per gateway with `--all`), labelled by counter
/// name and action, so the label values are bounded by the policy's rules
/// (times its gateways).
fn prometheus(reports: &[Report]) -> String {
    let mut out = String::new();
    let labels = |report: &Report, count: &Count| {
        let gateway = report
            .gateway
            .as_deref()
            .map_or(String::new(), |g| format!("gateway=\"{g}\","));
        format!(
            "{gateway}rule=\"{}\",action=\"{}\"",
            count.counter, count.action
        )
    };
    for (metric, help, value) in [
        (
            "bmcwall_rule_packets_total",
            "Packets each policy rule decided (first match) since its count started.",
            (|c: &Count| Some(c.packets as i64)) as fn(&Count) -> Option<i64>,
        ),
        (
            "bmcwall_rule_bytes_total",
            "Bytes each policy rule decided (first match) since its count started.",
            |c: &Count| Some(c.bytes as i64),
        ),
        (
            "bmcwall_counts_start_timestamp_seconds",
            "When each rule's count started (seconds since 1970); absent when unknown.",
            |c: &Count| c.since,
        ),
    ] {
        let _ = writeln!(out, "# HELP {metric} {help}");
        let kind = if metric.ends_with("_total") {
            "counter"
        } else {
            "gauge"
        };
        let _ = writeln!(out, "# TYPE {metric} {kind}");
        for report in reports {
            for count in &report.rules {
                if let Some(value) = value(count) {
                    let _ = writeln!(out, "{metric}{{{}}} {value}", labels(report, count));
                }
            }
        }
    }
    out
}
