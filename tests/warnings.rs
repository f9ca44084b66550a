//! Integration tests of `validate` warnings (SPEC §3) and of output that cannot be written: a
//! reader that closes stdout early, a full disk (`/dev/full`), a file over the size limit.

use assert_cmd::Command;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn fleetsim() -> Command {
    Command::cargo_bin("fleetsim").unwrap()
}

/// A small plan that validates but deserves one warning of every kind. Each line that should
/// be warned about ends with a `# W:` marker naming its key path.
const WARNED: &str = r#"[simulation]
name = "warned"
seed = 3
horizon = "10d"
replications = 1

[connectivity.lan]
online = { dist = "exponential", mean = "10d" }
offline = { dist = "exponential", mean = "10m" }
check_in = "10m"
bandwidth_kbps = 4000

[[population]]
name = "lab"
count = 50
model = "m1"
region = "north"
firmware = "1.0.0"
connectivity = "lan"
tags = { channel = "internal" }
consent = { delay = "1h" }

[[population]]
name = "field"
count = 1000
model = "m1"
region = "south"
firmware = "1.0.0"
connectivity = "lan"
tags = { channel = "external" }

[[release]]
version = "1.0.0"
size_mb = 20

[[release]]
version = "1.1.0"
size_mb = 20

[policy]
target = "1.1.0"
window = "12d"   # W: policy.window
action_type = "forced"   # W: policy.action_type
rate = { per_minute = 10 }

[[policy.stage]]
name = "lab"
select = { channel = "internal" }
percent = 100
bake = 72   # W: policy.stage[0].bake
[policy.stage.gate]
min_devices = 10
[[policy.stage.gate.check]]
metric = "crash_rate"
max_ratio_vs_control = 1.5   # W: policy.stage[0].gate.check[0].max_ratio_vs_control

[[policy.stage]]
name = "canary"
select = { channel = "external" }
percent = 2
bake = "1h"
[policy.stage.gate]
min_devices = 50   # W: policy.stage[1].gate.min_devices
[[policy.stage.gate.check]]
metric = "support_tickets"   # W: policy.stage[1].gate.check[0].metric
max = 5

[[policy.stage]]
name = "again"
select = { channel = "external" }
percent = 2
[policy.stage.gate]   # W: policy.stage[2].gate
[[policy.stage.gate.check]]
metric = "update_failure_rate"
max = 0.1

[[policy.stage]]
name = "all"
select = {}
percent = 100
"#;

/// The warnings the `# W:` markers expect: `warned.toml:LINE:COL: key path`, in line order.
fn expected(file: &Path) -> Vec<String> {
    WARNED
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let (code, key) = line.split_once("# W: ")?;
            let value = code.split_once('=').map_or(0, |(k, _)| k.len() + 1);
            let col = code[value..].len() - code[value..].trim_start().len() + value + 1;
            Some(format!("{}:{}:{col}: {key}:", file.display(), i + 1))
        })
        .collect()
}

fn write_warned(dir: &Path) -> PathBuf {
    let path = dir.join("warned.toml");
    std::fs::write(&path, WARNED).unwrap();
    path
}

fn warning_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("warning: ").map(String::from))
        .collect()
}

#[test]
fn each_warning_kind_fires_with_its_key_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_warned(dir.path());
    let out = fleetsim().arg("validate").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "warnings are not errors");
    let warnings = warning_lines(&out.stderr);
    let want = expected(&file);
    assert_eq!(warnings.len(), want.len(), "{warnings:#?}");
    for (got, want) in warnings.iter().zip(&want) {
        assert!(got.starts_with(want), "{got}\n  should start with {want}");
    }
    let text = warnings.join("\n");
    for needle in [
        "72 has no unit and means 72 seconds; write \"72s\"",
        "min_devices = 50 is more than the 20 devices stage `canary` adds",
        "after simulation.horizon 10d",
        "stage `again` adds no devices",
        "no support ticket is ever opened",
        "population lab gives `consent`, but a forced update never asks the owner",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in\n{text}");
    }
    assert!(String::from_utf8_lossy(&out.stdout).contains("7 warnings"));
}

/// Regression: a 100 % stage over all its populations has no control group, so its
/// `max_ratio_vs_control` check compared the cohort with nothing and always passed, silently.
#[test]
fn ratio_check_without_control_is_warned() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_warned(dir.path());
    let out = fleetsim().arg("validate").arg(&file).output().unwrap();
    let warnings = warning_lines(&out.stderr).join("\n");
    assert!(
        warnings.contains("policy.stage[0].gate.check[0].max_ratio_vs_control: stage `lab` leaves no control devices"),
        "{warnings}"
    );
    // With half the lab left out there is a control again.
    let out = fleetsim()
        .arg("validate")
        .arg(&file)
        .args(["--set", "policy.stage[0].percent=50"])
        .output()
        .unwrap();
    let warnings = warning_lines(&out.stderr).join("\n");
    assert!(!warnings.contains("no control"), "{warnings}");
}

#[test]
fn shipped_fixtures_have_no_warnings() {
    let mut cmd = fleetsim();
    cmd.arg("validate");
    for dir in ["scenarios", "tests/data"] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            // canary-too-small.toml is a plan that cannot work on purpose (check's and
            // compare's healthy-world tests): it must warn, and does (below).
            if path.extension().is_some_and(|e| e == "toml")
                && !path.ends_with("canary-too-small.toml")
            {
                cmd.arg(path);
            }
        }
    }
    let out = cmd.arg("--deny-warnings").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(warning_lines(&out.stderr).is_empty());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = fleetsim()
        .args(["validate", "tests/data/canary-too-small.toml"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr)
        .contains("min_devices = 100 is more than the 78 devices"));
}

