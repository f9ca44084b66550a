//! Unit tests of the rollout controller on ten hand-built devices, with no device lifecycle:
//! the test plays the backend's side (what it has heard) and hands the controller only its
//! own events, so what is checked is the controller's decisions alone.

use super::event::PolicyEvent;
use super::rollout::{Mode, Rollout};
use crate::backend::Obs;
use crate::engine::time::SimTime;
use crate::fleet::device::flag;
use crate::lifecycle::control::Control;
use crate::lifecycle::event::DeviceEvent;
use crate::lifecycle::world::World;
use crate::scenario::Scenario;

/// The events of a controller-only world.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ev {
    Device(u32, DeviceEvent),
    Policy(PolicyEvent),
}

impl From<(u32, DeviceEvent)> for Ev {
    fn from((d, e): (u32, DeviceEvent)) -> Ev {
        Ev::Device(d, e)
    }
}

impl From<PolicyEvent> for Ev {
    fn from(e: PolicyEvent) -> Ev {
        Ev::Policy(e)
    }
}

/// Ten always-online devices on `1.0.0` under a policy to `1.1.0` at 10 per minute;
/// `policy` adds keys of `[policy]` and its stages.
fn plan(policy: &str) -> Scenario {
    crate::scenario::test_fleet::ten_devices(crate::scenario::test_fleet::TEN_PLC, policy)
}

/// Hands the controller its own events up to `until` (device events are dropped: no device
/// acts). Returns the times at which each device was notified.
fn play(w: &mut World<'_, Ev>, ro: &mut Rollout, until: SimTime) -> Vec<(u32, u64)> {
    let mut notified = Vec::new();
    while let Some((t, e)) = w.agenda.pop() {
        if t > until {
            w.agenda.at(t, e);
            break;
        }
        w.now = t;
        if let Ev::Policy(p) = e {
            ro.on_event(w, p);
        }
        for d in 0..w.fleet.len() as u32 {
            if w.fleet.dev(d).has(flag::NOTIFIED) && !notified.iter().any(|&(x, _)| x == d) {
                notified.push((d, t.0));
            }
        }
    }
    notified
}

fn failures(failure: u64, reported: u64) -> Obs {
    Obs {
        notified: 10,
        started: reported,
        reported,
        executed: reported,
        failure,
        success: reported - failure,
        ..Obs::default()
    }
}

fn start(sc: &Scenario) -> (World<'_, Ev>, Rollout) {
    let mut w: World<'_, Ev> = World::new(sc, 0).unwrap();
    let mut ro = Rollout::new(sc);
    w.agenda.at(sc.policy.start, PolicyEvent::RolloutStart);
    play(&mut w, &mut ro, SimTime::ZERO);
    (w, ro)
}

/// Cohorts are cumulative shares of the fleet: 30 % then 100 % takes 3 devices and then the
/// other 7, each device targeted once and marked with its stage; the first stage opens.
#[test]
fn the_rollout_draws_cumulative_cohorts_and_opens_the_first_stage() {
    let sc = plan(
        "[[policy.stage]]\nname = \"canary\"\nselect = {}\npercent = 30\n\n\
         [[policy.stage]]\nname = \"rest\"\nselect = {}\npercent = 100",
    );
    let (w, ro) = start(&sc);
    assert_eq!(ro.mode, Mode::Running);
    assert_eq!(ro.current, Some(0));
    assert_eq!(
        (ro.stages[0].cohort.len(), ro.stages[1].cohort.len()),
        (3, 7)
    );
    assert_eq!(w.recorder.targeted, 10);
    for (i, st) in ro.stages.iter().enumerate() {
        for &d in &st.cohort {
            assert!(w.fleet.dev(d).has(flag::TARGETED));
            assert_eq!(w.fleet.dev(d).stage as usize, i);
        }
    }
    assert!(ro.stages[1].opened_at.is_none(), "the second stage waits");
}

