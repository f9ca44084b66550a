//! Support and operations (SPEC §1.8, the quarantine of §1.5b): background tickets, the support
//! team's queue, quarantine and field visits. Every behaviour test compares a run with a control
//! on the same seeds or with a number derived in closed form, and states its tolerance and why.

mod common;

use assert_cmd::Command;
use common::{outcomes, scenario, ALWAYS_ONLINE, ONE_STAGE as ALL, TWO_RELEASES};
use fleetsim::metrics::outcome::Outcome;
use fleetsim::replication::{RunLimits, Sim};
use fleetsim::scenario::{load_str, load_str_warned};
use predicates::str::contains;
use std::path::Path;

/// An always-online fleet of 2000 devices (sessions of ~1000 days, 1 s gaps) checking in every
/// minute, 1 MB images at 8 Mbit/s, installs of 60 s, 100 notifications a minute, 3 days, two
/// replications. `pop` adds population keys, `release` target-release keys (defects),
/// `policy` `[policy]` keys, `stages` the stage tables and `extra` any further tables.
fn world(pop: &str, release: &str, policy: &str, stages: &str, extra: &str) -> String {
    format!(
        r#"
[simulation]
name = "support"
seed = 29
horizon = "3d"
replications = 2

{ALWAYS_ONLINE}
[[population]]
name = "fleet"
count = 2000
model = "m1"
firmware = "1.0.0"
connectivity = "always"
{pop}

[[release]]
version = "0.9.0"
size_mb = 1

{TWO_RELEASES}
{release}

[policy]
target = "2.0.0"
rate = {{ per_minute = 100 }}
{policy}

{stages}

{extra}
"#
    )
}

/// The ground truth of a run, which background tickets must leave alone: they draw from a
/// stream of their own, so the world is the same with and without them.
fn truth(o: &Outcome) -> (u64, u64, Option<f64>, u64, String) {
    (
        o.updated,
        o.exposed,
        o.time_to_95,
        o.harmed,
        format!("{:?}", o.failures_by_reason),
    )
}

/// Background tickets at r = 0.05 per device-day from 2000 healthy devices over 3 days:
/// Poisson with mean N·r·T = 300 a run, 600 over both (SD √600 ≈ 24.5); tolerance 100, about
/// 4 SD. The control without them opens none, and both worlds are otherwise the same.
#[test]
fn background_tickets_are_devices_times_rate_times_days() {
    let bg = outcomes(&world(
        "",
        "",
        "",
        ALL,
        "[support]\nbackground_per_device_day = 0.05\n",
    ));
    let control = outcomes(&world("", "", "", ALL, ""));
    let tickets: u64 = bg.iter().map(|o| o.observed_tickets).sum();
    assert!((tickets as f64 - 600.0).abs() < 100.0, "{tickets} tickets");
    for (b, c) in bg.iter().zip(&control) {
        assert_eq!(c.observed_tickets, 0);
        assert_eq!(truth(b), truth(c));
        assert!(!b.halted);
    }
}

/// A `support_tickets` gate (max 5, judged after a 1-day bake) on a healthy release: a canary
/// of 200 devices opening background tickets at 0.1 a device-day expects about 20 by the
/// judgement (Poisson: P(≤ 5) ≈ 7·10⁻⁵), so the gate halts a healthy release — a false halt;
/// the control without background tickets passes it in every run.
#[test]
fn background_tickets_false_halt_a_ticket_gate() {
    let stages = "[[policy.stage]]\nname = \"canary\"\nselect = {}\npercent = 10\nbake = \"1d\"\n[policy.stage.gate]\nmin_devices = 20\ntest = \"point\"\non_fail = \"abort\"\n[[policy.stage.gate.check]]\nmetric = \"support_tickets\"\nmax = 5\n\n[[policy.stage]]\nname = \"rest\"\nselect = {}\npercent = 100\n";
    let noisy_text = world(
        "",
        "",
        "",
        stages,
        "[support]\nbackground_per_device_day = 0.1\n",
    );
    // Background tickets alone feed the check: it is not "a check that can never fail".
    let (_, warned) = load_str_warned(&noisy_text, "support.toml", Path::new("."), &[]).unwrap();
    assert!(warned.is_empty(), "{warned:?}");
    let noisy = outcomes(&noisy_text);
    let quiet = outcomes(&world(
        "",
        "",
        "",
        stages,
        "[support]\nticket_probability = 1.0\n",
    ));
    for (n, q) in noisy.iter().zip(&quiet) {
        assert!(n.false_halt, "{:?}", n.halt_reason);
        assert_eq!(
            n.halt_reason.as_deref(),
            Some("gate:canary:support_tickets")
        );
        assert!(!q.halted && !q.false_halt);
        assert_eq!(q.updated, 2000);
    }
}

