//! The text a finding's snippet shows: only the lines around its labels,
//! each long line cut to a window around them, and every hidden control
//! character written as `\u{..}`. miette reads it through [`Snippet`], which
//! names lines and columns as they are in the file, so what it prints is
//! bounded by the labels, never by the file's size or its longest line.

use crate::source::{escape_controls, is_hidden_control, SourceFile};
use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// Lines longer than this (in bytes) are cut to a window around their
/// labels.
pub const MAX_LINE: usize = 160;
/// How much of a cut line is shown before its first label.
const BEFORE: usize = 60;
/// How much of a cut line is shown in all, at most.
const WINDOW: usize = 150;
/// A label over more lines than this is shown on its first line only.
const MAX_LABEL_LINES: usize = 6;
/// Lines shown above and below each label (the renderer's own context).
const CONTEXT: usize = 1;
/// Lines between two labels' context shown when no more than this many;
/// farther apart, they are left empty (and not drawn).
const GAP: usize = 8;

/// One stretch of the shown text and the stretch of the file it stands for:
/// copied (offsets map one to one) or a marker (`...`, an escape) standing
/// for `file_start..file_end`.
#[derive(Clone, Copy, Debug)]
struct Piece {
    file_start: usize,
    file_end: usize,
    shown_start: usize,
    shown_end: usize,
    copied: bool,
}

/// A file as one finding's snippet shows it.
#[derive(Debug)]
pub struct Snippet {
    name: String,
    text: String,
    /// The file line the shown text's first line is (0-based).
    first_line: usize,
    pieces: Vec<Piece>,
    /// `(line, column)` 0-based in the file, of each piece's start.
    piece_places: Vec<(usize, usize)>,
    /// The stretches of file lines shown (first and last, 0-based); the
    /// lines between them are empty.
    stretches: Vec<(usize, usize)>,
}

impl Snippet {
    /// The snippet of `file` for labels at `spans` (byte ranges in the
    /// file), and the spans as offsets into it.
    pub fn new(file: &SourceFile, spans: &[(usize, usize)]) -> (Snippet, Vec<(usize, usize)>) {
        let text = file.text.as_str();
        let line_of = |offset: usize| file.line_col(offset).0 - 1;
        let line_starts = file.line_starts();
        let line_end = |line: usize| {
            line_starts
                .get(line + 1)
                .map_or(text.len(), |next| next - 1)
        };
        // Spans over many lines are cut to their first line (over more
        // than one, in a file shown by its labelled lines only).
        let max_label_lines = if file.labelled_lines_only {
            0
        } else {
            MAX_LABEL_LINES
        };
        let spans: Vec<(usize, usize)> = spans
            .iter()
            .map(|&(start, end)| {
                let (start, end) = (start.min(text.len()), end.min(text.len()).max(start));
                let (first, last) = (line_of(start), line_of(end));
                if last - first > max_label_lines {
                    (start, line_end(first).max(start))
                } else {
                    (start, end)
                }
            })
            .collect();
        let lines_of = |&(start, end): &(usize, usize)| (line_of(start), line_of(end));
        // Only the labels' own lines: adjacent ones drawn as one stretch.
        let (context, gap) = if file.labelled_lines_only {
            (0, 1)
        } else {
            (CONTEXT, GAP)
        };
        let first = spans
            .iter()
            .map(|s| lines_of(s).0.saturating_sub(context))
            .min()
            .unwrap_or(0);
        let last_line = line_starts.len() - 1;
        let last = spans
            .iter()
            .map(|s| (lines_of(s).1 + context).min(last_line))
            .max()
            .unwrap_or(0);
        // The lines around each label, and those between labels that are
        // near each other (drawn as one stretch, as for the whole file).
        let mut around: Vec<(usize, usize)> = spans
            .iter()
            .map(|s| {
                let (a, b) = lines_of(s);
                (a.saturating_sub(context), b + context)
            })
            .collect();
        around.sort_unstable();
        let mut stretches: Vec<(usize, usize)> = Vec::new();
        for (a, b) in around {
            match stretches.last_mut() {
                Some(last) if a <= last.1 + gap => last.1 = last.1.max(b),
                _ => stretches.push((a, b)),
            }
        }
        let shown_line = |line: usize| stretches.iter().any(|&(a, b)| a <= line && line <= b);
        let mut snippet = Snippet {
            name: escape_controls(&file.display_path()).into_owned(),
            text: String::new(),
            first_line: first,
            pieces: Vec::new(),
            piece_places: Vec::new(),
            stretches: Vec::new(),
        };
        for (line, &start) in line_starts.iter().enumerate().take(last + 1).skip(first) {
            let mut end = line_end(line);
            // A `\r` ending the line stays the line's end.
            if text[start..end].ends_with('\r') {
                end -= 1;
            }
            if shown_line(line) {
                snippet.line(text, start, end, &spans);
            } else {
                snippet.marker(start, end, "");
            }
            let after = line_end(line);
            // The file's last line ends in a newline, so that a label at the
            // very end of the text is drawn; an empty last line needs none.
            let newline = if line == last_line && start == text.len() {
                ""
            } else {
                "\n"
            };
            snippet.marker(end, (after + 1).min(text.len()).max(after), newline);
        }
        let mapped = spans
            .iter()
            .map(|&(start, end)| {
                let shown_start = snippet.shown(start, false);
                (shown_start, snippet.shown(end, true).max(shown_start))
            })
            .collect();
        snippet.piece_places = snippet
            .pieces
            .iter()
            .map(|piece| {
                let (line, column) = file.line_col(piece.file_start);
                (line - 1, column - 1)
            })
            .collect();
        snippet.stretches = stretches;
        (snippet, mapped)
    }

