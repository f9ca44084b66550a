//! Gates measured as analysis runs (Argo Rollouts `AnalysisTemplate`: `interval`, `count`,
//! `failure_limit`, `consecutive_success_limit`, three-valued `wilson` checks with
//! `inconclusive_limit` and `on_inconclusive`). Every test compares runs on the same seeds
//! (common random numbers): the measurements see the same devices, so the differences are the
//! analysis rules' alone, and most are exact.

mod common;

use common::{
    outcomes, population, simulation, validate_refuses, ALWAYS_ONLINE, NEVER_ONLINE, TWO_RELEASES,
};
use fleetsim::metrics::outcome::Outcome;

/// 2000 always-online devices polling every minute, notified at 100 a minute; a 10 % canary
/// whose gate (`gate`: the lines of `[policy.stage.gate]`, the check included) is first
/// measured 2 h after 20 of its devices have reported, then the rest of the fleet. `pop` adds
/// keys to the population (its install failures).
fn canary(pop: &str, gate: &str) -> String {
    let (sim, fleet) = (
        simulation("analysis", 29, "5d"),
        population("fleet", 2000, "always"),
    );
    format!(
        r#"
{sim}
{ALWAYS_ONLINE}
{fleet}{pop}

{TWO_RELEASES}

[policy]
target = "2.0.0"
rate = {{ per_minute = 100 }}

[[policy.stage]]
name = "canary"
select = {{}}
percent = 10
bake = "2h"
[policy.stage.gate]
min_devices = 20
on_fail = "abort"
{gate}
[[policy.stage.gate.check]]
metric = "update_failure_rate"
max = 0.05

[[policy.stage]]
name = "rest"
select = {{}}
percent = 100
"#
    )
}

/// The times of the canary's measurements, in seconds.
fn measured_at(o: &Outcome) -> Vec<f64> {
    o.gates
        .iter()
        .filter(|g| g.stage == "canary")
        .map(|g| g.time)
        .collect()
}

/// Times in the outputs are seconds with millisecond digits: equal to within a microsecond.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

fn decisions(o: &Outcome) -> Vec<&str> {
    o.gates
        .iter()
        .filter(|g| g.stage == "canary")
        .map(|g| g.decision.as_str())
        .collect()
}

/// One measurement of a point check is the gate judged once: the same outputs, to the byte.
#[test]
fn a_single_point_measurement_is_the_gate_judged_once() {
    for pop in ["", "install_failure = 0.3"] {
        let once = outcomes(&canary(pop, "test = \"point\""));
        let run = outcomes(&canary(pop, "test = \"point\"\ncount = 1"));
        assert_eq!(
            serde_json::to_string(&once).unwrap(),
            serde_json::to_string(&run).unwrap(),
            "{pop}"
        );
    }
}

/// A bad release (30 % of installs fail; the gate allows 5 %): every measurement fails. With
/// `failure_limit = 2` the run tolerates two failed measurements and fails at the third,
/// exactly two intervals after the run without a limit fails at its first; nothing else about
/// the first measurement differs.
#[test]
fn failure_limit_tolerates_that_many_failed_measurements() {
    let pop = "install_failure = 0.3";
    let strict = outcomes(&canary(
        pop,
        "test = \"point\"\ninterval = \"1h\"\ncount = 6",
    ));
    let tolerant = outcomes(&canary(
        pop,
        "test = \"point\"\ninterval = \"1h\"\ncount = 6\nfailure_limit = 2",
    ));
    for (s, t) in strict.iter().zip(&tolerant) {
        assert_eq!(decisions(s), ["fail"]);
        assert_eq!(decisions(t), ["fail", "fail", "fail"]);
        let (a, b) = (measured_at(s), measured_at(t));
        assert_eq!(a[0], b[0]);
        assert!(
            close(b[1] - b[0], 3600.0) && close(b[2] - b[0], 7200.0),
            "{b:?}"
        );
        assert!(close(t.halted_at.unwrap() - s.halted_at.unwrap(), 7200.0));
        assert_eq!(
            t.halt_reason.as_deref(),
            Some("gate:canary:update_failure_rate")
        );
    }
}

