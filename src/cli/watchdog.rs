//! The rollback of `apply --confirm`, outside the applying process: a
//! watchdog that puts the saved table back unless the apply confirms in time.
//!
//! The apply starts the watchdog to load the new table: `bmcwall` itself,
//! run as the hidden command `rollback-watchdog`, in a session and process
//! group of its own (so the hangup of the terminal the new rules cut, a Ctrl-C
//! or a kill of the apply's whole session does not reach it), shielded from
//! the out-of-memory killer, holding the gateway's lock through the inherited
//! descriptor. The apply then writes the saved table and the new one to
//! root-only files and sends it orders, one line each, on a pipe:
//!
//! - `go`: the files are written: load the new table (`nft -f`, one
//!   transaction) and say `loaded` on standard output;
//! - `keep`: confirmed: stand down;
//! - `expired`: not confirmed by the deadline: roll back now.
//!
//! The files are the watchdog's from before they exist: should the apply end
//! before `go`, it removes them and nothing was changed.
//!
//! With `--confirm-with`, the watchdog runs the health check itself once the
//! table is loaded, each run a process group of its own that is killed whole
//! when the run ends, and says `confirmed` when a run passes. So a check
//! never outlives the window, whatever happens to the apply.
//!
//! The end of the pipe without `keep` means the apply is gone: the watchdog
//! rolls back at once (after its load, should that still run). So does its
//! own deadline, should the apply hang. Before rolling back it kills the
//! health check still running and compares the live table with the one it
//! loaded: it restores only over the table it replaced.
//!
//! A reboot in the window ends the window: the kernel's ruleset is then what
//! the boot loads, and the state in /run is gone with it.

use super::gateway::{Lock, StateDir};
use super::live::Nft;
use super::{Exit, WatchdogArgs};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What the watchdog says once the new table is loaded.
const LOADED: &str = "loaded";

/// What the watchdog says when a health check passed.
const CONFIRMED: &str = "confirmed";

/// The pause between two runs of a failing health check.
const RETRY: Duration = Duration::from_secs(1);

/// The running watchdog, as the apply sees it.
pub struct Watchdog {
    child: Child,
    orders: Option<ChildStdin>,
    reports: mpsc::Receiver<String>,
}

/// What the watchdog is asked to guard.
pub struct Guard<'a> {
    pub netns: Option<&'a str>,
    pub table: &'a str,
    /// The new table, to load.
    pub ruleset: &'a Path,
    /// The saved table, as a ruleset that restores it.
    pub saved: &'a Path,
    /// The fingerprint of the table before the apply.
    pub previous: &'a str,
    pub seconds: u64,
    /// The health check that confirms, if any.
    pub confirm_with: Option<&'a str>,
}