/// At `per_minute = 10` the pump notifies one device every 6 s, from the rollout's start,
/// and each notified device gets a check-in scheduled now.
#[test]
fn the_pump_notifies_at_the_policy_rate() {
    let sc = plan("[[policy.stage]]\nname = \"all\"\nselect = {}\npercent = 100");
    let mut w: World<'_, Ev> = World::new(&sc, 0).unwrap();
    let mut ro = Rollout::new(&sc);
    w.agenda.at(sc.policy.start, PolicyEvent::RolloutStart);
    let notified = play(&mut w, &mut ro, SimTime(60_000));
    let times: Vec<u64> = notified.iter().map(|&(_, t)| t).collect();
    assert_eq!(times, (0..10).map(|k| k * 6_000).collect::<Vec<_>>());
    assert_eq!(w.backend.global().notified, 10);
    assert_eq!(ro.stages[0].notified, 10);
}

/// An abort rule compares the failure rate over the reported results with its threshold, from
/// `min_executed` results on: 1 of 5 (0.2) is at the threshold and does nothing, 2 of 5 trips
/// it, logs the check and rolls back, naming the rule.
#[test]
fn an_abort_rule_trips_only_past_its_threshold() {
    let sc = plan(
        "[[policy.stage]]\nname = \"all\"\nselect = {}\npercent = 100\n\n\
         [[policy.abort]]\nmetric = \"update_failure_rate\"\nthreshold = 0.2\n\
         min_executed = 5\naction = \"rollback\"",
    );
    let (mut w, mut ro) = start(&sc);
    play(&mut w, &mut ro, SimTime(60_000));
    w.backend.set_observed(0, failures(3, 4));
    ro.on_result(&mut w, 0);
    assert_eq!(
        ro.mode,
        Mode::Running,
        "4 results are fewer than min_executed"
    );
    w.backend.set_observed(0, failures(1, 5));
    ro.on_result(&mut w, 0);
    assert_eq!(ro.mode, Mode::Running, "0.2 is not past 0.2");
    w.backend.set_observed(0, failures(2, 5));
    ro.on_result(&mut w, 0);
    assert_eq!(ro.mode, Mode::RollingBack);
    assert_eq!(ro.halt_reason.as_deref(), Some("abort:update_failure_rate"));
    let r = ro.gate_log.last().unwrap();
    assert_eq!(
        (r.stage.as_str(), r.decision.as_str()),
        ("abort[0]", "rollback")
    );
    assert_eq!((r.count, r.base), (2.0, 5.0));
    let stance = Control::<Ev>::stance(&ro);
    assert!(stance.rolling_back && !stance.accepting_updates());
}

/// A gate judged `bake` after its stage is ready fails on what the backend heard and pauses;
/// the operator answers after their response time and, with `on_pause = "rollback"`, rolls the
/// release back. Devices that learn of the update meanwhile are held (the stance says paused).
#[test]
fn a_failed_gate_pauses_then_the_operator_rolls_back() {
    let sc = plan(
        "operator = { response = { dist = \"constant\", value = \"2h\" }, on_pause = \"rollback\" }\n\n\
         [[policy.stage]]\nname = \"all\"\nselect = {}\npercent = 100\nbake = \"1h\"\n\
         [policy.stage.gate]\nmin_devices = 5\ntest = \"point\"\nconfidence = 0.95\non_fail = \"pause\"\n\
         [[policy.stage.gate.check]]\nmetric = \"update_failure_rate\"\nmax = 0.1",
    );
    let (mut w, mut ro) = start(&sc);
    play(&mut w, &mut ro, SimTime(60_000));
    w.backend.set_observed(0, failures(3, 5));
    ro.on_result(&mut w, 0);
    let ready = ro.stages[0]
        .ready_at
        .expect("all notified and min_devices reported");
    play(&mut w, &mut ro, ready.plus(3_600_000));
    assert_eq!(ro.mode, Mode::Paused);
    assert_eq!(
        ro.halt_reason.as_deref(),
        Some("gate:all:update_failure_rate")
    );
    assert!(Control::<Ev>::stance(&ro).paused);
    let paused_at = ro.halted_at.unwrap();
    assert_eq!(paused_at, ready.plus(3_600_000));
    play(&mut w, &mut ro, paused_at.plus(2 * 3_600_000 - 1));
    assert_eq!(ro.mode, Mode::Paused, "the operator has not answered yet");
    play(&mut w, &mut ro, paused_at.plus(2 * 3_600_000));
    assert_eq!(ro.mode, Mode::RollingBack);
    assert_eq!(ro.rollback_at, Some(paused_at.plus(2 * 3_600_000)));
}

