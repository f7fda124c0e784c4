//! What the benchmarks share: the policies of `bench/generate.py`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes the generated policy of `bmcs` BMCs and `rules` rules (seed 1)
/// into `dir`; returns its path. Needs python3.
pub fn generate(dir: &Path, bmcs: &str, rules: &str) -> PathBuf {
    let out = dir.join(format!("{bmcs}x{rules}"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/generate.py");
    let status = Command::new("python3")
        .arg(script)
        .args(["--bmcs", bmcs, "--rules", rules, "--seed", "1", "--out"])
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("python3 bench/generate.py");
    assert!(
        status.success(),
        "bench/generate.py failed for {bmcs}x{rules}"
    );
    out.join("policy.wall")
}
