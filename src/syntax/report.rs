//! Syntax errors in words: what pest expected, described for people, with a
//! hint where the mistake is a common one.

use super::grammar::Rule as G;
use super::scan::content_end;
use super::{is_keyword, STATEMENT_KEYWORDS};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// Where a pest error is, relative to the parsed text.
pub(super) fn error_offset(error: &pest::error::Error<G>) -> usize {
    use pest::error::InputLocation;
    match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    }
}

/// What the parser would have accepted, described for people, sorted.
pub(super) fn expected(error: &pest::error::Error<G>) -> Vec<&'static str> {
    use pest::error::ErrorVariant;
    let mut expected: Vec<&str> = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.iter().map(describe).collect(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    expected.sort_unstable();
    expected.dedup();
    expected
}

pub(super) fn missing_semicolon(
    file: FileId,
    text: &str,
    content_end: usize,
    next: usize,
) -> Diagnostic {
    let keyword = token_at(text, next, text.len());
    Diagnostic::new(
        Code::SyntaxError,
        format!("missing `;` before `{keyword}`"),
        Span::new(file, content_end, content_end),
        "expected `;` here",
    )
    .with_related(
        Span::new(file, next, next + keyword.len()),
        "the next statement starts here",
    )
    .with_help("every statement ends with `;`")
}

/// A readable description of what a grammar rule stands for.
fn describe(kind: &G) -> &'static str {
    match kind {
        G::EOI => "end of statement",
        G::semi => "`;`",
        G::comma => "`,`",
        G::colon => "`:`",
        G::equals => "`=`",
        G::lparen => "`(`",
        G::rparen => "`)`",
        G::name | G::label => "a name",
        G::string | G::string_inner => "a string",
        G::ipv4 | G::ipv6 | G::address | G::prefix | G::range => "an address",
        G::prefix_len => "a prefix length",
        G::number | G::port | G::port_range => "a port",
        G::date => "a date (YYYY-MM-DD)",
        G::lint_code => "a code like BW101",
        G::kw_allow => "`allow`",
        G::kw_deny => "`deny`",
        G::action => "`allow` or `deny`",
        G::expect_kind => "`allow`, `deny` or `unreachable`",
        G::kw_unreachable => "`unreachable`",
        G::kw_expect => "`expect`",
        G::kw_service => "`service`",
        G::kw_internal => "`internal`",
        G::kw_internet => "`internet`",
        G::kw_scope => "`scope`",
        G::kw_watch => "`watch`",
        G::kw_include => "`include`",
        G::kw_inventory | G::selector => "`inventory`",
        G::kw_except => "`except`",
        G::kw_format => "`format`",
        G::format_name => "a format name",
        G::kw_address => "`address`",
        G::address_key => "a key",
        G::kw_resolve => "`resolve`",
        G::kw_log => "`log`",
        G::kw_until | G::until_attr => "`until`",
        G::kw_waive | G::waive_attr => "`waive`",
        G::kw_any => "`any`",
        G::kw_bmcs => "`bmcs`",
        G::kw_icmp => "`icmp`",
        G::proto_tcp | G::svc_ports => "`tcp`",
        G::proto_udp => "`udp`",
        G::def_host => "`host`",
        G::def_kind => "`host`, `network`, `group` or `bmc`",
        G::def_network => "`network`",
        G::def_group => "`group`",
        G::def_bmc => "`bmc`",
        G::arrow => "`->`",
        G::op_eq => "`=`",
        G::op_ne => "`!=`",
        G::condition => "a label condition",
        G::addrs | G::term_list => "an address expression",
        G::services => "a service",
        G::kw_gateway => "`gateway`",
        G::lbrace => "`{`",
        G::rbrace => "`}`",
        G::gateway_scope => "`scope`",
        G::gateway_pair | G::kw_pair => "`pair`",
        G::gateway_mode | G::kw_mode => "`mode`",
        G::gateway_sync | G::kw_sync => "`sync`",
        G::mode_word | G::kw_forward => "`forward` or `host`",
        G::sync_word | G::kw_vrrp | G::kw_conntrackd => "`vrrp` or `conntrackd`",
        _ => "more input",
    }
}

