//! The nft JSON form (`nft -j -f`), built with the nftables crate's schema types.

use super::{Field, Hook, KeyType, Match, Rule, Ruleset, Selector, Set, Statement};
use crate::addr::{single_prefix, PrefixBits};
use nftables::expr::{self, Expression, NamedExpression};
use nftables::schema::{self, NfCmd, NfListObject, NfObject, SetTypeValue};
use nftables::stmt;
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The nft JSON could not be written: serde_json refused one of the commands.
/// Nothing is written then, rather than an empty or partial ruleset.
#[derive(Debug)]
pub struct Error(serde_json::Error);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write the nft JSON: {}", self.0)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Renders the commands that replace the table atomically: add (so the delete
/// always finds it), delete, and add with its contents.
pub fn render(ruleset: &Ruleset) -> Result<String, Error> {
    document(&objects(ruleset))
}

/// `{"nftables": [...]}` pretty-printed, each command as serde_json prints
/// it, indented into the array.
fn document<T: Serialize>(commands: &[T]) -> Result<String, Error> {
    let mut text = String::from("{\n  \"nftables\": [");
    for (i, command) in commands.iter().enumerate() {
        text.push_str(if i == 0 { "\n" } else { ",\n" });
        let command = serde_json::to_string_pretty(command).map_err(Error)?;
        for (j, line) in command.lines().enumerate() {
            if j > 0 {
                text.push('\n');
            }
            text.push_str("    ");
            text.push_str(line);
        }
    }
    text.push_str("\n  ]\n}\n");
    Ok(text)
}

/// The commands, in an order nft accepts in one transaction: sets, chains,
/// verdict maps (whose elements name chains), rules.
///
/// Everything is built with the nftables crate's schema types, but for verdict
/// maps: the crate has no `verdict` data type, so they are written with a
/// type of ours of the same shape.
fn objects(ruleset: &Ruleset) -> Vec<Command> {
    let name = ruleset.table.clone();
    let table = || schema::Table {
        family: NfFamily::INet,
        name: Cow::Owned(name.clone()),
        handle: None,
    };
    let command =
        |object: NfListObject<'static>| Command::Nft(NfObject::CmdObject(NfCmd::Add(object)));
    let mut objects = Vec::new();
    if !ruleset.resolved.is_empty() {
        let resolved: Vec<serde_json::Value> = ruleset
            .resolved
            .iter()
            .map(|r| serde_json::json!({"name": r.name, "addresses": r.addresses}))
            .collect();
        objects.push(Command::Metainfo {
            metainfo: serde_json::json!({
                "json_schema_version": 1,
                "bmcwall": {"resolved": resolved},
            }),
        });
    }
    objects.extend([
        command(NfListObject::Table(table())),
        Command::Nft(NfObject::CmdObject(NfCmd::Delete(NfListObject::Table(
            table(),
        )))),
        command(NfListObject::Table(table())),
    ]);
    // The crate's counters hold 32-bit values: added as ours.
    for counter in &ruleset.counters {
        objects.push(Command::AddCounter {
            add: CounterCommand {
                counter: CounterValue {
                    family: "inet",
                    table: name.clone(),
                    name: counter.name.clone(),
                    comment: counter.since.map(super::since_comment),
                    packets: counter.packets,
                    bytes: counter.bytes,
                },
            },
        });
    }
    for set in ruleset.sets.iter().filter(|s| s.verdicts.is_none()) {
        match set.record {
            // The crate's set has no per-element counter: written as ours.
            Some(record) => objects.push(Command::AddSet {
                add: SetCommand {
                    set: RecordSet {
                        family: "inet",
                        table: name.clone(),
                        name: set.name.clone(),
                        key: set_type_value(&set.key),
                        flags: ["timeout"],
                        size: record.size,
                        timeout: record.timeout,
                        stmt: [serde_json::json!({"counter": null})],
                        elem: recorded_elements(set),
                    },
                },
            }),
            None => objects.push(command(NfListObject::Set(Box::new(set_object(&name, set))))),
        }
    }
    for chain in &ruleset.chains {
        objects.push(command(NfListObject::Chain(schema::Chain {
            family: NfFamily::INet,
            table: Cow::Owned(name.clone()),
            name: Cow::Owned(chain.name.clone()),
            newname: None,
            handle: None,
            _type: chain.hook.map(|_| NfChainType::Filter),
            hook: chain.hook.map(|hook| match hook {
                Hook::Forward => NfHook::Forward,
                Hook::Input => NfHook::Input,
                Hook::Output => NfHook::Output,
            }),
            prio: chain.hook.map(|_| 0),
            dev: None,
            policy: chain.hook.map(|_| NfChainPolicy::Accept),
        })));
    }
    for set in &ruleset.sets {
        if let Some(verdicts) = &set.verdicts {
            objects.push(map_object(&name, set, verdicts));
        }
    }
    for chain in &ruleset.chains {
        for rule in &chain.rules {
            let ours = rule
                .matches
                .iter()
                .any(|m| matches!(m, Match::Time { .. } | Match::ReversePathMissing))
                || rule
                    .statements
                    .iter()
                    .any(|s| matches!(s, Statement::Update { .. }));
            if ours {
                objects.push(our_rule(&name, &chain.name, rule));
                continue;
            }
            let expr = rule_statements(rule)
                .into_iter()
                .filter_map(|e| match e {
                    Expr::Nft(statement) => Some(statement),
                    Expr::Time(_) | Expr::Fib(_) | Expr::Update(_) => None,
                })
                .collect();
            objects.push(command(NfListObject::Rule(schema::Rule {
                family: NfFamily::INet,
                table: Cow::Owned(name.clone()),
                chain: Cow::Owned(chain.name.clone()),
                expr: Cow::Owned(expr),
                handle: None,
                index: None,
                comment: rule.comment.clone().map(Cow::Owned),
            })));
        }
    }
    objects
}

