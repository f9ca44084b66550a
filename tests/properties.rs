//! Property tests (proptest, fixed seed so CI is reproducible): whatever a user overrides with
//! `--set`, a scenario that validates runs to completion within its event limit without an
//! invariant breach, a panic or a hang; and a report re-rendered from its data files is byte
//! for byte the report the run wrote.
//!
//! The overrides are drawn from every leaf key of the fixtures, with values chosen to sit at
//! the edges: zero, negatives, huge counts and durations, NaN and infinities, bare numbers
//! where a duration is expected, degenerate distributions, the wrong type. A failing case
//! prints the fixture and overrides that reproduce it (`fleetsim run FIXTURE --set …`).

use fleetsim::analysis::run::{run, RunOptions};
use fleetsim::error::Error;
use fleetsim::scenario::load_str;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// The fixtures the properties start from (`scale-1m` is left out: a million devices per case
/// would make the suite slow without covering anything the others do not).
const FIXTURES: [&str; 6] = [
    "scenarios/bad-release.toml",
    "scenarios/seed-staged-rollout.toml",
    "scenarios/sleepy-fleet.toml",
    "scenarios/migration-chain.toml",
    "scenarios/regional-outage-chaos.toml",
    "scenarios/reference.toml",
];

/// Values at the edges of what a scenario key can hold, as a user would type them after `=`.
const EDGE_VALUES: [&str; 32] = [
    "0",
    "1",
    "-1",
    "0.5",
    "2",
    "1e9",
    "1e19",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "18446744073709551615",
    "\"1e15\"",
    "\"10000y\"",
    "\"0s\"",
    "\"1ms\"",
    "\"72\"",
    "\"1.5h\"",
    "true",
    "false",
    "\"\"",
    "\"x\"",
    "[]",
    "{}",
    "{ dist = \"normal\", mean = 1, sd = 0, min = 5, max = 5 }",
    "{ dist = \"normal\", mean = \"1h\", sd = \"1h\", min = \"1h\", max = \"1h\" }",
    "{ dist = \"lognormal\", median = \"1m\", p95 = \"1d\" }",
    "{ dist = \"lognormal\", mu = \"1.5h\", sigma = 2 }",
    "{ dist = \"exponential\", mean = \"1e15\" }",
    "{ dist = \"weibull\", shape = 0.01, scale = \"1d\" }",
    "{ dist = \"uniform\", min = 5, max = 1 }",
    "{ dist = \"empirical\", values = [] }",
];

/// Every leaf key path of a TOML document in `--set` syntax (`policy.stage[1].gate.min_devices`,
/// `policy.rate.per_minute`).
fn leaf_paths(text: &str) -> Vec<String> {
    fn walk(prefix: &str, item: &toml_edit::Item, out: &mut Vec<String>) {
        match item {
            toml_edit::Item::Table(t) => {
                for (k, v) in t.iter() {
                    walk(&join(prefix, k), v, out);
                }
            }
            toml_edit::Item::ArrayOfTables(a) => {
                for (i, t) in a.iter().enumerate() {
                    for (k, v) in t.iter() {
                        walk(&join(&format!("{prefix}[{i}]"), k), v, out);
                    }
                }
            }
            toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => {
                out.push(prefix.to_string());
                for (k, v) in t.iter() {
                    walk(&join(prefix, k), &toml_edit::Item::Value(v.clone()), out);
                }
            }
            toml_edit::Item::Value(_) => out.push(prefix.to_string()),
            toml_edit::Item::None => {}
        }
    }
    fn join(prefix: &str, key: &str) -> String {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    }
    let doc: toml_edit::DocumentMut = text.parse().unwrap();
    let mut out = Vec::new();
    walk("", doc.as_item(), &mut out);
    out
}

/// A value for an override: an edge value, or an ordinary number of the kind users write.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => (0..EDGE_VALUES.len()).prop_map(|i| EDGE_VALUES[i].to_string()),
        1 => (0u64..100_000).prop_map(|n| n.to_string()),
        2 => (0.0f64..1.0).prop_map(|x| format!("{x}")),
        2 => (1u64..1000, prop::sample::select(vec!["s", "m", "h", "d"]))
            .prop_map(|(n, u)| format!("\"{n}{u}\"")),
    ]
}

/// One case: a fixture and one or two overrides of its keys.
fn case() -> impl Strategy<Value = (usize, Vec<(usize, String)>)> {
    (
        0..FIXTURES.len(),
        prop::collection::vec((0usize..10_000, value()), 1..=2),
    )
}

/// Random override cases per run of the suite.
const CASES: u32 = 600;

