//! Includes: reads the policy file and the files it includes, depth-first
//! and relative to the including file, splicing their statements in place; a
//! stack of the files being read detects cycles (BW004).

use super::ahead::Ahead;
use super::inventory::Request;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{normalize, FileId, Open, SourceMap, Span};
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

/// A policy file's text: its open buffer when an editor holds one, else
/// the file.
fn read(sources: &SourceMap, path: &Path) -> std::io::Result<String> {
    read_open(&sources.open_buffers(), path)
}

/// A file's text: its buffer in `open` when an editor holds one, else the
/// file.
pub(super) fn read_open(open: &Open, path: &Path) -> std::io::Result<String> {
    match open.get(&canonical(path)) {
        Some(text) => Ok(text.clone()),
        None => read_text(path),
    }
}

/// The most bytes bmcwall reads from one file (a policy, an included file,
/// an inventory): 64 MiB.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// The text of the regular file at `path`, read whole but bounded: anything
/// else (a FIFO, a device, a directory) is an error, never a wait or an
/// endless read, and so is a file over [`MAX_FILE_BYTES`] or one that is not
/// UTF-8 (the error names the first byte that is not, by line and column).
pub fn read_text(path: &Path) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read};
    use std::os::unix::fs::OpenOptionsExt;
    // Opening a FIFO for reading waits for a writer, unless non-blocking.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        let what = if metadata.is_dir() {
            "a directory"
        } else {
            use std::os::unix::fs::FileTypeExt;
            let kind = metadata.file_type();
            if kind.is_fifo() {
                "a FIFO"
            } else if kind.is_socket() {
                "a socket"
            } else {
                "a device"
            }
        };
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{what}, not a regular file"),
        ));
    }
    let too_large = || {
        Error::new(
            ErrorKind::InvalidInput,
            format!(
                "larger than the limit of {} MiB a file may have",
                MAX_FILE_BYTES >> 20
            ),
        )
    };
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        Error::new(
            ErrorKind::InvalidData,
            format!(
                "not UTF-8 text: the byte at {line}:{column} (offset {}) is not UTF-8",
                valid.len()
            ),
        )
    })
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
}

pub(super) fn error_text(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => error.to_string(),
    }
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