/// `approval = "operator"`: a passed stage waits for the operator's approval before the next
/// one opens; the approval is an event of its own, at the operator's response time.
#[test]
fn an_operator_approves_the_next_stage() {
    let sc = plan(
        "operator = { response = { dist = \"constant\", value = \"30m\" }, on_pause = \"rollback\" }\n\n\
         [[policy.stage]]\nname = \"canary\"\nselect = {}\npercent = 20\nbake = \"1h\"\napproval = \"operator\"\n\n\
         [[policy.stage]]\nname = \"rest\"\nselect = {}\npercent = 100",
    );
    let (mut w, mut ro) = start(&sc);
    play(&mut w, &mut ro, SimTime(3_600_000 + 12_000 - 1));
    assert!(ro.stages[0].ready_at.is_some() && ro.stages[1].opened_at.is_none());
    let ready = ro.stages[0].ready_at.unwrap();
    play(&mut w, &mut ro, ready.plus(3_600_000));
    assert!(ro.stages[0].passed, "the stage passed its bake");
    assert!(ro.stages[1].opened_at.is_none(), "but waits for approval");
    play(&mut w, &mut ro, ready.plus(3_600_000 + 1_800_000));
    assert_eq!(
        ro.stages[1].opened_at,
        Some(ready.plus(3_600_000 + 1_800_000))
    );
    assert_eq!(ro.current, Some(1));
}

/// `selection = "continuous"`: a device that joins while the rollout runs is notified the moment
/// it joins, not after the devices the rate still holds back (AWS notifies new things of a
/// continuous job at once).
#[test]
fn a_continuous_rollout_notifies_a_joining_device_at_once() {
    let sc = crate::scenario::test_fleet::ten_devices(
        &format!("{}\narrivals_per_day = 50", crate::scenario::test_fleet::TEN_PLC),
        "selection = \"continuous\"\n\n[[policy.stage]]\nname = \"all\"\nselect = {}\npercent = 100",
    );
    let (mut w, mut ro) = start(&sc);
    let (d, at) = w
        .fleet
        .arrivals()
        .next()
        .expect("50 a day join within 2 days");
    // Play the controller up to the arrival, whatever the pump has done by then.
    play(&mut w, &mut ro, at);
    w.now = at;
    w.fleet.arrive(d);
    ro.adopt_arrival(&mut w, d);
    let dv = w.fleet.dev(d);
    assert!(
        dv.has(flag::TARGETED) && dv.has(flag::NOTIFIED),
        "notified on arrival"
    );
    assert!(ro.stages[0].cohort.contains(&d));
    assert_eq!(w.recorder.targeted, 11);
    assert_eq!(
        w.agenda.pop().map(|(t, _)| t >= at),
        Some(true),
        "its check-in is scheduled from its arrival on"
    );
}

