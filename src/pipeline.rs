//! The pipeline from a policy file to checked findings, shared by every command.

use crate::analysis::Analysis;
use crate::diagnostic::{self, Diagnostic, Severity};
use crate::diagnostic::{Code, Level, Lowered, Selector};
use crate::lints::{self, Context};
use crate::model::Date;
use crate::resolve::{self, Policy, Waiver};
use crate::source::SourceMap;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

pub use crate::lints::Thresholds;

/// How a run judges findings: levels per code (from bmcwall.toml and the
/// command line) and the thresholds of the checks that measure.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub levels: Levels,
    pub thresholds: Thresholds,
    /// Where included files and inventories may be.
    pub confine: resolve::Confine,
}

impl From<Levels> for Settings {
    fn from(levels: Levels) -> Self {
        Settings {
            levels,
            thresholds: Thresholds::default(),
            confine: resolve::Confine::default(),
        }
    }
}

/// Per-code level overrides from bmcwall.toml and the command line.
#[derive(Clone, Debug, Default)]
pub struct Levels {
    overrides: BTreeMap<Code, Level>,
}

impl Levels {
    pub fn set(&mut self, code: Code, level: Level) {
        self.overrides.insert(code, level);
    }

    /// The levels that layers of settings give, later layers overriding
    /// earlier ones (bmcwall.toml, then the command line). Within a layer,
    /// prefixes apply before codes, shorter prefixes first, and of two
    /// settings of the same selector `deny` wins over `warn` and `warn` over
    /// `allow`. Groups (`warnings`, `infos`) apply last, to the codes at that
    /// level after every code and prefix setting, but for codes a later
    /// layer sets by code or prefix. Codes that cannot be lowered keep their
    /// level.
    pub fn resolve(layers: &[&[(Selector, Level)]]) -> Levels {
        let mut levels = Levels::default();
        // The layer that last set each code by code or prefix.
        let mut origin: BTreeMap<Code, usize> = BTreeMap::new();
        let rank = |selector: &Selector| match selector {
            Selector::Prefix(prefix) => prefix.len(),
            Selector::Code(_) => usize::MAX - 1,
            Selector::Group(_) => usize::MAX,
        };
        let ordered = |layer: &[(Selector, Level)]| {
            let mut layer: Vec<(Selector, Level)> = layer.to_vec();
            layer.sort_by_key(|(selector, level)| (rank(selector), *level));
            layer
        };
        for (index, layer) in layers.iter().enumerate() {
            for (selector, level) in ordered(layer) {
                if matches!(selector, Selector::Group(_)) {
                    continue;
                }
                for &code in Code::ALL {
                    if selector.selects(code, code.default_level()) {
                        levels.set(code, level);
                        origin.insert(code, index);
                    }
                }
            }
        }
        let before_groups = levels.clone();
        for (index, layer) in layers.iter().enumerate() {
            for (selector, level) in ordered(layer) {
                if !matches!(selector, Selector::Group(_)) {
                    continue;
                }
                for &code in Code::ALL {
                    let later = origin.get(&code).is_some_and(|&set_in| set_in > index);
                    if !later && selector.selects(code, before_groups.level(code)) {
                        levels.set(code, level);
                    }
                }
            }
        }
        levels
    }

    /// The level of `code`. Errors that make the input invalid (BW001-BW007)
    /// cannot be lowered: such a policy has no meaning to check.
    pub fn level(&self, code: Code) -> Level {
        let default = code.default_level();
        if !code.can_be_lowered() {
            return default;
        }
        self.overrides.get(&code).copied().unwrap_or(default)
    }

    /// The isolation checks (BW201-BW203, BW401) set below their default
    /// level, with the level each has: what every output records.
    pub fn lowered(&self) -> Vec<Lowered> {
        self.overrides
            .iter()
            .filter(|(code, level)| code.guards_isolation() && **level < code.default_level())
            .map(|(&code, &level)| Lowered { code, level })
            .collect()
    }
}

/// A finding after levels and waivers.
#[derive(Clone, Debug)]
pub struct Finding {
    pub diagnostic: Diagnostic,
    /// The waiver's reason when a `waive` on the rule silences it.
    pub waived: Option<String>,
}

impl Finding {
    pub fn counts_as_error(&self) -> bool {
        self.waived.is_none() && self.diagnostic.severity == Severity::Error
    }
}

pub struct Checked {
    pub sources: SourceMap,
    /// Every inventory read, in statement order, also when the input is
    /// not valid.
    pub inventories: Vec<resolve::InventorySummary>,
    /// Isolation checks the command line lowered for this run.
    pub lowered: Vec<Lowered>,
    /// `None` when the input is not a valid policy.
    pub model: Option<(Policy, Analysis)>,
    pub findings: Vec<Finding>,
}

