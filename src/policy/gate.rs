//! Gate evaluation: each check's observed metric over the stage cohort, as the backend sees it
//! (only what devices have reported by now), and its test (SPEC §1.5). Evaluation is a pure
//! function of the replication's state: it reads, and returns a verdict and its records.
//!
//! - `point` compares the observed ratio with the threshold.
//! - `wilson` fails a check only when a one-sided bound at `confidence` proves the metric is
//!   past its threshold: the Wilson score bound for proportions, the exact Poisson bound for
//!   crash rates, and for `max_ratio_vs_control` the exact conditional binomial bound on the
//!   ratio of two Poisson rates (counts over exposure).
//! - `denominator = "cohort"` (hawkBit's group thresholds) divides a result metric's count by
//!   the whole stage cohort instead of the devices that reported.
//! - A check with no data yet (empty denominator) passes: there is no evidence against the
//!   release, and `min_devices` is what guards against judging on too little.
//! - A `max_ratio_vs_control` check whose control group has no exposure (a stage that took
//!   every device of its populations, or a control not heard from since the stage opened) has
//!   nothing to compare with: it is *insufficient*, never a pass, and the stage's
//!   `on_insufficient` decides what happens.

use crate::backend::Backend;
use crate::engine::rng::{Purpose, Stream};
use crate::engine::time::SimTime;
use crate::engine::time::DAY_MS;
use crate::fault::FaultPlan;
use crate::fleet::device::flag;
use crate::fleet::Fleet;
use crate::metrics::gate_log::GateRecord;
use crate::scenario::model::{Bound, Check, Gate};
use crate::scenario::raw::{Denominator, ObservedMetric, TestKind};
use crate::scenario::Scenario;
use crate::stats::{poisson_lower, poisson_upper, rate_ratio_lower, wilson, z_quantile};

/// Crashes per day of a crash-looping device (one an hour).
pub const CRASH_LOOP_PER_DAY: f64 = 24.0;
/// Control groups are at most this many devices, taken in the fleet's random order.
pub const MAX_CONTROL: usize = 50_000;

/// A count over a base (devices, commands, or device-days).
#[derive(Clone, Copy, Debug, Default)]
struct Ratio {
    count: f64,
    base: f64,
}

impl Ratio {
    fn value(self) -> Option<f64> {
        (self.base > 0.0).then(|| self.count / self.base)
    }
}

/// What a gate evaluation concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// A check proved the release past a threshold.
    Fail,
    /// No check failed, but at least one had nothing to judge against (see the module docs).
    Insufficient,
}

/// The decision text of a check that had nothing to judge against.
pub const INSUFFICIENT: &str = "insufficient";

/// What a gate judges from: a read-only view of the world as it is now, and the stage's own
/// state. Nothing in it can be changed through it.
pub struct View<'a, 's> {
    pub scenario: &'s Scenario,
    pub now: SimTime,
    pub fleet: &'a Fleet<'s>,
    pub backend: &'a Backend,
    pub faults: &'a FaultPlan<'s>,
    /// The fleet's seed-stable random order (control groups follow it).
    pub order: &'a [u32],
    /// The stage's cohort, and when the stage opened.
    pub cohort: &'a [u32],
    pub opened_at: Option<SimTime>,
}

/// Judges a gate now. Returns the verdict, and one record per check.
pub fn evaluate(v: &View, stage: usize, gate: &Gate) -> (Verdict, Vec<GateRecord>) {
    let mut records = Vec::with_capacity(gate.checks.len());
    for check in &gate.checks {
        records.push(evaluate_check(v, stage, gate, check));
    }
    let verdict = if records
        .iter()
        .any(|r| !r.passed && r.decision != INSUFFICIENT)
    {
        Verdict::Fail
    } else if records.iter().any(|r| r.decision == INSUFFICIENT) {
        Verdict::Insufficient
    } else {
        Verdict::Pass
    };
    (verdict, records)
}

/// One measurement of an analysis run: a check's three values (Argo Rollouts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measured {
    Pass,
    Fail,
    Inconclusive,
}

/// The decision text of an inconclusive measurement.
pub const INCONCLUSIVE: &str = "inconclusive";

