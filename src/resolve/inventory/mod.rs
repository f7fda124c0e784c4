//! Inventories: BMC entries with addresses and labels, read from the files
//! people keep: bmcwall's own YAML (`native.rs`), Ansible inventories
//! (`ansible/`), NetBox exports (`netbox.rs`), CSV (`csv.rs`), and the files
//! of provisioning tools (`machines/`: metal3, OpenShift, Ironic, TripleO,
//! Warewulf).
//!
//! Every format is read the same way. A reader turns its file into
//! [`Record`]s: one per host, device or node, each with its name, its fields
//! (where the address is looked up) and its labels, every value located in
//! the file. Everything else happens once, here, for every format: the
//! address is found (`address KEY`, or the format's keys in their order),
//! read as written (an IP address, a URL, a host name to resolve), the
//! vendor compared without case, and an inventory that yields no BMC
//! reported. [`check_unique`] then holds names and addresses across every
//! inventory of the policy.
//!
//! When `format` is not given, `detect.rs` tells the format from the
//! content; when it is given and the file is plainly something else, that is
//! the one error reported. Values of keys that hold secrets are masked in the
//! text kept for diagnostics (`secrets.rs`), so no output can quote them.

mod address;
mod ansible;
mod confusable;
mod csv;
mod detect;
mod machines;
mod native;
mod netbox;
mod secrets;
mod tree;

use super::policy::{InventoryEntry, InventorySummary, Labels, Resolution};
use super::Root;
use crate::addr::{AddrSet, IntervalSet};
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::resolve::Cache;
use crate::source::{normalize, FileId, Open, SourceFile, SourceMap, Span};
use crate::syntax::{InventoryFormat, InventorySpec};
use address::Address;
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;
use tree::{At, Node, Spanned, Text};

/// The values the `vendor` label may take.
pub(in crate::resolve) const VENDORS: &[&str] = &[
    "dell",
    "hpe",
    "supermicro",
    "lenovo",
    "cisco",
    "openbmc",
    "other",
];

/// How one inventory is to be read: the `inventory` statement's options.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    /// `None`: detected from the content.
    pub format: Option<InventoryFormat>,
    /// `address KEY`: the variable or field (a dotted path) that holds the
    /// BMC's address; `inventory_hostname` for the host's own name.
    pub address: Option<String>,
    /// Host names are resolved through the system resolver.
    pub resolve: bool,
}

impl Request {
    pub fn of(spec: &InventorySpec) -> Self {
        Self {
            format: spec.format,
            address: spec.address.as_ref().map(|key| key.name.clone()),
            resolve: spec.resolve,
        }
    }
}

/// An inventory read and parsed before it has its place in the source map:
/// its entries' and diagnostics' spans point at placeholder files until
/// [`Parsed::place`] adds the files.
#[derive(Clone)]
pub struct Parsed {
    sources: Vec<SourceFile>,
    entries: Vec<InventoryEntry>,
    diagnostics: Vec<Diagnostic>,
    summary: InventorySummary,
    /// Why the inventory yields no BMC, when that is all that is wrong.
    empty: Option<Empty>,
    /// The number of the parse, when a cache keeps it.
    pub(in crate::resolve) kept: Option<u64>,
}

/// An inventory without a BMC: said at the `inventory` statement, where
/// `address KEY` would be added.
#[derive(Clone)]
pub struct Empty {
    pub message: String,
    pub help: String,
}

/// The placeholder of the `index`th file of an inventory.
fn unplaced(index: usize) -> FileId {
    FileId(u32::MAX - index as u32)
}

