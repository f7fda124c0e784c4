//! The one table of finding codes: code, name, default level and summary. Every
//! stage reports with these codes, so they sit under every stage; each code's
//! documentation is the leading `//!` comment of its file in `src/lints/`.
//!
//! Codes are stable and never reused.

use super::Severity;
use std::fmt;

macro_rules! codes {
    ($( $variant:ident => $file:literal, $code:literal, $name:literal, $level:ident, $summary:literal; )*) => {
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

            /// The source of the file that documents the code; its leading
            /// `//!` comment is the documentation.
            fn source(self) -> &'static str {
                match self { $( Code::$variant => include_str!(concat!("../lints/", $file)), )* }
            }
        }
    };
}

codes! {
    SyntaxError => "bw001_syntax_error.rs", "BW001", "syntax-error", Error, "text that is not the language";
    UnknownName => "bw002_unknown_name.rs", "BW002", "unknown-name", Error, "a name that is not defined";
    DuplicateDefinition => "bw003_duplicate_definition.rs", "BW003", "duplicate-definition", Error, "a name defined twice, or a built-in redefined";
    IncludeError => "bw004_include_error.rs", "BW004", "include-error", Error, "missing file, include cycle";
    InventoryError => "bw005_inventory_error.rs", "BW005", "inventory-error", Error, "unreadable or invalid inventory, duplicate name, bad address";
    InvalidValue => "bw006_invalid_value.rs", "BW006", "invalid-value", Error, "bad address, prefix, port, range or date; host with a non-single address";
    DefinitionCycle => "bw007_definition_cycle.rs", "BW007", "definition-cycle", Error, "a name defined through itself";
    EmptySelector => "bw008_empty_selector.rs", "BW008", "empty-selector", Warning, "`inventory(...)` matches no entry";
    EmptyInventory => "bw009_empty_inventory.rs", "BW009", "empty-inventory", Error, "an inventory that yields no BMC";
    UnresolvedName => "bw010_unresolved_name.rs", "BW010", "unresolved-name", Error, "a BMC address that is a host name, without `resolve` or not resolving";
    GatewayError => "bw011_gateway_error.rs", "BW011", "gateway-error", Error, "a gateway with an item twice or no address, or `scope` with gateways";
    ConfigError => "bw013_config_error.rs", "BW013", "config-error", Error, "bmcwall.toml that is not valid";
    ShadowedRule => "bw101_shadowed_rule.rs", "BW101", "shadowed-rule", Error, "a rule that never decides any flow because earlier rules with another action cover it";
    RedundantRule => "bw102_redundant_rule.rs", "BW102", "redundant-rule", Warning, "removing the rule changes no decision";
    CorrelatedRules => "bw103_correlated_rules.rs", "BW103", "correlated-rules", Warning, "two rules with different actions overlap partially";
    Generalization => "bw104_generalization.rs", "BW104", "generalization", Allow, "a later rule with another action covers an earlier one";
    OutOfScopeRule => "bw105_out_of_scope_rule.rs", "BW105", "out-of-scope-rule", Warning, "a rule none of whose flows is in scope";
    UnwatchedNetwork => "bw106_unwatched_network.rs", "BW106", "unwatched-network", Warning, "a `watch` network whose flows the table does not govern";
    InternetExposure => "bw201_internet_exposure.rs", "BW201", "internet-exposure", Error, "a flow from the internet to a BMC is allowed";
    TransitiveExposure => "bw202_transitive_exposure.rs", "BW202", "transitive-exposure", Error, "the internet reaches a host that reaches a BMC";
    BmcEgress => "bw203_bmc_egress.rs", "BW203", "bmc-egress", Error, "a BMC may open flows to the internet";
    BmcLateral => "bw204_bmc_lateral.rs", "BW204", "bmc-lateral", Warning, "a BMC may open flows to another BMC";
    BroadIpmi => "bw205_broad_ipmi.rs", "BW205", "broad-ipmi", Warning, "IPMI allowed from a source wider than /24 or /64";
    CleartextService => "bw206_cleartext_service.rs", "BW206", "cleartext-service", Warning, "a cleartext service allowed to a BMC";
    BroadSource => "bw207_broad_source.rs", "BW207", "broad-source", Warning, "a source wider than /16 or /48 allowed to a BMC";
    AnyService => "bw208_any_service.rs", "BW208", "any-service", Warning, "all protocols allowed to a BMC";
    ExpiredRule => "bw301_expired_rule.rs", "BW301", "expired-rule", Warning, "`until` date has passed; the rule is not compiled";
    ExpiringRule => "bw302_expiring_rule.rs", "BW302", "expiring-rule", Info, "`until` within 14 days";
    UnusedDefinition => "bw303_unused_definition.rs", "BW303", "unused-definition", Warning, "a definition nothing uses";
    BroadWaiver => "bw304_broad_waiver.rs", "BW304", "broad-waiver", Warning, "a waiver that silences services it does not name";
    UnknownVendor => "bw309_unknown_vendor.rs", "BW309", "unknown-vendor", Warning, "an inventory vendor bmcwall does not know";
    SharedAddress => "bw310_shared_address.rs", "BW310", "shared-address", Warning, "inventory entries with different names share an address";
    ConfusableText => "bw311_confusable_text.rs", "BW311", "confusable-text", Warning, "an inventory name or label value that mixes scripts or looks like another";
    ExpectationFailed => "bw401_expectation_failed.rs", "BW401", "expectation-failed", Error, "an `expect` does not hold";
    UngovernedBmc => "bw501_ungoverned_bmc.rs", "BW501", "ungoverned-bmc", Error, "a BMC no gateway governs";
    InvalidPair => "bw502_invalid_pair.rs", "BW502", "invalid-pair", Error, "a `pair` whose peer is missing or a member, or a member with its own scope or mode";
    GatewayOverlap => "bw503_gateway_overlap.rs", "BW503", "gateway-overlap", Warning, "two gateways that are no pair share an address or a BMC in scope";
    BmcCalledOut => "bw601_bmc_called_out.rs", "BW601", "bmc-called-out", Error, "a BMC tried to open a flow to the internet (audit)";
    BmcTriedBmc => "bw602_bmc_tried_bmc.rs", "BW602", "bmc-tried-bmc", Warning, "a BMC tried to open a flow to another BMC (audit)";
    BmcTriedInternal => "bw603_bmc_tried_internal.rs", "BW603", "bmc-tried-internal", Warning, "a BMC tried to open a flow to an internal host (audit)";
    UnknownDevice => "bw604_unknown_device.rs", "BW604", "unknown-device", Warning, "a device on a watched network that the policy does not know sent denied flows (audit)";
    KnockFromInternet => "bw605_knock_from_internet.rs", "BW605", "knock-from-internet", Info, "the internet tried a BMC and was denied (audit)";
    KnockFromInternal => "bw606_knock_from_internal.rs", "BW606", "knock-from-internal", Info, "an internal address tried a BMC and was denied (audit)";
    RecordingFull => "bw607_recording_full.rs", "BW607", "recording-full", Warning, "a recording set is full: later denied flows were not recorded (audit)";
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

    /// Whether the level of the code can be changed: not for the errors
    /// that make the input invalid (BW001-BW007); such a policy has no
    /// meaning to check.
    pub fn can_be_lowered(self) -> bool {
        !(self.is_input_error() && self.default_level() == Level::Error)
    }

    /// Whether the code's findings name the services they cover, so that a
    /// waiver may name the services it waives (`waive BW206(vnc) "..."`).
    pub fn lists_services(self) -> bool {
        self == Code::CleartextService
    }

    /// The checks that keep the BMCs isolated (internet exposure, direct or
    /// through a pivot, BMC egress, failed expectations): lowering one from
    /// the command line is warned about and recorded in every output.
    pub fn guards_isolation(self) -> bool {
        matches!(
            self,
            Code::InternetExposure
                | Code::TransitiveExposure
                | Code::BmcEgress
                | Code::ExpectationFailed
        )
    }

    /// The code's documentation (What it does / Why it matters / Example /
    /// How to fix), taken from the `//!` comment of its file.
    pub fn doc(self) -> String {
        let mut out = String::new();
        for line in self.source().lines() {
            let Some(text) = line.strip_prefix("//!") else {
                break;
            };
            out.push_str(text.strip_prefix(' ').unwrap_or(text));
            out.push('\n');
        }
        out
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

/// An isolation check lowered on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lowered {
    pub code: Code,
    pub level: Level,
}

impl std::fmt::Display for Lowered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}) lowered to {}",
            self.code,
            self.code.name(),
            self.level.as_str()
        )
    }
}

