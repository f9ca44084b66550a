//! Behavioural tests for defect effects, gate metrics and policy knobs. Every test compares a
//! run with a control on the same seeds (common random numbers) or with a number derived in
//! closed form; every statistical assertion states its tolerance and why.

mod common;

use common::{outcomes, scenario, ALWAYS_ONLINE, ONE_STAGE as ALL, TWO_RELEASES};
use fleetsim::fleet::device::{flag, Device};
use fleetsim::metrics::outcome::Outcome;
use fleetsim::policy::rollout::GateRecord;
use fleetsim::replication::{RunLimits, Sim};
use fleetsim::scenario::Scenario;

/// An always-online fleet of 2000 A/B devices (sessions of ~1000 days, 1 s gaps) that checks in
/// every minute and downloads 1 MB at 8 Mbit/s (1 s); the target installs in 60 s and reboots
/// in 30 s; the policy notifies 100 devices a minute (one every 0.6 s).
/// `pop` adds keys to the population, `release` to the target release (its defects), `policy`
/// to `[policy]`; `stages` are the `[[policy.stage]]` tables and `extra` any further tables.
fn world(pop: &str, release: &str, policy: &str, stages: &str, extra: &str) -> String {
    format!(
        r#"
[simulation]
name = "behaviour"
seed = 23
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

/// A canary of `percent` % with `gate` (the body of `[policy.stage.gate]`, checks included) and
/// `bake`, then the rest of the fleet.
fn canary(percent: u32, bake: &str, gate: &str) -> String {
    format!(
        "[[policy.stage]]\nname = \"canary\"\nselect = {{}}\npercent = {percent}\nbake = \"{bake}\"\n[policy.stage.gate]\n{gate}\n\n[[policy.stage]]\nname = \"rest\"\nselect = {{}}\npercent = 100\n"
    )
}

/// A point-test gate that aborts on failure, judged once 20 devices have reported, with one
/// check `check` (the lines of a `[[policy.stage.gate.check]]` table).
fn point_gate(check: &str) -> String {
    format!(
        "min_devices = 20\ntest = \"point\"\non_fail = \"abort\"\n[[policy.stage.gate.check]]\n{check}\n"
    )
}

/// The (single) evaluation of `check` by the canary gate.
fn canary_check<'a>(o: &'a Outcome, check: &str) -> &'a GateRecord {
    let records: Vec<_> = o
        .gates
        .iter()
        .filter(|g| g.stage == "canary" && g.check == check)
        .collect();
    assert_eq!(
        records.len(),
        1,
        "replication {}: canary `{check}` evaluations: {:?}",
        o.replication,
        o.gates
    );
    records[0]
}

/// Runs replication `rep` with a trace of every event.
fn traced(sc: &Scenario, rep: u64) -> Sim<'_> {
    let mut sim = Sim::new(
        sc,
        rep,
        RunLimits {
            trace_rows: 10_000_000,
            ..RunLimits::default()
        },
    )
    .unwrap();
    sim.run().unwrap();
    sim
}

// ---------------------------------------------------------------------------------------------
// Defect effects
// ---------------------------------------------------------------------------------------------

/// `no-reconnect` (probability 0.2): the device boots the target and is never heard from again.
/// It is harmed and runs the target, but its result never reaches the backend: without a
/// timeout the backend sees neither a success nor a failure from it; with `timeout = "1h"` it
/// is exactly the devices that time out. Every healthy device (always online) reports its
/// success, so the counts are exact; the harmed share is Binomial(2000, 0.2) per replication:
/// SE 0.009, tolerance 0.04 (4.5 SE).
#[test]
fn no_reconnect_devices_never_report_and_time_out() {
    let defect = "[[release.defect]]\neffect = \"no-reconnect\"\nprobability = 0.2\n";
    let silent = outcomes(&world("", defect, "", ALL, ""));
    let timed = outcomes(&world("", defect, "timeout = \"1h\"", ALL, ""));
    let control = outcomes(&world("", "", "", ALL, ""));
    for ((s, t), c) in silent.iter().zip(&timed).zip(&control) {
        let share = s.harmed as f64 / 2000.0;
        assert!((share - 0.2).abs() < 0.04, "harmed share {share}");
        assert_eq!(s.updated, 2000, "no-reconnect devices still run the target");
        assert_eq!(s.bricked, 0);
        // Silent: the backend heard only the healthy devices' successes.
        assert_eq!(s.observed_success, s.updated - s.harmed);
        assert_eq!(s.observed_failure, 0);
        assert_eq!(s.observed_timed_out, 0);
        // With a timeout, exactly the silent devices time out (same world: same harmed set).
        assert_eq!(t.harmed, s.harmed);
        assert_eq!(t.observed_timed_out, t.harmed);
        assert_eq!(t.observed_failure, t.harmed);
        assert_eq!(t.failures_by_reason["timeout"], t.harmed);
        assert_eq!(t.observed_success, t.updated - t.harmed);
        // The control hears from everybody.
        assert_eq!((c.harmed, c.observed_success), (0, 2000));
    }
}

/// A `silent_rate` gate sees no-reconnect devices go quiet and rolls back; the rollback reaches
/// every exposed device except the unreachable ones, which are `rollback_refused` — exactly the
/// harmed devices, since a halted canary exposes no one else. Silence of 20 % of the canary
/// (400 devices, SE 0.02) against a 5 % threshold cannot pass.
#[test]
fn no_reconnect_trips_silent_rate_and_cannot_be_rolled_back() {
    let defect = "[[release.defect]]\neffect = \"no-reconnect\"\nprobability = 0.2\n";
    let gate = "min_devices = 20\ntest = \"point\"\non_fail = \"rollback\"\n[[policy.stage.gate.check]]\nmetric = \"silent_rate\"\nsilent_after = \"2h\"\nmax = 0.05\n";
    let bad = outcomes(&world("", defect, "", &canary(20, "6h", gate), ""));
    let good = outcomes(&world("", "", "", &canary(20, "6h", gate), ""));
    for (b, g) in bad.iter().zip(&good) {
        let rec = canary_check(b, "silent_rate");
        assert!(!rec.passed, "{rec:?}");
        assert_eq!(b.halt_reason.as_deref(), Some("gate:canary:silent_rate"));
        assert_eq!(
            rec.count, b.harmed as f64,
            "the silent devices are the harmed ones"
        );
        assert_eq!(b.rollback_refused, b.harmed);
        assert_eq!(b.rolled_back, b.exposed - b.harmed);
        let rec = canary_check(g, "silent_rate");
        assert!(rec.passed && rec.count == 0.0, "{rec:?}");
        assert!(!g.halted);
    }
}