impl Checked {
    /// The findings of an input that is not a policy (a file `fmt` cannot
    /// parse, a bmcwall.toml that is not valid): its diagnostics, as they are.
    pub fn of_diagnostics(sources: SourceMap, diagnostics: Vec<Diagnostic>) -> Checked {
        Checked {
            sources,
            inventories: Vec::new(),
            lowered: Vec::new(),
            model: None,
            findings: diagnostics
                .into_iter()
                .map(|diagnostic| Finding {
                    diagnostic,
                    waived: None,
                })
                .collect(),
        }
    }

    /// Any error-level BW0xx (also one raised to error with `--deny`): the
    /// input is not a valid policy.
    pub fn input_invalid(&self) -> bool {
        self.model.is_none()
            || self
                .findings
                .iter()
                .any(|f| f.counts_as_error() && f.diagnostic.code.is_input_error())
    }

    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(Finding::counts_as_error)
    }
}

/// Reads, resolves, analyses and checks one policy.
pub fn check(path: &Path, today: Date, settings: &Settings) -> Checked {
    run(
        path,
        SourceMap::default(),
        today,
        settings,
        None,
        None::<fn(&Policy, &Analysis, &SourceMap)>,
    )
    .0
}

/// [`check`], reading policy and inventory files from `open` (an editor's
/// unsaved buffers, by canonical path) where it holds them, and taking the
/// inventories `cache` kept from an earlier check where their files read
/// as they did then (it keeps the ones parsed now).
pub fn check_open(
    path: &Path,
    open: std::collections::BTreeMap<std::path::PathBuf, String>,
    today: Date,
    settings: &Settings,
    cache: &resolve::Cache,
) -> Checked {
    run(
        path,
        SourceMap::with_open(open),
        today,
        settings,
        Some(cache),
        None::<fn(&Policy, &Analysis, &SourceMap)>,
    )
    .0
}

/// [`check`], running `alongside` on the model (when the input is a valid
/// policy) on a second thread while the checks run: `compile` builds its
/// output meanwhile, and writes it only if the findings allow.
pub fn check_alongside<R: Send>(
    path: &Path,
    today: Date,
    settings: &Settings,
    alongside: impl FnOnce(&Policy, &Analysis, &SourceMap) -> R + Send,
) -> (Checked, Option<R>) {
    run(
        path,
        SourceMap::default(),
        today,
        settings,
        None,
        Some(alongside),
    )
}