impl Parsed {
    /// Adds the files to `sources` and the diagnostics to `diagnostics`, and
    /// returns the entries (their spans now in the files), what was read,
    /// and why there is no BMC, if there is none.
    pub fn place(
        self,
        sources: &mut SourceMap,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> (Vec<InventoryEntry>, InventorySummary, Option<Empty>) {
        let count = self.sources.len();
        let files: Vec<FileId> = self.sources.into_iter().map(|f| sources.push(f)).collect();
        let place = |span: &mut Span| {
            let index = (u32::MAX - span.file.0) as usize;
            if index < count {
                span.file = files[index];
            }
        };
        let mut entries = self.entries;
        for entry in &mut entries {
            place(&mut entry.span);
            for (_, span) in &mut entry.written {
                place(span);
            }
        }
        for mut diagnostic in self.diagnostics {
            for label in &mut diagnostic.labels {
                place(&mut label.span);
            }
            diagnostics.push(diagnostic);
        }
        (entries, self.summary, self.empty)
    }
}

/// Reads and parses the inventory at `path` (a file, or for Ansible a
/// directory, whose every file and directory read must be inside `root`),
/// each file from its open buffer in `open` where it has one.
/// With a `cache`, an inventory whose files read as they did the last time
/// is not parsed again: the cache's copy is the result.
pub fn read(
    path: &Path,
    request: &Request,
    open: &Open,
    cache: Option<&Cache>,
    root: &Root,
) -> std::io::Result<Parsed> {
    let gathered = gather(path, request, open, root)?;
    let Some(cache) = cache else {
        return Ok(parse_files(path, request, gathered));
    };
    if let Some(kept) = cache.get(path, request, gathered.files.texts()) {
        return Ok(kept);
    }
    let texts = gathered
        .files
        .texts()
        .map(|(path, text)| (path.to_path_buf(), text.to_string()))
        .collect();
    let mut parsed = parse_files(path, request, gathered);
    cache.keep(path, request, texts, &mut parsed);
    Ok(parsed)
}

/// The files of one inventory, read, and what the first looks like.
struct Gathered {
    files: Files,
    looks: detect::Looks,
}

/// Reads the files of the inventory at `path`: the file, or the files of
/// an Ansible directory, and for an Ansible file the variables beside it.
fn gather(path: &Path, request: &Request, open: &Open, root: &Root) -> std::io::Result<Gathered> {
    let mut files = Files {
        open: Open::clone(open),
        ..Files::default()
    };
    let is_dir = std::fs::metadata(path)?.is_dir();
    if is_dir {
        ansible::gather_directory(path, root, &mut files)?;
    } else {
        files.read(path)?;
    }
    let looks = if is_dir {
        detect::Looks::Format(InventoryFormat::Ansible, "an Ansible inventory directory")
    } else {
        detect::detect(&files.sources[0].text)
    };
    let format = match (request.format, &looks) {
        (Some(format), _) => Some(format),
        (None, detect::Looks::Format(format, _)) => Some(*format),
        (None, _) => None,
    };
    if format == Some(InventoryFormat::Ansible) && !is_dir {
        ansible::gather_vars_beside(path, root, &mut files)?;
    }
    Ok(Gathered { files, looks })
}

/// Parses and checks the files of the inventory at `path`.
fn parse_files(path: &Path, request: &Request, gathered: Gathered) -> Parsed {
    let Gathered { mut files, looks } = gathered;
    let mut summary = InventorySummary {
        path: normalize(path),
        format: "unknown",
        detected: None,
        bmcs: 0,
        resolved: Vec::new(),
    };
    // A file that is not text is nothing else either.
    if !files.invalid.is_empty() {
        let invalid = std::mem::take(&mut files.invalid);
        return files.finish(Vec::new(), invalid, summary, None, None);
    }
    let mut diagnostics = Vec::new();
    let format = match (request.format, &looks) {
        (Some(format), _) => Some(format),
        (None, detect::Looks::Format(format, _)) => Some(*format),
        (None, other) => {
            let locator = files.locator(0);
            locator.not_read();
            diagnostics.push(detect::undetected(&locator, other));
            None
        }
    };
    summary.format = format.map_or("unknown", InventoryFormat::name);
    summary.detected = match (request.format, &looks) {
        (None, detect::Looks::Format(_, what)) => Some(what),
        _ => None,
    };
    let Some(format) = format else {
        return files.finish(Vec::new(), diagnostics, summary, None, None);
    };
    let reader = Reader::of(format);
    let mut found = Vec::new();
    let records = (reader.load)(&files, &mut found);
    // A file that is plainly something else gets one error saying so, not
    // one per key the reader did not expect, nor "no BMC".
    let reader_failed = found.iter().any(|d| d.severity == Severity::Error);
    let plainly_other = matches!(looks, detect::Looks::Other(_));
    if request.format.is_some() && (reader_failed || records.is_empty() || plainly_other) {
        let locator = files.locator(0);
        if let Some(diagnostic) = detect::mismatch(&locator, format, &looks) {
            locator.not_read();
            found = vec![diagnostic];
            return files.finish(Vec::new(), found, summary, None, Some(format));
        }
    }
    diagnostics.extend(found);
    let mut report = Reporter::once_per_location(&mut diagnostics);
    let checker = Checker {
        conventions: &reader.conventions,
        request,
    };
    let mut entries = Vec::with_capacity(records.len());
    let mut records = records;
    for record in &mut records {
        if let Some(entry) = checker.entry(record, &mut report, &mut summary.resolved) {
            entries.push(entry);
        }
    }
    let empty = (entries.is_empty() && !diagnostics.iter().any(|d| d.severity == Severity::Error))
        .then(|| checker.empty(&records));
    summary.bmcs = entries.len();
    summary.resolved.sort_by(|a, b| a.name.cmp(&b.name));
    summary.resolved.dedup_by(|a, b| a.name == b.name);
    files.finish(entries, diagnostics, summary, empty, Some(format))
}

/// The files of one inventory (one, or for an Ansible directory several),
/// each known by its placeholder id.
#[derive(Default)]
struct Files {
    sources: Vec<SourceFile>,
    /// Per file: it is not what it was read as (not text, not an inventory
    /// of its format), so its snippets show labelled lines only.
    not_read: Vec<Cell<bool>>,
    /// A byte no inventory holds (one that is not UTF-8, a NUL), at its
    /// place in the file, for each file that has one.
    invalid: Vec<Diagnostic>,
    /// The editor's buffers that stand for files.
    open: Open,
}

impl Files {
    /// Adds a file; returns its index.
    fn add(&mut self, path: &Path, text: String) -> usize {
        self.sources.push(SourceFile::new(normalize(path), text));
        self.not_read.push(Cell::new(false));
        self.sources.len() - 1
    }

