//! Checks over the resolved policy and its decision table. One file per code.

pub mod bw301_expired_rule;
pub mod bw302_expiring_rule;
pub mod bw401_expectation_failed;
pub mod registry;

use crate::analysis::Analysis;
use crate::diagnostic::Diagnostic;
use crate::resolve::Policy;
use crate::syntax::Date;

/// What every check gets.
pub struct Context<'a> {
    pub policy: &'a Policy,
    pub analysis: &'a Analysis,
    pub sources: &'a crate::source::SourceMap,
    pub today: Date,
}

/// Runs every check; findings come back at their default severity.
pub fn run(context: &Context) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    bw301_expired_rule::check(context, &mut out);
    bw302_expiring_rule::check(context, &mut out);
    bw401_expectation_failed::check(context, &mut out);
    out
}

/// `file:line` of a span, for messages that name another rule.
pub fn location(context: &Context, span: crate::source::Span) -> String {
    let file = context.sources.file(span.file);
    let (line, _) = file.line_col(span.start as usize);
    format!("{}:{line}", file.display_path())
}
