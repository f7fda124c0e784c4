//! The command line: parses arguments, runs the pipeline, renders findings and
//! writes output. The only module that prints.

mod apply;
mod args;
mod audit;
mod config;
mod diff;
mod docs;
mod exit;
mod explain;
mod fetch;
mod fleet;
mod fmt;
mod gateway;
mod graph;
mod live;
mod lsp;
mod plan;
mod render;
mod sensor;
mod snippet;
mod usage;
mod watchdog;
mod write;

use crate::diagnostic::Code;
use crate::nft;
use crate::pipeline::{self, Checked};
use args::*;
use clap::Parser;
pub use exit::Exit;
use std::io::Write as _;

/// Runs the command line and returns how it ended.
/// Renders `results` in every report form (human with and without colour,
/// JSON, SARIF, GitHub) and drops what it rendered: what the fuzz targets
/// run every checked input through.
pub fn render_every_form(results: &[pipeline::Checked]) {
    for checked in results {
        for color in [false, true] {
            let options = render::Options {
                color,
                quiet: false,
                verbose: true,
            };
            let _ = render::human(checked, &options);
        }
    }
    let _ = render::summary(results);
    let _ = render::json(results);
    let _ = render::sarif(results);
    let _ = render::github(results);
}

pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> Exit {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                Exit::Invalid
            } else {
                Exit::Success
            };
        }
    };
    match cli.command {
        Command::Check(args) => check(args),
        Command::Compile(args) => compile(args),
        Command::Explain(args) => explain_command(args),
        Command::Graph(args) => graph_command(args),
        Command::Plan(args) => plan_command(args),
        Command::Usage(args) => usage::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Apply(args) => apply::run(args),
        Command::RollbackWatchdog(args) => watchdog::watch(args),
        Command::Diff(args) => diff::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Lints(args) => lints(args),
        Command::Inventory(args) => match args.source {
            args::InventorySource::Netbox(args) => fetch::run(args),
        },
        Command::Completions(args) => docs::completions(args),
        Command::Man(args) => docs::man(args),
        Command::Lsp(args) => lsp::run(args),
    }
}

fn check(args: CheckArgs) -> Exit {
    let today = args.common.today();
    let mut results: Vec<Checked> = Vec::new();
    // Policies under one bmcwall.toml share its settings, read once.
    let mut settings: Vec<(Option<std::path::PathBuf>, pipeline::Settings)> = Vec::new();
    for path in &args.policies {
        let file = args.common.config_file(path);
        let known = settings.iter().position(|(f, _)| *f == file);
        let index = match known {
            Some(index) => index,
            None => match args.common.settings_from(file.clone()) {
                Ok(read) => {
                    settings.push((file, read));
                    settings.len() - 1
                }
                Err(exit) => return exit,
            },
        };
        results.push(pipeline::check(path, today, &settings[index].1));
    }
    pipeline::merge(&mut results);
    match args.format {
        CheckFormat::Human => {
            let options = args.common.render_options();
            let mut stderr = std::io::stderr().lock();
            for checked in &results {
                let _ = stderr.write_all(render::human(checked, &options).as_bytes());
            }
            if !options.quiet {
                let _ = stderr.write_all(render::summary(&results).as_bytes());
            }
        }
        machine => {
            let text = match machine {
                CheckFormat::Sarif => render::sarif(&results),
                CheckFormat::Github => Ok(render::github(&results)),
                _ => render::json(&results),
            };
            match text {
                Ok(text) => {
                    if let Err(exit) = printed(&text) {
                        left_to_exit(results);
                        return exit;
                    }
                }
                Err(error) => {
                    left_to_exit(results);
                    return unwritten(&error);
                }
            }
        }
    }
    let code = results.iter().map(Exit::of).max().unwrap_or(Exit::Success);
    left_to_exit(results);
    code
}

/// Writes `text` to standard output; a write that fails (a closed pipe, a
/// full disk) is reported and is the command's outcome, never ignored.
/// Now, in seconds since 1970 (UTC).
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn printed(text: &str) -> Result<(), Exit> {
    write::stdout(text.as_bytes()).map_err(|error| {
        let _ = writeln!(
            std::io::stderr(),
            "bmcwall: cannot write to standard output: {error}"
        );
        Exit::Invalid
    })
}

/// Reports output that could not be produced, instead of writing an empty
/// one.
fn unwritten(error: &dyn std::fmt::Display) -> Exit {
    let _ = writeln!(std::io::stderr(), "bmcwall: {error}");
    Exit::Invalid
}

/// Leaves a command's model to the end of the process instead of freeing it:
/// the process ends right after the command, and freeing every entry, set and
/// finding one by one takes a tenth of a `check`'s time.
fn left_to_exit<T>(model: T) {
    std::mem::forget(model);
}

