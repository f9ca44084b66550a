//! `--set` that follows the user (issue 16.6): list entries addressed by name as well as by
//! index, every unknown key of a file reported at once, type errors in a scenario author's
//! words, and `run --quiet` printing only the report folder.

use assert_cmd::Command;
use predicates::str::contains;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fleetsim() -> Command {
    let mut cmd = Command::cargo_bin("fleetsim").unwrap();
    cmd.timeout(Duration::from_secs(120));
    cmd
}

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The summary of a short run of bad-release with `sets`.
fn summary(dir: &Path, name: &str, sets: &[&str]) -> String {
    let out = dir.join(name);
    let mut cmd = fleetsim();
    cmd.arg("run")
        .arg(fixture("scenarios/bad-release.toml"))
        .args(["--replications", "2", "--no-report", "--quiet", "--out"])
        .arg(&out);
    for s in sets {
        cmd.args(["--set", s]);
    }
    cmd.assert().success();
    std::fs::read_to_string(out.join("summary.json")).unwrap()
}

/// `stage[canary]` is `stage[1]`, `population[sensors]` is `population[1]`, `release[2.4.0]` is
/// `release[1]`: the same run, byte for byte, and a different one from the scenario as written.
#[test]
fn entries_are_addressed_by_name_as_well_as_index() {
    let dir = tempfile::tempdir().unwrap();
    let by_index = summary(
        dir.path(),
        "index",
        &[
            "policy.stage[1].bake=2d",
            "population[1].count=3000",
            "release[1].defect[0].probability=0.2",
        ],
    );
    let by_name = summary(
        dir.path(),
        "name",
        &[
            "policy.stage[canary].bake=2d",
            "population[sensors].count=3000",
            "release[2.4.0].defect[0].probability=0.2",
        ],
    );
    assert_eq!(by_index, by_name);
    assert_ne!(by_name, summary(dir.path(), "plain", &[]));
}

/// An error in a value set through a named entry points at the flag as typed; a name that
/// names nothing lists the names there are.
#[test]
fn named_entry_errors_name_the_flag_and_the_names() {
    let file = fixture("scenarios/bad-release.toml");
    fleetsim()
        .arg("validate")
        .arg(&file)
        .args(["--set", "policy.stage[canary].percent=500"])
        .assert()
        .code(2)
        .stderr(contains(
            "error: --set policy.stage[canary].percent=500: 500 is more than 100",
        ));
    fleetsim()
        .arg("validate")
        .arg(&file)
        .args(["--set", "policy.stage[canery].bake=1d"])
        .assert()
        .code(2)
        .stderr(contains(
            "no `stage` entry is named `canery` (did you mean `canary`?); named: lab, canary, wave-20, all",
        ));
}

/// Regression: serde stopped at the first unknown key, so three typos took three runs.
#[test]
fn every_unknown_key_of_a_file_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("scenarios/bad-release.toml")).unwrap();
    let typos = text
        .replacen("bake = ", "bakee = ", 1)
        .replacen("rollback_to = ", "rollbak_to = ", 1)
        .replacen("min_devices = ", "min_device = ", 1)
        .replacen("percent = 2\n", "percent = 200\n", 1);
    let file = dir.path().join("typos.toml");
    std::fs::write(&file, &typos).unwrap();
    let line_of = |needle: &str| typos.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
    let out = fleetsim().arg("validate").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    for (needle, key, hint) in [
        ("rollbak_to", "policy.rollbak_to", "rollback_to"),
        ("bakee", "policy.stage[0].bakee", "bake"),
        (
            "min_device ",
            "policy.stage[0].gate.min_device",
            "min_devices",
        ),
    ] {
        let expected = format!(
            "typos.toml:{}:1: {key}: unknown key `{}` (did you mean `{hint}`?)",
            line_of(needle),
            needle.trim()
        );
        assert!(stderr.contains(&expected), "{expected}\nnot in:\n{stderr}");
    }
    // The rest of the file is checked too: a bad value comes in the same report, at its line.
    let expected = format!(
        "typos.toml:{}:11: policy.stage[1].percent: 200 is more than 100",
        line_of("percent = 200")
    );
    assert!(stderr.contains(&expected), "{expected}\nnot in:\n{stderr}");
}

/// Wrong types are reported in a scenario author's words: no Rust type names (`f64`, `u32`,
/// `struct RawRate`), no serde or toml jargon (`sequence`, `map`, `wanted string or table`).
#[test]
fn type_errors_read_in_words_a_user_knows() {
    let file = fixture("scenarios/bad-release.toml");
    let cases = [
        ("policy.rate.per_minute=fast", "expected a number"),
        ("policy.rate=5", "expected a table, e.g. { "),
        ("policy.retry=true", "expected a table"),
        ("policy.maintenance=5", "expected a list"),
        ("policy.maintenance=[5]", "expected a table"),
        (
            "policy.stage[0].gate.on_fail=5",
            "expected one of \"pause\", \"rollback\", \"abort\"",
        ),
        (
            "policy.stage[0].gate.check[0].metric=5",
            "expected one of \"update_success_rate\"",
        ),
        (
            "policy.stage[0].gate.min_devices=1.5",
            "expected a whole number ≥ 0",
        ),
        (
            "policy.stage[0].gate.min_devices=\"x\"",
            "expected a whole number ≥ 0",
        ),
        (
            "backend.api=99999999999",
            "expected a whole number from 0 to 4294967295",
        ),
        ("population[0].tags=5", "expected a table"),
        ("policy.stage[0].select=5", "expected a table"),
        ("policy.stage[0].gate=3", "expected a table"),
        (
            "policy.rate.per_minute=[1]",
            "invalid type: a list, expected a number",
        ),
        ("release[0].resumable=\"yes\"", "expected a boolean"),
        ("policy.stage[0].name=5", "expected a string"),
    ];
    for (set, wanted) in cases {
        let out = fleetsim()
            .arg("validate")
            .arg(&file)
            .args(["--set", set])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{set}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(wanted), "{set}: {stderr}");
        for jargon in [
            "f64", "u64", "u32", "struct ", "Raw", "sequence", "a map", "wanted ", "enum ",
        ] {
            assert!(!stderr.contains(jargon), "{set}: `{jargon}` in {stderr}");
        }
    }
}

/// `run --quiet` does what its help says: it prints the report folder and nothing else.
#[test]
fn run_quiet_prints_only_the_report_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("quiet");
    let run = fleetsim()
        .arg("run")
        .arg(fixture("scenarios/bad-release.toml"))
        .args(["--replications", "2", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success());
    assert_eq!(
        String::from_utf8(run.stdout).unwrap(),
        format!("{}\n", out.display())
    );
    assert_eq!(String::from_utf8(run.stderr).unwrap(), "");
    assert!(out.join("report.html").is_file());
    let help = fleetsim().args(["run", "--help"]).output().unwrap();
    assert!(String::from_utf8(help.stdout)
        .unwrap()
        .contains("Print only the report folder's path"));
}
