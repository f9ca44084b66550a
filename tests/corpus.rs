//! The corpus of inputs that once hung, panicked or gave silently wrong results
//! (`tests/data/corpus/*.toml`, one small file per bug, named after it): each must validate and
//! run to an end — exit 0, or 2 with an error — without a panic and within a time limit, so a
//! regression fails instead of hanging CI.

use assert_cmd::Command;
use std::path::PathBuf;
use std::time::Duration;

/// Generous for a run of a few hundred devices (each takes well under a second) on a busy
/// 2-core machine; a hang blows through it.
const LIMIT: Duration = Duration::from_secs(60);

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn assert_ends_cleanly(file: &PathBuf, command: &str) {
    let out = tempfile::tempdir().unwrap();
    let name = file.file_name().unwrap().to_string_lossy();
    let mut cmd = Command::cargo_bin("fleetsim").unwrap();
    // A corpus input must never need more than a small machine has: the memory check refuses
    // it up front instead (FLEETSIM_MAX_MEMORY).
    cmd.arg(command)
        .arg(file)
        .env("FLEETSIM_MAX_MEMORY", "1GiB")
        .timeout(LIMIT);
    if command == "run" {
        cmd.args(["--quiet", "--no-report", "--out"])
            .arg(out.path().join("r"));
    }
    let output = match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!("{name}: `{command}` did not finish within {LIMIT:?} (a hang): {e}"),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked"),
        "{name}: `{command}` panicked: {stderr}"
    );
    assert!(
        matches!(output.status.code(), Some(0) | Some(2)),
        "{name}: `{command}` ended with {:?} (killed after {LIMIT:?} is a hang): {stderr}",
        output.status
    );
}

#[test]
fn every_corpus_input_validates_and_runs_without_panic_or_hang() {
    let files = corpus();
    assert!(!files.is_empty(), "tests/data/corpus is empty");
    for file in &files {
        assert_ends_cleanly(file, "validate");
        assert_ends_cleanly(file, "run");
    }
}
