//! `apply` when things go wrong, against a real nftables in network
//! namespaces of the tests' own: the applying process killed or hung up in
//! its confirm window (alone or with its whole session), a hung apply, a
//! confirmed apply, two applies at once, a hand edit between plan and apply
//! and during the window, a health check that leaves processes behind, and
//! the refusals that change nothing. Each case ends by comparing the
//! namespace's whole ruleset with what it must be, byte for byte.

use crate::harness::{self, Namespace};
use crate::support::{bmcwall_in, crate_root, stderr, stdout, TODAY};
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A table of someone else's, loaded beside bmcwall's in every namespace
/// here: no case may touch it.
const FOREIGN: &str = "table inet monitoring {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tcounter\n\t}\n}\n";

/// A gateway: a namespace holding a foreign table and the table of `old`
/// (applied), and the policies the cases apply.
struct Gateway {
    ns: Namespace,
    dir: tempfile::TempDir,
    /// The ams1 example, applied.
    old: PathBuf,
    /// ams1 with NTP open to everyone.
    new: PathBuf,
    /// ams1 with unlogged denials.
    third: PathBuf,
}

impl Gateway {
    fn new() -> Gateway {
        let gateway = Gateway::empty();
        let applied = gateway.apply(&gateway.old, &[]);
        assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
        gateway
    }

    /// The namespace with the foreign table only.
    fn empty() -> Gateway {
        let ns = Namespace::new();
        ns.load(FOREIGN).expect("the foreign table loads");
        let dir = tempfile::tempdir().expect("temp dir");
        let old = variant(dir.path(), "old.wall", &[]);
        let new = variant(
            dir.path(),
            "new.wall",
            &[(
                "allow bmcs      -> ntp1    : ntp;",
                "allow any -> ntp1 : ntp;",
            )],
        );
        let third = variant(
            dir.path(),
            "third.wall",
            &[(
                "deny  any       -> bmcs    log;",
                "deny  any       -> bmcs;",
            )],
        );
        Gateway {
            ns,
            dir,
            old,
            new,
            third,
        }
    }

    /// The namespace's whole ruleset.
    fn ruleset(&self) -> String {
        self.ns
            .nft(&["list", "ruleset"])
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The bmcwall table with its handles, which a reload renews.
    fn table_with_handles(&self) -> String {
        self.ns
            .nft(&["-a", "list", "table", "inet", "bmcwall"])
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn args<'a>(&'a self, policy: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "apply",
            policy.to_str().expect("path"),
            "--netns",
            &self.ns.name,
            "--today",
            TODAY,
        ];
        args.extend_from_slice(extra);
        args
    }

    /// Runs `apply` to its end, with no input.
    fn apply(&self, policy: &Path, extra: &[&str]) -> Output {
        bmcwall_in(
            crate_root(),
            &self.args(policy, extra),
            "",
            &[self.ns.run_env()],
        )
    }

    /// Starts `apply` in a session of its own (as a login shell's command
    /// is), standard input closed, its output to pipes. Its standard error
    /// stays open as long as the watchdog it starts runs, so it ends only
    /// when the rollback is done.
    fn start(&self, policy: &Path, extra: &[&str]) -> Started {
        let mut command = Command::new(env!("CARGO_BIN_EXE_bmcwall"));
        command
            .args(self.args(policy, extra))
            .current_dir(crate_root())
            .env(self.ns.run_env().0, self.ns.run_env().1)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // SAFETY: setsid(2) is async-signal-safe and touches no memory.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command.spawn().expect("bmcwall starts");
        let stderr = child.stderr.take().expect("a pipe");
        let (sender, lines) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stderr).lines() {
                let line = line.expect("UTF-8 output");
                all.push_str(&line);
                all.push('\n');
                let _ = sender.send(line);
            }
            all
        });
        Started {
            child,
            lines,
            reader,
        }
    }

    /// The files left in the state directory.
    fn state_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.ns.run_dir.path())
            .expect("state directory")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    fn message(&self, text: &str) -> String {
        text.replace(&self.ns.name, "NS")
            .replace(&self.dir.path().display().to_string(), "DIR")
            .replace(&self.ns.run_dir.path().display().to_string(), "RUN")
    }
}