/// A healthy release: `count = 3` measures three times an hour apart and then passes, so the
/// rest of the fleet opens two hours later than after a gate judged once;
/// `consecutive_success_limit = 2` passes it at the second measurement of six.
#[test]
fn count_and_consecutive_successes_decide_when_a_healthy_run_passes() {
    let once = outcomes(&canary("", "test = \"point\""));
    let three = outcomes(&canary(
        "",
        "test = \"point\"\ninterval = \"1h\"\ncount = 3",
    ));
    let early = outcomes(&canary(
        "",
        "test = \"point\"\ninterval = \"1h\"\ncount = 6\nconsecutive_success_limit = 2",
    ));
    for ((o, t), e) in once.iter().zip(&three).zip(&early) {
        assert_eq!(decisions(t), ["pass", "pass", "pass"]);
        assert_eq!(decisions(e), ["pass", "pass"]);
        let (first, at) = (measured_at(o)[0], measured_at(t));
        assert!(
            close(at[0], first) && close(at[1], first + 3600.0) && close(at[2], first + 7200.0)
        );
        assert!(!t.halted && !e.halted);
        assert_eq!(t.updated, 2000);
        // The whole fleet waits two hours longer behind three measurements than behind one.
        assert!(t.time_to_99.unwrap() > o.time_to_99.unwrap() + 7000.0);
    }
}

/// A release failing 4 % of installs against a 5 % limit, judged by `wilson` at 95 % when the
/// canary's 200 devices have all reported (about 8 failures): the lower bound (about 2.3 %)
/// does not prove the rate above 5 %, and the upper bound (about 6.8 %) does not prove it
/// below. Judged once, the gate
/// passes (a two-valued check passes what it cannot fail); measured as an analysis run the check
/// is inconclusive, and `on_inconclusive` decides: `pause` (the default, Argo's) halts the
/// rollout, `pass` lets it go on exactly as the gate judged once does.
#[test]
fn an_inconclusive_wilson_measurement_pauses_unless_told_otherwise() {
    let pop = "install_failure = 0.04";
    let once = outcomes(&canary(pop, "test = \"wilson\""));
    let paused = outcomes(&canary(pop, "test = \"wilson\"\ncount = 1"));
    let passed = outcomes(&canary(
        pop,
        "test = \"wilson\"\ncount = 1\non_inconclusive = \"pass\"",
    ));
    for ((o, p), q) in once.iter().zip(&paused).zip(&passed) {
        assert_eq!(decisions(o), ["pass"]);
        assert_eq!(decisions(p), ["inconclusive"]);
        assert!(p.halted);
        assert_eq!(p.halt_reason.as_deref(), Some("gate:canary:inconclusive"));
        assert!(!o.halted && !q.halted);
        assert_eq!(o.updated, q.updated);
        assert_eq!(o.time_to_95, q.time_to_95);
    }
}

/// `inconclusive_limit` tolerates inconclusive measurements as `failure_limit` tolerates
/// failed ones: with a limit of 5 and `count = 3`, three inconclusive measurements pass the
/// run; `extend` starts a new run instead of pausing, so the same gate is measured again, an
/// hour later each time. The canary's 200 reports are all in at the first measurement, so the
/// bounds never move and every run is inconclusive: the rollout neither halts nor goes on.
#[test]
fn inconclusive_limit_and_extend() {
    let pop = "install_failure = 0.04";
    let tolerant = outcomes(&canary(
        pop,
        "test = \"wilson\"\ninterval = \"1h\"\ncount = 3\ninconclusive_limit = 5",
    ));
    let extended = outcomes(&canary(
        pop,
        "test = \"wilson\"\ninterval = \"1h\"\ncount = 1\non_inconclusive = \"extend\"",
    ));
    for (t, e) in tolerant.iter().zip(&extended) {
        assert_eq!(decisions(t).len(), 3);
        assert!(!t.halted, "{:?}", decisions(t));
        // Measured hourly from about 2 h to the 5-day horizon.
        let d = decisions(e);
        assert!(
            d.len() > 100 && d.iter().all(|&x| x == "inconclusive"),
            "{d:?}"
        );
        assert!(!e.halted);
        assert!(e.updated <= 200, "only the canary updates: {}", e.updated);
    }
}

