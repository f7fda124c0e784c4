//! The `sets` layout: the allowed space, taken from the decision table, as
//! concatenated interval sets. Each packet meets a constant number of rules
//! whatever the policy's size: connection tracking, scope, then one set
//! lookup per region (logged allows, allows, logged denies), then drop.

use super::{
    log_statements, prelude, AddrField, FamilySpec, Field, Input, KeyType, Match, Rule, Ruleset,
    Selector, Set, Statement, LOG_ALLOW_PREFIX, LOG_DENY_PREFIX, V4, V6,
};
use crate::addr::service::{self, ServicePiece};
use crate::analysis::region::{blocks, Block};
use crate::syntax::Action;

pub(super) fn build(input: Input<'_>, table: &str) -> Ruleset {
    let Input {
        policy, analysis, ..
    } = input;
    let mut sets = Vec::new();
    let mut rules = prelude(policy, &mut sets);
    // Which cells go into a region's sets. Packets that reach the deny log
    // rule were not accepted, so allowed cells may be added there freely:
    // they cost nothing and let the region merge into far fewer elements.
    let decided_by = |action: Action, log_only: bool| {
        move |ordinal: usize| {
            let rule = &policy.rules[analysis.rules[ordinal]];
            let decides = rule.action == action && (!log_only || rule.log);
            let dont_care = action == Action::Deny && rule.action == Action::Allow;
            decides || dont_care
        }
    };
    // Order matters only for logging, which must see packets before the verdict.
    let steps: [(&str, Action, bool, Vec<Statement>); 3] = [
        (
            "log_allow",
            Action::Allow,
            true,
            log_statements(LOG_ALLOW_PREFIX),
        ),
        ("allow", Action::Allow, false, vec![Statement::Accept]),
        (
            "log_deny",
            Action::Deny,
            true,
            log_statements(LOG_DENY_PREFIX),
        ),
    ];
    // Don't-care cells alone would fill a deny-log region that no rule logs
    // into with the whole allowed space: such a region is left out.
    let logs_denies = |v4: bool| {
        policy.active_rules().any(|(_, r)| {
            let (src, dst) = if v4 {
                (!r.src.v4.is_empty(), !r.dst.v4.is_empty())
            } else {
                (!r.src.v6.is_empty(), !r.dst.v6.is_empty())
            };
            r.action == Action::Deny && r.log && src && dst
        })
    };
    for (prefix, action, log_only, statements) in steps {
        let region = |v4: bool| !(action == Action::Deny && log_only) || logs_denies(v4);
        let v4 = if region(true) {
            blocks(analysis, &analysis.v4, decided_by(action, log_only))
        } else {
            Vec::new()
        };
        let v6 = if region(false) {
            blocks(analysis, &analysis.v6, decided_by(action, log_only))
        } else {
            Vec::new()
        };
        let always = !log_only;
        for (set, matches) in family_sets(&V4, prefix, &v4, always)
            .into_iter()
            .chain(family_sets(&V6, prefix, &v6, always))
        {
            sets.push(set);
            rules.push(Rule::new(matches, statements.clone()));
        }
    }
    rules.push(Rule::new(Vec::new(), vec![Statement::Drop]));
    Ruleset {
        table: table.to_string(),
        sets,
        chains: vec![super::Chain {
            name: "forward".into(),
            base: true,
            rules,
        }],
    }
}

/// The two sets of one region in one family (TCP/UDP with ports, other
/// protocols without), with the matches that look them up. Empty sets are left
/// out unless `always`.
fn family_sets<T>(
    spec: &FamilySpec,
    prefix: &str,
    blocks: &[Block<T>],
    always: bool,
) -> Vec<(Set, Vec<Match>)>
where
    T: AddrField,
{
    let mut ported = Vec::new();
    let mut bare = Vec::new();
    for block in blocks {
        let pieces = service::pieces(&block.services);
        for &(slo, shi) in block.src.intervals() {
            for &(dlo, dhi) in block.dst.intervals() {
                let (s, d) = (T::field(slo, shi), T::field(dlo, dhi));
                for piece in &pieces {
                    match *piece {
                        ServicePiece::Ports { proto, lo, hi } => {
                            ported.push(vec![s, d, Field::Proto(proto, proto), Field::Port(lo, hi)])
                        }
                        ServicePiece::Protocols { lo, hi } => {
                            bare.push(vec![s, d, Field::Proto(lo, hi)])
                        }
                    }
                }
            }
        }
    }
    ported.sort();
    bare.sort();
    let mut out = Vec::new();
    let ports_name = format!("{prefix}_ports_{}", spec.suffix);
    if always || !ported.is_empty() {
        out.push((
            Set {
                name: ports_name.clone(),
                key: vec![
                    spec.addr,
                    spec.addr,
                    KeyType::InetProto,
                    KeyType::InetService,
                ],
                elements: ported,
            },
            vec![
                Match::L4protoIn(vec![service::TCP, service::UDP]),
                Match::InSet {
                    key: vec![spec.saddr, spec.daddr, Selector::L4proto, Selector::ThDport],
                    set: ports_name,
                    negate: false,
                },
            ],
        ));
    }
    let proto_name = format!("{prefix}_proto_{}", spec.suffix);
    if always || !bare.is_empty() {
        out.push((
            Set {
                name: proto_name.clone(),
                key: vec![spec.addr, spec.addr, KeyType::InetProto],
                elements: bare,
            },
            vec![Match::InSet {
                key: vec![spec.saddr, spec.daddr, Selector::L4proto],
                set: proto_name,
                negate: false,
            }],
        ));
    }
    out
}
