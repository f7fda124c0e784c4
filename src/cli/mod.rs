//! The command line: parses arguments, runs the pipeline, renders findings and
//! writes output. The only module that prints.

mod explain;
mod fmt;
mod graph;
mod render;
mod write;

use crate::lints::registry::{Code, Level};
use crate::nft;
use crate::pipeline::{self, Checked, Levels};
use crate::syntax::Date;
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
    results.iter().map(Checked::exit_code).max().unwrap_or(0)
}

fn compile(args: CompileArgs) -> u8 {
    let levels = args.common.levels();
    let checked = pipeline::check(&args.policy, args.common.today(), &levels);
    let options = args.common.render_options();
    let report = render::human(&checked, &options);
    let _ = std::io::stderr().lock().write_all(report.as_bytes());
    let Some((policy, analysis)) = checked.model.as_ref().filter(|_| !checked.has_errors()) else {
        let _ = writeln!(
            std::io::stderr(),
            "bmcwall: not compiled: {}",
            if checked.input_invalid() {
                "the policy is not valid"
            } else {
                "error-level findings remain"
            }
        );
        return checked.exit_code();
    };
    let layout = match args.layout {
        Layout::Sets => nft::Layout::Sets,
        Layout::Rules => nft::Layout::Rules,
    };
    let input = nft::Input {
        policy,
        analysis,
        sources: &checked.sources,
    };
    let ruleset = nft::build(layout, input, &args.table);
    let text = match args.format {
        OutputFormat::Nft => nft::text::render(&ruleset, &header(&checked, policy)),
        OutputFormat::Json => nft::json::render(&ruleset),
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

/// The comment at the top of the text output: where it came from, and every
/// rule with its location, attributes and description, in policy order.
fn header(checked: &Checked, policy: &crate::resolve::Policy) -> String {
    use std::fmt::Write as _;
    let root = checked
        .sources
        .file(crate::source::FileId(0))
        .display_path();
    let mut out = format!(
        "Generated by bmcwall {} from {root}. Do not edit: change the policy.\n\
         Rules in policy order (first match wins; unmatched flows are dropped):\n",
        env!("CARGO_PKG_VERSION")
    );
    for (index, rule) in policy.rules.iter().enumerate() {
        let file = checked.sources.file(rule.span.file);
        let (line, _) = file.line_col(rule.span.start as usize);
        let _ = write!(
            out,
            "  {:>3}  {}:{line}  {}",
            index + 1,
            file.display_path(),
            rule.action.as_str()
        );
        if rule.log {
            out.push_str(" log");
        }
        if let Some((date, _)) = rule.until {
            let _ = write!(out, " until {date}");
        }
        if rule.expired {
            out.push_str(" (expired, not compiled)");
        }
        if let Some(description) = &rule.description {
            let _ = write!(out, "  \"{description}\"");
        }
        out.push('\n');
    }
    out
}

fn lints(args: LintsArgs) -> u8 {
    if args.markdown {
        let _ = std::io::stdout()
            .lock()
            .write_all(crate::lints::registry::markdown().as_bytes());
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
