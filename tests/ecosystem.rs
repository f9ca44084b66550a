//! The binary among the tools around it (issue 15): shell completions and man pages, usage
//! errors that say `error:` once, errors as JSON with `--format json`, JUnit XML through
//! quick-junit, `compare --baseline` against saved results, and `compare` in GitHub Actions.

use assert_cmd::Command;
use predicates::str::contains;
use std::path::Path;

fn fleetsim() -> Command {
    let mut c = Command::cargo_bin("fleetsim").unwrap();
    c.env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("SOURCE_DATE_EPOCH");
    c
}

fn stderr_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Regression: clap's message starts with `error:` and the binary printed its own in front,
/// `error: error: unexpected argument`.
#[test]
fn a_usage_error_says_error_once() {
    for args in [
        &["run", "--bogus"][..],
        &["compare"],
        &["check", "--replications", "many", "x.toml"],
    ] {
        let o = fleetsim().args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr_of(&o);
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert_eq!(err.matches("error:").count(), 1, "{args:?}: {err}");
    }
}

/// `fleetsim` alone shows the help on stderr with exit 2, not the help text as an error.
#[test]
fn no_command_prints_the_help() {
    let o = fleetsim().output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr_of(&o);
    assert!(!err.contains("error:"), "{err}");
    assert!(err.contains("Usage: fleetsim [OPTIONS] <COMMAND>"), "{err}");
}

#[test]
fn completions_for_every_shell_know_the_commands_and_flags() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = fleetsim().args(["completions", shell]).output().unwrap();
        assert!(o.status.success(), "{shell}");
        let script = String::from_utf8(o.stdout).unwrap();
        for word in ["fleetsim", "compare", "save-baseline", "baseline", "junit"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    let bash = fleetsim().args(["completions", "bash"]).output().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleetsim.bash");
    std::fs::write(&file, &bash.stdout).unwrap();
    // The script is valid bash (parsed, not run).
    if let Ok(status) = std::process::Command::new("bash")
        .arg("-n")
        .arg(&file)
        .status()
    {
        assert!(status.success(), "bash -n rejects the completion script");
    }
    fleetsim()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(contains("possible values: bash, zsh, fish"));
}

#[test]
fn man_prints_the_page_and_writes_one_per_command() {
    let o = fleetsim().arg("man").output().unwrap();
    assert!(o.status.success());
    let page = String::from_utf8(o.stdout).unwrap();
    assert!(page.contains(".TH fleetsim 1"), "{page}");
    assert!(page.contains("compare"));
    let dir = tempfile::tempdir().unwrap();
    let man1 = dir.path().join("man1");
    fleetsim()
        .args(["man", "--dir"])
        .arg(&man1)
        .assert()
        .success();
    let run = std::fs::read_to_string(man1.join("fleetsim-run.1")).unwrap();
    assert!(run.contains(".TH fleetsim-run 1"), "{run}");
    assert!(run.contains("save\\-baseline"), "{run}");
    assert!(
        run.contains("Examples:"),
        "the examples are in the page: {run}"
    );
    for cmd in [
        "check", "compare", "sweep", "tune", "chaos", "validate", "merge",
    ] {
        assert!(man1.join(format!("fleetsim-{cmd}.1")).is_file(), "{cmd}");
    }
}

#[test]
fn every_command_help_ends_with_examples() {
    for cmd in [
        "run", "check", "compare", "sweep", "tune", "chaos", "validate", "merge",
    ] {
        fleetsim()
            .args([cmd, "--help"])
            .assert()
            .success()
            .stdout(contains(format!("Examples:\n  fleetsim {cmd}")));
    }
}

/// One JSON object per stderr line.
fn json_lines(stderr: &str) -> Vec<serde_json::Value> {
    stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

#[test]
fn with_format_json_a_scenario_error_is_json_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[simulation]\nname = \"x\"\nhorizon = \"5d\"\nbogus = 1\n",
    )
    .unwrap();
    for cmd in ["run", "validate", "check"] {
        let o = fleetsim()
            .arg(cmd)
            .arg(&bad)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let records = json_lines(&stderr_of(&o));
        // Every problem of the file is reported at once: the unknown key first (the missing
        // `[policy]` follows), each a record of its own.
        assert!(records.len() >= 2, "{cmd}: {records:?}");
        let r = &records[0];
        assert_eq!(records[1]["message"], "missing field `policy`", "{cmd}");
        assert_eq!(r["severity"], "error");
        assert_eq!(r["kind"], "input");
        assert_eq!(r["file"], bad.display().to_string());
        assert_eq!(
            (r["line"].as_u64(), r["column"].as_u64()),
            (Some(4), Some(1))
        );
        assert_eq!(r["key_path"], "simulation.bogus");
        assert!(r["message"]
            .as_str()
            .unwrap()
            .contains("unknown key `bogus`"));
        assert!(r["valid"].as_str().unwrap().contains("horizon"), "{r}");
    }
    // Without --format json the same error is the sentence it always was.
    fleetsim()
        .arg("run")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(contains(":4:1: simulation.bogus: unknown key `bogus`"));
}