impl Watchdog {
    /// Starts the watchdog, before the files it guards are written (it
    /// removes them should the apply end before [`Watchdog::load`]).
    pub fn arm(guard: &Guard<'_>, lock: &Lock) -> std::io::Result<Watchdog> {
        let lock_fd = lock.file().as_raw_fd();
        let mut command = Command::new(std::env::current_exe()?);
        command.arg("rollback-watchdog");
        if let Some(ns) = guard.netns {
            command.args(["--netns", ns]);
        }
        command
            .args(["--table", guard.table])
            .arg("--ruleset")
            .arg(guard.ruleset)
            .arg("--saved")
            .arg(guard.saved)
            .args(["--previous", guard.previous])
            .args(["--seconds", &guard.seconds.to_string()])
            .args(["--lock-fd", &lock_fd.to_string()]);
        if let Some(check) = guard.confirm_with {
            command.args(["--confirm-with", check]);
        }
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // SAFETY: between fork and exec only async-signal-safe calls are made:
        // setsid(2) and fcntl(2) on a descriptor this process owns.
        unsafe {
            command.pre_exec(move || {
                if libc::setsid() < 0 || libc::fcntl(lock_fd, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command.spawn()?;
        let orders = child.stdin.take();
        let (sender, reports) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Ok(Watchdog {
            child,
            orders,
            reports,
        })
    }

    fn tell(&mut self, order: &str) {
        // A watchdog that stopped listening has ended; its exit says how.
        if let Some(orders) = &mut self.orders {
            let _ = writeln!(orders, "{order}");
        }
    }

    /// The files are written: the watchdog loads the new table. Waits until
    /// it is loaded: false when the watchdog ended instead (nft refused the
    /// table; [`Watchdog::outcome`] says so).
    pub fn load(&mut self) -> bool {
        self.tell("go");
        self.reports.recv().is_ok_and(|line| line == LOADED)
    }

    /// Waits until the watchdog's health check passes (true) or `deadline`.
    pub fn confirmed_by(&self, deadline: Instant) -> bool {
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.reports.recv_timeout(wait) {
                Ok(line) if line == CONFIRMED => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    }

    /// Confirmed: the watchdog stands down, unless its deadline came first.
    pub fn keep(self) -> Exit {
        self.finish("keep")
    }

    /// Not confirmed: the watchdog rolls back now.
    pub fn expire(self) -> Exit {
        self.finish("expired")
    }

    fn finish(mut self, order: &str) -> Exit {
        self.tell(order);
        self.outcome()
    }

    /// Waits for the watchdog's end and its outcome: 0 kept, 4 rolled back,
    /// 3 nothing had changed, 5 a human must look (as is any other end of
    /// the watchdog). It said what it did.
    pub fn outcome(mut self) -> Exit {
        drop(self.orders.take());
        match self.child.wait().map(|status| status.code()) {
            Ok(Some(0)) => Exit::Success,
            Ok(Some(3)) => Exit::Refused,
            Ok(Some(4)) => Exit::RolledBack,
            // It said why a human must look.
            Ok(Some(5)) => Exit::RollbackFailed,
            _ => {
                say("the rollback watchdog ended without saying what it did: \
                     check the table by hand");
                Exit::RollbackFailed
            }
        }
    }
}

fn say(message: &str) {
    let _ = writeln!(std::io::stderr(), "bmcwall: {message}");
}

/// One order from the apply.
enum Order {
    Go,
    Keep,
    Expired,
}

impl Order {
    fn parse(line: &str) -> Option<Order> {
        match line.trim() {
            "go" => Some(Order::Go),
            "keep" => Some(Order::Keep),
            "expired" => Some(Order::Expired),
            _ => None,
        }
    }
}

/// Why the window ended without a confirmation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The apply said so; it is alive and waits for the outcome.
    Expired,
    /// The apply went away (killed, hung up) before confirming.
    ApplyGone,
    /// The watchdog's own deadline passed with the apply still there.
    Deadline,
}

/// The `--confirm-with` health check, run until it passes.
struct HealthCheck {
    nft: Nft,
    command: String,
    /// The run in progress: its process group is its pid.
    running: Option<Child>,
    /// When the next run may start; `None` before the table is loaded and
    /// after a run passed.
    next: Option<Instant>,
}

impl HealthCheck {
    /// Starts a run when one is due, and reaps a run that ended: true once a
    /// run passed.
    fn step(&mut self) -> bool {
        if let Some(child) = &mut self.running {
            match child.try_wait() {
                Ok(None) => return false,
                Ok(Some(status)) => {
                    let passed = status.success();
                    self.stop();
                    if passed {
                        self.next = None;
                        return true;
                    }
                    self.next = Some(Instant::now() + RETRY);
                }
                Err(_) => {
                    self.stop();
                    self.next = Some(Instant::now() + RETRY);
                }
            }
        }
        if self.next.is_some_and(|at| at <= Instant::now()) {
            self.next = None;
            match self.spawn() {
                Ok(child) => self.running = Some(child),
                Err(error) => {
                    say(&format!("cannot run the health check: {error}"));
                    self.next = Some(Instant::now() + RETRY);
                }
            }
        }
        false
    }

    /// `sh -c COMMAND` on the gateway, a process group of its own, its
    /// output on the watchdog's standard error.
    fn spawn(&self) -> std::io::Result<Child> {
        let mut run = self.nft.on_gateway("sh");
        let err = std::io::stderr().as_fd().try_clone_to_owned()?;
        run.args(["-c", &self.command])
            .stdin(Stdio::null())
            .stdout(Stdio::from(err))
            .process_group(0);
        run.spawn()
    }

    /// Kills the run in progress and whatever it started in its group.
    fn stop(&mut self) {
        if let Some(mut child) = self.running.take() {
            kill_group(child.id());
            let _ = child.wait();
        }
    }

    /// Whether the loop must wake up soon to look after a run.
    fn busy(&self) -> bool {
        self.running.is_some() || self.next.is_some()
    }
}

/// The hidden `rollback-watchdog` command.
pub fn watch(args: WatchdogArgs) -> Exit {
    shield_from_oom_killer();
    // SAFETY: F_GETFD only asks whether the descriptor is open.
    if unsafe { libc::fcntl(args.lock_fd, libc::F_GETFD) } < 0 {
        say("rollback-watchdog: the lock descriptor is not open (it is started by apply)");
        return Exit::Invalid;
    }
    // SAFETY: the descriptor is open, was passed on by the apply for this
    // process to own, and nothing else here uses it.
    let lock = Lock::inherited(unsafe { File::from_raw_fd(args.lock_fd) });
    lock.note(&format!(
        "the rollback watchdog (pid {}) of an unconfirmed apply",
        std::process::id()
    ));
    let nft = Nft::new(args.netns.clone());
    let orders = listen();
    if !matches!(orders.recv(), Ok(Order::Go)) {
        // The apply ended (or could not write the files) before anything
        // was loaded.
        let _ = std::fs::remove_file(&args.ruleset);
        let _ = std::fs::remove_file(&args.saved);
        return Exit::Refused;
    }
    if let Err(error) = nft.load(&args.ruleset) {
        let _ = std::fs::remove_file(&args.ruleset);
        let _ = std::fs::remove_file(&args.saved);
        say(&format!(
            "nft refused the ruleset; the previous table is still in place in {}:\n{error}",
            nft.place()
        ));
        return Exit::Refused;
    }
    let _ = std::fs::remove_file(&args.ruleset);
    // What was loaded: a rollback restores only over this. Unread, no
    // rollback restores without a human.
    let loaded = nft.fingerprint(&args.table).ok();
    report(LOADED);
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut check = args.confirm_with.clone().map(|command| HealthCheck {
        nft: Nft::new(args.netns.clone()),
        command,
        running: None,
        next: Some(Instant::now()),
    });
    let ending = loop {
        let mut wait = deadline.saturating_duration_since(Instant::now());
        if check.as_ref().is_some_and(HealthCheck::busy) {
            wait = wait.min(Duration::from_millis(50));
        }
        match orders.recv_timeout(wait) {
            Ok(Order::Keep) => {
                if let Some(check) = &mut check {
                    check.stop();
                }
                let _ = std::fs::remove_file(&args.saved);
                return Exit::Success;
            }
            Ok(Order::Expired) => break Ending::Expired,
            Ok(Order::Go) => {}
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() >= deadline => {
                break Ending::Deadline
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break Ending::ApplyGone,
        }
        if check.as_mut().is_some_and(HealthCheck::step) {
            // The apply keeps the table when it hears this; should it be
            // gone, the end of its pipe says so next.
            report(CONFIRMED);
        }
    };
    if let Some(check) = &mut check {
        check.stop();
    }
    let rollback = Rollback {
        nft,
        table: &args.table,
        saved: &args.saved,
        previous: &args.previous,
        seconds: args.seconds,
    };
    let (exit, message) = rollback.run(loaded.as_deref(), ending);
    say(&message);
    log(&message);
    exit
}

/// Tells the apply, on standard output.
fn report(what: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{what}").and_then(|()| out.flush());
}

/// Reads the apply's orders on a thread of their own; the channel closes at
/// the end of the pipe.
fn listen() -> mpsc::Receiver<Order> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if let Some(order) = Order::parse(&line) {
                if sender.send(order).is_err() {
                    break;
                }
            }
        }
    });
    receiver
}

struct Rollback<'a> {
    nft: Nft,
    table: &'a str,
    saved: &'a PathBuf,
    previous: &'a str,
    seconds: u64,
}

