//! `bmcwall apply`: take the gateway's lock, save the live table, and load
//! the new one in one transaction from a file written in full: all of it or,
//! if nft refuses it, nothing. With `--confirm` the rollback watchdog loads
//! it and restores the saved table unless the change is confirmed in time,
//! whatever happens to this process. Only bmcwall's own table is touched, and a table bmcwall did
//! not write only when asked.

use super::gateway::{Gateway, Lock, StateDir};
use super::live::{Nft, Saved};
use super::watchdog::{Guard, Watchdog};
use super::Exit;
use super::{checked_with_report, compilable, fleet, layout, plan, ApplyArgs};
use crate::analysis::compare::Compiled;
use crate::nft;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub(super) fn run(args: ApplyArgs) -> Exit {
    if args.confirm.is_some() && args.confirm_with.is_none() && !std::io::stdin().is_terminal() {
        say(
            "--confirm asks for `yes` on a terminal, and standard input is not one: \
             give --confirm-with CMD to confirm by a check; nothing changed",
        );
        return Exit::Refused;
    }
    let Some(path) = &args.policy else {
        let file = args
            .ruleset
            .as_deref()
            .expect("clap requires POLICY or --ruleset");
        return match ruleset_file(file, &args.live.table) {
            Ok(text) => load(
                &args,
                New {
                    text,
                    what: format!("{}", file.display()),
                    compare: None,
                },
            ),
            Err(message) => {
                say(&format!("{message}; nothing changed"));
                Exit::Invalid
            }
        };
    };
    let checked = match checked_with_report(path, &args.common) {
        Ok(checked) => checked,
        Err(exit) => return exit,
    };
    let (policy, analysis) = match compilable(&checked, "applied") {
        Ok(model) => model,
        Err(code) => return code,
    };
    let gateway = match fleet::one_gateway(policy, args.gateway.as_deref()) {
        Ok(gateway) => gateway,
        Err(message) => {
            say(&format!("{message}; nothing changed"));
            return Exit::Invalid;
        }
    };
    // The gateway's own model, built once: its table and what `plan` shows.
    let own = gateway.map(|index| fleet::own(policy, index));
    let (compared, compared_analysis) = own.as_ref().map_or((policy, analysis), |(p, a)| (p, a));
    let table = &args.live.table;
    let ruleset = nft::build_with(
        layout(args.layout),
        nft::Input {
            policy: compared,
            analysis: compared_analysis,
            sources: &checked.sources,
        },
        table,
        &nft::Options {
            reverse_path: args.reverse_path.nft(),
            record: args.record.record(),
        },
    );
    let mut header = nft::text::header(&checked.sources, policy, &checked.lowered);
    if let Some(index) = gateway {
        header.push_str(&nft::text::gateway_header(policy, index));
    }
    let text = nft::text::render(&ruleset, &header);
    load(
        &args,
        New {
            text,
            what: format!("{}", path.display()),
            compare: Some(Compare {
                compiled: Compiled::of(compared, compared_analysis),
                header,
                ruleset,
                policy: compared,
                sources: &checked.sources,
            }),
        },
    )
}

/// The table an apply loads.
struct New<'a> {
    /// Its `nft -f` text.
    text: String,
    /// Where it comes from, for the lock's note.
    what: String,
    /// The compiled model, to show what loading it changes and to see that
    /// it is loaded already; `None` for a ruleset file.
    compare: Option<Compare<'a>>,
}

struct Compare<'a> {
    compiled: Compiled<'a>,
    /// The text form's header, to render the table again with the live
    /// table's counts.
    header: String,
    ruleset: nft::Ruleset,
    policy: &'a crate::resolve::Policy,
    sources: &'a crate::source::SourceMap,
}

/// What the live table means for the table an apply loads.
enum Against<'c, 'a> {
    /// It is the compiled table already.
    Loaded,
    /// The compiled table replaces it: what that changes, and the table's
    /// text with the live table's counts.
    Changes(
        &'c Compare<'a>,
        Vec<crate::analysis::compare::Change>,
        String,
    ),
    /// A ruleset file replaces it: its text with the live table's counts.
    Carried(String),
}

/// Reads the live table's `listing` (`None`: there is none) against `new`,
/// `meta time` matches at `today` (seconds since 1970); `Err` when it is not
/// a table bmcwall wrote and reads. Read once for all three: whether it is
/// loaded already, what loading changes, and the counts carried over.
fn against<'c, 'a>(
    new: &'c New<'a>,
    listing: Option<&str>,
    table: &str,
    today: i64,
) -> Result<Against<'c, 'a>, nft::CompareError> {
    let live = listing
        .map(|listing| nft::read_listing(listing, table))
        .transpose()?;
    let Some(compare) = &new.compare else {
        if let Some(live) = &live {
            nft::readable(live, today)?;
        }
        let text = nft::carried_text(&new.text, live.as_ref(), super::now());
        return Ok(Against::Carried(text));
    };
    if live
        .as_ref()
        .is_some_and(|live| nft::is_loaded(live, &compare.ruleset))
    {
        return Ok(Against::Loaded);
    }
    let changes = nft::compare_live(live.as_ref(), &compare.compiled, None, today)?;
    let ruleset = nft::carried(live.as_ref(), &compare.ruleset, super::now());
    Ok(Against::Changes(
        compare,
        changes,
        nft::text::render(&ruleset, &compare.header),
    ))
}

