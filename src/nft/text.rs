//! The nft text form (`nft -f`), written by hand for the subset bmcwall emits.

use super::{Field, Match, Rule, Ruleset, Selector, Set, Statement};
use crate::addr::service;
use crate::addr::single_prefix;
use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Renders the file that replaces the table atomically: declaring it first makes
/// the `delete` succeed when the table does not exist yet.
pub fn render(ruleset: &Ruleset, header: &str) -> String {
    let mut out = String::new();
    for line in header.lines() {
        let _ = writeln!(out, "# {}", line.replace(['\r', '\n'], " "));
    }
    let table = &ruleset.table;
    let _ = writeln!(out, "table inet {table} {{}}");
    let _ = writeln!(out, "delete table inet {table}");
    let _ = writeln!(out, "table inet {table} {{");
    // Sets, then maps: the order the JSON form adds them in, so that both
    // forms load into the same table.
    let (sets, maps): (Vec<&Set>, Vec<&Set>) =
        ruleset.sets.iter().partition(|s| s.verdicts.is_none());
    for set in sets.into_iter().chain(maps) {
        render_set(&mut out, set);
    }
    for chain in &ruleset.chains {
        let _ = writeln!(out, "\tchain {} {{", chain.name);
        if chain.base {
            let _ = writeln!(
                out,
                "\t\ttype filter hook forward priority filter; policy accept;"
            );
        }
        for rule in &chain.rules {
            let _ = writeln!(out, "\t\t{}", rule_text(rule));
        }
        let _ = writeln!(out, "\t}}");
    }
    let _ = writeln!(out, "}}");
    out
}

fn render_set(out: &mut String, set: &Set) {
    let key: Vec<&str> = set.key.iter().map(|k| k.as_str()).collect();
    let (kind, value) = match set.verdicts {
        Some(_) => ("map", " : verdict"),
        None => ("set", ""),
    };
    let _ = writeln!(out, "\t{kind} {} {{", set.name);
    let _ = writeln!(out, "\t\ttype {}{value}", key.join(" . "));
    let _ = writeln!(out, "\t\tflags interval");
    if !set.elements.is_empty() {
        let _ = writeln!(out, "\t\telements = {{");
        let count = set.elements.len();
        for (i, element) in set.elements.iter().enumerate() {
            out.push_str("\t\t\t");
            for (j, field) in element.iter().enumerate() {
                if j > 0 {
                    out.push_str(" . ");
                }
                write_field(out, *field);
            }
            if let Some(verdict) = set.verdicts.as_ref().and_then(|v| v.get(i)) {
                out.push_str(" : ");
                out.push_str(&statement_text(verdict));
            }
            out.push_str(if i + 1 == count { "\n" } else { ",\n" });
        }
        let _ = writeln!(out, "\t\t}}");
    }
    let _ = writeln!(out, "\t}}");
}

/// A field as nft writes it: a single value, a prefix, or a range.
pub fn field_text(field: Field) -> String {
    let mut out = String::new();
    write_field(&mut out, field);
    out
}

fn write_field(out: &mut String, field: Field) {
    let _ = match field {
        Field::V4(lo, hi) => write_addr(out, lo, hi, 32, Ipv4Addr::from),
        Field::V6(lo, hi) => write_addr(out, lo, hi, 128, Ipv6Addr::from),
        Field::Proto(lo, hi) if lo == hi => write!(out, "{}", ProtoText(lo)),
        Field::Proto(lo, hi) => write!(out, "{}-{}", ProtoText(lo), ProtoText(hi)),
        Field::Port(lo, hi) if lo == hi => write!(out, "{lo}"),
        Field::Port(lo, hi) => write!(out, "{lo}-{hi}"),
    };
}

fn write_addr<T, A: std::fmt::Display>(
    out: &mut String,
    lo: T,
    hi: T,
    bits: u8,
    show: impl Fn(T) -> A,
) -> std::fmt::Result
where
    T: crate::addr::Bound + crate::addr::PrefixBits,
{
    if lo == hi {
        return write!(out, "{}", show(lo));
    }
    match single_prefix(lo, hi) {
        Some(len) if len < bits => write!(out, "{}/{len}", show(lo)),
        _ => write!(out, "{}-{}", show(lo), show(hi)),
    }
}

/// A protocol number as nft writes it: `tcp`, `udp`, else the number.
struct ProtoText(u8);

impl std::fmt::Display for ProtoText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            service::TCP => f.write_str("tcp"),
            service::UDP => f.write_str("udp"),
            other => write!(f, "{other}"),
        }
    }
}

fn selector_text(selector: Selector) -> &'static str {
    match selector {
        Selector::IpSaddr => "ip saddr",
        Selector::IpDaddr => "ip daddr",
        Selector::Ip6Saddr => "ip6 saddr",
        Selector::Ip6Daddr => "ip6 daddr",
        Selector::L4proto => "meta l4proto",
        Selector::ThDport => "th dport",
    }
}

fn rule_text(rule: &Rule) -> String {
    let mut parts: Vec<String> = Vec::new();
    for m in &rule.matches {
        parts.push(match m {
            Match::CtState(states) => {
                if states.len() == 1 {
                    format!("ct state {}", states[0])
                } else {
                    format!("ct state {{ {} }}", states.join(", "))
                }
            }
            Match::L4protoIn(protos) => {
                let names: Vec<String> = protos.iter().map(|&p| ProtoText(p).to_string()).collect();
                format!("meta l4proto {{ {} }}", names.join(", "))
            }
            Match::InSet { key, set, negate } => {
                let op = if *negate { "!= " } else { "" };
                format!("{} {op}@{set}", key_text(key))
            }
        });
    }
    for statement in &rule.statements {
        parts.push(statement_text(statement));
    }
    if let Some(comment) = &rule.comment {
        parts.push(format!("comment {}", quote(comment)));
    }
    parts.join(" ")
}

fn statement_text(statement: &Statement) -> String {
    match statement {
        Statement::Limit { per_second, burst } => {
            format!("limit rate {per_second}/second burst {burst} packets")
        }
        Statement::Log { prefix } => format!("log prefix {}", quote(prefix)),
        Statement::Counter => "counter".into(),
        Statement::Accept => "accept".into(),
        Statement::Drop => "drop".into(),
        Statement::Goto(chain) => format!("goto {chain}"),
        Statement::Jump(chain) => format!("jump {chain}"),
        Statement::Vmap { key, map } => format!("{} vmap @{map}", key_text(key)),
    }
}

fn key_text(key: &[Selector]) -> String {
    let key: Vec<&str> = key.iter().map(|s| selector_text(*s)).collect();
    key.join(" . ")
}

/// A double-quoted nft string.
pub fn quote(text: &str) -> String {
    format!("\"{}\"", clean(text))
}

/// Text that nft strings can hold: quotes and backslashes cannot be escaped
/// in nft, so they are replaced, and control characters become spaces.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}