/// `open_at` (Mender's phase `start_ts`): a stage opens at its time and not before — the stage
/// before it passed long before — and opens at its time even while the stage before it is
/// still waiting for its gate's reports.
#[test]
fn a_stage_with_open_at_opens_at_its_time_gate_or_no_gate() {
    let stages = |gate: &str| {
        plan(&format!(
            "[[policy.stage]]\nname = \"first\"\nselect = {{}}\npercent = 20\n{gate}\n\n\
             [[policy.stage]]\nname = \"rest\"\nselect = {{}}\npercent = 100\nopen_at = \"5h\""
        ))
    };
    let five_hours = SimTime(5 * 3_600_000);
    // No gate: the first stage passes once its 2 devices are notified (12 s), the second waits.
    let sc = stages("");
    let (mut w, mut ro) = start(&sc);
    play(&mut w, &mut ro, SimTime(3_600_000));
    assert!(ro.stages[0].passed && ro.stages[1].opened_at.is_none());
    play(&mut w, &mut ro, five_hours);
    assert_eq!(ro.stages[1].opened_at, Some(five_hours));
    // A gate that never hears enough: the second stage opens at 5 h all the same.
    let sc = stages("[policy.stage.gate]\nmin_devices = 2\ntest = \"point\"\nconfidence = 0.95\non_fail = \"pause\"\n[[policy.stage.gate.check]]\nmetric = \"update_failure_rate\"\nmax = 0.1");
    let (mut w, mut ro) = start(&sc);
    play(&mut w, &mut ro, five_hours);
    assert!(!ro.stages[0].passed, "no report: the gate never judged");
    assert_eq!(ro.stages[1].opened_at, Some(five_hours));
    assert_eq!(ro.current, Some(1));
}

/// `max_devices` (Mender): once that many devices have a result the rollout ends as at its
/// window's close — nobody more is notified, and the stance stops accepting updates.
#[test]
fn max_devices_ends_the_rollout_once_reached() {
    let sc =
        plan("max_devices = 4\n\n[[policy.stage]]\nname = \"all\"\nselect = {}\npercent = 100");
    let (mut w, mut ro) = start(&sc);
    play(&mut w, &mut ro, SimTime(20_000));
    let notified = |w: &World<'_, Ev>| {
        (0..10)
            .filter(|&d| w.fleet.dev(d).has(flag::NOTIFIED))
            .count()
    };
    let before = notified(&w);
    assert_eq!(before, 4, "one every 6 s: at 0, 6, 12 and 18 s");
    w.backend.set_observed(0, failures(0, 3));
    ro.on_result(&mut w, 0);
    assert!(Control::<Ev>::stance(&ro).accepting_updates(), "3 of 4");
    w.backend.set_observed(0, failures(0, 4));
    ro.on_result(&mut w, 0);
    assert!(!Control::<Ev>::stance(&ro).accepting_updates());
    assert!(w.recorder.stranded.is_some(), "stranded as at the close");
    play(&mut w, &mut ro, SimTime(60 * 60_000));
    assert_eq!(notified(&w), before, "nobody more is notified");
}

/// One stage of all ten devices and the abort rules `rules` (`[[policy.abort]]` tables).
fn with_aborts(rules: &str) -> Scenario {
    plan(&format!(
        "[[policy.stage]]\nname = \"all\"\nselect = {{}}\npercent = 100\n\n{rules}"
    ))
}

/// `failure` failed results of `n`, every device notified and reported.
fn results(failure: u64, n: u64) -> Obs {
    Obs {
        notified: n,
        ..failures(failure, n)
    }
}

/// The controller's mode and halt reason after one result on what the backend heard, `obs`.
fn after_result(
    sc: &Scenario,
    obs: Obs,
) -> (Mode, Option<String>, Option<super::rollout::GateRecord>) {
    let (mut w, mut ro) = start(sc);
    play(&mut w, &mut ro, SimTime(60_000));
    w.backend.set_observed(0, obs);
    ro.on_result(&mut w, 0);
    (ro.mode, ro.halt_reason.clone(), ro.gate_log.last().cloned())
}

