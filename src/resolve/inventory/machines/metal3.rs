//! metal3 `BareMetalHost` manifests: multi-document YAML (`---` between the
//! objects), as they are kept beside the Secrets that hold their
//! credentials, or a `List` (`kubectl get baremetalhosts -o yaml`). Objects of
//! other kinds are skipped. A host's BMC is `spec.bmc.address` (a URL:
//! `ipmi://10.0.0.5:623`, `redfish-virtualmedia+https://10.0.0.5/redfish/v1/Systems/1`);
//! its name is `metadata.name`; its namespace and every Kubernetes label are
//! labels.

use super::super::tree::{self, Node, Spanned};
use super::super::{syntax_error, Conventions, Files, Language, Locator, Record, Reporter};
use super::{label, labels_of_map, name_at, record, shape, text_at};
use crate::diagnostic::Diagnostic;
use crate::resolve::policy::Labels;

pub(in super::super) const CONVENTIONS: Conventions = Conventions {
    keys: &["spec.bmc.address"],
    noun: "host",
    required: None,
    all_keys: false,
    prefix_length: false,
    none_note: None,
};

const HELP: &str = "metal3 hosts are Kubernetes objects of `kind: BareMetalHost`, one YAML document each, with the BMC in `spec.bmc.address`";

/// Reads BareMetalHost manifests.
pub(in super::super) fn load(files: &Files, diagnostics: &mut Vec<Diagnostic>) -> Vec<Record> {
    let locator = files.locator(0);
    let text = locator.text();
    let read = if Language::of(text) == Language::Json {
        tree::read_json(text).map(|document| vec![document])
    } else {
        tree::read_documents(text)
    };
    let documents = match read {
        Ok(documents) => documents,
        Err(error) => {
            let language = Language::of(text);
            diagnostics.push(syntax_error(&locator, language, Some(HELP), error));
            return Vec::new();
        }
    };
    let mut report = Reporter::new(diagnostics);
    let mut records = Vec::new();
    for document in &documents {
        objects(&locator, document, &mut report, &mut records);
    }
    records
}

/// The hosts of one object: itself when it is a BareMetalHost, the items of
/// a `List`, nothing for any other kind.
fn objects(
    locator: &Locator,
    object: &Spanned<Node>,
    report: &mut Reporter,
    records: &mut Vec<Record>,
) {
    if !matches!(object.value, Node::Map(_)) {
        shape(
            report,
            locator,
            object,
            format!(
                "a Kubernetes object must be a mapping, not {}",
                object.value.what()
            ),
            "not a mapping",
            HELP,
        );
        return;
    }
    match text_at(object, &["kind"]).map(|(kind, _)| kind) {
        Some("BareMetalHost") => records.push(host(locator, object)),
        Some("List") => {
            if let Some(Spanned {
                value: Node::List(items),
                ..
            }) = object.value.get("items")
            {
                for item in items {
                    objects(locator, item, report, records);
                }
            }
        }
        _ => {}
    }
}

fn host(locator: &Locator, object: &Spanned<Node>) -> Record {
    let mut labels = Labels::new();
    label(&mut labels, "namespace", object, &["metadata", "namespace"]);
    labels_of_map(&mut labels, object, &["metadata", "labels"]);
    let name = name_at(locator, object, &["metadata", "name"]);
    record(locator, object, name, labels)
}
