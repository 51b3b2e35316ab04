//! Replays the fuzz inputs committed under `fuzz/regressions/<target>/`
//! (minimized corpus entries and every input that once failed) through the
//! same checks the fuzz targets run (`rosefed::fuzzing`), so a plain `cargo
//! test` keeps them passing without libFuzzer. No database.

use std::fs;
use std::panic;
use std::path::Path;

#[test]
fn every_committed_fuzz_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut failures = Vec::new();
    for (target, check) in rosefed::fuzzing::TARGETS {
        let dir = root.join(target);
        let mut inputs: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        inputs.sort();
        // Every target keeps some inputs, so a renamed directory cannot
        // silently turn this test into nothing.
        assert!(!inputs.is_empty(), "no inputs in {}", dir.display());
        for input in inputs {
            let data = fs::read(&input).unwrap();
            if panic::catch_unwind(|| check(&data)).is_err() {
                failures.push(input.display().to_string());
            }
        }
    }
    assert!(failures.is_empty(), "failing fuzz inputs: {failures:#?}");
}

#[test]
fn every_fuzz_target_is_replayed() {
    // fuzz/Cargo.toml's targets and rosefed::fuzzing::TARGETS are the
    // same list.
    let manifest =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/Cargo.toml")).unwrap();
    let mut declared: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|name| *name != "rosefed-fuzz")
        .collect();
    let mut replayed: Vec<&str> = rosefed::fuzzing::TARGETS.iter().map(|(n, _)| *n).collect();
    declared.sort_unstable();
    replayed.sort_unstable();
    assert_eq!(declared, replayed);
}
