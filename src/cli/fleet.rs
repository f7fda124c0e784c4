//! Tables per gateway: `compile --gateway NAME` and `compile --all -o DIR`
//! (with `DIR/manifest.json`), and the table `plan` and `apply` compare or
//! load for one gateway. A policy without `gateway` has one table, built
//! from the policy's own analysis as it always was; a gateway's table is
//! built from its own policy ([`Policy::for_gateway`]) and analysis. Pair
//! members share their peer's table.

use crate::analysis::Analysis;
use crate::diagnostic::Lowered;
use crate::nft::{self, Layout, Ruleset};
use crate::resolve::Policy;
use crate::source::SourceMap;
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;

/// What to build: which gateway (or all), and how.
pub(crate) struct Request<'a> {
    pub gateway: Option<&'a str>,
    pub all: bool,
    pub layout: Layout,
    pub table: &'a str,
    pub options: nft::Options,
    pub json: bool,
    pub lowered: &'a [Lowered],
}

/// One gateway's table (or the one table of a policy without gateways).
pub(crate) struct Table {
    /// The gateway, `None` for a policy without gateways.
    pub gateway: Option<usize>,
    pub text: String,
    pub rules: usize,
    pub elements: usize,
}

/// The gateway named `name`, or an error that lists the gateways.
pub(crate) fn gateway_index(policy: &Policy, name: &str) -> Result<usize, String> {
    if policy.gateways.is_empty() {
        return Err(format!(
            "--gateway {name}: the policy declares no gateway (it has one table: leave out --gateway)"
        ));
    }
    policy.gateway_named(name).ok_or_else(|| {
        let names: Vec<&str> = policy.gateways.iter().map(|g| g.name.as_str()).collect();
        let mut message = format!("the policy declares no gateway `{name}`");
        if let Some(close) = crate::diagnostic::closest(name, names.iter().copied()) {
            let _ = write!(message, " (did you mean `{close}`?)");
        }
        let _ = write!(message, "; its gateways: {}", names.join(", "));
        message
    })
}

/// The gateway a command that handles one table acts on: `None` for a
/// policy without gateways; an error when the policy has gateways and none
/// is named.
pub(crate) fn one_gateway(policy: &Policy, name: Option<&str>) -> Result<Option<usize>, String> {
    match name {
        Some(name) => gateway_index(policy, name).map(Some),
        None if policy.gateways.is_empty() => Ok(None),
        None => {
            let names: Vec<&str> = policy.gateways.iter().map(|g| g.name.as_str()).collect();
            Err(format!(
                "the policy declares gateways ({}): name one with --gateway NAME",
                names.join(", ")
            ))
        }
    }
}

/// The tables `request` asks for, in gateway order.
pub(crate) fn build(
    policy: &Policy,
    analysis: &Analysis,
    sources: &SourceMap,
    request: &Request<'_>,
) -> Result<Vec<Table>, String> {
    if !request.all {
        let gateway = one_gateway(policy, request.gateway).map_err(|m| {
            if policy.gateways.is_empty() || request.gateway.is_some() {
                m
            } else {
                format!("{m}, or all of them with --all -o DIR")
            }
        })?;
        return Ok(vec![table(policy, analysis, sources, gateway, request)?]);
    }
    if policy.gateways.is_empty() {
        return Err("--all: the policy declares no gateway (it has one table: use -o FILE)".into());
    }
    // Each target's table once, on as many threads as there are cores (the
    // order of the results is the gateways', whatever thread built them).
    let targets: Vec<usize> = (0..policy.gateways.len())
        .filter(|&index| policy.target_of(index) == index)
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(targets.len())
        .max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut built: Vec<(usize, Result<Table, String>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&target) = targets.get(at) else {
                            return done;
                        };
                        done.push((
                            target,
                            table(policy, analysis, sources, Some(target), request),
                        ));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a table builder does not panic"))
            .collect()
    });
    built.sort_by_key(|(target, _)| *target);
    let mut own: Vec<(usize, Table)> = Vec::with_capacity(built.len());
    for (target, table) in built {
        own.push((target, table?));
    }
    Ok((0..policy.gateways.len())
        .map(|index| {
            let target = policy.target_of(index);
            let (_, shared) = own
                .iter()
                .find(|(t, _)| *t == target)
                .expect("every target's table is built");
            Table {
                gateway: Some(index),
                text: shared.text.clone(),
                rules: shared.rules,
                elements: shared.elements,
            }
        })
        .collect())
}

