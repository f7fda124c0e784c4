//! Bad input never panics: random token soups and random edits of the shipped
//! example and of the Ansible and NetBox inventory fixtures go through the
//! whole pipeline, and whatever checks clean compiles.

use crate::support::{self, fixture};
use bmcwall::cli::Exit;
use bmcwall::nft;
use proptest::prelude::*;
use std::path::Path;

/// Tokens besides the keywords (`bmcwall::syntax::KEYWORDS`) that random
/// input is made of.
const OTHER_TOKENS: &[&str] = &[
    "->",
    ":",
    ";",
    ",",
    "=",
    "!=",
    "(",
    ")",
    "\"",
    "\"text\"",
    "#",
    "\n",
    " ",
    "a",
    "b",
    "rack-a",
    "ssh",
    "https",
    "10.0.0.1",
    "10.0.0.0/8",
    "10.1.2.3/16",
    "fd00::5",
    "fd00::/8",
    "::",
    "10.0.0.1-10.0.0.9",
    "443",
    "5900-5901",
    "0",
    "70000",
    "2026-11-21",
    "2026-02-30",
    "BW101",
    "\\",
    "é",
    "/",
    "-",
    ".",
    "1.2.3.4.5",
    "format",
    "native",
    "ansible",
    "netbox",
    "\"inventory/ams1.yaml\"",
];

/// Tokens that random edits of inventory files (YAML and JSON) are made of.
const INVENTORY_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ": ",
    ",",
    "\"",
    "'",
    "-",
    "- ",
    "#",
    "\n",
    "  ",
    "\t",
    "\\",
    "\\u",
    "\\ud83d",
    "\\ude00",
    "\\ud83d\\ude00",
    "null",
    "~",
    "true",
    "1",
    "é",
    "10.0.0.1",
    "10.0.0.1/24",
    "fd00::1",
    "fd00::1/64",
    "10.0.0.300",
    "name",
    "\"name\": ",
    "oob_ip",
    "\"address\": ",
    "results",
    "next",
    "all:",
    "hosts:",
    "children:",
    "vars:",
    "bmc_address: ",
    "ansible_host: ",
    "vendor: ibm",
    "&a",
    "*a",
    "!vault |",
    "!x",
    "\u{feff}",
    "---",
    "...",
];

fn tokens() -> Vec<&'static str> {
    bmcwall::syntax::KEYWORDS
        .iter()
        .chain(OTHER_TOKENS)
        .copied()
        .collect()
}

/// Runs the pipeline on `text` as a policy file beside the example's inventory.
fn run_pipeline(text: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let inventory = dir.path().join("inventory");
    std::fs::create_dir(&inventory).expect("dir");
    std::fs::copy(
        fixture("examples/ams1/inventory/ams1.yaml"),
        inventory.join("ams1.yaml"),
    )
    .expect("copy inventory");
    let path = dir.path().join("policy.wall");
    std::fs::write(&path, text).expect("write");
    verify(&path);
}

/// Runs the pipeline on `policy` beside an inventory file `name` holding
/// `inventory`.
fn run_with_inventory(policy: &str, name: &str, inventory: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join(name), inventory).expect("write inventory");
    let path = dir.path().join("policy.wall");
    std::fs::write(&path, policy).expect("write");
    verify(&path);
}

/// Checks `path`: every finding's span lies in its file, and a clean policy
/// compiles.
fn verify(path: &Path) {
    let checked = support::check(path);
    for finding in &checked.findings {
        let span = finding.diagnostic.primary().span;
        let file = checked.sources.file(span.file);
        assert!(
            span.start <= span.end && span.end as usize <= file.text.len(),
            "span outside its file"
        );
    }
    if let (Exit::Success, Some((policy, analysis))) = (Exit::of(&checked), &checked.model) {
        let input = nft::Input {
            policy,
            analysis,
            sources: &checked.sources,
        };
        for layout in [nft::Layout::Sets, nft::Layout::Rules] {
            let ruleset = nft::build(layout, input, nft::DEFAULT_TABLE);
            assert!(nft::text::render(&ruleset, "").contains("chain forward"));
            assert!(nft::json::render(&ruleset)
                .expect("nft JSON")
                .contains("\"forward\""));
        }
    }
}

/// Applies random edits (insert, delete, replace) of `tokens` to `text`.
fn edit(text: &str, edits: &[(prop::sample::Index, u8, &str)]) -> String {
    let mut text = text.to_string();
    for (at, kind, token) in edits {
        let mut cut = at.index(text.len() + 1);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        match kind {
            0 => text.insert_str(cut, token),
            1 => {
                let mut end = (cut + token.len()).min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.replace_range(cut..end, "");
            }
            _ => {
                let mut end = (cut + 1).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(cut..end, token);
            }
        }
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn edited_ansible_inventory_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, prop::sample::select(INVENTORY_TOKENS)), 1..6)
    ) {
        let inventory = edit(include_str!("../fixtures/inventory/ansible/hosts.yaml"), &edits);
        run_with_inventory(include_str!("../fixtures/inventory/ansible/site.wall"), "hosts.yaml", &inventory);
    }

    #[test]
    fn edited_netbox_export_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, prop::sample::select(INVENTORY_TOKENS)), 1..6)
    ) {
        let export = edit(include_str!("../fixtures/inventory/netbox/devices-list.json"), &edits);
        run_with_inventory(include_str!("../fixtures/inventory/netbox/list.wall"), "devices-list.json", &export);
    }

    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(prop::sample::select(tokens()), 0..40)) {
        let text: String = tokens.join(" ");
        run_pipeline(&text);
    }

    #[test]
    fn edited_example_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, prop::sample::select(tokens())), 1..6)
    ) {
        let text = edit(include_str!("../../examples/ams1/ams1.wall"), &edits);
        run_pipeline(&text);
    }
}
