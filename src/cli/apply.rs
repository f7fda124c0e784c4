//! `bmcwall apply`: check with `nft -c`, take the gateway's lock, save the
//! live table, and load the new one in one transaction from a file written
//! in full. With `--confirm` the rollback watchdog loads it and restores the
//! saved table unless the change is confirmed in time, whatever happens to
//! this process. Only bmcwall's own table is touched, and a table bmcwall did
//! not write only when asked.

use super::gateway::{Gateway, Lock, StateDir};
use super::live::{CompareFailure, Comparison, Nft, Saved};
use super::watchdog::{Guard, Watchdog};
use super::Exit;
use super::{checked_with_report, compilable, layout, plan, ApplyArgs};
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
    let checked = match checked_with_report(&args.policy, &args.common) {
        Ok(checked) => checked,
        Err(exit) => return exit,
    };
    let (policy, analysis) = match compilable(&checked, "applied") {
        Ok(model) => model,
        Err(code) => return code,
    };
    let table = &args.live.table;
    let input = nft::Input {
        policy,
        analysis,
        sources: &checked.sources,
    };
    let ruleset = nft::build_with(layout(args.layout), input, table, args.reverse_path.nft());
    let text = nft::text::render(
        &ruleset,
        &nft::text::header(&checked.sources, policy, &checked.lowered),
    );
    let runner = Nft::new(args.live.netns.clone());
    let place = runner.place();
    if let Err(error) = runner.reachable() {
        say(&format!("{error}; nothing changed"));
        return Exit::Refused;
    }
    if let Err(error) = runner.check(&text) {
        say(&format!(
            "nft -c refused the ruleset; nothing changed in {place}:\n{error}"
        ));
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
        args.policy.display(),
        std::process::id()
    ));
    state.sweep(&gateway);
    let live = match Live::read(&runner, table, &args) {
        Ok(live) => live,
        Err(message) => {
            say(&format!("{message}; nothing changed"));
            return Exit::Refused;
        }
    };
    match runner.compare(table, &Compiled::of(policy, analysis), args.common.today()) {
        Ok(comparison) => {
            let present = comparison.present();
            let Comparison { listing, changes } = comparison;
            let same = listing
                .as_deref()
                .is_some_and(|listing| nft::is_loaded(listing, &ruleset));
            if same {
                say(&format!(
                    "table inet {table} in {place} is already the compiled table: left as \
                     it is"
                ));
                return Exit::Success;
            }
            let title = format!("table inet {table} in {place}");
            let report = plan::human(&changes, policy, &checked.sources, &title, present);
            if let Err(exit) = super::printed(&report) {
                return exit;
            }
        }
        Err(failure) => {
            let why = match failure {
                CompareFailure::Unreadable(error) => error.to_string(),
                CompareFailure::NotComparable(error) => error.to_string(),
            };
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
        }
    }
    let Some(seconds) = args.confirm else {
        let path = state.path(&gateway, table, "new");
        let loaded = state
            .write(&path, &text)
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
        say(&format!("applied table inet {table} in {place}"));
        return Exit::Success;
    };
    let window = Window {
        runner: &runner,
        table,
        seconds,
        confirm_with: args.confirm_with.as_deref(),
    };
    window.run(&text, &live, &state, &gateway, &lock)
}

/// The live table as the apply found it, under the lock.
struct Live {
    /// Its fingerprint (`absent` for none).
    fingerprint: String,
    saved: Saved,
}

impl Live {
    /// Reads the live table; refuses (with a message) when it cannot be
    /// saved or is not the one the plan saw (`--expect-live`).
    fn read(runner: &Nft, table: &str, args: &ApplyArgs) -> Result<Live, String> {
        let place = runner.place();
        let fingerprint = runner
            .fingerprint(table)
            .map_err(|error| format!("cannot read table inet {table} in {place}: {error}"))?;
        if let Some(expected) = &args.expect_live {
            if *expected != fingerprint {
                return Err(format!(
                    "table inet {table} in {place} changed since the plan: the plan saw \
                     {expected}, it is now {fingerprint}; plan again"
                ));
            }
        }
        let saved = match runner.list(table, false) {
            Ok(Some(text)) => Saved::Present(text),
            Ok(None) => Saved::Absent,
            Err(error) => {
                return Err(format!(
                    "cannot save table inet {table} in {place}: {error}"
                ))
            }
        };
        Ok(Live { fingerprint, saved })
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
        let restore = nft::text::restore(table, live.saved.listing());
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
