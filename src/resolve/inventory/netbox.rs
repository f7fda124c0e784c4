//! NetBox devices exports: the JSON of `GET /api/dcim/devices/`, a page
//! (`{"count": .., "next": .., "results": [..]}`), a plain array of devices or
//! one device object. A device with an out-of-band address (`oob_ip`) is a
//! BMC; its site, rack, role, manufacturer and tags are labels. Every other
//! field is ignored, but for the one named with `address KEY`.
//!
//! The file is read by the JSON reader of `tree/json.rs` into the same
//! located tree as the YAML formats, so every value keeps its line and
//! column; each device's fields are then moved into its record, not copied.

use super::tree::Node;
use super::tree::Spanned;
use super::{parse, Conventions, Field, Files, Language, Locator, Record, Reporter};
use crate::diagnostic::Diagnostic;
use crate::resolve::policy::Labels;
use crate::source::Span;
use std::collections::BTreeSet;

pub(super) const CONVENTIONS: Conventions = Conventions {
    keys: &["oob_ip.address"],
    noun: "device",
    required: None,
    all_keys: false,
    prefix_length: true,
    none_note: Some("NetBox before 3.6 has no `oob_ip` field: export from NetBox 3.6 or later with each BMC's address as the device's out-of-band IP"),
};

const SHAPE_HELP: &str = "a NetBox export is the JSON of `GET /api/dcim/devices/`: an object whose `results` is an array of devices, or the array itself";

/// Reads a NetBox devices export.
pub(super) fn load(files: &Files, diagnostics: &mut Vec<Diagnostic>) -> Vec<Record> {
    let locator = &files.locator(0);
    let Some(document) = parse(locator, Language::Json, Some(SHAPE_HELP), diagnostics) else {
        return Vec::new();
    };
    let mut reader = Reader {
        locator,
        report: Reporter::new(diagnostics),
    };
    // What the document is, told by reference; then its devices are taken
    // out of it, so their fields are moved into the records, not copied.
    let shape = match &document.value {
        Node::List(_) => Shape::Devices,
        Node::Map(_) => match document.value.get("results") {
            Some(Spanned {
                value: Node::List(_),
                ..
            }) => {
                reader.check_last_page(&document.value);
                Shape::Results
            }
            Some(results) => {
                reader.error(
                    reader.locator.span(results.at),
                    format!(
                        "`results` must be an array of devices, not {}",
                        results.value.what_in_json()
                    ),
                    "not an array",
                    Some(SHAPE_HELP.into()),
                );
                return Vec::new();
            }
            // One device, as `GET /api/dcim/devices/ID/` returns it.
            None if document.value.get("name").is_some() => Shape::One,
            None => {
                reader.error(
                    reader.locator.span(document.at),
                    "a NetBox export object must have `results`, the array of devices".into(),
                    "no `results`",
                    Some(SHAPE_HELP.into()),
                );
                return Vec::new();
            }
        },
        Node::Null => {
            reader.error(
                Span::new(locator.file, 0, 0),
                "inventory is empty".into(),
                "no devices",
                Some(SHAPE_HELP.into()),
            );
            return Vec::new();
        }
        Node::Scalar(_) => {
            reader.error(
                reader.locator.span(document.at),
                "a NetBox export must be an object or an array, not a string or number".into(),
                "not an object or array",
                Some(SHAPE_HELP.into()),
            );
            return Vec::new();
        }
    };
    let devices = match (shape, document.value) {
        (Shape::Devices, Node::List(devices)) => devices,
        (Shape::Results, Node::Map(entries)) => entries
            .into_iter()
            .find(|(key, _)| key.value == "results")
            .and_then(|(_, results)| match results.value {
                Node::List(devices) => Some(devices),
                _ => None,
            })
            .unwrap_or_default(),
        (_, value) => vec![Spanned {
            value,
            at: document.at,
        }],
    };
    devices
        .into_iter()
        .filter_map(|device| reader.device(device))
        .collect()
}

/// Where a document's devices are.
enum Shape {
    /// It is the array of devices.
    Devices,
    /// In its `results`.
    Results,
    /// It is one device.
    One,
}

struct Reader<'l, 'd> {
    locator: &'l Locator<'l>,
    report: Reporter<'d>,
}

/// A field that is wrong has been reported.
struct Reported;

impl Reader<'_, '_> {
    fn error(&mut self, span: Span, message: String, label: &str, help: Option<String>) {
        self.report.error(span, message, label, help);
    }

    fn span(&self, node: &Spanned<Node>) -> Span {
        self.locator.span(node.at)
    }

    /// Reports a page whose `next` points at more devices: they would be
    /// missing from the policy.
    fn check_last_page(&mut self, page: &Node) {
        if let Some(
            next @ Spanned {
                value: Node::Scalar(_),
                ..
            },
        ) = page.get("next")
        {
            self.error(
                self.span(next),
                "the export is one page of several: `next` points at more devices".into(),
                "more devices on the next page",
                Some("follow `next` and join every page's `results` into one array, or ask for a page that holds every device (`?limit=N`, up to NetBox's MAX_PAGE_SIZE)".into()),
            );
        }
    }

