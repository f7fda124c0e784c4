//! The command line: parses arguments, runs the pipeline, renders findings and
//! writes output. The only module that prints.

mod apply;
mod explain;
mod fmt;
mod graph;
mod live;
mod plan;
mod render;
mod write;

use crate::analysis::compare::Compiled;
use crate::diagnostic::{Code, Level};
use crate::model::Date;
use crate::nft;
use crate::pipeline::{self, Checked, Levels};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write as _;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "bmcwall",
    version,
    about = "Check a BMC management-network policy and compile it to nftables"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Report every problem in one or more policies.
    Check(CheckArgs),
    /// Compile a policy into an nftables table (refuses while errors remain).
    Compile(CompileArgs),
    /// Show how one flow is decided: the deciding rule, later matches, exposure.
    Explain(ExplainArgs),
    /// Draw the reachability graph (Graphviz DOT or Mermaid).
    Graph(GraphArgs),
    /// Compare the live table with the compiled one: flows newly allowed and no
    /// longer allowed (exit 0 equal, 1 different, 3 live table unreadable).
    Plan(PlanArgs),
    /// Load the compiled table atomically (nft -c first), optionally wait for a
    /// confirmation and restore the previous table without one.
    Apply(ApplyArgs),
    /// Rewrite policy files in the canonical layout, or check that they are.
    Fmt(FmtArgs),
    /// List the finding codes, or print one code's documentation.
    Lints(LintsArgs),
}

#[derive(Args, Debug)]
struct Common {
    /// The date `until` is compared with (YYYY-MM-DD); default: today (UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    today: Option<Date>,
    /// Report CODE as an error (repeatable).
    #[arg(long, value_name = "CODE", value_parser = parse_code)]
    deny: Vec<Code>,
    /// Report CODE as a warning (repeatable).
    #[arg(long, value_name = "CODE", value_parser = parse_code)]
    warn: Vec<Code>,
    /// Do not report CODE (repeatable).
    #[arg(long, value_name = "CODE", value_parser = parse_code)]
    allow: Vec<Code>,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Only print errors.
    #[arg(short, long)]
    quiet: bool,
    /// Also show waived findings.
    #[arg(short, long)]
    verbose: bool,
}

impl Common {
    fn levels(&self) -> Levels {
        let mut levels = Levels::default();
        for (codes, level) in [
            (&self.allow, Level::Allow),
            (&self.warn, Level::Warning),
            (&self.deny, Level::Error),
        ] {
            for code in codes {
                levels.set(*code, level);
            }
        }
        levels
    }

    fn today(&self) -> Date {
        self.today.unwrap_or_else(pipeline::today_utc)
    }

    fn render_options(&self) -> render::Options {
        render::Options {
            color: self.color.enabled(),
            quiet: self.quiet,
            verbose: self.verbose,
        }
    }
}

#[derive(Args, Debug)]
struct ExplainArgs {
    #[arg(value_name = "POLICY.wall")]
    policy: PathBuf,
    /// Source address of the flow.
    #[arg(long, value_name = "ADDR")]
    from: std::net::IpAddr,
    /// Destination address of the flow.
    #[arg(long, value_name = "ADDR")]
    to: std::net::IpAddr,
    /// Protocol: tcp, udp, icmp, or a number.
    #[arg(long, default_value = "tcp", value_parser = parse_proto)]
    proto: u8,
    /// Destination port (tcp and udp).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    port: Option<u16>,
    #[command(flatten)]
    common: Common,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Args, Debug)]
struct GraphArgs {
    #[arg(value_name = "POLICY.wall")]
    policy: PathBuf,
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    format: GraphFormat,
    #[command(flatten)]
    common: Common,
}

fn parse_proto(text: &str) -> Result<u8, String> {
    explain::protocol(text)
        .ok_or_else(|| format!("`{text}` is not a protocol (tcp, udp, icmp or a number)"))
}

#[derive(Args, Debug)]
struct LintsArgs {
    /// A code (BW202) or name (transitive-exposure) to document.
    #[arg(value_parser = parse_code)]
    code: Option<Code>,
    /// Print docs/lints.md: the table and every code's documentation.
    #[arg(long, conflicts_with = "code")]
    markdown: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether diagnostics on stderr are coloured.
    fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::IsTerminal::is_terminal(&std::io::stderr())
                    && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }
}