/// The text of a ruleset file `compile` wrote for table `inet TABLE`.
fn ruleset_file(file: &std::path::Path, table: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the ruleset {}: {e}", file.display()))?;
    let first = text.trim_start();
    if first.starts_with('{') {
        return Err(format!(
            "{} is the JSON form; --ruleset takes the text form `compile` writes by default",
            file.display()
        ));
    }
    let declares = format!("table inet {table} {{}}\ndelete table inet {table}\n");
    if !first.starts_with("# Generated by bmcwall") || !text.contains(&declares) {
        let written = text
            .lines()
            .find_map(|line| line.strip_prefix("table inet ")?.strip_suffix(" {}"))
            .map(|name| format!(" (it replaces table inet {name}: give --table {name})"))
            .unwrap_or_default();
        return Err(format!(
            "{} is not a table bmcwall compiled for table inet {table}{written}",
            file.display()
        ));
    }
    Ok(text)
}

/// Loads `new` on the gateway: the gateway's lock, the live table read (and
/// compared), then the table to load (with the counts carried over) in one
/// transaction, which leaves the previous table in place if nft refuses it
/// (a check with `nft -c` first would only read it twice); with `--confirm`,
/// through the rollback watchdog.
fn load(args: &ApplyArgs, new: New<'_>) -> Exit {
    let table = &args.live.table;
    let text = &new.text;
    let runner = Nft::new(args.live.netns.clone());
    let place = runner.place();
    if let Err(error) = runner.reachable() {
        say(&format!("{error}; nothing changed"));
        return Exit::Refused;
    }
    // From reading the live table to the end of the window, this apply (and
    // its watchdog) is the only one on the gateway.
    let gateway = Gateway::new(args.live.netns.as_deref(), place.clone());
    let timeout = Duration::from_secs(args.lock_timeout);
    let (state, lock) = match StateDir::open()
        .and_then(|state| Lock::acquire(&state, &gateway, timeout).map(|lock| (state, lock)))
    {
        Ok(held) => held,
        Err(error) => {
            say(&format!("{error}; nothing changed"));
            return Exit::Refused;
        }
    };
    lock.note(&format!(
        "an apply of {} (pid {})",
        new.what,
        std::process::id()
    ));
    state.sweep(&gateway);
    let live = match Live::read(&runner, table, args) {
        Ok(live) => live,
        Err(message) => {
            say(&format!("{message}; nothing changed"));
            return Exit::Refused;
        }
    };
    let digest = super::live::fingerprint_of(Some(text));
    let already = || {
        say(&format!(
            "table inet {table} in {place} is already the compiled table: left as it is"
        ));
        Exit::Success
    };
    if state.applied(&gateway, table) == Some((digest.clone(), live.fingerprint.clone())) {
        return already();
    }
    let today = args.common.today().start_second();
    // The table to load with the counts of the rules that did not change.
    let carried = match against(&new, live.listing.as_deref(), table, today) {
        Ok(Against::Loaded) => return already(),
        Ok(Against::Changes(compare, changes, carried)) => {
            let title = format!("table inet {table} in {place}");
            let report = crate::source::for_people(plan::human(
                &changes,
                compare.policy,
                compare.sources,
                &title,
                live.listing.is_some(),
            ));
            if let Err(exit) = super::printed(&report) {
                return exit;
            }
            Some(carried)
        }
        Ok(Against::Carried(carried)) => Some(carried),
        Err(failure) => {
            let why = failure.to_string();
            if !args.replace_foreign {
                say(&format!(
                    "table inet {table} in {place} is not one bmcwall wrote ({why}); nothing \
                     changed: --replace-foreign replaces it"
                ));
                return Exit::Refused;
            }
            say(&format!(
                "table inet {table} in {place} is not one bmcwall wrote ({why}): replaced, \
                 as --replace-foreign asks"
            ));
            None
        }
    };
    let text = carried.as_deref().unwrap_or(text);
    // A ruleset file has no model to see that it is loaded already: the
    // record of what it loaded does.
    let record = |state: &StateDir| {
        if new.compare.is_none() {
            if let Ok(now) = runner.fingerprint(table) {
                state.record_applied(&gateway, table, &digest, &now);
            }
        }
    };
    let Some(seconds) = args.confirm else {
        let path = state.path(&gateway, table, "new");
        let loaded = state
            .write(&path, text)
            .map_err(|error| format!("{error}; nothing changed"))
            .and_then(|()| {
                runner.load(&path).map_err(|error| {
                    format!(
                        "nft refused the ruleset; the previous table is still in place in \
                         {place}:\n{error}"
                    )
                })
            });
        let _ = std::fs::remove_file(&path);
        if let Err(message) = loaded {
            say(&message);
            return Exit::Refused;
        }
        record(&state);
        say(&format!("applied table inet {table} in {place}"));
        return Exit::Success;
    };
    let window = Window {
        runner: &runner,
        table,
        seconds,
        confirm_with: args.confirm_with.as_deref(),
    };
    let exit = window.run(text, &live, &state, &gateway, &lock);
    if exit == Exit::Success {
        record(&state);
    }
    exit
}