/// Measures the checks of an analysis-run gate now (those `live` names, by index), each
/// three-valued: a `wilson` check *fails* when its bound proves the metric past the threshold,
/// *passes* when the opposite bound proves it on the right side, and is *inconclusive*
/// otherwise; a `point` check passes or fails on the observed value. A check with nothing to
/// judge against (no reports yet, no control) is inconclusive: neither condition holds, as an
/// Argo metric whose query returns no value. Counts (`support_tickets`) and ratios against a
/// control pass or fail.
pub fn measure(
    v: &View,
    stage: usize,
    gate: &Gate,
    live: &[bool],
) -> Vec<(usize, GateRecord, Measured)> {
    let z = z_quantile(gate.confidence);
    let mut out = Vec::with_capacity(gate.checks.len());
    for (k, check) in gate.checks.iter().enumerate() {
        if !live[k] {
            continue;
        }
        let mut r = evaluate_check(v, stage, gate, check);
        let ratio = Ratio {
            count: r.count,
            base: r.base,
        };
        let measured = if r.decision == INSUFFICIENT || r.observed.is_none() {
            Measured::Inconclusive
        } else if !r.passed {
            Measured::Fail
        } else if gate.test != TestKind::Wilson {
            Measured::Pass
        } else {
            // Passed: the bound did not prove it past the threshold. Does the opposite bound
            // prove it on the right side?
            let proved = match check.bound {
                Bound::Max(max) => match check.metric {
                    ObservedMetric::CrashRate => {
                        poisson_upper(r.count as u64, gate.confidence) / r.base <= max
                    }
                    _ => upper_bound(check.metric, ratio, z).is_some_and(|u| u <= max),
                },
                Bound::Min(min) => {
                    lower_bound(check.metric, ratio, z, gate.confidence).is_some_and(|l| l >= min)
                }
                Bound::MaxRatioVsControl(_) => true,
            };
            if proved {
                Measured::Pass
            } else {
                Measured::Inconclusive
            }
        };
        if measured == Measured::Inconclusive {
            r.passed = false;
            r.decision = INCONCLUSIVE.into();
        }
        out.push((k, r, measured));
    }
    out
}

fn evaluate_check(v: &View, stage: usize, gate: &Gate, check: &Check) -> GateRecord {
    let mut cohort = observe(v, stage, check, false);
    if gate.denominator == Denominator::Cohort {
        // hawkBit judges a group over the whole group: a device not heard from counts in the
        // base, so offline devices hold the rate down (a success share) or up (nothing).
        cohort.base = v.cohort.len() as f64;
    }
    let z = z_quantile(gate.confidence);
    let wilson_test = gate.test == TestKind::Wilson;
    let mut insufficient = false;
    let (observed, bound, threshold, passed) = match check.bound {
        Bound::Max(max) => {
            let bound = wilson_test
                .then(|| lower_bound(check.metric, cohort, z, gate.confidence))
                .flatten();
            let judged = if wilson_test { bound } else { cohort.value() };
            (cohort.value(), bound, max, judged.is_none_or(|v| v <= max))
        }
        Bound::Min(min) => {
            let bound = wilson_test
                .then(|| upper_bound(check.metric, cohort, z))
                .flatten();
            let judged = if wilson_test { bound } else { cohort.value() };
            (cohort.value(), bound, min, judged.is_none_or(|v| v >= min))
        }
        Bound::MaxRatioVsControl(max) => {
            let control = observe(v, stage, check, true);
            insufficient = control.base <= 0.0;
            let ratio = match (cohort.value(), control.value()) {
                (Some(a), Some(b)) if b > 0.0 => Some(a / b),
                (Some(a), Some(_)) if a > 0.0 => Some(f64::INFINITY),
                (Some(_), Some(_)) => Some(1.0),
                _ => None,
            };
            let bound = (wilson_test && !insufficient).then(|| {
                rate_ratio_lower(
                    cohort.count as u64,
                    cohort.base,
                    control.count as u64,
                    control.base,
                    gate.confidence,
                )
            });
            let judged = if wilson_test { bound } else { ratio };
            (
                ratio,
                bound,
                max,
                !insufficient && judged.is_none_or(|v| v <= max),
            )
        }
    };
    let decision = match (insufficient, passed) {
        (true, _) => INSUFFICIENT,
        (false, true) => "pass",
        (false, false) => "fail",
    };
    GateRecord {
        stage: v.scenario.policy.stages[stage].name.clone(),
        time: v.now.as_secs_f64(),
        check: check.metric.name().into(),
        test: if wilson_test { "wilson" } else { "point" }.into(),
        count: cohort.count,
        base: cohort.base,
        observed,
        bound,
        threshold,
        passed,
        decision: decision.into(),
    }
}

