//! The fuzz corpora, replayed: every file committed under `fuzz/corpus/TARGET/`
//! goes through the same function the fuzz target `TARGET` runs
//! (`bmcwall::fuzz`), so whatever a fuzz run found and left in a corpus stays
//! a regression test.

use crate::support::crate_root;

#[test]
fn every_corpus_file_replays_through_its_target() {
    let mut replayed = Vec::new();
    for (target, run) in bmcwall::fuzz::TARGETS {
        let dir = crate_root().join("fuzz/corpus").join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("a corpus entry").path())
            .collect();
        files.sort();
        for file in &files {
            let data = std::fs::read(file).expect("a corpus file");
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target}: {} panics", file.display());
        }
        replayed.push((*target, files.len()));
    }
    // Every target has a corpus, seeded from the fixtures and the hostile
    // cases.
    for (target, count) in &replayed {
        assert!(*count >= 4, "{target}: {count} corpus files");
    }
    assert_eq!(
        replayed.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        ["parse", "check", "listing", "fmt", "compile"]
    );
}