/// An apply running in the background.
struct Started {
    child: Child,
    lines: mpsc::Receiver<String>,
    reader: std::thread::JoinHandle<String>,
}

impl Started {
    /// Waits until the apply says it loaded the new table: its confirm
    /// window is open, and the watchdog knows what was loaded.
    fn loaded(&self) {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let wait = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(wait) {
                Ok(line) if line.starts_with("bmcwall: loaded table inet bmcwall") => return,
                Ok(_) => {}
                Err(error) => panic!("the apply never said it loaded the table: {error}"),
            }
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The apply's exit and everything it and its watchdog wrote on
    /// standard error.
    fn finish(mut self) -> (ExitStatus, String) {
        let status = self.child.wait().expect("apply ends");
        (status, self.reader.join().expect("the reader ends"))
    }
}

/// A copy of the ams1 example with `edits` (each must apply) in `dir`.
fn variant(dir: &Path, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let source = crate_root().join("examples/ams1");
    let inventory = dir.join("inventory");
    std::fs::create_dir_all(&inventory).expect("inventory dir");
    std::fs::copy(
        source.join("inventory/ams1.yaml"),
        inventory.join("ams1.yaml"),
    )
    .expect("copy inventory");
    let mut text = std::fs::read_to_string(source.join("ams1.wall")).expect("ams1");
    for (from, to) in edits {
        assert!(text.contains(from), "{from:?} is in ams1.wall");
        text = text.replace(from, to);
    }
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write policy");
    path
}

/// A number no other test process uses, to find the processes a health
/// check started (`sleep 1000.N`).
fn marker() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    format!(
        "1000.{}{:03}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// Processes whose command line holds `marker`.
fn processes_with(marker: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmdline).contains(marker) {
            found.push(pid);
        }
    }
    found
}

/// Waits (at most ten seconds) until no process holds `marker`.
fn gone(marker: &str) -> bool {
    let until = Instant::now() + Duration::from_secs(10);
    while !processes_with(marker).is_empty() {
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// Sends `signal` to every process of session `sid`, as the end of a login
/// session does.
fn signal_session(sid: u32, signal: i32) {
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp session ...: comm may hold spaces.
        let after_comm = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let session = after_comm.split_whitespace().nth(3);
        if session == Some(&sid.to_string()) {
            // SAFETY: kill(2) has no memory effects.
            unsafe { libc::kill(pid, signal) };
        }
    }
}

fn signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) has no memory effects.
    unsafe { libc::kill(pid as i32, signal) };
}

