//! The command line's words: every command, option and argument as clap
//! types, and the parsers of their values. Command bodies are in the other
//! modules of `cli`.

use super::{config, explain, render};
use crate::diagnostic::{Code, Level, Selector};
use crate::model::Date;
use crate::nft;
use crate::pipeline::{self, Checked, Levels, Settings};
use crate::source::SourceMap;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// What `--version` says beyond the version: what the compiled tables need.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\nnftables needed by the compiled tables: nft 0.9.4 or later and Linux 5.6 or later \
     (table family inet, interval sets, concatenations with ranges such as \
     `meta l4proto . th dport`, verdict maps, log and counter statements)"
);

#[derive(Parser, Debug)]
#[command(
    name = "bmcwall",
    version,
    long_version = LONG_VERSION,
    about = "Check a BMC management-network policy and compile it to nftables",
    after_help = "Examples:\n  bmcwall check site.wall\n  bmcwall compile site.wall -o site.nft\n  \
                  sudo bmcwall plan site.wall\n  sudo bmcwall apply site.wall --confirm 60 \
                  --confirm-with ./healthcheck"
)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Report every problem in one or more policies.
    #[command(
        after_help = "Example:\n  bmcwall check site.wall --deny BW104\n  bmcwall check sites/*.wall --format sarif > bmcwall.sarif"
    )]
    Check(CheckArgs),
    /// Compile a policy into an nftables table (refuses while errors remain).
    #[command(
        after_help = "Example:\n  bmcwall compile site.wall -o site.nft\n  bmcwall compile site.wall --layout rules --format json -o site.json"
    )]
    Compile(CompileArgs),
    /// Show how one flow is decided: the deciding rule, later matches, exposure.
    #[command(
        after_help = "Example:\n  bmcwall explain site.wall --from 10.20.0.5 --to 10.10.1.11 --proto tcp --port 443"
    )]
    Explain(ExplainArgs),
    /// Draw the reachability graph (Graphviz DOT or Mermaid).
    #[command(after_help = "Example:\n  bmcwall graph site.wall | dot -Tsvg > site.svg")]
    Graph(GraphArgs),
    /// Compare the live table with the compiled one: flows newly allowed and no
    /// longer allowed (exit 0 equal, 1 different, 3 live table unreadable).
    #[command(
        after_help = "Example:\n  sudo bmcwall plan site.wall --netns gw1\n  sudo bmcwall plan site.wall --format json > plan.json"
    )]
    Plan(PlanArgs),
    /// Each policy rule's packets and bytes in the live table (or a saved `nft
    /// -j list table`), in policy order, and the allow rules with none (exit
    /// 3 when the table is another policy's or cannot be read).
    #[command(
        after_help = "Example:\n  sudo bmcwall usage site.wall --netns gw1\n  bmcwall usage site.wall --live saved.json --format prometheus"
    )]
    Usage(SensorArgs),
    /// The denied flows the table recorded, in policy terms: BMCs that tried
    /// the internet (error), other BMCs or internal hosts (warning), unknown
    /// devices on watched networks (warning), who knocked (info); exit 1 on
    /// an error, 3 when the table is another policy's or cannot be read.
    #[command(
        after_help = "Example:\n  sudo bmcwall audit site.wall --netns gw1\n  bmcwall audit site.wall --live saved.json --format json\n  sudo bmcwall audit site.wall --state /var/lib/bmcwall/audit.json --format prometheus"
    )]
    Audit(SensorArgs),
    /// Load the compiled table in one transaction (all or nothing), optionally wait for a
    /// confirmation and restore the previous table without one (exit 0
    /// applied or unchanged, 3 refused and nothing changed, 4 rolled back, 5
    /// rollback failed).
    #[command(
        after_help = "Example:\n  sudo bmcwall apply site.wall --confirm 60 --confirm-with ./healthcheck\n  sudo bmcwall apply site.wall --expect-live \"$(jq -r .live_fingerprint plan.json)\""
    )]
    Apply(ApplyArgs),
    /// The rollback watchdog of `apply --confirm` (started by apply).
    #[command(hide = true)]
    RollbackWatchdog(WatchdogArgs),
    /// What a change to a policy does: flows newly allowed and no longer
    /// allowed, findings added and fixed (exit 0 no change, 1 changes).
    #[command(
        after_help = "Example:\n  bmcwall diff old.wall new.wall\n  bmcwall diff --base origin/main sites/ams1.wall --format markdown"
    )]
    Diff(DiffArgs),
    /// Rewrite policy files in the canonical layout, or check that they are.
    #[command(
        after_help = "Example:\n  bmcwall fmt site.wall\n  bmcwall fmt --check sites/*.wall"
    )]
    Fmt(FmtArgs),
    /// Fetch an inventory from where it is kept, into a file to commit.
    Inventory(InventoryArgs),
    /// List the finding codes, or print one code's documentation.
    #[command(after_help = "Example:\n  bmcwall lints\n  bmcwall lints BW202")]
    Lints(LintsArgs),
    /// Print a shell completion script, generated from these very options.
    #[command(
        after_help = "Example:\n  bmcwall completions bash > /etc/bash_completion.d/bmcwall\n  \
                            bmcwall completions zsh > \"${fpath[1]}/_bmcwall\""
    )]
    Completions(CompletionsArgs),
    /// Write the man pages (bmcwall.1 and one per command), generated from
    /// these very options; without -o, print bmcwall.1.
    #[command(
        after_help = "Example:\n  bmcwall man -o /usr/local/share/man/man1\n  bmcwall man | man -l -"
    )]
    Man(ManArgs),
    /// Run the language server (LSP over standard input and output) for
    /// editors: the checks of `check` as you type, hover, definitions,
    /// references, outline, formatting, completion and rename.
    #[command(
        after_help = "Example (Neovim):\n  vim.lsp.start({ name = 'bmcwall', cmd = { 'bmcwall', 'lsp' } })"
    )]
    Lsp(LspArgs),
}