/// A crash loop starting 2 h after boot (probability 0.5, 400-device canary): crash-looping
/// devices crash 24 times a day, so the canary's crash rate is far above its control's
/// (background 1 a day) and a `crash_rate` ratio check fails; a healthy release passes it.
/// Harm counts at the onset, not at boot: the gate judges at (last canary notification at
/// 399·0.6 = 239.4 s) + bake 1 d, and the first harm falls at the first boot + 2 h, where the
/// first boot is ≥ 91 s (1 s download + 60 s install + 30 s reboot) plus a check-in wait of at
/// most 60 s; so time_to_detect lies in [86 400 + 239.4 − 7 200 − 151, … − 91] (tolerance 1 s).
/// The harmed share of the canary is Binomial(400, 0.5): SE 0.025, tolerance 0.1 (4 SE).
#[test]
fn crash_loop_harms_at_onset_and_trips_the_crash_rate_gate() {
    let defect = "[[release.defect]]\neffect = \"crash-loop\"\nprobability = 0.5\nafter = \"2h\"\n";
    let check = "metric = \"crash_rate\"\nmax_ratio_vs_control = 2.0";
    let stages = canary(20, "1d", &point_gate(check));
    let bad = outcomes(&world("crash_rate = 1.0", defect, "", &stages, ""));
    let good = outcomes(&world("crash_rate = 1.0", "", "", &stages, ""));
    for (b, g) in bad.iter().zip(&good) {
        let rec = canary_check(b, "crash_rate");
        assert!(!rec.passed, "{rec:?}");
        assert!(rec.observed.unwrap() > 5.0, "{rec:?}");
        assert_eq!(b.halt_reason.as_deref(), Some("gate:canary:crash_rate"));
        assert_eq!(b.exposed, 400, "the halted canary alone was exposed");
        let share = b.harmed as f64 / 400.0;
        assert!((share - 0.5).abs() < 0.1, "harmed share {share}");
        let ttd = b.time_to_detect.unwrap();
        let judged = 86_400.0 + 239.4;
        assert!(
            ttd > judged - 7_200.0 - 151.0 - 1.0 && ttd < judged - 7_200.0 - 91.0 + 1.0,
            "time_to_detect {ttd}"
        );
        let rec = canary_check(g, "crash_rate");
        assert!(rec.passed, "{rec:?}");
        assert!(!g.halted);
    }
}

/// After its onset, a crash-looping device crashes every hour and is reachable only for the
/// first `availability` (0.1) of each hour, whatever its connectivity sessions do. Sessions
/// alternate exponential 1 h online / 1 h offline, independent of the crash cycle, so a healthy
/// device is online half the time and a looping one 0.5 · 0.1 = 0.05 of the time. Measured on
/// the simulator's own timelines, from 6 h after onset to the horizon, every 7 min 13 s (a step
/// that does not divide the hour, so the samples do not alias with the crash cycle), over ~500
/// looping and ~500 healthy devices: ~50 000 on/off cycles per group make the SE of each share
/// about 0.002; tolerance 0.01. The loop starts exactly `after` (6 h) after boot.
#[test]
fn crash_loop_keeps_a_device_reachable_only_availability_of_the_time() {
    let text = world(
        "",
        "[[release.defect]]\neffect = \"crash-loop\"\nprobability = 0.5\nafter = \"6h\"\navailability = 0.1\n",
        "",
        ALL,
        "[connectivity.flaky]\nonline = { dist = \"exponential\", mean = \"1h\" }\noffline = { dist = \"exponential\", mean = \"1h\" }\ncheck_in = \"5m\"\nbandwidth_kbps = 8000\n",
    )
    .replace("connectivity = \"always\"", "connectivity = \"flaky\"")
    .replace("count = 2000", "count = 1000")
    .replace("horizon = \"3d\"", "horizon = \"5d\"");
    let sc = scenario(&text);
    let mut sim = Sim::new(&sc, 0, RunLimits::default()).unwrap();
    sim.run().unwrap();
    let horizon = sc.horizon.0;
    let target = sc.policy.target;
    let (mut looping, mut healthy) = ((0u64, 0u64), (0u64, 0u64));
    for d in 0..sim.world.fleet.len() as u32 {
        let dv = *sim.world.fleet.dev(d);
        if dv.version != target {
            continue;
        }
        let from = if dv.has(flag::HARMED) {
            let fx = sim.world.fleet.effects_of(d).unwrap();
            assert_eq!(fx.loop_onset, dv.boot_at + 6 * 3_600_000, "device {d}");
            fx.loop_onset + 6 * 3_600_000
        } else {
            dv.boot_at + 12 * 3_600_000
        };
        let (tl, o) = (sim.world.timeline(d), sim.world.overlay(d));
        let mut fresh = Device::default();
        tl.init(&mut fresh);
        let tally = if dv.has(flag::HARMED) {
            &mut looping
        } else {
            &mut healthy
        };
        let mut t = from;
        while t < horizon {
            tally.0 += tl.online_at(&mut fresh, t, &o) as u64;
            tally.1 += 1;
            t += 433_000;
        }
    }
    assert!(
        looping.1 > 50_000 && healthy.1 > 50_000,
        "{looping:?} {healthy:?}"
    );
    let (l, h) = (
        looping.0 as f64 / looping.1 as f64,
        healthy.0 as f64 / healthy.1 as f64,
    );
    assert!((l - 0.05).abs() < 0.01, "looping online share {l}");
    assert!((h - 0.5).abs() < 0.01, "healthy online share {h}");
}

/// `crash-rate` with `factor = 4` on every device: the canary (400 devices) crashes 4 times as
/// often as its control (the 1 600 devices still on 1.0.0, background 1 a day). Over the 2-day
/// bake each side counts ≈ 3 200 crashes, so the observed ratio is 4 with a relative SE of
/// √(2/3200) ≈ 2.5 %; tolerance 0.6 (15 %). A Wilson check at 0.9 with `max_ratio_vs_control =
/// 2` fails on it, and passes for the same release without the defect (ratio 1 ± 0.1).
#[test]
fn crash_rate_factor_fails_the_ratio_vs_control_gate() {
    let defect = "[[release.defect]]\neffect = \"crash-rate\"\nprobability = 1.0\nfactor = 4.0\n";
    let gate = "min_devices = 20\ntest = \"wilson\"\nconfidence = 0.9\non_fail = \"abort\"\n[[policy.stage.gate.check]]\nmetric = \"crash_rate\"\nmax_ratio_vs_control = 2.0\n";
    let stages = canary(20, "2d", gate);
    let bad = outcomes(&world("crash_rate = 1.0", defect, "", &stages, ""));
    let good = outcomes(&world("crash_rate = 1.0", "", "", &stages, ""));
    for (b, g) in bad.iter().zip(&good) {
        let rec = canary_check(b, "crash_rate");
        let ratio = rec.observed.unwrap();
        assert!((ratio - 4.0).abs() < 0.6, "{rec:?}");
        assert!(rec.bound.unwrap() > 2.0 && !rec.passed, "{rec:?}");
        assert_eq!(b.halt_reason.as_deref(), Some("gate:canary:crash_rate"));
        assert_eq!(b.harmed, 400, "every exposed device suffers the defect");
        let rec = canary_check(g, "crash_rate");
        assert!((rec.observed.unwrap() - 1.0).abs() < 0.3, "{rec:?}");
        assert!(rec.passed, "{rec:?}");
        assert_eq!(g.harmed, 0);
    }
}

/// `telemetry-loss` (probability 0.3): a health metric stops arriving. The canary's
/// `telemetry_gap_rate` is the share of its updated devices with the gap: ≈ 0.3 (Binomial over
/// 400, SE 0.023, tolerance 0.1), and its numerator is exactly the harmed devices (the halted
/// canary is all that was exposed, and every device has checked in since boot after the 1 h
/// bake). Without the defect the rate is 0 and the gate passes.
#[test]
fn telemetry_loss_fails_the_telemetry_gap_gate() {
    let defect = "[[release.defect]]\neffect = \"telemetry-loss\"\nprobability = 0.3\n";
    let stages = canary(
        20,
        "1h",
        &point_gate("metric = \"telemetry_gap_rate\"\nmax = 0.1"),
    );
    let bad = outcomes(&world("", defect, "", &stages, ""));
    let good = outcomes(&world("", "", "", &stages, ""));
    for (b, g) in bad.iter().zip(&good) {
        let rec = canary_check(b, "telemetry_gap_rate");
        assert!((rec.observed.unwrap() - 0.3).abs() < 0.1, "{rec:?}");
        assert!(!rec.passed);
        assert_eq!(rec.count, b.harmed as f64);
        assert_eq!(rec.base, 400.0);
        assert_eq!(
            b.halt_reason.as_deref(),
            Some("gate:canary:telemetry_gap_rate")
        );
        let rec = canary_check(g, "telemetry_gap_rate");
        assert_eq!(rec.observed, Some(0.0));
        assert!(rec.passed && !g.halted);
    }
}