/// The queue of a team of c = 40 a day fed by background tickets at λ = 100 a day (2000 × 0.05)
/// with a resolve time of 12 h. Closed form: the waiting line grows by λ − c = 60 a day and
/// c·E[R] = 20 are being worked on, so after 3 days the backlog is about 60·3 + 20 = 200, ±70
/// (4 SD of the Poisson arrivals, √300 ≈ 17). Exactly: by the horizon at most 101 items were
/// picked up 12 h earlier (one every 36 min from the first), so the peak is at least the
/// tickets less 101, and above it only by the walk's small excursions (drift +60 a day against
/// resolutions at 40 a day; 10 is many times their mean). It never empties: no time to clear.
/// The control, a team of c = 1000 a day resolving in 10 minutes (λ < c), keeps up: it holds
/// about λ·(1/c + E[R]) ≈ 0.8 items on average, so its peak stays small (20 is far above the
/// largest of three days' Poisson counts of mean 0.8) and it empties again after its peak.
#[test]
fn a_queue_fed_faster_than_its_capacity_grows_by_lambda_minus_c_a_day() {
    let support = |c: u32, resolve: &str| {
        format!("[support]\nbackground_per_device_day = 0.05\ncapacity_per_day = {c}\nresolve_time = \"{resolve}\"\n")
    };
    let slow = outcomes(&world("", "", "", ALL, &support(40, "12h")));
    let fast = outcomes(&world("", "", "", ALL, &support(1000, "10m")));
    for (s, f) in slow.iter().zip(&fast) {
        let peak = s.support_backlog_peak.unwrap();
        assert!((peak as f64 - 200.0).abs() < 70.0, "peak {peak}");
        let least = s.observed_tickets - 101;
        assert!(
            (least..=least + 10).contains(&peak),
            "peak {peak}, tickets {}",
            s.observed_tickets
        );
        assert_eq!(s.time_to_clear_support, None);
        assert_eq!(f.observed_tickets, s.observed_tickets, "the same tickets");
        let fpeak = f.support_backlog_peak.unwrap();
        assert!((1..=20).contains(&fpeak), "peak {fpeak}");
        assert!(f.time_to_clear_support.is_some_and(|t| t < 3.0 * 86_400.0));
    }
    // Without `capacity_per_day` no queue is modelled: no value.
    let none = outcomes(&world(
        "",
        "",
        "",
        ALL,
        "[support]\nbackground_per_device_day = 0.05\n",
    ));
    assert!(none.iter().all(|o| o.support_backlog_peak.is_none()));
}

/// Every install fails (install_failure = 1, transient) and a device has 5 tries a minute
/// apart: without quarantine each device fails 5 times (10 000 install failures); with
/// `quarantine = { after_failures = 2 }` each stops after 2 (4 000) and all 2000 are
/// quarantined, stranded as `retries_exhausted` in both worlds. In the support queue (a team
/// of 1000 a day, resolved at once) the quarantined devices are the items.
#[test]
fn quarantine_stops_retries_at_n_failures() {
    let pop = "install_failure = 1.0";
    let retry = "retry = { attempts = 5, backoff = \"1m\" }";
    let q = format!("{retry}\nquarantine = {{ after_failures = 2 }}");
    let queue = "[support]\ncapacity_per_day = 1000\n";
    let quarantined = outcomes(&world(pop, "", &q, ALL, queue));
    let control = outcomes(&world(pop, "", retry, ALL, queue));
    for (q, c) in quarantined.iter().zip(&control) {
        assert_eq!(c.failures_by_reason["install_failed"], 10_000);
        assert_eq!(q.failures_by_reason["install_failed"], 4_000);
        assert_eq!((q.quarantined, c.quarantined), (2000, 0));
        assert_eq!(q.stranded_by_reason["retries_exhausted"], 2000);
        assert_eq!(c.stranded_by_reason["retries_exhausted"], 2000);
        assert!(q.support_backlog_peak.unwrap() > 0);
        assert_eq!(c.support_backlog_peak, Some(0));
        assert!(q.time_to_clear_support.is_some());
    }
}

