//! What fleetsim does to the folders it writes into (issue 10.3, 10.4): it replaces only a
//! folder it wrote itself, never deletes what the user owns, swaps a finished report in
//! atomically (a SIGKILL at any instant leaves the old or the new complete report) and cleans
//! up the staging folders of killed runs.

use assert_cmd::Command;
use predicates::str::contains;
use std::path::Path;
use std::time::Duration;

fn fleetsim() -> Command {
    let mut cmd = Command::cargo_bin("fleetsim").unwrap();
    cmd.timeout(Duration::from_secs(120));
    cmd
}

fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("fleetsim")
}

fn scenario(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

fn run_to(out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    fleetsim()
        .arg("run")
        .arg(scenario("migration-chain.toml"))
        .args(["--replications", "1", "--quiet", "--no-report", "--out"])
        .arg(out)
        .args(extra)
        .assert()
}

/// A complete run folder: its summary parses and it carries fleetsim's marker.
fn assert_complete(out: &Path) {
    let summary = std::fs::read(out.join("summary.json"))
        .unwrap_or_else(|e| panic!("{}: no summary.json: {e}", out.display()));
    serde_json::from_slice::<serde_json::Value>(&summary).expect("summary.json parses");
    let marker = std::fs::read_to_string(out.join(".fleetsim")).expect("the marker exists");
    assert!(marker.starts_with("fleetsim "), "{marker}");
    assert!(marker.contains("file: summary.json"), "{marker}");
}

fn hidden_siblings(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect()
}

/// Regression: `--out .` removed the working directory whole, the scenario file in it too.
#[test]
fn out_dot_does_not_delete_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(scenario("migration-chain.toml"), dir.path().join("s.toml")).unwrap();
    for extra in [&[][..], &["--force"][..]] {
        fleetsim()
            .current_dir(dir.path())
            .args([
                "run",
                "s.toml",
                "--replications",
                "1",
                "--quiet",
                "--out",
                ".",
            ])
            .args(extra)
            .assert()
            .code(2)
            .stderr(contains("working directory"));
        assert!(dir.path().join("s.toml").is_file(), "the scenario is gone");
    }
}

/// Regression: `--out DIR` removed a folder of the user's with everything in it.
#[test]
fn out_refuses_a_folder_fleetsim_did_not_write_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mine");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "keep me").unwrap();
    run_to(&out, &[])
        .code(2)
        .stderr(contains("notes.txt").and(contains("--force")));
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "keep me"
    );
    assert!(!out.join("summary.json").exists());
    run_to(&out, &["--force"]).success();
    assert!(!out.join("notes.txt").exists());
    assert_complete(&out);
}

use predicates::prelude::PredicateBooleanExt;

#[test]
fn a_folder_fleetsim_wrote_is_replaced_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    run_to(&out, &[]).success();
    let before = std::fs::read_to_string(out.join(".fleetsim")).unwrap();
    run_to(&out, &["--devices"]).success();
    assert_complete(&out);
    assert!(out.join("devices.csv").is_file());
    assert!(before.contains("command: "), "{before}");
    // An empty folder is fine too.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    run_to(&empty, &[]).success();
    // A file the user added to a fleetsim folder is theirs: refused, and kept.
    std::fs::write(out.join("my-notes.md"), "mine").unwrap();
    run_to(&out, &[]).code(2).stderr(contains("my-notes.md"));
    assert!(out.join("my-notes.md").is_file());
}

#[test]
fn every_command_with_out_takes_force() {
    for cmd in ["run", "check", "compare", "sweep", "tune", "chaos", "merge"] {
        fleetsim()
            .args([cmd, "--help"])
            .assert()
            .success()
            .stdout(contains("--force"));
    }
}

/// Regression: `fleetsim report DIR` dropped every subfolder but `plots/` and every file it
/// did not know.
#[test]
fn report_keeps_the_users_files_and_subfolders() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    run_to(&out, &[]).success();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    std::fs::create_dir(out.join("analysis")).unwrap();
    std::fs::write(out.join("analysis/plot.py"), "print(1)").unwrap();
    fleetsim()
        .arg("report")
        .arg(&out)
        .arg("--quiet")
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("analysis/plot.py")).unwrap(),
        "print(1)"
    );
    assert!(out.join("report.html").is_file() && out.join("summary.md").is_file());
    assert!(out.join("plots/composition.svg").is_file());
    // What report added is listed as fleetsim's; the user's files are not.
    let marker = std::fs::read_to_string(out.join(".fleetsim")).unwrap();
    assert!(marker.contains("file: report.html"), "{marker}");
    assert!(!marker.contains("notes.txt"), "{marker}");
    assert!(hidden_siblings(dir.path()).is_empty());
}

