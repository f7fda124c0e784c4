//! The `rules` layout: one nft rule per policy rule and address family (two
//! when a rule has both port-based and port-less services), in policy order,
//! so that nft's first match is the policy's first match. Each rule looks its
//! addresses and services up in named sets, counts what it matches, and names
//! its policy rule (file:line and description) in a comment. Logged rules
//! `goto` a chain that logs (rate-limited, as in the `sets` layout) and
//! decides.
//!
//! # The table
//!
//! The same prelude (connection tracking, scope), then the rules in force in policy
//! order, so nft's first match is the policy's:
//!
//! ```text
//! chain log_allow { limit rate 10/second burst 20 packets log prefix "bmcwall allow: "; accept }
//! chain log_deny  { ... drop }
//! chain forward { type filter hook forward priority filter; policy accept;
//!     ...prelude...
//!     ip saddr @admins_v4 ip daddr @rack_a_v4 meta l4proto . th dport @rule1_ports counter name "allow_5e1f09c2a7b4" accept comment "ams1.wall:16: ..."
//!     ip6 saddr @admins_v6 ip6 daddr @rack_a_v6 meta l4proto . th dport @rule1_ports counter name "allow_5e1f09c2a7b4" accept comment "..."
//!     ip saddr @jump_ams1_v4 ip daddr @bmcs_v4 meta l4proto . th dport @rule2_ports counter name "allow_0c3d..." goto log_allow comment "..."
//!     counter name "no_rule_matched" drop comment "no rule matched: denied"
//! }
//! ```
//!
//! A policy rule becomes one nft rule per family it has addresses in, two when its
//! services mix TCP/UDP ports (`inet_proto . inet_service` set) with port-less
//! protocols (`inet_proto` set); no service match when it allows every service. Sets
//! are named after the name a rule wrote (`admins` gives `admins_v4`), else after the
//! rule (`rule3_src_v4`); a name stands for one content, so rules naming the same
//! definition share its set. A logged rule goes to a chain that logs and decides, which
//! keeps it one rule and its logging rate-limited as in `sets`. Every nft rule of a
//! policy rule counts in that rule's named counter ([`super::counter_names`]), so
//! `nft list counters` shows each policy rule's packets and bytes. Comments are
//! `file:line: description`, cut to nft's 128 bytes.

use super::{
    log_chain, prelude, ruleset, text, Field, Input, KeyType, Match, Rule, Ruleset, Selector, Set,
    Statement, LOG_ALLOW_CHAIN, LOG_ALLOW_PREFIX, LOG_DENY_CHAIN, LOG_DENY_PREFIX, NO_RULE_COUNTER,
    V4, V6,
};
use crate::addr::service::{self, ServicePiece, ServiceSet};
use crate::model::Action;
use crate::resolve::PolicyRule;
use crate::source::{SourceMap, Span};
use std::collections::BTreeMap;

/// nft limits a rule comment to this many bytes.
const COMMENT_MAX: usize = 128;

pub(super) fn build(input: Input<'_>, table: &str, counters: &[String]) -> Ruleset {
    let Input {
        policy, sources, ..
    } = input;
    let mut sets = SetNames::default();
    let mut scope_sets = Vec::new();
    let mut rules = prelude(policy, &mut scope_sets);
    for set in scope_sets {
        sets.reserve(set);
    }
    let (mut logs_allow, mut logs_deny) = (false, false);
    for (index, rule) in policy.active_rules() {
        let comment = comment(sources, rule);
        let verdict = match (rule.action, rule.log) {
            (Action::Allow, false) => Statement::Accept,
            (Action::Deny, false) => Statement::Drop,
            (Action::Allow, true) => {
                logs_allow = true;
                Statement::Goto(LOG_ALLOW_CHAIN.into())
            }
            (Action::Deny, true) => {
                logs_deny = true;
                Statement::Goto(LOG_DENY_CHAIN.into())
            }
        };
        rules.extend(policy_rule(
            &mut sets,
            sources,
            index,
            rule,
            vec![Statement::NamedCounter(counters[index].clone()), verdict],
            comment,
        ));
    }
    rules.push(Rule {
        matches: Vec::new(),
        statements: vec![
            Statement::NamedCounter(NO_RULE_COUNTER.into()),
            Statement::Drop,
        ],
        comment: Some("no rule matched: denied".into()),
    });
    let mut chains = Vec::new();
    for (used, name, prefix, verdict) in [
        (
            logs_allow,
            LOG_ALLOW_CHAIN,
            LOG_ALLOW_PREFIX,
            Statement::Accept,
        ),
        (logs_deny, LOG_DENY_CHAIN, LOG_DENY_PREFIX, Statement::Drop),
    ] {
        if used {
            chains.push(log_chain(name, prefix, verdict));
        }
    }
    ruleset(table, sets.sets, chains, rules)
}

fn in_set(selector: Selector, set: &str) -> Match {
    Match::InSet {
        key: vec![selector],
        set: set.to_string(),
        negate: false,
    }
}