#[derive(Args, Debug)]
pub(crate) struct LspArgs {
    #[command(flatten)]
    pub(crate) common: Common,
}

#[derive(Args, Debug)]
pub(crate) struct CompletionsArgs {
    /// The shell the script is for.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub(crate) struct ManArgs {
    /// Write bmcwall.1 and bmcwall-COMMAND.1 into DIR.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub(crate) struct Common {
    /// The date `until` is compared with (YYYY-MM-DD); default: today (UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub(crate) today: Option<Date>,
    /// Report CODE as an error (repeatable): a code, a prefix (`BW2`) or a
    /// group (`warnings`, `infos`). Overrides bmcwall.toml.
    #[arg(long, value_name = "CODE", value_parser = parse_selector)]
    pub(crate) deny: Vec<Selector>,
    /// Report CODE as a warning (repeatable). BW001-BW007 cannot be lowered;
    /// lowering BW201-BW203 or BW401 is warned about and recorded.
    #[arg(long, value_name = "CODE", value_parser = parse_lowering_selector)]
    pub(crate) warn: Vec<Selector>,
    /// Do not report CODE (repeatable). BW001-BW007 cannot be lowered;
    /// lowering BW201-BW203 or BW401 is warned about and recorded.
    #[arg(long, value_name = "CODE", value_parser = parse_lowering_selector)]
    pub(crate) allow: Vec<Selector>,
    /// Read levels and thresholds from FILE instead of the bmcwall.toml found
    /// in the policy's directory or above it.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,
    /// Only print errors.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Also show waived findings.
    #[arg(short, long)]
    pub(crate) verbose: bool,
    /// Included files and inventories must be inside DIR (default: the
    /// policy's directory); a path leading outside, also through a link, is
    /// an error.
    #[arg(long, value_name = "DIR", conflicts_with = "unconfined")]
    pub(crate) root: Option<PathBuf>,
    /// Let a policy include and load files anywhere: only for trusted
    /// policies (a path outside shows what it read in its errors).
    #[arg(long)]
    pub(crate) unconfined: bool,
}

impl Common {
    /// The settings for checking `policy`: bmcwall.toml's (`--config`, or
    /// the one found from the policy's directory up), the flags over it.
    /// Says on stderr which isolation checks they lower; a bmcwall.toml that
    /// is not valid is reported and is exit 2.
    pub(crate) fn settings(&self, policy: &Path) -> Result<Settings, super::Exit> {
        self.settings_from(self.config_file(policy))
    }

    /// The bmcwall.toml for `policy`: `--config`, or the one found from the
    /// policy's directory up.
    pub(crate) fn config_file(&self, policy: &Path) -> Option<PathBuf> {
        self.config.clone().or_else(|| config::find(policy))
    }