    /// Reads the file at `path` (its open buffer, if it has one) and adds
    /// it; returns its index. A byte that is not UTF-8 or a NUL byte is an
    /// error at its place in the file (the first of them), whose text is
    /// then kept with each byte that is not UTF-8 shown as U+FFFD.
    fn read(&mut self, path: &Path) -> std::io::Result<usize> {
        let (text, not_utf8) = match crate::resolve::files::open_text(&self.open, path) {
            Some(text) => (text, None),
            None => match String::from_utf8(crate::resolve::read_bytes(path)?) {
                Ok(text) => (text, None),
                Err(error) => {
                    let at = error.utf8_error().valid_up_to();
                    let byte = error.as_bytes()[at];
                    let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
                    (text, Some((at, byte)))
                }
            },
        };
        let before = not_utf8.map_or(text.len(), |(at, _)| at);
        let nul = text[..before].find('\0');
        let index = self.add(path, text);
        let file = unplaced(index);
        let invalid = match (nul, not_utf8) {
            (Some(at), _) => Some(Diagnostic::new(
                Code::InventoryError,
                "inventory holds a NUL byte: an inventory is text",
                Span::new(file, at, at + 1),
                "a NUL byte",
            )),
            (None, Some((at, byte))) => Some(
                Diagnostic::new(
                    Code::InventoryError,
                    format!("inventory is not UTF-8 text: the byte 0x{byte:02x} is not UTF-8"),
                    Span::new(file, at, at + '\u{fffd}'.len_utf8()),
                    "not UTF-8",
                )
                .with_help("an inventory is UTF-8 text: save the file as UTF-8"),
            ),
            (None, None) => None,
        };
        if let Some(invalid) = invalid {
            self.not_read[index].set(true);
            self.invalid.push(invalid);
        }
        Ok(index)
    }

    /// Each file's path and text, as read.
    fn texts(&self) -> impl Iterator<Item = (&Path, &str)> {
        self.sources
            .iter()
            .map(|file| (file.path.as_path(), file.text.as_str()))
    }

    fn len(&self) -> usize {
        self.sources.len()
    }

    fn locator(&self, index: usize) -> Locator<'_> {
        Locator {
            file: unplaced(index),
            source: &self.sources[index],
            not_read: &self.not_read[index],
        }
    }

    /// The result of reading these files, their secrets masked.
    fn finish(
        self,
        entries: Vec<InventoryEntry>,
        diagnostics: Vec<Diagnostic>,
        summary: InventorySummary,
        empty: Option<Empty>,
        format: Option<InventoryFormat>,
    ) -> Parsed {
        let mut secret_values = Vec::new();
        let sources = self
            .sources
            .into_iter()
            .zip(self.not_read)
            .map(|(file, not_read)| {
                let (text, values) = secrets::mask(file.text, format);
                secret_values.extend(values);
                let mut file = SourceFile::new(file.path, text);
                file.labelled_lines_only = not_read.get();
                file
            })
            .collect();
        // A message that quotes the file quotes no secret either.
        let mut diagnostics = diagnostics;
        if !secret_values.is_empty() {
            for diagnostic in &mut diagnostics {
                diagnostic.message = secrets::mask_in(&diagnostic.message, &secret_values);
                if let Some(help) = &mut diagnostic.help {
                    *help = secrets::mask_in(help, &secret_values);
                }
                for label in &mut diagnostic.labels {
                    label.message = secrets::mask_in(&label.message, &secret_values);
                }
            }
        }
        Parsed {
            sources,
            entries,
            diagnostics,
            summary,
            empty,
            kept: None,
        }
    }
}

/// A value where a reader found it.
#[derive(Clone, Debug)]
struct Field {
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug)]
enum Value {
    /// A string, number or boolean, as written.
    Text(Text),
    /// Nothing: the field counts as unset.
    Empty,
    List(Vec<Field>),
    /// Keys in the order written.
    Map(Vec<(Text, Field)>),
}

