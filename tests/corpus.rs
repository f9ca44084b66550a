//! Inputs that once broke fleetsim (`tests/data/corpus/`, one small scenario each, named after
//! the bug): each must `validate` and `run` in time, without a panic, with exit code 0 or 2.

use std::path::Path;
use std::time::Duration;

#[test]
fn every_corpus_scenario_validates_and_runs_without_panicking() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus is empty");
    let dir = tempfile::tempdir().unwrap();
    for file in &files {
        let out = dir.path().join(file.file_stem().unwrap());
        for args in [vec!["validate"], vec!["run", "--quiet", "--force", "--out"]] {
            let mut cmd = assert_cmd::Command::cargo_bin("fleetsim").unwrap();
            cmd.timeout(Duration::from_secs(60)).args(&args);
            if args[0] == "run" {
                cmd.arg(&out);
            }
            let output = cmd.arg(file).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!stderr.contains("panicked"), "{}: {stderr}", file.display());
            assert!(
                matches!(output.status.code(), Some(0 | 2)),
                "{} {args:?}: exit {:?} (a time-out has none): {stderr}",
                file.display(),
                output.status.code()
            );
        }
    }
}
