//! Lines from a [`Document`]: one statement per line, definitions and rules
//! aligned in blocks, trailing comments aligned in runs.

use super::{Document, Item, Statement, Token};
use crate::syntax::{Part, StatementKind, TokenKind};

/// How far the lines of a statement that continues after a comment are indented.
const CONTINUATION: &str = "    ";

/// A line of output.
enum Line {
    /// Code, and the comment at its end.
    Code {
        code: String,
        comment: Option<String>,
    },
    /// A comment on a line of its own.
    Comment {
        indent: &'static str,
        text: String,
    },
    Blank,
}

/// Statements that are aligned with their neighbours of the same class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// `host`, `network`, `group`, `bmc` and `service`: `=` lines up.
    Definition,
    /// `allow` and `deny`: `->` and `:` line up.
    Rule,
    /// `expect`: as rules.
    Expectation,
}

impl Class {
    /// The class of a statement on one line; a statement that keeps a line
    /// break after a comment has none.
    fn of(statement: &Statement<'_>) -> Option<Class> {
        if statement.has_inner_comments() {
            return None;
        }
        match statement.kind {
            StatementKind::Definition | StatementKind::Service => Some(Class::Definition),
            StatementKind::Rule => Some(Class::Rule),
            StatementKind::Expectation => Some(Class::Expectation),
            _ => None,
        }
    }
}

/// The widths a block pads its columns to, in characters.
#[derive(Clone, Copy, Debug, Default)]
struct Widths {
    /// The keyword of a definition; `allow`/`deny` of a rule or expectation.
    head: usize,
    /// The name of a definition; the source of a rule or expectation.
    left: usize,
    /// The destination of a rule or expectation with services.
    right: usize,
}

/// The parts of a one-line statement, each written out.
struct Parts {
    keyword: String,
    action: String,
    name: String,
    value: String,
    source: String,
    destination: String,
    services: String,
    attributes: Vec<String>,
}

impl Parts {
    fn of(statement: &Statement<'_>) -> Parts {
        let text = |part: Part| {
            let tokens: Vec<&Token<'_>> =
                statement.tokens.iter().filter(|t| t.part == part).collect();
            join(&tokens)
        };
        let mut attributes = Vec::new();
        loop {
            let attribute = text(Part::Attribute(attributes.len()));
            if attribute.is_empty() {
                break;
            }
            attributes.push(attribute);
        }
        Parts {
            keyword: text(Part::Keyword),
            action: text(Part::Action),
            name: text(Part::Name),
            value: text(Part::Value),
            source: text(Part::Source),
            destination: text(Part::Destination),
            services: text(Part::Services),
            attributes,
        }
    }

    fn widen(&self, class: Class, widths: &mut Widths) {
        let width = |s: &str| s.chars().count();
        match class {
            Class::Definition => {
                widths.head = widths.head.max(width(&self.keyword));
                widths.left = widths.left.max(width(&self.name));
            }
            Class::Rule | Class::Expectation => {
                widths.head = widths.head.max(width(&self.action));
                widths.left = widths.left.max(width(&self.source));
                if !self.services.is_empty() {
                    widths.right = widths.right.max(width(&self.destination));
                }
            }
        }
    }

    /// The statement on one line, its columns padded to `widths`.
    fn line(&self, class: Class, widths: Widths) -> String {
        let mut line = String::new();
        match class {
            Class::Definition => {
                line.push_str(&pad(&self.keyword, widths.head));
                line.push(' ');
                line.push_str(&pad(&self.name, widths.left));
                line.push_str(" = ");
                line.push_str(&self.value);
            }
            Class::Rule | Class::Expectation => {
                if class == Class::Expectation {
                    line.push_str(&self.keyword);
                    line.push(' ');
                }
                line.push_str(&pad(&self.action, widths.head));
                line.push(' ');
                line.push_str(&pad(&self.source, widths.left));
                line.push_str(" -> ");
                if self.services.is_empty() {
                    line.push_str(&self.destination);
                } else {
                    line.push_str(&pad(&self.destination, widths.right));
                    line.push(' ');
                    line.push_str(&self.services);
                }
                for attribute in &self.attributes {
                    line.push_str("  ");
                    line.push_str(attribute);
                }
            }
        }
        line.push(';');
        line
    }
}