/// `battery-drain` alone (probability 0.3, factor 3) counts its devices as harmed when they
/// boot the release; a gateless rollout exposes the whole fleet, so the harmed share is
/// Binomial(2000, 0.3) per replication: SE 0.010, tolerance 0.04 (4 SE). Nothing else changes:
/// the same fleet updates completely, as the healthy control does.
#[test]
fn battery_drain_counts_as_harm() {
    let power = "[power.batt]\nsource = \"battery\"\nlevel = 1.0\ndrain_per_day = 0.1\n";
    let defect =
        "[[release.defect]]\neffect = \"battery-drain\"\nprobability = 0.3\nfactor = 3.0\n";
    let bad = outcomes(&world("power = \"batt\"", defect, "", ALL, power));
    let good = outcomes(&world("power = \"batt\"", "", "", ALL, power));
    for (b, g) in bad.iter().zip(&good) {
        let share = b.harmed as f64 / 2000.0;
        assert!((share - 0.3).abs() < 0.04, "harmed share {share}");
        assert_eq!(b.bricked, 0);
        assert_eq!((b.updated, g.updated, g.harmed), (2000, 2000, 0));
    }
}

/// Battery fleet: full at time zero, 0.1 a day of drain, no recharge, rollback preflight
/// `min_battery = 0.7`. A telemetry-loss defect on every device makes the gate roll back after
/// a 12 h bake (decided at ≈ 12 h 20 min = 0.51 d). A healthy battery is then at
/// 1 − 0.1·0.51 ≈ 0.95 and the rollback goes through; with `battery-drain` ×10 (1.0 a day) it
/// is at ≈ 0.49 < 0.7, and with no recharge coming the rollback is refused by preflight for
/// battery on every device (counted as a `battery` deferral each).
#[test]
fn battery_drain_empties_batteries_and_blocks_the_rollback() {
    let power = "[power.batt]\nsource = \"battery\"\nlevel = 1.0\ndrain_per_day = 0.1\n";
    let run_with = |factor: f64| {
        let defects = format!(
            "[[release.defect]]\neffect = \"telemetry-loss\"\nprobability = 1.0\n\n[[release.defect]]\neffect = \"battery-drain\"\nprobability = 1.0\nfactor = {factor}\n"
        );
        let gate = "min_devices = 20\ntest = \"point\"\non_fail = \"rollback\"\n[[policy.stage.gate.check]]\nmetric = \"telemetry_gap_rate\"\nmax = 0.1\n";
        let stages = format!(
            "[[policy.stage]]\nname = \"all\"\nselect = {{}}\npercent = 100\nbake = \"12h\"\n[policy.stage.gate]\n{gate}"
        );
        outcomes(&world(
            "power = \"batt\"",
            &defects,
            "preflight = { min_battery = 0.7 }",
            &stages,
            power,
        ))
    };
    let (drained, healthy) = (run_with(10.0), run_with(1.0));
    for (d, h) in drained.iter().zip(&healthy) {
        assert!(d.halted && h.halted);
        assert_eq!((d.exposed, h.exposed), (2000, 2000));
        assert_eq!(h.rolled_back, 2000, "a healthy battery allows the rollback");
        assert_eq!(d.rolled_back, 0, "a drained battery fails the preflight");
        assert_eq!(d.deferrals_by_reason["battery"], 2000);
        assert_eq!(d.harmed, 2000);
    }
}

/// README: "`battery-drain` multiplies drain while the device runs the release". The same
/// battery fleet, but the rollout starts on day 2 (battery 0.8 by then), with a ×4 drain and
/// `min_battery = 0.5`. At the rollback (≈ day 2.51) a device that ran the release for half a
/// day has 1 − 0.1·2 − 0.4·0.51 ≈ 0.59 ≥ 0.5 and must be rolled back. If the factor is applied
/// to the drain since time zero instead, the level reads 1 − 0.4·2.51 < 0 and every rollback
/// is refused for battery.
#[test]
fn battery_drain_applies_only_while_running_the_release() {
    let power = "[power.batt]\nsource = \"battery\"\nlevel = 1.0\ndrain_per_day = 0.1\n";
    let gate = "min_devices = 20\ntest = \"point\"\non_fail = \"rollback\"\n[[policy.stage.gate.check]]\nmetric = \"telemetry_gap_rate\"\nmax = 0.1\n";
    let stages = format!(
        "[[policy.stage]]\nname = \"all\"\nselect = {{}}\npercent = 100\nbake = \"12h\"\n[policy.stage.gate]\n{gate}"
    );
    let run_with = |factor: f64| {
        let defects = format!("[[release.defect]]\neffect = \"telemetry-loss\"\nprobability = 1.0\n\n[[release.defect]]\neffect = \"battery-drain\"\nprobability = 1.0\nfactor = {factor}\n");
        outcomes(
            &world(
                "power = \"batt\"",
                &defects,
                "start = \"2d\"\npreflight = { min_battery = 0.5 }",
                &stages,
                power,
            )
            .replace("horizon = \"3d\"", "horizon = \"4d\""),
        )
    };
    // Control: without extra drain (battery ≈ 0.75 at the rollback) every device rolls back.
    for o in run_with(1.0) {
        assert!(o.halted);
        assert_eq!((o.exposed, o.rolled_back), (2000, 2000));
    }
    for o in run_with(4.0) {
        assert!(o.halted);
        assert_eq!(o.exposed, 2000);
        assert_eq!(
            o.rolled_back, 2000,
            "deferred for battery: {}",
            o.deferrals_by_reason["battery"]
        );
    }
}

/// `command-failure` with `rate = 0.4` on every device, 48 commands a day: over the 12 h bake
/// the canary's 400 devices report ≈ 9 600 command results, of which 40 % fail (SE 0.005,
/// tolerance 0.05); a `command_failure_rate` check at 0.1 fails. Without the defect no command
/// fails and the gate passes.
#[test]
fn command_failure_fails_the_command_failure_gate() {
    let defect =
        "[[release.defect]]\neffect = \"command-failure\"\nprobability = 1.0\nrate = 0.4\n";
    let stages = canary(
        20,
        "12h",
        &point_gate("metric = \"command_failure_rate\"\nmax = 0.1"),
    );
    let pop = "commands_per_day = 48";
    let bad = outcomes(&world(pop, defect, "", &stages, ""));
    let good = outcomes(&world(pop, "", "", &stages, ""));
    for (b, g) in bad.iter().zip(&good) {
        let rec = canary_check(b, "command_failure_rate");
        assert!(rec.base > 8_000.0, "{rec:?}");
        assert!((rec.observed.unwrap() - 0.4).abs() < 0.05, "{rec:?}");
        assert!(!rec.passed);
        assert_eq!(
            b.halt_reason.as_deref(),
            Some("gate:canary:command_failure_rate")
        );
        assert_eq!(b.harmed, 400);
        let rec = canary_check(g, "command_failure_rate");
        assert!(rec.base > 8_000.0, "{rec:?}");
        assert_eq!(rec.observed, Some(0.0));
        assert!(rec.passed && !g.halted);
    }
}

// ---------------------------------------------------------------------------------------------
// Gate metrics
// ---------------------------------------------------------------------------------------------