/// The service matches of one rule, one list per nft rule: none for every
/// service, else a lookup of TCP/UDP ports and one of port-less protocols.
fn service_matches(
    sets: &mut SetNames,
    services: &ServiceSet,
    label: &str,
    number: usize,
) -> Vec<Vec<Match>> {
    if *services == service::any() {
        return vec![Vec::new()];
    }
    let mut ports = Vec::new();
    let mut protos = Vec::new();
    for piece in service::pieces(services) {
        match piece {
            ServicePiece::Ports { proto, lo, hi } => {
                ports.push(vec![Field::Proto(proto, proto), Field::Port(lo, hi)])
            }
            ServicePiece::Protocols { lo, hi } => protos.push(vec![Field::Proto(lo, hi)]),
        }
    }
    let mut out = Vec::new();
    if !ports.is_empty() {
        let name = sets.add(
            format!("{label}_ports"),
            format!("rule{number}_ports"),
            vec![KeyType::InetProto, KeyType::InetService],
            ports,
        );
        out.push(vec![Match::InSet {
            key: vec![Selector::L4proto, Selector::ThDport],
            set: name,
            negate: false,
        }]);
    }
    if !protos.is_empty() {
        let name = sets.add(
            format!("{label}_protos"),
            format!("rule{number}_protos"),
            vec![KeyType::InetProto],
            protos,
        );
        out.push(vec![in_set(Selector::L4proto, &name)]);
    }
    out
}

/// The nft rules of policy rule `index`: one per family it has addresses in
/// (two when its services mix TCP/UDP ports with port-less protocols), each
/// looking up its sources, destinations and services in sets named in
/// `sets`, then running `statements`.
pub(super) fn policy_rule(
    sets: &mut SetNames,
    sources: &SourceMap,
    index: usize,
    rule: &PolicyRule,
    statements: Vec<Statement>,
    comment: String,
) -> Vec<Rule> {
    let number = index + 1;
    let mut rules = Vec::new();
    let services_label = rule
        .services_span
        .and_then(|span| label(sources, span))
        .unwrap_or_else(|| format!("rule{number}"));
    let service_matches = service_matches(sets, &rule.services, &services_label, number);
    for (spec, src, dst) in [
        (
            &V4,
            super::addr_fields_v4(&rule.src),
            super::addr_fields_v4(&rule.dst),
        ),
        (
            &V6,
            super::addr_fields_v6(&rule.src),
            super::addr_fields_v6(&rule.dst),
        ),
    ] {
        if src.is_empty() || dst.is_empty() {
            continue;
        }
        let mut endpoint = |role: &str, span: Span, fields: Vec<Field>| {
            let preferred = label(sources, span).unwrap_or_else(|| format!("rule{number}_{role}"));
            sets.add(
                format!("{preferred}_{}", spec.suffix),
                format!("rule{number}_{role}_{}", spec.suffix),
                vec![spec.addr],
                fields.into_iter().map(|f| vec![f]).collect(),
            )
        };
        let src_set = endpoint("src", rule.src_span, src);
        let dst_set = endpoint("dst", rule.dst_span, dst);
        for services in &service_matches {
            // An `until` rule matches only before the day after its date,
            // so the kernel stops it on time.
            let mut matches: Vec<Match> = rule
                .until
                .map(|(date, _)| Match::Time {
                    before: true,
                    at: super::expiry_second(date),
                })
                .into_iter()
                .collect();
            matches.extend([in_set(spec.saddr, &src_set), in_set(spec.daddr, &dst_set)]);
            matches.extend(services.iter().cloned());
            rules.push(Rule {
                matches,
                statements: statements.clone(),
                comment: Some(comment.clone()),
            });
        }
    }
    rules
}

/// The name an address or service expression was written as, when it is
/// one name (`admins`, `bmcs`, `redfish`), in the characters set names use.
fn label(sources: &SourceMap, span: Span) -> Option<String> {
    let text = sources.text(span).trim();
    let mut chars = text.chars();
    let is_name = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    let name = text.replace(['.', '-'], "_");
    // The recording sets' names are taken (`super::record_denied`).
    let taken = name.starts_with("recorded_bmcs") || name.starts_with("denied_");
    (is_name && !taken).then_some(name)
}

/// `file:line: description`, cut to what nft keeps.
pub(super) fn comment(sources: &SourceMap, rule: &PolicyRule) -> String {
    let mut out = sources.file_line(rule.span);
    if let Some(description) = &rule.description {
        out.push_str(": ");
        out.push_str(description);
    }
    let mut out = text::clean(&out);
    if out.len() > COMMENT_MAX {
        let mut cut = COMMENT_MAX;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

/// The table's named sets in order of first use. A name stands for one
/// content: rules naming the same definition share its set, and a name
/// already taken by other content falls back to a rule-numbered name.
#[derive(Default)]
pub(super) struct SetNames {
    pub(super) sets: Vec<Set>,
    by_name: BTreeMap<String, usize>,
    /// Put before every name added: the `sets` layout's own names never
    /// begin with it.
    prefix: &'static str,
}

impl SetNames {
    /// Names that all begin with `prefix`.
    pub(super) fn prefixed(prefix: &'static str) -> SetNames {
        SetNames {
            prefix,
            ..SetNames::default()
        }
    }

    fn reserve(&mut self, set: Set) {
        self.by_name.insert(set.name.clone(), self.sets.len());
        self.sets.push(set);
    }

    /// The name of a set with this content: `preferred` if free or holding
    /// the same content, else `fallback` (with a number if need be).
    fn add(
        &mut self,
        preferred: String,
        fallback: String,
        key: Vec<KeyType>,
        elements: Vec<Vec<Field>>,
    ) -> String {
        let prefix = self.prefix;
        let candidates = [preferred, fallback.clone()]
            .into_iter()
            .chain((2..).map(|n| format!("{fallback}_{n}")))
            .map(|name| format!("{prefix}{name}"));
        for name in candidates {
            match self.by_name.get(&name) {
                Some(&i) if self.sets[i].key == key && self.sets[i].elements == elements => {
                    return name;
                }
                Some(_) => continue,
                None => {
                    self.reserve(Set {
                        name: name.clone(),
                        key,
                        elements,
                        verdicts: None,
                        record: None,
                        counted: Vec::new(),
                    });
                    return name;
                }
            }
        }
        unreachable!("the candidate names never run out")
    }
}
