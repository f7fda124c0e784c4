//! The native inventory format: a YAML mapping whose `bmcs` list holds
//! entries with a name, addresses and labels.

use super::tree::{Node, Spanned, Text};
use super::{
    parse, secrets, Conventions, Field, Files, Language, Locator, Record, Reporter, Value,
};
use crate::diagnostic::Diagnostic;
use crate::resolve::policy::Labels;
use crate::source::Span;
use std::collections::{BTreeMap, HashMap};

pub(super) const CONVENTIONS: Conventions = Conventions {
    keys: &["address", "addresses"],
    noun: "inventory entry",
    required: Some("has no `address` or `addresses`"),
    all_keys: true,
    prefix_length: false,
    none_note: None,
};

const SHAPE_HELP: &str =
    "an inventory is a mapping with one key, `bmcs`, holding a list of entries; see docs/language.md";

/// Reads a native inventory.
pub(super) fn load(files: &Files, diagnostics: &mut Vec<Diagnostic>) -> Vec<Record> {
    let locator = files.locator(0);
    let Some(document) = parse(&locator, Language::of(locator.text()), None, diagnostics) else {
        return Vec::new();
    };
    let mut report = Reporter::new(diagnostics);
    let nodes = entry_nodes(&locator, document, &mut report);
    let spellings = Spellings::of(&nodes);
    let mut records = Vec::with_capacity(nodes.len());
    records.extend(
        nodes
            .into_iter()
            .filter_map(|node| read_entry(&locator, node, &spellings, &mut report)),
    );
    records
}

/// The keys that are not labels.
const FIELDS: &[&str] = &["name", "address", "addresses", "vendor"];

/// The field a key is a misspelling of: the same but for case (`Vendor`),
/// or one edit from `name` or two from the longer fields (`adress`,
/// `vendr`).
fn misspelt_field(key: &str) -> Option<&'static str> {
    FIELDS.iter().copied().find(|field| {
        let most = if field.len() <= 4 { 1 } else { 2 };
        // Lengths further apart than `most` are more edits apart.
        let near = key.chars().count().abs_diff(field.len()) <= most;
        key.eq_ignore_ascii_case(field) || near && strsim::levenshtein(key, field) <= most
    })
}

/// What is wrong with each spelling of a key used across an inventory's
/// entries, worked out once per spelling rather than once per entry: a
/// misspelt field (`adress`), or a label written `Site` in one entry and
/// `site` in the others, which is a typo, not a second label.
struct Spellings {
    wrong: HashMap<Text, Wrong>,
}

enum Wrong {
    /// The field it is a misspelling of.
    Field(&'static str),
    /// The usual spelling of a label that differs only in case, and how many
    /// entries use it.
    Case(String, usize),
}

impl Spellings {
    fn of(nodes: &[Spanned<Node>]) -> Self {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for node in nodes {
            if let Node::Map(keys) = &node.value {
                for (key, _) in keys {
                    *counts.entry(key.value.as_str()).or_default() += 1;
                }
            }
        }
        let mut by_lower: HashMap<String, BTreeMap<&str, usize>> = HashMap::new();
        for (&spelling, &count) in &counts {
            by_lower
                .entry(spelling.to_lowercase())
                .or_default()
                .insert(spelling, count);
        }
        let mut wrong = HashMap::new();
        for &spelling in counts.keys().filter(|k| !FIELDS.contains(k)) {
            // Of two spellings used as often, the usual one sorts last
            // (lower case before upper).
            let usual = by_lower[&spelling.to_lowercase()]
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(b.0)))
                .filter(|(usual, _)| **usual != spelling);
            let verdict = match (misspelt_field(spelling), usual) {
                (Some(field), _) => Wrong::Field(field),
                (None, Some((usual, &count))) => Wrong::Case(usual.to_string(), count),
                (None, None) => continue,
            };
            wrong.insert(Text::from(spelling), verdict);
        }
        Spellings { wrong }
    }

    /// What is wrong with `key` as a label, if anything.
    fn of_label(&self, key: &str) -> Option<&Wrong> {
        self.wrong.get(key)
    }
}

