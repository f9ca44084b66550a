//! Messages that point at the real mistake (issue 10.8): a `--set` error names the flag, not a
//! line of the regenerated document; `--seed` takes any u64; `merge` works from any working
//! directory; `-` reads the scenario from standard input; a name that cannot name the report
//! folder is refused at validation.

use assert_cmd::Command;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use std::path::Path;
use std::time::Duration;

fn fleetsim() -> Command {
    let mut cmd = Command::cargo_bin("fleetsim").unwrap();
    cmd.timeout(Duration::from_secs(120));
    cmd
}

fn fixture(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Regression: `--seed 18446744073709551615` was rejected as "expected u64" and blamed on the
/// file's `seed` line (TOML integers stop at 2^63 − 1).
#[test]
fn seed_flag_takes_any_u64() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    fleetsim()
        .args([
            "run",
            "--seed",
            "18446744073709551615",
            "--replications",
            "1",
        ])
        .arg(fixture("scenarios/migration-chain.toml"))
        .args(["--quiet", "--no-report", "--out"])
        .arg(&out)
        .assert()
        .success();
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(
        summary.contains("\"seed\": 18446744073709551615"),
        "{summary}"
    );
    // A file can write such a seed as a string; a negative one is refused with what is valid.
    let text = std::fs::read_to_string(fixture("tests/data/fragile.toml")).unwrap();
    let big = text.replacen("seed = ", "seed = \"18446744073709551615\"\n#", 1);
    let file = dir.path().join("big-seed.toml");
    std::fs::write(&file, big).unwrap();
    fleetsim().arg("validate").arg(&file).assert().success();
    fleetsim()
        .arg("validate")
        .arg(&file)
        .args(["--set", "simulation.seed=-1"])
        .assert()
        .code(2)
        .stderr(contains("error: --seed -1: -1 is negative").and(contains("big-seed.toml").not()));
}

/// Regression: a bad `--set` value was reported at a line of the document regenerated with
/// the override (`bad-release.toml:116:23`), which the user never wrote.
#[test]
fn set_errors_point_at_the_flag() {
    let file = fixture("scenarios/bad-release.toml");
    for (set, message) in [
        (
            "policy.rate.per_minute=fast",
            "error: --set policy.rate.per_minute=fast: invalid type: string \"fast\", expected a number",
        ),
        (
            "policy.stage[1].percent=500",
            "error: --set policy.stage[1].percent=500: 500 is more than 100",
        ),
        ("simulation.horizon=3x", "error: --set simulation.horizon=3x: `3x` is not a duration"),
    ] {
        fleetsim()
            .arg("validate")
            .arg(&file)
            .args(["--set", set])
            .assert()
            .code(2)
            .stderr(contains(message));
    }
}

/// An error in the file itself keeps its line in the file as written, even when an override
/// inserted a key above it (which shifts every line of the regenerated document).
#[test]
fn file_errors_keep_their_line_when_an_override_inserts_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("scenarios/bad-release.toml")).unwrap();
    let (line, _) = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("percent = "))
        .nth(2)
        .unwrap();
    let bad: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == line {
                "percent = 500\n".to_string()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let file = dir.path().join("b.toml");
    std::fs::write(&file, bad).unwrap();
    fleetsim()
        .arg("validate")
        .arg(&file)
        .args(["--set", "policy.start=1h"])
        .assert()
        .code(2)
        .stderr(contains(format!(
            "b.toml:{}:11: policy.stage[2].percent: 500 is more than 100",
            line + 1
        )));
}

/// A copy of `fragile.toml` whose fleet comes from a relative `devices.csv` beside it.
fn inventory_scenario(folder: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(folder).unwrap();
    let fragile = std::fs::read_to_string(fixture("tests/data/fragile.toml"))
        .unwrap()
        .replace("count = 600\n", "");
    let text = format!("{fragile}\n[fleet]\ninventory = \"devices.csv\"\n");
    let file = folder.join("inventory.toml");
    std::fs::write(&file, text).unwrap();
    let mut csv = String::from("id,population\n");
    for i in 0..1200 {
        let population = if i % 2 == 0 { "plant-a" } else { "plant-b" };
        csv.push_str(&format!("{i},{population}\n"));
    }
    std::fs::write(folder.join("devices.csv"), csv).unwrap();
    file
}

