//! The corpus of inputs that once broke fleetsim (`tests/data/corpus/*.toml`, one small file
//! each, named after its bug): every one must `validate` and `run` without a panic, with exit
//! code 0 or 2, in bounded time. The runs are capped at 1 GiB (`FLEETSIM_MAX_MEMORY`), so an
//! input that would need more is refused by the up-front estimate instead of allocating it.

use assert_cmd::Command;
use std::time::Duration;

fn corpus() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir("tests/data/corpus")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_input_validates_and_runs_without_a_panic_in_bounded_time() {
    let files = corpus();
    assert!(!files.is_empty(), "tests/data/corpus holds no .toml file");
    let out = tempfile::tempdir().unwrap();
    for file in files {
        for args in [
            vec!["validate".to_string()],
            vec![
                "run".into(),
                "--quiet".into(),
                "--no-report".into(),
                "--out".into(),
                out.path().join("r").display().to_string(),
            ],
        ] {
            let assert = Command::cargo_bin("fleetsim")
                .unwrap()
                .args(&args)
                .arg(&file)
                .env("FLEETSIM_MAX_MEMORY", "1GiB")
                .timeout(Duration::from_secs(20))
                .assert();
            let o = assert.get_output();
            let stderr = String::from_utf8_lossy(&o.stderr);
            let what = format!("{} {}", args[0], file.display());
            assert!(!stderr.contains("panicked"), "{what} panicked: {stderr}");
            assert!(
                matches!(o.status.code(), Some(0 | 2)),
                "{what}: exit {:?} (killed or timed out?); stderr: {stderr}",
                o.status.code()
            );
        }
    }
}