/// The analysis keys are validated with the key and what is valid.
#[test]
fn bad_analysis_keys_are_refused() {
    let cases = [
        ("count = 0", "policy.stage[0].gate.count", "at least 1"),
        ("count = 3", "policy.stage[0].gate", "give `interval`"),
        (
            "interval = \"1h\"",
            "policy.stage[0].gate",
            "neither `count` nor `consecutive_success_limit`",
        ),
        (
            "interval = \"1h\"\ncount = 2\nconsecutive_success_limit = 3",
            "policy.stage[0].gate.consecutive_success_limit",
            "cannot happen",
        ),
        (
            "interval = \"0s\"\ncount = 2",
            "policy.stage[0].gate.interval",
            "positive",
        ),
        (
            "count = 1\non_inconclusive = \"wait\"",
            "on_inconclusive",
            "pause",
        ),
        (
            "count = 1\nfailure_limt = 1",
            "failure_limt",
            "did you mean `failure_limit`",
        ),
    ];
    for (i, (keys, key, says)) in cases.iter().enumerate() {
        let stderr = validate_refuses(&canary("", keys), &format!("analysis-{i}.toml"));
        assert!(stderr.contains(key), "{keys}: {stderr}");
        assert!(stderr.contains(says), "{keys}: {stderr}");
    }
}

/// A canary half of whose devices are offline for the whole run (a second population
/// that never comes online joins its cohort): over the devices that reported, the success
/// rate is 100 %; over the whole cohort (hawkBit's group base) it is about 50 %, so a
/// `min = 0.9` success check passes with `denominator = "reported"` and fails with `"cohort"`
/// on the same seeds. Only the base differs: the count of successes in the gate's record is
/// the same.
#[test]
fn a_cohort_denominator_counts_the_devices_not_heard_from() {
    let text = |denominator: &str| {
        canary("", "test = \"point\"")
            .replace(
                "metric = \"update_failure_rate\"\nmax = 0.05",
                "metric = \"update_success_rate\"\nmin = 0.9\n",
            )
            .replace(
                "on_fail = \"abort\"",
                &format!("on_fail = \"abort\"\ndenominator = \"{denominator}\""),
            )
            .replacen(
                "[[release]]",
                &format!(
                    "{NEVER_ONLINE}\n{}\n[[release]]",
                    population("asleep", 2000, "never")
                ),
                1,
            )
    };
    let reported = outcomes(&text("reported"));
    let cohort = outcomes(&text("cohort"));
    for (r, c) in reported.iter().zip(&cohort) {
        let (gr, gc) = (&r.gates[0], &c.gates[0]);
        assert_eq!(gr.count, gc.count);
        assert_eq!(gr.base, gr.count, "every reported device succeeded");
        let share = gc.count / gc.base;
        assert!((share - 0.5).abs() < 0.1, "{share}");
        assert!(gr.passed && !gc.passed);
        assert!(!r.halted && c.halted);
    }
}

/// `denominator = "cohort"` is refused on a check that is not a count of devices by result.
#[test]
fn a_cohort_denominator_is_refused_on_rates_of_other_things() {
    let text = canary("", "denominator = \"cohort\"").replace(
        "metric = \"update_failure_rate\"\nmax = 0.05",
        "metric = \"crash_rate\"\nmax = 1",
    );
    let stderr = validate_refuses(&text, "cohort-crash.toml");
    assert!(
        stderr.contains("policy.stage[0].gate.check[0].metric"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not a count of devices by result"),
        "{stderr}"
    );
}

/// Regression: `extend` on a run of one measurement without `interval` started its next run
/// a millisecond later and never reached the horizon. The next run now follows one `bake`
/// (2 h here; at least an hour), as a gate that extends on insufficient data judges again.
#[test]
fn extend_without_an_interval_waits_one_bake() {
    let os = outcomes(&canary(
        "install_failure = 0.04",
        "test = \"wilson\"\ncount = 1\non_inconclusive = \"extend\"",
    ));
    for o in &os {
        let at = measured_at(o);
        assert!(at.len() > 50, "{}", at.len());
        assert!(at.windows(2).all(|w| close(w[1] - w[0], 7200.0)), "{at:?}");
    }
}