    /// The settings of bmcwall.toml `file` (none: the defaults) with the
    /// flags over them; see [`Self::settings`].
    pub(crate) fn settings_from(&self, file: Option<PathBuf>) -> Result<Settings, super::Exit> {
        let config = match file {
            Some(path) => {
                let mut sources = SourceMap::default();
                match config::load(&path, &mut sources) {
                    Ok(config) => config,
                    Err(diagnostics) => {
                        let checked = Checked::of_diagnostics(sources, diagnostics);
                        let report = render::human(&checked, &self.render_options());
                        let _ = std::io::stderr().write_all(report.as_bytes());
                        return Err(super::Exit::Invalid);
                    }
                }
            }
            None => config::Config::default(),
        };
        let mut flags = Vec::new();
        for (selectors, level) in [
            (&self.allow, Level::Allow),
            (&self.warn, Level::Warning),
            (&self.deny, Level::Error),
        ] {
            flags.extend(selectors.iter().map(|s| (s.clone(), level)));
        }
        let levels = Levels::resolve(&[&config.levels, &flags]);
        for lowered in levels.lowered() {
            let _ = writeln!(
                std::io::stderr(),
                "bmcwall: warning: {lowered}, a check that keeps BMCs isolated; the compiled \
                 table and the JSON and SARIF reports record it"
            );
        }
        let confine = match (&self.root, self.unconfined) {
            (_, true) => crate::resolve::Confine::Unconfined,
            (Some(dir), false) => crate::resolve::Confine::Root(dir.clone()),
            (None, false) => crate::resolve::Confine::PolicyDir,
        };
        Ok(Settings {
            levels,
            thresholds: config.thresholds,
            confine,
        })
    }

    pub(crate) fn today(&self) -> Date {
        self.today.unwrap_or_else(pipeline::today_utc)
    }

    pub(crate) fn render_options(&self) -> render::Options {
        render::Options {
            color: self.color.enabled(),
            quiet: self.quiet,
            verbose: self.verbose,
        }
    }
}

#[derive(Args, Debug)]
pub(crate) struct ExplainArgs {
    #[arg(value_name = "POLICY.wall")]
    pub(crate) policy: PathBuf,
    /// Source of the flow: an address, or a name the policy defines (a host,
    /// a network, a BMC's inventory name), whose first address is taken.
    #[arg(
        long,
        value_name = "ADDR|NAME",
        required_unless_present = "gateway",
        requires = "to"
    )]
    pub(crate) from: Option<String>,
    /// Destination of the flow: an address or a name, as for --from.
    #[arg(long, value_name = "ADDR|NAME", requires = "from")]
    pub(crate) to: Option<String>,
    /// Without --from/--to: what reaches the BMCs this gateway governs, from
    /// where, by which rule, as a table.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["from", "to"])]
    pub(crate) gateway: Option<String>,
    /// Protocol: tcp, udp, icmp, or a number.
    #[arg(long, default_value = "tcp", value_parser = parse_proto)]
    pub(crate) proto: u8,
    /// Destination port (tcp and udp).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) port: Option<u16>,
    #[command(flatten)]
    pub(crate) common: Common,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Args, Debug)]
pub(crate) struct GraphArgs {
    #[arg(value_name = "POLICY.wall")]
    pub(crate) policy: PathBuf,
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub(crate) format: GraphFormat,
    #[command(flatten)]
    pub(crate) common: Common,
}

pub(crate) fn parse_proto(text: &str) -> Result<u8, String> {
    explain::protocol(text)
        .ok_or_else(|| format!("`{text}` is not a protocol (tcp, udp, icmp or a number)"))
}

#[derive(Args, Debug)]
pub(crate) struct InventoryArgs {
    #[command(subcommand)]
    pub(crate) source: InventorySource,
}

#[derive(Subcommand, Debug)]
pub(crate) enum InventorySource {
    /// Every device of NetBox's /api/dcim/devices/, all pages, as one export
    /// in the order of `id` (exit 0 written, 2 bad usage or not written, 3
    /// not fetched).
    Netbox(NetboxArgs),
}

#[derive(Args, Debug)]
pub(crate) struct NetboxArgs {
    /// NetBox's URL (https://netbox.example.com).
    #[arg(long, value_name = "URL")]
    pub(crate) url: String,
    /// The environment variable that holds the API token.
    #[arg(long, value_name = "VAR")]
    pub(crate) token_env: String,
    /// The file the export is written to.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub(crate) output: PathBuf,
    /// Only devices that match, as NetBox filters them (site=ams1,
    /// role=compute, tag=bmc; repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_filter)]
    pub(crate) filter: Vec<(String, String)>,
    /// Seconds each request may take (0.1 to 600).
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0, value_parser = parse_timeout)]
    pub(crate) timeout: f64,
    /// How many times a failed request is tried again (0 to 10): timeouts,
    /// refused connections and statuses 408, 429, 500, 502, 503, 504.
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(0..=10))]
    pub(crate) retries: u32,
    /// Devices asked for per page (1 to 10000; NetBox caps it at its
    /// MAX_PAGE_SIZE and says where the next page is).
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) page_size: u32,
}