/// `timeout_rate` = devices past `timeout` over devices started. 600 of the 2000 devices sit on
/// a 1 kbit/s link: their 1 MB download takes 8 000 s, past a 1 h timeout (and they have one
/// attempt), while the others finish in ~2 min. The canary (500 devices, a random quarter) has a
/// hypergeometric share of slow devices: 0.3 with SE 0.018, tolerance 0.08. With a 6 h timeout
/// nobody times out and the gate passes.
#[test]
fn timeout_rate_counts_devices_past_the_timeout() {
    let slow = "[connectivity.slow]\nonline = { dist = \"exponential\", mean = \"1000d\" }\noffline = \"1s\"\ncheck_in = \"1m\"\nbandwidth_kbps = 1\n\n[[population]]\nname = \"slow\"\ncount = 600\nmodel = \"m1\"\nfirmware = \"1.0.0\"\nconnectivity = \"slow\"\n";
    let stages = canary(
        25,
        "3h",
        &point_gate("metric = \"timeout_rate\"\nmax = 0.1"),
    );
    let text = |timeout: &str| {
        world("", "", &format!("timeout = \"{timeout}\""), &stages, slow)
            .replace("count = 2000", "count = 1400")
    };
    let short = outcomes(&text("1h"));
    let long = outcomes(&text("6h"));
    for (s, l) in short.iter().zip(&long) {
        let rec = canary_check(s, "timeout_rate");
        assert_eq!(rec.base, 500.0, "every canary device started");
        assert!((rec.observed.unwrap() - 0.3).abs() < 0.08, "{rec:?}");
        assert!(!rec.passed);
        assert_eq!(s.halt_reason.as_deref(), Some("gate:canary:timeout_rate"));
        assert_eq!(s.observed_timed_out as f64, rec.count);
        assert_eq!(s.failures_by_reason["timeout"] as f64, rec.count);
        let rec = canary_check(l, "timeout_rate");
        assert_eq!(rec.observed, Some(0.0));
        assert!(rec.passed && !l.halted);
    }
}

/// `support_tickets`: every harmed device opens a ticket with `ticket_probability` after
/// `ticket_delay`. A boot failure on 20 % of the A/B canary harms ≈ 80 devices within minutes;
/// with probability 1 and a 2 h delay, the gate (judged 6 h later) counts exactly one ticket
/// per harmed device and fails `max = 5`. With a 2-day delay the tickets have not arrived at the
/// judgement: 0, the gate passes — tickets arrive late.
#[test]
fn support_tickets_arrive_after_their_delay_and_trip_the_gate() {
    let defect = "[[release.defect]]\neffect = \"boot-failure\"\nprobability = 0.2\n";
    let stages = canary(
        20,
        "6h",
        &point_gate("metric = \"support_tickets\"\nmax = 5"),
    );
    let support =
        |delay: &str| format!("[support]\nticket_probability = 1.0\nticket_delay = \"{delay}\"\n");
    let soon = outcomes(&world("", defect, "", &stages, &support("2h")));
    let late = outcomes(&world("", defect, "", &stages, &support("2d")));
    for (s, l) in soon.iter().zip(&late) {
        let rec = canary_check(s, "support_tickets");
        assert!(s.harmed > 40, "harmed {}", s.harmed);
        assert_eq!(rec.count, s.harmed as f64, "{rec:?}");
        assert!(!rec.passed);
        assert_eq!(
            s.halt_reason.as_deref(),
            Some("gate:canary:support_tickets")
        );
        assert_eq!(s.observed_tickets, s.harmed);
        let rec = canary_check(l, "support_tickets");
        assert_eq!(rec.count, 0.0, "{rec:?}");
        assert!(rec.passed);
    }
}

/// `ticket_probability = 0.5`: about half the harmed devices open a ticket. Gateless rollout,
/// boot failure on 20 % of 2000 devices, 2 replications: ≈ 800 harmed, tickets
/// Binomial(harmed, 0.5), SD ≈ 14; tolerance 60 (4.2 SD).
#[test]
fn ticket_probability_is_the_share_of_harmed_devices_that_open_one() {
    let defect = "[[release.defect]]\neffect = \"boot-failure\"\nprobability = 0.2\n";
    let os = outcomes(&world(
        "",
        defect,
        "",
        ALL,
        "[support]\nticket_probability = 0.5\nticket_delay = \"1h\"\n",
    ));
    let harmed: u64 = os.iter().map(|o| o.harmed).sum();
    let tickets: u64 = os.iter().map(|o| o.observed_tickets).sum();
    assert!(harmed > 600, "{harmed}");
    assert!(
        (tickets as f64 - harmed as f64 / 2.0).abs() < 60.0,
        "{tickets} tickets for {harmed} harmed"
    );
}

// ---------------------------------------------------------------------------------------------
// Releases, backend and policy
// ---------------------------------------------------------------------------------------------

/// `downgrade = "unsafe"` on the target: a rollback (to each device's previous version, since a
/// `rollback_to` across an unsafe release is rejected by validation) is refused on every exposed
/// device and counted; the same release marked safe rolls every one of them back. A
/// telemetry-loss defect on every device makes the gate roll back after a 1 h bake.
#[test]
fn unsafe_downgrade_refuses_the_rollback() {
    let gate = "min_devices = 20\ntest = \"point\"\non_fail = \"rollback\"\n[[policy.stage.gate.check]]\nmetric = \"telemetry_gap_rate\"\nmax = 0.1\n";
    let stages = canary(20, "1h", gate);
    let defect = "[[release.defect]]\neffect = \"telemetry-loss\"\nprobability = 1.0\n";
    let release = |downgrade: &str| format!("downgrade = \"{downgrade}\"\n{defect}");
    let unsafe_ = outcomes(&world("", &release("unsafe"), "", &stages, ""));
    let safe = outcomes(&world("", &release("safe"), "", &stages, ""));
    for (u, s) in unsafe_.iter().zip(&safe) {
        assert!(u.halted && s.halted);
        assert_eq!((u.exposed, s.exposed), (400, 400));
        assert_eq!(u.rolled_back, 0);
        assert_eq!(u.rollback_refused, 400);
        assert_eq!(u.updated, 400, "refused devices stay on the target");
        assert_eq!(s.rolled_back, 400);
        assert_eq!(s.rollback_refused, 0);
        assert_eq!(s.updated, 0);
    }
}

/// `requires_api = 8` against `[backend] api = 7` with `api_changes = [{ at = "1d", api = 8 }]`:
/// every device is notified within 20 min but defers (`incompatible_api`) until the change, so
/// no device boots the target before 1 d; at the change each checks in within its 1-minute poll
/// interval and finishes 91 s later, so the whole fleet runs the target by 1 d + 151 s.
#[test]
fn requires_api_waits_for_the_api_change() {
    let text = world(
        "",
        "requires_api = 8",
        "",
        ALL,
        "[backend]\napi = 7\napi_changes = [{ at = \"1d\", api = 8 }]\n",
    );
    let sc = scenario(&text);
    for rep in 0..2 {
        let sim = traced(&sc, rep);
        let o = sim.outcome();
        let first_boot = sim
            .trace
            .iter()
            .filter(|r| r.event == "boot_done")
            .map(|r| r.time_ms)
            .min()
            .unwrap();
        assert!(first_boot >= 86_400_000, "booted at {first_boot} ms");
        assert_eq!(o.updated, 2000);
        assert!(o.deferrals_by_reason["incompatible_api"] >= 2000);
        let t99 = o.time_to_99.unwrap();
        assert!(
            t99 > 86_400.0 && t99 <= 86_400.0 + 151.0,
            "time_to_99 {t99}"
        );
    }
}