/// The live table as the apply found it, under the lock.
struct Live {
    /// Its fingerprint (`absent` for none).
    fingerprint: String,
    /// Its `nft -j list table`, `None` for none: what is compared and
    /// carried over.
    listing: Option<String>,
    /// Its `nft list table` text, which a rollback loads back: read for
    /// `--confirm` only.
    saved: Option<Saved>,
}

impl Live {
    /// Reads the live table; refuses (with a message) when it cannot be
    /// saved or is not the one the plan saw (`--expect-live`).
    fn read(runner: &Nft, table: &str, args: &ApplyArgs) -> Result<Live, String> {
        let place = runner.place();
        let listing = runner
            .list(table, true)
            .map_err(|error| format!("cannot read table inet {table} in {place}: {error}"))?;
        let fingerprint = super::live::fingerprint_of_listing(listing.as_deref());
        if let Some(expected) = &args.expect_live {
            if *expected != fingerprint {
                return Err(format!(
                    "table inet {table} in {place} changed since the plan: the plan saw \
                     {expected}, it is now {fingerprint}; plan again"
                ));
            }
        }
        // What a rollback restores: only a window has one.
        let saved = match args.confirm.map(|_| runner.list(table, false)) {
            None => None,
            Some(Ok(Some(text))) => Some(Saved::Present(text)),
            Some(Ok(None)) => Some(Saved::Absent),
            Some(Err(error)) => {
                return Err(format!(
                    "cannot save table inet {table} in {place}: {error}"
                ))
            }
        };
        Ok(Live {
            fingerprint,
            listing,
            saved,
        })
    }
}

/// An apply with `--confirm`: the new table is kept only if confirmed in
/// time; else the watchdog puts the saved one back.
struct Window<'a> {
    runner: &'a Nft,
    table: &'a str,
    seconds: u64,
    confirm_with: Option<&'a str>,
}

impl Window<'_> {
    fn run(
        &self,
        text: &str,
        live: &Live,
        state: &StateDir,
        gateway: &Gateway,
        lock: &Lock,
    ) -> Exit {
        let (runner, table) = (self.runner, self.table);
        let place = runner.place();
        let saved = live.saved.as_ref().expect("saved for --confirm");
        let restore = nft::text::restore(table, saved.listing());
        let (saved, new) = (
            state.path(gateway, table, "restore"),
            state.path(gateway, table, "new"),
        );
        let guard = Guard {
            netns: runner.netns(),
            table,
            ruleset: &new,
            saved: &saved,
            previous: &live.fingerprint,
            seconds: self.seconds,
            confirm_with: self.confirm_with,
        };
        // Armed before the files exist, so that they are never left behind.
        let mut watchdog = match Watchdog::arm(&guard, lock) {
            Ok(watchdog) => watchdog,
            Err(error) => {
                say(&format!(
                    "cannot start the rollback watchdog: {error}; nothing changed"
                ));
                return Exit::Refused;
            }
        };
        let written = state
            .write(&saved, &restore)
            .and_then(|()| state.write(&new, text));
        if let Err(error) = written {
            // Without `go` the watchdog removes the files and ends.
            let _ = watchdog.outcome();
            say(&format!("{error}; nothing changed"));
            return Exit::Refused;
        }
        if !watchdog.load() {
            return watchdog.outcome();
        }
        let deadline = Instant::now() + Duration::from_secs(self.seconds);
        let confirmed = match self.confirm_with {
            Some(command) => {
                say(&format!(
                    "loaded table inet {table} in {place}; it stays if `{command}` succeeds \
                     within {} s, else the previous table comes back",
                    self.seconds
                ));
                watchdog.confirmed_by(deadline)
            }
            None => confirm_on_terminal(self.seconds, deadline),
        };
        if !confirmed {
            return watchdog.expire();
        }
        match watchdog.keep() {
            Exit::Success => {
                say(&format!("applied table inet {table} in {place}"));
                Exit::Success
            }
            // The watchdog's deadline came first; it said what it did.
            other => other,
        }
    }
}

fn say(message: &str) {
    let _ = writeln!(std::io::stderr(), "bmcwall: {message}");
}

/// Asks on the terminal; only `yes` before the deadline confirms.
fn confirm_on_terminal(seconds: u64, deadline: Instant) -> bool {
    let _ = write!(
        std::io::stderr(),
        "bmcwall: type `yes` within {seconds} s to keep the new table: "
    );
    let _ = std::io::stderr().flush();
    let (sender, receiver) = mpsc::channel();
    // The reader may outlive the wait; it holds nothing but stdin.
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = std::io::stdin().lock().read_line(&mut line);
        let _ = sender.send(read.map(|_| line));
    });
    let wait = deadline.saturating_duration_since(Instant::now());
    matches!(receiver.recv_timeout(wait), Ok(Ok(line)) if line.trim() == "yes")
}