fn parse_filter(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("`{text}` is not KEY=VALUE (site=ams1)")),
    }
}

fn parse_timeout(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if (0.1..=600.0).contains(&seconds) => Ok(seconds),
        _ => Err(format!(
            "`{text}` is not a number of seconds from 0.1 to 600"
        )),
    }
}

#[derive(Args, Debug)]
pub(crate) struct LintsArgs {
    /// A code (BW202) or name (transitive-exposure) to document.
    #[arg(value_parser = parse_code)]
    pub(crate) code: Option<Code>,
    /// Print docs/lints.md: the table and every code's documentation.
    #[arg(long, conflicts_with = "code")]
    pub(crate) markdown: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether diagnostics on stderr are coloured.
    pub(crate) fn enabled(self) -> bool {
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
pub(crate) struct FmtArgs {
    /// Files to format in place; `-` or none reads standard input and writes
    /// standard output.
    #[arg(value_name = "FILE.wall")]
    pub(crate) files: Vec<PathBuf>,
    /// Write nothing: print a diff for every file that is not formatted and
    /// exit 1 if there is one.
    #[arg(long)]
    pub(crate) check: bool,
    /// Colour in diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum CheckFormat {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    /// Policy files to check.
    #[arg(required = true, value_name = "POLICY.wall")]
    pub(crate) policies: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub(crate) format: CheckFormat,
    #[command(flatten)]
    pub(crate) common: Common,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum DiffFormat {
    /// For people.
    Text,
    /// For a pull-request comment.
    Markdown,
    /// For pipelines.
    Json,
}

#[derive(Args, Debug)]
pub(crate) struct DiffArgs {
    /// OLD.wall NEW.wall, or with --base only NEW.wall.
    #[arg(required = true, num_args = 1..=2, value_name = "POLICY.wall")]
    pub(crate) policies: Vec<PathBuf>,
    /// Read the old policy (and what it includes and loads) from this git
    /// revision of the repository NEW.wall is in (`git archive REV`).
    #[arg(long, value_name = "REV")]
    pub(crate) base: Option<String>,
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub(crate) format: DiffFormat,
    #[command(flatten)]
    pub(crate) common: Common,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum OutputFormat {
    /// nft text, for `nft -f`.
    Nft,
    /// nft JSON, for `nft -j -f`.
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum Layout {
    /// The allowed flows as verdict maps, in three lookups: the source picks
    /// its row of the decision table (or the destination its column), whose
    /// own map picks the other address's chain of services, whose map
    /// decides protocol and port; a handful of rules per packet.
    Sets,
    /// One nft rule per policy rule, in policy order, with counters and comments.
    Rules,
}

/// `--reverse-path`: what the table does with packets from spoofed sources.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum ReversePath {
    /// Drop packets whose source the route back does not reach through the
    /// interface they came in on (`fib saddr . iif oif missing drop`).
    Drop,
    /// No reverse-path check (a gateway with asymmetric routes).
    Off,
}

impl ReversePath {
    pub(crate) fn nft(self) -> nft::ReversePath {
        match self {
            ReversePath::Drop => nft::ReversePath::Drop,
            ReversePath::Off => nft::ReversePath::Off,
        }
    }
}

#[derive(Args, Debug)]
pub(crate) struct CompileArgs {
    #[arg(value_name = "POLICY.wall")]
    pub(crate) policy: PathBuf,
    /// Write here (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Nft)]
    pub(crate) format: OutputFormat,
    #[arg(long, value_enum, default_value_t = Layout::Sets)]
    pub(crate) layout: Layout,
    /// Name of the nftables table (family inet).
    #[arg(long, value_name = "NAME", default_value = nft::DEFAULT_TABLE, value_parser = parse_table)]
    pub(crate) table: String,
    #[arg(long, value_enum, default_value_t = ReversePath::Drop)]
    pub(crate) reverse_path: ReversePath,
    #[command(flatten)]
    pub(crate) record: RecordArgs,
    /// The gateway whose table to write (a policy with `gateway` declarations).
    #[arg(long, value_name = "NAME", conflicts_with = "all")]
    pub(crate) gateway: Option<String>,
    /// Every gateway's table, to DIR/NAME.nft (or .json), with DIR/manifest.json.
    #[arg(long, requires = "output")]
    pub(crate) all: bool,
    #[command(flatten)]
    pub(crate) common: Common,
}

#[derive(Args, Debug)]
pub(crate) struct LiveArgs {
    /// Name of the nftables table (family inet).
    #[arg(long, value_name = "NAME", default_value = nft::DEFAULT_TABLE, value_parser = parse_table)]
    pub(crate) table: String,
    /// Run nft inside this named network namespace (`ip netns exec NAME`).
    #[arg(long, value_name = "NAME")]
    pub(crate) netns: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum PlanFormat {
    Human,
    Json,
}

#[derive(Args, Debug)]
pub(crate) struct PlanArgs {
    #[arg(value_name = "POLICY.wall")]
    pub(crate) policy: PathBuf,
    #[command(flatten)]
    pub(crate) live: LiveArgs,
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub(crate) format: PlanFormat,
    /// The gateway whose table to compare (a policy with `gateway` declarations).
    #[arg(long, value_name = "NAME", conflicts_with = "all")]
    pub(crate) gateway: Option<String>,
    /// Every gateway, each against DIR/NAME.json given with --live DIR: a
    /// summary per gateway; exit 1 if any drifts.
    #[arg(long, requires = "saved", conflicts_with = "netns")]
    pub(crate) all: bool,
    /// Read the live table from FILE, saved with `nft -j list table inet
    /// NAME` (empty: no table), instead of from nft; with --all, a directory
    /// of NAME.json, one per gateway.
    #[arg(
        long = "live",
        id = "saved",
        value_name = "FILE|DIR",
        conflicts_with = "netns"
    )]
    pub(crate) saved: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) common: Common,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum UsageFormat {
    Human,
    Json,
    /// A node_exporter textfile.
    Prometheus,
}

/// How the table records the denied flows of BMCs (docs/auditing.md).
#[derive(Args, Debug)]
pub(crate) struct RecordArgs {
    /// Do not record denied flows from and to BMCs.
    #[arg(long, conflicts_with_all = ["record_size", "record_timeout"])]
    pub(crate) no_record: bool,
    /// At most N elements per recording set (1 to 1048576).
    #[arg(long, value_name = "N", default_value_t = 65_536,
          value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    pub(crate) record_size: u32,
    /// Keep a recorded flow SECONDS after its last packet (1 to 2592000).
    #[arg(long, value_name = "SECONDS", default_value_t = 86_400,
          value_parser = clap::value_parser!(u32).range(1..=2_592_000))]
    pub(crate) record_timeout: u32,
}

impl RecordArgs {
    /// The recording sets' bounds, `None` with `--no-record`.
    pub(crate) fn record(&self) -> Option<nft::Record> {
        (!self.no_record).then_some(nft::Record {
            size: self.record_size,
            timeout: self.record_timeout,
        })
    }
}

/// What `usage` and `audit` read: the policy, the live table (or tables)
/// and the state kept across runs.
#[derive(Args, Debug)]
pub(crate) struct SensorArgs {
    #[arg(value_name = "POLICY.wall")]
    pub(crate) policy: PathBuf,
    /// The gateway whose table to read (a policy with `gateway` declarations).
    #[arg(long, value_name = "NAME", conflicts_with = "all")]
    pub(crate) gateway: Option<String>,
    /// Every gateway's table, each read from `DIR/NAME.json` (--live DIR).
    #[arg(long, requires = "listing", conflicts_with = "netns")]
    pub(crate) all: bool,
    #[command(flatten)]
    pub(crate) live: LiveArgs,
    /// Read the table from FILE (saved `nft -j list table inet NAME`) instead
    /// of running nft; with --all, the directory of every gateway's NAME.json.
    #[arg(long = "live", value_name = "FILE", conflicts_with = "netns")]
    pub(crate) listing: Option<PathBuf>,
    /// Keep counts and first-seen times in FILE across runs and table
    /// reloads: reports then give totals since the state began.
    #[arg(long, value_name = "FILE")]
    pub(crate) state: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = UsageFormat::Human)]
    pub(crate) format: UsageFormat,
    #[command(flatten)]
    pub(crate) common: Common,
}