/// The table of `gateway` (of the whole policy when `None`).
fn table(
    policy: &Policy,
    analysis: &Analysis,
    sources: &SourceMap,
    gateway: Option<usize>,
    request: &Request<'_>,
) -> Result<Table, String> {
    let ruleset = ruleset(
        policy,
        analysis,
        sources,
        gateway,
        request.layout,
        request.table,
        &request.options,
    );
    let text = if request.json {
        nft::json::render(&ruleset).map_err(|e| e.to_string())?
    } else {
        let mut header = nft::text::header(sources, policy, request.lowered);
        if let Some(index) = gateway {
            header.push_str(&nft::text::gateway_header(policy, index));
        }
        nft::text::render(&ruleset, &header)
    };
    Ok(Table {
        gateway,
        text,
        rules: ruleset.chains.iter().map(|c| c.rules.len()).sum(),
        elements: ruleset.sets.iter().map(|s| s.elements.len()).sum(),
    })
}

/// What gateway `index`'s table is built from: its own policy
/// ([`Policy::for_gateway`]) and that policy's decision table.
pub(crate) fn own(policy: &Policy, index: usize) -> (Policy, Analysis) {
    let own = policy.for_gateway(index);
    let analysis = Analysis::new(&own);
    (own, analysis)
}

/// The ruleset of `gateway`'s table (of the whole policy when `None`).
pub(crate) fn ruleset(
    policy: &Policy,
    analysis: &Analysis,
    sources: &SourceMap,
    gateway: Option<usize>,
    layout: Layout,
    table: &str,
    options: &nft::Options,
) -> Ruleset {
    match gateway {
        None => nft::build_with(
            layout,
            nft::Input {
                policy,
                analysis,
                sources,
            },
            table,
            options,
        ),
        Some(index) => {
            let (own, own_analysis) = own(policy, index);
            nft::build_with(
                layout,
                nft::Input {
                    policy: &own,
                    analysis: &own_analysis,
                    sources,
                },
                table,
                options,
            )
        }
    }
}

/// How many inventory BMCs have an address the table of gateway `index`
/// governs.
pub(crate) fn bmcs_governed(policy: &Policy, index: usize) -> usize {
    let governed = policy.governed_by(index);
    policy
        .inventory
        .iter()
        .filter(|entry| entry.addresses.intersects(&governed))
        .count()
}

/// The words of a gateway's mode: `forward`, `host` or both.
pub(crate) fn mode_words(policy: &Policy, index: usize) -> Vec<&'static str> {
    policy.gateways[policy.target_of(index)].enforcement.words()
}