/// `max_count = 5` (Azure `devicesFailedCount`) fires at the 5th failed result, whatever the
/// rate: 4 of 9 holds, 5 of 9 rolls back, recorded as a count test. The control on the same
/// results, `threshold = 0.6`, holds at 5 of 9 (0.56).
#[test]
fn a_max_count_rule_fires_at_its_count() {
    let rule =
        "[[policy.abort]]\nmetric = \"update_failure_rate\"\nmax_count = 5\naction = \"rollback\"";
    let sc = with_aborts(rule);
    assert_eq!(after_result(&sc, results(4, 9)).0, Mode::Running);
    let (mode, reason, record) = after_result(&sc, results(5, 9));
    assert_eq!(mode, Mode::RollingBack);
    assert_eq!(reason.as_deref(), Some("abort:update_failure_rate"));
    let r = record.unwrap();
    assert_eq!(
        (r.test.as_str(), r.observed, r.threshold),
        ("count", Some(5.0), 5.0)
    );
    let control = with_aborts(&rule.replace("max_count = 5", "threshold = 0.6"));
    assert_eq!(after_result(&control, results(5, 9)).0, Mode::Running);
}

/// `per = "notified"` judges the rate over the devices notified and counts them for
/// `min_executed`: 2 failures of 5 results with 10 notified is 0.4 per executed (fires, the
/// control) but 0.2 per notified (holds); 3 of 5 is 0.3 per notified and fires. With
/// `min_executed = 6`, 5 results are too few per executed but 10 notified are enough.
#[test]
fn per_notified_is_the_denominator_of_the_rate_and_of_min_executed() {
    let rule = |per: &str, min: u64| {
        format!("[[policy.abort]]\nmetric = \"update_failure_rate\"\nthreshold = 0.2\nmin_executed = {min}\nper = \"{per}\"")
    };
    let executed = with_aborts(&rule("executed", 5));
    let notified = with_aborts(&rule("notified", 5));
    assert_eq!(after_result(&executed, failures(2, 5)).0, Mode::Paused);
    assert_eq!(after_result(&notified, failures(2, 5)).0, Mode::Running);
    let (mode, _, record) = after_result(&notified, failures(3, 5));
    assert_eq!(mode, Mode::Paused);
    assert_eq!(record.map(|r| (r.count, r.base)), Some((3.0, 10.0)));
    assert_eq!(
        after_result(&with_aborts(&rule("executed", 6)), failures(5, 5)).0,
        Mode::Running
    );
    assert_eq!(
        after_result(&with_aborts(&rule("notified", 6)), failures(5, 5)).0,
        Mode::Paused
    );
}

/// Rules are checked in order and the first that fires acts: with a time-out rule (pause)
/// before a failure rule (rollback) and both past their thresholds, the rollout pauses for the
/// time-outs and only that rule is logged; in the other order it rolls back; with only the
/// second past its threshold, the second acts.
#[test]
fn abort_rules_are_checked_in_order_and_the_first_that_fires_acts() {
    let timeouts =
        "[[policy.abort]]\nmetric = \"timeout_rate\"\nthreshold = 0.1\naction = \"pause\"\n";
    let fails = "[[policy.abort]]\nmetric = \"update_failure_rate\"\nthreshold = 0.1\naction = \"rollback\"\n";
    let both = Obs {
        timed_out: 2,
        ..results(3, 5)
    };
    let (mode, reason, record) = after_result(&with_aborts(&format!("{timeouts}\n{fails}")), both);
    assert_eq!(
        (mode, reason.as_deref()),
        (Mode::Paused, Some("abort:timeout_rate"))
    );
    assert_eq!(record.map(|r| r.stage), Some("abort[0]".to_string()));
    let (mode, reason, _) = after_result(&with_aborts(&format!("{fails}\n{timeouts}")), both);
    assert_eq!(
        (mode, reason.as_deref()),
        (Mode::RollingBack, Some("abort:update_failure_rate"))
    );
    let (mode, _, record) =
        after_result(&with_aborts(&format!("{timeouts}\n{fails}")), results(3, 5));
    assert_eq!(mode, Mode::RollingBack);
    assert_eq!(record.map(|r| r.stage), Some("abort[1]".to_string()));
}