/// A rule with a `meta time` match, which the crate has no key for, or a
/// `fib` match, whose flags the crate keeps in a hash set (written in no
/// fixed order): written with a type of ours of the crate's rule's shape.
fn our_rule(table: &str, chain: &str, rule: &Rule) -> Command {
    Command::AddRule {
        add: RuleCommand {
            rule: RuleObject {
                family: "inet",
                table: table.to_string(),
                chain: chain.to_string(),
                expr: rule_statements(rule),
                comment: rule.comment.clone(),
            },
        },
    }
}

#[derive(Serialize)]
struct RuleCommand {
    rule: RuleObject,
}

#[derive(Serialize)]
struct RuleObject {
    family: &'static str,
    table: String,
    chain: String,
    expr: Vec<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

/// One expression of a rule: the crate's, a `meta time` or a `fib` match.
#[derive(Serialize)]
#[serde(untagged)]
enum Expr {
    Nft(stmt::Statement<'static>),
    Time(TimeMatch),
    Fib(FibMatch),
    Update(UpdateStatement),
}

/// `{"set": {"op": "update", "elem": KEY, "set": "@NAME"}}`.
#[derive(Serialize)]
struct UpdateStatement {
    set: UpdateBody,
}

#[derive(Serialize)]
struct UpdateBody {
    op: &'static str,
    elem: Expression<'static>,
    set: String,
}

#[derive(Serialize)]
struct SetCommand {
    set: RecordSet,
}

/// A recording set: filled by the packet path, bounded, a counter per element.
#[derive(Serialize)]
struct RecordSet {
    family: &'static str,
    table: String,
    name: String,
    #[serde(rename = "type")]
    key: SetTypeValue<'static>,
    flags: [&'static str; 1],
    size: u32,
    timeout: u32,
    stmt: [serde_json::Value; 1],
    /// Elements carried over from the table this one replaces.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    elem: Vec<serde_json::Value>,
}

/// A recording set's carried elements as nft's JSON writes them: the key,
/// what it counted and the seconds it has left.
fn recorded_elements(set: &Set) -> Vec<serde_json::Value> {
    set.elements
        .iter()
        .zip(&set.counted)
        .map(|(element, counted)| {
            let val = serde_json::to_value(element_expr(element)).unwrap_or_default();
            serde_json::json!({"elem": {
                "val": val,
                "expires": counted.expires,
                "counter": {"packets": counted.packets, "bytes": counted.bytes},
            }})
        })
        .collect()
}

/// `{"match": {"op": "==", "left": {"fib": {"result": "oif", "flags":
/// ["saddr", "iif"]}}, "right": false}}`: `fib saddr . iif oif missing`.
#[derive(Serialize)]
struct FibMatch {
    #[serde(rename = "match")]
    body: FibBody,
}

#[derive(Serialize)]
struct FibBody {
    op: &'static str,
    left: FibLeft,
    right: bool,
}

#[derive(Serialize)]
struct FibLeft {
    fib: FibKey,
}

#[derive(Serialize)]
struct FibKey {
    result: &'static str,
    flags: [&'static str; 2],
}

/// `{"match": {"op": "<", "left": {"meta": {"key": "time"}}, "right": SECONDS}}`.
#[derive(Serialize)]
struct TimeMatch {
    #[serde(rename = "match")]
    body: TimeBody,
}

#[derive(Serialize)]
struct TimeBody {
    op: &'static str,
    left: MetaTime,
    right: i64,
}

#[derive(Serialize)]
struct MetaTime {
    meta: MetaTimeKey,
}

#[derive(Serialize)]
struct MetaTimeKey {
    key: &'static str,
}

/// One command of the document.
#[derive(Serialize)]
#[serde(untagged)]
enum Command {
    /// `{"metainfo": ...}`, which nft reads past: what bmcwall says about
    /// the document.
    Metainfo {
        metainfo: serde_json::Value,
    },
    Nft(NfObject<'static>),
    /// `{"add": {"map": ...}}`.
    AddMap {
        add: MapCommand,
    },
    /// `{"add": {"rule": ...}}` for a rule the crate cannot write.
    AddRule {
        add: RuleCommand,
    },
    /// `{"add": {"set": ...}}` for a recording set.
    AddSet {
        add: SetCommand,
    },
    /// `{"add": {"counter": ...}}` with 64-bit values.
    AddCounter {
        add: CounterCommand,
    },
}

#[derive(Serialize)]
struct CounterCommand {
    counter: CounterValue,
}

/// A named counter object and the values it starts from.
#[derive(Serialize)]
struct CounterValue {
    family: &'static str,
    table: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    packets: u64,
    bytes: u64,
}

#[derive(Serialize)]
struct MapCommand {
    map: MapObject,
}

/// A verdict map, its keys in nft's order.
#[derive(Serialize)]
struct MapObject {
    family: &'static str,
    table: String,
    name: String,
    #[serde(rename = "type")]
    key: SetTypeValue<'static>,
    map: &'static str,
    flags: [&'static str; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    elem: Vec<(Expression<'static>, stmt::Statement<'static>)>,
}

fn map_object(table: &str, set: &Set, verdicts: &[Statement]) -> Command {
    Command::AddMap {
        add: MapCommand {
            map: MapObject {
                family: "inet",
                table: table.to_string(),
                name: set.name.clone(),
                key: set_type_value(&set.key),
                map: "verdict",
                flags: ["interval"],
                elem: set
                    .elements
                    .iter()
                    .zip(verdicts)
                    .map(|(element, verdict)| (element_expr(element), verdict_stmt(verdict)))
                    .collect(),
            },
        },
    }
}

/// A map element's verdict as nft's JSON writes it (`{"accept": null}`,
/// `{"goto": {"target": ...}}`): the statement, not the crate's verdict
/// expression, which is written as a bare string nft does not read there.
fn verdict_stmt(verdict: &Statement) -> stmt::Statement<'static> {
    let target = |chain: &String| stmt::JumpTarget {
        target: Cow::Owned(chain.clone()),
    };
    match verdict {
        Statement::Accept => stmt::Statement::Accept(None),
        Statement::Drop => stmt::Statement::Drop(None),
        Statement::Goto(chain) => stmt::Statement::Goto(target(chain)),
        Statement::Jump(chain) => stmt::Statement::Jump(target(chain)),
        other => unreachable!("a map element's verdict is {other:?}"),
    }
}

fn set_type(key: KeyType) -> schema::SetType {
    match key {
        KeyType::Ipv4Addr => schema::SetType::Ipv4Addr,
        KeyType::Ipv6Addr => schema::SetType::Ipv6Addr,
        KeyType::InetProto => schema::SetType::InetProto,
        KeyType::InetService => schema::SetType::InetService,
    }
}

fn set_type_value(key: &[KeyType]) -> SetTypeValue<'static> {
    if key.len() == 1 {
        SetTypeValue::Single(set_type(key[0]))
    } else {
        SetTypeValue::Concatenated(Cow::Owned(key.iter().map(|k| set_type(*k)).collect()))
    }
}

fn element_expr(element: &[Field]) -> Expression<'static> {
    one_or_concat(element, |f| field_expr(*f))
}

/// One expression, or the concatenation of several.
fn one_or_concat<T>(items: &[T], expr: impl Fn(&T) -> Expression<'static>) -> Expression<'static> {
    match items {
        [one] => expr(one),
        many => Expression::Named(NamedExpression::Concat(many.iter().map(expr).collect())),
    }
}

fn set_object(table: &str, set: &Set) -> schema::Set<'static> {
    let set_type = set_type_value(&set.key);
    let elements: Vec<Expression<'static>> = set.elements.iter().map(|e| element_expr(e)).collect();
    schema::Set {
        family: NfFamily::INet,
        table: Cow::Owned(table.to_string()),
        name: Cow::Owned(set.name.clone()),
        handle: None,
        set_type,
        policy: None,
        flags: Some(HashSet::from([schema::SetFlag::Interval])),
        elem: (!elements.is_empty()).then(|| Cow::Owned(elements)),
        timeout: None,
        gc_interval: None,
        size: None,
        comment: None,
    }
}

fn field_expr(field: Field) -> Expression<'static> {
    match field {
        Field::V4(lo, hi) => addr_expr(lo, hi, |a| Ipv4Addr::from(a).to_string()),
        Field::V6(lo, hi) => addr_expr(lo, hi, |a| Ipv6Addr::from(a).to_string()),
        Field::Proto(lo, hi) => number_range(u32::from(lo), u32::from(hi)),
        Field::Port(lo, hi) => number_range(u32::from(lo), u32::from(hi)),
    }
}

fn addr_expr<T>(lo: T, hi: T, show: impl Fn(T) -> String) -> Expression<'static>
where
    T: crate::addr::Bound + PrefixBits,
{
    if lo == hi {
        return Expression::String(Cow::Owned(show(lo)));
    }
    match single_prefix(lo, hi) {
        Some(len) => Expression::Named(NamedExpression::Prefix(expr::Prefix {
            addr: Box::new(Expression::String(Cow::Owned(show(lo)))),
            len: u32::from(len),
        })),
        _ => Expression::Range(Box::new(expr::Range {
            range: [
                Expression::String(Cow::Owned(show(lo))),
                Expression::String(Cow::Owned(show(hi))),
            ],
        })),
    }
}

fn number_range(lo: u32, hi: u32) -> Expression<'static> {
    if lo == hi {
        Expression::Number(lo)
    } else {
        Expression::Range(Box::new(expr::Range {
            range: [Expression::Number(lo), Expression::Number(hi)],
        }))
    }
}

fn selector_expr(selector: Selector) -> Expression<'static> {
    let payload = |protocol: &'static str, field: &'static str| {
        Expression::Named(NamedExpression::Payload(expr::Payload::PayloadField(
            expr::PayloadField {
                protocol: Cow::Borrowed(protocol),
                field: Cow::Borrowed(field),
            },
        )))
    };
    match selector {
        Selector::IpSaddr => payload("ip", "saddr"),
        Selector::IpDaddr => payload("ip", "daddr"),
        Selector::Ip6Saddr => payload("ip6", "saddr"),
        Selector::Ip6Daddr => payload("ip6", "daddr"),
        Selector::ThDport => payload("th", "dport"),
        Selector::L4proto => Expression::Named(NamedExpression::Meta(expr::Meta {
            key: expr::MetaKey::L4proto,
        })),
    }
}