/// The entry nodes of the document's `bmcs` list; anything else about the
/// document's shape is reported.
fn entry_nodes(
    locator: &Locator,
    document: Spanned<Node>,
    report: &mut Reporter,
) -> Vec<Spanned<Node>> {
    let file = locator.file;
    match document.value {
        Node::Map(keys) => {
            let mut bmcs = None;
            let mut unknown = false;
            for (key, value) in keys {
                if key.value == "bmcs" {
                    bmcs = Some(value);
                    continue;
                }
                unknown = true;
                report.error(
                    locator.span(key.at),
                    format!("unknown top-level key `{}` in inventory", key.value),
                    "unknown key",
                    Some(
                        "the only top-level key of an inventory is `bmcs`, a list of entries"
                            .into(),
                    ),
                );
            }
            match bmcs {
                Some(Spanned {
                    value: Node::List(nodes),
                    ..
                }) => nodes,
                Some(Spanned {
                    value: Node::Null, ..
                }) => Vec::new(),
                Some(other) => {
                    report.error(
                        locator.rest_of_line(other.at),
                        format!(
                            "`bmcs` must be a list of entries, not {}",
                            other.value.what()
                        ),
                        "not a list",
                        Some(SHAPE_HELP.into()),
                    );
                    Vec::new()
                }
                None if !unknown => {
                    report.error(
                        Span::new(file, 0, 0),
                        "inventory has no `bmcs` list".into(),
                        "`bmcs` missing",
                        Some(SHAPE_HELP.into()),
                    );
                    Vec::new()
                }
                None => Vec::new(),
            }
        }
        Node::Null => {
            report.error(
                Span::new(file, 0, 0),
                "inventory is empty".into(),
                "no `bmcs` list",
                Some(SHAPE_HELP.into()),
            );
            Vec::new()
        }
        other => {
            report.not_a_mapping(
                locator.rest_of_line(document.at),
                "an inventory must be a mapping",
                &other,
                SHAPE_HELP,
            );
            Vec::new()
        }
    }
}

/// The record an entry node describes; `None` when something is wrong with
/// it (reported).
fn read_entry(
    locator: &Locator,
    node: Spanned<Node>,
    spellings: &Spellings,
    report: &mut Reporter,
) -> Option<Record> {
    let keys = match node.value {
        Node::Map(keys) => keys,
        other => {
            report.not_a_mapping(
                locator.rest_of_line(node.at),
                "an inventory entry must be a mapping",
                &other,
                "write an entry as `- name: NAME` followed by `address: ADDRESS` on the next line, indented",
            );
            return None;
        }
    };
    let entry_span = locator.at(node.at, 1);
    let mut parts = Parts {
        name: None,
        name_given: false,
        fields: Vec::new(),
        vendor: None,
        labels: Labels::new(),
        ok: true,
    };
    for (key, value) in keys {
        read_key(locator, (key, value), spellings, &mut parts, report);
    }
    let Parts {
        name,
        name_given,
        fields,
        vendor,
        labels,
        ok,
    } = parts;
    let Some(name) = name else {
        if !name_given {
            report.error(
                entry_span,
                "inventory entry has no `name`".into(),
                "entry without a name",
                Some("every entry needs a unique `name`".into()),
            );
        }
        return None;
    };
    ok.then_some(Record {
        name: Some(name),
        span: entry_span,
        fields,
        labels,
        vendor,
    })
}

/// What an entry's keys give, read one key at a time.
struct Parts {
    name: Option<(String, Span)>,
    /// A `name` key was written, even if its value is wrong (reported).
    name_given: bool,
    fields: Vec<(Text, Field)>,
    vendor: Option<Field>,
    labels: Labels,
    /// Nothing wrong was found.
    ok: bool,
}

/// True for a plain (unquoted) scalar that YAML reads as something other
/// than a string: a number, a boolean or a date.
fn is_plain_non_string(text: &str) -> bool {
    let number = text.parse::<f64>().is_ok()
        || text
            .strip_prefix("0x")
            .is_some_and(|hex| u64::from_str_radix(hex, 16).is_ok())
        || text
            .strip_prefix("0o")
            .is_some_and(|oct| u64::from_str_radix(oct, 8).is_ok());
    let boolean = matches!(
        text.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off"
    );
    let date = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    number || boolean || date
}