#[test]
fn a_killed_or_hung_up_apply_is_rolled_back_by_its_watchdog() {
    if harness::skipped() {
        return;
    }
    let gateway = Gateway::new();
    let before = gateway.ruleset();
    // -1000 where root may lower it (CAP_SYS_RESOURCE; some containers drop it).
    let probe = Command::new("sh")
        .args([
            "-c",
            "echo -1000 > /proc/self/oom_score_adj; cat /proc/self/oom_score_adj",
        ])
        .stderr(Stdio::null())
        .output()
        .expect("sh runs");
    let shielded = crate::support::text(&probe.stdout).trim().to_string();
    for (whole_session, sig) in [
        (false, libc::SIGKILL),
        (false, libc::SIGHUP),
        (false, libc::SIGTERM),
        (false, libc::SIGINT),
        (true, libc::SIGKILL),
        (true, libc::SIGHUP),
        (true, libc::SIGTERM),
    ] {
        let case = format!("signal {sig}, whole session: {whole_session}");
        let check = marker();
        let command = format!("sleep {check}");
        let child = gateway.start(
            &gateway.new,
            &["--confirm", "120", "--confirm-with", &command],
        );
        child.loaded();
        assert_eq!(
            watchdog_of(&gateway).map(oom_score_adj),
            Some(shielded.to_string()),
            "{case}: the out-of-memory killer spares the watchdog"
        );
        let pid = child.pid();
        if whole_session {
            signal_session(pid, sig);
        } else {
            signal(pid, sig);
        }
        let (status, said) = child.finish();
        assert_eq!(status.signal(), Some(sig), "{case}");
        assert!(
            gateway.message(&said).ends_with(
                "bmcwall: the apply ended before it was confirmed: restored the previous \
                 table inet bmcwall in network namespace NS\n"
            ),
            "{case}: {said}"
        );
        assert_eq!(
            gateway.ruleset(),
            before,
            "{case}: the previous table is back"
        );
        assert!(gone(&check), "{case}: the health check was killed");
        assert_eq!(
            gateway.state_files(),
            [
                format!("netns-{}.lock", gateway.ns.name),
                "rollback.log".to_string()
            ],
            "{case}: the saved table is removed once restored"
        );
    }
    let log = std::fs::read_to_string(gateway.ns.run_dir.path().join("rollback.log"))
        .expect("rollback.log");
    let restored = format!(
        "the apply ended before it was confirmed: restored the previous table inet bmcwall \
         in network namespace {}",
        gateway.ns.name
    );
    assert_eq!(log.lines().count(), 7, "one line per rollback:\n{log}");
    assert!(log.lines().all(|line| line.ends_with(&restored)), "{log}");
}

/// The running watchdog of `gateway`'s apply, if any.
fn watchdog_of(gateway: &Gateway) -> Option<u32> {
    processes_with("rollback-watchdog").into_iter().find(|pid| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&gateway.ns.name))
    })
}

fn oom_score_adj(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj"))
        .expect("oom_score_adj")
        .trim()
        .to_string()
}

#[test]
fn an_apply_killed_at_any_moment_leaves_the_previous_table() {
    if harness::skipped() {
        return;
    }
    let gateway = Gateway::new();
    let before = gateway.ruleset();
    // From before the watchdog starts to after the table is loaded.
    for millis in [0, 5, 20, 50, 100, 200, 400] {
        let child = gateway.start(
            &gateway.new,
            &["--confirm", "120", "--confirm-with", "false"],
        );
        std::thread::sleep(Duration::from_millis(millis));
        signal(child.pid(), libc::SIGKILL);
        let (status, said) = child.finish();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        assert_eq!(
            gateway.ruleset(),
            before,
            "killed after {millis} ms:\n{said}"
        );
        assert_eq!(watchdog_of(&gateway), None);
        assert!(
            gateway.state_files().iter().all(|f| !f.ends_with(".nft")),
            "killed after {millis} ms: {:?}",
            gateway.state_files()
        );
    }
}