fn pad(text: &str, width: usize) -> String {
    let mut padded = text.to_string();
    let length = text.chars().count();
    padded.extend(std::iter::repeat_n(' ', width.saturating_sub(length)));
    padded
}

/// What goes between two neighbouring tokens of a statement.
fn separator(before: &Token<'_>, after: &Token<'_>) -> &'static str {
    use TokenKind::*;
    let tight = matches!(
        after.kind,
        Comma | Semicolon | OpenParen | CloseParen | RangeDash
    ) || matches!(before.kind, OpenParen | RangeDash);
    if tight {
        return "";
    }
    match (before.part, after.part) {
        (before, after @ Part::Attribute(_)) if before != after => "  ",
        _ => " ",
    }
}

/// Tokens written out on one line.
fn join(tokens: &[&Token<'_>]) -> String {
    let mut text = String::new();
    for (index, token) in tokens.iter().enumerate() {
        if index > 0 {
            text.push_str(separator(tokens[index - 1], token));
        }
        text.push_str(token.text);
    }
    text
}

/// A statement that keeps a line break after each comment inside it; the
/// lines after the first are indented.
fn broken_lines(statement: &Statement<'_>, lines: &mut Vec<Line>) {
    let mut code = String::new();
    let mut previous: Option<&Token<'_>> = None;
    for token in &statement.tokens {
        if let Some(before) = previous {
            if code != CONTINUATION {
                code.push_str(separator(before, token));
            }
        }
        code.push_str(token.text);
        previous = Some(token);
        let mut comments = token.comments.iter();
        let Some(first) = comments.next() else {
            continue;
        };
        if first.own_line {
            lines.push(Line::Code {
                code: std::mem::take(&mut code),
                comment: None,
            });
            lines.push(Line::Comment {
                indent: CONTINUATION,
                text: first.text.to_string(),
            });
        } else {
            lines.push(Line::Code {
                code: std::mem::take(&mut code),
                comment: Some(first.text.to_string()),
            });
        }
        for comment in comments {
            lines.push(Line::Comment {
                indent: CONTINUATION,
                text: comment.text.to_string(),
            });
        }
        code.push_str(CONTINUATION);
    }
    code.push(';');
    lines.push(Line::Code {
        code,
        comment: statement.trailing.map(str::to_string),
    });
}

/// A gateway with items in braces: its head and `{` on the first line, each
/// item on a line of its own, indented, and `}` on the last; with one item
/// and no comment inside, all on one line. A comment inside ends the line it
/// is on.
fn block_lines(statement: &Statement<'_>, lines: &mut Vec<Line>) {
    let one_item = statement
        .tokens
        .iter()
        .all(|t| !matches!(t.part, Part::Item(n) if n > 0));
    if one_item && !statement.has_inner_comments() {
        // `gateway NAME = ADDRS { ITEM; }` on one line.
        let tokens: Vec<&Token<'_>> = statement.tokens.iter().collect();
        lines.push(Line::Code {
            code: format!("{} }}", join(&tokens)),
            comment: statement.trailing.map(str::to_string),
        });
        return;
    }
    let mut code = String::new();
    let mut previous: Option<&Token<'_>> = None;
    let mut indent = "";
    for token in &statement.tokens {
        if code.is_empty() {
            code.push_str(indent);
        } else if let (Some(before), false) = (previous, code.trim().is_empty()) {
            code.push_str(separator(before, token));
        }
        code.push_str(token.text);
        previous = Some(token);
        let ends_line = token.kind == TokenKind::OpenBrace
            || (token.kind == TokenKind::Semicolon && matches!(token.part, Part::Item(_)));
        if ends_line {
            indent = CONTINUATION;
        }
        let mut comments = token.comments.iter();
        match comments.next() {
            Some(first) if first.own_line => {
                lines.push(Line::Code {
                    code: std::mem::take(&mut code),
                    comment: None,
                });
                lines.push(Line::Comment {
                    indent: CONTINUATION,
                    text: first.text.to_string(),
                });
            }
            Some(first) => lines.push(Line::Code {
                code: std::mem::take(&mut code),
                comment: Some(first.text.to_string()),
            }),
            None if ends_line => lines.push(Line::Code {
                code: std::mem::take(&mut code),
                comment: None,
            }),
            None => continue,
        }
        for comment in comments {
            lines.push(Line::Comment {
                indent: CONTINUATION,
                text: comment.text.to_string(),
            });
        }
        if !ends_line {
            // The statement goes on after a comment: deeper.
            code.push_str(CONTINUATION);
            code.push_str(indent);
        }
    }
    if !code.trim().is_empty() {
        lines.push(Line::Code {
            code,
            comment: None,
        });
    }
    lines.push(Line::Code {
        code: "}".into(),
        comment: statement.trailing.map(str::to_string),
    });
}

/// The formatted text of `document`.
pub(super) fn render(document: &Document<'_>) -> String {
    // Blocks: statements of one class, with nothing but comments on their own
    // lines between them.
    let mut block_of: Vec<Option<usize>> = Vec::with_capacity(document.items.len());
    let mut widths: Vec<Widths> = Vec::new();
    let mut current: Option<(Class, usize)> = None;
    for item in &document.items {
        let block = match item {
            Item::Statement(statement) => match Class::of(statement) {
                Some(class) => {
                    let block = match current {
                        Some((open, block)) if open == class => block,
                        _ => {
                            widths.push(Widths::default());
                            widths.len() - 1
                        }
                    };
                    Parts::of(statement).widen(class, &mut widths[block]);
                    current = Some((class, block));
                    Some(block)
                }
                None => {
                    current = None;
                    None
                }
            },
            Item::Blank => {
                current = None;
                None
            }
            Item::Comment(_) => None,
        };
        block_of.push(block);
    }

    let mut lines = Vec::new();
    for (item, block) in document.items.iter().zip(block_of) {
        match item {
            Item::Blank => lines.push(Line::Blank),
            Item::Comment(text) => lines.push(Line::Comment {
                indent: "",
                text: (*text).to_string(),
            }),
            Item::Statement(statement) => match (Class::of(statement), block) {
                (Some(class), Some(block)) => lines.push(Line::Code {
                    code: Parts::of(statement).line(class, widths[block]),
                    comment: statement.trailing.map(str::to_string),
                }),
                _ if statement.block => block_lines(statement, &mut lines),
                _ if statement.has_inner_comments() => broken_lines(statement, &mut lines),
                _ => {
                    let tokens: Vec<&Token<'_>> = statement.tokens.iter().collect();
                    lines.push(Line::Code {
                        code: format!("{};", join(&tokens)),
                        comment: statement.trailing.map(str::to_string),
                    });
                }
            },
        }
    }
    write(&lines)
}

/// The text of `lines`. The trailing comments of consecutive lines start in
/// one column, two spaces after the longest code among them.
fn write(lines: &[Line]) -> String {
    let mut out = String::new();
    let mut index = 0;
    while index < lines.len() {
        let run_end = index
            + lines[index..]
                .iter()
                .take_while(|line| {
                    matches!(
                        line,
                        Line::Code {
                            comment: Some(_),
                            ..
                        }
                    )
                })
                .count();
        if run_end > index {
            let column = lines[index..run_end]
                .iter()
                .map(|line| match line {
                    Line::Code { code, .. } => code.chars().count(),
                    _ => 0,
                })
                .max()
                .unwrap_or(0)
                + 2;
            for line in &lines[index..run_end] {
                if let Line::Code {
                    code,
                    comment: Some(comment),
                } = line
                {
                    out.push_str(&pad(code, column));
                    out.push_str(comment);
                    out.push('\n');
                }
            }
            index = run_end;
            continue;
        }
        match &lines[index] {
            Line::Code { code, .. } => out.push_str(code),
            Line::Comment { indent, text } => {
                out.push_str(indent);
                out.push_str(text);
            }
            Line::Blank => {}
        }
        out.push('\n');
        index += 1;
    }
    out
}