#[derive(Args, Debug)]
pub(crate) struct ApplyArgs {
    #[arg(value_name = "POLICY.wall", required_unless_present = "ruleset")]
    pub(crate) policy: Option<PathBuf>,
    /// Load this table, compiled elsewhere (`compile`'s text form), instead
    /// of compiling a policy: the same checks, lock and rollback.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["policy", "gateway", "layout", "reverse_path", "no_record", "record_size", "record_timeout"])]
    pub(crate) ruleset: Option<PathBuf>,
    /// The gateway whose table to apply (a policy with `gateway` declarations).
    #[arg(long, value_name = "NAME")]
    pub(crate) gateway: Option<String>,
    #[command(flatten)]
    pub(crate) live: LiveArgs,
    #[arg(long, value_enum, default_value_t = Layout::Sets)]
    pub(crate) layout: Layout,
    #[arg(long, value_enum, default_value_t = ReversePath::Drop)]
    pub(crate) reverse_path: ReversePath,
    #[command(flatten)]
    pub(crate) record: RecordArgs,
    /// Keep the new table only if confirmed within SECONDS (1 to 86400;
    /// typed `yes`, or --confirm-with); else a watchdog that outlives this
    /// process restores the previous one (exit 4; 5 if it could not).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) confirm: Option<u64>,
    /// Confirm by running CMD (with `sh -c`, inside --netns if given) until it
    /// exits 0, instead of asking.
    #[arg(long, value_name = "CMD", requires = "confirm")]
    pub(crate) confirm_with: Option<String>,
    /// Wait up to SECONDS for another apply on the same gateway to finish,
    /// instead of refusing at once.
    #[arg(long, value_name = "SECONDS", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub(crate) lock_timeout: u64,
    /// Refuse (exit 3, nothing changed) unless the live table is still the
    /// one `plan --format json` saw (its `live_fingerprint`).
    #[arg(long, value_name = "FINGERPRINT")]
    pub(crate) expect_live: Option<String>,
    /// Replace a table of the same name that bmcwall did not write.
    #[arg(long)]
    pub(crate) replace_foreign: bool,
    #[command(flatten)]
    pub(crate) common: Common,
}

