//! bmcwall.toml: levels per code, prefix or group, and the thresholds of the
//! checks that measure, found in the policy's directory or the nearest one
//! above it, or named with `--config`. Read into [`RawConfig`], then checked
//! into a [`Config`]: every problem is a located BW013.

use crate::diagnostic::{Code, Diagnostic, Level, Selector};
use crate::pipeline::Thresholds;
use crate::source::{FileId, SourceMap, Span};
use serde::Deserialize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The name the file is found by.
pub(super) const FILE_NAME: &str = "bmcwall.toml";

/// The nearest bmcwall.toml in the directory of `policy` or above it, named
/// as the policy is (relative while the search stays below the working
/// directory).
pub(super) fn find(policy: &Path) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for dir in policy.ancestors().skip(1) {
        if dir.as_os_str().is_empty() {
            // The working directory, then the directories above it.
            let cwd = std::env::current_dir().ok()?;
            dirs.push(PathBuf::new());
            dirs.extend(cwd.ancestors().skip(1).map(Path::to_path_buf));
            break;
        }
        dirs.push(dir.to_path_buf());
        if dir.parent().is_none() {
            break;
        }
    }
    dirs.into_iter()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}

/// A checked configuration.
#[derive(Clone, Debug, Default)]
pub(super) struct Config {
    /// `[lints]`: each selector with the level it sets.
    pub(super) levels: Vec<(Selector, Level)>,
    pub(super) thresholds: Thresholds,
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    lints: RawLints,
    #[serde(default)]
    thresholds: RawThresholds,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLints {
    #[serde(default)]
    deny: Vec<Spanned<String>>,
    #[serde(default)]
    warn: Vec<Spanned<String>>,
    #[serde(default)]
    allow: Vec<Spanned<String>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawThresholds {
    broad_source_v4: Option<Spanned<i64>>,
    broad_source_v6: Option<Spanned<i64>>,
    broad_ipmi_v4: Option<Spanned<i64>>,
    broad_ipmi_v6: Option<Spanned<i64>>,
    expiry_warning_days: Option<Spanned<i64>>,
}

/// Reads and checks the file at `path`, which is added to `sources`.
pub(super) fn load(path: &Path, sources: &mut SourceMap) -> Result<Config, Vec<Diagnostic>> {
    let shown = crate::source::normalize(path);
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            let file = sources.add(shown, String::new());
            return Err(vec![Diagnostic::new(
                Code::ConfigError,
                format!("cannot read {}: {error}", path.display()),
                Span::new(file, 0, 0),
                "unreadable",
            )]);
        }
    };
    let file = sources.add(shown, text.clone());
    let raw: RawConfig = toml::from_str(&text).map_err(|error| {
        let span = error.span().unwrap_or(0..0);
        vec![Diagnostic::new(
            Code::ConfigError,
            format!("bmcwall.toml is not valid: {}", error.message()),
            at(file, &span),
            "here",
        )
        .with_help("docs/configuration.md lists the keys")]
    })?;
    raw.validate(file)
}

fn at(file: FileId, range: &Range<usize>) -> Span {
    Span::new(file, range.start, range.end)
}

impl RawConfig {
    /// The configuration, or every problem with it.
    fn validate(self, file: FileId) -> Result<Config, Vec<Diagnostic>> {
        let mut problems = Vec::new();
        let mut levels = Vec::new();
        let lists = [
            (self.lints.deny, Level::Error),
            (self.lints.warn, Level::Warning),
            (self.lints.allow, Level::Allow),
        ];
        for (list, level) in lists {
            for entry in list {
                let span = at(file, &entry.span());
                let text = entry.into_inner();
                match Selector::parse(&text) {
                    None => problems.push(
                        Diagnostic::new(
                            Code::ConfigError,
                            format!("`{text}` is not a code, a prefix of codes or a group"),
                            span,
                            "unknown",
                        )
                        .with_help(
                            "write a code (`BW202` or `transitive-exposure`), a prefix (`BW2`) or \
                             `warnings` or `infos`; `bmcwall lints` lists the codes",
                        ),
                    ),
                    Some(Selector::Code(code))
                        if level < Level::Error && !code.can_be_lowered() =>
                    {
                        problems.push(
                            Diagnostic::new(
                                Code::ConfigError,
                                format!(
                                    "{code} ({}) cannot be lowered: it means the input is not a \
                                     valid policy",
                                    code.name()
                                ),
                                span,
                                "cannot be lowered",
                            )
                            .with_help("remove it from the list"),
                        )
                    }
                    Some(selector) => levels.push((selector, level)),
                }
            }
        }
        let defaults = Thresholds::default();
        let mut threshold = |value: Option<Spanned<i64>>, max: i64, default: i64, what: &str| {
            let Some(value) = value else {
                return default;
            };
            let span = at(file, &value.span());
            let number = value.into_inner();
            if (0..=max).contains(&number) {
                return number;
            }
            problems.push(
                Diagnostic::new(
                    Code::ConfigError,
                    format!("{what} must be between 0 and {max}, not {number}"),
                    span,
                    "out of range",
                )
                .with_help(format!("the default is {default}")),
            );
            default
        };
        let raw = self.thresholds;
        let prefix = |d: u32| i64::from(d);
        let thresholds = Thresholds {
            broad_source_v4: threshold(
                raw.broad_source_v4,
                32,
                prefix(defaults.broad_source_v4),
                "an IPv4 prefix length",
            ) as u32,
            broad_source_v6: threshold(
                raw.broad_source_v6,
                128,
                prefix(defaults.broad_source_v6),
                "an IPv6 prefix length",
            ) as u32,
            broad_ipmi_v4: threshold(
                raw.broad_ipmi_v4,
                32,
                prefix(defaults.broad_ipmi_v4),
                "an IPv4 prefix length",
            ) as u32,
            broad_ipmi_v6: threshold(
                raw.broad_ipmi_v6,
                128,
                prefix(defaults.broad_ipmi_v6),
                "an IPv6 prefix length",
            ) as u32,
            expiry_warning_days: threshold(
                raw.expiry_warning_days,
                3650,
                defaults.expiry_warning_days,
                "a number of days",
            ),
        };
        if problems.is_empty() {
            Ok(Config { levels, thresholds })
        } else {
            Err(problems)
        }
    }
}