#[derive(Args, Debug)]
struct FmtArgs {
    /// Files to format in place; `-` or none reads standard input and writes
    /// standard output.
    #[arg(value_name = "FILE.wall")]
    files: Vec<PathBuf>,
    /// Write nothing: print a diff for every file that is not formatted and
    /// exit 1 if there is one.
    #[arg(long)]
    check: bool,
    /// Colour in diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum CheckFormat {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Policy files to check.
    #[arg(required = true, value_name = "POLICY.wall")]
    policies: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    format: CheckFormat,
    #[command(flatten)]
    common: Common,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum OutputFormat {
    /// nft text, for `nft -f`.
    Nft,
    /// nft JSON, for `nft -j -f`.
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Layout {
    /// The allowed space as concatenated interval sets: a few rules per packet.
    Sets,
    /// One nft rule per policy rule, in policy order, with counters and comments.
    Rules,
}

#[derive(Args, Debug)]
struct CompileArgs {
    #[arg(value_name = "POLICY.wall")]
    policy: PathBuf,
    /// Write here (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Nft)]
    format: OutputFormat,
    #[arg(long, value_enum, default_value_t = Layout::Sets)]
    layout: Layout,
    /// Name of the nftables table (family inet).
    #[arg(long, value_name = "NAME", default_value = nft::DEFAULT_TABLE, value_parser = parse_table)]
    table: String,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct LiveArgs {
    /// Name of the nftables table (family inet).
    #[arg(long, value_name = "NAME", default_value = nft::DEFAULT_TABLE, value_parser = parse_table)]
    table: String,
    /// Run nft inside this named network namespace (`ip netns exec NAME`).
    #[arg(long, value_name = "NAME")]
    netns: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum PlanFormat {
    Human,
    Json,
}

#[derive(Args, Debug)]
struct PlanArgs {
    #[arg(value_name = "POLICY.wall")]
    policy: PathBuf,
    #[command(flatten)]
    live: LiveArgs,
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    format: PlanFormat,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct ApplyArgs {
    #[arg(value_name = "POLICY.wall")]
    policy: PathBuf,
    #[command(flatten)]
    live: LiveArgs,
    #[arg(long, value_enum, default_value_t = Layout::Sets)]
    layout: Layout,
    /// Keep the new table only if confirmed within SECONDS (typed `yes`, or
    /// --confirm-with); else restore the previous one and exit 3.
    #[arg(long, value_name = "SECONDS")]
    confirm: Option<u64>,
    /// Confirm by running CMD (with `sh -c`) until it exits 0, instead of asking.
    #[arg(long, value_name = "CMD", requires = "confirm")]
    confirm_with: Option<String>,
    #[command(flatten)]
    common: Common,
}

fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text).ok_or_else(|| format!("`{text}` is not a date (YYYY-MM-DD)"))
}

fn parse_code(text: &str) -> Result<Code, String> {
    Code::parse(text)
        .ok_or_else(|| format!("`{text}` is not a bmcwall code; `bmcwall lints` lists them"))
}

fn parse_table(text: &str) -> Result<String, String> {
    let mut chars = text.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && text.len() <= 64;
    valid
        .then(|| text.to_string())
        .ok_or_else(|| format!("`{text}` is not a table name (letters, digits, `_`, `-`)"))
}

/// Runs the command line and returns the process exit code.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        Command::Check(args) => check(args),
        Command::Compile(args) => compile(args),
        Command::Explain(args) => explain_command(args),
        Command::Graph(args) => graph_command(args),
        Command::Plan(args) => plan_command(args),
        Command::Apply(args) => apply::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Lints(args) => lints(args),
    }
}

fn check(args: CheckArgs) -> u8 {
    let levels = args.common.levels();
    let today = args.common.today();
    let results: Vec<Checked> = args
        .policies
        .iter()
        .map(|path| pipeline::check(path, today, &levels))
        .collect();
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
                CheckFormat::Github => render::github(&results),
                _ => render::json(&results),
            };
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    let code = results.iter().map(Checked::exit_code).max().unwrap_or(0);
    left_to_exit(results);
    code
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
) -> Result<(&'a crate::resolve::Policy, &'a crate::analysis::Analysis), u8> {
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
            Err(checked.exit_code())
        }
    }
}

/// Checks a policy and reports its findings on stderr.
fn checked_with_report(policy: &std::path::Path, common: &Common) -> Checked {
    let checked = pipeline::check(policy, common.today(), &common.levels());
    report(&checked, common);
    checked
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

fn compile(args: CompileArgs) -> u8 {
    // The output is built while the checks run; it is written only if the
    // policy compiles.
    let (checked, text) = pipeline::check_alongside(
        &args.policy,
        args.common.today(),
        &args.common.levels(),
        |policy, analysis, sources| {
            let input = nft::Input {
                policy,
                analysis,
                sources,
            };
            let ruleset = nft::build(layout(args.layout), input, &args.table);
            match args.format {
                OutputFormat::Nft => {
                    nft::text::render(&ruleset, &nft::text::header(sources, policy))
                }
                OutputFormat::Json => nft::json::render(&ruleset),
            }
        },
    );
    report(&checked, &args.common);
    let compiled = compilable(&checked, "compiled").map(|_| ());
    left_to_exit(checked);
    if let Err(code) = compiled {
        return code;
    }
    let text = match produced(text) {
        Ok(text) => text,
        Err(code) => return code,
    };
    match &args.output {
        Some(path) => match write::atomically(path, text.as_bytes()) {
            Ok(()) => 0,
            Err(error) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "bmcwall: cannot write {}: {error}",
                    path.display()
                );
                2
            }
        },
        None => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            0
        }
    }
}

