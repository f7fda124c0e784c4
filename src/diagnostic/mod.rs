//! Findings: one type for every problem bmcwall reports, from syntax errors to
//! failed expectations. Rendering lives in the CLI.

mod code;
mod suggest;

pub use code::{codes_markdown, Code, Level, Lowered, Selector};
pub use suggest::closest;

use crate::source::Span;
use serde::Serialize;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A label on source text. The first label of a diagnostic is the primary one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A concrete flow that shows a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Witness {
    pub src: String,
    pub dst: String,
    pub proto: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The gateways whose tables govern the flow, in a policy with
    /// `gateway` declarations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gateways: Vec<String>,
}

impl fmt::Display for Witness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {} {}", self.src, self.dst, self.proto)?;
        if let Some(port) = self.port {
            write!(f, " {port}")?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Primary label first, then related ones.
    pub labels: Vec<Label>,
    pub help: Option<String>,
    pub witness: Option<Witness>,
    /// For exposure findings: each hop's flow and the rule that allows it.
    pub path: Vec<(Witness, Span)>,
    /// The services a finding covers, by name, for codes whose waivers may
    /// name services (`Code::lists_services`).
    pub services: Vec<String>,
    /// The edit the help suggests, when it is one replacement of the text at
    /// the primary label (the name meant, the network meant): what an
    /// editor offers as a quick fix.
    pub fix: Option<String>,
    /// The gateways a finding is about (the gateway of a gateway-specific
    /// finding), in a policy with `gateway` declarations.
    pub gateways: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic at the code's default severity with its primary label.
    pub fn new(
        code: Code,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Self {
        Self {
            code,
            severity: code.default_severity(),
            message: message.into(),
            labels: vec![Label {
                span,
                message: label.into(),
            }],
            help: None,
            witness: None,
            path: Vec::new(),
            services: Vec::new(),
            fix: None,
            gateways: Vec::new(),
        }
    }

    /// The finding is about these gateways.
    pub fn with_gateways(mut self, gateways: Vec<String>) -> Self {
        self.gateways = gateways;
        self
    }

    /// The help "did you mean `REPLACEMENT`?", with the replacement as the
    /// fix of the primary label's text.
    pub fn with_suggestion(mut self, replacement: impl Into<String>) -> Self {
        let replacement = replacement.into();
        self.help = Some(format!("did you mean `{replacement}`?"));
        self.fix = Some(replacement);
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_related(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_witness(mut self, witness: Witness) -> Self {
        self.witness = Some(witness);
        self
    }

    pub fn primary(&self) -> &Label {
        &self.labels[0]
    }
}

/// Orders diagnostics by file, position and code, so output never depends on the
/// order in which checks ran.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        let (pa, pb) = (a.primary().span, b.primary().span);
        (pa.file, pa.start, a.code, &a.message).cmp(&(pb.file, pb.start, b.code, &b.message))
    });
}
