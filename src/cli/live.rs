//! The live ruleset: running `nft` (in a named network namespace if asked) to
//! read, check, load and restore bmcwall's table, and nothing else.

use std::io::Write;
use std::process::{Command, Stdio};

/// How to run nft: which binary (`BMCWALL_NFT`, default `nft` on the PATH)
/// and in which network namespace (`ip netns exec NAME`).
pub struct Nft {
    program: String,
    netns: Option<String>,
}

/// The live table saved before a change: its listing, or its absence.
pub enum Saved {
    Absent,
    /// `nft list table` (text), which loads back as it was.
    Present(String),
}

impl Nft {
    pub fn new(netns: Option<String>) -> Nft {
        Nft {
            program: std::env::var("BMCWALL_NFT").unwrap_or_else(|_| "nft".into()),
            netns,
        }
    }

    /// Where the commands run, for messages.
    pub fn place(&self) -> String {
        match &self.netns {
            Some(ns) => format!("network namespace {ns}"),
            None => "this host".into(),
        }
    }

    /// Runs nft with `args`, `input` on its standard input; `Err` holds what
    /// nft (or the attempt to start it) said.
    fn run(&self, args: &[&str], input: Option<&str>) -> Result<String, String> {
        let mut command = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, &self.program]);
                c
            }
            None => Command::new(&self.program),
        };
        command
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let shown = format!("{} {}", self.program, args.join(" "));
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
        if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin
                .write_all(text.as_bytes())
                .map_err(|e| format!("cannot feed `{shown}`: {e}"))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| format!("`{shown}`: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
        }
    }

    /// Lists table `inet NAME` (`nft -j -p list table` with `json`, else the
    /// text form); `None` when there is no such table.
    pub fn list(&self, table: &str, json: bool) -> Result<Option<String>, String> {
        let args: &[&str] = if json {
            &["-j", "-p", "list", "table", "inet", table]
        } else {
            &["list", "table", "inet", table]
        };
        match self.run(args, None) {
            Ok(listing) => Ok(Some(listing)),
            // nft's own answer for a missing table (not `ip`'s for a missing
            // namespace, which also says "No such file or directory").
            Err(error) if error.starts_with("Error: No such file or directory") => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// `nft -c -f -`: would the kernel take this ruleset?
    pub fn check(&self, ruleset: &str) -> Result<(), String> {
        self.run(&["-c", "-f", "-"], Some(ruleset)).map(|_| ())
    }

    /// `nft -f -`: one transaction, all or nothing.
    pub fn load(&self, ruleset: &str) -> Result<(), String> {
        self.run(&["-f", "-"], Some(ruleset)).map(|_| ())
    }
}

/// The text that puts table `inet NAME` back as `saved` had it (or removes
/// it, if there was none), in one transaction.
pub fn restore_text(table: &str, saved: &Saved) -> String {
    let mut out = format!("table inet {table} {{}}\ndelete table inet {table}\n");
    if let Saved::Present(text) = saved {
        out.push_str(text);
    }
    out
}
