//! The benchmark compares like with like: for policies from
//! `bench/generate.py --aerleon`, Aerleon's nftables output, loaded into a
//! gateway namespace, decides every probe flow as bmcwall's decision table
//! does, and so as bmcwall's own output does (checked in the same lab).
//!
//! Needs Aerleon, so it only runs when asked:
//!
//! ```sh
//! bench/run.sh            # once, creates bench/.venv with the pinned Aerleon
//! sudo BMCWALL_BENCH_EQUIVALENCE=1 cargo test --release --test it bench_equivalence
//! ```
//!
//! `BMCWALL_ACLGEN` names another `aclgen`; `BMCWALL_BENCH_SIZES` (default
//! `100x10 1000x100`) the policies, as BMCSxRULES, and `BMCWALL_BENCH_GEN_ARGS`
//! more `generate.py` options (`--ipv6-share 1 --admin-groups 20`). Probes: every rule's
//! address and service edges and random members (both families), plus the
//! differential tests' probes at atom boundaries and random points. Both
//! sides use today's date, so a rule whose `until` has passed is left out by
//! both.

use crate::harness::random::{self, Rng};
use crate::harness::verify::{self, build, expected_arrivals, render};
use crate::harness::{self, Lab};
use crate::support::fixture;
use bmcwall::addr::IntervalSet;
use bmcwall::analysis::flow::Address;
use bmcwall::analysis::{Family, Flow};
use bmcwall::nft::Layout;
use bmcwall::pipeline::{self, Settings};
use bmcwall::resolve::Policy;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const GATE: &str = "BMCWALL_BENCH_EQUIVALENCE";

fn aclgen() -> PathBuf {
    let path = std::env::var_os("BMCWALL_ACLGEN")
        .map(PathBuf::from)
        .unwrap_or_else(|| fixture("bench/.venv/bin/aclgen"));
    assert!(
        path.exists(),
        "{GATE} is set but there is no aclgen at {}: run bench/run.sh once (it creates \
         bench/.venv with the pinned Aerleon) or set BMCWALL_ACLGEN",
        path.display()
    );
    path
}

