//! Bad input never panics: random token soups and random edits of the shipped
//! example go through the whole pipeline, and whatever checks clean compiles.

use bmcwall::nft;
use bmcwall::pipeline::{self, Levels};
use bmcwall::syntax::Date;
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
];

fn tokens() -> Vec<&'static str> {
    bmcwall::syntax::KEYWORDS
        .iter()
        .chain(OTHER_TOKENS)
        .copied()
        .collect()
}

fn today() -> Date {
    Date::parse("2026-11-21").expect("date")
}

/// Runs the pipeline on `text` as a policy file beside the example's inventory.
fn run_pipeline(text: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let inventory = dir.path().join("inventory");
    std::fs::create_dir(&inventory).expect("dir");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ams1/inventory/ams1.yaml"),
        inventory.join("ams1.yaml"),
    )
    .expect("copy inventory");
    let path = dir.path().join("policy.wall");
    std::fs::write(&path, text).expect("write");
    let checked = pipeline::check(&path, today(), &Levels::default());
    for finding in &checked.findings {
        let span = finding.diagnostic.primary().span;
        let file = checked.sources.file(span.file);
        assert!(
            span.start <= span.end && span.end as usize <= file.text.len(),
            "span outside its file"
        );
    }
    if let (0, Some((policy, analysis))) = (checked.exit_code(), &checked.model) {
        let input = nft::Input {
            policy,
            analysis,
            sources: &checked.sources,
        };
        for layout in [nft::Layout::Sets, nft::Layout::Rules] {
            let ruleset = nft::build(layout, input, nft::DEFAULT_TABLE);
            assert!(nft::text::render(&ruleset, "").contains("chain forward"));
            assert!(nft::json::render(&ruleset).contains("\"forward\""));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(prop::sample::select(tokens()), 0..40)) {
        let text: String = tokens.join(" ");
        run_pipeline(&text);
    }

    #[test]
    fn edited_example_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, prop::sample::select(tokens())), 1..6)
    ) {
        let mut text = include_str!("../examples/ams1/ams1.wall").to_string();
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
        run_pipeline(&text);
    }
}