/// The model of a policy that may be compiled; otherwise says why not and
/// gives the exit code.
fn compilable<'a>(
    checked: &'a Checked,
    verb: &str,
) -> Result<(&'a crate::resolve::Policy, &'a crate::analysis::Analysis), Exit> {
    match checked.model.as_ref().filter(|_| !checked.has_errors()) {
        Some((policy, analysis)) => Ok((policy, analysis)),
        None => {
            let _ = writeln!(
                std::io::stderr(),
                "bmcwall: not {verb}: {}",
                if checked.input_invalid() {
                    "the policy is not valid"
                } else {
                    "error-level findings remain"
                }
            );
            Err(Exit::of(checked))
        }
    }
}

/// Checks a policy and reports its findings on stderr; `Err` is the exit
/// code when its settings are not valid.
fn checked_with_report(policy: &std::path::Path, common: &Common) -> Result<Checked, Exit> {
    let checked = pipeline::check(policy, common.today(), &common.settings(policy)?);
    report(&checked, common);
    Ok(checked)
}

/// Writes the findings of a check to stderr.
fn report(checked: &Checked, common: &Common) {
    let report = render::human(checked, &common.render_options());
    let _ = std::io::stderr().lock().write_all(report.as_bytes());
}

fn layout(layout: Layout) -> nft::Layout {
    match layout {
        Layout::Sets => nft::Layout::Sets,
        Layout::Rules => nft::Layout::Rules,
    }
}

fn compile(args: CompileArgs) -> Exit {
    // The output is built while the checks run; it is written only if the
    // policy compiles.
    let settings = match args.common.settings(&args.policy) {
        Ok(settings) => settings,
        Err(exit) => return exit,
    };
    let lowered = settings.levels.lowered();
    let request = fleet::Request {
        gateway: args.gateway.as_deref(),
        all: args.all,
        layout: layout(args.layout),
        table: &args.table,
        options: nft::Options {
            reverse_path: args.reverse_path.nft(),
            record: args.record.record(),
        },
        json: args.format == OutputFormat::Json,
        lowered: &lowered,
    };
    let (checked, tables) = pipeline::check_alongside(
        &args.policy,
        args.common.today(),
        &settings,
        |policy, analysis, sources| fleet::build(policy, analysis, sources, &request),
    );
    report(&checked, &args.common);
    let compiled = compilable(&checked, "compiled").map(|_| ());
    if let Err(code) = compiled {
        left_to_exit(checked);
        return code;
    }
    let tables = match tables {
        Some(Ok(tables)) => tables,
        Some(Err(error)) => {
            left_to_exit(checked);
            return unwritten(&error);
        }
        // The pipeline builds the output of every policy it analyses, and
        // only an analysed policy gets here.
        None => return unwritten(&"internal error: the table was not built"),
    };
    let exit = match (&args.output, args.all) {
        (Some(dir), true) => {
            let (policy, _) = checked
                .model
                .as_ref()
                .expect("a compiled policy has a model");
            match fleet::write_all(dir, policy, &checked.sources, &tables, request.json) {
                Ok(()) => Exit::Success,
                Err(error) => unwritten(&error),
            }
        }
        (Some(path), false) => match write::output(path, tables[0].text.as_bytes()) {
            Ok(()) => Exit::Success,
            Err(error) => unwritten(&error),
        },
        (None, _) => printed(&tables[0].text).map_or_else(|exit| exit, |()| Exit::Success),
    };
    left_to_exit(checked);
    exit
}