#[test]
fn a_hung_apply_is_rolled_back_at_the_watchdog_deadline() {
    if harness::skipped() {
        return;
    }
    let gateway = Gateway::new();
    let before = gateway.ruleset();
    let check = marker();
    let command = format!("sleep {check}");
    let child = gateway.start(
        &gateway.new,
        &["--confirm", "3", "--confirm-with", &command],
    );
    child.loaded();
    // Stopped, the apply can neither confirm nor say that time is up.
    signal(child.pid(), libc::SIGSTOP);
    let until = Instant::now() + Duration::from_secs(30);
    while gateway.ruleset() != before {
        assert!(
            Instant::now() < until,
            "the watchdog did not restore the table"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    signal(child.pid(), libc::SIGKILL);
    let (_, said) = child.finish();
    assert!(gone(&check), "the watchdog killed the health check");
    assert!(
        gateway.message(&said).ends_with(
            "bmcwall: not confirmed within 3 s: restored the previous table inet bmcwall in \
             network namespace NS\n"
        ),
        "{said}"
    );
}

#[test]
fn unconfirmed_applies_are_rolled_back_and_confirmed_ones_stay() {
    if harness::skipped() {
        return;
    }
    // On an empty namespace, nothing of bmcwall's is left behind.
    let empty = Gateway::empty();
    let before = empty.ruleset();
    let refused = empty.apply(&empty.old, &["--confirm", "1", "--confirm-with", "false"]);
    assert_eq!(refused.status.code(), Some(4), "{}", stderr(&refused));
    assert!(empty.message(&stderr(&refused)).ends_with(
        "bmcwall: not confirmed within 1 s: restored the previous table inet bmcwall in \
         network namespace NS\n"
    ));
    assert_eq!(empty.ruleset(), before);

    let gateway = Gateway::new();
    let before = gateway.ruleset();
    let failing = gateway.apply(
        &gateway.new,
        &["--confirm", "2", "--confirm-with", "exit 1"],
    );
    assert_eq!(failing.status.code(), Some(4), "{}", stderr(&failing));
    assert_eq!(gateway.ruleset(), before, "the previous table is back");

    // Confirmed by the health check, which sees the gateway's own network:
    // it runs inside the namespace, where only `lo` exists.
    let inside = "test \"$(ls /sys/class/net)\" = lo";
    let checked = gateway.apply(&gateway.new, &["--confirm", "2", "--confirm-with", inside]);
    assert_eq!(checked.status.code(), Some(0), "{}", stderr(&checked));
    let applied = gateway.ruleset();
    assert_ne!(applied, before);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(gateway.ruleset(), applied, "still there after the deadline");
    assert_eq!(watchdog_of(&gateway), None, "no watchdog is left");
    assert_eq!(
        gateway.state_files(),
        [
            format!("netns-{}.lock", gateway.ns.name),
            "rollback.log".to_string()
        ],
        "no saved table is left"
    );
}

/// Runs `apply` with a terminal (a pseudo-terminal) on standard input, typing
/// `typed` into it.
fn apply_on_terminal(gateway: &Gateway, policy: &Path, extra: &[&str], typed: &str) -> Output {
    use std::io::Write as _;
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty(3) writes two descriptors into the two integers; the
    // name, termios and window size are not asked for.
    let opened = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(opened, 0, "a pseudo-terminal");
    // SAFETY: both descriptors were just opened and are owned here.
    let (mut master, slave) = unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::fs::File::from_raw_fd(slave),
        )
    };
    let child = Command::new(env!("CARGO_BIN_EXE_bmcwall"))
        .args(gateway.args(policy, extra))
        .current_dir(crate_root())
        .env(gateway.ns.run_env().0, gateway.ns.run_env().1)
        .stdin(slave)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bmcwall starts");
    master.write_all(typed.as_bytes()).expect("type");
    let output = child.wait_with_output().expect("apply ends");
    drop(master);
    output
}

#[test]
fn confirm_on_a_terminal_or_refuse_without_one() {
    if harness::skipped() {
        return;
    }
    let gateway = Gateway::new();
    let before = gateway.ruleset();
    // No terminal and no health check: refused before anything is loaded.
    let blind = gateway.apply(&gateway.new, &["--confirm", "5"]);
    assert_eq!(blind.status.code(), Some(3));
    assert_eq!(
        stderr(&blind),
        "bmcwall: --confirm asks for `yes` on a terminal, and standard input is not one: \
         give --confirm-with CMD to confirm by a check; nothing changed\n"
    );
    assert_eq!(gateway.ruleset(), before);

    let declined = apply_on_terminal(&gateway, &gateway.new, &["--confirm", "5"], "no\n");
    assert_eq!(declined.status.code(), Some(4), "{}", stderr(&declined));
    assert!(stderr(&declined).contains("type `yes` within 5 s to keep the new table: "));
    assert_eq!(gateway.ruleset(), before);
    let typed = apply_on_terminal(&gateway, &gateway.new, &["--confirm", "5"], "yes\n");
    assert_eq!(typed.status.code(), Some(0), "{}", stderr(&typed));
    assert!(gateway
        .message(&stderr(&typed))
        .ends_with("bmcwall: applied table inet bmcwall in network namespace NS\n"));
    assert_ne!(gateway.ruleset(), before);
}