    /// The record of one device; `None` when something is wrong
    /// (reported).
    fn device(&mut self, device: Spanned<Node>) -> Option<Record> {
        if !matches!(device.value, Node::Map(_)) {
            self.error(
                self.span(&device),
                format!(
                    "a device must be an object, not {}",
                    device.value.what_in_json()
                ),
                "not an object",
                Some(SHAPE_HELP.into()),
            );
            return None;
        }
        let name = self.name(&device).ok()?;
        let labels = self.labels(&device).ok()?;
        // A device without a name is shown where its name is empty.
        let span = match device.value.get("name") {
            Some(node) => self.span(node),
            None => self.locator.at(device.at, 1),
        };
        let Node::Map(keys) = device.value else {
            return None;
        };
        Some(Record {
            name,
            span,
            fields: keys
                .into_iter()
                .map(|(key, value)| (key.value, Field::from_node(self.locator, value)))
                .collect(),
            labels,
            vendor: None,
        })
    }

    /// The device's name and where it is written; `None` when it has none;
    /// an error (reported) when it is not a string.
    fn name(&mut self, device: &Spanned<Node>) -> Result<Option<(String, Span)>, Reported> {
        match device.value.get("name") {
            Some(
                node @ Spanned {
                    value: Node::Scalar(text),
                    ..
                },
            ) if !text.trim().is_empty() => Ok(Some((text.to_string(), self.span(node)))),
            Some(Spanned {
                value: Node::Scalar(_) | Node::Null,
                ..
            })
            | None => Ok(None),
            Some(node) => {
                self.error(
                    self.span(node),
                    format!(
                        "a device's `name` must be a string, not {}",
                        node.value.what_in_json()
                    ),
                    "not a string",
                    None,
                );
                Err(Reported)
            }
        }
    }

    /// `site`, `rack`, `role`, `manufacturer` and `tag`.
    fn labels(&mut self, device: &Spanned<Node>) -> Result<Labels, Reported> {
        let mut labels = Labels::new();
        let role = match device.value.get("role") {
            Some(Spanned {
                value: Node::Null, ..
            })
            | None => "device_role",
            Some(_) => "role",
        };
        let fields: [(&str, &[&str]); 4] = [
            ("site", &["site", "slug"]),
            ("rack", &["rack", "name"]),
            ("role", &[role, "slug"]),
            ("manufacturer", &["device_type", "manufacturer", "slug"]),
        ];
        let mut ok = true;
        for (label, path) in fields {
            match self.nested(device, path) {
                Ok(Some(value)) => {
                    labels.set(label, value);
                }
                Ok(None) => {}
                Err(Reported) => ok = false,
            }
        }
        match device.value.get("tags") {
            None
            | Some(Spanned {
                value: Node::Null, ..
            }) => {}
            Some(Spanned {
                value: Node::List(tags),
                ..
            }) => {
                let mut values = BTreeSet::new();
                for tag in tags {
                    match self.nested(tag, &["slug"]) {
                        Ok(Some(slug)) => {
                            values.insert(slug);
                        }
                        Ok(None) => {}
                        Err(Reported) => ok = false,
                    }
                }
                if !values.is_empty() {
                    labels.set_all("tag", values);
                }
            }
            Some(node) => {
                self.error(
                    self.span(node),
                    format!(
                        "`tags` must be an array of tags, not {}",
                        node.value.what_in_json()
                    ),
                    "not an array",
                    Some(
                        "NetBox writes `\"tags\": [{\"name\": \"Prod\", \"slug\": \"prod\", ...}]`"
                            .into(),
                    ),
                );
                ok = false;
            }
        }
        if ok {
            Ok(labels)
        } else {
            Err(Reported)
        }
    }

    /// The text at `path` below `node` (`site` then `slug`): `None` when a
    /// step is absent or null; an error when a step is not an object or the
    /// last one not a single value.
    fn nested(&mut self, node: &Spanned<Node>, path: &[&str]) -> Result<Option<String>, Reported> {
        let mut current = node;
        for (depth, key) in path.iter().enumerate() {
            if !matches!(current.value, Node::Map(_)) {
                let what = if depth == 0 {
                    "a tag".to_string()
                } else {
                    format!("`{}`", path[..depth].join("."))
                };
                self.error(
                    self.span(current),
                    format!(
                        "{what} must be an object with `{}`, not {}",
                        path[depth..].join("."),
                        current.value.what_in_json()
                    ),
                    "not an object",
                    Some("bmcwall reads the device objects of NetBox's REST API, where related objects are nested objects".into()),
                );
                return Err(Reported);
            }
            match current.value.get(key) {
                None
                | Some(Spanned {
                    value: Node::Null, ..
                }) => return Ok(None),
                Some(next) => current = next,
            }
        }
        match &current.value {
            Node::Scalar(text) => Ok(Some(text.to_string())),
            other => {
                self.error(
                    self.span(current),
                    format!(
                        "`{}` must be a string, not {}",
                        path.join("."),
                        other.what_in_json()
                    ),
                    "not a string",
                    None,
                );
                Err(Reported)
            }
        }
    }
}
