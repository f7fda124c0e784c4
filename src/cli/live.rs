//! The live ruleset: running `nft` (in a named network namespace if asked) to
//! read, load and restore bmcwall's table, and nothing else.

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Why running nft failed.
#[derive(Debug)]
pub enum LiveError {
    /// The command could not be started.
    Start {
        command: String,
        error: std::io::Error,
    },
    /// Its standard input could not be written.
    Feed {
        command: String,
        error: std::io::Error,
    },
    /// Waiting for it failed.
    Wait {
        command: String,
        error: std::io::Error,
    },
    /// It failed; what it said on standard error.
    Refused(String),
    /// The named network namespace does not exist.
    NoNamespace(String),
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveError::Start { command, error } => write!(f, "cannot run `{command}`: {error}"),
            LiveError::Feed { command, error } => write!(f, "cannot feed `{command}`: {error}"),
            LiveError::Wait { command, error } => write!(f, "`{command}`: {error}"),
            LiveError::Refused(said) => f.write_str(said),
            LiveError::NoNamespace(ns) => write!(
                f,
                "network namespace {ns} does not exist (`ip netns list` shows those that do)"
            ),
        }
    }
}

impl std::error::Error for LiveError {}

/// Where `ip netns` keeps the named network namespaces.
const NETNS_DIR: &str = "/var/run/netns";

/// How nft answers for a missing table (a missing namespace is found before
/// nft runs, by [`Nft::reachable`]).
const NO_SUCH_TABLE: &str = "Error: No such file or directory";

/// The fingerprint of a stateless listing, `None` for no table.
pub fn fingerprint_of(listing: Option<&str>) -> String {
    use sha2::{Digest, Sha256};
    match listing {
        None => "absent".into(),
        Some(text) => {
            let digest = Sha256::digest(text.as_bytes());
            format!("sha256:{}", crate::source::hex(&digest))
        }
    }
}

/// What a table is, as one word: `sha256:` and the SHA-256 of its `nft -j
/// list table` listing without what traffic changes (counter values, the
/// elements of the recording sets), or `absent` for none. The same table
/// gives the same fingerprint however many packets it counted or flows it
/// recorded; any change to its chains, rules, sets, maps or counter objects
/// gives another.
pub fn fingerprint_of_listing(listing: Option<&str>) -> String {
    let Some(text) = listing else {
        return fingerprint_of(None);
    };
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(text) else {
        return fingerprint_of(Some(text));
    };
    let objects = value.get_mut("nftables").and_then(|o| o.as_array_mut());
    for object in objects.into_iter().flatten() {
        if let Some(counter) = object.get_mut("counter").and_then(|c| c.as_object_mut()) {
            counter.remove("packets");
            counter.remove("bytes");
        }
        for kind in ["set", "map"] {
            let Some(set) = object.get_mut(kind).and_then(|s| s.as_object_mut()) else {
                continue;
            };
            let filled = set["flags"]
                .as_array()
                .is_some_and(|flags| flags.iter().any(|f| f == "timeout" || f == "dynamic"));
            if filled {
                set.remove("elem");
            }
        }
        let exprs = object
            .get_mut("rule")
            .and_then(|r| r.get_mut("expr"))
            .and_then(|e| e.as_array_mut());
        for expr in exprs.into_iter().flatten() {
            if let Some(counter) = expr.get_mut("counter").filter(|c| c.is_object()) {
                if counter.get("name").is_none() {
                    *counter = serde_json::Value::Null;
                }
            }
        }
    }
    fingerprint_of(Some(&value.to_string()))
}

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

impl Saved {
    /// The saved listing, `None` when there was no table.
    pub fn listing(&self) -> Option<&str> {
        match self {
            Saved::Absent => None,
            Saved::Present(text) => Some(text),
        }
    }
}

impl Nft {
    pub fn new(netns: Option<String>) -> Nft {
        Nft {
            program: std::env::var("BMCWALL_NFT").unwrap_or_else(|_| "nft".into()),
            netns,
        }
    }

    /// The network namespace, if there is one.
    pub fn netns(&self) -> Option<&str> {
        self.netns.as_deref()
    }

    /// Where the commands run, for messages.
    pub fn place(&self) -> String {
        match &self.netns {
            Some(ns) => format!("network namespace {ns}"),
            None => "this host".into(),
        }
    }

    /// The gateway exists: the named network namespace is there (`ip netns`
    /// keeps them in /var/run/netns); this host always is.
    pub fn reachable(&self) -> Result<(), LiveError> {
        match &self.netns {
            Some(ns) if !Path::new(NETNS_DIR).join(ns).exists() => {
                Err(LiveError::NoNamespace(ns.clone()))
            }
            _ => Ok(()),
        }
    }

    /// `program` to run on the gateway: inside the network namespace when
    /// there is one.
    pub fn on_gateway(&self, program: &str) -> Command {
        match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, program]);
                c
            }
            None => Command::new(program),
        }
    }

    /// Runs nft with `args`, `input` on its standard input; `Err` holds what
    /// nft (or the attempt to start it) said.
    fn run(&self, args: &[&str], input: Option<&str>) -> Result<String, LiveError> {
        self.reachable()?;
        let mut command = self.on_gateway(&self.program);
        // Listings write `meta time` as a date in the time zone nft runs in;
        // UTC makes them the instants bmcwall compiled.
        command
            .env("TZ", "UTC")
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let shown = format!("{} {}", self.program, args.join(" "));
        let mut child = command.spawn().map_err(|error| LiveError::Start {
            command: shown.clone(),
            error,
        })?;
        if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin
                .write_all(text.as_bytes())
                .map_err(|error| LiveError::Feed {
                    command: shown.clone(),
                    error,
                })?;
        }
        let output = child.wait_with_output().map_err(|error| LiveError::Wait {
            command: shown.clone(),
            error,
        })?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(LiveError::Refused(
                String::from_utf8_lossy(&output.stderr).trim().to_string(),
            ))
        }
    }

    /// Lists table `inet NAME` (`nft -j -p list table` with `json`, else the
    /// text form); `None` when there is no such table.
    pub fn list(&self, table: &str, json: bool) -> Result<Option<String>, LiveError> {
        let args: &[&str] = if json {
            &["-j", "-p", "list", "table", "inet", table]
        } else {
            &["list", "table", "inet", table]
        };
        match self.run(args, None) {
            Ok(listing) => Ok(Some(listing)),
            Err(LiveError::Refused(said)) if said.starts_with(NO_SUCH_TABLE) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// `nft -f FILE`: one transaction, all or nothing. Loaded from a file
    /// written in full beforehand, never from a pipe: nft that is fed by a
    /// process killed halfway would load the half it got.
    pub fn load(&self, ruleset: &Path) -> Result<(), LiveError> {
        let path = ruleset.to_string_lossy();
        self.run(&["-f", &path], None).map(|_| ())
    }

    /// What table `inet NAME` is now, as one word ([`fingerprint_of_listing`]
    /// of its `nft -j list table`), or `absent`.
    pub fn fingerprint(&self, table: &str) -> Result<String, LiveError> {
        Ok(fingerprint_of_listing(self.list(table, true)?.as_deref()))
    }
}
