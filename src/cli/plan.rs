//! Rendering a plan: each change as the policy's names (the smallest named
//! set holding the addresses), the addresses themselves, the services, and
//! the rules involved; as text for people and JSON for pipelines.

use crate::addr::service::{self, ServiceSet};
use crate::addr::{AddrSet, IntervalSet};
use crate::analysis::compare::{Change, State};
use crate::nft::text::addresses;
use crate::resolve::{Policy, Resolution};
use crate::source::SourceMap;
use serde::Serialize;
use serde_json::json;
use std::fmt::Write;
use std::net::IpAddr;

/// How a change reads, from the live table's state to the compiled one's.
pub(super) fn heading(change: &Change) -> &'static str {
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

pub(super) fn short(list: &[String]) -> String {
    if list.len() > 6 {
        format!("{}, and {} more", list[..5].join(", "), list.len() - 5)
    } else {
        list.join(", ")
    }
}

pub(super) fn services(set: &ServiceSet) -> String {
    if *set == crate::addr::service::any() {
        "any".into()
    } else {
        service::short_words(set)
    }
}

/// Each host name resolved when the policy was read (`resolve`), and
/// whether a change involves its addresses: a name that resolves to other
/// addresses than when the live table was compiled shows as changes of
/// those addresses, and is marked changed.
fn resolutions(changes: &[Change], policy: &Policy) -> Vec<(Resolution, bool)> {
    policy
        .resolutions()
        .into_iter()
        .map(|resolution| {
            let mut set = AddrSet::empty();
            for address in &resolution.addresses {
                match *address {
                    IpAddr::V4(a) => set.v4 = set.v4.union(&IntervalSet::point(u32::from(a))),
                    IpAddr::V6(a) => set.v6 = set.v6.union(&IntervalSet::point(u128::from(a))),
                }
            }
            let changed = changes
                .iter()
                .any(|c| c.src.intersects(&set) || c.dst.intersects(&set));
            (resolution, changed)
        })
        .collect()
}

/// The plan for people.
pub fn human(
    changes: &[Change],
    policy: &Policy,
    sources: &SourceMap,
    title: &str,
    present: bool,
) -> String {
    let names = policy.address_names();
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
            names.name(&change.src),
            names.name(&change.dst),
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
    let resolved = resolutions(changes, policy);
    if !resolved.is_empty() {
        out.push_str("\nhost names resolved when the policy was read (`resolve`):\n");
        for (resolution, changed) in &resolved {
            let addresses: Vec<String> = resolution
                .addresses
                .iter()
                .map(ToString::to_string)
                .collect();
            let mark = if *changed { "~" } else { " " };
            let note = if *changed {
                "  (changed: the live table does not match it so)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "{mark} {} -> {}{note}",
                resolution.name,
                addresses.join(", ")
            );
        }
    }
    out
}

/// The plan for pipelines, with the live table's fingerprint for
/// `apply --expect-live` (`null` for a table read from a saved listing);
/// `Err` when it cannot be written as JSON.
pub fn json(
    changes: &[Change],
    policy: &Policy,
    sources: &SourceMap,
    table: &str,
    present: bool,
    fingerprint: Option<&str>,
) -> Result<String, serde_json::Error> {
    let (added, removed, other) = counts(changes);
    let mut items = changes_json(changes, policy, sources);
    if !present {
        // As the text says: there was no table, not a table passing them.
        for item in &mut items {
            item["before"] = json!("no table");
        }
    }
    let document = json!({
        "version": 1,
        "table": table,
        "live": if present { "present" } else { "absent" },
        "live_fingerprint": fingerprint,
        "changes": items,
        "summary": {"newly_allowed": added, "no_longer_allowed": removed, "other": other},
    });
    let mut document = document;
    let resolved = resolutions(changes, policy);
    if !resolved.is_empty() {
        document["resolved"] = resolved
            .into_iter()
            .map(|(r, changed)| json!({"name": r.name, "addresses": r.addresses, "changed": changed}))
            .collect();
    }
    json_text(&document)
}

/// Each change as JSON: states, both ends by name and address, services,
/// the rule deciding it now and the comment of the rule that did before.
pub(super) fn changes_json(
    changes: &[Change],
    policy: &Policy,
    sources: &SourceMap,
) -> Vec<serde_json::Value> {
    let names = policy.address_names();
    changes
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
                "src": {"group": names.name(&change.src), "addresses": addresses(&change.src)},
                "dst": {"group": names.name(&change.dst), "addresses": addresses(&change.dst)},
                "services": service::words(&change.services),
                "rule": rule,
                "live_rule": change.live_rule,
            })
        })
        .collect()
}

/// A value as pretty JSON and a line end.
pub(super) fn json_text(value: &impl Serialize) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::json_text;
    use std::collections::BTreeMap;

    /// What cannot be JSON is an error, not an empty plan.
    #[test]
    fn a_value_that_is_not_json_is_an_error() {
        let keys_not_strings: BTreeMap<(u8, u8), u8> = BTreeMap::from([((1, 2), 3)]);
        assert!(json_text(&keys_not_strings).is_err());
        assert_eq!(json_text(&[1]).expect("JSON"), "[\n  1\n]\n");
    }
}