fn run(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Edges of the first and last usable intervals and two random members.
fn endpoints<T: Address>(set: &IntervalSet<T>, rng: &mut Rng) -> Vec<u128> {
    let usable = set.difference(&T::special());
    let intervals = usable.intervals();
    let mut out = Vec::new();
    for &(lo, hi) in intervals
        .iter()
        .take(2)
        .chain(intervals.iter().rev().take(1))
    {
        out.extend([lo.widen(), hi.widen()]);
    }
    if !intervals.is_empty() {
        for _ in 0..2 {
            let &(lo, hi) = rng.pick(intervals);
            out.push(rng.between(lo.widen(), hi.widen()));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Flows inside every rule in force: its address edges and random members
/// against each service edge, in both families.
fn rule_probes(policy: &Policy, seed: u64) -> Vec<Flow> {
    let mut rng = Rng::new(seed);
    let mut out = BTreeSet::new();
    for (_, rule) in policy.active_rules() {
        for family in [Family::V4, Family::V6] {
            let (srcs, dsts) = match family {
                Family::V4 => (
                    endpoints(&rule.src.v4, &mut rng),
                    endpoints(&rule.dst.v4, &mut rng),
                ),
                Family::V6 => (
                    endpoints(&rule.src.v6, &mut rng),
                    endpoints(&rule.dst.v6, &mut rng),
                ),
            };
            let services = harness::probe_services(&rule.services, family);
            if srcs.is_empty() || dsts.is_empty() || services.is_empty() {
                continue;
            }
            let n = srcs.len().max(dsts.len()).max(services.len());
            for i in 0..n {
                let (src, dst) = (srcs[i % srcs.len()], dsts[(i * 7 + 3) % dsts.len()]);
                if src != dst {
                    out.insert(Flow {
                        family,
                        src,
                        dst,
                        service: services[i % services.len()],
                    });
                }
            }
        }
    }
    out.into_iter().collect()
}

/// `flush ruleset` first, so each load replaces whatever the gateway held
/// (bmcwall's and Aerleon's tables have different names).
fn flushed(text: &str) -> String {
    format!("flush ruleset\n{text}")
}

fn one_size(lab: &Lab, size: &str, gen_args: &str, aclgen: &Path) -> String {
    let (bmcs, rules) = size
        .split_once('x')
        .unwrap_or_else(|| panic!("size {size} is not BMCSxRULES"));
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("policy");
    run(
        Command::new("python3")
            .arg(fixture("bench/generate.py"))
            .args(["--bmcs", bmcs, "--rules", rules, "--aerleon"])
            .args(gen_args.split_whitespace())
            .arg("--out")
            .arg(&out),
        "bench/generate.py",
    );
    let rendered = dir.path().join("aerleon-out");
    let aerleon = out.join("aerleon");
    run(
        Command::new(aclgen)
            .arg(format!(
                "--base_directory={}",
                aerleon.join("policies").display()
            ))
            .arg(format!(
                "--definitions_directory={}",
                aerleon.join("def").display()
            ))
            .arg(format!(
                "--policy_file={}",
                aerleon.join("policies/pol/policy.pol").display()
            ))
            .arg(format!("--output_directory={}", rendered.display())),
        "aclgen",
    );
    let aerleon_text =
        std::fs::read_to_string(rendered.join("policy.nft")).expect("Aerleon's policy.nft");

    let checked = pipeline::check(
        &out.join("policy.wall"),
        pipeline::today_utc(),
        &Settings::default(),
    );
    assert!(!checked.input_invalid(), "{size}: the policy is not valid");
    let (policy, analysis) = checked.model.as_ref().expect("a model");
    let seed = 0xB3E7;
    let mut probes = rule_probes(policy, seed);
    probes.extend(random::probes(analysis, seed, 400));
    probes.sort_unstable();
    probes.dedup();
    let expected = expected_arrivals(policy, analysis, &probes);
    assert!(
        expected.len() * 10 >= probes.len(),
        "{size}: too few allowed probes ({} of {})",
        expected.len(),
        probes.len()
    );

    let forms = [
        (
            "bmcwall --layout sets",
            render(&build(&checked, Layout::Sets), false),
        ),
        (
            "bmcwall --layout rules",
            render(&build(&checked, Layout::Rules), false),
        ),
        ("Aerleon", aerleon_text),
    ];
    for (name, text) in &forms {
        if let Err(mismatch) =
            verify::verify(lab, dir.path(), &flushed(text), false, &probes, &expected)
        {
            panic!(
                "{size}: {name} and bmcwall's decision table disagree ({} probes):\n{}",
                probes.len(),
                mismatch.describe(policy, analysis)
            );
        }
    }
    format!(
        "{size} {gen_args}: {} probes ({} allowed), decided alike by both bmcwall layouts and Aerleon",
        probes.len(),
        expected.len()
    )
}

#[test]
fn aerleon_and_bmcwall_decide_generated_policies_alike() {
    if std::env::var_os(GATE).is_none() {
        eprintln!(
            "skipped: set {GATE}=1 to compare Aerleon's output with bmcwall's in network \
             namespaces (needs root, nft, ip, python3 and Aerleon: bench/run.sh installs it \
             into bench/.venv)"
        );
        return;
    }
    harness::require_kernel();
    let aclgen = aclgen();
    let sizes =
        std::env::var("BMCWALL_BENCH_SIZES").unwrap_or_else(|_| "100x10 1000x100".to_string());
    let gen_args = std::env::var("BMCWALL_BENCH_GEN_ARGS").unwrap_or_default();
    let lab = Lab::new();
    for size in sizes.split_whitespace() {
        let report = one_size(&lab, size, &gen_args, &aclgen);
        eprintln!("{report}");
    }
}