fn is_proportion(m: ObservedMetric) -> bool {
    !matches!(
        m,
        ObservedMetric::CrashRate | ObservedMetric::SupportTickets
    )
}

fn lower_bound(m: ObservedMetric, r: Ratio, z: f64, confidence: f64) -> Option<f64> {
    if r.base <= 0.0 {
        return None;
    }
    Some(match m {
        ObservedMetric::CrashRate => poisson_lower(r.count as u64, confidence) / r.base,
        ObservedMetric::SupportTickets => r.count,
        _ => wilson(r.count as u64, r.base as u64, z).0,
    })
}

fn upper_bound(m: ObservedMetric, r: Ratio, z: f64) -> Option<f64> {
    if r.base <= 0.0 {
        return None;
    }
    Some(if is_proportion(m) {
        wilson(r.count as u64, r.base as u64, z).1
    } else {
        r.value()?
    })
}

/// The observed metric over the stage cohort, or (with `control`) over the devices of the same
/// populations that have not started the update.
fn observe(v: &View, stage: usize, check: &Check, control: bool) -> Ratio {
    let obs = v.backend.stage(stage);
    let count_ratio = |c: u64, b: u64| Ratio {
        count: c as f64,
        base: b as f64,
    };
    if !control {
        match check.metric {
            ObservedMetric::UpdateFailureRate => return count_ratio(obs.failure, obs.reported),
            ObservedMetric::UpdateSuccessRate => return count_ratio(obs.success, obs.reported),
            ObservedMetric::TimeoutRate => return count_ratio(obs.timed_out, obs.started),
            ObservedMetric::RevertRate => return count_ratio(obs.reverts, obs.reported),
            ObservedMetric::RejectedRate => return count_ratio(obs.rejected, obs.executed),
            ObservedMetric::AnyFailureRate => return count_ratio(obs.any_failure(), obs.executed),
            ObservedMetric::SupportTickets => {
                let n = v.backend.tickets_by(Some(stage), v.now);
                return Ratio {
                    count: n as f64,
                    base: 1.0,
                };
            }
            _ => {}
        }
    }
    let window_start = v.opened_at.map_or(0, |t| t.0);
    let mut total = Ratio::default();
    let mut add = |d: u32| {
        let r = device_metric(v, d, check, control, window_start);
        total.count += r.count;
        total.base += r.base;
    };
    if control {
        control_group(v).for_each(&mut add);
    } else {
        v.cohort.iter().copied().for_each(&mut add);
    }
    total
}

/// Devices of the cohort's populations that have not started the update, in fleet order. A
/// population with mixes is one population here, every variant of it.
fn control_group<'a>(v: &'a View<'a, '_>) -> impl Iterator<Item = u32> + 'a {
    let head = |d: u32| v.scenario.populations[v.fleet.dev(d).population as usize].head;
    let mut pops = vec![false; v.scenario.populations.len()];
    for &d in v.cohort {
        pops[head(d)] = true;
    }
    let target = v.scenario.policy.target;
    v.order
        .iter()
        .copied()
        .filter(move |&d| {
            let dv = v.fleet.dev(d);
            pops[head(d)]
                && !dv.has(flag::STARTED)
                && dv.version != target
                && v.fleet.present(d, v.now)
        })
        .take(MAX_CONTROL)
}