/// Regression: shard folders stored the scenario's folder as given (relative), so `merge` from
/// another working directory could not find the inventory.
#[test]
fn merge_works_from_any_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("scenario");
    inventory_scenario(&folder);
    for k in 1..=2 {
        fleetsim()
            .current_dir(&folder)
            .args(["run", "inventory.toml", "--replications", "2", "--quiet"])
            .args(["--shard", &format!("{k}/2"), "--out", &format!("shard-{k}")])
            .assert()
            .success();
    }
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    fleetsim()
        .current_dir(&elsewhere)
        .arg("merge")
        .arg(folder.join("shard-1"))
        .arg(folder.join("shard-2"))
        .args(["--quiet", "--no-report", "--out", "merged"])
        .assert()
        .success();
    fleetsim()
        .current_dir(&folder)
        .args(["run", "inventory.toml", "--replications", "2", "--quiet"])
        .args(["--no-report", "--out", "whole"])
        .assert()
        .success();
    for file in ["summary.json", "replications.csv", "stages.csv"] {
        assert_eq!(
            std::fs::read(elsewhere.join("merged").join(file)).unwrap(),
            std::fs::read(folder.join("whole").join(file)).unwrap(),
            "{file}"
        );
    }
}

/// `-` reads the scenario from standard input, for run, validate and check; its relative paths
/// resolve against the working directory.
#[test]
fn dash_reads_the_scenario_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let file = inventory_scenario(dir.path());
    let text = std::fs::read_to_string(&file).unwrap();
    fleetsim()
        .current_dir(dir.path())
        .args(["validate", "-"])
        .write_stdin(text.clone())
        .assert()
        .success();
    fleetsim()
        .current_dir(dir.path())
        .args(["check", "-", "--replications", "2", "--quiet"])
        .write_stdin(text.clone())
        .assert()
        .code(predicates::ord::lt(2));
    fleetsim()
        .current_dir(dir.path())
        .args([
            "run",
            "-",
            "--replications",
            "2",
            "--quiet",
            "--no-report",
            "--out",
            "r",
        ])
        .write_stdin(text.clone())
        .assert()
        .success();
    let summary = std::fs::read_to_string(dir.path().join("r/summary.json")).unwrap();
    assert!(summary.contains("\"file\": \"<stdin>\""), "{summary}");
    // A shard of standard input merges too: the text is read once and recorded.
    fleetsim()
        .current_dir(dir.path())
        .args([
            "run",
            "-",
            "--replications",
            "2",
            "--quiet",
            "--shard",
            "1/1",
        ])
        .args(["--out", "s"])
        .write_stdin(text.clone())
        .assert()
        .success();
    fleetsim()
        .current_dir(dir.path())
        .args(["merge", "s", "--quiet", "--no-report", "--out", "m"])
        .assert()
        .success();
    // Errors name standard input.
    fleetsim()
        .args(["validate", "-"])
        .write_stdin("[simulation]\nname = 3\n")
        .assert()
        .code(2)
        .stderr(contains("<stdin>:2:8: simulation.name"));
}

/// Regression: a name too long for a file name (or holding `/`) failed after the whole run,
/// when the default `reports/<name>/` could not be created.
#[test]
fn a_name_that_cannot_name_the_report_folder_is_refused_at_validation() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("tests/data/fragile.toml");
    let long = format!("simulation.name={}", "n".repeat(300));
    fleetsim()
        .arg("validate")
        .arg(&file)
        .args(["--set", &long])
        .assert()
        .code(2)
        .stderr(contains("300 bytes long, more than 200"));
    fleetsim()
        .current_dir(dir.path())
        .arg("run")
        .arg(&file)
        .args(["--set", "simulation.name=\"eu/canary\"", "--quiet"])
        .assert()
        .code(2)
        .stderr(contains("path separator"));
    assert!(!dir.path().join("reports").exists(), "nothing ran");
}
