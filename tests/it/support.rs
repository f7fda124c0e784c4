//! What the test modules share: the crate's files, the fixed date the tests
//! check on, checking a policy in-process, and running the real binary.

use bmcwall::model::Date;
use bmcwall::pipeline::{self, Checked, Settings};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The date every test checks policies on, so `until` dates give stable results.
pub const TODAY: &str = "2026-11-21";

/// The shipped example policy, relative to the crate root.
pub const AMS1: &str = "examples/ams1/ams1.wall";

/// The crate root: fixtures, examples and snapshots paths are relative to it.
pub fn crate_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A file of the crate, from its path relative to the crate root.
pub fn fixture(path: &str) -> PathBuf {
    crate_root().join(path)
}

/// [`TODAY`] as a date.
pub fn today() -> Date {
    Date::parse(TODAY).expect("a date")
}

/// Checks a policy file in-process on [`TODAY`] at the default levels; the
/// model is there unless the input is invalid.
pub fn check(path: &Path) -> Checked {
    pipeline::check(path, today(), &Settings::default())
}

/// Runs the binary from the crate root (so paths in its output are stable),
/// with no input.
pub fn bmcwall(args: &[&str]) -> Output {
    bmcwall_in(crate_root(), args, "", &[])
}

/// Runs the binary in `dir` with `stdin` as its standard input and `env` added
/// to its environment. `NO_COLOR` is removed, so colour depends only on the
/// arguments (and output to a pipe is never coloured).
pub fn bmcwall_in(dir: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_bmcwall"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the bmcwall binary runs");
    let mut input = child.stdin.take().expect("a pipe to standard input");
    // A run that exits without reading its input closes the pipe early; what
    // it printed and its exit status tell whether that was right.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    child.wait_with_output().expect("bmcwall finishes")
}

/// Output bytes as text; the binary writes only UTF-8.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// A run's standard output.
pub fn stdout(output: &Output) -> String {
    text(&output.stdout)
}

/// A run's standard error.
pub fn stderr(output: &Output) -> String {
    text(&output.stderr)
}

/// Every `.wall` file under `dir`, recursively, sorted.
pub fn wall_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            wall_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "wall") {
            out.push(path);
        }
    }
    out.sort();
}