fn device_metric(v: &View, d: u32, check: &Check, control: bool, window_start: u64) -> Ratio {
    let now = v.now.0;
    // Under a telemetry delay the backend has heard only what was sent `delay` ago.
    let heard_by = if v.scenario.faults.is_empty() {
        now
    } else {
        now.saturating_sub(v.faults.telemetry_delay_ms(v.fleet, d, v.now))
    };
    let (tl, down) = (v.fleet.timeline(d), v.fleet.no_reconnect(d));
    let dv = *v.fleet.dev(d);
    // When the backend last heard from the device, walked on a copy of its record: judging a
    // gate changes nothing in the world it judges.
    let last_contact = || {
        let mut ahead = dv;
        tl.last_contact(&mut ahead, now, down).min(heard_by)
    };
    let updated = dv.version == v.scenario.policy.target && dv.has(flag::EXPOSED);
    match check.metric {
        ObservedMetric::SilentRate => {
            if !control && !dv.has(flag::STARTED) {
                return Ratio::default();
            }
            let contact = last_contact();
            let silent = now.saturating_sub(contact) >= check.silent_after_ms;
            Ratio {
                count: silent as u64 as f64,
                base: 1.0,
            }
        }
        _ if !control && !updated => Ratio::default(),
        ObservedMetric::CrashRate => {
            let from = if control { window_start } else { dv.boot_at };
            crash_metric(v, d, from, last_contact())
        }
        ObservedMetric::TelemetryGapRate => {
            let contact = last_contact();
            let from = if control { window_start } else { dv.boot_at };
            if contact <= from {
                return Ratio::default();
            }
            let fx = effect(v, d);
            let gap =
                fx.is_some_and(|f| f.telemetry_onset <= contact && f.telemetry_onset < f.left_at);
            Ratio {
                count: gap as u64 as f64,
                base: 1.0,
            }
        }
        ObservedMetric::CommandFailureRate => {
            let from = if control { window_start } else { dv.boot_at };
            command_metric(v, d, from, last_contact())
        }
        _ => Ratio::default(),
    }
}

/// Crashes per device-day the backend heard of from device `d` over `(from, contact]`.
fn crash_metric(v: &View, d: u32, from: u64, contact: u64) -> Ratio {
    if contact <= from {
        return Ratio::default();
    }
    let crashes = crashes_between(v, d, from, contact);
    // Crash reports lost to a telemetry-drop fault never reach the backend; the exposure
    // still counts (the device was heard from).
    let loss = v.faults.health_loss(v.fleet, d, from, contact);
    let heard = v.faults.heard_of(v.fleet, d, crashes, loss, v.now.0);
    Ratio {
        count: heard as f64,
        base: (contact - from) as f64 / DAY_MS as f64,
    }
}

/// Failed commands over the command results the backend heard of from device `d` over
/// `(from, contact]`.
fn command_metric(v: &View, d: u32, from: u64, contact: u64) -> Ratio {
    let now = v.now.0;
    let r = command_results(v, d, from, contact);
    // A lost report loses its command results, failed or not.
    let loss = v.faults.health_loss(v.fleet, d, from, contact);
    let failed = v.faults.heard_of(v.fleet, d, r.count as u64, loss, now);
    let ok = v
        .faults
        .heard_of(v.fleet, d, (r.base - r.count) as u64, loss, now ^ 1);
    Ratio {
        count: failed as f64,
        base: (failed + ok) as f64,
    }
}

fn effect<'a>(v: &'a View<'a, '_>, d: u32) -> Option<&'a crate::fleet::Effects> {
    v.fleet.effects_of(d)
}

/// Cumulative crash hazard of device `d` at `t` (expected crashes since time zero).
fn hazard(v: &View, d: u32, t: u64) -> f64 {
    let pop = &v.scenario.populations[v.fleet.dev(d).population as usize];
    let days = |ms: u64| ms as f64 / DAY_MS as f64;
    let mut h = pop.crash_rate_per_day * days(t);
    if let Some(fx) = effect(v, d) {
        let end = t.min(fx.left_at);
        if fx.crash_onset < end {
            h += (fx.crash_factor - 1.0) * pop.crash_rate_per_day * days(end - fx.crash_onset);
        }
        if fx.loop_onset < end {
            h += CRASH_LOOP_PER_DAY * days(end - fx.loop_onset);
        }
    }
    h
}

/// Hazard below which crashes are placed by walking unit-rate exponential gaps: exact, and the
/// draws every scenario with ordinary crash rates has always made (a few crashes per device).
const CRASH_WALK_HAZARD: f64 = 4096.0;
/// The walk stops after this many gaps whatever happens: the number of points below
/// [`CRASH_WALK_HAZARD`] is Poisson(4096), and 4800 is 11 standard deviations above its mean.
const CRASH_WALK_STEPS: usize = 4800;
/// Hazard covered by the Poisson tree above the walk (2^52 crashes: far beyond what the
/// validated crash rates, factors and horizon can reach, about 3·10^14).
const CRASH_TREE_SPAN: f64 = 4_503_599_627_370_496.0;
/// A tree node holding at most this many points places them as uniforms.
const CRASH_TREE_LEAF: u64 = 16;

