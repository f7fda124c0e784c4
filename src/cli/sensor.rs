//! What `usage` and `audit` share: the live tables they read (from nft on
//! the gateway, a saved `nft -j list table`, or every gateway's saved table
//! with `--all`), each checked against the policy it must come from, and the
//! state that keeps counts and first-seen times across runs and reloads.

use super::args::SensorArgs;
use super::{live, Exit};
use crate::nft::{self, Ruleset};
use crate::resolve::Policy;
use crate::source::SourceMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

/// One live table, read and checked.
pub(super) struct Table {
    /// The gateway it is the table of, when the policy declares gateways.
    pub gateway: Option<String>,
    /// Where it was read, for messages.
    pub place: String,
    pub ruleset: Ruleset,
}

/// Says `what` on stderr and returns exit 3: the table could not be read,
/// or is not this policy's.
pub(super) fn refused(what: &str) -> Exit {
    let _ = writeln!(std::io::stderr(), "bmcwall: {what}");
    Exit::Refused
}

/// The tables `args` name: the one on the gateway or in `--live FILE`
/// (`--gateway NAME` picks the gateway whose policy it is), or with `--all`
/// every gateway's `DIR/NAME.json`. Each must name the policy's digest.
pub(super) fn tables(
    args: &SensorArgs,
    policy: &Policy,
    sources: &SourceMap,
) -> Result<Vec<Table>, Exit> {
    let table = &args.live.table;
    if args.all {
        if policy.gateways.is_empty() {
            return Err(refused(
                "--all: the policy declares no gateway (read its one table with --live FILE)",
            ));
        }
        let dir = args
            .listing
            .as_deref()
            .expect("clap requires --live with --all");
        return policy
            .gateways
            .iter()
            .map(|gateway| {
                let file = dir.join(format!("{}.json", gateway.name));
                let listing = saved(&file)?;
                let place = file.display().to_string();
                let ruleset = checked(&listing, table, &place, sources, &args.policy)?;
                Ok(Table {
                    gateway: Some(gateway.name.clone()),
                    place,
                    ruleset,
                })
            })
            .collect();
    }
    let gateway = match super::fleet::one_gateway(policy, args.gateway.as_deref()) {
        Ok(gateway) => gateway.map(|index| policy.gateways[index].name.clone()),
        Err(message) => return Err(refused(&message)),
    };
    let (listing, place) = match &args.listing {
        Some(file) => (saved(file)?, file.display().to_string()),
        None => {
            let runner = live::Nft::new(args.live.netns.clone());
            let place = runner.place();
            match runner.list(table, true) {
                Ok(Some(listing)) => (listing, place),
                Ok(None) => {
                    return Err(refused(&format!(
                        "there is no table inet {table} in {place}"
                    )))
                }
                Err(error) => {
                    return Err(refused(&format!(
                        "cannot read table inet {table} in {place}: {error}"
                    )))
                }
            }
        }
    };
    let ruleset = checked(&listing, table, &place, sources, &args.policy)?;
    Ok(vec![Table {
        gateway,
        place,
        ruleset,
    }])
}

/// A saved listing, as `plan` reads one; exit 3 when it cannot be read or
/// is empty (there was no table).
fn saved(file: &Path) -> Result<String, Exit> {
    match super::fleet::Live::saved(file) {
        Ok(live) => live.listing.ok_or_else(|| {
            refused(&format!(
                "{} is empty: there was no table when it was saved",
                file.display()
            ))
        }),
        Err(message) => Err(refused(&message)),
    }
}

/// The table of `listing`, if it names the digest of the policy in
/// `sources` (exit 3 otherwise, naming the policy it came from).
fn checked(
    listing: &str,
    table: &str,
    place: &str,
    sources: &SourceMap,
    policy: &Path,
) -> Result<Ruleset, Exit> {
    let ruleset = nft::parse::listing(listing, table).map_err(|error| {
        refused(&format!(
            "table inet {table} in {place} is not one bmcwall can read: {error}"
        ))
    })?;
    let ours = sources.digest();
    let Some(theirs) = nft::policy_digest(&ruleset) else {
        return Err(refused(&format!(
            "table inet {table} in {place} does not name the policy it was compiled from: \
             compile and apply it with this bmcwall"
        )));
    };
    if theirs != ours {
        return Err(refused(&format!(
            "table inet {table} in {place} was compiled from policy {theirs}, not from {} \
             ({ours}): its counters are not this policy's rules",
            policy.display()
        )));
    }
    Ok(ruleset)
}