fn plan_command(args: PlanArgs) -> Exit {
    let checked = match checked_with_report(&args.policy, &args.common) {
        Ok(checked) => checked,
        Err(exit) => return exit,
    };
    // Exit 1 means drift here, so a policy that cannot be compiled is 2.
    let (policy, analysis) = match compilable(&checked, "planned") {
        Ok(model) => model,
        Err(_) => return Exit::Invalid,
    };
    let fail = |what: String| {
        let _ = writeln!(std::io::stderr(), "bmcwall: {what}");
        Exit::Refused
    };
    if args.all {
        return fleet::plan_all(&args, &checked.sources, policy);
    }
    let gateway = match fleet::one_gateway(policy, args.gateway.as_deref()) {
        Ok(gateway) => gateway,
        Err(message) => return unwritten(&message),
    };
    let own = gateway.map(|index| fleet::own(policy, index));
    let (policy, analysis) = own.as_ref().map_or((policy, analysis), |(p, a)| (p, a));
    let table = &args.live.table;
    let live = match &args.saved {
        Some(file) => fleet::Live::saved(file),
        None => fleet::Live::read(&live::Nft::new(args.live.netns.clone()), table),
    };
    let live = match live {
        Ok(live) => live,
        Err(message) => return fail(message),
    };
    let input = nft::Input {
        policy,
        analysis,
        sources: &checked.sources,
    };
    let changes = match live.compare(table, input, args.common.today()) {
        Ok(changes) => changes,
        Err(message) => return fail(message),
    };
    let present = live.listing.is_some();
    let place = &live.place;
    let text = match args.format {
        PlanFormat::Human => {
            let title = if present {
                format!("table inet {table} in {place}")
            } else {
                format!("table inet {table} in {place} (absent: everything is new)")
            };
            crate::source::for_people(plan::human(
                &changes,
                policy,
                &checked.sources,
                &title,
                present,
            ))
        }
        PlanFormat::Json => match plan::json(
            &changes,
            policy,
            &checked.sources,
            table,
            present,
            live.fingerprint.as_deref(),
        ) {
            Ok(text) => text,
            Err(error) => return fail(format!("cannot write the plan as JSON: {error}")),
        },
    };
    if let Err(exit) = printed(&text) {
        return exit;
    }
    if present && changes.is_empty() {
        Exit::Success
    } else {
        Exit::Findings
    }
}

fn lints(args: LintsArgs) -> Exit {
    if args.markdown {
        return printed(&crate::diagnostic::codes_markdown())
            .map_or_else(|exit| exit, |()| Exit::Success);
    }
    if let Some(code) = args.code {
        return printed(&code.doc()).map_or_else(|exit| exit, |()| Exit::Success);
    }
    let mut out = String::new();
    for code in Code::ALL {
        out.push_str(&format!(
            "{}  {:<22} {:<8} {}\n",
            code.as_str(),
            code.name(),
            code.default_level().as_str(),
            code.summary()
        ));
    }
    printed(&out).map_or_else(|exit| exit, |()| Exit::Success)
}

/// Checks a policy for commands that need a valid one; prints the findings
/// and returns the model, or the exit code when the policy is not valid.
fn valid_model(common: &Common, path: &std::path::Path) -> Result<Checked, Exit> {
    let checked = pipeline::check(path, common.today(), &common.settings(path)?);
    if checked.input_invalid() {
        let report = render::human(&checked, &common.render_options());
        let _ = std::io::stderr().lock().write_all(report.as_bytes());
        return Err(Exit::of(&checked));
    }
    Ok(checked)
}

fn explain_command(args: ExplainArgs) -> Exit {
    let checked = match valid_model(&args.common, &args.policy) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    let Some((policy, analysis)) = &checked.model else {
        return Exit::Invalid;
    };
    let (Some(from), Some(to)) = (&args.from, &args.to) else {
        let name = args
            .gateway
            .as_deref()
            .expect("clap requires --gateway or --from/--to");
        return match fleet::gateway_index(policy, name) {
            Ok(index) => printed(&crate::source::for_people(explain::gateway_table(
                &checked.sources,
                policy,
                index,
            )))
            .map_or_else(|exit| exit, |()| Exit::Success),
            Err(message) => unwritten(&message),
        };
    };
    let addresses = explain::endpoint(policy, from).and_then(|from| {
        let to = explain::endpoint(policy, to)?;
        explain::pick(&from, &to)
    });
    let flow = addresses.and_then(|(from, to)| explain::flow(from, to, args.proto, args.port));
    let flow = match flow {
        Ok(flow) => flow,
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "bmcwall: {message}");
            return Exit::Invalid;
        }
    };
    let explanation = crate::analysis::explain::explain(policy, analysis, &flow);
    let text = crate::source::for_people(explain::render(&checked.sources, policy, &explanation));
    if let Err(exit) = printed(&text) {
        return exit;
    }
    // Scriptable: 0 when the table lets the flow through, 1 when not.
    let allowed = !explanation.in_scope
        || matches!(
            explanation.decision,
            crate::analysis::explain::Decision::Rule {
                action: crate::model::Action::Allow,
                ..
            }
        );
    if allowed {
        Exit::Success
    } else {
        Exit::Findings
    }
}

fn graph_command(args: GraphArgs) -> Exit {
    let checked = match valid_model(&args.common, &args.policy) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    let Some((policy, analysis)) = &checked.model else {
        return Exit::Invalid;
    };
    let reach = crate::analysis::graph::ReachGraph::new(policy, analysis);
    let rule_name = |index: usize| checked.sources.file_line(policy.rules[index].span);
    let text = match args.format {
        GraphFormat::Dot => graph::dot(&reach, &rule_name),
        GraphFormat::Mermaid => graph::mermaid(&reach, &rule_name),
    };
    printed(&text).map_or_else(|exit| exit, |()| Exit::Success)
}