#[derive(Args, Debug)]
pub(crate) struct WatchdogArgs {
    #[arg(long)]
    pub(crate) netns: Option<String>,
    #[arg(long)]
    pub(crate) table: String,
    /// The new table, to load.
    #[arg(long)]
    pub(crate) ruleset: PathBuf,
    /// The restoring ruleset of the saved table.
    #[arg(long)]
    pub(crate) saved: PathBuf,
    /// The fingerprint of the table before the apply.
    #[arg(long)]
    pub(crate) previous: String,
    #[arg(long)]
    pub(crate) seconds: u64,
    /// The inherited descriptor of the gateway's lock.
    #[arg(long)]
    pub(crate) lock_fd: i32,
    /// The health check that confirms, run on the gateway once loaded.
    #[arg(long)]
    pub(crate) confirm_with: Option<String>,
}

pub(crate) fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text).ok_or_else(|| format!("`{text}` is not a date (YYYY-MM-DD)"))
}

pub(crate) fn parse_code(text: &str) -> Result<Code, String> {
    Code::parse(text)
        .ok_or_else(|| format!("`{text}` is not a bmcwall code; `bmcwall lints` lists them"))
}

/// A code, a prefix of codes or a group.
pub(crate) fn parse_selector(text: &str) -> Result<Selector, String> {
    Selector::parse(text).ok_or_else(|| {
        format!(
            "`{text}` is not a code, a prefix of codes (`BW2`) or a group (`warnings`, `infos`); \
             `bmcwall lints` lists the codes"
        )
    })
}

/// A selector that may lower levels: not a code among the errors that make
/// the input invalid (a prefix or group lowers only the codes it can).
pub(crate) fn parse_lowering_selector(text: &str) -> Result<Selector, String> {
    match parse_selector(text)? {
        Selector::Code(code) if !code.can_be_lowered() => Err(format!(
            "{code} ({}) cannot be lowered: it means the input is not a valid policy",
            code.name()
        )),
        selector => Ok(selector),
    }
}

pub(crate) fn parse_table(text: &str) -> Result<String, String> {
    let mut chars = text.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && text.len() <= 64;
    valid
        .then(|| text.to_string())
        .ok_or_else(|| format!("`{text}` is not a table name (letters, digits, `_`, `-`)"))
}
