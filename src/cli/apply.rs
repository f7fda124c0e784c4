//! `bmcwall apply`: check with `nft -c`, save the live table, load the new one
//! in one transaction, and with `--confirm` restore the saved table unless
//! the change is confirmed in time. Only bmcwall's own table is touched.

use super::live::{CompareFailure, Comparison, Nft, Saved};
use super::Exit;
use super::{checked_with_report, compilable, layout, plan, ApplyArgs};
use crate::analysis::compare::Compiled;
use crate::nft;
use std::io::{BufRead, Write};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub(super) fn run(args: ApplyArgs) -> Exit {
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
    let say = |message: String| {
        let _ = writeln!(std::io::stderr(), "bmcwall: {message}");
    };
    if let Err(error) = runner.check(&text) {
        say(format!(
            "nft -c refused the ruleset; nothing changed in {place}:\n{error}"
        ));
        return Exit::Refused;
    }
    let saved = match runner.list(table, false) {
        Ok(Some(text)) => Saved::Present(text),
        Ok(None) => Saved::Absent,
        Err(error) => {
            say(format!(
                "cannot save table inet {table} in {place}; nothing changed: {error}"
            ));
            return Exit::Refused;
        }
    };
    // What is about to change, for the log of the run; a table bmcwall cannot
    // read back is replaced all the same.
    match runner.compare(table, &Compiled::of(policy, analysis), args.common.today()) {
        Ok(Comparison { present, changes }) => {
            let title = format!("table inet {table} in {place}");
            let report = plan::human(&changes, policy, &checked.sources, &title, present);
            if let Err(exit) = super::printed(&report) {
                return exit;
            }
        }
        Err(CompareFailure::NotComparable(nft::CompareError::Listing(error))) => say(format!(
            "table inet {table} in {place} is replaced as a whole ({error})"
        )),
        // A table nft cannot list, or whose rules cannot be followed, is
        // replaced without a report.
        Err(CompareFailure::Unreadable(_))
        | Err(CompareFailure::NotComparable(nft::CompareError::Reading(_))) => {}
    }
    if let Err(error) = runner.load(&text) {
        say(format!(
            "nft refused the ruleset; the previous table is still in place in {place}:\n{error}"
        ));
        return Exit::Refused;
    }
    if let Some(seconds) = args.confirm {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let confirmed = match &args.confirm_with {
            Some(command) => confirm_with(command, deadline),
            None => confirm_on_terminal(seconds, deadline),
        };
        if !confirmed {
            return match runner.load(&nft::text::restore(table, saved.listing())) {
                Ok(()) => {
                    say(format!(
                        "not confirmed within {seconds} s: restored the previous table inet {table} in {place}"
                    ));
                    Exit::Refused
                }
                Err(error) => {
                    say(format!(
                        "not confirmed within {seconds} s, and restoring the previous table failed; \
                         table inet {table} in {place} is the new one:\n{error}"
                    ));
                    Exit::Refused
                }
            };
        }
    }
    say(format!("applied table inet {table} in {place}"));
    Exit::Success
}

/// Runs `command` with `sh -c` until it exits 0 (confirmed) or the deadline
/// passes (a run still going then is killed).
fn confirm_with(command: &str, deadline: Instant) -> bool {
    while Instant::now() < deadline {
        let Ok(mut child) = Command::new("sh").args(["-c", command]).spawn() else {
            return false;
        };
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return true,
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return false;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(_) => return false,
            }
        }
        let pause = Duration::from_secs(1).min(deadline.saturating_duration_since(Instant::now()));
        std::thread::sleep(pause);
    }
    false
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