#[test]
fn two_applies_on_one_gateway_never_interleave() {
    if harness::skipped() {
        return;
    }
    let gateway = Gateway::new();
    let check = marker();
    let command = format!("sleep {check}");
    let first = gateway.start(
        &gateway.new,
        &["--confirm", "4", "--confirm-with", &command],
    );
    first.loaded();
    // While the first one's window is open, a second one is refused at once
    let refused = gateway.apply(&gateway.third, &[]);
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    let said = gateway.message(&stderr(&refused));
    let said = said.lines().last().expect("a message").to_string() + "\n";
    assert!(
        said.starts_with(
            "bmcwall: network namespace NS is being changed by the rollback watchdog (pid "
        ),
        "{said}"
    );
    assert!(said.ends_with(
        ") of an unconfirmed apply; try again when it is done, or wait for it with \
         --lock-timeout SECONDS; nothing changed\n"
    ));
    // or waits for it to end: the first one's rollback comes first, and
    // then the second one's table stays.
    let waited = gateway.apply(&gateway.third, &["--lock-timeout", "60"]);
    assert_eq!(waited.status.code(), Some(0), "{}", stderr(&waited));
    let (status, said) = first.finish();
    assert_eq!(status.code(), Some(4), "{said}");
    assert!(gateway.message(&said).ends_with(
        "bmcwall: not confirmed within 4 s: restored the previous table inet bmcwall in \
         network namespace NS\n"
    ));
    let plan = bmcwall_in(
        crate_root(),
        &[
            "plan",
            gateway.third.to_str().expect("path"),
            "--netns",
            &gateway.ns.name,
            "--today",
            TODAY,
        ],
        "",
        &[],
    );
    assert_eq!(
        plan.status.code(),
        Some(0),
        "the second apply's table stays"
    );
    // A wait that runs out says how long it waited.
    let second = gateway.start(
        &gateway.new,
        &["--confirm", "5", "--confirm-with", &command],
    );
    second.loaded();
    let impatient = gateway.apply(&gateway.old, &["--lock-timeout", "1"]);
    assert_eq!(impatient.status.code(), Some(3));
    assert!(gateway
        .message(&stderr(&impatient))
        .contains("network namespace NS is still being changed by the rollback watchdog"));
    assert!(stderr(&impatient).contains("after 1 s of waiting; nothing changed\n"));
    assert_eq!(second.finish().0.code(), Some(4));
    assert!(gone(&check));
}

fn plan_json(gateway: &Gateway, policy: &Path) -> serde_json::Value {
    let plan = bmcwall_in(
        crate_root(),
        &[
            "plan",
            policy.to_str().expect("path"),
            "--netns",
            &gateway.ns.name,
            "--today",
            TODAY,
            "--format",
            "json",
        ],
        "",
        &[],
    );
    serde_json::from_str(&stdout(&plan)).expect("plan JSON")
}

/// A hand edit of bmcwall's table: a chain of someone's own.
fn hand_edit(gateway: &Gateway, chain: &str) {
    gateway
        .ns
        .nft(&["add", "chain", "inet", "bmcwall", chain])
        .expect("hand edit");
}

