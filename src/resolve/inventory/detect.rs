//! What an inventory file is, told from its first 64 KiB: the format when
//! `format` is left out, and what to say when a file is read as a format it
//! plainly is not ("this is an Ansible INI inventory", "this is a
//! Kubernetes Secret").

use super::Locator;
use crate::diagnostic::{Code, Diagnostic};
use crate::syntax::InventoryFormat;

/// What a file looks like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Looks {
    /// One format, and what the file is in its terms.
    Format(InventoryFormat, &'static str),
    /// Several formats could read it.
    Ambiguous(Vec<(InventoryFormat, &'static str)>),
    /// Not an inventory of any format: what it is.
    Other(String),
    Unknown,
}

/// How much of a file is looked at.
const SAMPLE: usize = 64 * 1024;

/// What `text` looks like.
pub(super) fn detect(text: &str) -> Looks {
    let mut end = text.len().min(SAMPLE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let sample = text[..end].trim_start_matches('\u{feff}');
    let mut found: Vec<(InventoryFormat, &'static str)> = Vec::new();
    let trimmed = sample.trim_start();
    if trimmed.starts_with(['{', '[']) && !is_ini_section(first_line(trimmed)) {
        if let Some(other) = json(trimmed, &mut found) {
            return other;
        }
    } else if let Some(other) = yaml_ini_csv(sample, &mut found) {
        return other;
    }
    found.dedup_by_key(|(format, _)| *format);
    match found.len() {
        0 => Looks::Unknown,
        1 => Looks::Format(found[0].0, found[0].1),
        _ => Looks::Ambiguous(found),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

fn is_ini_section(line: &str) -> bool {
    let line = line.trim();
    line.starts_with('[')
        && line.ends_with(']')
        && line.len() > 2
        && line[1..line.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-:.".contains(&b))
}

/// A JSON document: which format's keys it has.
fn json(text: &str, found: &mut Vec<(InventoryFormat, &'static str)>) -> Option<Looks> {
    let has = |key: &str| text.contains(&format!("\"{key}\""));
    if has("_meta") {
        found.push((
            InventoryFormat::Ansible,
            "the JSON of `ansible-inventory --list`",
        ));
        return None;
    }
    if text.contains("\"BareMetalHost\"") {
        found.push((InventoryFormat::Metal3, "metal3 BareMetalHost objects"));
        return None;
    }
    if has("pm_addr") {
        found.push((InventoryFormat::Tripleo, "a TripleO instackenv file"));
        return None;
    }
    if has("driver_info") {
        found.push((InventoryFormat::Ironic, "Ironic or Bifrost nodes"));
        return None;
    }
    if has("oob_ip") || has("device_type") {
        found.push((InventoryFormat::Netbox, "a NetBox devices export"));
        return None;
    }
    if has("assigned_object_type") || (has("address") && has("vrf") && has("family")) {
        return Some(Looks::Other(
            "a NetBox export of IP addresses (`/api/ipam/ip-addresses/`)".into(),
        ));
    }
    if has("mgmt_only") || (has("mac_address") && has("device")) {
        return Some(Looks::Other(
            "a NetBox export of interfaces (`/api/dcim/interfaces/`)".into(),
        ));
    }
    if has("bmcs") {
        found.push((
            InventoryFormat::Native,
            "bmcwall's inventory format, in JSON",
        ));
    }
    if has("hosts") || has("children") {
        found.push((InventoryFormat::Ansible, "an Ansible inventory in JSON"));
    }
    None
}

/// YAML, an INI inventory or CSV.
fn yaml_ini_csv(text: &str, found: &mut Vec<(InventoryFormat, &'static str)>) -> Option<Looks> {
    let significant: Vec<&str> = text
        .lines()
        .map(|line| line.trim_end())
        .filter(|line| {
            let t = line.trim_start();
            !t.is_empty() && !t.starts_with('#') && !t.starts_with(';')
        })
        .collect();
    let first = significant.first()?;
    let top_keys: Vec<&str> = significant
        .iter()
        .filter(|line| !line.starts_with([' ', '\t', '-']))
        .filter_map(|line| {
            line.split_once(':')
                .map(|(key, _)| key.trim().trim_matches(['"', '\'']))
        })
        .collect();
    let kinds: Vec<&str> = significant
        .iter()
        .filter_map(|line| line.strip_prefix("kind:"))
        .map(|kind| kind.trim().trim_matches(['"', '\'']))
        .collect();
    let nested = |key: &str| {
        significant.iter().any(|line| {
            let line = line.trim_start();
            line.strip_prefix("- ")
                .unwrap_or(line)
                .trim_start()
                .starts_with(key)
        })
    };
    if nested("kind: BareMetalHost") {
        found.push((InventoryFormat::Metal3, "metal3 BareMetalHost manifests"));
        return None;
    }
    if top_keys.contains(&"platform") && (top_keys.contains(&"baseDomain") || nested("baremetal:"))
    {
        found.push((InventoryFormat::Openshift, "an OpenShift install-config"));
        return None;
    }
    if top_keys.contains(&"nodeprofiles")
        || (top_keys.contains(&"nodes") && top_keys.contains(&"WW_INTERNAL"))
    {
        found.push((InventoryFormat::Warewulf, "a Warewulf nodes.conf"));
        return None;
    }
    // An Ansible inventory may hold the same variables: its groups win.
    let group_keys = significant.iter().any(|line| {
        line.starts_with([' ', '\t']) && matches!(line.trim(), "hosts:" | "children:" | "vars:")
    });
    let ansible = top_keys.contains(&"all") || group_keys;
    if nested("pm_addr:") && !ansible {
        found.push((InventoryFormat::Tripleo, "a TripleO instackenv file"));
        return None;
    }
    if nested("driver_info:") && !ansible {
        found.push((InventoryFormat::Ironic, "Ironic or Bifrost nodes"));
        return None;
    }
    if let Some(kind) = kinds.first() {
        if top_keys.contains(&"apiVersion") {
            return Some(Looks::Other(format!("a Kubernetes {kind}")));
        }
    }
    if is_ini_section(first)
        || significant
            .iter()
            .any(|line| !line.starts_with([' ', '\t']) && is_ini_section(line))
    {
        found.push((InventoryFormat::Ansible, "an Ansible INI inventory"));
        return None;
    }
    if top_keys.contains(&"bmcs") {
        found.push((InventoryFormat::Native, "bmcwall's inventory YAML"));
    }
    if top_keys.contains(&"all") || (group_keys && !top_keys.contains(&"bmcs")) {
        found.push((InventoryFormat::Ansible, "an Ansible YAML inventory"));
    }
    if found.is_empty() && looks_like_csv(&significant) {
        found.push((InventoryFormat::Csv, "a CSV file with a header row"));
    }
    if found.is_empty() && significant.iter().all(|line| is_ini_host_line(line)) {
        found.push((InventoryFormat::Ansible, "an Ansible INI inventory"));
    }
    None
}

/// A header row of names and rows with as many cells.
fn looks_like_csv(lines: &[&str]) -> bool {
    let Some(header) = lines.first() else {
        return false;
    };
    let cells = header.split(',').count();
    cells >= 2
        && header.split(',').all(|cell| {
            let cell = cell.trim().trim_matches('"');
            !cell.is_empty() && !cell.contains(':') && !cell.contains('=')
        })
        && lines[1..]
            .iter()
            .all(|line| line.split(',').count() == cells)
}

/// `host [key=value ...]`, as an INI inventory lists hosts.
fn is_ini_host_line(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let host_ok = words
        .next()
        .is_some_and(|host| !host.contains(':') || host.contains('['));
    host_ok && words.all(|word| word.contains('=') && !word.starts_with('='))
}

/// The one error for a file read as `format` that is plainly something
/// else; `None` when it is not plainly anything else.
pub(super) fn mismatch(
    locator: &Locator,
    format: InventoryFormat,
    looks: &Looks,
) -> Option<Diagnostic> {
    let span = locator.first_line();
    match looks {
        Looks::Format(other, what) if *other != format => Some(
            Diagnostic::new(
                Code::InventoryError,
                format!("this is not a {} inventory: it is {what}", format.name()),
                span,
                format!("read as `format {}`", format.name()),
            )
            .with_help(format!(
                "write `format {}`, or leave `format` out to have it detected",
                other.name()
            )),
        ),
        Looks::Other(what) => Some(not_an_inventory(locator, what)),
        _ => None,
    }
}

/// The error for a file whose format is not given and cannot be told.
pub(super) fn undetected(locator: &Locator, looks: &Looks) -> Diagnostic {
    let span = locator.first_line();
    let formats: Vec<String> = InventoryFormat::ALL
        .iter()
        .map(|format| format!("`{}`", format.name()))
        .collect();
    match looks {
        Looks::Other(what) => not_an_inventory(locator, what),
        Looks::Ambiguous(candidates) => {
            let listed: Vec<String> = candidates
                .iter()
                .map(|(format, what)| format!("{} (`format {}`)", what, format.name()))
                .collect();
            Diagnostic::new(
                Code::InventoryError,
                format!(
                    "cannot tell the format of this inventory: it could be {}",
                    listed.join(" or ")
                ),
                span,
                "format not given",
            )
            .with_help("name the format after the path: `inventory \"PATH\" format NAME;`")
        }
        _ => Diagnostic::new(
            Code::InventoryError,
            "cannot tell the format of this inventory".to_string(),
            span,
            "format not given",
        )
        .with_help(format!(
            "name the format after the path (`inventory \"PATH\" format NAME;`); the formats are {}",
            formats.join(", ")
        )),
    }
}

fn not_an_inventory(locator: &Locator, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InventoryError,
        format!("this is {what}, not an inventory"),
        locator.first_line(),
        "not an inventory",
    )
    .with_help("an inventory lists BMCs or the hosts and devices they belong to; see docs/language.md for the formats bmcwall reads")
}

#[cfg(test)]
mod tests {
    use super::*;
    use InventoryFormat::*;

    fn format(text: &str) -> Option<InventoryFormat> {
        match detect(text) {
            Looks::Format(format, _) => Some(format),
            _ => None,
        }
    }

    #[test]
    fn each_format_is_told_by_its_content() {
        assert_eq!(
            format("bmcs:\n  - name: a\n    address: 10.0.0.1\n"),
            Some(Native)
        );
        assert_eq!(format("all:\n  hosts:\n    a:\n"), Some(Ansible));
        assert_eq!(format("idrac:\n  hosts:\n    a:\n"), Some(Ansible));
        assert_eq!(format("# Dell\n[idrac]\n10.0.0.1\n"), Some(Ansible));
        assert_eq!(format("host1 bmc_address=10.0.0.1\nhost2\n"), Some(Ansible));
        assert_eq!(format("{\"_meta\": {\"hostvars\": {}}}"), Some(Ansible));
        assert_eq!(
            format("[{\"name\": \"a\", \"oob_ip\": null}]"),
            Some(Netbox)
        );
        assert_eq!(format("name,bmc_ip,rack\nn1,10.0.0.1,a\n"), Some(Csv));
        assert_eq!(
            detect("apiVersion: v1\nkind: Secret\ndata:\n  password: eA==\n"),
            Looks::Other("a Kubernetes Secret".into())
        );
        assert_eq!(
            format("apiVersion: v1\nkind: Secret\n---\napiVersion: metal3.io/v1alpha1\nkind: BareMetalHost\n"),
            Some(Metal3)
        );
        assert_eq!(
            format("{\"items\": [{\"kind\": \"BareMetalHost\"}], \"kind\": \"List\"}"),
            Some(Metal3)
        );
        assert_eq!(
            format("apiVersion: v1\nbaseDomain: example.com\nplatform:\n  baremetal:\n"),
            Some(Openshift)
        );
        assert_eq!(
            format("{\"n1\": {\"driver_info\": {\"ipmi_address\": \"10.0.0.1\"}}}"),
            Some(Ironic)
        );
        assert_eq!(
            format("nodes:\n  - name: n1\n    driver_info:\n"),
            Some(Ironic)
        );
        assert_eq!(
            format("{\"nodes\": [{\"pm_addr\": \"10.0.0.1\"}]}"),
            Some(Tripleo)
        );
        assert_eq!(format("nodes:\n- pm_addr: 10.0.0.1\n"), Some(Tripleo));
        assert_eq!(
            format("all:\n  hosts:\n    c0:\n      pm_addr: 10.0.0.1\n"),
            Some(Ansible),
            "an Ansible inventory with TripleO's variables"
        );
        assert_eq!(
            format("WW_INTERNAL: 45\nnodes:\n  n1: {}\n"),
            Some(Warewulf)
        );
        assert_eq!(
            format("nodeprofiles:\n  default: {}\nnodes: {}\n"),
            Some(Warewulf)
        );
        assert_eq!(detect(""), Looks::Unknown);
        assert!(matches!(
            detect("bmcs:\n  - name: a\nall:\n  hosts:\n"),
            Looks::Ambiguous(found) if found.len() == 2
        ));
    }
}