impl Value {
    /// What the value is, for messages.
    fn what(&self) -> &'static str {
        match self {
            Value::Text(_) => "a single value",
            Value::Empty => "an empty value",
            Value::List(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    fn get(&self, key: &str) -> Option<&Field> {
        match self {
            Value::Map(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl Field {
    /// A tree node as a field, located through `locator`.
    fn of(locator: &Locator, node: &Spanned<Node>) -> Field {
        Field::from_node(locator, node.clone())
    }

    /// A tree node as a field, its strings moved, not copied: a reader that
    /// is done with the tree gives it up.
    fn from_node(locator: &Locator, node: Spanned<Node>) -> Field {
        let span = locator.span(node.at);
        let value = match node.value {
            Node::Null => Value::Empty,
            Node::Scalar(text) => Value::Text(text),
            Node::List(items) => Value::List(
                items
                    .into_iter()
                    .map(|i| Field::from_node(locator, i))
                    .collect(),
            ),
            Node::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.value, Field::from_node(locator, v)))
                    .collect(),
            ),
        };
        Field { value, span }
    }

    fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// One host, device or node as a reader yields it: a BMC when an address is
/// found in its fields.
struct Record {
    /// Its name and where it is written; `None` when it has none (an error
    /// only if it has an address).
    pub name: Option<(String, Span)>,
    /// Where the record is written.
    pub span: Span,
    /// The variables or fields the address is looked up in; a later key
    /// overrides an earlier one of the same name.
    pub fields: Vec<(Text, Field)>,
    /// The labels the format gives it (groups, site, roles ...).
    pub labels: Labels,
    /// The vendor as written, if the format has one.
    pub vendor: Option<Field>,
}

impl Record {
    fn field(&self, key: &str) -> Option<&Field> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

/// What a format's readers share with the checks: where the address is by
/// default and how its records are called.
struct Conventions {
    /// The keys (dotted paths) that hold the BMC's address, in the order they
    /// are tried.
    pub keys: &'static [&'static str],
    /// What a record is: `host`, `device`, `entry`.
    pub noun: &'static str,
    /// Every record is a BMC: one without an address is an error, saying
    /// this after its name (`has no \`address\``).
    pub required: Option<&'static str>,
    /// Every one of `keys` that is set is read, not only the first.
    pub all_keys: bool,
    /// Addresses carry a prefix length (`10.0.0.5/24`), which is dropped.
    pub prefix_length: bool,
    /// Said when no record has any of `keys`.
    pub none_note: Option<&'static str>,
}

/// A format: its reader and its conventions.
struct Reader {
    load: fn(&Files, &mut Vec<Diagnostic>) -> Vec<Record>,
    conventions: Conventions,
}

impl Reader {
    fn of(format: InventoryFormat) -> Reader {
        match format {
            InventoryFormat::Native => Reader {
                load: native::load,
                conventions: native::CONVENTIONS,
            },
            InventoryFormat::Ansible => Reader {
                load: ansible::load,
                conventions: ansible::CONVENTIONS,
            },
            InventoryFormat::Netbox => Reader {
                load: netbox::load,
                conventions: netbox::CONVENTIONS,
            },
            InventoryFormat::Csv => Reader {
                load: csv::load,
                conventions: csv::CONVENTIONS,
            },
            InventoryFormat::Metal3 => Reader {
                load: machines::metal3::load,
                conventions: machines::metal3::CONVENTIONS,
            },
            InventoryFormat::Openshift => Reader {
                load: machines::openshift::load,
                conventions: machines::openshift::CONVENTIONS,
            },
            InventoryFormat::Ironic => Reader {
                load: machines::ironic::load,
                conventions: machines::ironic::CONVENTIONS,
            },
            InventoryFormat::Tripleo => Reader {
                load: machines::tripleo::load,
                conventions: machines::tripleo::CONVENTIONS,
            },
            InventoryFormat::Warewulf => Reader {
                load: machines::warewulf::load,
                conventions: machines::warewulf::CONVENTIONS,
            },
        }
    }
}

/// The checks every record goes through.
struct Checker<'c> {
    conventions: &'c Conventions,
    request: &'c Request,
}

/// Where a record's address was found.
enum Found<'r> {
    /// A field, under its key.
    Field(String, &'r Field),
    /// The record's own name (`address inventory_hostname`).
    Name(String, Span),
}

impl Checker<'_> {
    /// The entry of one record, which takes the record's name and labels;
    /// `None` when it has no address (not a BMC) or something is wrong
    /// (reported), the record then left whole.
    fn entry(
        &self,
        record: &mut Record,
        report: &mut Reporter,
        resolved: &mut Vec<Resolution>,
    ) -> Option<InventoryEntry> {
        let noun = self.conventions.noun;
        let found = match self.find(record, report) {
            Ok(found) => found,
            Err(Reported) => return None,
        };
        if found.is_empty() && self.conventions.required.is_none() {
            return None;
        }
        let Some((_, name_span)) = record.name else {
            report.error(
                record.span,
                format!("{noun} has no name"),
                "no name",
                Some(format!(
                    "a BMC is named after its {noun}: give the {noun} a name"
                )),
            );
            return None;
        };
        let mut written = Vec::new();
        let mut ok = true;
        for found in &found {
            match self.addresses(found, report, resolved) {
                Some(addresses) => written.extend(addresses),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        if written.is_empty() {
            if let Some(missing) = self.conventions.required {
                let (what, span) = match &record.name {
                    Some((name, span)) => (format!("{noun} `{name}`"), *span),
                    None => (noun.to_string(), record.span),
                };
                report.error(span, format!("{what} {missing}"), "no address", None);
            }
            return None;
        }
        let mut labels = std::mem::take(&mut record.labels);
        for key in self.conventions.keys.iter().copied().chain(self.key()) {
            let top = key.split('.').next().unwrap_or(key);
            labels.remove(top);
        }
        if let Some(vendor) = &record.vendor {
            if let Some(text) = vendor.text() {
                labels.set("vendor", vendor_label(text, vendor.span, report));
            }
        }
        let name = record.name.take().map(|(name, _)| name).unwrap_or_default();
        Some(entry(name, name_span, written, labels))
    }

    /// The key named with `address KEY`.
    fn key(&self) -> Option<&str> {
        self.request.address.as_deref()
    }

    /// The fields that hold the record's address: the one named, or the
    /// first of the format's keys that is set (every one that is set, when
    /// the format reads them all).
    fn find<'r>(
        &self,
        record: &'r Record,
        report: &mut Reporter,
    ) -> Result<Vec<Found<'r>>, Reported> {
        if let Some(key) = self.key() {
            if key == "inventory_hostname" {
                return Ok(record
                    .name
                    .iter()
                    .map(|(name, span)| Found::Name(name.clone(), *span))
                    .collect());
            }
            return Ok(lookup(record, key, report)?
                .map(|field| Found::Field(key.to_string(), field))
                .into_iter()
                .collect());
        }
        let mut found = Vec::new();
        for key in self.conventions.keys {
            if let Some(field) = lookup(record, key, report)? {
                found.push(Found::Field(key.to_string(), field));
                if !self.conventions.all_keys {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// The addresses a found value stands for, each with where it is written.
    fn addresses(
        &self,
        found: &Found,
        report: &mut Reporter,
        resolved: &mut Vec<Resolution>,
    ) -> Option<Vec<(IpAddr, Span)>> {
        let (key, values): (&str, Vec<(&str, Span)>) = match found {
            Found::Name(name, span) => ("inventory_hostname", vec![(name.as_str(), *span)]),
            Found::Field(key, field) => {
                if secrets::is_secret(key) {
                    report.error(
                        field.span,
                        format!("`{key}` holds a secret, not an address"),
                        "a secret",
                        Some(
                            "name the variable that holds the BMC's address with `address KEY`"
                                .into(),
                        ),
                    );
                    return None;
                }
                let mut values = Vec::new();
                // A list is several addresses where the format says so
                // (native `addresses`).
                let items = match &field.value {
                    Value::List(items) if self.conventions.all_keys => items.iter().collect(),
                    _ => vec![*field],
                };
                for item in items {
                    match &item.value {
                        Value::Text(text) => values.push((text.as_str(), item.span)),
                        Value::Empty => {}
                        other => {
                            report.error(
                                item.span,
                                format!("`{key}` must be one address, not {}", other.what()),
                                "not an address",
                                Some(address_help(key)),
                            );
                            return None;
                        }
                    }
                }
                (key.as_str(), values)
            }
        };
        let mut written = Vec::new();
        let mut ok = true;
        for (text, span) in values {
            match address::read(text, self.conventions.prefix_length) {
                Address::Ip(address) => written.push((address, span)),
                Address::Name(name) if self.request.resolve => match address::resolve(&name) {
                    Ok(addresses) => {
                        written.extend(addresses.iter().map(|&a| (a, span)));
                        resolved.push(Resolution { name, addresses });
                    }
                    Err(error) => {
                        report.report(
                            Diagnostic::new(
                                Code::UnresolvedName,
                                format!("`{name}` in `{key}` does not resolve: {error}"),
                                span,
                                "does not resolve",
                            )
                            .with_help("the name is resolved through the system resolver when the policy is read; check the name, or write the BMC's IP address"),
                        );
                        ok = false;
                    }
                },
                Address::Name(name) => {
                    report.report(
                        Diagnostic::new(
                            Code::UnresolvedName,
                            format!("`{name}` in `{key}` is a host name, not an IP address"),
                            span,
                            "a host name",
                        )
                        .with_help("add `resolve` to the `inventory` statement to resolve host names when the policy is read (`inventory \"PATH\" resolve;`), or write the BMC's IP address"),
                    );
                    ok = false;
                }
                Address::Template => {
                    report.error(
                        span,
                        format!("`{key}` is a Jinja template: bmcwall does not render templates"),
                        "a template",
                        Some(format!("write the BMC's address itself in `{key}`, or name a variable that holds it with `address KEY`")),
                    );
                    ok = false;
                }
                Address::Vault => {
                    report.error(
                        span,
                        format!("`{key}` is encrypted with Ansible Vault: bmcwall does not decrypt it"),
                        "encrypted",
                        Some(format!("an address is not a secret: write it in `{key}` in the clear, or name a variable that holds it with `address KEY`")),
                    );
                    ok = false;
                }
                Address::Bad(problem) => {
                    report.error(
                        span,
                        format!("`{text}` in `{key}` is not an IP address"),
                        "bad address",
                        Some(problem.unwrap_or_else(|| address_help(key))),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(written)
    }

    /// Why no record is a BMC, with the keys in the file that look like
    /// addresses.
    fn empty(&self, records: &[Record]) -> Empty {
        let noun = self.conventions.noun;
        let count = records.len();
        let keys: Vec<&str> = match self.key() {
            Some(key) => vec![key],
            None => self.conventions.keys.to_vec(),
        };
        let listed = quoted_list(&keys, "or");
        let message = if count == 0 {
            format!("the inventory has no {noun}s, so no BMC")
        } else {
            let set = if records.iter().any(|r| keys.iter().any(|k| has_key(r, k))) {
                "set"
            } else {
                "at all"
            };
            format!(
                "no BMC in the inventory: none of its {count} {} has {listed} {set}",
                plural(noun, count),
            )
        };
        let mut help = String::new();
        if self.key().is_none()
            && count > 0
            && !records.iter().any(|r| keys.iter().any(|k| has_key(r, k)))
        {
            if let Some(note) = self.conventions.none_note {
                help.push_str(note);
                help.push_str("; ");
            }
        }
        let candidates = address_like_keys(records);
        if candidates.is_empty() {
            help.push_str("name the field that holds each BMC's address with `address KEY` (`inventory \"PATH\" address KEY;`)");
        } else {
            let shown: Vec<String> = candidates
                .iter()
                .take(6)
                .map(|(key, n)| format!("`{key}` ({n} {})", plural(noun, *n)))
                .collect();
            help.push_str(&format!(
                "keys that look like addresses: {}; name the one that holds each BMC's address with `address KEY` (`inventory \"PATH\" address {};`)",
                shown.join(", "),
                candidates[0].0
            ));
            if candidates.iter().any(|(k, _)| k == "ansible_host") {
                help.push_str("; `ansible_host` is the address Ansible connects to, usually the host's own, so it is read only when named");
            }
        }
        Empty { message, help }
    }
}

/// A field was wrong and is reported.
struct Reported;

/// The field at a dotted path in a record; `None` when a step is absent or
/// empty. A step that is not a mapping is reported.
fn lookup<'r>(
    record: &'r Record,
    path: &str,
    report: &mut Reporter,
) -> Result<Option<&'r Field>, Reported> {
    let mut steps = path.split('.');
    let Some(first) = steps.next() else {
        return Ok(None);
    };
    let Some(mut current) = record.field(first) else {
        return Ok(None);
    };
    let mut walked = first.to_string();
    for step in steps {
        match &current.value {
            Value::Map(_) => match current.value.get(step) {
                Some(next) => current = next,
                None => return Ok(None),
            },
            Value::Empty => return Ok(None),
            other => {
                report.error(
                    current.span,
                    format!(
                        "`{walked}` must be a mapping with `{step}`, not {}",
                        other.what()
                    ),
                    "not a mapping",
                    Some(format!("the address is looked up at `{path}`")),
                );
                return Err(Reported);
            }
        }
        walked.push('.');
        walked.push_str(step);
    }
    Ok((!matches!(current.value, Value::Empty)).then_some(current))
}

/// The record has a field at the first step of `path`, set or not.
fn has_key(record: &Record, path: &str) -> bool {
    record
        .field(path.split('.').next().unwrap_or(path))
        .is_some()
}

/// Keys whose name or value looks like an address, with how many records
/// have each, most first.
fn address_like_keys(records: &[Record]) -> Vec<(String, usize)> {
    fn walk(prefix: &str, fields: &[(Text, Field)], depth: usize, out: &mut BTreeSet<String>) {
        for (key, field) in fields {
            let path = if prefix.is_empty() {
                key.to_string()
            } else {
                format!("{prefix}.{key}")
            };
            match &field.value {
                Value::Text(text) => {
                    let lower = key.to_ascii_lowercase();
                    let named = [
                        "addr", "ip", "bmc", "ipmi", "idrac", "ilo", "oob", "host", "uri", "url",
                        "mgmt",
                    ]
                    .iter()
                    .any(|w| lower.contains(w));
                    let looks = matches!(address::read(text, true), Address::Ip(_));
                    if (named || looks) && !secrets::is_secret(key) {
                        out.insert(path);
                    }
                }
                Value::Map(inner) if depth < 3 => walk(&path, inner, depth + 1, out),
                _ => {}
            }
        }
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for record in records {
        let mut keys = BTreeSet::new();
        walk("", &record.fields, 0, &mut keys);
        for key in keys {
            *counts.entry(key).or_default() += 1;
        }
    }
    let mut out: Vec<(String, usize)> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

fn plural(noun: &str, count: usize) -> String {
    if count == 1 {
        noun.to_string()
    } else if let Some(stem) = noun.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{noun}s")
    }
}

/// `` `a`, `b` or `c` ``.
fn quoted_list(items: &[&str], last: &str) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((only, [])) => only.clone(),
        Some((final_one, rest)) => format!("{} {last} {final_one}", rest.join(", ")),
    }
}

fn address_help(key: &str) -> String {
    format!("`{key}` holds one IPv4 or IPv6 address, a URL (`https://10.0.0.5`) or, with `resolve`, a host name")
}

/// The `vendor` label of a vendor as written: lower case; an unknown
/// vendor is a warning with a suggestion.
fn vendor_label(text: &str, span: Span, report: &mut Reporter) -> String {
    let lower = text.trim().to_lowercase();
    if VENDORS.contains(&lower.as_str()) {
        return lower;
    }
    let suggestion = vendor_alias(&lower)
        .or_else(|| crate::diagnostic::closest(&lower, VENDORS.iter().copied()));
    let help = match suggestion {
        Some(known) => format!(
            "did you mean `{known}`? known vendors: {}",
            VENDORS.join(", ")
        ),
        None => format!(
            "known vendors: {}; `other` for the rest",
            VENDORS.join(", ")
        ),
    };
    report.report(
        Diagnostic::new(
            Code::UnknownVendor,
            format!("unknown vendor `{text}`"),
            span,
            "not a known vendor",
        )
        .with_help(help),
    );
    lower
}

/// The known vendor a common other name stands for.
fn vendor_alias(lower: &str) -> Option<&'static str> {
    const ALIASES: &[(&str, &str)] = &[
        ("dell", "dell"),
        ("idrac", "dell"),
        ("hewlett", "hpe"),
        ("ilo", "hpe"),
        ("super micro", "supermicro"),
        ("supermicro", "supermicro"),
        ("smc", "supermicro"),
        ("lenovo", "lenovo"),
        ("xclarity", "lenovo"),
        ("ibm", "lenovo"),
        ("cisco", "cisco"),
        ("cimc", "cisco"),
    ];
    if lower == "hp" {
        return Some("hpe");
    }
    ALIASES
        .iter()
        .find(|(alias, _)| lower.contains(alias))
        .map(|(_, vendor)| *vendor)
}

pub use confusable::check as check_confusable;

/// Checks names are unique across every inventory loaded (an error), and
/// says which entries share an address (a warning: virtual BMCs behind one
/// endpoint, chassis managers).
pub fn check_unique(entries: &[InventoryEntry], diagnostics: &mut Vec<Diagnostic>) {
    let mut names: HashMap<&str, Span> = HashMap::with_capacity(entries.len());
    let mut addresses: HashMap<IpAddr, (&str, Span)> = HashMap::with_capacity(entries.len());
    for entry in entries {
        if let Some(&first) = names.get(entry.name.as_str()) {
            diagnostics.push(
                Diagnostic::new(
                    Code::InventoryError,
                    format!("duplicate inventory name `{}`", entry.name),
                    entry.span,
                    "defined again here",
                )
                .with_related(first, "first defined here")
                .with_help("inventory names are unique across all inventories"),
            );
        } else {
            names.insert(&entry.name, entry.span);
        }
        for &(address, span) in &entry.written {
            match addresses.get(&address) {
                Some(&(owner, first)) if owner == entry.name => {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::InventoryError,
                            format!("address {address} is listed twice for `{owner}`"),
                            span,
                            "duplicate address",
                        )
                        .with_related(first, "first listed here")
                        .with_help("list each address of an entry once"),
                    );
                }
                Some(&(owner, first)) => {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::SharedAddress,
                            format!(
                                "`{}` and `{owner}` share the address {address}",
                                entry.name
                            ),
                            span,
                            "shared address",
                        )
                        .with_related(first, format!("also the address of `{owner}`"))
                        .with_help("entries behind one endpoint (virtual BMCs, a chassis manager) share it; otherwise one of the addresses is wrong"),
                    );
                }
                None => {
                    addresses.insert(address, (&entry.name, span));
                }
            }
        }
    }
}

/// Where the readers report what is wrong with an inventory.
struct Reporter<'d> {
    diagnostics: &'d mut Vec<Diagnostic>,
    /// Locations already reported, when each is reported once.
    reported: Option<HashSet<(Span, Code)>>,
}

impl<'d> Reporter<'d> {
    /// Reports every finding.
    fn new(diagnostics: &'d mut Vec<Diagnostic>) -> Self {
        Self {
            diagnostics,
            reported: None,
        }
    }