/// Crashes of device `d` in `(a, b]`: a unit-rate Poisson process in hazard time, drawn from
/// the device's own crash stream, so the same device crashes at the same moments whatever the
/// policy (as long as it runs the same firmware). The count is `N(h(b)) − N(h(a))` of one
/// monotone counting function `N`, so counts over adjacent intervals add up.
///
/// `N` is built in two parts so that its cost is bounded whatever the hazard (`crash_rate =
/// 1e9` used to mean up to 10^6 draws per device per gate evaluation, and a silently capped
/// count): points below [`CRASH_WALK_HAZARD`] by walking exponential gaps, the rest by
/// [`tree_count`], a binary Poisson tree that answers in about 50 draws.
fn crashes_between(v: &View, d: u32, a: u64, b: u64) -> u64 {
    let (ha, hb) = (hazard(v, d, a), hazard(v, d, b));
    if hb <= ha {
        return 0;
    }
    let key = v.fleet.key(d, Purpose::Crash);
    let mut s = Stream::new(key);
    let walk_end = hb.min(CRASH_WALK_HAZARD);
    let (mut e, mut n) = (0.0, 0u64);
    for _ in 0..CRASH_WALK_STEPS {
        e += s.exp1();
        if e > walk_end {
            break;
        }
        if e > ha {
            n += 1;
        }
    }
    if hb > CRASH_WALK_HAZARD {
        let above = |h: f64| tree_count(key, (h - CRASH_WALK_HAZARD).max(0.0));
        n += above(hb).saturating_sub(above(ha));
    }
    n
}

/// The number of points in `[0, h]` of a unit-rate Poisson process on `[0, CRASH_TREE_SPAN)`,
/// keyed by `key`: the root holds Poisson(span) points, every node splits its points between
/// its halves binomially (each node's draw from its own stream), and a small node places its
/// points as uniforms. Monotone in `h` by construction; bounded: at most 64 levels.
fn tree_count(key: u64, h: f64) -> u64 {
    use rand_distr::{Binomial, Distribution, Poisson};
    let node_stream = |node: u64| {
        Stream::new(crate::engine::rng::mix64(
            key ^ crate::engine::rng::mix64(node ^ 0xC7A5_4C0D_E7EE_0001),
        ))
    };
    let h = h.min(CRASH_TREE_SPAN);
    let mut c = Poisson::new(CRASH_TREE_SPAN)
        .map(|p| p.sample(&mut node_stream(0)) as u64)
        .unwrap_or(0);
    let (mut node, mut lo, mut width, mut below) = (1u64, 0.0, CRASH_TREE_SPAN, 0u64);
    for _ in 0..64 {
        if c <= CRASH_TREE_LEAF {
            break;
        }
        let left = Binomial::new(c, 0.5)
            .map(|b| b.sample(&mut node_stream(node)))
            .unwrap_or(c / 2);
        width /= 2.0;
        if h < lo + width {
            c = left;
            node = node.wrapping_mul(2);
        } else {
            below += left;
            c -= left;
            lo += width;
            node = node.wrapping_mul(2) | 1;
        }
    }
    let mut s = node_stream(node);
    let inside = (0..c.min(CRASH_TREE_LEAF * 4))
        .filter(|_| lo + s.uniform() * width <= h)
        .count() as u64;
    below + inside
}