/// Without the API change the devices can never install the release: every targeted device is
/// stranded `incompatible_api`, none updated. The control (API 8 from the start) updates all.
#[test]
fn requires_api_strands_when_the_api_never_comes() {
    let never = outcomes(&world(
        "",
        "requires_api = 8",
        "",
        ALL,
        "[backend]\napi = 7\n",
    ));
    let ok = outcomes(&world(
        "",
        "requires_api = 8",
        "",
        ALL,
        "[backend]\napi = 8\n",
    ));
    for (n, k) in never.iter().zip(&ok) {
        assert_eq!(n.updated, 0);
        assert_eq!(n.stranded_by_reason["incompatible_api"], n.targeted);
        assert_eq!(n.stranded, n.targeted);
        assert_eq!(k.updated, 2000);
        assert_eq!(k.stranded_by_reason["incompatible_api"], 0);
    }
}

/// `approval = "operator"`: a passed stage waits `operator.response` before the next opens. A
/// 10 % canary (200 devices, the last notified at 199·0.6 = 119.4 s) without a gate passes 1 h
/// bake after its last notification; with automatic approval the next stage opens at
/// 3 719.4 s, with operator approval and a 6 h response exactly 21 600 s later. With a response
/// beyond the horizon the next stage never opens and only the canary is updated.
#[test]
fn operator_approval_waits_for_the_operator() {
    let stages = |approval: &str| {
        format!("[[policy.stage]]\nname = \"canary\"\nselect = {{}}\npercent = 10\nbake = \"1h\"\napproval = \"{approval}\"\n\n{ALL}")
    };
    let auto = outcomes(&world("", "", "", &stages("auto"), ""));
    let op = outcomes(&world(
        "",
        "",
        "operator = { response = \"6h\" }",
        &stages("operator"),
        "",
    ));
    let never = outcomes(&world(
        "",
        "",
        "operator = { response = \"10d\" }",
        &stages("operator"),
        "",
    ));
    for ((a, o), n) in auto.iter().zip(&op).zip(&never) {
        let opened = |x: &Outcome| x.stage_opened_at[1].unwrap();
        assert!((opened(a) - 3_719.4).abs() < 0.01, "{}", opened(a));
        assert!(
            (opened(o) - opened(a) - 21_600.0).abs() < 0.01,
            "{}",
            opened(o)
        );
        assert_eq!(n.stage_opened_at[1], None);
        assert_eq!(n.updated, 200);
        assert_eq!(a.updated, 2000);
    }
}

/// `max_wait` with `on_insufficient`: the canary's installs take 3 h, so its gate cannot have
/// `min_devices` reports when `max_wait = "1h"` expires (counted from the stage's opening at
/// time zero). `fail` acts (`on_fail = "abort"`) at exactly 3 600 s with reason
/// `gate:canary:insufficient`; `pass` opens the next stage at exactly 3 600 s; `extend` keeps
/// waiting: the gate is judged once the reports arrive (after 3 h) plus the 1 h bake.
#[test]
fn on_insufficient_fail_pass_and_extend_after_max_wait() {
    let stages = |on: &str| {
        format!(
            "[[policy.stage]]\nname = \"canary\"\nselect = {{}}\npercent = 10\nbake = \"1h\"\nmax_wait = \"1h\"\non_insufficient = \"{on}\"\n[policy.stage.gate]\n{}\n{ALL}",
            point_gate("metric = \"update_failure_rate\"\nmax = 0.5")
        )
    };
    let slow =
        |on: &str| outcomes(&world("", "", "", &stages(on), "").replace("\"60s\"", "\"3h\""));
    let (fail, pass, extend) = (slow("fail"), slow("pass"), slow("extend"));
    for ((f, p), e) in fail.iter().zip(&pass).zip(&extend) {
        assert!(f.halted);
        assert_eq!(f.halt_reason.as_deref(), Some("gate:canary:insufficient"));
        assert_eq!(f.halted_at, Some(3_600.0));
        assert_eq!(f.stage_opened_at[1], None);
        assert_eq!(canary_check(f, "min_devices").decision, "insufficient:fail");

        assert!(!p.halted);
        assert_eq!(p.stage_opened_at[1], Some(3_600.0));
        assert_eq!(canary_check(p, "min_devices").decision, "insufficient:pass");
        assert_eq!(p.updated, 2000);

        assert!(!e.halted);
        assert!(e.gates.iter().all(|g| g.check != "min_devices"));
        let opened = e.stage_opened_at[1].unwrap();
        assert!(
            opened > 3.0 * 3_600.0 + 3_600.0,
            "extend opened at {opened}"
        );
        assert!(canary_check(e, "update_failure_rate").passed);
    }
}

/// Notification times of replication 0 (the pump's `notify` events, one device each).
fn notify_times(text: &str) -> Vec<u64> {
    let sc = scenario(text);
    let sim = traced(&sc, 0);
    sim.trace
        .iter()
        .filter(|r| r.event == "notify")
        .map(|r| r.time_ms)
        .collect()
}

/// The exponential ramp `every_succeeded` counts successes, `every_notified` notifications
/// (base 10/min, ×2 every 100, capped at 80/min). Gaps between notifications are 60 000 /
/// rate ms. With `every_notified`, the gap after the 100th notification halves to 3 000 ms. With
/// `every_succeeded` it is still 6 000 ms there (a success takes ≥ 91 s after its notification,
/// so fewer than 100 have succeeded by 594 s), but the rate does ramp later. When every install
/// fails (`install_failure = 1`, one attempt) no device ever succeeds, and the rate never leaves
/// its base: 2000 notifications exactly 6 s apart.
#[test]
fn every_succeeded_ramps_on_successes_not_notifications() {
    let rate = |every: &str| {
        format!("rate = {{ per_minute = 10, factor = 2.0, {every} = 100, max_per_minute = 80 }}")
    };
    let text = |every: &str, pop: &str| {
        world(pop, "", "", ALL, "").replace("rate = { per_minute = 100 }", &rate(every))
    };
    let gaps = |t: Vec<u64>| t.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>();
    let notified = gaps(notify_times(&text("every_notified", "")));
    let succeeded = gaps(notify_times(&text("every_succeeded", "")));
    let failing = gaps(notify_times(&text(
        "every_succeeded",
        "install_failure = 1.0",
    )));
    assert_eq!(
        (notified.len(), succeeded.len(), failing.len()),
        (1999, 1999, 1999)
    );
    assert!(notified[..99].iter().all(|&g| g == 6_000));
    assert_eq!(notified[99], 3_000);
    assert!(succeeded[..100].iter().all(|&g| g == 6_000));
    assert_eq!(
        *succeeded.iter().min().unwrap(),
        750,
        "the success ramp reaches the cap"
    );
    let last = |g: &[u64]| g.iter().sum::<u64>();
    assert!(last(&succeeded) > last(&notified), "the success ramp lags");
    assert!(failing.iter().all(|&g| g == 6_000), "no success, no ramp");
}