impl Rollback<'_> {
    /// Puts the saved table back if the live one is the table the apply
    /// loaded; says what happened.
    fn run(&self, loaded: Option<&str>, ending: Ending) -> (Exit, String) {
        let table = self.table;
        let place = self.nft.place();
        let why = match ending {
            Ending::Expired | Ending::Deadline => {
                format!("not confirmed within {} s", self.seconds)
            }
            Ending::ApplyGone => "the apply ended before it was confirmed".to_string(),
        };
        let kept = format!(
            "the saved table is in {}; load it with `{}nft -f {}`",
            self.saved.display(),
            match &self.nft.netns() {
                Some(ns) => format!("ip netns exec {ns} "),
                None => String::new(),
            },
            self.saved.display()
        );
        let live = match self.nft.fingerprint(table) {
            Ok(live) => live,
            Err(error) => {
                return (
                    Exit::RollbackFailed,
                    format!(
                        "{why}, and table inet {table} in {place} cannot be read, so it was \
                         not restored: {error}\n{kept}"
                    ),
                )
            }
        };
        if live == self.previous {
            let _ = std::fs::remove_file(self.saved);
            return (
                Exit::RolledBack,
                format!("{why}: table inet {table} in {place} is already the previous one"),
            );
        }
        if loaded != Some(live.as_str()) {
            return (
                Exit::RollbackFailed,
                format!(
                    "{why}, but table inet {table} in {place} was changed by someone else \
                     since the apply, so it was not restored\n{kept}"
                ),
            );
        }
        match self.nft.load(self.saved) {
            Ok(()) => {
                let _ = std::fs::remove_file(self.saved);
                (
                    Exit::RolledBack,
                    format!("{why}: restored the previous table inet {table} in {place}"),
                )
            }
            Err(error) => (
                Exit::RollbackFailed,
                format!(
                    "{why}, and restoring the previous table failed; table inet {table} in \
                     {place} is the new one:\n{error}\n{kept}"
                ),
            ),
        }
    }
}

/// Kills a process group, and whatever its members started in it.
fn kill_group(pgid: u32) {
    if let Ok(pgid) = libc::pid_t::try_from(pgid) {
        // SAFETY: kill(2) with a negative pid signals that process group;
        // it has no memory effects.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
}

/// Keeps the kernel's out-of-memory killer away from the watchdog.
fn shield_from_oom_killer() {
    let _ = std::fs::write("/proc/self/oom_score_adj", "-1000");
}

/// Appends an outcome to the state directory's log, with the time.
fn log(message: &str) {
    let Ok(dir) = StateDir::open() else { return };
    let seconds = super::now();
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.log())
    {
        let one_line = message.replace('\n', " | ");
        let _ = writeln!(file, "{seconds} {one_line}");
    }
}
