//! Inventory YAML: BMC entries with addresses and labels.
//!
//! Every error points into the YAML file (line and column from serde-saphyr).

use super::policy::InventoryEntry;
use crate::addr::{AddrSet, IntervalSet};
use crate::diagnostic::Diagnostic;
use crate::lints::registry::Code;
use crate::source::{FileId, SourceMap, Span};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;

const VENDORS: &[&str] = &[
    "dell",
    "hpe",
    "supermicro",
    "lenovo",
    "cisco",
    "openbmc",
    "other",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    bmcs: Vec<Spanned<Entry>>,
}

/// One entry's keys in file order, each with its location.
struct Entry(Vec<(Spanned<String>, Spanned<Value>)>);

/// A scalar (as text, the way labels are compared) or a list of scalars.
enum Value {
    Scalar(String),
    List(Vec<Spanned<Scalar>>),
    Other(&'static str),
}

struct Scalar(String);

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = Entry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping with `name` and `address` or `addresses`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    keys.push((key, map.next_value::<Spanned<Value>>()?));
                }
                Ok(Entry(keys))
            }
        }
        deserializer.deserialize_map(EntryVisitor)
    }
}

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

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar")
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
                f.write_str("a scalar or a list of scalars")
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
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Value::Other("a mapping"))
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// Reads one inventory file already added to `sources`.
pub fn load(
    file: FileId,
    sources: &SourceMap,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<InventoryEntry> {
    let source = sources.file(file);
    let at = |line: u64, column: u64, len: usize| -> Span {
        let start = source.offset_of(line as usize, column as usize);
        Span::new(file, start, (start + len).min(source.text.len()))
    };
    let spanned_at = |loc: &serde_saphyr::Location, len: usize| at(loc.line(), loc.column(), len);
    let document: Document = match serde_saphyr::from_str(&source.text) {
        Ok(doc) => doc,
        Err(error) => {
            let (span, message) = match error.location() {
                Some(loc) if loc.line() > 0 => (
                    spanned_at(&loc, token_len(source, &loc)),
                    yaml_message(&error),
                ),
                _ => (Span::new(file, 0, 0), yaml_message(&error)),
            };
            diagnostics.push(Diagnostic::new(
                Code::InventoryError,
                format!("invalid inventory: {message}"),
                span,
                "here",
            ).with_help("an inventory is a mapping with one key, `bmcs`, holding a list of entries; see docs/language.md"));
            return Vec::new();
        }
    };
    let mut entries = Vec::new();
    for entry in document.bmcs {
        let entry_span = spanned_at(&entry.referenced, 1);
        let mut name: Option<(String, Span)> = None;
        let mut addresses: Vec<(String, Span)> = Vec::new();
        let mut labels = BTreeMap::new();
        let mut ok = true;
        let mut error = |span: Span, message: String, label: &str| {
            diagnostics.push(Diagnostic::new(Code::InventoryError, message, span, label));
        };
        for (key, value) in entry.value.0 {
            let key_span = spanned_at(&key.referenced, key.value.len());
            let value_span = |len: usize| spanned_at(&value.referenced, len);
            match (key.value.as_str(), value.value) {
                ("name", Value::Scalar(text)) => {
                    name = Some((text.clone(), value_span(text.len())))
                }
                ("address", Value::Scalar(text)) => {
                    let span = value_span(text.len());
                    addresses.push((text, span));
                }
                ("addresses", Value::List(items)) => {
                    for item in items {
                        let span = spanned_at(&item.referenced, item.value.0.len());
                        addresses.push((item.value.0, span));
                    }
                }
                ("addresses", Value::Scalar(text)) => {
                    let span = value_span(text.len());
                    addresses.push((text, span));
                }
                ("vendor", Value::Scalar(text)) if !VENDORS.contains(&text.as_str()) => {
                    error(
                        value_span(text.len()),
                        format!("unknown vendor `{text}`"),
                        "not a known vendor",
                    );
                    ok = false;
                }
                (_, Value::Scalar(text)) => {
                    labels.insert(key.value.clone(), text);
                }
                (_, Value::List(_)) => {
                    error(
                        key_span,
                        format!("label `{}` must be a single value, not a list", key.value),
                        "list given",
                    );
                    ok = false;
                }
                (_, Value::Other(what)) => {
                    error(
                        key_span,
                        format!("`{}` has {what}", key.value),
                        "expected a scalar",
                    );
                    ok = false;
                }
            }
        }
        let Some((name, name_span)) = name else {
            error(
                entry_span,
                "inventory entry has no `name`".into(),
                "entry without a name",
            );
            continue;
        };
        if addresses.is_empty() {
            error(
                name_span,
                format!("inventory entry `{name}` has no `address` or `addresses`"),
                "no address",
            );
            continue;
        }
        let mut set = AddrSet::empty();
        for (text, span) in &addresses {
            match text.parse::<IpAddr>() {
                Ok(IpAddr::V4(a)) => set.v4 = set.v4.union(&IntervalSet::point(u32::from(a))),
                Ok(IpAddr::V6(a)) => set.v6 = set.v6.union(&IntervalSet::point(u128::from(a))),
                Err(_) => {
                    error(
                        *span,
                        format!("`{text}` is not an IP address"),
                        "bad address",
                    );
                    ok = false;
                }
            }
        }
        if ok {
            entries.push(InventoryEntry {
                name,
                addresses: set,
                labels,
                span: name_span,
            });
        }
    }
    entries
}

/// Checks names and addresses are unique across every inventory loaded.
pub fn check_unique(entries: &[InventoryEntry], diagnostics: &mut Vec<Diagnostic>) {
    let mut names: HashMap<&str, Span> = HashMap::new();
    let mut v4: HashMap<u32, Span> = HashMap::new();
    let mut v6: HashMap<u128, Span> = HashMap::new();
    for entry in entries {
        if let Some(first) = names.insert(&entry.name, entry.span) {
            names.insert(&entry.name, first);
            diagnostics.push(
                Diagnostic::new(
                    Code::InventoryError,
                    format!("duplicate inventory name `{}`", entry.name),
                    entry.span,
                    "defined again here",
                )
                .with_related(first, "first defined here"),
            );
        }
        let mut clash = None;
        for &(a, _) in entry.addresses.v4.intervals() {
            if let Some(&first) = v4.get(&a) {
                clash = Some((std::net::Ipv4Addr::from(a).to_string(), first));
            } else {
                v4.insert(a, entry.span);
            }
        }
        for &(a, _) in entry.addresses.v6.intervals() {
            if let Some(&first) = v6.get(&a) {
                clash = Some((std::net::Ipv6Addr::from(a).to_string(), first));
            } else {
                v6.insert(a, entry.span);
            }
        }
        if let Some((address, first)) = clash {
            diagnostics.push(
                Diagnostic::new(
                    Code::InventoryError,
                    format!(
                        "address {address} of `{}` is already used by another entry",
                        entry.name
                    ),
                    entry.span,
                    "duplicate address",
                )
                .with_related(first, "entry that has it first"),
            );
        }
    }
}

/// Length of the token at a location, for a label that covers it.
fn token_len(source: &crate::source::SourceFile, loc: &serde_saphyr::Location) -> usize {
    let start = source.offset_of(loc.line() as usize, loc.column() as usize);
    source.text[start..]
        .find(['\n', ':', ',', ']'])
        .unwrap_or(source.text.len() - start)
        .max(1)
}

/// serde-saphyr's message without the location it appends.
fn yaml_message(error: &serde_saphyr::Error) -> String {
    let text = error.to_string();
    let first_line = text.lines().next().unwrap_or("").trim();
    match first_line.find(" at line ") {
        Some(i) => first_line[..i].to_string(),
        None => first_line.to_string(),
    }
}