fn key_expr(key: &[Selector]) -> Expression<'static> {
    one_or_concat(key, |s| selector_expr(*s))
}

fn rule_statements(rule: &Rule) -> Vec<Expr> {
    let mut out = Vec::new();
    for m in &rule.matches {
        if let Match::Time { before, at } = m {
            out.push(Expr::Time(TimeMatch {
                body: TimeBody {
                    op: if *before { "<" } else { ">=" },
                    left: MetaTime {
                        meta: MetaTimeKey { key: "time" },
                    },
                    right: *at,
                },
            }));
            continue;
        }
        out.push(Expr::Nft(match m {
            Match::CtState(states) => stmt::Statement::Match(stmt::Match {
                left: Expression::Named(NamedExpression::CT(expr::CT {
                    key: Cow::Borrowed("state"),
                    family: None,
                    dir: None,
                })),
                // As the text form writes it (`ct state { a, b }`), so that
                // both forms load into the same expressions.
                right: if states.len() == 1 {
                    Expression::String(Cow::Borrowed(states[0]))
                } else {
                    Expression::Named(NamedExpression::Set(
                        states
                            .iter()
                            .map(|s| expr::SetItem::Element(Expression::String(Cow::Borrowed(*s))))
                            .collect(),
                    ))
                },
                op: if states.len() == 1 {
                    stmt::Operator::IN
                } else {
                    stmt::Operator::EQ
                },
            }),
            Match::L4protoIn(protos) | Match::L4protoNotIn(protos) => {
                stmt::Statement::Match(stmt::Match {
                    left: selector_expr(Selector::L4proto),
                    right: Expression::Named(NamedExpression::Set(
                        protos
                            .iter()
                            .map(|&p| expr::SetItem::Element(Expression::Number(u32::from(p))))
                            .collect(),
                    )),
                    op: if matches!(m, Match::L4protoIn(_)) {
                        stmt::Operator::EQ
                    } else {
                        stmt::Operator::NEQ
                    },
                })
            }
            Match::InSet { key, set, negate } => stmt::Statement::Match(stmt::Match {
                left: key_expr(key),
                right: Expression::String(Cow::Owned(format!("@{set}"))),
                op: if *negate {
                    stmt::Operator::NEQ
                } else {
                    stmt::Operator::EQ
                },
            }),
            Match::Loopback { input } => stmt::Statement::Match(stmt::Match {
                left: Expression::Named(NamedExpression::Meta(expr::Meta {
                    key: if *input {
                        expr::MetaKey::Iifname
                    } else {
                        expr::MetaKey::Oifname
                    },
                })),
                right: Expression::String(Cow::Borrowed("lo")),
                op: stmt::Operator::EQ,
            }),
            Match::NeighbourDiscovery => stmt::Statement::Match(stmt::Match {
                left: Expression::Named(NamedExpression::Payload(expr::Payload::PayloadField(
                    expr::PayloadField {
                        protocol: Cow::Borrowed("icmpv6"),
                        field: Cow::Borrowed("type"),
                    },
                ))),
                right: Expression::Named(NamedExpression::Set(
                    super::ND_TYPES
                        .iter()
                        .map(|t| expr::SetItem::Element(Expression::String(Cow::Borrowed(*t))))
                        .collect(),
                )),
                op: stmt::Operator::EQ,
            }),
            Match::ReversePathMissing => {
                out.push(Expr::Fib(FibMatch {
                    body: FibBody {
                        op: "==",
                        left: FibLeft {
                            fib: FibKey {
                                result: "oif",
                                flags: ["saddr", "iif"],
                            },
                        },
                        right: false,
                    },
                }));
                continue;
            }
            Match::Time { .. } => continue,
        }));
    }
    for statement in &rule.statements {
        if let Statement::Update { key, set } = statement {
            out.push(Expr::Update(UpdateStatement {
                set: UpdateBody {
                    op: "update",
                    elem: key_expr(key),
                    set: format!("@{set}"),
                },
            }));
            continue;
        }
        out.push(Expr::Nft(match statement {
            Statement::Limit { per_second, burst } => stmt::Statement::Limit(stmt::Limit {
                rate: *per_second,
                rate_unit: None,
                per: Some(Cow::Borrowed("second")),
                burst: Some(*burst),
                burst_unit: Some(Cow::Borrowed("packets")),
                inv: None,
            }),
            Statement::Log { prefix } => stmt::Statement::Log(Some(stmt::Log {
                prefix: Some(Cow::Owned(prefix.clone())),
                group: None,
                snaplen: None,
                queue_threshold: None,
                level: None,
                flags: None,
            })),
            Statement::Counter => stmt::Statement::Counter(stmt::Counter::Anonymous(None)),
            Statement::NamedCounter(name) => {
                stmt::Statement::Counter(stmt::Counter::Named(Cow::Owned(name.clone())))
            }
            Statement::Accept => stmt::Statement::Accept(None),
            Statement::Drop => stmt::Statement::Drop(None),
            Statement::Goto(chain) => stmt::Statement::Goto(stmt::JumpTarget {
                target: Cow::Owned(chain.clone()),
            }),
            Statement::Jump(chain) => stmt::Statement::Jump(stmt::JumpTarget {
                target: Cow::Owned(chain.clone()),
            }),
            Statement::Vmap { key, map } => stmt::Statement::VerdictMap(stmt::VerdictMap {
                key: key_expr(key),
                data: Expression::String(Cow::Owned(format!("@{map}"))),
            }),
            Statement::Update { .. } => continue,
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_command_serde_json_refuses_fails_the_whole_document() {
        // JSON object keys are strings: serde_json refuses a map keyed by pairs.
        let unwritable = BTreeMap::from([((1u8, 2u8), 3u8)]);
        let error = document(&[unwritable]).expect_err("an unwritable command");
        assert!(
            error.to_string().starts_with("cannot write the nft JSON: "),
            "{error}"
        );
    }

    #[test]
    fn commands_are_indented_into_the_array() {
        let text = document(&[BTreeMap::from([("add", 1)])]).expect("writable");
        assert_eq!(
            text,
            "{\n  \"nftables\": [\n    {\n      \"add\": 1\n    }\n  ]\n}\n"
        );
    }
}