#[test]
fn a_table_changed_since_the_plan_or_during_the_window_is_not_overwritten() {
    if harness::skipped() {
        return;
    }
    let empty = Gateway::empty();
    assert_eq!(plan_json(&empty, &empty.old)["live_fingerprint"], "absent");

    let gateway = Gateway::new();
    let planned = plan_json(&gateway, &gateway.new);
    let seen = planned["live_fingerprint"]
        .as_str()
        .expect("a fingerprint")
        .to_string();
    assert!(seen.starts_with("sha256:") && seen.len() == 71, "{seen}");
    assert_eq!(plan_json(&gateway, &gateway.new)["live_fingerprint"], seen);
    hand_edit(&gateway, "by_hand");
    let edited = gateway.ruleset();
    let now = plan_json(&gateway, &gateway.new)["live_fingerprint"]
        .as_str()
        .expect("a fingerprint")
        .to_string();
    assert_ne!(now, seen);
    let stale = gateway.apply(&gateway.new, &["--expect-live", &seen]);
    assert_eq!(stale.status.code(), Some(3));
    assert_eq!(
        gateway.message(&stderr(&stale)),
        format!(
            "bmcwall: table inet bmcwall in network namespace NS changed since the plan: \
             the plan saw {seen}, it is now {now}; plan again; nothing changed\n"
        )
    );
    assert_eq!(gateway.ruleset(), edited);
    let fresh = gateway.apply(&gateway.new, &["--expect-live", &now]);
    assert_eq!(fresh.status.code(), Some(0), "{}", stderr(&fresh));

    // Changed by hand inside the window: the rollback does not put the old
    // table over the edit, says so loudly, and leaves the saved table.
    let before = gateway.ruleset();
    let child = gateway.start(
        &gateway.old,
        &["--confirm", "3", "--confirm-with", "exit 1"],
    );
    child.loaded();
    hand_edit(&gateway, "in_the_window");
    let edited = gateway.ruleset();
    let (status, said) = child.finish();
    assert_eq!(status.code(), Some(5), "{said}");
    let said = gateway.message(&said);
    let saved = gateway
        .state_files()
        .into_iter()
        .find(|name| name.ends_with(".restore.nft"))
        .expect("the saved table is kept");
    assert!(saved.starts_with(&format!("netns-{}.bmcwall.", gateway.ns.name)));
    let shown = gateway.message(&saved);
    assert!(
        said.ends_with(&format!(
            "bmcwall: not confirmed within 3 s, but table inet bmcwall in network namespace NS \
             was changed by someone else since the apply, so it was not restored\nthe saved \
             table is in RUN/{shown}; load it with `ip netns exec NS nft -f RUN/{shown}`\n"
        )),
        "{said}"
    );
    assert_eq!(gateway.ruleset(), edited);
    // The saved table is the one before the apply, ready to load.
    let saved = std::fs::read_to_string(gateway.ns.run_dir.path().join(&saved)).expect("saved");
    gateway.ns.load(&saved).expect("the saved table loads");
    assert_eq!(gateway.ruleset(), before);
}

#[test]
fn a_health_check_leaves_no_process_behind() {
    if harness::skipped() {
        return;
    }
    let gateway = Gateway::new();
    let check = marker();
    // Each run leaves a process in the background and fails.
    let command = format!("sleep {check} & sleep {check} & exit 1");
    let output = gateway.apply(
        &gateway.new,
        &["--confirm", "3", "--confirm-with", &command],
    );
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(gone(&check), "{:?} still run", processes_with(&check));
    // One still running at the deadline is killed with the rest of its group.
    let command = format!("(sleep {check}; true) & sleep {check}");
    let output = gateway.apply(
        &gateway.new,
        &["--confirm", "2", "--confirm-with", &command],
    );
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(gone(&check), "{:?} still run", processes_with(&check));
}