    /// Reports one finding per location and code: where values are
    /// inherited (Ansible group variables), a bad value is reported once,
    /// not once per host.
    fn once_per_location(diagnostics: &'d mut Vec<Diagnostic>) -> Self {
        Self {
            diagnostics,
            reported: Some(HashSet::new()),
        }
    }

    /// Reports a finding.
    fn report(&mut self, diagnostic: Diagnostic) {
        if let Some(reported) = &mut self.reported {
            if !reported.insert((diagnostic.primary().span, diagnostic.code)) {
                return;
            }
        }
        self.diagnostics.push(diagnostic);
    }

    /// Reports a BW005 finding: `message` at `span`, labelled `label`, with
    /// `help` if given.
    fn error(&mut self, span: Span, message: String, label: &str, help: Option<String>) {
        let mut diagnostic = Diagnostic::new(Code::InventoryError, message, span, label);
        diagnostic.help = help;
        self.report(diagnostic);
    }

    /// Reports `node`, at `span`, where a mapping must be: `wanted` says
    /// what must be one ("an inventory must be a mapping"), `help` how it is
    /// written.
    fn not_a_mapping(&mut self, span: Span, wanted: &str, node: &Node, help: &str) {
        self.error(
            span,
            format!("{wanted}, not {}", node.what()),
            "not a mapping",
            Some(help.into()),
        );
    }
}

/// What an inventory file is written in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Language {
    Yaml,
    Json,
}

