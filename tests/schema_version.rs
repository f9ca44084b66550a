//! `schema_version` (issue 15): the first key of every JSON document the binary writes, and
//! what its readers (`report DIR`, `compare --baseline`, `merge`) do with it: files of this
//! version and files written before the key existed are read alike; a newer version is refused
//! with exit 2 and a message that names the file and both versions.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const PLAN: &str = "scenarios/bad-release.toml";
const VERSION: u32 = fleetsim::report::versioned::SCHEMA_VERSION;

fn fleetsim() -> Command {
    let mut c = Command::cargo_bin("fleetsim").unwrap();
    c.env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("SOURCE_DATE_EPOCH");
    c
}

fn assert_pretty_versioned(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.starts_with(&format!("{{\n  \"schema_version\": {VERSION},\n")),
        "{}: {}",
        path.display(),
        &text[..text.len().min(80)]
    );
}

fn run_folder(out: &Path) {
    fleetsim()
        .args(["run", PLAN, "--replications", "3", "--no-report", "--quiet"])
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

fn sweep_args(replications: &str) -> Vec<String> {
    ["sweep", PLAN, "--replications", replications]
        .into_iter()
        .chain(["--param", "policy.stage[1].percent=1,2", "--no-report"])
        .chain(["--quiet"])
        .map(String::from)
        .collect()
}

#[test]
fn every_json_file_and_document_starts_with_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let d = |p: &str| dir.path().join(p);
    run_folder(&d("run"));
    for f in ["summary.json", "perf.json", "baseline.json"] {
        assert_pretty_versioned(&d("run").join(f));
    }
    fleetsim()
        .args(sweep_args("2"))
        .arg("--out")
        .arg(d("sweep"))
        .assert()
        .success();
    assert_pretty_versioned(&d("sweep/sweep.json"));
    assert_pretty_versioned(&d("sweep/perf.json"));
    fleetsim()
        .args([
            "tune",
            PLAN,
            "--replications",
            "2",
            "--quiet",
            "--no-report",
        ])
        .args(["--param", "policy.stage[1].percent=1,2", "--out"])
        .arg(d("tune"))
        .assert()
        .success();
    assert_pretty_versioned(&d("tune/tune.json"));
    fleetsim()
        .args([
            "compare",
            PLAN,
            "--replications",
            "2",
            "--quiet",
            "--no-report",
        ])
        .args(["--candidate-set", "policy.stage[1].percent=15", "--out"])
        .arg(d("compare"))
        .assert()
        .code(predicates::ord::lt(2));
    assert_pretty_versioned(&d("compare/compare.json"));
    fleetsim()
        .args(["chaos", "tests/data/fragile.toml", "--quiet", "--out"])
        .arg(d("chaos"))
        .assert()
        .code(1);
    assert_pretty_versioned(&d("chaos/chaos.json"));
    fleetsim()
        .args(sweep_args("2"))
        .args(["--shard", "1/2", "--out"])
        .arg(d("shard"))
        .assert()
        .success();
    let shard = std::fs::read_to_string(d("shard/shard.json")).unwrap();
    assert!(shard.starts_with(&format!("{{\"schema_version\":{VERSION},")));

    // The documents on stdout: check's object, each of validate's verdicts, each error record.
    let check = fleetsim()
        .args(["check", PLAN, "--replications", "2", "--format", "json"])
        .output()
        .unwrap();
    let check = String::from_utf8(check.stdout).unwrap();
    assert!(check.starts_with(&format!("{{\n  \"schema_version\": {VERSION},\n")));
    let validate = fleetsim()
        .args([
            "validate",
            PLAN,
            "tests/data/fragile.toml",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let verdicts: Vec<serde_json::Value> = serde_json::from_slice(&validate.stdout).unwrap();
    assert_eq!(verdicts.len(), 2);
    let text = String::from_utf8(validate.stdout).unwrap();
    assert_eq!(
        text.matches(&format!("  {{\n    \"schema_version\": {VERSION},\n"))
            .count(),
        2,
        "{text}"
    );
    let bad = d("bad.toml");
    std::fs::write(&bad, "[simulation]\n").unwrap();
    let o = fleetsim()
        .arg("run")
        .arg(&bad)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(!err.is_empty());
    for line in err.lines() {
        assert!(
            line.starts_with(&format!("{{\"schema_version\":{VERSION},")),
            "{line}"
        );
    }
}

/// Rewrites `schema_version` in a file fleetsim wrote: `None` removes the key, as in a file of
/// the version before it existed.
fn set_version(path: &Path, to: Option<u32>) {
    let text = std::fs::read_to_string(path).unwrap();
    let (pretty, compact) = (
        format!("\"schema_version\": {VERSION},"),
        format!("\"schema_version\":{VERSION},"),
    );
    let key = if text.contains(&pretty) {
        pretty
    } else {
        compact
    };
    let new = match to {
        Some(v) => key.replace(&VERSION.to_string(), &v.to_string()),
        None => String::new(),
    };
    let changed = text.replacen(&key, &new, 1);
    assert_ne!(changed, text, "{}", path.display());
    std::fs::write(path, changed).unwrap();
}

fn assert_refused(o: std::process::Output, file: &Path) {
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(err.contains(&name), "{err}");
    assert!(
        err.contains(&format!(
            "schema_version {} is newer than this fleetsim reads (schema_version {VERSION}",
            VERSION + 1
        )),
        "{err}"
    );
}

#[test]
fn report_reads_a_summary_without_the_key_and_refuses_a_newer_one() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    run_folder(&run);
    let summary = run.join("summary.json");
    set_version(&summary, None);
    fleetsim().arg("report").arg(&run).assert().success();
    assert!(run.join("report.html").is_file());
    let text = std::fs::read_to_string(&summary).unwrap();
    std::fs::write(
        &summary,
        text.replacen(
            "{\n",
            &format!("{{\n  \"schema_version\": {},\n", VERSION + 1),
            1,
        ),
    )
    .unwrap();
    assert_refused(
        fleetsim().arg("report").arg(&run).output().unwrap(),
        &summary,
    );
}

#[test]
fn compare_baseline_reads_a_baseline_without_the_key_and_refuses_a_newer_one() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    run_folder(&base);
    let compare = |out: &str| {
        fleetsim()
            .args(["compare", "--baseline"])
            .arg(&base)
            .args([PLAN, "--replications", "3", "--no-report", "--quiet"])
            .args(["--set", "policy.stage[1].bake=1h"])
            // A run folder holds only the scenario as written.
            .args(["--guard", "harmed:mean@as-written", "--out"])
            .arg(dir.path().join(out))
            .output()
            .unwrap()
    };
    let versioned = compare("a");
    assert!(versioned.status.code().unwrap() < 2, "{versioned:?}");
    set_version(&base.join("baseline.json"), None);
    let unversioned = compare("b");
    assert_eq!(unversioned.status.code(), versioned.status.code());
    let read = |out: &str| std::fs::read(dir.path().join(out).join("compare.json")).unwrap();
    assert_eq!(read("a"), read("b"));
    let text = std::fs::read_to_string(base.join("baseline.json")).unwrap();
    std::fs::write(
        base.join("baseline.json"),
        text.replacen(
            "{\n",
            &format!("{{\n  \"schema_version\": {},\n", VERSION + 1),
            1,
        ),
    )
    .unwrap();
    assert_refused(compare("c"), &base.join("baseline.json"));
}

#[test]
fn merge_reads_shards_without_the_key_and_refuses_a_newer_one() {
    let dir = tempfile::tempdir().unwrap();
    let shards: Vec<PathBuf> = (1..=2).map(|k| dir.path().join(format!("s{k}"))).collect();
    for (k, s) in shards.iter().enumerate() {
        fleetsim()
            .args(sweep_args("2"))
            .args(["--shard", &format!("{}/2", k + 1), "--out"])
            .arg(s)
            .assert()
            .success();
    }
    let merge = |out: &str| {
        fleetsim()
            .arg("merge")
            .args(&shards)
            .args(["--no-report", "--quiet", "--out"])
            .arg(dir.path().join(out))
            .output()
            .unwrap()
    };
    assert!(merge("a").status.success());
    set_version(&shards[0].join("shard.json"), None);
    assert!(merge("b").status.success());
    let read = |out: &str| std::fs::read(dir.path().join(out).join("sweep.json")).unwrap();
    assert_eq!(read("a"), read("b"));
    set_version(&shards[1].join("shard.json"), Some(VERSION + 1));
    assert_refused(merge("c"), &shards[1].join("shard.json"));
}
