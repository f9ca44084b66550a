//! `by_cohort` (issue 13, item 8): harmed and bricked devices, failures and stranded devices by
//! reason, per model, region and stage. Each dimension partitions the fleet, so the cohorts of
//! a dimension sum to the global metric in every replication; harm lands in exactly the
//! cohorts a defect selects; `summary.json` aggregates each cohort as the global metrics are
//! aggregated, and the report shows the table.

use assert_cmd::Command;
mod common;

use common::outcomes_of as outcomes;
use fleetsim::analysis::run::summarise;
use fleetsim::scenario::Scenario;

/// 4 000 devices in two populations: `sensors` mixes two models and two regions and has no A/B
/// slots (a failed boot bricks it), `gateways` is one model in `eu` with A/B slots; a flaky
/// link (sessions of ~6 h, gaps of ~2 h) and 2 % transient install failures give failures of
/// several kinds, and a window of 10 h strands the devices still offline or mid-retry then. The target's boot failure strikes model
/// `sn-20` only (probability 0.3); a canary of 5 % with a gate, then everyone.
const SCENARIO: &str = r#"
[simulation]
name = "cohorts"
seed = 9
horizon = "4d"
replications = 4

[connectivity.flaky]
online = { dist = "exponential", mean = "6h" }
offline = { dist = "exponential", mean = "2h" }
check_in = "10m"
bandwidth_kbps = 2000

[[population]]
name = "sensors"
count = 3000
model = { sn-10 = 0.6, sn-20 = 0.4 }
region = { eu = 0.5, us = 0.5 }
utc_offset = { eu = "+01:00", us = "-05:00" }
firmware = "1.0.0"
connectivity = "flaky"
ab_slots = false
install_failure = 0.02

[[population]]
name = "gateways"
count = 1000
model = "gw-1"
region = "eu"
firmware = "1.0.0"
connectivity = "flaky"
install_failure = 0.02

[[release]]
version = "1.0.0"
size_mb = 5

[[release]]
version = "2.0.0"
size_mb = 5
[[release.defect]]
effect = "boot-failure"
probability = 0.3
where = { model = "sn-20" }

[policy]
target = "2.0.0"
rate = { per_minute = 20 }
window = "10h"
timeout = "3h"
retry = { attempts = 2, backoff = "30m" }

[[policy.stage]]
name = "canary"
select = {}
percent = 5
bake = "6h"
[policy.stage.gate]
min_devices = 50
on_fail = "pause"
[[policy.stage.gate.check]]
metric = "update_failure_rate"
max = 0.5

[[policy.stage]]
name = "all"
select = {}
percent = 100
"#;

fn scenario() -> Scenario {
    common::scenario(SCENARIO)
}

/// In every replication and every dimension: Σ harmed = `harmed`, Σ bricked = `bricked`, and
/// per reason Σ failures = `failures_by_reason`, Σ stranded = `stranded_by_reason`. Every cohort
/// of the scenario is present (models gw-1, sn-10, sn-20; regions eu, us; stages canary, all and
/// `not targeted`). The run must have something to sum: harm, bricks, at least two failure
/// reasons and stranded devices.
#[test]
fn each_dimension_sums_to_the_global_metrics_in_every_replication() {
    let sc = scenario();
    let outcomes = outcomes(&sc);
    for o in &outcomes {
        let dims: Vec<&String> = o.by_cohort.keys().collect();
        assert_eq!(dims, ["model", "region", "stage"]);
        let names = |d: &str| o.by_cohort[d].keys().cloned().collect::<Vec<_>>();
        assert_eq!(names("model"), ["gw-1", "sn-10", "sn-20"]);
        assert_eq!(names("region"), ["eu", "us"]);
        assert_eq!(names("stage"), ["all", "canary", "not targeted"]);
        for (dim, cohorts) in &o.by_cohort {
            let sum = |f: &dyn Fn(&fleetsim::metrics::cohort::CohortCounts) -> u64| -> u64 {
                cohorts.values().map(f).sum()
            };
            assert_eq!(sum(&|c| c.harmed), o.harmed, "harmed by {dim}");
            assert_eq!(sum(&|c| c.bricked), o.bricked, "bricked by {dim}");
            for (k, n) in &o.failures_by_reason {
                assert_eq!(
                    sum(&|c| c.failures_by_reason[k]),
                    *n,
                    "failures {k} by {dim}"
                );
            }
            for (k, n) in &o.stranded_by_reason {
                assert_eq!(
                    sum(&|c| c.stranded_by_reason[k]),
                    *n,
                    "stranded {k} by {dim}"
                );
            }
        }
        let kinds = o.failures_by_reason.values().filter(|n| **n > 0).count();
        eprintln!(
            "replication {}: harmed {}, bricked {}, failure kinds {kinds}, stranded {}",
            o.replication, o.harmed, o.bricked, o.stranded
        );
        assert!(
            o.harmed > 0 && o.bricked > 0 && kinds >= 2 && o.stranded > 0,
            "{o:?}"
        );
    }
}