/// A PID no process has: a child that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

/// Regression: a killed run's `.X.tmp-PID` folder stayed for ever.
#[test]
fn stale_staging_folders_of_dead_runs_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let stale = dir.path().join(format!(".r.tmp-{}", dead_pid()));
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("summary.json"), "{").unwrap();
    // Another folder's staging is not ours to clean.
    let other = dir.path().join(format!(".other.tmp-{}", dead_pid()));
    std::fs::create_dir(&other).unwrap();
    run_to(&out, &[]).success();
    assert!(!stale.exists(), "stale staging folder left");
    assert!(other.exists());
    assert_complete(&out);
}

/// A run killed between the two renames of the fallback swap left the old report at
/// `.X.old-PID` and no `X`: the next run puts it back, so even a failing run leaves it.
#[test]
fn a_report_set_aside_by_a_killed_run_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    run_to(&out, &[]).success();
    let before = std::fs::read(out.join("summary.json")).unwrap();
    std::fs::rename(&out, dir.path().join(format!(".r.old-{}", dead_pid()))).unwrap();
    run_to(&out, &["--max-events", "100"]).code(2);
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), before);
    assert!(hidden_siblings(dir.path()).is_empty());
}

/// Regression: the swap was two renames, so a kill between them left no report at all. Kill a
/// large run with SIGKILL at several instants of its writing: the folder is always the old
/// complete report or the new complete one, and the next run cleans up the litter.
#[test]
fn a_killed_run_leaves_the_old_or_the_new_complete_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big");
    let args = |out: &Path| {
        let mut c = std::process::Command::new(bin());
        c.arg("run")
            .arg(scenario("scale-1m.toml"))
            .args([
                "--replications",
                "1",
                "--devices",
                "--quiet",
                "--threads",
                "1",
            ])
            .arg("--out")
            .arg(out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c
    };
    assert!(args(&out).status().unwrap().success());
    assert_complete(&out);
    for delay_ms in [150, 400, 700, 1000, 1400, 1900, 2500] {
        let mut child = args(&out).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        assert_complete(&out);
        let devices = std::fs::metadata(out.join("devices.csv")).unwrap().len();
        assert!(
            devices > 1_000_000,
            "devices.csv is half-written ({devices} bytes)"
        );
    }
    assert!(args(&out).status().unwrap().success());
    assert_complete(&out);
    assert!(
        hidden_siblings(dir.path()).is_empty(),
        "litter left: {:?}",
        hidden_siblings(dir.path())
    );
}

fn corpus(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/corpus")
        .join(name)
}

/// Every table of a Markdown text: each row has as many cell separators (unescaped `|`) as
/// its header, so no text split a row.
fn assert_tables_intact(md: &str) {
    let pipes = |l: &str| {
        let b = l.as_bytes();
        (0..b.len())
            .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
            .count()
    };
    let mut header: Option<usize> = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let n = *header.get_or_insert(pipes(line));
            assert_eq!(pipes(line), n, "broken table row: {line}");
        } else {
            header = None;
        }
    }
}

/// Regression (issue 10.7): control characters in a name made the JUnit XML invalid, and a
/// name went raw into summary.md: a new line and `#` made a heading, `<img onerror>` HTML, `|`
/// a broken table row.
#[test]
fn names_cannot_inject_into_junit_markdown_or_html() {
    let dir = tempfile::tempdir().unwrap();
    let file = corpus("injection-names.toml");
    let junit = dir.path().join("junit.xml");
    fleetsim()
        .arg("check")
        .arg(&file)
        .arg("--junit")
        .arg(&junit)
        .assert()
        .code(1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("the JUnit XML parses");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert!(suite.attribute("name").unwrap().contains("<img src=x"));
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(failure.attribute("message").unwrap().contains("# pwned"));

    let out = dir.path().join("r");
    fleetsim()
        .arg("run")
        .arg(&file)
        .arg("--quiet")
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(!md.contains("<img"), "{md}");
    assert!(!md.lines().any(|l| l.starts_with("# pwned")), "{md}");
    assert!(
        md.contains("&lt;img"),
        "the name is still there, escaped: {md}"
    );
    assert!(!md.contains('\u{1}'), "{md}");
    assert_tables_intact(&md);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        !html.contains("<img"),
        "report.html holds raw HTML of a name"
    );
    assert!(html.contains("&lt;img src=x"));
}