/// Both criteria (AWS `rateIncreaseCriteria` with both counts): each crossing of either ramps.
/// Against the notified-only control on the same seeds: identical up to the 100th notification
/// (no 100 successes yet: each takes ≥ 91 s), 3 000 ms gaps after it as in the control, and
/// once 100 devices have also succeeded the gap halves again, so the whole rollout notifies
/// sooner than under either criterion alone; never below the cap's 750 ms.
#[test]
fn both_ramp_criteria_count_each_crossing() {
    let text = |every: &str| {
        world("", "", "", ALL, "").replace(
            "rate = { per_minute = 100 }",
            &format!("rate = {{ per_minute = 10, factor = 2.0, {every}, max_per_minute = 80 }}"),
        )
    };
    let gaps = |t: Vec<u64>| t.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>();
    let notified = gaps(notify_times(&text("every_notified = 100")));
    let both = gaps(notify_times(&text(
        "every_notified = 100, every_succeeded = 100",
    )));
    assert_eq!(both.len(), 1999);
    assert_eq!(
        both[..100],
        notified[..100],
        "no 100 successes before the 100th notification"
    );
    assert_eq!(both[99], 3_000);
    assert!(
        both.iter().zip(&notified).all(|(b, n)| b <= n),
        "never slower than the control"
    );
    assert!(
        both.iter().sum::<u64>() < notified.iter().sum::<u64>(),
        "the success crossings add up"
    );
    assert_eq!(*both.iter().min().unwrap(), 750, "the cap holds");
}

/// `max_in_flight = 25`: the backend never has more than 25 devices between download start
/// and result, devices that check in beyond it defer (`in_flight_limit`), and everybody still
/// updates. The unlimited control on the same seeds has far more in flight (100/min over a
/// ~2-minute pipeline: ≈ 200).
#[test]
fn max_in_flight_caps_peak_in_flight() {
    let limited = outcomes(&world("", "", "max_in_flight = 25", ALL, ""));
    let free = outcomes(&world("", "", "", ALL, ""));
    for (l, f) in limited.iter().zip(&free) {
        assert!(l.peak_in_flight <= 25, "peak {}", l.peak_in_flight);
        assert_eq!(l.peak_in_flight, 25, "the limit is reached");
        assert!(f.peak_in_flight > 100, "control peak {}", f.peak_in_flight);
        assert!(l.deferrals_by_reason["in_flight_limit"] > 0);
        assert_eq!((l.updated, f.updated), (2000, 2000));
        assert!(l.time_to_95.unwrap() > f.time_to_95.unwrap());
    }
}

/// `retry = { attempts = 3, backoff = "30m" }` against `install_failure = 0.3` (an independent
/// draw per install): a device gives up after 3 failures, probability 0.3³ = 0.027, so over
/// 2 × 2000 devices ≈ 108 are stranded `retries_exhausted` (SD 10, tolerance 45); each device
/// fails 0.3 + 0.09 + 0.027 = 0.417 installs on average, 1 668 in all (SD 46, tolerance 200).
/// With one attempt, 30 % give up (1 200, SD 29, tolerance 120).
/// Backoff: only 91 % succeed within two tries, so reaching 95 % needs third tries, which
/// come after two 30-minute backoffs: time_to_95 ≥ 61 + 1 800 + 61 + 1 800 + 91 = 3 813 s, and
/// at most 5 313 s (the last notification at 1 199.4 s plus three 60 s poll waits per try). With
/// no backoff the same fleet reaches 95 % before 1 800 s.
#[test]
fn retries_recover_transient_install_failures_after_backoff() {
    let pop = "install_failure = 0.3";
    let three = outcomes(&world(
        pop,
        "",
        "retry = { attempts = 3, backoff = \"30m\" }",
        ALL,
        "",
    ));
    let one = outcomes(&world(pop, "", "retry = { attempts = 1 }", ALL, ""));
    let eager = outcomes(&world(pop, "", "retry = { attempts = 3 }", ALL, ""));
    let sum = |os: &[Outcome], f: fn(&Outcome) -> u64| os.iter().map(f).sum::<u64>() as f64;
    let exhausted = |o: &Outcome| o.stranded_by_reason["retries_exhausted"];
    let failed = |o: &Outcome| o.failures_by_reason["install_failed"];
    assert!(
        (sum(&three, exhausted) - 108.0).abs() < 45.0,
        "{}",
        sum(&three, exhausted)
    );
    assert!(
        (sum(&three, failed) - 1_668.0).abs() < 200.0,
        "{}",
        sum(&three, failed)
    );
    assert!(
        (sum(&one, exhausted) - 1_200.0).abs() < 120.0,
        "{}",
        sum(&one, exhausted)
    );
    for ((t, o), e) in three.iter().zip(&one).zip(&eager) {
        assert_eq!(t.updated + exhausted(t), 2000);
        assert_eq!(o.updated + exhausted(o), 2000);
        assert_eq!(
            e.updated, t.updated,
            "backoff delays retries, it does not change them"
        );
        let t95 = t.time_to_95.unwrap();
        assert!((3_813.0..=5_313.0).contains(&t95), "time_to_95 {t95}");
        assert!(e.time_to_95.unwrap() < 1_800.0, "{:?}", e.time_to_95);
    }
}

/// Regression: a crash loop used to shorten only the connectivity sessions that *started* in the
/// loop, so a device in one long session (this fleet's sessions last ~1000 days) stayed fully
/// reachable while it looped. Now it is reachable only the first `availability` (0.25) of each
/// hourly crash cycle. Sampled every 7 min 13 s (not a divisor of the hour) from 6 h after onset
/// to the horizon over ~1000 looping devices. The crash cycle is deterministic, so the only error
/// is the sampling grid's: a 7 min 13 s step against a 60 min cycle lands in the up stretch a
/// share within about one sample per ~60 h of 0.25 (< 0.005 over each device's ~60 h); tolerance
/// 0.02.
#[test]
fn regression_crash_loop_takes_down_a_device_in_a_long_session() {
    let text = world(
        "",
        "[[release.defect]]\neffect = \"crash-loop\"\nprobability = 0.5\nafter = \"6h\"\navailability = 0.25\n",
        "",
        ALL,
        "",
    );
    let sc = scenario(&text);
    let mut sim = Sim::new(&sc, 0, RunLimits::default()).unwrap();
    sim.run().unwrap();
    let (mut up, mut samples) = (0u64, 0u64);
    for d in 0..sim.world.fleet.len() as u32 {
        let dv = *sim.world.fleet.dev(d);
        if dv.version != sc.policy.target || !dv.has(flag::HARMED) {
            continue;
        }
        let onset = sim.world.fleet.effects_of(d).unwrap().loop_onset;
        let (tl, o) = (sim.world.timeline(d), sim.world.overlay(d));
        let mut fresh = Device::default();
        tl.init(&mut fresh);
        let mut t = onset + 6 * 3_600_000;
        while t < sc.horizon.0 {
            up += tl.online_at(&mut fresh, t, &o) as u64;
            samples += 1;
            t += 433_000;
        }
    }
    assert!(samples > 100_000, "{samples}");
    let share = up as f64 / samples as f64;
    assert!(
        (share - 0.25).abs() < 0.02,
        "online share while looping {share}"
    );
}