    /// Adds the line `text[start..end]`, cut around the labels on it when
    /// long, its hidden controls escaped.
    fn line(&mut self, text: &str, start: usize, end: usize, spans: &[(usize, usize)]) {
        let (mut from, mut to) = (start, end);
        if end - start > MAX_LINE {
            let on_line: Vec<&(usize, usize)> = spans
                .iter()
                .filter(|(a, b)| *a <= end && *b >= start)
                .collect();
            let anchor = on_line
                .iter()
                .map(|(a, _)| (*a).max(start))
                .min()
                .unwrap_or(start);
            from = anchor.saturating_sub(BEFORE).max(start);
            let reach = on_line
                .iter()
                .map(|(_, b)| (*b).min(end))
                .max()
                .unwrap_or(anchor);
            to = (reach + 20)
                .max(from + WINDOW / 2)
                .min(from + WINDOW)
                .min(end);
            while !text.is_char_boundary(from) {
                from -= 1;
            }
            while !text.is_char_boundary(to) {
                to += 1;
            }
        }
        if from > start {
            self.marker(start, from, "...");
        }
        let mut copy_from = from;
        for (at, c) in text[from..to].char_indices() {
            if is_hidden_control(c) {
                let at = from + at;
                self.copy(text, copy_from, at);
                self.marker(at, at + c.len_utf8(), &c.escape_unicode().to_string());
                copy_from = at + c.len_utf8();
            }
        }
        self.copy(text, copy_from, to);
        if to < end {
            self.marker(to, end, "...");
        }
    }

    fn copy(&mut self, text: &str, start: usize, end: usize) {
        if start < end {
            let shown_start = self.text.len();
            self.text.push_str(&text[start..end]);
            self.pieces.push(Piece {
                file_start: start,
                file_end: end,
                shown_start,
                shown_end: self.text.len(),
                copied: true,
            });
        }
    }

    fn marker(&mut self, start: usize, end: usize, shown: &str) {
        let shown_start = self.text.len();
        self.text.push_str(shown);
        self.pieces.push(Piece {
            file_start: start,
            file_end: end,
            shown_start,
            shown_end: self.text.len(),
            copied: false,
        });
    }

