//! `bmcwall fmt`: rewrites files in the canonical layout (atomically, keeping
//! their permissions), or with `--check` prints a unified diff for each file
//! that is not in it.

use super::Exit;
use super::{render, write, FmtArgs};
use crate::fmt::{self, FormatError};
use crate::pipeline::Checked;
use crate::source::{normalize, SourceMap};
use std::io::{Read as _, Write as _};
use std::path::Path;

/// Lines of context around each change in a diff.
const DIFF_CONTEXT: usize = 3;
/// How long computing one diff may take before it settles for a longer one.
const DIFF_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(1);

/// What the name `-` stands for, and what a diff calls standard input.
const STDIN: &str = "-";
const STDIN_SHOWN: &str = "<stdin>";

/// Formats every file (standard input when none is given) and returns the
/// exit code: 2 if a file does not parse or cannot be read or written, else 1
/// if `--check` found a file that is not formatted, else 0.
pub(super) fn run(args: FmtArgs) -> Exit {
    let stdin = [STDIN.into()];
    let files = if args.files.is_empty() {
        &stdin[..]
    } else {
        &args.files[..]
    };
    let color = args.color.enabled();
    files
        .iter()
        .map(|path| one(path, args.check, color))
        .max()
        .unwrap_or(Exit::Success)
}

fn one(path: &Path, check: bool, color: bool) -> Exit {
    let from_stdin = path.as_os_str() == STDIN;
    let shown = if from_stdin {
        STDIN_SHOWN.to_string()
    } else {
        path.display().to_string()
    };
    let text = match read(path, from_stdin) {
        Ok(text) => text,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "bmcwall: cannot read {shown}: {error}");
            return Exit::Invalid;
        }
    };
    let mut sources = SourceMap::default();
    let file = sources.add(normalize(Path::new(&shown)), text.clone());
    let formatted = match fmt::format(file, &text) {
        Ok(formatted) => formatted,
        Err(FormatError::Syntax(diagnostics)) => {
            let checked = Checked::of_diagnostics(sources, diagnostics);
            let options = render::Options {
                color,
                quiet: false,
                verbose: false,
            };
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(render::human(&checked, &options).as_bytes());
            let _ = writeln!(stderr, "bmcwall: not formatted: {shown} does not parse");
            return Exit::Invalid;
        }
        Err(FormatError::Internal(message)) => {
            let _ = writeln!(
                std::io::stderr(),
                "bmcwall: cannot format {shown}: {message}"
            );
            return Exit::Invalid;
        }
    };
    if check {
        if formatted == text {
            return Exit::Success;
        }
        if let Err(exit) = super::printed(&diff(&shown, &text, &formatted)) {
            return exit;
        }
        let _ = writeln!(std::io::stderr(), "bmcwall: {shown} is not formatted");
        return Exit::Findings;
    }
    if from_stdin {
        return super::printed(&formatted).map_or_else(|exit| exit, |()| Exit::Success);
    }
    if formatted == text {
        return Exit::Success;
    }
    match write::output(path, formatted.as_bytes()) {
        Ok(()) => Exit::Success,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "bmcwall: {error}");
            Exit::Invalid
        }
    }
}

fn read(path: &Path, from_stdin: bool) -> std::io::Result<String> {
    if from_stdin {
        let mut text = String::new();
        std::io::stdin().lock().read_to_string(&mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(path)
    }
}

/// A unified diff from `old` to `new`, with `a/` and `b/` headers. Patience
/// diffing suits code whose lines are mostly unique; past the time limit
/// (a huge file rewritten throughout) the diff stays correct but may be
/// longer than the shortest one.
fn diff(shown: &str, old: &str, new: &str) -> String {
    similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Patience)
        .timeout(DIFF_TIME_LIMIT)
        .diff_lines(old, new)
        .unified_diff()
        .context_radius(DIFF_CONTEXT)
        .header(&format!("a/{shown}"), &format!("b/{shown}"))
        .to_string()
}