/// `telemetry-drop` loses health reports too, not only update results: with every report in
/// the canary's 2-day bake lost with probability 0.5, the backend hears about half of the
/// canary's crashes (crash-rate defect ×4 over a background of 1 a day: ≈ 3 200 crashes, so
/// the heard share has SE ≈ 0.009; tolerance 0.05) while the exposure it divides by is the
/// same, and the ratio against the control — thinned alike — stays ≈ 4 (tolerance 0.8, wider
/// than without the drop because each side keeps half its counts). The ground truth does not
/// move: the same devices are harmed on the same seeds.
#[test]
fn telemetry_drop_loses_crash_reports_but_not_the_truth() {
    let defect = "[[release.defect]]\neffect = \"crash-rate\"\nprobability = 1.0\nfactor = 4.0\n";
    let check = |gate_metric: &str| {
        format!("min_devices = 20\ntest = \"point\"\non_fail = \"abort\"\n[[policy.stage.gate.check]]\nmetric = \"crash_rate\"\n{gate_metric}\n")
    };
    let drop = "[[fault]]\nkind = \"telemetry-drop\"\nat = \"0s\"\nduration = \"10d\"\nprobability = 0.5\n";
    for gate in [check("max = 100"), check("max_ratio_vs_control = 100")] {
        let stages = canary(20, "2d", &gate);
        let clean = outcomes(&world("crash_rate = 1.0", defect, "", &stages, ""));
        let dropped = outcomes(&world("crash_rate = 1.0", defect, "", &stages, drop));
        for (c, d) in clean.iter().zip(&dropped) {
            let (rc, rd) = (canary_check(c, "crash_rate"), canary_check(d, "crash_rate"));
            if gate.contains("ratio") {
                assert!((rd.observed.unwrap() - 4.0).abs() < 0.8, "{rd:?}");
            } else {
                assert_eq!(rc.base, rd.base, "the exposure is the same");
                let heard = rd.count / rc.count;
                assert!((heard - 0.5).abs() < 0.05, "heard {heard}: {rc:?} {rd:?}");
            }
            assert_eq!((c.harmed, c.exposed), (d.harmed, d.exposed));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions: answers that were silently wrong
// ---------------------------------------------------------------------------------------------

/// With half the result reports lost, each lost one used to leave its device in flight for
/// ever (its time-out was taken for stale once the device moved on), so `max_in_flight = 100`
/// filled up with ghosts and the rollout stalled near 100 / 2000 devices. Now the in-progress
/// time-out ends the execution on the backend's side and frees the slot: every device updates.
/// Derivation of the horizon: a slot is held ~91 s by a heard report and 6 h by a lost one;
/// with half lost the mean hold is ≈ 3 h, so 100 slots pass ≈ 33 devices an hour and 2000
/// devices need ≈ 60 h — the 10-day horizon leaves a wide margin. The control (no drop)
/// finishes too; the time-outs are about half of the first reports (Binomial(2000, 0.5): SE
/// 22, tolerance 150).
#[test]
fn regression_lost_result_reports_end_in_a_time_out() {
    let drop =
        "[[fault]]\nkind = \"telemetry-drop\"\nat = \"0s\"\nduration = \"10d\"\nprobability = 0.5";
    let policy =
        "max_in_flight = 100\ntimeout = \"6h\"\nretry = { attempts = 3, backoff = \"30m\" }";
    let long = |s: String| s.replace("horizon = \"3d\"", "horizon = \"10d\"");
    let lossy = outcomes(&long(world("", "", policy, ALL, drop)));
    let control = outcomes(&long(world("", "", policy, ALL, "")));
    for (l, c) in lossy.iter().zip(&control) {
        assert_eq!(c.completion, Some(1.0));
        assert!(
            l.completion.unwrap() >= 0.99,
            "lost reports stall the rollout: completion {:?}",
            l.completion
        );
        assert!(
            (l.observed_timed_out as f64 - 1000.0).abs() < 150.0,
            "time-outs {}",
            l.observed_timed_out
        );
        // Retried executions on devices already on the target report success, so the backend
        // hears of most successes in the end (each retry loses half again: after 3 attempts
        // about 1/8 of the devices are still unheard of).
        assert!(l.observed_success > 1600, "{}", l.observed_success);
        assert!(l.peak_in_flight <= 100);
    }
}

/// A CDN error used to be drawn once per attempt, so a device that erred once erred on every
/// re-fetch until the fault ended. Each finished download is now a draw of its own: at
/// `error_rate = 0.1` the interrupted downloads are ≈ 0.1 / 0.9 per device (geometric retries:
/// 2000 · 0.111 = 222, SD ≈ 16; tolerance 80), and time to 95 % stays close to the no-fault
/// control (a re-fetch costs one check-in, a minute) instead of the fault's whole day.
#[test]
fn regression_cdn_errors_are_drawn_per_download() {
    let cdn = "[[fault]]\nkind = \"cdn-degradation\"\nat = \"0s\"\nduration = \"1d\"\nbandwidth_factor = 1.0\nerror_rate = 0.1";
    let faulty = outcomes(&world("", "", "", ALL, cdn));
    let control = outcomes(&world("", "", "", ALL, ""));
    for (f, c) in faulty.iter().zip(&control) {
        let interrupted = f.failures_by_reason["download_interrupted"] as f64;
        assert!(
            (interrupted - 2000.0 * 0.1 / 0.9).abs() < 80.0,
            "interrupted downloads {interrupted}"
        );
        let (t_f, t_c) = (f.time_to_95.unwrap(), c.time_to_95.unwrap());
        assert!(t_f < t_c + 600.0, "time_to_95 {t_f} s vs control {t_c} s");
        assert_eq!(f.completion, Some(1.0));
    }
}

/// A stage that takes every device of its populations leaves no control "of the same
/// populations still on the old version": a `max_ratio_vs_control` check used to pass every
/// time (0 halts with a ×5 crash defect). It is now insufficient, handled by `on_insufficient`:
/// `fail` (the default) halts with `gate:all:insufficient`, `pass` passes and says so.
#[test]
fn regression_ratio_check_without_control_is_insufficient_not_a_pass() {
    let defect = "[[release.defect]]\neffect = \"crash-rate\"\nprobability = 1.0\nfactor = 5.0\n";
    let gate = |on_insufficient: &str| {
        format!(
            "[[policy.stage]]\nname = \"all\"\nselect = {{}}\npercent = 100\nbake = \"1d\"\non_insufficient = \"{on_insufficient}\"\n[policy.stage.gate]\nmin_devices = 20\ntest = \"point\"\non_fail = \"abort\"\n[[policy.stage.gate.check]]\nmetric = \"crash_rate\"\nmax_ratio_vs_control = 1.5\n"
        )
    };
    let failed = outcomes(&world("crash_rate = 1.0", defect, "", &gate("fail"), ""));
    let passed = outcomes(&world("crash_rate = 1.0", defect, "", &gate("pass"), ""));
    for (f, p) in failed.iter().zip(&passed) {
        assert_eq!(f.halt_reason.as_deref(), Some("gate:all:insufficient"));
        let rec = f.gates.iter().find(|g| g.check == "crash_rate").unwrap();
        assert_eq!(rec.decision, "insufficient:fail", "{rec:?}");
        assert!(!rec.passed && rec.bound.is_none());
        assert!(!p.halted);
        let rec = p.gates.iter().find(|g| g.check == "crash_rate").unwrap();
        assert_eq!(rec.decision, "insufficient:pass", "{rec:?}");
    }
}

/// Devices whose rollback never completed were in neither `rolled_back` nor
/// `rollback_refused`. Here the rollback image (500 MB) does not fit the free storage of about
/// half the fleet (uniform 100–900 MB: P(< 500) = 0.5): those devices are `rollback_stranded`
/// with reason `storage`, and `rolled_back + rollback_refused + rollback_stranded` equals the
/// exposed devices that did not revert by themselves (counted from the device records). The
/// storage share of the stranded is Binomial(n ≈ 400, 0.5): SE 0.025, tolerance 0.12 (~5 SE).
#[test]
fn regression_rollback_is_fully_accounted() {
    let defect = "[[release.defect]]\neffect = \"boot-failure\"\nprobability = 0.2\n";
    let gate = "min_devices = 20\ntest = \"point\"\non_fail = \"rollback\"\n[[policy.stage.gate.check]]\nmetric = \"update_failure_rate\"\nmax = 0.05\n";
    let text = world(
        "ab_slots = true\nstorage_free_mb = { dist = \"uniform\", min = 100, max = 900 }",
        defect,
        "rollback_to = \"1.0.0\"",
        &canary(20, "1h", gate),
        "",
    )
    .replacen("size_mb = 1\n", "size_mb = 500\n", 1);
    let sc = scenario(&text);
    for rep in 0..sc.replications {
        let mut sim = Sim::new(&sc, rep, RunLimits::default()).unwrap();
        sim.run().unwrap();
        let o = sim.outcome();
        assert!(o.halted && o.rolled_back > 0, "{:?}", o.halt_reason);
        let had_to_go_back = sim
            .world
            .fleet
            .devices()
            .iter()
            .filter(|d| d.has(flag::EXPOSED) && !d.has(flag::REVERTED))
            .count() as u64;
        assert_eq!(
            o.rolled_back + o.rollback_refused + o.rollback_stranded,
            had_to_go_back,
            "{o:?}"
        );
        assert_eq!(
            o.rollback_stranded,
            o.rollback_stranded_by_reason.values().sum::<u64>()
        );
        let storage = o.rollback_stranded_by_reason["storage"] as f64;
        let share = storage / (o.rolled_back + storage as u64) as f64;
        assert!((share - 0.5).abs() < 0.12, "storage-stranded share {share}");
    }
}

/// SPEC §1.4b: a device that has downloaded before `window` closes and waits only for its
/// maintenance window was reached: it installs at its next window, after the close, and is not
/// stranded. Only when no window opens for it before the horizon is it stranded
/// (`maintenance`). Time zero is 00:00 UTC, the window is 01:00–05:00; the rollout notifies 100
/// devices a minute from t = 0 and closes after 15 minutes, so the first 1500 devices download
/// (1 s) before the close and wait until 01:00, except those notified in the last minute whose
/// next check-in (uniform over the 1-minute poll) falls after the close (≈ 100 · ½ = 50: they
/// are `cancelled`, like the 500 never notified). With a 3-day horizon the waiting devices
/// install at 01:00; with a 50-minute horizon no window opens for them and exactly the same
/// devices (same seeds, same events until 50 min) are stranded for `maintenance`.
#[test]
fn regression_devices_waiting_for_their_window_install_after_the_close() {
    let policy = "window = \"15m\"\nmaintenance = [{ from = \"01:00\", to = \"05:00\" }]";
    let reached = outcomes(&world("", "", policy, ALL, ""));
    let short =
        outcomes(&world("", "", policy, ALL, "").replace("horizon = \"3d\"", "horizon = \"50m\""));
    for (r, s) in reached.iter().zip(&short) {
        assert!(
            (1400..=1500).contains(&r.updated),
            "updated {} of ~1450",
            r.updated
        );
        assert_eq!(
            r.stranded_by_reason["maintenance"], 0,
            "{:?}",
            r.stranded_by_reason
        );
        assert_eq!(
            r.updated + r.stranded,
            r.targeted,
            "{:?}",
            r.stranded_by_reason
        );
        assert_eq!(s.updated, 0);
        assert_eq!(
            s.stranded_by_reason["maintenance"], r.updated,
            "{:?}",
            s.stranded_by_reason
        );
        assert_eq!(s.stranded, s.targeted, "{:?}", s.stranded_by_reason);
    }
}

/// A ratio check with no control waits like a stage short of `min_devices`: with
/// `max_wait = "2d"` it is judged again (`insufficient:wait`) until two days after the stage
/// opened, and only then does `on_insufficient = "fail"` halt the rollout.
#[test]
fn a_ratio_check_without_control_waits_for_max_wait_before_it_halts() {
    let gate = "[[policy.stage]]\nname = \"all\"\nselect = {}\npercent = 100\nbake = \"1h\"\nmax_wait = \"2d\"\n[policy.stage.gate]\nmin_devices = 20\ntest = \"point\"\non_fail = \"abort\"\n[[policy.stage.gate.check]]\nmetric = \"crash_rate\"\nmax_ratio_vs_control = 1.5\n";
    for o in outcomes(&world("crash_rate = 1.0", "", "", gate, "")) {
        assert_eq!(o.halt_reason.as_deref(), Some("gate:all:insufficient"));
        let halted = o.halted_at.unwrap();
        assert!(
            (2.0 * 86_400.0..2.0 * 86_400.0 + 1.0).contains(&halted),
            "halted at {halted} s, not at the 2-day max_wait"
        );
        let waits = o
            .gates
            .iter()
            .filter(|g| g.decision == "insufficient:wait")
            .count();
        assert!(waits >= 10, "judged again hourly while waiting: {waits}");
        assert!(o.gates.iter().any(|g| g.decision == "insufficient:fail"));
    }
}

/// `max_devices = 500` (Mender): the rollout ends once 500 devices have a result. Against the
/// unlimited control on the same seeds (every one of the 2 000 devices updates): the backend
/// has at least 500 results, far fewer devices update (those in flight at the end finish), and
/// the devices never notified are stranded `cancelled`, as at a window's close.
#[test]
fn max_devices_ends_the_rollout() {
    let limited = outcomes(&world("", "", "max_devices = 500", ALL, ""));
    let free = outcomes(&world("", "", "", ALL, ""));
    for (l, f) in limited.iter().zip(&free) {
        assert_eq!(f.updated, 2000);
        assert!(l.observed_success + l.observed_failure >= 500);
        assert!(l.updated >= 500 && l.updated < 1000, "{}", l.updated);
        assert!(
            l.stranded_by_reason["cancelled"] > 1000,
            "{:?}",
            l.stranded_by_reason
        );
    }
}

/// `open_at = "6h"` on the second stage (Mender's phase `start_ts`): the canary passes in
/// minutes, but the rest of the fleet opens at 6 h and not before, so 95 % adoption comes after
/// 6 h; the control without `open_at` on the same seeds gets there within the first hour.
#[test]
fn open_at_holds_a_stage_until_its_time() {
    let stages = |open_at: &str| {
        format!(
            "[[policy.stage]]\nname = \"canary\"\nselect = {{}}\npercent = 5\n\n\
             [[policy.stage]]\nname = \"rest\"\nselect = {{}}\npercent = 100\n{open_at}\n"
        )
    };
    let timed = outcomes(&world("", "", "", &stages("open_at = \"6h\""), ""));
    let free = outcomes(&world("", "", "", &stages(""), ""));
    for (t, f) in timed.iter().zip(&free) {
        assert_eq!(t.stage_opened_at[1], Some(6.0 * 3600.0));
        assert!(f.stage_opened_at[1].unwrap() < 3600.0);
        assert!(t.time_to_95.unwrap() > 6.0 * 3600.0);
        assert!(f.time_to_95.unwrap() < 3600.0, "{:?}", f.time_to_95);
        assert_eq!(t.updated, f.updated, "everybody updates either way");
    }
}

/// The Mender keys are validated: `max_devices` of 0, and an `open_at` before an earlier
/// stage's, are refused with the key path and what is valid.
#[test]
fn mender_keys_are_validated() {
    let err = |text: &str| {
        fleetsim::scenario::load_str(text, "m.toml", std::path::Path::new("."), &[])
            .unwrap_err()
            .to_string()
    };
    let zero = err(&world("", "", "max_devices = 0", ALL, ""));
    assert!(
        zero.contains("policy.max_devices: must be at least 1"),
        "{zero}"
    );
    let stages = "[[policy.stage]]\nname = \"a\"\nselect = {}\npercent = 5\nopen_at = \"2d\"\n\n\
                  [[policy.stage]]\nname = \"b\"\nselect = {}\npercent = 100\nopen_at = \"1d\"\n";
    let order = err(&world("", "", "", stages, ""));
    assert!(
        order.contains("policy.stage[1].open_at: 1d 0h is before stage `a`'s open_at (2d 0h): stages open in order"),
        "{order}"
    );
}