    /// Where the file offset `offset` is in the shown text; an offset inside
    /// a marker is its start, or with `end` its end.
    fn shown(&self, offset: usize, end: bool) -> usize {
        let index = self
            .pieces
            .partition_point(|piece| piece.file_end <= offset);
        let Some(piece) = self.pieces.get(index) else {
            // The end of the text: before the newline given to a last line
            // that has none.
            return match self.pieces.last() {
                Some(last) if !last.copied && last.file_start == offset => last.shown_start,
                _ => self.text.len(),
            };
        };
        if piece.copied {
            piece.shown_start + (offset - piece.file_start)
        } else if end && offset > piece.file_start {
            piece.shown_end
        } else {
            piece.shown_start
        }
    }

    /// The file's 0-based line and column of the shown offset `offset`.
    fn place(&self, offset: usize) -> (usize, usize) {
        let index = self
            .pieces
            .partition_point(|piece| piece.shown_end <= offset)
            .min(self.pieces.len().saturating_sub(1));
        let (Some(piece), Some(&(line, column))) =
            (self.pieces.get(index), self.piece_places.get(index))
        else {
            return (self.first_line, 0);
        };
        if piece.copied {
            let upto = offset.clamp(piece.shown_start, piece.shown_end);
            (
                line,
                column + self.text[piece.shown_start..upto].chars().count(),
            )
        } else {
            (line, column)
        }
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        // The place of what is read is the file's: a line's number, and the
        // column of a label (read without context) as the file has it.
        let (line, column) = if context_lines_before == 0 && context_lines_after == 0 {
            self.place(contents.span().offset())
        } else {
            (contents.line() + self.first_line, contents.column())
        };
        // The renderer draws two labels as one stretch of lines when the
        // first's line plus its line count reaches the second's line (with
        // the line count the number of lines up to the end of what is read,
        // as reading the whole file gives it), but never past the stretch
        // of lines shown.
        let line_count = contents.line_count() + self.first_line;
        let stretch_end = self
            .stretches
            .iter()
            .find(|&&(a, b)| a <= line && line <= b)
            .map_or(line, |&(_, b)| b);
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            *contents.span(),
            line,
            column,
            line_count.min(stretch_end - line),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn snippet(text: &str, spans: &[(usize, usize)]) -> (String, Vec<(usize, usize)>) {
        let file = SourceFile::new(PathBuf::from("f.wall"), text.to_string());
        let (snippet, spans) = Snippet::new(&file, spans);
        (snippet.text, spans)
    }

    #[test]
    fn short_lines_are_shown_as_they_are_around_the_labels() {
        let text = "a;\nbb;\ncc;\ndd;\nee;\n";
        let (shown, spans) = snippet(text, &[(7, 9)]);
        assert_eq!(shown, "bb;\ncc;\ndd;\n");
        assert_eq!(spans, [(4, 6)]);
        // Far from the labels, lines are left empty.
        let text = "x;\n".repeat(20);
        let (shown, spans) = snippet(&text, &[(0, 1), (57, 58)]);
        assert_eq!(shown, format!("x;\nx;\n{}x;\nx;\n", "\n".repeat(16)));
        assert_eq!(spans, [(0, 1), (25, 26)]);
    }

    #[test]
    fn a_long_line_is_cut_around_its_label() {
        let text = format!(
            "{}host h = 10.0.0.300;{}\n",
            "a".repeat(5000),
            "b".repeat(5000)
        );
        let at = 5000 + "host h = ".len();
        let (shown, spans) = snippet(&text, &[(at, at + 10)]);
        assert!(shown.len() < 200, "{shown}");
        assert!(
            shown.starts_with("...") && shown.ends_with("...\n"),
            "{shown}"
        );
        assert_eq!(&shown[spans[0].0..spans[0].1], "10.0.0.300");
    }

    #[test]
    fn hidden_controls_are_escaped() {
        let text = "allow a -> b \"\u{1b}]0;x\u{7}\u{202e}\";\n";
        let (shown, spans) = snippet(text, &[(0, text.len() - 1)]);
        assert_eq!(shown, "allow a -> b \"\\u{1b}]0;x\\u{7}\\u{202e}\";\n");
        assert_eq!(spans, [(0, shown.len() - 1)]);
    }
}
