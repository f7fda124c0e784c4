//! Criterion benchmarks of the hot paths of `compile`, on policies from
//! `bench/generate.py` (needs python3): resolving the policy and its
//! inventories, building the decision table, building and rendering the
//! `sets` layout, and `plan`'s comparison of a table with the policy.
//!
//! ```sh
//! cargo bench --bench hot_paths
//! BMCWALL_BENCH_SIZES="1000x100" cargo bench --bench hot_paths -- resolve
//! ```
//!
//! `BMCWALL_BENCH_SIZES` (BMCSxRULES, default `1000x100 10000x1000`) picks
//! the policies; they are generated into a temporary directory with seed 1.

use bmcwall::analysis::Analysis;
use bmcwall::model::Date;
use bmcwall::nft::{self, Layout};
use bmcwall::resolve::{self, Options, Policy};
use bmcwall::source::SourceMap;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn options() -> Options {
    Options::new(Date::parse("2026-11-21").expect("date"))
}

mod support;

/// Writes the policy of `size` (BMCSxRULES) into `dir`; returns its path.
fn generate(dir: &Path, size: &str) -> PathBuf {
    let (bmcs, rules) = size
        .split_once('x')
        .unwrap_or_else(|| panic!("size {size} is not BMCSxRULES"));
    support::generate(dir, bmcs, rules)
}

fn load(path: &Path) -> (Policy, SourceMap) {
    let mut sources = SourceMap::default();
    let (policy, diagnostics) = resolve::load(path, &mut sources, &options());
    assert!(
        diagnostics.iter().all(|d| !d.code.is_input_error()),
        "the generated policy does not resolve"
    );
    (policy, sources)
}

fn hot_paths(c: &mut Criterion) {
    let sizes =
        std::env::var("BMCWALL_BENCH_SIZES").unwrap_or_else(|_| "1000x100 10000x1000".to_string());
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("compile");
    // The large policies take up to a second per iteration.
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    for size in sizes.split_whitespace() {
        let path = generate(dir.path(), size);
        let (policy, sources) = load(&path);
        let analysis = Analysis::new(&policy);
        let input = || nft::Input {
            policy: &policy,
            analysis: &analysis,
            sources: &sources,
        };
        let ruleset = nft::build(Layout::Sets, input(), nft::DEFAULT_TABLE);

        group.bench_function(BenchmarkId::new("resolve::load", size), |b| {
            b.iter(|| load(black_box(&path)))
        });
        group.bench_function(BenchmarkId::new("Analysis::new", size), |b| {
            b.iter(|| Analysis::new(black_box(&policy)))
        });
        group.bench_function(BenchmarkId::new("nft::build sets", size), |b| {
            b.iter(|| nft::build(Layout::Sets, black_box(input()), nft::DEFAULT_TABLE))
        });
        group.bench_function(BenchmarkId::new("nft::text::render sets", size), |b| {
            b.iter(|| nft::text::render(black_box(&ruleset), "benchmark"))
        });
        // `plan` against the table it would load: what a pipeline runs when
        // nothing changed (reading the live table back from nft is not included).
        group.bench_function(BenchmarkId::new("plan unchanged", size), |b| {
            b.iter(|| {
                let rules = bmcwall::nft::interp::table_rules(black_box(&ruleset), 0);
                let compiled = bmcwall::analysis::compare::Compiled::of(&policy, &analysis);
                rules.map(|rules| bmcwall::analysis::compare::changes(&compiled, Some(&rules)))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