impl Language {
    /// JSON when the text starts with `{` or `[` (after a byte order mark
    /// and blanks), YAML otherwise.
    fn of(text: &str) -> Language {
        if text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with(['{', '['])
        {
            Language::Json
        } else {
            Language::Yaml
        }
    }

    fn name(self) -> &'static str {
        match self {
            Language::Yaml => "YAML",
            Language::Json => "JSON",
        }
    }
}

/// Reads a whole file into a tree, reporting a syntax error as BW005 at its
/// location, as "inventory is not valid {language}", with `help` if given.
fn parse(
    locator: &Locator,
    language: Language,
    help: Option<&str>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Spanned<Node>> {
    let text = locator.source.text.as_str();
    let read = match language {
        Language::Yaml => tree::read(text),
        Language::Json => tree::read_json(text),
    };
    match read {
        Ok(document) => Some(document),
        Err(error) => {
            diagnostics.push(syntax_error(locator, language, help, error));
            None
        }
    }
}

/// A syntax error as BW005 at its location.
fn syntax_error(
    locator: &Locator,
    language: Language,
    help: Option<&str>,
    error: tree::ReadError,
) -> Diagnostic {
    locator.not_read();
    let text = locator.source.text.as_str();
    let token = |at: tree::At| match at.len {
        0 => locator.at(at, token_len(&text[at.start..])),
        len => locator.at(at, len),
    };
    let span = error.at.map_or(Span::new(locator.file, 0, 0), &token);
    // What the parser was reading labels where it starts: the problem
    // itself when that is where (an unclosed bracket).
    let (label, related) = match error.context {
        Some((what, at)) if token(at) == span => (what, None),
        context => (error.message.clone(), context),
    };
    let mut diagnostic = Diagnostic::new(
        Code::InventoryError,
        format!(
            "inventory is not valid {}: {}",
            language.name(),
            error.message
        ),
        span,
        label,
    );
    if let Some((what, at)) = related {
        diagnostic = diagnostic.with_related(token(at), what);
    }
    diagnostic.help = help.map(str::to_string);
    diagnostic
}

/// An entry from its parts: the addresses as written, each with its location.
fn entry(name: String, span: Span, written: Vec<(IpAddr, Span)>, labels: Labels) -> InventoryEntry {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for (address, _) in &written {
        match *address {
            IpAddr::V4(a) => v4.push((u32::from(a), u32::from(a))),
            IpAddr::V6(a) => v6.push((u128::from(a), u128::from(a))),
        }
    }
    InventoryEntry {
        name,
        addresses: AddrSet {
            v4: IntervalSet::from_intervals(v4),
            v6: IntervalSet::from_intervals(v6),
        },
        labels: std::sync::Arc::new(labels),
        span,
        written,
    }
}

/// Spans in one inventory file, from where the parser saw each value.
struct Locator<'s> {
    file: FileId,
    source: &'s SourceFile,
    not_read: &'s Cell<bool>,
}