/// Writes every table to `DIR/NAME.nft` (or `.json`) and `DIR/manifest.json`.
/// The tables are all built before the first file is written; files of
/// gateways the previous manifest listed that are gone are removed.
pub(crate) fn write_all(
    dir: &Path,
    policy: &Policy,
    sources: &SourceMap,
    tables: &[Table],
    json: bool,
) -> Result<(), String> {
    use sha2::{Digest, Sha256};
    let hex = |bytes: &[u8]| crate::source::hex(&Sha256::digest(bytes));
    if !dir.is_dir() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create directory {}: {e}", dir.display()))?;
    }
    let extension = if json { "json" } else { "nft" };
    let manifest_path = dir.join("manifest.json");
    let previous: Vec<String> = std::fs::read_to_string(&manifest_path)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|m| {
            m["gateways"].as_array().map(|gateways| {
                gateways
                    .iter()
                    .filter_map(|g| g["file"].as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default();
    let mut entries = Vec::new();
    let mut written = Vec::new();
    for table in tables {
        let index = table.gateway.expect("--all builds gateways' tables");
        let gateway = &policy.gateways[index];
        let file = format!("{}.{extension}", gateway.name);
        let target = policy.target_of(index);
        entries.push(json!({
            "gateway": gateway.name,
            "table_of": policy.gateways[target].name,
            "members": policy.members_of(target).map(|i| policy.gateways[i].name.clone()).collect::<Vec<_>>(),
            "mode": mode_words(policy, index),
            "addresses": nft::text::addresses(&gateway.addrs),
            "file": file,
            "sha256": hex(table.text.as_bytes()),
            "rules": table.rules,
            "elements": table.elements,
            "bmcs": bmcs_governed(policy, index),
        }));
        written.push((file, table.text.as_bytes()));
    }
    let files: Vec<serde_json::Value> = sources
        .files()
        .map(
            |(_, file)| json!({ "path": file.display_path(), "sha256": hex(file.text.as_bytes()) }),
        )
        .collect();
    let manifest = json!({
        "bmcwall": env!("CARGO_PKG_VERSION"),
        "policy": sources.file(crate::source::FileId(0)).display_path(),
        "sources": files,
        "gateways": entries,
    });
    let manifest = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())? + "\n";
    for (file, bytes) in &written {
        super::write::output(&dir.join(file), bytes).map_err(|e| e.to_string())?;
    }
    super::write::output(&manifest_path, manifest.as_bytes()).map_err(|e| e.to_string())?;
    for stale in previous {
        let gone = !written.iter().any(|(file, _)| *file == stale);
        // Only names a manifest of ours could have written, never a path.
        if gone && !stale.contains('/') && stale != "manifest.json" {
            let _ = std::fs::remove_file(dir.join(stale));
        }
    }
    Ok(())
}

/// A live table as `plan` reads it: from nft on the gateway, or from a
/// listing a pipeline saved (`nft -j list table inet NAME`).
pub(crate) struct Live {
    /// Where it was read, for messages.
    pub place: String,
    /// Its `nft -j` listing; `None` when there is no table.
    pub listing: Option<String>,
    /// Its fingerprint for `apply --expect-live`, when read from nft.
    pub fingerprint: Option<String>,
}

impl Live {
    /// Reads table `inet NAME` with nft, and its fingerprint from the same
    /// listing: were the table to change after the plan, the apply that
    /// names this fingerprint refuses rather than acting on a stale plan.
    pub fn read(runner: &super::live::Nft, table: &str) -> Result<Live, String> {
        let place = runner.place();
        runner.reachable().map_err(|e| e.to_string())?;
        let unreadable = |error: super::live::LiveError| {
            format!("cannot read table inet {table} in {place}: {error}")
        };
        // One read: the listing and its fingerprint are of the same table.
        let listing = runner.list(table, true).map_err(unreadable)?;
        Ok(Live {
            place,
            fingerprint: Some(super::live::fingerprint_of_listing(listing.as_deref())),
            listing,
        })
    }

    /// Reads a saved listing; an empty file means there is no table (what
    /// `nft -j list table` writes to standard output when there is none).
    pub fn saved(file: &Path) -> Result<Live, String> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read the saved live table {}: {e}", file.display()))?;
        Ok(Live {
            place: file.display().to_string(),
            listing: (!text.trim().is_empty()).then_some(text),
            fingerprint: None,
        })
    }

    /// What replacing it with the table compiled from `input` changes, both
    /// as they stand on `today`. A live table that names the same policy is
    /// first compared with the table `apply` would load (its default layout
    /// and options): when it is exactly that table, nothing changes, and it
    /// is not interpreted.
    pub fn compare(
        &self,
        table: &str,
        input: nft::Input<'_>,
        today: crate::model::Date,
    ) -> Result<Vec<crate::analysis::compare::Change>, String> {
        let fail = |error: nft::CompareError| {
            format!(
                "table inet {table} in {} is not one bmcwall can compare: {error}",
                self.place
            )
        };
        let live = match self.listing.as_deref() {
            Some(listing) => Some(nft::read_listing(listing, table).map_err(fail)?),
            None => None,
        };
        let expected = live
            .as_ref()
            .filter(|live| nft::names_policy(live, input.sources))
            .map(|_| nft::build(Layout::Sets, input, table));
        let compiled = crate::analysis::compare::Compiled::of(input.policy, input.analysis);
        nft::compare_live(
            live.as_ref(),
            &compiled,
            expected.as_ref(),
            today.start_second(),
        )
        .map_err(fail)
    }
}

/// `plan --all --live DIR`: every gateway against `DIR/NAME.json`, a
/// summary line each (and its changes); exit 1 if any drifts, 3 if a live
/// table could not be read or compared.
pub(crate) fn plan_all(
    args: &super::PlanArgs,
    sources: &SourceMap,
    policy: &Policy,
) -> super::Exit {
    use super::Exit;
    let say = |message: &str| {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("bmcwall: {message}\n").as_bytes(),
        );
    };
    if policy.gateways.is_empty() {
        say("--all: the policy declares no gateway (plan its one table with --live FILE)");
        return Exit::Invalid;
    }
    let dir = args
        .saved
        .as_deref()
        .expect("clap requires --live with --all");
    let table = &args.live.table;
    let mut exit = Exit::Success;
    let mut out = String::new();
    let mut summary = Vec::new();
    let mut documents = Vec::new();
    let mut own: Option<(usize, Policy, Analysis)> = None;
    for index in 0..policy.gateways.len() {
        let name = &policy.gateways[index].name;
        let target = policy.target_of(index);
        if own.as_ref().is_none_or(|(t, _, _)| *t != target) {
            let (gateway_policy, gateway_analysis) = self::own(policy, target);
            own = Some((target, gateway_policy, gateway_analysis));
        }
        let (_, gateway_policy, gateway_analysis) = own.as_ref().expect("built above");
        let input = nft::Input {
            policy: gateway_policy,
            analysis: gateway_analysis,
            sources,
        };
        let file = dir.join(format!("{name}.json"));
        let compared = Live::saved(&file).and_then(|live| {
            let changes = live.compare(table, input, args.common.today())?;
            Ok((live, changes))
        });
        let (live, changes) = match compared {
            Ok(compared) => compared,
            Err(message) => {
                summary.push(format!("{name}: {message}"));
                documents.push(
                    json!({"gateway": name, "file": file.display().to_string(), "error": message}),
                );
                exit = exit.max(Exit::Refused);
                continue;
            }
        };
        let present = live.listing.is_some();
        let (added, removed, other) = super::plan::counts(&changes);
        let line = if !present {
            exit = exit.max(Exit::Findings);
            format!("{name}: no table (everything is new)")
        } else if changes.is_empty() {
            format!("{name}: no changes")
        } else {
            exit = exit.max(Exit::Findings);
            format!("{name}: {added} newly allowed, {removed} no longer allowed, {other} other")
        };
        summary.push(line);
        if present && changes.is_empty() {
            documents.push(json!({"gateway": name, "file": file.display().to_string(), "live": "present", "changes": [], "summary": {"newly_allowed": 0, "no_longer_allowed": 0, "other": 0}}));
            continue;
        }
        let title = format!("gateway {name}: table inet {table} in {}", live.place);
        out.push_str(&super::plan::human(
            &changes,
            gateway_policy,
            sources,
            &title,
            present,
        ));
        out.push('\n');
        documents.push(json!({
            "gateway": name,
            "file": file.display().to_string(),
            "live": if present { "present" } else { "absent" },
            "changes": super::plan::changes_json(&changes, gateway_policy, sources),
            "summary": {"newly_allowed": added, "no_longer_allowed": removed, "other": other},
        }));
    }
    let text = match args.format {
        super::PlanFormat::Human => {
            out.push_str(&format!("{} gateways:\n", policy.gateways.len()));
            for line in &summary {
                out.push_str("  ");
                out.push_str(line);
                out.push('\n');
            }
            crate::source::for_people(out)
        }
        super::PlanFormat::Json => {
            let document = json!({"version": 1, "table": table, "gateways": documents});
            match super::plan::json_text(&document) {
                Ok(text) => text,
                Err(error) => {
                    say(&format!("cannot write the plan as JSON: {error}"));
                    return Exit::Refused;
                }
            }
        }
    };
    if let Err(code) = super::printed(&text) {
        return code;
    }
    exit
}
