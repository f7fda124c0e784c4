//! The VS Code extension in `editors/vscode`: its TextMate grammar tokenizes
//! every policy of the repository as VS Code would (the Node test in
//! `editors/vscode/test/`), and the extension packages into a `.vsix` holding
//! the grammar. Both need `npm ci` in `editors/vscode` (`.ci/run` does it);
//! without its `node_modules` they are skipped, saying so.

use crate::support::{crate_root, stderr, stdout, wall_files};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The extension's directory, when its packages are installed.
fn extension() -> Option<PathBuf> {
    let dir = crate_root().join("editors/vscode");
    if dir.join("node_modules").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "editor test skipped: editors/vscode/node_modules is missing \
             (run `npm ci` in editors/vscode; .ci/run does)"
        );
        None
    }
}

/// Runs `program args` in `dir`, failing the test on a non-zero exit.
fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let started = Instant::now();
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|error| panic!("{program} does not start: {error}"));
    eprintln!(
        "{program} {}: {:.2} s",
        args.join(" "),
        started.elapsed().as_secs_f64()
    );
    assert!(
        output.status.success(),
        "{program} {} failed ({:?}):\n{}\n{}",
        args.join(" "),
        output.status.code(),
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

#[test]
fn the_textmate_grammar_tokenizes_every_policy() {
    let Some(dir) = extension() else {
        return;
    };
    let mut files = Vec::new();
    for tree in ["examples", "tests/fixtures"] {
        wall_files(&crate_root().join(tree), &mut files);
    }
    let invalid = crate_root().join("tests/fixtures/invalid");
    let broken = files.iter().filter(|f| f.starts_with(&invalid)).count();
    let valid = files.len() - broken;
    assert!(
        valid >= 60 && broken >= 60,
        "{valid} valid, {broken} invalid"
    );

    let out = run(&dir, "node", &["test/grammar.test.js"]);
    eprint!("{out}");
    // The script saw every file, and checked each valid one.
    let seen = format!("grammar: {valid} valid files (");
    assert!(out.starts_with(&seen), "expected {seen:?} in {out:?}");
    assert!(
        out.contains(&format!(
            ", {broken} invalid files, 51 sample expectations, "
        )),
        "{out}"
    );
}

#[test]
fn the_extension_packages_with_its_grammar() {
    let Some(dir) = extension() else {
        return;
    };
    let out = tempfile::tempdir().expect("a temporary directory");
    let vsix = out.path().join("bmcwall.vsix");
    let vsce = dir.join("node_modules/.bin/vsce");
    run(
        &dir,
        vsce.to_str().expect("a UTF-8 path"),
        &[
            "package",
            "--allow-missing-repository",
            "--skip-license",
            "--out",
            vsix.to_str().expect("a UTF-8 path"),
        ],
    );
    let bytes = std::fs::read(&vsix).expect("the .vsix is written");
    let names = zip_names(&bytes);
    for wanted in [
        "extension.vsixmanifest",
        "extension/package.json",
        "extension/extension.js",
        "extension/language-configuration.json",
        "extension/syntaxes/bmcwall.tmLanguage.json",
        "extension/node_modules/vscode-languageclient/package.json",
    ] {
        assert!(
            names.iter().any(|n| n == wanted),
            "{wanted} not in {names:?}"
        );
    }
    // Neither the test nor the packages it needs are shipped.
    for unwanted in [
        "extension/test/",
        "extension/node_modules/vscode-textmate/",
        "extension/node_modules/@vscode/vsce/",
    ] {
        assert!(
            !names.iter().any(|n| n.starts_with(unwanted)),
            "{unwanted} is in the .vsix"
        );
    }
}

/// The names of the entries of a zip file, from its central directory.
fn zip_names(zip: &[u8]) -> Vec<String> {
    let u16_at = |at: usize| u16::from_le_bytes([zip[at], zip[at + 1]]) as usize;
    let u32_at =
        |at: usize| u32::from_le_bytes(zip[at..at + 4].try_into().expect("four bytes")) as usize;
    let end = (0..=zip.len() - 22)
        .rev()
        .find(|&at| zip[at..at + 4] == [0x50, 0x4b, 0x05, 0x06])
        .expect("a zip file: the end of its central directory");
    let (count, mut at) = (u16_at(end + 10), u32_at(end + 16));
    let mut names = Vec::with_capacity(count);
    for _ in 0..count {
        assert_eq!(
            zip[at..at + 4],
            [0x50, 0x4b, 0x01, 0x02],
            "a central directory entry"
        );
        let (name, extra, comment) = (u16_at(at + 28), u16_at(at + 30), u16_at(at + 32));
        names.push(String::from_utf8(zip[at + 46..at + 46 + name].to_vec()).expect("a UTF-8 name"));
        at += 46 + name + extra + comment;
    }
    names
}