/// Bricked devices (boot failure on 20 % of a fleet without A/B slots, ≈ 400 a run) with a
/// field visit 1 day after the brick: every one is visited within the 3-day horizon (bricks
/// happen in the first 20 minutes), so field_visits = bricked and field_cost = 150 × bricked;
/// each visited device runs `rollback_to` (0.9.0) and is still counted bricked and harmed, as in
/// the control without visits on the same seeds.
#[test]
fn field_visits_bring_bricked_devices_back_on_rollback_to() {
    let pop = "ab_slots = false";
    let defect = "[[release.defect]]\neffect = \"boot-failure\"\nprobability = 0.2\n";
    let policy = "rollback_to = \"0.9.0\"";
    let visit = "[support]\nfield_visit = { delay = \"1d\", cost = 150 }\n";
    let text = world(pop, defect, policy, ALL, visit);
    let visited = outcomes(&text);
    let control = outcomes(&world(pop, defect, policy, ALL, ""));
    for (v, c) in visited.iter().zip(&control) {
        assert!(v.bricked > 300, "{}", v.bricked);
        assert_eq!((v.bricked, v.harmed), (c.bricked, c.harmed));
        assert_eq!(v.field_visits, v.bricked);
        assert_eq!(v.field_cost, 150.0 * v.bricked as f64);
        assert_eq!((c.field_visits, c.field_cost), (0, 0.0));
    }
    let sc = scenario(&text);
    let limits = RunLimits {
        daily_invariants: true,
        ..RunLimits::default()
    };
    let mut sim = Sim::new(&sc, 0, limits).unwrap();
    sim.run().unwrap();
    let on_rollback_to = (sim.world.fleet.devices().iter())
        .filter(|d| sc.version_label(d.version) == "0.9.0")
        .count() as u64;
    assert_eq!(on_rollback_to, sim.outcome().field_visits);
}

/// A visit drawn uniformly from 1 to 5 days after a brick in the first 20 minutes completes
/// before the 3-day horizon with probability ≈ (3 − 1)/(5 − 1) = 0.5 (less by the brick's
/// minutes, ~0.3 %): visits ≈ bricked / 2; Binomial SD √(800 · 0.25) ≈ 14 over both runs;
/// tolerance 60 (about 4 SD).
#[test]
fn only_visits_that_complete_before_the_horizon_count() {
    let visit = "[support]\nfield_visit = { delay = { dist = \"uniform\", min = \"1d\", max = \"5d\" }, cost = 150 }\n";
    let os = outcomes(&world(
        "ab_slots = false",
        "[[release.defect]]\neffect = \"boot-failure\"\nprobability = 0.2\n",
        "",
        ALL,
        visit,
    ));
    let bricked: u64 = os.iter().map(|o| o.bricked).sum();
    let visits: u64 = os.iter().map(|o| o.field_visits).sum();
    assert!(
        (visits as f64 - bricked as f64 / 2.0).abs() < 60.0,
        "{visits} of {bricked}"
    );
    assert!(os
        .iter()
        .all(|o| o.field_cost == 150.0 * o.field_visits as f64));
}

