//! The modules of `src/` import only from their own layer's module or from
//! earlier layers. The order is the `layers` block of ARCHITECTURE.md, read from
//! the file, so the map and the test cannot disagree.

use crate::support::crate_root;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers, lowest first, as ARCHITECTURE.md lists them: each line of the
/// ```` ```layers ```` block names the modules of one layer.
fn layers(architecture: &str) -> Vec<Vec<String>> {
    let start = architecture
        .find("```layers\n")
        .expect("ARCHITECTURE.md has a ```layers block");
    let block = &architecture[start + "```layers\n".len()..];
    let end = block.find("```").expect("the layers block is closed");
    block[..end]
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// The top-level module a file under `src/` belongs to (`src/nft/json.rs` is
/// `nft`); `None` for the crate root and the binary.
fn module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The crate modules a file's code names (`crate::NAME`), with the line of each,
/// comments left out.
fn imports(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if let Some(group) = rest.strip_prefix('{') {
                // `use crate::{a, b::c}`: every first name of the group.
                let inner = group.split('}').next().unwrap_or("");
                for item in inner.split(',') {
                    let head = item.trim().split("::").next().unwrap_or("").trim();
                    if !head.is_empty() {
                        found.push((number + 1, head.to_string()));
                    }
                }
            } else if !name.is_empty() {
                found.push((number + 1, name));
            }
        }
    }
    found
}

/// Every import that goes up the layer order or sideways into another module of
/// the same layer, and every module the order does not name.
fn violations(files: &[(PathBuf, String)], order: &[Vec<String>]) -> Vec<String> {
    let rank: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .flat_map(|(rank, layer)| layer.iter().map(move |m| (m.as_str(), rank)))
        .collect();
    let mut found = Vec::new();
    for (path, text) in files {
        let Some(module) = module_of(path) else {
            continue;
        };
        let Some(&own) = rank.get(module.as_str()) else {
            found.push(format!(
                "src/{}: module `{module}` is in no layer of ARCHITECTURE.md",
                path.display()
            ));
            continue;
        };
        for (line, target) in imports(text) {
            if target == module || target == "self" || target == "super" {
                continue;
            }
            match rank.get(target.as_str()) {
                Some(&theirs) if theirs < own => {}
                Some(&theirs) => {
                    found.push(format!(
                    "src/{}:{line}: `{module}` imports `{target}`, which is {} in the layer order",
                    path.display(),
                    if theirs == own { "beside it" } else { "above it" }
                ))
                }
                None => found.push(format!(
                    "src/{}:{line}: `{module}` imports `{target}`, which is in no layer",
                    path.display()
                )),
            }
        }
    }
    found
}

fn source_files(dir: &Path, root: &Path, out: &mut Vec<(PathBuf, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            source_files(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a source file is UTF-8");
            let relative = path.strip_prefix(root).expect("under src/").to_path_buf();
            out.push((relative, text));
        }
    }
}

fn architecture() -> String {
    std::fs::read_to_string(crate_root().join("ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md is readable")
}

#[test]
fn every_module_imports_only_from_earlier_layers() {
    let root = crate_root().join("src");
    let mut files = Vec::new();
    source_files(&root, &root, &mut files);
    let order = layers(&architecture());
    let found = violations(&files, &order);
    assert!(
        found.is_empty(),
        "imports against the layer order:\n{}",
        found.join("\n")
    );
}

#[test]
fn an_upward_import_is_found() {
    let order = layers(&architecture());
    let planted = |path: &str, text: &str| vec![(PathBuf::from(path), text.to_string())];
    assert_eq!(
        violations(
            &planted("diagnostic/mod.rs", "use crate::lints::registry::CHECKS;\n"),
            &order
        ),
        ["src/diagnostic/mod.rs:1: `diagnostic` imports `lints`, which is above it in the layer order"]
    );
    assert_eq!(
        violations(
            &planted("syntax/lower.rs", "fn f() {}\nuse crate::{source::Span, resolve::Policy};\n"),
            &order
        ),
        ["src/syntax/lower.rs:2: `syntax` imports `resolve`, which is above it in the layer order"]
    );
    assert_eq!(
        violations(
            &planted("nft/json.rs", "    let x = crate::lints::run(c);\n"),
            &order
        ),
        ["src/nft/json.rs:1: `nft` imports `lints`, which is beside it in the layer order"]
    );
    assert_eq!(
        violations(&planted("gateway.rs", "use crate::source::Span;\n"), &order),
        ["src/gateway.rs: module `gateway` is in no layer of ARCHITECTURE.md"]
    );
    // Comments and imports from below are fine.
    assert!(violations(
        &planted(
            "nft/json.rs",
            "// see crate::cli::run\nuse crate::analysis::Analysis;\n"
        ),
        &order
    )
    .is_empty());
}