/// How long a flow the kernel no longer holds stays in the state: a month
/// after it was last seen.
const STATE_KEEPS_SECONDS: i64 = 30 * 86_400;

/// What `--state FILE` keeps, per table (`gateway NAME` or `table NAME`).
#[derive(Default, Serialize, Deserialize)]
pub(super) struct State {
    version: u32,
    tables: BTreeMap<String, TableState>,
    /// Where it is kept.
    #[serde(skip)]
    file: std::path::PathBuf,
}

#[derive(Default, Serialize, Deserialize)]
pub(super) struct TableState {
    /// When this state began (the first run that read the table).
    pub first_run: i64,
    /// Per counter name.
    pub counters: BTreeMap<String, Kept>,
    /// Per recorded flow ([`flow_key`]).
    pub flows: BTreeMap<String, Kept>,
}

/// One count kept across runs: what the kernel had at the last run, and
/// what earlier lives of the counter or element (before a reload or an
/// expiry reset it) counted.
#[derive(Clone, Default, Serialize, Deserialize)]
pub(super) struct Kept {
    pub first_seen: i64,
    pub last_seen: i64,
    /// When the live count started, as the table said at the last run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_since: Option<i64>,
    pub live_packets: u64,
    pub live_bytes: u64,
    pub earlier_packets: u64,
    pub earlier_bytes: u64,
}

impl Kept {
    /// Takes the kernel's count at `now`: a count lower than the last one,
    /// or one that started at another time, is a new life (a reload, an
    /// element that expired and came back), and the last one is kept as
    /// earlier. Returns the totals.
    pub fn take(&mut self, packets: u64, bytes: u64, since: Option<i64>, now: i64) -> (u64, u64) {
        let restarted = packets < self.live_packets
            || bytes < self.live_bytes
            || (since.is_some() && self.live_since.is_some() && since != self.live_since);
        if restarted {
            self.earlier_packets += self.live_packets;
            self.earlier_bytes += self.live_bytes;
        }
        if packets > 0 && (restarted || packets > self.live_packets) {
            self.last_seen = now;
        }
        self.live_packets = packets;
        self.live_bytes = bytes;
        self.live_since = since;
        self.totals()
    }

    pub fn totals(&self) -> (u64, u64) {
        (
            self.earlier_packets + self.live_packets,
            self.earlier_bytes + self.live_bytes,
        )
    }
}

/// The state of `--state FILE`, read (an absent file is an empty state);
/// `None` without `--state`.
pub(super) fn read_state(file: Option<&Path>) -> Result<Option<State>, Exit> {
    let Some(file) = file else { return Ok(None) };
    let mut state: State = match std::fs::read_to_string(file) {
        Ok(text) => serde_json::from_str(&text).map_err(|error| {
            refused(&format!(
                "{} is not a bmcwall state file: {error}",
                file.display()
            ))
        })?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => State::default(),
        Err(error) => return Err(refused(&format!("cannot read {}: {error}", file.display()))),
    };
    state.file = file.to_path_buf();
    Ok(Some(state))
}

impl State {
    /// The state of `table`, begun now when new.
    pub fn table(&mut self, table: &Table, name: &str, now: i64) -> &mut TableState {
        let key = match &table.gateway {
            Some(gateway) => format!("gateway {gateway}"),
            None => format!("table {name}"),
        };
        self.tables.entry(key).or_insert_with(|| TableState {
            first_run: now,
            ..TableState::default()
        })
    }

    /// Writes the state to `file` (replaced whole), dropping flows not seen
    /// for [`STATE_KEEPS_SECONDS`].
    pub fn write(mut self, now: i64) -> Result<(), Exit> {
        self.version = 1;
        for table in self.tables.values_mut() {
            table
                .flows
                .retain(|_, kept| now - kept.last_seen <= STATE_KEEPS_SECONDS);
        }
        let text = serde_json::to_string_pretty(&self).map_err(|e| super::unwritten(&e))? + "\n";
        super::write::output(&self.file, text.as_bytes()).map_err(|e| super::unwritten(&e))
    }
}

/// The state's key of a recorded flow: its set and its fields as nft writes
/// them.
pub(super) fn flow_key(set: &str, fields: &[nft::Field]) -> String {
    let fields: Vec<String> = fields.iter().map(|f| nft::text::field_text(*f)).collect();
    format!("{set} {}", fields.join(" . "))
}
