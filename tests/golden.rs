//! Golden hashes of every fixture's data files: a refactoring must leave the bytes of
//! `summary.json`, `replications.csv`, `timeseries.csv`, `stages.csv`, `devices.csv`,
//! `events.csv` and `breakdown.csv` unchanged, at one and at two threads.
//!
//! The hashes live in `tests/golden/hashes.txt`. A change that is meant to alter outputs (a bug
//! fix, a model change) regenerates them with `FLEETSIM_UPDATE_GOLDEN=1 cargo test --release
//! --test golden` and says in its commit message which files moved and why.

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::Path;

/// The fixtures and how many replications each runs here (small, so the test stays quick, but
/// more than one so that replication streams and the ordered reduction are covered).
const FIXTURES: [(&str, u32); 6] = [
    ("bad-release", 3),
    ("seed-staged-rollout", 3),
    ("sleepy-fleet", 3),
    ("migration-chain", 3),
    ("regional-outage-chaos", 3),
    ("reference", 3),
];

const DATA_FILES: [&str; 7] = [
    "summary.json",
    "replications.csv",
    "timeseries.csv",
    "stages.csv",
    "devices.csv",
    "events.csv",
    "breakdown.csv",
];

const GOLDEN: &str = "tests/golden/hashes.txt";

/// FNV-1a, 64 bits: stable across Rust releases and platforms, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Runs one fixture and returns `file → hash` of its data files.
fn hashes_of(name: &str, replications: u32, threads: u32, dir: &Path) -> BTreeMap<String, u64> {
    let out = dir.join(format!("{name}-{threads}"));
    Command::cargo_bin("fleetsim")
        .unwrap()
        .args([
            "run",
            &format!("scenarios/{name}.toml"),
            "--quiet",
            "--no-report",
        ])
        .args(["--devices", "--trace"])
        .args(["--replications", &replications.to_string()])
        .args(["--threads", &threads.to_string()])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    DATA_FILES
        .iter()
        .map(|f| {
            let bytes = std::fs::read(out.join(f)).unwrap_or_else(|e| panic!("{name}: {f}: {e}"));
            (format!("{name}/{f}"), fnv1a(&bytes))
        })
        .collect()
}

fn read_golden() -> BTreeMap<String, u64> {
    std::fs::read_to_string(GOLDEN)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), u64::from_str_radix(v.trim(), 16).ok()?))
        })
        .collect()
}

#[test]
fn fixture_outputs_match_their_golden_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let mut actual = BTreeMap::new();
    for (name, reps) in FIXTURES {
        let one = hashes_of(name, reps, 1, dir.path());
        let two = hashes_of(name, reps, 2, dir.path());
        assert_eq!(one, two, "{name}: outputs differ between 1 and 2 threads");
        actual.extend(one);
    }
    if std::env::var_os("FLEETSIM_UPDATE_GOLDEN").is_some() {
        let mut text = String::from(
            "# FNV-1a 64 of each fixture's data files (tests/golden.rs); regenerate with\n\
             # FLEETSIM_UPDATE_GOLDEN=1 cargo test --release --test golden\n",
        );
        for (k, v) in &actual {
            text.push_str(&format!("{k} {v:016x}\n"));
        }
        std::fs::create_dir_all("tests/golden").unwrap();
        std::fs::write(GOLDEN, text).unwrap();
        return;
    }
    let golden = read_golden();
    let moved: Vec<String> = actual
        .iter()
        .filter(|(k, v)| golden.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect();
    assert!(
        moved.is_empty() && golden.len() == actual.len(),
        "output bytes moved: {moved:?} ({} golden entries, {} now); if the change is meant, \
         regenerate with FLEETSIM_UPDATE_GOLDEN=1 and say why in the commit",
        golden.len(),
        actual.len()
    );
}