#[test]
fn refusals_change_nothing() {
    if harness::skipped() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = variant(dir.path(), "ams1.wall", &[]);
    let policy = policy.to_str().expect("path");
    let run = tempfile::Builder::new()
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir()
        .expect("state directory");
    let run_env = [("BMCWALL_RUN_DIR", run.path().to_str().expect("path"))];
    for verb in ["plan", "apply"] {
        let missing = bmcwall_in(
            crate_root(),
            &[
                verb,
                policy,
                "--netns",
                "bwt-no-such-namespace",
                "--today",
                TODAY,
            ],
            "",
            &run_env,
        );
        assert_eq!(missing.status.code(), Some(3), "{verb}");
        let said = stderr(&missing);
        assert!(
            said.contains(
                "bmcwall: network namespace bwt-no-such-namespace does not exist \
                 (`ip netns list` shows those that do)"
            ),
            "{verb}: {said}"
        );
    }

    // No change: the table is left as it is (its handles and counters too).
    let gateway = Gateway::new();
    let table = gateway.table_with_handles();
    let again = gateway.apply(&gateway.old, &[]);
    assert_eq!(again.status.code(), Some(0));
    assert!(gateway.message(&stderr(&again)).ends_with(
        "bmcwall: table inet bmcwall in network namespace NS is already the compiled table: \
         left as it is\n"
    ));
    assert_eq!(gateway.table_with_handles(), table);
    // The same flows in the other layout is another table: it is loaded.
    let rules = gateway.apply(&gateway.old, &["--layout", "rules"]);
    assert_eq!(rules.status.code(), Some(0));
    assert!(gateway
        .message(&stderr(&rules))
        .ends_with("bmcwall: applied table inet bmcwall in network namespace NS\n"));
    assert_ne!(gateway.table_with_handles(), table);

    // A table of the same name that bmcwall did not write.
    let foreign = Gateway::empty();
    foreign
        .ns
        .load("table inet bmcwall {\n\tchain prerouting {\n\t\ttype filter hook prerouting priority filter; policy accept;\n\t\ttcp dport 22 accept\n\t}\n}\n")
        .expect("load");
    let before = foreign.ruleset();
    let refused = foreign.apply(&foreign.old, &[]);
    assert_eq!(refused.status.code(), Some(3));
    assert!(
        foreign.message(&stderr(&refused)).ends_with(
            "bmcwall: table inet bmcwall in network namespace NS is not one bmcwall wrote (chain \
         prerouting hooks prerouting, not forward, input or output); nothing changed: --replace-foreign replaces it\n"
        ),
        "{}",
        stderr(&refused)
    );
    assert_eq!(foreign.ruleset(), before);
    let replaced = foreign.apply(&foreign.old, &["--replace-foreign"]);
    assert_eq!(replaced.status.code(), Some(0), "{}", stderr(&replaced));
    assert!(stderr(&replaced).contains("replaced, as --replace-foreign asks"));
    assert_ne!(foreign.ruleset(), before);
}

/// What traffic changes in a table (counts, recorded flows) between a plan
/// and its apply does not make the plan stale: a BMC knocked at, recorded,
/// and the apply that names the plan's fingerprint goes ahead.
#[test]
fn traffic_recorded_since_the_plan_does_not_make_it_stale() {
    if harness::skipped() {
        return;
    }
    let gateway = Gateway::new();
    let seen = plan_json(&gateway, &gateway.new)["live_fingerprint"]
        .as_str()
        .expect("a fingerprint")
        .to_string();
    gateway
        .ns
        .nft(&[
            "add",
            "element",
            "inet",
            "bmcwall",
            "denied_to_bmcs_proto_v4",
            "{ 203.0.113.7 . 10.10.1.11 . icmp counter packets 3 bytes 252 }",
        ])
        .expect("a recorded flow");
    gateway
        .ns
        .nft(&["reset", "counters", "table", "inet", "bmcwall"])
        .expect("counters reset");
    assert_eq!(
        plan_json(&gateway, &gateway.new)["live_fingerprint"],
        seen,
        "the same table"
    );
    let applied = gateway.apply(&gateway.new, &["--expect-live", &seen]);
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
}