/// `test = "sequential"` on the same results as the point control: at threshold 0.05 and
/// confidence 0.95 the evidence for 7 failures of 40 is ln M = 2.974 < ln 20 (an independent
/// quadrature, see `stats::sequential`'s tests): it holds where the point check (0.175 > 0.05)
/// fires; 8 of 40 (ln M = 4.07) fires. `wilson` holds at 3 of 40 (its 95 % lower bound 0.030
/// is below 0.05) where the point check fires, and fires at 7 of 40 (bound 0.098).
#[test]
fn sequential_and_wilson_abort_tests_need_evidence_the_point_test_does_not() {
    let rule = |test: &str| {
        with_aborts(&format!("[[policy.abort]]\nmetric = \"update_failure_rate\"\nthreshold = 0.05\nmin_executed = 20\ntest = \"{test}\"\nconfidence = 0.95"))
    };
    let point = with_aborts(
        "[[policy.abort]]\nmetric = \"update_failure_rate\"\nthreshold = 0.05\nmin_executed = 20",
    );
    let (sequential, wilson) = (rule("sequential"), rule("wilson"));
    assert_eq!(after_result(&point, results(7, 40)).0, Mode::Paused);
    assert_eq!(after_result(&sequential, results(7, 40)).0, Mode::Running);
    let (mode, _, record) = after_result(&sequential, results(8, 40));
    assert_eq!(mode, Mode::Paused);
    assert_eq!(record.map(|r| r.test), Some("sequential".to_string()));
    assert_eq!(after_result(&point, results(3, 40)).0, Mode::Paused);
    assert_eq!(after_result(&wilson, results(3, 40)).0, Mode::Running);
    let (mode, _, record) = after_result(&wilson, results(7, 40));
    assert_eq!(mode, Mode::Paused);
    let bound = record.and_then(|r| r.bound).unwrap();
    assert!((bound - 0.0978).abs() < 1e-3, "{bound}");
}

/// A success-rate rule judges the complementary rate: `update_success_rate` below 0.95 with
/// `test = "sequential"` is the failure question above 0.05, so 32 successes of 40 (8
/// non-successes) fire and 33 of 40 hold, as 8 and 7 failures of 40 do above.
#[test]
fn a_sequential_success_rate_rule_judges_the_non_successes() {
    let sc = with_aborts("[[policy.abort]]\nmetric = \"update_success_rate\"\nthreshold = 0.95\ntest = \"sequential\"");
    assert_eq!(after_result(&sc, results(7, 40)).0, Mode::Running);
    assert_eq!(after_result(&sc, results(8, 40)).0, Mode::Paused);
}

/// `rejected_rate` and `any_failure_rate` read the outcomes over executed devices: 2
/// rejections and 1 failed result among 6 executed (3 successes) are 0.33 and 0.5.
#[test]
fn rejected_and_any_failure_rates_are_over_executed_devices() {
    let obs = Obs {
        notified: 10,
        started: 4,
        reported: 4,
        success: 3,
        failure: 1,
        rejected: 2,
        executed: 6,
        ..Obs::default()
    };
    let rule = |metric: &str, threshold: f64| {
        with_aborts(&format!(
            "[[policy.abort]]\nmetric = \"{metric}\"\nthreshold = {threshold}"
        ))
    };
    let (mode, reason, record) = after_result(&rule("rejected_rate", 0.3), obs);
    assert_eq!(
        (mode, reason.as_deref()),
        (Mode::Paused, Some("abort:rejected_rate"))
    );
    assert_eq!(record.map(|r| (r.count, r.base)), Some((2.0, 6.0)));
    assert_eq!(
        after_result(&rule("rejected_rate", 0.34), obs).0,
        Mode::Running
    );
    let (mode, _, record) = after_result(&rule("any_failure_rate", 0.45), obs);
    assert_eq!(mode, Mode::Paused);
    assert_eq!(record.map(|r| (r.count, r.base)), Some((3.0, 6.0)));
    assert_eq!(
        after_result(&rule("any_failure_rate", 0.5), obs).0,
        Mode::Running
    );
}
