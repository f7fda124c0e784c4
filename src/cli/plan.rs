//! Rendering a plan: each change as the policy's names (the smallest group
//! holding the addresses), the addresses themselves, the services, and the
//! rules involved; as text for people and JSON for pipelines.

use crate::addr::service::{self, ServiceSet};
use crate::addr::AddrSet;
use crate::nft::text::field_text;
use crate::nft::Field;
use crate::plan::{Change, State};
use crate::resolve::{NamedKind, Policy};
use crate::source::SourceMap;
use serde_json::json;
use std::fmt::Write;

/// How a change reads, from the live table's state to the compiled one's.
fn heading(change: &Change) -> &'static str {
    match (change.before, change.after) {
        (_, State::Allowed) => "+ newly allowed",
        (State::Allowed, State::Denied) => "- no longer allowed",
        (State::Allowed, State::Passed) => "- no longer allowed (now outside the scope)",
        (State::Denied, State::Passed) => "~ now outside the scope (left to other tables)",
        (State::Passed, State::Denied) => "~ now denied (newly in the scope)",
        _ => "~ changed",
    }
}

/// Newly allowed, no longer allowed, other changes.
pub fn counts(changes: &[Change]) -> (usize, usize, usize) {
    let added = changes.iter().filter(|c| c.after == State::Allowed).count();
    let removed = changes
        .iter()
        .filter(|c| c.before == State::Allowed)
        .count();
    (added, removed, changes.len() - added - removed)
}

/// Named address sets of the policy, with the keywords.
fn address_names(policy: &Policy) -> Vec<(String, AddrSet)> {
    let mut names: Vec<(String, AddrSet)> = policy
        .definitions
        .iter()
        .filter_map(|d| match &d.kind {
            NamedKind::Address(_, set) if !set.is_empty() => Some((d.name.clone(), set.clone())),
            _ => None,
        })
        .collect();
    names.push(("bmcs".into(), policy.bmcs.clone()));
    names.push(("internal".into(), policy.internal.clone()));
    names.push(("internet".into(), policy.internal.complement()));
    names.push(("any".into(), AddrSet::any()));
    names
}

/// How many addresses, saturating; to pick the smallest group.
fn size(set: &AddrSet) -> u128 {
    let v4: u128 = set
        .v4
        .intervals()
        .iter()
        .map(|&(lo, hi)| u128::from(hi - lo) + 1)
        .sum();
    set.v6.intervals().iter().fold(v4, |acc, &(lo, hi)| {
        acc.saturating_add((hi - lo).saturating_add(1))
    })
}

/// The name of `set` if a group is exactly it (in the families `set` has),
/// else `in NAME` for the smallest group that holds it.
fn group(names: &[(String, AddrSet)], set: &AddrSet) -> String {
    let families = |s: &AddrSet| AddrSet {
        v4: if set.v4.is_empty() {
            Default::default()
        } else {
            s.v4.clone()
        },
        v6: if set.v6.is_empty() {
            Default::default()
        } else {
            s.v6.clone()
        },
    };
    if let Some((name, _)) = names.iter().find(|(_, s)| families(s) == *set) {
        return name.clone();
    }
    names
        .iter()
        .filter(|(_, s)| set.difference(s).is_empty())
        .min_by_key(|(_, s)| size(&families(s)))
        .map_or_else(|| "addresses".into(), |(name, _)| format!("in {name}"))
}

/// The addresses as nft writes them (address, prefix or range).
fn addresses(set: &AddrSet) -> Vec<String> {
    set.v4
        .intervals()
        .iter()
        .map(|&(lo, hi)| field_text(Field::V4(lo, hi)))
        .chain(
            set.v6
                .intervals()
                .iter()
                .map(|&(lo, hi)| field_text(Field::V6(lo, hi))),
        )
        .collect()
}

fn short(list: &[String]) -> String {
    if list.len() > 6 {
        format!("{}, and {} more", list[..5].join(", "), list.len() - 5)
    } else {
        list.join(", ")
    }
}

fn services(set: &ServiceSet) -> String {
    if *set == crate::addr::service::any() {
        "any".into()
    } else {
        service::short_words(set)
    }
}

/// The plan for people.
pub fn human(
    changes: &[Change],
    policy: &Policy,
    sources: &SourceMap,
    title: &str,
    present: bool,
) -> String {
    let names = address_names(policy);
    let (added, removed, other) = counts(changes);
    let mut out = if changes.is_empty() {
        format!("{title}: no changes\n")
    } else {
        format!("{title}: {added} newly allowed, {removed} no longer allowed, {other} other\n")
    };
    for change in changes {
        let _ = writeln!(
            out,
            "\n{}: {} -> {} : {}",
            heading(change),
            group(&names, &change.src),
            group(&names, &change.dst),
            services(&change.services)
        );
        let _ = writeln!(
            out,
            "    {} -> {}",
            short(&addresses(&change.src)),
            short(&addresses(&change.dst))
        );
        let now = match change.rule {
            Some(rule) => policy.rule_text(sources, rule),
            None if change.after == State::Passed => "outside the scope".into(),
            None => "no rule matches (denied)".into(),
        };
        let _ = writeln!(out, "    now:    {now}");
        let before = match (&change.live_rule, change.before) {
            _ if !present => "no table".to_string(),
            (Some(comment), state) => format!("{} by \"{comment}\"", state.as_str()),
            (None, state) => state.as_str().to_string(),
        };
        let _ = writeln!(out, "    before: {before}");
    }
    out
}

/// The plan for pipelines.
pub fn json(
    changes: &[Change],
    policy: &Policy,
    sources: &SourceMap,
    table: &str,
    present: bool,
) -> String {
    let names = address_names(policy);
    let (added, removed, other) = counts(changes);
    let items: Vec<serde_json::Value> = changes
        .iter()
        .map(|change| {
            let rule = change.rule.map(|r| {
                let span = policy.rules[r].span;
                let file = sources.file(span.file);
                let (line, column) = file.line_col(span.start as usize);
                json!({"file": file.display_path(), "line": line, "column": column})
            });
            json!({
                "before": change.before.as_str(),
                "after": change.after.as_str(),
                "src": {"group": group(&names, &change.src), "addresses": addresses(&change.src)},
                "dst": {"group": group(&names, &change.dst), "addresses": addresses(&change.dst)},
                "services": service::words(&change.services),
                "rule": rule,
                "live_rule": change.live_rule,
            })
        })
        .collect();
    let document = json!({
        "version": 1,
        "table": table,
        "live": if present { "present" } else { "absent" },
        "changes": items,
        "summary": {"newly_allowed": added, "no_longer_allowed": removed, "other": other},
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}