/// Exit code for output the tool could not produce.
const NOT_PRODUCED: u8 = 3;

/// The compiled text, which a policy that compiles always has; its absence is
/// an error (exit 3), never an empty ruleset.
fn produced(text: Option<String>) -> Result<String, u8> {
    text.ok_or_else(|| {
        let _ = writeln!(
            std::io::stderr(),
            "bmcwall: internal error: the compiled table was not produced"
        );
        NOT_PRODUCED
    })
}

fn plan_command(args: PlanArgs) -> u8 {
    let checked = checked_with_report(&args.policy, &args.common);
    // Exit 1 means drift here, so a policy that cannot be compiled is 2.
    let (policy, analysis) = match compilable(&checked, "planned") {
        Ok(model) => model,
        Err(_) => return 2,
    };
    let table = &args.live.table;
    let runner = live::Nft::new(args.live.netns.clone());
    let place = runner.place();
    let fail = |what: String| {
        let _ = writeln!(std::io::stderr(), "bmcwall: {what}");
        NOT_PRODUCED
    };
    let compiled = Compiled::of(policy, analysis);
    let live::Comparison { present, changes } = match runner.compare(table, &compiled) {
        Ok(comparison) => comparison,
        Err(live::CompareFailure::Unreadable(error)) => {
            return fail(format!(
                "cannot read table inet {table} in {place}: {error}"
            ))
        }
        Err(live::CompareFailure::NotComparable(error)) => {
            return fail(format!(
                "table inet {table} in {place} is not one bmcwall can compare: {error}"
            ))
        }
    };
    let text = match args.format {
        PlanFormat::Human => {
            let title = if present {
                format!("table inet {table} in {place}")
            } else {
                format!("table inet {table} in {place} (absent: everything is new)")
            };
            plan::human(&changes, policy, &checked.sources, &title, present)
        }
        PlanFormat::Json => match plan::json(&changes, policy, &checked.sources, table, present) {
            Ok(text) => text,
            Err(error) => return fail(format!("cannot write the plan as JSON: {error}")),
        },
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    u8::from(!present || !changes.is_empty())
}

fn lints(args: LintsArgs) -> u8 {
    if args.markdown {
        let _ = std::io::stdout()
            .lock()
            .write_all(crate::diagnostic::codes_markdown().as_bytes());
        return 0;
    }
    if let Some(code) = args.code {
        let _ = std::io::stdout().lock().write_all(code.doc().as_bytes());
        return 0;
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
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    0
}

/// Checks a policy for commands that need a valid one; prints the findings
/// and returns the model, or the exit code when the policy is not valid.
fn valid_model(common: &Common, path: &std::path::Path) -> Result<Checked, u8> {
    let checked = pipeline::check(path, common.today(), &common.levels());
    if checked.input_invalid() {
        let report = render::human(&checked, &common.render_options());
        let _ = std::io::stderr().lock().write_all(report.as_bytes());
        return Err(checked.exit_code());
    }
    Ok(checked)
}

fn explain_command(args: ExplainArgs) -> u8 {
    let checked = match valid_model(&args.common, &args.policy) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    let Some((policy, analysis)) = &checked.model else {
        return 2;
    };
    let flow = match explain::flow(args.from, args.to, args.proto, args.port) {
        Ok(flow) => flow,
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "bmcwall: {message}");
            return 2;
        }
    };
    let text = explain::explain(&checked.sources, policy, analysis, &flow);
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    0
}

fn graph_command(args: GraphArgs) -> u8 {
    let checked = match valid_model(&args.common, &args.policy) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    let Some((policy, analysis)) = &checked.model else {
        return 2;
    };
    let reach = crate::analysis::graph::ReachGraph::new(policy, analysis);
    let text = match args.format {
        GraphFormat::Dot => graph::dot(&reach),
        GraphFormat::Mermaid => graph::mermaid(&reach),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    0
}

#[cfg(test)]
mod tests {
    use super::{produced, NOT_PRODUCED};

    /// A compiled text that is missing is an error, not an empty ruleset.
    #[test]
    fn missing_compiled_text_fails() {
        assert_eq!(produced(None), Err(NOT_PRODUCED));
        assert_eq!(produced(Some("table".into())), Ok("table".into()));
    }
}
