//! The native inventory format: a YAML mapping whose `bmcs` list holds
//! entries with a name, addresses and labels.

use super::{entry, parse, vendor_problem, Locator};
use crate::diagnostic::Diagnostic;
use crate::lints::registry::Code;
use crate::resolve::policy::InventoryEntry;
use crate::source::Span;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

const SHAPE_HELP: &str =
    "an inventory is a mapping with one key, `bmcs`, holding a list of entries; see docs/language.md";

/// The top level of an inventory file.
enum Document {
    /// A mapping: the `bmcs` value if present, and every other key.
    Map {
        bmcs: Option<Spanned<List>>,
        unknown: Vec<Spanned<String>>,
    },
    /// An empty file (or one holding only comments).
    Empty,
    /// Something other than a mapping, described.
    Other(&'static str),
}

/// The value of `bmcs`.
enum List {
    Entries(Vec<Spanned<EntryNode>>),
    Empty,
    Other(&'static str),
}

/// One item of the `bmcs` list.
enum EntryNode {
    /// The entry's keys in file order, each with its location.
    Map(Vec<(Spanned<String>, Spanned<Value>)>),
    Other(&'static str),
}

/// A scalar (as text, the way labels are compared) or a list of scalars.
enum Value {
    Scalar(String),
    List(Vec<Spanned<Scalar>>),
    Other(&'static str),
}

struct Scalar(String);

/// Visits every scalar as text, the way labels are compared.
macro_rules! scalar_visits {
    ($wrap:expr) => {
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok($wrap(v.to_string()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok($wrap(v))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok($wrap(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok($wrap(v.to_string()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok($wrap(v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok($wrap(v.to_string()))
        }
    };
}

/// Visits every scalar as "not what was wanted", naming what it is.
macro_rules! scalar_is_other {
    ($other:expr) => {
        scalar_visits!(|_| $other("a single value"));
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($other("an empty value"))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($other("an empty value"))
        }
    };
}

/// Reads and drops the rest of a sequence.
fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<de::IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Reads and drops the rest of a mapping.
fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map
        .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
        .is_some()
    {}
    Ok(())
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DocumentVisitor;
        impl<'de> Visitor<'de> for DocumentVisitor {
            type Value = Document;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping with the key `bmcs`")
            }
            scalar_visits!(|_| Document::Other("a single value"));
            fn visit_unit<E: de::Error>(self) -> Result<Document, E> {
                Ok(Document::Empty)
            }
            fn visit_none<E: de::Error>(self) -> Result<Document, E> {
                Ok(Document::Empty)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Document, A::Error> {
                skip_seq(seq)?;
                Ok(Document::Other("a list"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
                let mut bmcs = None;
                let mut unknown = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    if key.value == "bmcs" {
                        bmcs = Some(map.next_value::<Spanned<List>>()?);
                    } else {
                        map.next_value::<de::IgnoredAny>()?;
                        unknown.push(key);
                    }
                }
                Ok(Document::Map { bmcs, unknown })
            }
        }
        deserializer.deserialize_any(DocumentVisitor)
    }
}

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = List;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of entries")
            }
            scalar_visits!(|_| List::Other("a single value"));
            fn visit_unit<E: de::Error>(self) -> Result<List, E> {
                Ok(List::Empty)
            }
            fn visit_none<E: de::Error>(self) -> Result<List, E> {
                Ok(List::Empty)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = seq.next_element::<Spanned<EntryNode>>()? {
                    entries.push(entry);
                }
                Ok(List::Entries(entries))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<List, A::Error> {
                skip_map(map)?;
                Ok(List::Other("a mapping"))
            }
        }
        deserializer.deserialize_any(ListVisitor)
    }
}

impl<'de> Deserialize<'de> for EntryNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = EntryNode;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping with `name` and `address` or `addresses`")
            }
            scalar_is_other!(EntryNode::Other);
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<EntryNode, A::Error> {
                skip_seq(seq)?;
                Ok(EntryNode::Other("a list"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EntryNode, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    keys.push((key, map.next_value::<Spanned<Value>>()?));
                }
                Ok(EntryNode::Map(keys))
            }
        }
        deserializer.deserialize_any(EntryVisitor)
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a single value")
            }
            scalar_visits!(Scalar);
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a single value or a list of single values")
            }
            scalar_visits!(Value::Scalar);
            fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Other("an empty value"))
            }
            fn visit_none<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Other("an empty value"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<Scalar>>()? {
                    items.push(item);
                }
                Ok(Value::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
                skip_map(map)?;
                Ok(Value::Other("a mapping"))
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// One address as written in an inventory entry.
struct Written {
    text: String,
    span: Span,
}

/// Reads a native inventory.
pub(super) fn load(locator: &Locator, diagnostics: &mut Vec<Diagnostic>) -> Vec<InventoryEntry> {
    let file = locator.file;
    let Some(document) = parse::<Document>(locator, "YAML", None, diagnostics) else {
        return Vec::new();
    };
    let mut report = |span: Span, message: String, label: &str, help: Option<String>| {
        let mut diagnostic = Diagnostic::new(Code::InventoryError, message, span, label);
        diagnostic.help = help;
        diagnostics.push(diagnostic);
    };
    let nodes = match document.value {
        Document::Map { bmcs, unknown } => {
            for key in &unknown {
                report(
                    locator.scalar(&key.referenced, &key.value),
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
                    value: List::Entries(nodes),
                    ..
                }) => nodes,
                Some(Spanned {
                    value: List::Empty, ..
                }) => Vec::new(),
                Some(Spanned {
                    value: List::Other(what),
                    referenced,
                    ..
                }) => {
                    report(
                        locator.rest_of_line(&referenced),
                        format!("`bmcs` must be a list of entries, not {what}"),
                        "not a list",
                        Some(SHAPE_HELP.into()),
                    );
                    Vec::new()
                }
                None if unknown.is_empty() => {
                    report(
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
        Document::Empty => {
            report(
                Span::new(file, 0, 0),
                "inventory is empty".into(),
                "no `bmcs` list",
                Some(SHAPE_HELP.into()),
            );
            Vec::new()
        }
        Document::Other(what) => {
            report(
                locator.rest_of_line(&document.referenced),
                format!("an inventory must be a mapping, not {what}"),
                "not a mapping",
                Some(SHAPE_HELP.into()),
            );
            Vec::new()
        }
    };
    let mut entries = Vec::new();
    for node in nodes {
        let keys = match node.value {
            EntryNode::Map(keys) => keys,
            EntryNode::Other(what) => {
                report(
                    locator.rest_of_line(&node.referenced),
                    format!("an inventory entry must be a mapping, not {what}"),
                    "not a mapping",
                    Some("write an entry as `- name: NAME` followed by `address: ADDRESS` on the next line, indented".into()),
                );
                continue;
            }
        };
        let entry_span = locator.at(&node.referenced, 1);
        let mut name: Option<(String, Span)> = None;
        let mut name_given = false;
        let mut addresses: Vec<Written> = Vec::new();
        let mut labels = BTreeMap::new();
        let mut ok = true;
        for (key, value) in keys {
            let key_span = locator.scalar(&key.referenced, &key.value);
            let location = value.referenced;
            match (key.value.as_str(), value.value) {
                ("name", Value::Scalar(text)) => {
                    name_given = true;
                    name = Some((text.clone(), locator.scalar(&location, &text)));
                }
                ("address" | "addresses", Value::Scalar(text)) => {
                    let span = locator.scalar(&location, &text);
                    addresses.push(Written { text, span });
                }
                ("addresses", Value::List(items)) => {
                    for item in items {
                        let span = locator.scalar(&item.referenced, &item.value.0);
                        addresses.push(Written {
                            text: item.value.0,
                            span,
                        });
                    }
                }
                ("address", Value::List(_)) => {
                    report(
                        locator.rest_of_line(&location),
                        "`address` takes one address, not a list".into(),
                        "a list",
                        Some("write several addresses as `addresses: [A, B]`".into()),
                    );
                    ok = false;
                }
                ("vendor", Value::Scalar(text)) => {
                    if let Some(help) = vendor_problem(&text) {
                        report(
                            locator.scalar(&location, &text),
                            format!("unknown vendor `{text}`"),
                            "not a known vendor",
                            Some(help),
                        );
                        ok = false;
                    }
                    labels.insert(key.value.clone(), BTreeSet::from([text]));
                }
                (_, Value::Scalar(text)) => {
                    labels.insert(key.value.clone(), BTreeSet::from([text]));
                }
                (key_name, Value::List(_)) => {
                    name_given |= key_name == "name";
                    report(
                        locator.rest_of_line(&location),
                        format!("`{key_name}` must be a single value, not a list"),
                        "a list",
                        Some(if key_name == "name" {
                            "an entry has exactly one name".into()
                        } else {
                            "a label has one value; selectors compare it as a string".into()
                        }),
                    );
                    ok = false;
                }
                (key_name, Value::Other(what)) => {
                    name_given |= key_name == "name";
                    let (message, label) = if what == "an empty value" {
                        (format!("`{key_name}` has no value"), "empty".to_string())
                    } else {
                        (
                            format!("`{key_name}` must be a single value, not {what}"),
                            format!("{what} given"),
                        )
                    };
                    report(key_span, message, &label, None);
                    ok = false;
                }
            }
        }
        let Some((name, name_span)) = name else {
            if !name_given {
                report(
                    entry_span,
                    "inventory entry has no `name`".into(),
                    "entry without a name",
                    Some("every entry needs a unique `name`".into()),
                );
            }
            continue;
        };
        if addresses.is_empty() && ok {
            report(
                name_span,
                format!("inventory entry `{name}` has no `address` or `addresses`"),
                "no address",
                None,
            );
            continue;
        }
        let mut written = Vec::new();
        for Written { text, span } in addresses {
            match text.parse::<IpAddr>() {
                Ok(address) => written.push((address, span)),
                Err(_) => {
                    report(
                        span,
                        format!("`{text}` is not an IP address"),
                        "bad address",
                        Some(
                            "an inventory address is one IPv4 or IPv6 address, without a prefix length"
                                .into(),
                        ),
                    );
                    ok = false;
                }
            }
        }
        if ok {
            entries.push(entry(name, name_span, written, labels));
        }
    }
    entries
}
