//! Criterion benchmark of what the language server does after each
//! keystroke: a check (`pipeline::check_open`, the call `bmcwall lsp`
//! makes) of the edited buffer, on the shipped example and on a 10,000-BMC
//! policy from `bench/generate.py` (needs python3): `open` with nothing
//! kept (the first check of a buffer), `recheck` with the inventories kept
//! by the check before (every keystroke after).
//!
//! ```sh
//! cargo bench --bench lsp_recheck
//! ```

use bmcwall::model::Date;
use bmcwall::pipeline::{self, Settings};
use bmcwall::resolve;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

mod support;

// The allocator of the binary, so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn recheck(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ams1/ams1.wall");
    let large = support::generate(dir.path(), "10000", "100");
    let today = Date::parse("2026-11-21").expect("date");
    let settings = Settings::default();
    let mut group = c.benchmark_group("lsp");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    for (name, path) in [("ams1", example), ("10000x100", large)] {
        let path = std::fs::canonicalize(&path).expect("path");
        // The buffer as typed: the file with one more comment line.
        let text = std::fs::read_to_string(&path).expect("policy") + "# typing\n";
        // What the server keeps across keystrokes, from the check on opening.
        let cache = resolve::Cache::default();
        let opened = BTreeMap::from([(path.clone(), text.clone())]);
        pipeline::check_open(&path, opened, today, &settings, &cache);
        // The server publishes the findings before it lets the previous
        // check go, so dropping a check is not part of the wait.
        group.bench_function(BenchmarkId::new("open", name), |b| {
            b.iter_with_large_drop(|| {
                let open = BTreeMap::from([(path.clone(), text.clone())]);
                let cache = resolve::Cache::default();
                let checked =
                    pipeline::check_open(black_box(&path), open, today, &settings, &cache);
                (checked, cache)
            })
        });
        group.bench_function(BenchmarkId::new("recheck", name), |b| {
            b.iter_with_large_drop(|| {
                let open = BTreeMap::from([(path.clone(), text.clone())]);
                pipeline::check_open(black_box(&path), open, today, &settings, &cache)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, recheck);
criterion_main!(benches);