/// Cases that validated and ran (so the property is not vacuous).
static RAN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// What a case did, when it did not end as it must.
fn run_case(text: String, label: String, overrides: Vec<(String, String)>) -> Result<(), String> {
    let sc = match load_str(&text, &label, Path::new("."), &overrides) {
        Ok(sc) => sc,
        Err(Error::Input(_)) | Err(Error::Limit(_)) => return Ok(()),
        Err(e) => return Err(format!("loading failed with a non-input error: {e}")),
    };
    // A fleet made huge by an override is the memory check's business, not this property's.
    if sc.device_count() > 200_000 {
        return Ok(());
    }
    let opts = RunOptions {
        threads: Some(1),
        max_events: Some(3_000_000),
        daily_invariants: true,
        ..RunOptions::default()
    };
    RAN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match run(&sc, 0..sc.replications.min(1), &opts) {
        Ok(_) | Err(Error::Limit(_)) | Err(Error::Input(_)) => Ok(()),
        Err(e) => Err(format!("{e}")),
    }
}

/// Runs `f` on another thread and gives up after `limit`: a hang fails the property instead
/// of holding CI until its time-out.
fn within<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<std::thread::Result<T>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    rx.recv_timeout(limit).ok()
}

#[test]
fn any_override_of_a_fixture_validates_or_runs_without_panic_breach_or_hang() {
    let texts: Vec<String> = FIXTURES
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    let paths: Vec<Vec<String>> = texts.iter().map(|t| leaf_paths(t)).collect();
    // Shrinking replays a case many times; a hung case costs its whole time limit per replay,
    // so shrinking is bounded in time too.
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        max_shrink_time: 90_000,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[11; 32]));
    let result = runner.run(&case(), |(f, picks)| {
        let mut overrides: Vec<(String, String)> = picks
            .iter()
            .map(|(k, v)| (paths[f][k % paths[f].len()].clone(), v.clone()))
            .collect();
        overrides.push(("simulation.replications".into(), "1".into()));
        let repro = format!(
            "fleetsim run {} {}",
            FIXTURES[f],
            overrides
                .iter()
                .map(|(k, v)| format!("--set '{k}={v}'"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let (text, label) = (texts[f].clone(), FIXTURES[f].to_string());
        match within(Duration::from_secs(30), move || {
            run_case(text, label, overrides)
        }) {
            None => Err(TestCaseError::fail(format!("hung (> 30 s): {repro}"))),
            Some(Err(_)) => Err(TestCaseError::fail(format!("panicked: {repro}"))),
            Some(Ok(Err(e))) => Err(TestCaseError::fail(format!("{e}: {repro}"))),
            Some(Ok(Ok(()))) => Ok(()),
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Most edge values are refused at validation (as they must be: a number where a name or a
    // version goes, a duration past the limit); enough cases must still validate and run for
    // the property to say something about the simulator (about one in five does).
    let ran = RAN.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!("{ran} of {CASES} cases validated and ran");
    assert!(
        ran >= CASES as usize / 8,
        "only {ran} of {CASES} cases validated and ran"
    );
}

/// A results folder's report, re-rendered from its data files alone, is the same bytes the run
/// wrote (plots, report.html, summary.md), for fixtures run on random seeds.
#[test]
fn a_rerendered_report_is_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        cases: 3,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[5; 32]));
    let n = std::sync::atomic::AtomicUsize::new(0);
    let result = runner.run(&(0..FIXTURES.len(), 0u64..1_000_000), |(f, seed)| {
        let k = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let out = dir.path().join(format!("case-{k}"));
        let fleetsim = || assert_cmd::Command::cargo_bin("fleetsim").unwrap();
        fleetsim()
            .args(["run", FIXTURES[f], "--quiet", "--replications", "2"])
            .args(["--seed", &seed.to_string()])
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        let before = report_files(&out);
        fleetsim().arg("report").arg(&out).assert().success();
        let after = report_files(&out);
        prop_assert_eq!(before.len(), after.len());
        for ((name, a), (_, b)) in before.iter().zip(&after) {
            prop_assert!(
                a == b,
                "{} seed {}: {} differs after re-rendering",
                FIXTURES[f],
                seed,
                name
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The rendered files of a results folder, by name, in a stable order.
fn report_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = vec![
        (
            "report.html".to_string(),
            std::fs::read(dir.join("report.html")).unwrap(),
        ),
        (
            "summary.md".to_string(),
            std::fs::read(dir.join("summary.md")).unwrap(),
        ),
    ];
    let mut plots: Vec<_> = std::fs::read_dir(dir.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    plots.sort();
    for p in plots {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        files.push((format!("plots/{name}"), std::fs::read(&p).unwrap()));
    }
    files
}