/// Reads one key of an entry into `parts`.
fn read_key(
    locator: &Locator,
    (key, value): (Spanned<Text>, Spanned<Node>),
    spellings: &Spellings,
    parts: &mut Parts,
    report: &mut Reporter,
) {
    let key_span = locator.span(key.at);
    let span = locator.span(value.at);
    let wrong = spellings.of_label(&key.value);
    if let Some(&Wrong::Field(field)) = wrong {
        report.error(
            key_span,
            format!("unknown key `{}` in an inventory entry", key.value),
            "not a known key",
            Some(format!(
                "did you mean `{field}`? (keys are case-sensitive; any other key is a label)"
            )),
        );
        parts.ok = false;
        return;
    }
    if let Some(Wrong::Case(usual, count)) = wrong {
        let count = *count;
        report.error(
            key_span,
            format!(
                "label `{}` differs only in case from `{usual}`, which {count} {} use",
                key.value,
                if count == 1 { "entry" } else { "entries" }
            ),
            "another spelling",
            Some(format!(
                "labels are case-sensitive: write `{usual}`, or a name that is not one of theirs"
            )),
        );
        parts.ok = false;
        return;
    }
    let field = Field::of(locator, &value);
    match (key.value.as_str(), value.value) {
        ("name", Node::Scalar(text)) => {
            parts.name_given = true;
            let written = &locator.text()[value.at.start.min(locator.text().len())..];
            let quoted = written.starts_with(['"', '\'']);
            if text.trim().is_empty() {
                report.error(
                    span,
                    "`name` is empty".into(),
                    "empty name",
                    Some("every entry needs a unique, non-empty `name`".into()),
                );
                parts.ok = false;
            } else if !quoted && is_plain_non_string(&text) {
                report.error(
                    span,
                    format!("`name` must be a string, not the YAML value `{text}`"),
                    "not a string",
                    Some(format!("quote it if it is the name: `name: \"{text}\"`")),
                );
                parts.ok = false;
            } else {
                parts.name = Some((text.into_string(), span));
            }
        }
        ("address", Node::Scalar(_)) => parts.fields.push((key.value, field)),
        ("addresses", Node::Scalar(_)) => {
            let list = Field {
                value: Value::List(vec![field]),
                span,
            };
            parts.fields.push((key.value, list));
        }
        ("addresses", Node::List(items)) => {
            for item in &items {
                if !matches!(item.value, Node::Scalar(_)) {
                    report.error(
                        locator.span(item.at),
                        format!(
                            "an address in `addresses` must be a single value, not {}",
                            item.value.what()
                        ),
                        "not an address",
                        None,
                    );
                    parts.ok = false;
                }
            }
            parts.fields.push((key.value, field));
        }
        ("address", Node::List(_)) => {
            report.error(
                locator.rest_of_line(value.at),
                "`address` takes one address, not a list".into(),
                "a list",
                Some("write several addresses as `addresses: [A, B]`".into()),
            );
            parts.ok = false;
        }
        ("vendor", Node::Scalar(_)) => parts.vendor = Some(field),
        (_, Node::Scalar(text)) => {
            if !secrets::is_secret(&key.value) {
                parts.labels.set(&key.value, text);
            }
            parts.fields.push((key.value, field));
        }
        (key_name, Node::List(_)) => {
            parts.name_given |= key_name == "name";
            report.error(
                locator.rest_of_line(value.at),
                format!("`{key_name}` must be a single value, not a list"),
                "a list",
                Some(if key_name == "name" {
                    "an entry has exactly one name".into()
                } else {
                    "a label has one value; selectors compare it as a string".into()
                }),
            );
            parts.ok = false;
        }
        (key_name, other) => {
            parts.name_given |= key_name == "name";
            let what = other.what();
            let (message, label) = if what == "an empty value" {
                (format!("`{key_name}` has no value"), "empty".to_string())
            } else {
                (
                    format!("`{key_name}` must be a single value, not {what}"),
                    format!("{what} given"),
                )
            };
            report.error(key_span, message, &label, None);
            parts.ok = false;
        }
    }
}