/// Commands sent to device `d` in `(from, contact]` whose results it has reported, and how many
/// failed. Commands arrive `commands_per_day` times a day at even intervals.
fn command_results(v: &View, d: u32, from: u64, contact: u64) -> Ratio {
    let pop = &v.scenario.populations[v.fleet.dev(d).population as usize];
    if contact <= from || pop.commands_per_day <= 0.0 {
        return Ratio::default();
    }
    let every = (DAY_MS as f64 / pop.commands_per_day) as u64;
    let sent = ((contact - from) / every.max(1)).min(100_000);
    let mut failed = 0u64;
    if let Some(fx) = effect(v, d).filter(|f| f.command_rate > 0.0) {
        let mut s = Stream::new(v.fleet.key(d, Purpose::Command));
        for k in 1..=sent {
            let t = from + k * every;
            if s.bernoulli(fx.command_rate) && t >= fx.command_onset && t < fx.left_at {
                failed += 1;
            }
        }
    }
    Ratio {
        count: failed as f64,
        base: sent as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Obs;
    use crate::replication::RunLimits;
    use crate::scenario::Scenario;

    /// Ten always-online devices; one stage of `percent` of them, its gate's checks given.
    fn ten_devices(percent: u32, test: &str, checks: &str) -> Scenario {
        crate::scenario::test_fleet::ten_devices(
            crate::scenario::test_fleet::TEN_PLC,
            &format!(
                r#"[[policy.stage]]
name = "canary"
select = {{}}
percent = {percent}
bake = "1h"
[policy.stage.gate]
min_devices = 1
test = "{test}"
confidence = 0.95
on_fail = "pause"
{checks}"#
            ),
        )
    }

    /// A replication of `sc` with its cohorts drawn and the backend's view of stage 0 set to
    /// `obs`; nothing has run.
    fn judged(sc: &Scenario, obs: Obs) -> (Verdict, Vec<GateRecord>) {
        let mut sim = crate::replication::Sim::new(sc, 0, RunLimits::default()).unwrap();
        sim.controller.start_rollout(&mut sim.world);
        sim.world.backend.set_observed(0, obs);
        let gate = sc.policy.stages[0].gate.as_ref().unwrap();
        evaluate(&sim.controller.view(&sim.world, 0), 0, gate)
    }

    fn failures(failure: u64, reported: u64) -> Obs {
        Obs {
            reported,
            failure,
            success: reported - failure,
            ..Obs::default()
        }
    }

    const FAILURE_AT_MOST_20_PERCENT: &str =
        "[[policy.stage.gate.check]]\nmetric = \"update_failure_rate\"\nmax = 0.2";

    /// `point` compares the observed ratio itself: 2/10 = 0.2 is at the bound (passes), 3/10
    /// is past it (fails), and the record carries the count, base and ratio.
    #[test]
    fn a_point_check_fails_exactly_past_its_threshold() {
        let sc = ten_devices(100, "point", FAILURE_AT_MOST_20_PERCENT);
        let (verdict, records) = judged(&sc, failures(2, 10));
        assert_eq!(verdict, Verdict::Pass);
        assert_eq!(records[0].decision, "pass");
        let (verdict, records) = judged(&sc, failures(3, 10));
        assert_eq!(verdict, Verdict::Fail);
        let r = &records[0];
        assert_eq!((r.count, r.base, r.observed), (3.0, 10.0, Some(0.3)));
        assert_eq!(
            (r.check.as_str(), r.test.as_str()),
            ("update_failure_rate", "point")
        );
    }

    /// `wilson` fails only when the lower confidence bound is past the threshold. 3/10 has a
    /// one-sided 95 % Wilson lower bound of 0.127 (z = 1.645: centre (0.3 + z²/20)/(1 + z²/10)
    /// = 0.343, half-width 0.216): not proof of a rate above 0.2, so it passes. 9/10 has a
    /// lower bound of 0.65 and fails.
    #[test]
    fn a_wilson_check_needs_proof_past_its_threshold() {
        let sc = ten_devices(100, "wilson", FAILURE_AT_MOST_20_PERCENT);
        let (verdict, records) = judged(&sc, failures(3, 10));
        assert_eq!(verdict, Verdict::Pass);
        let bound = records[0].bound.unwrap();
        assert!((bound - 0.127).abs() < 0.01, "{bound}");
        let (verdict, records) = judged(&sc, failures(9, 10));
        assert_eq!(verdict, Verdict::Fail);
        assert!(records[0].bound.unwrap() > 0.6);
    }

    /// No reported result: nothing to judge, no evidence against the release (min_devices is
    /// what guards against judging too early).
    #[test]
    fn a_check_without_data_passes() {
        let sc = ten_devices(100, "point", FAILURE_AT_MOST_20_PERCENT);
        let (verdict, records) = judged(&sc, Obs::default());
        assert_eq!(verdict, Verdict::Pass);
        assert_eq!(records[0].observed, None);
    }

    /// A stage that takes every device leaves no control group: a ratio-vs-control check is
    /// insufficient, never a pass.
    #[test]
    fn a_ratio_check_without_a_control_is_insufficient() {
        let checks =
            "[[policy.stage.gate.check]]\nmetric = \"crash_rate\"\nmax_ratio_vs_control = 1.5";
        let sc = ten_devices(100, "point", checks);
        let mut sim = crate::replication::Sim::new(&sc, 0, RunLimits::default()).unwrap();
        sim.controller.start_rollout(&mut sim.world);
        for d in 0..10 {
            sim.world.fleet.dev_mut(d as u32).set(flag::STARTED);
        }
        let (verdict, records) = evaluate(
            &sim.controller.view(&sim.world, 0),
            0,
            sc.policy.stages[0].gate.as_ref().unwrap(),
        );
        assert_eq!(verdict, Verdict::Insufficient);
        assert_eq!(records[0].decision, INSUFFICIENT);
        assert!(!records[0].passed);
    }

    /// Judging reads the world and changes nothing in it: every device record is the same
    /// before and after a silent-rate evaluation (which walks each device's timeline).
    #[test]
    fn judging_a_gate_changes_no_device() {
        let checks =
            "[[policy.stage.gate.check]]\nmetric = \"silent_rate\"\nsilent_after = \"1h\"\nmax = 0.5";
        let sc = ten_devices(50, "point", checks);
        let mut sim = crate::replication::Sim::new(&sc, 0, RunLimits::default()).unwrap();
        sim.controller.start_rollout(&mut sim.world);
        for &d in &sim.controller.stages[0].cohort.clone() {
            sim.world.fleet.dev_mut(d).set(flag::STARTED);
        }
        sim.world.now = crate::engine::time::SimTime(crate::engine::time::DAY_MS);
        let before = sim.world.fleet.devices().to_vec();
        let (verdict, records) = evaluate(
            &sim.controller.view(&sim.world, 0),
            0,
            sc.policy.stages[0].gate.as_ref().unwrap(),
        );
        assert_eq!(sim.world.fleet.devices(), before);
        // Always online and checking in every 15 minutes: nobody is silent for an hour.
        assert_eq!(
            (verdict, records[0].count, records[0].base),
            (Verdict::Pass, 0.0, 5.0)
        );
    }

    /// The crash tree is a counting function: monotone in the hazard, and its mean is the
    /// hazard. Over 2 000 keys at h = 10^6 the mean count is within 0.1 % of 10^6 (the standard
    /// error of the mean is 10^3 / sqrt(2000) ≈ 22, i.e. 0.002 %; 0.1 % leaves room for f64).
    #[test]
    fn crash_tree_is_monotone_and_unbiased() {
        let mut sum = 0.0;
        for key in 0..2_000u64 {
            let key = crate::engine::rng::mix64(key);
            let (a, b, c) = (
                tree_count(key, 3.5),
                tree_count(key, 1.0e6),
                tree_count(key, 1.0e6 + 0.5),
            );
            assert!(a <= b && b <= c, "{a} {b} {c}");
            sum += b as f64;
        }
        let mean = sum / 2_000.0;
        assert!((mean / 1.0e6 - 1.0).abs() < 1e-3, "{mean}");
    }

    /// Regression (`crash_rate = 1e9`): a count of about 10^14 crashes takes a few dozen draws,
    /// not a loop over every crash, and stays consistent: count(0, b] − count(0, a] is the count
    /// over (a, b].
    #[test]
    fn crash_tree_counts_huge_hazards_in_bounded_time() {
        let key = crate::engine::rng::mix64(42);
        let (a, b) = (tree_count(key, 1.0e14), tree_count(key, 2.0e14));
        assert!(a <= b);
        let rel = (b as f64 / 2.0e14 - 1.0).abs();
        assert!(rel < 1e-4, "{b}");
    }

    /// `rejected_rate` and `any_failure_rate` are gate checks over the stage's executed devices:
    /// 2 rejections and 1 failed result among 6 executed (3 successes) are 2/6 and 3/6, past
    /// `max = 0.3` and `max = 0.45`; `max = 0.5` holds the second.
    #[test]
    fn rejected_and_any_failure_rates_are_gate_checks_over_executed_devices() {
        let obs = Obs {
            reported: 4,
            success: 3,
            failure: 1,
            rejected: 2,
            executed: 6,
            ..Obs::default()
        };
        let check = |metric: &str, max: f64| {
            ten_devices(
                100,
                "point",
                &format!("[[policy.stage.gate.check]]\nmetric = \"{metric}\"\nmax = {max}"),
            )
        };
        let (verdict, records) = judged(&check("rejected_rate", 0.3), obs);
        assert_eq!(verdict, Verdict::Fail);
        assert_eq!((records[0].count, records[0].base), (2.0, 6.0));
        let (verdict, records) = judged(&check("any_failure_rate", 0.45), obs);
        assert_eq!(verdict, Verdict::Fail);
        assert_eq!((records[0].count, records[0].base), (3.0, 6.0));
        assert_eq!(
            judged(&check("any_failure_rate", 0.5), obs).0,
            Verdict::Pass
        );
    }
}