/// The defect selects model `sn-20`: every harmed and bricked device is in that model's cohort
/// (none in sn-10 or gw-1), bricked devices are sensors (no A/B slots, so a boot failure bricks
/// them and `bricked` failures are theirs), and nobody is harmed outside a stage. Both regions
/// hold sn-20 devices, so both see harm.
#[test]
fn harm_lands_in_the_cohorts_the_defect_selects() {
    let sc = scenario();
    for o in outcomes(&sc) {
        let model = &o.by_cohort["model"];
        assert_eq!(model["sn-20"].harmed, o.harmed);
        assert_eq!(model["sn-20"].bricked, o.bricked);
        assert_eq!(model["sn-10"].harmed + model["gw-1"].harmed, 0);
        assert_eq!(model["gw-1"].failures_by_reason["bricked"], 0);
        let region = &o.by_cohort["region"];
        assert!(
            region["eu"].harmed > 0 && region["us"].harmed > 0,
            "{region:?}"
        );
        assert_eq!(o.by_cohort["stage"]["not targeted"].harmed, 0);
    }
}

/// `summary.json`'s `by_cohort` aggregates each cohort across replications as the global metrics
/// are: the aggregate of a cohort's per-replication counts (sn-20's harm is all the harm, so its
/// aggregate is the global one, every statistic), and a reason no replication saw is left out.
#[test]
fn the_summary_aggregates_each_cohort_across_replications() {
    let sc = scenario();
    let outcomes = outcomes(&sc);
    let s = summarise(&outcomes);
    let sn20 = &s.by_cohort["model"]["sn-20"];
    let json = |a: &fleetsim::stats::Aggregate| serde_json::to_string(a).unwrap();
    assert_eq!(json(&sn20.harmed), json(&s.metrics["harmed"]));
    assert_eq!(json(&sn20.bricked), json(&s.metrics["bricked"]));
    let gw = &s.by_cohort["model"]["gw-1"];
    assert!(!gw.failures_by_reason.contains_key("bricked"), "{gw:?}");
    let mean_sum: f64 = (s.by_cohort["stage"].values())
        .map(|c| c.harmed.mean.unwrap())
        .sum();
    assert!((mean_sum - s.metrics["harmed"].mean.unwrap()).abs() < 1e-9);
}

/// The run folder carries it: `summary.json` has `by_cohort`, `summary.md` and `report.html` a
/// table by cohort; `replications.csv` has no per-cohort column (its columns are the same for
/// every scenario).
#[test]
fn the_report_shows_the_cohort_table() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cohorts.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let out = dir.path().join("out");
    Command::cargo_bin("fleetsim")
        .unwrap()
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--replications", "2", "--out"])
        .arg(&out)
        .assert()
        .success();
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&read("summary.json")).unwrap();
    let harmed = &summary["by_cohort"]["model"]["sn-20"]["harmed"];
    assert_eq!(harmed["mean"], summary["metrics"]["harmed"]["mean"]);
    let md = read("summary.md");
    assert!(md.contains("**By cohort** (mean per run)"), "{md}");
    assert!(md.contains("| model `sn-20` |"), "{md}");
    let html = read("report.html");
    assert!(html.contains("Failures and stranded devices by model, region and stage"));
    let header = read("replications.csv").lines().next().unwrap().to_string();
    assert!(
        !header.contains("sn-20") && !header.contains("cohort"),
        "{header}"
    );
}
