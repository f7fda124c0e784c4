//! The fuzz targets' bodies: each takes any bytes, runs one stage on them,
//! and panics only on a defect. `fuzz/` runs them under libFuzzer
//! (`docs/reliability.md`); `tests/it/fuzz.rs` replays every file of their
//! committed corpora through them in `cargo test`.

use crate::cli::Exit;
use crate::nft;
use crate::pipeline::{self, Checked, Settings};
use crate::source::FileId;

/// A target's body: any bytes in, a panic only on a defect.
pub type Target = fn(&[u8]);

/// The targets, by name: the name of each one's corpus in `fuzz/corpus/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("parse", parse),
    ("check", check),
    ("listing", listing),
    ("fmt", fmt),
    ("compile", compile),
];

/// The inventory formats the `check` target writes its inventory as: the
/// file name and the `format` named.
const FORMATS: &[(&str, &str)] = &[
    ("inventory.yaml", "native"),
    ("hosts.yaml", "ansible"),
    ("hosts.ini", "ansible"),
    ("devices.json", "netbox"),
    ("bmcs.csv", "csv"),
    ("hosts.yaml", "metal3"),
    ("install-config.yaml", "openshift"),
    ("nodes.json", "ironic"),
    ("instackenv.json", "tripleo"),
    ("nodes.conf", "warewulf"),
];

/// The policy parser: every diagnostic lies in the text.
pub fn parse(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (_, diagnostics) = crate::syntax::parse(FileId(0), &text);
    for diagnostic in &diagnostics {
        for label in &diagnostic.labels {
            assert!(label.span.start <= label.span.end);
            assert!(
                label.span.end as usize <= text.len(),
                "a span past the text"
            );
            assert!(text.is_char_boundary(label.span.start as usize));
        }
    }
}

/// The whole `check` pipeline on one structured input: the first byte
/// picks an inventory format, the rest is a policy and an inventory split
/// at the first NUL byte. The policy loads the inventory first. Every
/// finding lies in its file; a policy that checks clean compiles in both
/// layouts and renders in both forms; every report renders.
pub fn check(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (policy, inventory) = match rest.iter().position(|&b| b == 0) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let (file, format) = FORMATS[usize::from(pick) % FORMATS.len()];
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let mut text = format!("inventory \"{file}\" format {format};\n").into_bytes();
    text.extend_from_slice(policy);
    let path = dir.path().join("policy.wall");
    if std::fs::write(&path, text).is_err()
        || std::fs::write(dir.path().join(file), inventory).is_err()
    {
        return;
    }
    let today = crate::model::Date::parse("2026-11-21").expect("a date");
    let checked = pipeline::check(&path, today, &Settings::default());
    verify(&checked);
}

/// What every checked policy must satisfy.
fn verify(checked: &Checked) {
    for finding in &checked.findings {
        for label in &finding.diagnostic.labels {
            let file = checked.sources.file(label.span.file);
            assert!(label.span.start <= label.span.end);
            assert!(
                label.span.end as usize <= file.text.len(),
                "a span past its file"
            );
        }
    }
    crate::cli::render_every_form(std::slice::from_ref(checked));
    if let (Exit::Success, Some((policy, analysis))) = (Exit::of(checked), &checked.model) {
        let input = nft::Input {
            policy,
            analysis,
            sources: &checked.sources,
        };
        for layout in [nft::Layout::Sets, nft::Layout::Rules] {
            let ruleset = nft::build(layout, input, nft::DEFAULT_TABLE);
            assert!(nft::text::render(&ruleset, "").contains("chain forward"));
            assert!(nft::json::render(&ruleset).is_ok());
        }
    }
}

/// The live-table reader on `nft -j` JSON: a listing it reads renders again.
pub fn listing(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(ruleset) = nft::parse::listing(&text, nft::DEFAULT_TABLE) {
        let _ = nft::text::render(&ruleset, "");
        let _ = nft::json::render(&ruleset);
        let _ = nft::interp::table_rules(&ruleset, 0);
    }
}

/// The formatter: idempotent, and what it writes parses to the same
/// findings as what it read.
pub fn fmt(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(formatted) = crate::fmt::format(FileId(0), &text) else {
        return;
    };
    let again = crate::fmt::format(FileId(0), &formatted).expect("formatted text formats");
    assert_eq!(again, formatted, "not idempotent");
    let codes = |text: &str| {
        let (ast, diagnostics) = crate::syntax::parse(FileId(0), text);
        let mut codes: Vec<_> = diagnostics.iter().map(|d| d.code).collect();
        codes.sort();
        (ast.statements.len(), codes)
    };
    assert_eq!(
        codes(&formatted),
        codes(&text),
        "formatting changed the findings"
    );
}

/// Compile, then interpret: a policy (no inventory) that is valid compiles
/// in both layouts, and each table read back by the nft interpreter decides
/// every flow as the model does (the comparison `plan` makes finds no
/// change), at the start of the day the policy is checked on and a year
/// later, after its `until` dates.
pub fn compile(data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let path = dir.path().join("policy.wall");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let today = crate::model::Date::parse("2026-11-21").expect("a date");
    let checked = pipeline::check(&path, today, &Settings::default());
    if checked.input_invalid() {
        return;
    }
    let Some((policy, analysis)) = &checked.model else {
        return;
    };
    let compiled = crate::analysis::compare::Compiled::of(policy, analysis);
    let now = today.start_second();
    let input = nft::Input {
        policy,
        analysis,
        sources: &checked.sources,
    };
    for layout in [nft::Layout::Sets, nft::Layout::Rules] {
        let ruleset = nft::build(layout, input, nft::DEFAULT_TABLE);
        let rules = nft::interp::table_rules(&ruleset, now)
            .unwrap_or_else(|e| panic!("{layout:?}: the compiled table does not read back: {e}"));
        let changes = crate::analysis::compare::changes(&compiled, Some(&rules));
        assert!(
            changes.is_empty(),
            "{layout:?}: the table decides {} flows otherwise than the model: {:?}",
            changes.len(),
            changes.first()
        );
    }
}