/// What `--deny`, `--warn`, `--allow` and bmcwall.toml's `[lints]` lists
/// name: a code (`BW202`, or its name), a prefix of codes (`BW2`, `BW20`),
/// or a group (`warnings`, `infos`: the codes at that level).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    Code(Code),
    Prefix(String),
    Group(Level),
}

impl Selector {
    pub fn parse(text: &str) -> Option<Selector> {
        match text {
            "warnings" => return Some(Selector::Group(Level::Warning)),
            "infos" => return Some(Selector::Group(Level::Info)),
            _ => {}
        }
        if let Some(code) = Code::parse(text) {
            return Some(Selector::Code(code));
        }
        let upper = text.to_ascii_uppercase();
        let digits = upper.strip_prefix("BW")?;
        let prefix = (1..=2).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        let any = Code::ALL.iter().any(|c| c.as_str().starts_with(&upper));
        (prefix && any).then_some(Selector::Prefix(upper))
    }

    /// Whether the selector names `code`, whose level is `level`.
    pub fn selects(&self, code: Code, level: Level) -> bool {
        match self {
            Selector::Code(c) => *c == code,
            Selector::Prefix(prefix) => code.as_str().starts_with(prefix.as_str()),
            Selector::Group(group) => *group == level,
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Code(code) => code.fmt(f),
            Selector::Prefix(prefix) => f.write_str(prefix),
            Selector::Group(Level::Info) => f.write_str("infos"),
            Selector::Group(_) => f.write_str("warnings"),
        }
    }
}

/// docs/lints.md: the table of codes and every code's documentation.
pub fn codes_markdown() -> String {
    let mut out = String::from(
        "# Lints\n\n<!-- Generated by `bmcwall lints --markdown` from the files in src/lints/. Do not edit. -->\n\n\
         Every finding has a stable code. Levels can be changed per code, prefix or group in\n\
         `bmcwall.toml` and with `--deny`, `--warn` and `--allow` (docs/configuration.md), and a\n\
         finding can be waived on one rule with `waive CODE \"reason\"`.\n\n\
         | code | name | default | what |\n|---|---|---|---|\n",
    );
    for code in Code::ALL {
        out.push_str(&format!(
            "| [{}](#{}) | {} | {} | {} |\n",
            code.as_str(),
            code.as_str().to_lowercase(),
            code.name(),
            code.default_level().as_str(),
            code.summary()
        ));
    }
    for code in Code::ALL {
        let doc = code.doc();
        let mut lines = doc.lines();
        lines.next();
        out.push_str(&format!(
            "\n## {}\n\n`{}`, default level: {}.\n",
            code.as_str(),
            code.name(),
            code.default_level().as_str()
        ));
        for line in lines {
            let line = line
                .strip_prefix("## ")
                .map_or(line.to_string(), |h| format!("### {h}"));
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}
