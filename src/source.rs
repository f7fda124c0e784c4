//! Source files read during one run, and byte spans into them.

use std::path::{Path, PathBuf};

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Self {
            file,
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// One file: the path as shown to people, and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    /// Where each line starts, worked out when a position is first shown
    /// (most files read are never quoted: an inventory of 40,000 lines).
    line_starts: std::sync::OnceLock<Vec<usize>>,
    /// The file is not what it was read as (not an inventory of its
    /// format, not text): a snippet of it shows the lines its labels are on
    /// and none around them, so it never quotes more of a file that may
    /// be anything (a copy of `/etc/shadow`) than the line it is about.
    pub labelled_lines_only: bool,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: String) -> Self {
        Self {
            path,
            text,
            line_starts: std::sync::OnceLock::new(),
            labelled_lines_only: false,
        }
    }

    /// Where each line starts (a byte offset), the first at 0.
    pub fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        })
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line_starts = self.line_starts();
        let line = line_starts.partition_point(|&start| start <= offset) - 1;
        let start = line_starts[line];
        let column = self.text[start..offset].chars().count() + 1;
        (line + 1, column)
    }

    pub fn display_path(&self) -> String {
        self.path.display().to_string()
    }
}

/// Every file read during a run; spans refer into it by [`FileId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// Texts that stand for files on disk: an editor's unsaved buffers, by
    /// canonical path. A policy file, include or inventory file with one is
    /// read from it.
    open: Open,
    /// [`SourceMap::digest`], worked out once: every gateway's table and
    /// every live table compared names it.
    digest: std::sync::OnceLock<String>,
}

/// An editor's unsaved buffers, by canonical path, shared with the threads
/// that read inventories ahead.
pub type Open = std::sync::Arc<std::collections::BTreeMap<PathBuf, String>>;

impl SourceMap {
    /// A map whose policy files are read from `open` where it holds them.
    pub fn with_open(open: std::collections::BTreeMap<PathBuf, String>) -> SourceMap {
        SourceMap {
            open: Open::new(open),
            ..SourceMap::default()
        }
    }

    /// Every open buffer (see [`SourceMap::open_buffer`]).
    pub fn open_buffers(&self) -> Open {
        Open::clone(&self.open)
    }

    /// The open buffer standing for the file whose canonical path is
    /// `canonical`, if any.
    pub fn open_buffer(&self, canonical: &Path) -> Option<&str> {
        self.open.get(canonical).map(String::as_str)
    }

    /// `file:line` of a span's start: how messages, comments and headers name a
    /// place in the policy.
    pub fn file_line(&self, span: Span) -> String {
        let file = self.file(span.file);
        let (line, _) = file.line_col(span.start as usize);
        format!("{}:{line}", file.display_path())
    }

    pub fn add(&mut self, path: PathBuf, text: String) -> FileId {
        self.push(SourceFile::new(path, text))
    }

    /// Adds a file read elsewhere (an inventory read ahead, see
    /// `resolve::ahead`).
    pub fn push(&mut self, file: SourceFile) -> FileId {
        self.digest = std::sync::OnceLock::new();
        self.files.push(file);
        FileId((self.files.len() - 1) as u32)
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// What the run read, as one word: `sha256:` and the SHA-256 of every
    /// file's text in the order read (the policy, its includes, its
    /// inventories), each followed by a NUL byte. Paths are left out, so
    /// the same files read from another directory give the same digest.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        self.digest
            .get_or_init(|| {
                let mut hasher = Sha256::new();
                for file in &self.files {
                    hasher.update(file.text.as_bytes());
                    hasher.update([0]);
                }
                format!("sha256:{}", hex(&hasher.finalize()))
            })
            .clone()
    }

    pub fn text(&self, span: Span) -> &str {
        let file = self.file(span.file);
        &file.text[span.start as usize..span.end as usize]
    }
}

/// Lexically normalises a path (`a/./b/../c` becomes `a/c`) without touching the
/// file system, so diagnostics show the paths people wrote.
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let ends_in_normal =
                    matches!(out.components().next_back(), Some(Component::Normal(_)));
                if ends_in_normal {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Bytes as lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// True for a character that a terminal, a CI log or an editor acts on
/// rather than shows: a control character (but tab and newline) or a
/// bidirectional formatting character (which reorders what is shown).
pub fn is_hidden_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every [hidden control](is_hidden_control) written as
/// `\u{..}`, so what a file holds reaches people as visible text, never as
/// an escape sequence.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_hidden_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hidden_control(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A report for people (`explain`, `plan`, `diff`, `usage`, `audit`), with every
/// hidden control character written as `\u{..}`: names, descriptions and
/// labels come from policies and inventories, and an escape sequence in one
/// must reach the terminal as text, never as a command to it. Reports for
/// machines are JSON, whose writer escapes controls itself.
pub fn for_people(text: String) -> String {
    match escape_controls(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

/// [`escape_controls`] for text that must stay on one line (a comment, a
/// header line): newlines are escaped too.
pub fn escape_line(text: &str) -> std::borrow::Cow<'_, str> {
    let escaped = escape_controls(text);
    if escaped.contains('\n') {
        std::borrow::Cow::Owned(escaped.replace('\n', "\\u{a}"))
    } else {
        escaped
    }
}