/// Every new key is validated: a range, a missing `delay`, `resolve_time` without the queue it
/// belongs to, and a misspelt key with its did-you-mean.
#[test]
fn bad_support_keys_are_refused_with_the_key_and_what_is_valid() {
    let cases = [
        (
            "[support]\ncapacity_per_day = 0\n",
            "",
            "support.capacity_per_day: 0 must be a finite number more than 0",
        ),
        (
            "[support]\nbackground_per_device_day = -1\n",
            "",
            "support.background_per_device_day: -1 is outside 0..100",
        ),
        (
            "[support]\nresolve_time = \"1h\"\n",
            "",
            "`resolve_time` needs `capacity_per_day`",
        ),
        (
            "[support]\nfield_visit = { cost = 150 }\n",
            "",
            "support.field_visit.delay: missing `delay`",
        ),
        (
            "[support]\nfield_visit = { delay = \"1d\", cost = -5 }\n",
            "",
            "support.field_visit.cost: -5 must be a finite number ≥ 0",
        ),
        (
            "[support]\ncapacity_per_dya = 5\n",
            "",
            "did you mean `capacity_per_day`",
        ),
        (
            "",
            "quarantine = { after_failures = 0 }",
            "policy.quarantine.after_failures: 0 is outside 1..100",
        ),
        (
            "",
            "quarantine = { after_failure = 3 }",
            "did you mean `after_failures`",
        ),
    ];
    for (extra, policy, expected) in cases {
        let text = world("", "", policy, ALL, extra);
        let err = load_str(&text, "support.toml", Path::new("."), &[]).unwrap_err();
        assert!(
            format!("{err}").contains(expected),
            "{expected:?} not in {err}"
        );
    }
}

/// A quarantine after more failed attempts than `retry` allows can never fire: `validate`
/// warns (and `--deny-warnings` refuses it, exit 2); within the retries it is quiet.
#[test]
fn a_quarantine_beyond_the_retries_is_warned() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.toml");
    let write = |policy: &str| std::fs::write(&file, world("", "", policy, ALL, "")).unwrap();
    write("retry = { attempts = 3 }\nquarantine = { after_failures = 4 }");
    Command::cargo_bin("fleetsim")
        .unwrap()
        .args(["validate", "--deny-warnings"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(contains(
            "policy.quarantine.after_failures: after_failures = 4 is more than the 3 tries",
        ));
    write("retry = { attempts = 3 }\nquarantine = { after_failures = 3 }");
    Command::cargo_bin("fleetsim")
        .unwrap()
        .args(["validate", "--deny-warnings"])
        .arg(&file)
        .assert()
        .success();
}

/// The new metrics reach the user: `[[expect]]` judges them (`check` exits 1 on a violation)
/// and `replications.csv` and `summary.json` carry them.
#[test]
fn support_metrics_are_assertable_and_written() {
    let dir = tempfile::tempdir().unwrap();
    let expect = |metric: &str, max: &str| {
        format!("[[expect]]\nmetric = \"{metric}\"\nstat = \"max\"\nmax = {max}\n")
    };
    let extra = format!(
        "[support]\ncapacity_per_day = 1000\nfield_visit = {{ delay = \"1d\", cost = 150 }}\n{}{}{}",
        expect("field_visits", "0"),
        expect("quarantined", "0"),
        expect("support_backlog_peak", "100000"),
    );
    let text = world(
        "ab_slots = false",
        "[[release.defect]]\neffect = \"boot-failure\"\nprobability = 0.2\n",
        "quarantine = { after_failures = 1 }",
        ALL,
        &extra,
    );
    let file = dir.path().join("support.toml");
    std::fs::write(&file, text).unwrap();
    Command::cargo_bin("fleetsim")
        .unwrap()
        .arg("check")
        .arg(&file)
        .assert()
        .code(1)
        .stdout(contains("FAIL  field_visits max ≤ 0"))
        .stdout(contains("pass  quarantined max ≤ 0"))
        .stdout(contains("pass  support_backlog_peak max ≤ 100000"));
    let out = dir.path().join("out");
    Command::cargo_bin("fleetsim")
        .unwrap()
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let csv = std::fs::read_to_string(out.join("replications.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    for m in [
        "quarantined",
        "support_backlog_peak",
        "time_to_clear_support",
        "field_visits",
        "field_cost",
    ] {
        assert!(header.split(',').any(|c| c == m), "{m} not in {header}");
        assert!(
            summary.contains(&format!("\"{m}\"")),
            "{m} not in summary.json"
        );
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("field visits to bricked devices, costing"),
        "report sentence"
    );
}
