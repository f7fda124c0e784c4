//! Includes: reads the policy file and the files it includes, depth-first
//! and relative to the including file, splicing their statements in place; a
//! stack of the files being read detects cycles (BW004).

use super::ahead::Ahead;
use super::files::{canonical, error_text, read};
use super::inventory::Request;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{normalize, FileId, SourceMap, Span};
use crate::syntax::{self, Statement};
use std::path::{Path, PathBuf};

/// A statement with the file it came from, after includes are spliced in.
pub(super) struct Located {
    pub statement: Statement,
    /// The directory of the file, which paths in the statement are relative to.
    pub dir: PathBuf,
}

/// The statements of the policy at `path` and of every file it includes, in
/// order; a file that cannot be read is reported.
pub(super) fn read_policy(
    path: &Path,
    sources: &mut SourceMap,
    ahead: &mut Ahead,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Located> {
    let mut statements = Vec::new();
    match read(sources, path) {
        Ok(text) => {
            let file = sources.add(normalize(path), text);
            let mut stack = vec![Reading {
                key: canonical(path),
                shown: normalize(path),
                included_at: None,
            }];
            read_file(
                file,
                path,
                sources,
                &mut stack,
                ahead,
                &mut statements,
                diagnostics,
            );
        }
        Err(error) => {
            let file = sources.add(normalize(path), String::new());
            diagnostics.push(Diagnostic::new(
                Code::IncludeError,
                format!("cannot read {}: {}", path.display(), error_text(&error)),
                Span::new(file, 0, 0),
                "file not readable",
            ));
        }
    }
    statements
}

/// A file being read, outermost first: where the chain of includes stands.
struct Reading {
    /// The canonical path, to recognise the file again.
    key: PathBuf,
    /// The path as shown in diagnostics.
    shown: PathBuf,
    /// The `include` that brought the file in; `None` for the top file.
    included_at: Option<Span>,
}

fn read_file(
    file: FileId,
    path: &Path,
    sources: &mut SourceMap,
    stack: &mut Vec<Reading>,
    ahead: &mut Ahead,
    out: &mut Vec<Located>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let (ast, parse_diagnostics) =
        syntax::parse_watching(file, &sources.file(file).text, &mut |statement| {
            if let Statement::Inventory(spec, _) = statement {
                ahead.ask(dir.join(&spec.path.value), Request::of(spec));
            }
        });
    diagnostics.extend(parse_diagnostics);
    for statement in ast.statements {
        if let Statement::Include(target, _) = &statement {
            let included = dir.join(&target.value);
            let key = canonical(&included);
            if let Some(pos) = stack.iter().position(|r| r.key == key) {
                let chain: Vec<String> = stack[pos..]
                    .iter()
                    .map(|r| r.shown.display().to_string())
                    .chain(std::iter::once(normalize(&included).display().to_string()))
                    .collect();
                let mut diagnostic = Diagnostic::new(
                    Code::IncludeError,
                    format!("include cycle: {}", chain.join(" -> ")),
                    target.span,
                    "includes a file that is already being read",
                )
                .with_help(
                    "definitions are global across files, so a file never needs to include a file that includes it; remove one of these includes",
                );
                for reading in &stack[pos + 1..] {
                    if let Some(span) = reading.included_at {
                        diagnostic = diagnostic.with_related(
                            span,
                            format!("`{}` is included here", reading.shown.display()),
                        );
                    }
                }
                diagnostics.push(diagnostic);
                continue;
            }
            match ahead
                .root
                .admit(&included)
                .and_then(|()| read(sources, &included))
            {
                Ok(text) => {
                    let child = sources.add(normalize(&included), text);
                    stack.push(Reading {
                        key,
                        shown: normalize(&included),
                        included_at: Some(target.span),
                    });
                    read_file(child, &included, sources, stack, ahead, out, diagnostics);
                    stack.pop();
                }
                Err(error) => diagnostics.push(
                    Diagnostic::new(
                        Code::IncludeError,
                        format!("cannot include `{}`: {}", target.value, error_text(&error)),
                        target.span,
                        format!("{} not readable", normalize(&included).display()),
                    )
                    .with_help("include paths are relative to the including file"),
                ),
            }
            continue;
        }
        out.push(Located {
            statement,
            dir: dir.clone(),
        });
    }
}