#[test]
fn with_format_json_a_usage_error_is_json() {
    let o = fleetsim()
        .args(["run", "--format", "json", "--replications", "many"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let records = json_lines(&stderr_of(&o));
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(r["kind"], "usage");
    assert!(r["file"].is_null() && r["line"].is_null() && r["key_path"].is_null());
    let message = r["message"].as_str().unwrap();
    assert!(message.contains("invalid value 'many'"), "{message}");
    assert!(!message.contains("Usage:"), "{message}");
    // `--format=json` asks for JSON too, and a problem fleetsim finds in a flag's value (not
    // clap) is a usage error like clap's.
    let o = fleetsim()
        .args([
            "compare",
            "a.toml",
            "--set",
            "x=1",
            "--guard",
            "harmed",
            "--format=json",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let r = &json_lines(&stderr_of(&o))[0];
    assert!(
        r["message"].as_str().unwrap().contains("--guard `harmed`"),
        "{r}"
    );
}

/// Two files with the same `simulation.name`, a file that does not load and one that fails an
/// expectation: the XML parses, every suite has its own name, the broken file is an `error`
/// case, and the document carries `time` and `timestamp`.
#[test]
fn junit_names_suites_apart_and_reports_a_scenario_that_does_not_load() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.toml");
    std::fs::copy("scenarios/seed-staged-rollout.toml", &copy).unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[simulation]\nname = \"broken\"\nhorizon = 3\n").unwrap();
    let junit = dir.path().join("junit.xml");
    fleetsim()
        .args(["check", "scenarios/seed-staged-rollout.toml"])
        .arg(&copy)
        .arg(&broken)
        .args(["--replications", "3", "--quiet", "--junit"])
        .arg(&junit)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .assert()
        .code(2)
        .stderr(contains("broken.toml"));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("valid XML");
    let root = doc.root_element();
    assert_eq!(root.attribute("errors"), Some("1"));
    assert_eq!(
        root.attribute("timestamp"),
        Some("2026-01-01T00:00:00.000+00:00")
    );
    assert!(root.attribute("time").unwrap().parse::<f64>().unwrap() >= 0.0);
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let names: Vec<&str> = suites
        .iter()
        .map(|s| s.attribute("name").unwrap())
        .collect();
    assert_eq!(names.len(), 3);
    assert_eq!(
        names[0],
        "seed-staged-rollout (scenarios/seed-staged-rollout.toml)"
    );
    assert_eq!(
        names[1],
        format!("seed-staged-rollout ({})", copy.display())
    );
    assert!(suites[0].attribute("time").is_some() && suites[0].attribute("timestamp").is_some());
    let error = suites[2]
        .descendants()
        .find(|n| n.has_tag_name("error"))
        .expect("an error test case for the file that does not load");
    assert!(error.attribute("message").unwrap().contains("broken.toml"));
    assert_eq!(suites[2].attribute("errors"), Some("1"));
}

/// What a compare printed as JSON, without the `base` label (which names the baseline).
fn compare_json(o: &std::process::Output) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v.as_object_mut().unwrap().remove("base");
    v
}

const CANDIDATE: &str = "policy.stage[1].bake=1h";

/// The criterion workflow: save the base once, compare candidates against it. The verdict,
/// every row's numbers and the halt reasons are those of the two-scenario compare on the same
/// seeds, to the bit (the saved replications are the outcomes' own round-trip decimals).
#[test]
fn a_baseline_compare_gives_the_numbers_of_the_two_scenario_compare() {
    let dir = tempfile::tempdir().unwrap();
    let d = |p: &str| dir.path().join(p);
    let plan = "scenarios/bad-release.toml";
    fleetsim()
        .current_dir(dir.path())
        .arg("run")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(plan))
        .args([
            "--replications",
            "6",
            "--save-baseline",
            "main",
            "--quiet",
            "--no-report",
        ])
        .assert()
        .success();
    let saved = d("reports/baselines/bad-release/main");
    assert!(saved.join("baseline.json").is_file());
    assert!(saved.join("healthy-replications.csv").is_file());
    let direct = fleetsim()
        .args([
            "compare",
            plan,
            "--set",
            CANDIDATE,
            "--replications",
            "6",
            "--no-report",
        ])
        .args(["--format", "json", "--out"])
        .arg(d("direct"))
        .output()
        .unwrap();
    assert_eq!(direct.status.code(), Some(1), "the candidate regresses");
    let by_path = fleetsim()
        .args(["compare", "--baseline"])
        .arg(&saved)
        .args([
            plan,
            "--set",
            CANDIDATE,
            "--replications",
            "6",
            "--no-report",
        ])
        .args(["--format", "json", "--out"])
        .arg(d("by-path"))
        .output()
        .unwrap();
    assert_eq!(by_path.status.code(), Some(1), "{}", stderr_of(&by_path));
    assert_eq!(compare_json(&direct), compare_json(&by_path));
    // By name, from the folder the baseline was saved in.
    let by_name = fleetsim()
        .current_dir(dir.path())
        .args(["compare", "--baseline", "main"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(plan))
        .args([
            "--set",
            CANDIDATE,
            "--replications",
            "6",
            "--no-report",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(by_name.status.code(), Some(1), "{}", stderr_of(&by_name));
    let mut expected = compare_json(&direct);
    let mut got = compare_json(&by_name);
    // The candidate's label is its path, which differs here.
    expected.as_object_mut().unwrap().remove("candidate");
    got.as_object_mut().unwrap().remove("candidate");
    assert_eq!(expected, got);
}

/// A plain `run` folder is a baseline too (as-written guards; it has no healthy world), and
/// a merge of shards writes the very `baseline.json` of the unsharded run.
#[test]
fn a_run_folder_is_a_baseline_and_merge_writes_the_same_identity() {
    let dir = tempfile::tempdir().unwrap();
    let d = |p: &str| dir.path().join(p);
    let plan = "scenarios/bad-release.toml";
    let run = ["run", plan, "--replications", "4", "--quiet", "--no-report"];
    fleetsim()
        .args(run)
        .arg("--out")
        .arg(d("full"))
        .assert()
        .success();
    for k in 1..=2 {
        fleetsim()
            .args(run)
            .args(["--shard", &format!("{k}/2"), "--out"])
            .arg(d(&format!("s{k}")))
            .assert()
            .success();
    }
    fleetsim()
        .arg("merge")
        .args([d("s1"), d("s2")])
        .args(["--quiet", "--no-report", "--out"])
        .arg(d("merged"))
        .assert()
        .success();
    assert_eq!(
        std::fs::read(d("full/baseline.json")).unwrap(),
        std::fs::read(d("merged/baseline.json")).unwrap()
    );
    let guard = ["--guard", "harmed:p95", "--guard", "bricked:mean"];
    let cmp = |baseline: Option<&Path>, out: &str| {
        let mut c = fleetsim();
        c.arg("compare");
        if let Some(b) = baseline {
            c.arg("--baseline").arg(b);
        }
        c.args([
            plan,
            "--set",
            CANDIDATE,
            "--replications",
            "4",
            "--no-report",
        ])
        .args(guard)
        .args(["--format", "json", "--out"])
        .arg(d(out))
        .output()
        .unwrap()
    };
    let direct = cmp(None, "c1");
    let saved = cmp(Some(&d("merged")), "c2");
    assert_eq!(
        direct.status.code(),
        saved.status.code(),
        "{}",
        stderr_of(&saved)
    );
    assert_eq!(compare_json(&direct), compare_json(&saved));
    // The default guards judge false halts in the healthy world, which a run folder lacks.
    let o = fleetsim()
        .args(["compare", "--baseline"])
        .arg(d("full"))
        .args([plan, "--replications", "4", "--set", CANDIDATE])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr_of(&o).contains("--save-baseline"),
        "{}",
        stderr_of(&o)
    );
}

/// A baseline of another seed, replication count or world (here: another horizon, then
/// another release size) is refused with exit 2 and what to do; nothing is simulated.
#[test]
fn a_baseline_of_another_seed_or_world_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("base");
    let plan = "scenarios/seed-staged-rollout.toml";
    fleetsim()
        .args([
            "run",
            plan,
            "--replications",
            "3",
            "--quiet",
            "--no-report",
            "--out",
        ])
        .arg(&saved)
        .assert()
        .success();
    let refused = |extra: &[&str], says: &str| {
        let o = fleetsim()
            .args(["compare", "--baseline"])
            .arg(&saved)
            .arg(plan)
            .args(["--set", "policy.rate.per_minute=60"])
            .args(extra)
            .args(["--out"])
            .arg(dir.path().join("cmp"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        let err = stderr_of(&o);
        assert!(err.contains(says), "{extra:?}: {err}");
        assert!(err.starts_with("error: --baseline"), "{err}");
    };
    refused(
        &["--replications", "3", "--seed", "8"],
        "saved with seed 7, the candidate runs seed 8; a paired comparison needs",
    );
    refused(&["--replications", "3", "--seed", "8"], "pass --seed 7");
    refused(&[], "it holds 3 replications, the candidate runs");
    refused(
        &["--replications", "3", "--set", "simulation.horizon=40d"],
        "devices over",
    );
    refused(
        &["--replications", "3", "--set", "release[1].size_mb=99"],
        "the candidate's world",
    );
    assert!(
        !dir.path().join("cmp").exists(),
        "a refused compare writes nothing"
    );
    // The policy may change: that is what is compared.
    fleetsim()
        .args(["compare", "--baseline"])
        .arg(&saved)
        .arg(plan)
        .args([
            "--set",
            "policy.rate.per_minute=60",
            "--replications",
            "3",
            "--quiet",
        ])
        .args(["--out"])
        .arg(dir.path().join("cmp"))
        .assert()
        .code(predicates::ord::lt(2));
    // A baseline name is one folder name, and the folder is not chosen with --out as well.
    fleetsim()
        .args(["run", plan, "--save-baseline", "../up"])
        .assert()
        .code(2)
        .stderr(contains(
            "--save-baseline `../up`: a baseline name is letters",
        ));
    fleetsim()
        .args(["run", plan, "--save-baseline", "main", "--out", "x"])
        .assert()
        .code(2)
        .stderr(contains("cannot be used with"));
    fleetsim()
        .args(["compare", "--baseline", "nothing-saved", plan])
        .assert()
        .code(2)
        .stderr(contains(
            "save one with `fleetsim run SCENARIO --save-baseline nothing-saved`",
        ));
}

/// Like `check`: a guard that regressed is an `::error` annotation on the candidate's file,
/// the job summary gets a table of the guards, and `--junit` has a test case per guard.
#[test]
fn compare_under_github_actions_annotates_summarises_and_writes_junit() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let junit = dir.path().join("compare.xml");
    let o = fleetsim()
        .args(["compare", "scenarios/bad-release.toml", "--set", CANDIDATE])
        .args(["--replications", "6", "--no-report", "--out"])
        .arg(dir.path().join("out"))
        .arg("--junit")
        .arg(&junit)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let stdout = String::from_utf8(o.stdout).unwrap();
    let annotation = stdout
        .lines()
        .find(|l| l.starts_with("::error file=scenarios/bad-release.toml,title=fleetsim compare::"))
        .unwrap_or_else(|| panic!("no annotation: {stdout}"));
    assert!(annotation.contains("regressed: base"), "{annotation}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("### fleetsim compare: bad-release"), "{md}");
    assert!(md.contains("| `harmed p95` |"), "{md}");
    assert!(md.contains("❌ regressed"), "{md}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 4, "one per default guard: {xml}");
    let failed = cases
        .iter()
        .filter(|c| c.children().any(|f| f.has_tag_name("failure")))
        .count();
    assert_eq!(
        doc.root_element().attribute("failures"),
        Some(failed.to_string().as_str())
    );
    assert!(failed >= 1, "{xml}");
    assert!(doc.root_element().attribute("timestamp").is_some());
    // With --format json stdout is the document alone; the summary is still written.
    let o = fleetsim()
        .args(["compare", "scenarios/bad-release.toml", "--set", CANDIDATE])
        .args([
            "--replications",
            "6",
            "--no-report",
            "--format",
            "json",
            "--out",
        ])
        .arg(dir.path().join("out"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let _: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is only JSON");
    assert_eq!(
        std::fs::read_to_string(&summary)
            .unwrap()
            .matches("### fleetsim compare")
            .count(),
        2
    );
}
