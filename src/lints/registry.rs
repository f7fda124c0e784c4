//! The one table of finding codes: code, name and default level.
//!
//! Codes are stable and never reused.

use crate::diagnostic::Severity;
use std::fmt;

macro_rules! codes {
    ($( $variant:ident => $code:literal, $name:literal, $level:ident, $summary:literal; )*) => {
        /// A finding code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// `BW101`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// `shadowed-rule`.
            pub fn name(self) -> &'static str {
                match self { $( Code::$variant => $name, )* }
            }

            /// The level a finding has unless the command line or a waiver changes it.
            pub fn default_level(self) -> Level {
                match self { $( Code::$variant => Level::$level, )* }
            }

            /// One line saying what the code flags.
            pub fn summary(self) -> &'static str {
                match self { $( Code::$variant => $summary, )* }
            }
        }
    };
}

codes! {
    SyntaxError => "BW001", "syntax-error", Error, "text that is not the language";
    UnknownName => "BW002", "unknown-name", Error, "a name that is not defined";
    DuplicateDefinition => "BW003", "duplicate-definition", Error, "a name defined twice, or a built-in redefined";
    IncludeError => "BW004", "include-error", Error, "missing file, include cycle";
    InventoryError => "BW005", "inventory-error", Error, "unreadable or invalid inventory, duplicate name or address, bad address";
    InvalidValue => "BW006", "invalid-value", Error, "bad address, prefix, port, range or date; host with a non-single address";
    DefinitionCycle => "BW007", "definition-cycle", Error, "a name defined through itself";
    EmptySelector => "BW008", "empty-selector", Warning, "`inventory(...)` matches no entry";
    ShadowedRule => "BW101", "shadowed-rule", Error, "a rule that never decides any flow because earlier rules with another action cover it";
    RedundantRule => "BW102", "redundant-rule", Warning, "removing the rule changes no decision";
    CorrelatedRules => "BW103", "correlated-rules", Warning, "two rules with different actions overlap partially";
    Generalization => "BW104", "generalization", Allow, "a later rule with another action covers an earlier one";
    OutOfScopeRule => "BW105", "out-of-scope-rule", Warning, "a rule none of whose flows is in scope";
    InternetExposure => "BW201", "internet-exposure", Error, "a flow from the internet to a BMC is allowed";
    TransitiveExposure => "BW202", "transitive-exposure", Error, "the internet reaches a host that reaches a BMC";
    BmcEgress => "BW203", "bmc-egress", Error, "a BMC may open flows to the internet";
    BmcLateral => "BW204", "bmc-lateral", Warning, "a BMC may open flows to another BMC";
    BroadIpmi => "BW205", "broad-ipmi", Warning, "IPMI allowed from a source wider than /24 or /64";
    CleartextService => "BW206", "cleartext-service", Warning, "a cleartext service allowed to a BMC";
    BroadSource => "BW207", "broad-source", Warning, "a source wider than /16 or /48 allowed to a BMC";
    AnyService => "BW208", "any-service", Warning, "all protocols allowed to a BMC";
    ExpiredRule => "BW301", "expired-rule", Warning, "`until` date has passed; the rule is not compiled";
    ExpiringRule => "BW302", "expiring-rule", Info, "`until` within 14 days";
    UnusedDefinition => "BW303", "unused-definition", Warning, "a definition nothing uses";
    ExpectationFailed => "BW401", "expectation-failed", Error, "an `expect` does not hold";
}

/// How a code is treated: reported at a severity, or not at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Allow,
    Info,
    Warning,
    Error,
}

impl Level {
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Allow => None,
            Level::Info => Some(Severity::Info),
            Level::Warning => Some(Severity::Warning),
            Level::Error => Some(Severity::Error),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

impl Code {
    /// The severity of a finding before level overrides; `allow`-level codes
    /// are computed as warnings and dropped by the level filter.
    pub fn default_severity(self) -> Severity {
        self.default_level().severity().unwrap_or(Severity::Warning)
    }

    /// Errors in the BW0xx range mean the input is not a valid policy (exit 2).
    pub fn is_input_error(self) -> bool {
        self.as_str().starts_with("BW0")
    }

    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|code| code.as_str().eq_ignore_ascii_case(text) || code.name() == text)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
