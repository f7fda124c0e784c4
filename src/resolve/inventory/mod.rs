//! Inventories: BMC entries with addresses and labels, read from bmcwall's own
//! YAML format (`native.rs`), an Ansible inventory (`ansible.rs`) or a NetBox
//! devices export (`netbox.rs`).
//!
//! Every error is BW005 and points into the inventory file, at the line and
//! column of the value. Each format is read into a loose shape
//! first (any mapping, list or scalar, each with its location) and checked
//! afterwards, so one run reports every bad entry in the inventory's own terms.

mod ansible;
mod native;
mod netbox;
mod tree;

use super::policy::{InventoryEntry, Labels};
use crate::addr::{AddrSet, IntervalSet};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{normalize, FileId, SourceFile, SourceMap, Span};
use crate::syntax::InventoryFormat;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;
use tree::{At, Node, Spanned};

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

/// An inventory file read and parsed before it has its place in the source
/// map: its entries' and diagnostics' spans point at `Parsed::UNPLACED`
/// until [`Parsed::place`] adds the file.
pub struct Parsed {
    source: SourceFile,
    entries: Vec<InventoryEntry>,
    diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    const UNPLACED: FileId = FileId(u32::MAX);

    /// Adds the file to `sources` and its diagnostics to `diagnostics`, and
    /// returns its entries, their spans now in the file.
    pub fn place(
        self,
        sources: &mut SourceMap,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Vec<InventoryEntry> {
        let file = sources.push(self.source);
        let place = |span: &mut Span| {
            if span.file == Self::UNPLACED {
                span.file = file;
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
        entries
    }
}

/// Reads and parses the inventory file at `path`.
pub fn read(path: &Path, format: InventoryFormat) -> std::io::Result<Parsed> {
    let text = std::fs::read_to_string(path)?;
    let source = SourceFile::new(normalize(path), text);
    let locator = Locator {
        file: Parsed::UNPLACED,
        source: &source,
    };
    let mut diagnostics = Vec::new();
    let entries = match format {
        InventoryFormat::Native => native::load(&locator, &mut diagnostics),
        InventoryFormat::Ansible => ansible::load(&locator, &mut diagnostics),
        InventoryFormat::Netbox => netbox::load(&locator, &mut diagnostics),
    };
    Ok(Parsed {
        source,
        entries,
        diagnostics,
    })
}

/// Checks names and addresses are unique across every inventory loaded.
pub fn check_unique(entries: &[InventoryEntry], diagnostics: &mut Vec<Diagnostic>) {
    let mut names: HashMap<&str, Span> = HashMap::new();
    let mut addresses: HashMap<IpAddr, (&str, Span)> = HashMap::new();
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
                Some(&(owner, first)) => {
                    let message = if owner == entry.name {
                        format!("address {address} is listed twice for `{owner}`")
                    } else {
                        format!(
                            "address {address} of `{}` is already used by `{owner}`",
                            entry.name
                        )
                    };
                    diagnostics.push(
                        Diagnostic::new(Code::InventoryError, message, span, "duplicate address")
                            .with_related(first, format!("first used by `{owner}` here"))
                            .with_help("addresses are unique across all inventories"),
                    );
                }
                None => {
                    addresses.insert(address, (&entry.name, span));
                }
            }
        }
    }
}

/// Where the readers report what is wrong with an inventory: every finding
/// is a BW005 located in the file.
struct Reporter<'d> {
    diagnostics: &'d mut Vec<Diagnostic>,
    /// Locations already reported, when each is reported once.
    reported: Option<HashSet<Span>>,
}

impl<'d> Reporter<'d> {
    /// Reports every finding.
    fn new(diagnostics: &'d mut Vec<Diagnostic>) -> Self {
        Self {
            diagnostics,
            reported: None,
        }
    }

    /// Reports one finding per location: where values are inherited (Ansible
    /// group variables), a bad value is reported once, not once per host.
    fn once_per_location(diagnostics: &'d mut Vec<Diagnostic>) -> Self {
        Self {
            diagnostics,
            reported: Some(HashSet::new()),
        }
    }

    /// Reports a finding: `message` at `span`, labelled `label`, with `help`
    /// if given.
    fn error(&mut self, span: Span, message: String, label: &str, help: Option<String>) {
        if let Some(reported) = &mut self.reported {
            if !reported.insert(span) {
                return;
            }
        }
        let mut diagnostic = Diagnostic::new(Code::InventoryError, message, span, label);
        diagnostic.help = help;
        self.diagnostics.push(diagnostic);
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
#[derive(Clone, Copy)]
enum Language {
    Yaml,
    Json,
}

impl Language {
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
            let token = |at: tree::At| match at.len {
                0 => locator.at(at, token_len(&text[at.start..])),
                len => locator.at(at, len),
            };
            let span = error.at.map_or(Span::new(locator.file, 0, 0), &token);
            // What the parser was reading labels where it starts: the
            // problem itself when that is where (an unclosed bracket).
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
            diagnostics.push(diagnostic);
            None
        }
    }
}

/// Why `vendor` may not take the value `text`, as a help line; `None` when it
/// is a known vendor.
fn vendor_problem(text: &str) -> Option<String> {
    if VENDORS.contains(&text) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    Some(if VENDORS.contains(&lower.as_str()) {
        format!("vendors are written in lower case: `{lower}`")
    } else {
        format!("known vendors: {}", VENDORS.join(", "))
    })
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
        labels,
        span,
        written,
    }
}

/// Spans in one inventory file, from where the parser saw each value.
struct Locator<'s> {
    file: FileId,
    source: &'s SourceFile,
}

impl Locator<'_> {
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
    let line = &text[start..text[start..].find('\n').map_or(text.len(), |i| start + i)];
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
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