#[test]
fn deny_warnings_exits_2_with_the_warnings_as_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_warned(dir.path());
    let out = fleetsim()
        .arg("validate")
        .arg(&file)
        .arg("--deny-warnings")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(warning_lines(&out.stderr).is_empty(), "{stderr}");
    for want in expected(&file) {
        assert!(
            stderr.contains(&format!("error: {want}")) || stderr.contains(&format!("\n{want}")),
            "{want} in\n{stderr}"
        );
    }
    assert!(stderr.contains("(7 problems)"), "{stderr}");
}

#[test]
fn json_lists_the_warnings_of_each_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_warned(dir.path());
    let json = |deny: bool| {
        let mut cmd = fleetsim();
        cmd.arg("validate")
            .arg(&file)
            .arg("scenarios/bad-release.toml")
            .args(["--format", "json"]);
        if deny {
            cmd.arg("--deny-warnings");
        }
        let out = cmd.output().unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), doc)
    };
    let (code, doc) = json(false);
    assert_eq!(code, Some(0));
    let warnings = doc[0]["warnings"].as_array().unwrap();
    assert_eq!(doc[0]["valid"], true);
    assert_eq!(warnings.len(), 7);
    assert!(warnings[0]
        .as_str()
        .unwrap()
        .starts_with(&expected(&file)[0]));
    assert_eq!(doc[1]["warnings"].as_array().unwrap().len(), 0);
    let (code, doc) = json(true);
    assert_eq!(code, Some(2));
    assert_eq!(doc[0]["valid"], false);
    assert_eq!(doc[0]["errors"].as_array().unwrap().len(), 7);
    assert_eq!(doc[1]["valid"], true);
}

#[test]
fn run_and_check_print_the_warnings_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_warned(dir.path());
    let run = fleetsim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args(["--no-report", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let check = fleetsim().arg("check").arg(&file).output().unwrap();
    assert_eq!(check.status.code(), Some(0));
    for out in [run, check] {
        let got = warning_lines(&out.stderr);
        assert_eq!(got.len(), 7, "{got:#?}");
        let mut unique = got.clone();
        unique.dedup();
        assert_eq!(unique, got);
    }
}

/// Runs `fleetsim ARGS` with stdout a pipe whose read end is closed before anything is
/// written; returns the exit code and stderr.
fn with_closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fleetsim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_ends_quietly_with_the_commands_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let (code, stderr) = with_closed_stdout(&[
        "run",
        "scenarios/bad-release.toml",
        "--replications",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    assert!(
        out.join("report.html").exists(),
        "the report is written all the same"
    );
    // A failed check keeps its exit code 1 and still writes its JUnit file.
    let junit = dir.path().join("junit.xml");
    let (code, stderr) = with_closed_stdout(&[
        "check",
        "scenarios/bad-release.toml",
        "--replications",
        "2",
        "--set",
        "expect[1].max=0",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(std::fs::read_to_string(&junit)
        .unwrap()
        .contains("<testsuite"));
}

#[test]
fn a_reader_that_stops_after_one_line_is_no_panic() {
    let script = format!(
        "set -o pipefail; {} run scenarios/bad-release.toml --replications 3 --no-report --out \"$1\" | head -1",
        assert_cmd::cargo::cargo_bin("fleetsim").display()
    );
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("bash")
        .args(["-c", &script, "sh"])
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn a_full_disk_is_exit_2_naming_the_file() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full on this machine");
        return;
    }
    fleetsim()
        .args([
            "check",
            "tests/data/fragile.toml",
            "--replications",
            "1",
            "--junit",
            "/dev/full",
        ])
        .assert()
        .code(2)
        .stderr(contains("cannot write /dev/full: No space left on device"))
        .stderr(contains("panicked").not());
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::metadata("/dev/full").unwrap().file_type();
    assert!(
        kind.is_char_device(),
        "/dev/full was written in place, not replaced"
    );
    let dir = tempfile::tempdir().unwrap();
    let stdout = std::fs::File::create("/dev/full").unwrap();
    let run = std::process::Command::new(assert_cmd::cargo::cargo_bin("fleetsim"))
        .args([
            "run",
            "tests/data/fragile.toml",
            "--replications",
            "1",
            "--no-report",
        ])
        .arg("--out")
        .arg(dir.path().join("r"))
        .stdout(stdout)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("cannot write to stdout: No space left on device"),
        "{stderr}"
    );
    fleetsim()
        .args([
            "run",
            "tests/data/fragile.toml",
            "--replications",
            "1",
            "--out",
            "/dev/full",
        ])
        .assert()
        .code(2)
        .stderr(contains("/dev/full: it exists and is not a folder"));
}

/// A report file over the file-size limit (`ulimit -f`, as a quota or a small disk would
/// refuse it) is exit 2 naming the file, and the previous report stays as it was.
#[test]
fn an_unwritable_report_file_leaves_the_old_report_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    fleetsim()
        .args([
            "run",
            "tests/data/fragile.toml",
            "--replications",
            "1",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let before = std::fs::read(out.join("summary.json")).unwrap();
    // SIGXFSZ is ignored so that the write fails with EFBIG instead of killing the process.
    let script = format!(
        "trap '' XFSZ; ulimit -f 4; exec {} run tests/data/fragile.toml --seed 5 --replications 1 --quiet --out \"$1\"",
        assert_cmd::cargo::cargo_bin("fleetsim").display()
    );
    let run = std::process::Command::new("bash")
        .args(["-c", &script, "sh"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
    assert!(
        stderr.contains(".json") || stderr.contains(".csv"),
        "names the file: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "r")
        .collect();
    assert!(
        leftovers.is_empty(),
        "staging folder left behind: {leftovers:?}"
    );
}