fn run<R: Send, F: FnOnce(&Policy, &Analysis, &SourceMap) -> R + Send>(
    path: &Path,
    mut sources: SourceMap,
    today: Date,
    settings: &Settings,
    cache: Option<&resolve::Cache>,
    alongside: Option<F>,
) -> (Checked, Option<R>) {
    let levels = &settings.levels;
    let (policy, mut diagnostics) = resolve::load_kept(
        path,
        &mut sources,
        &resolve::Options {
            today,
            confine: settings.confine.clone(),
        },
        cache,
    );
    let inventories = policy.inventories.clone();
    let invalid = diagnostics
        .iter()
        .any(|d| d.code.is_input_error() && d.severity == Severity::Error);
    // Names that stand for nothing (BW002) count as empty; the checks that do
    // not depend on them still run, and nothing is compiled.
    let recovered = invalid && recoverable(&policy, &diagnostics);
    if recovered {
        for diagnostic in diagnostics
            .iter_mut()
            .filter(|d| d.code == Code::UnknownName)
        {
            let note = "it counts as empty meanwhile: the checks of the statements that use it \
                        are skipped, and the other checks ran";
            diagnostic.help = Some(match diagnostic.help.take() {
                Some(help) => format!("{help}\n{note}"),
                None => note.into(),
            });
        }
    }
    let (model, result) = if invalid && !recovered {
        (None, None)
    } else {
        let analysis = Analysis::new(&policy);
        let alongside = if recovered { None } else { alongside };
        let job = Mutex::new(alongside);
        // Whichever thread comes first runs the job: the second thread, or
        // this one after the checks when no second thread could be started.
        let take_and_run = || {
            let job = job.lock().unwrap_or_else(PoisonError::into_inner).take();
            job.map(|f| f(&policy, &analysis, &sources))
        };
        let result = std::thread::scope(|scope| {
            let has_job = job.lock().unwrap_or_else(PoisonError::into_inner).is_some();
            let other = has_job
                .then(|| std::thread::Builder::new().spawn_scoped(scope, take_and_run))
                .and_then(Result::ok);
            let context = Context::new(&policy, &analysis, &sources, today, settings.thresholds);
            let mut found = lints::run(&context);
            if recovered {
                let unresolved = unresolved_spans(&policy);
                found.retain(|d| !depends_on_unresolved(&unresolved, d));
            }
            diagnostics.extend(found);
            other
                .and_then(|other| {
                    other
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .or_else(take_and_run)
        });
        (Some((policy, analysis)), result)
    };
    let findings = apply_levels(diagnostics, levels, model.as_ref().map(|(p, _)| p));
    let checked = Checked {
        sources,
        inventories,
        lowered: levels.lowered(),
        model,
        findings,
    };
    (checked, result)
}

/// Whether a policy with input errors can still be checked: its only errors
/// are names that stand for nothing (BW002), none of them in `internal`,
/// `scope` or a `bmc` definition.
fn recoverable(policy: &Policy, diagnostics: &[Diagnostic]) -> bool {
    !policy.unresolved_core
        && diagnostics
            .iter()
            .filter(|d| d.code.is_input_error() && d.severity == Severity::Error)
            .all(|d| d.code == Code::UnknownName)
}

/// The rules and expectations that use a name that stands for nothing.
fn unresolved_spans(policy: &Policy) -> Vec<crate::source::Span> {
    let rules = policy.rules.iter().filter(|r| r.unresolved).map(|r| r.span);
    let expectations = policy
        .expectations
        .iter()
        .filter(|e| e.unresolved)
        .map(|e| e.span);
    rules.chain(expectations).collect()
}

/// Whether a finding depends on a name that stands for nothing: any of its
/// labels lies in a rule or expectation that uses one (`spans`), or it is
/// an unused definition (the broken statement may have been meant to use it).
fn depends_on_unresolved(spans: &[crate::source::Span], diagnostic: &Diagnostic) -> bool {
    if diagnostic.code == Code::UnusedDefinition {
        return true;
    }
    diagnostic.labels.iter().any(|label| {
        spans.iter().any(|s| {
            s.file == label.span.file && s.start <= label.span.start && label.span.end <= s.end
        })
    })
}

/// Applies level overrides and waivers, drops `allow`-level findings, and sorts.
fn apply_levels(
    mut diagnostics: Vec<Diagnostic>,
    levels: &Levels,
    policy: Option<&Policy>,
) -> Vec<Finding> {
    diagnostic::sort(&mut diagnostics);
    diagnostics
        .into_iter()
        .filter_map(|mut diagnostic| {
            diagnostic.severity = levels.level(diagnostic.code).severity()?;
            let waiver = policy.and_then(|p| p.waiver_of(&diagnostic));
            let waived = match waiver {
                Some(waiver) => waiver_covers(waiver, &mut diagnostic),
                None => None,
            };
            Some(Finding { diagnostic, waived })
        })
        .collect()
}

/// The reason a waiver silences a finding with, when it does: a waiver that
/// names services silences a finding only if it names every service the
/// finding lists; otherwise the finding says which it leaves out.
fn waiver_covers(waiver: &Waiver, diagnostic: &mut Diagnostic) -> Option<String> {
    if waiver.services.is_empty() {
        return Some(waiver.reason.clone());
    }
    let left: Vec<String> = diagnostic
        .services
        .iter()
        .filter(|s| !waiver.services.contains(s))
        .map(|s| format!("`{s}`"))
        .collect();
    if left.is_empty() {
        return Some(waiver.reason.clone());
    }
    let named: Vec<String> = waiver.services.iter().map(|s| format!("`{s}`")).collect();
    let line = format!(
        "the waiver names {} only; not waived: {}",
        named.join(", "),
        left.join(", ")
    );
    diagnostic.help = Some(match diagnostic.help.take() {
        Some(help) => format!("{line}\n{help}"),
        None => line,
    });
    None
}

/// Several policies checked together (`check sites/*.wall`), as one report:
/// a finding in a file several of them read (an included file) is kept once,
/// with the first policy that reports it; an unused definition (BW303) in
/// such a file only when every policy that reads the file finds it unused.
pub fn merge(results: &mut [Checked]) {
    use std::collections::{BTreeSet, HashSet};
    type Key = (String, u32, u32, Code, String);
    let key = |checked: &Checked, finding: &Finding| -> Key {
        let diagnostic = &finding.diagnostic;
        let span = diagnostic.primary().span;
        (
            checked.sources.file(span.file).display_path(),
            span.start,
            span.end,
            diagnostic.code,
            diagnostic.message.clone(),
        )
    };
    let keys: Vec<HashSet<Key>> = results
        .iter()
        .map(|checked| checked.findings.iter().map(|f| key(checked, f)).collect())
        .collect();
    let files: Vec<BTreeSet<String>> = results
        .iter()
        .map(|checked| {
            checked
                .sources
                .files()
                .map(|(_, f)| f.display_path())
                .collect()
        })
        .collect();
    let mut seen: HashSet<Key> = HashSet::new();
    for (index, checked) in results.iter_mut().enumerate() {
        let findings = std::mem::take(&mut checked.findings);
        for finding in findings {
            let found = key(checked, &finding);
            let unused_elsewhere = finding.diagnostic.code != Code::UnusedDefinition
                || (0..keys.len())
                    .filter(|&other| other != index && files[other].contains(&found.0))
                    .all(|other| keys[other].contains(&found));
            if unused_elsewhere && seen.insert(found) {
                checked.findings.push(finding);
            }
        }
    }
}

/// Today's date in UTC.
pub fn today_utc() -> Date {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Date::from_days_since_epoch((seconds / 86_400) as i64)
}