impl Locator<'_> {
    /// The file is not what it is read as (not valid YAML, plainly not an
    /// inventory of its format): its snippets show labelled lines only.
    fn not_read(&self) {
        self.not_read.set(true);
    }

    /// The file's text.
    fn text(&self) -> &str {
        &self.source.text
    }

    /// A span of `len` bytes at a position.
    fn at(&self, at: At, len: usize) -> Span {
        let text = &self.source.text;
        let start = at.start.min(text.len());
        let mut end = (start + len).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        Span::new(self.file, start, end)
    }

    /// The span of bytes `start..end`.
    fn range(&self, start: usize, end: usize) -> Span {
        self.at(At { start, len: 0 }, end.saturating_sub(start))
    }

    /// The span of a value: a scalar's text (with its quotes), the opening
    /// bracket of a flow collection, and the rest of the line for a block
    /// collection or an empty value.
    ///
    /// A flow collection that ends on the line where it starts is covered
    /// whole (`[10.0.0.1, 10.0.0.2]`).
    fn span(&self, at: At) -> Span {
        if at.len == 0 {
            return self.rest_of_line(at);
        }
        let text = &self.source.text;
        let end = match text[at.start..].chars().next() {
            Some('[' | '{') => flow_end(text, at.start),
            _ => None,
        };
        match end {
            Some(end) => Span::new(self.file, at.start, end),
            None => self.at(at, at.len),
        }
    }

    /// The span from a position to the end of its line, without trailing
    /// blanks or a comment: a value that is not a scalar.
    fn rest_of_line(&self, at: At) -> Span {
        let rest = &self.source.text[at.start..];
        let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
        let line = line.find(" #").map_or(line, |i| &line[..i]);
        self.at(at, line.trim_end().len().max(1))
    }

    /// The first line of the file that is not blank or a comment, for what
    /// is said about the whole file.
    fn first_line(&self) -> Span {
        let mut start = 0;
        for line in self.source.text.split_inclusive('\n') {
            let content = line.trim();
            if !content.is_empty() && !content.starts_with('#') {
                let at = start + (line.len() - line.trim_start().len());
                return self.rest_of_line(At { start: at, len: 0 });
            }
            start += line.len();
        }
        self.rest_of_line(At { start: 0, len: 0 })
    }
}

/// Length of the token at the start of `rest`, for a label that covers it.
fn token_len(rest: &str) -> usize {
    rest.find(['\n', ':', ',', ']'])
        .unwrap_or(rest.len())
        .max(1)
}

/// The end of the flow collection (`[...]` or `{...}`) that starts at `start`,
/// if it closes on the same line.
fn flow_end(text: &str, start: usize) -> Option<usize> {
    // Scanned up to the end, never to the end of the line first: a JSON
    // export is often one line of megabytes, and every value has a span.
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text[start..].char_indices() {
        if c == '\n' {
            return None;
        }
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '[' | '{' => depth += 1,
                ']' | '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Some(start + i + 1);
                    }
                }
                _ => {}
            },
        }
    }
    None
}