/// The diagnostic for a statement pest could not parse: at the token where
/// it stopped, saying what it expected, with a hint for common mistakes.
pub(super) fn syntax_error(
    file: FileId,
    text: &str,
    chunk_start: usize,
    chunk_end: usize,
    error: &pest::error::Error<G>,
) -> Diagnostic {
    let mut offset = chunk_start + error_offset(error);
    let found = token_at(text, offset, chunk_end);
    if found.is_empty() {
        // At the end of the statement: point just after its last token rather
        // than at whatever whitespace or comment follows it.
        offset = content_end(text, chunk_start, offset);
    }
    let span = Span::new(file, offset, offset + found.len());
    let expected = expected(error);
    let what = if found.is_empty() {
        "end of input".to_string()
    } else {
        format!("`{found}`")
    };
    let wants_name = ["a name", "an address expression", "a service"]
        .iter()
        .any(|want| expected.contains(want));
    if wants_name && is_keyword(found) {
        return keyword_as_name(found, span, &expected);
    }
    // The first word of a statement is wrong: the parser lists the words a
    // statement can start with, of which `expect` is only one.
    if expected.contains(&"`expect`") {
        return not_a_statement(&what, span);
    }
    if found.is_empty() && expected.contains(&"`;`") {
        return Diagnostic::new(
            Code::SyntaxError,
            "missing `;` at the end of the statement",
            span,
            "expected `;` here",
        )
        .with_help("every statement ends with `;`");
    }
    let expected_text = join_alternatives(&expected);
    let message = if expected_text.is_empty() {
        format!("unexpected {what}")
    } else {
        format!("expected {expected_text}, found {what}")
    };
    let label = if expected_text.is_empty() {
        "unexpected here".to_string()
    } else {
        format!("expected {expected_text}")
    };
    let mut diagnostic = Diagnostic::new(Code::SyntaxError, message, span, label);
    let after_dash = text[chunk_start..offset].trim_end().ends_with('-');
    diagnostic.help = hint(&expected, found, after_dash);
    diagnostic
}

/// A keyword where a name belongs.
fn keyword_as_name(found: &str, span: Span, expected: &[&str]) -> Diagnostic {
    let diagnostic = Diagnostic::new(
        Code::SyntaxError,
        format!("`{found}` is a keyword and cannot be used as a name"),
        span,
        "keyword used as a name",
    );
    match found {
        "bmc" if expected.contains(&"an address expression") => {
            diagnostic.with_help("did you mean `bmcs`, every BMC?")
        }
        _ => diagnostic.with_help("choose another name; keywords are listed in docs/language.md"),
    }
}

/// Something other than a statement keyword where a statement starts.
fn not_a_statement(what: &str, span: Span) -> Diagnostic {
    let keywords: Vec<String> = STATEMENT_KEYWORDS
        .iter()
        .map(|k| format!("`{k}`"))
        .collect();
    let keywords: Vec<&str> = keywords.iter().map(String::as_str).collect();
    Diagnostic::new(
        Code::SyntaxError,
        format!("expected a statement, found {what}"),
        span,
        "not the start of a statement",
    )
    .with_help(format!(
        "a statement starts with one of {}",
        join_alternatives(&keywords)
    ))
}

/// The help for a common mistake, from what the parser expected and the
/// token it found (`after_dash`: right after a `-`).
fn hint(expected: &[&str], found: &str, after_dash: bool) -> Option<String> {
    let is_number = !found.is_empty() && found.chars().all(|c| c.is_ascii_digit() || c == '-');
    let help = if expected == ["a port"] && after_dash {
        "a port range is `FIRST-LAST`, e.g. `5900-5901`"
    } else if expected == ["a port"] {
        "write ports after the protocol: `tcp 443`, `udp 623` or `tcp 5900-5901`"
    } else if expected.contains(&"a service") && is_number {
        return Some(format!(
            "a port needs its protocol: `tcp {found}` or `udp {found}`"
        ));
    } else if expected.contains(&"`format`") {
        "an inventory statement reads `inventory \"PATH\" [format NAME] [address KEY] [resolve];`"
    } else if expected.contains(&"`->`") && looks_like_term(found) {
        "a rule reads `SOURCE -> DESTINATION`; put `->` between them"
    } else if expected.contains(&"`,`") && looks_like_term(found) {
        "separate the terms of a list with `,`"
    } else if expected.contains(&"`}`") {
        "a gateway's items are `scope ADDRS;`, `pair NAME;`, `mode forward, host;` and \
         `sync vrrp, conntrackd;`, and `}` ends them"
    } else if found.is_empty() {
        "the statement is incomplete; every statement ends with `;`"
    } else {
        return None;
    };
    Some(help.to_string())
}

/// True for a word that could be an address term or a name.
fn looks_like_term(word: &str) -> bool {
    word.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && !is_keyword(word)
}

/// The token starting at `offset`: a word, an address-like run, or one character.
pub(super) fn token_at(text: &str, offset: usize, limit: usize) -> &str {
    let rest = &text[offset.min(limit)..limit];
    let rest = rest.trim_end_matches(|c: char| c.is_whitespace());
    let mut chars = rest.char_indices();
    let Some((_, first)) = chars.next() else {
        return "";
    };
    let wordy = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | ':' | '/');
    if first == '"' {
        let end = rest[1..].find('"').map_or(rest.len(), |i| i + 2);
        return &rest[..end];
    }
    if !wordy(first) {
        if rest.starts_with("->") || rest.starts_with("!=") {
            return &rest[..2];
        }
        return &rest[..first.len_utf8()];
    }
    let end = rest
        .char_indices()
        .find(|&(_, c)| !wordy(c))
        .map_or(rest.len(), |(i, _)| i);
    &rest[..end]
}

fn join_alternatives(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}
