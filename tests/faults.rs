//! Each fault kind against a no-fault control on the same seeds (common random numbers): the
//! fault must show its mechanism's effect, and faults on observation must leave the truth alone.

use fleetsim::analysis::run::{run, DeviceRow, RunOptions, RunResult};
use fleetsim::metrics::outcome::Outcome;
use fleetsim::replication::TraceRow;
use fleetsim::scenario::load_str;
use std::path::Path;

/// An always-online fleet of 2000 devices, 1-minute check-ins, a 10 MB image at 8 Mbit/s (10 s),
/// 60 s installs; `pop` and `policy` add keys, `faults` adds `[[fault]]` tables.
fn scenario(pop: &str, policy: &str, faults: &str) -> String {
    format!(
        r#"
[simulation]
name = "faults"
seed = 17
horizon = "4d"
replications = 3
start = "2026-06-01T00:00:00Z"

[connectivity.always]
online = {{ dist = "exponential", mean = "1000d" }}
offline = "1s"
check_in = "1m"
bandwidth_kbps = 8000

[[population]]
name = "fleet"
count = 2000
model = "m1"
region = "eu"
firmware = "1.0.0"
connectivity = "always"
{pop}

[[release]]
version = "1.0.0"
size_mb = 10

[[release]]
version = "2.0.0"
size_mb = 10
install_time = "60s"
reboot_time = "30s"

[policy]
target = "2.0.0"
rate = {{ per_minute = 20 }}
{policy}

[[policy.stage]]
name = "all"
select = {{}}
percent = 100

{faults}
"#
    )
}

/// Every run here checks the simulator's invariants once a simulated day too (CI runs the suite
/// in release builds, where they are otherwise checked only at the end).
static CHECKED: std::sync::LazyLock<RunOptions> = std::sync::LazyLock::new(|| RunOptions {
    daily_invariants: true,
    ..RunOptions::default()
});

fn outcomes(text: &str) -> Vec<Outcome> {
    let sc = load_str(text, "faults.toml", Path::new("."), &[]).unwrap_or_else(|e| panic!("{e}"));
    run(&sc, 0..sc.replications, &CHECKED).unwrap().outcomes
}

/// Every replication's outcome, plus replication 0's per-device rows and its first 100 000
/// events (these scenarios have about 13 000).
fn traced(text: &str) -> RunResult {
    let sc = load_str(text, "faults.toml", Path::new("."), &[]).unwrap_or_else(|e| panic!("{e}"));
    let opts = RunOptions {
        devices: true,
        trace_rows: 100_000,
        daily_invariants: true,
        ..RunOptions::default()
    };
    let r = run(&sc, 0..sc.replications, &opts).unwrap();
    assert!(r.trace.len() < 100_000, "the trace was cut short");
    r
}

/// `scenario` with the fleet split in two: population `north` (region `north`) and population
/// `south` (region `south`), 1000 devices each, both with the keys `pop`. The seed-stable
/// rollout order interleaves them at random.
fn two_regions(pop: &str, policy: &str, faults: &str) -> String {
    let south = format!(
        "[[population]]\nname = \"south\"\ncount = 1000\nmodel = \"m1\"\nregion = \"south\"\nfirmware = \"1.0.0\"\nconnectivity = \"always\"\n{pop}\n\n{faults}"
    );
    let text = scenario(pop, policy, &south).replace(
        "name = \"fleet\"\ncount = 2000\nmodel = \"m1\"\nregion = \"eu\"",
        "name = \"north\"\ncount = 1000\nmodel = \"m1\"\nregion = \"north\"",
    );
    assert!(text.contains("name = \"north\""));
    text
}

/// Replication 0's rows of the devices in `region`, as text (rows have no `PartialEq`).
fn rows_in(devices: &[DeviceRow], region: &str) -> Vec<String> {
    devices
        .iter()
        .filter(|d| d.region == region)
        .map(|d| format!("{d:?}"))
        .collect()
}

/// Replication 0's events of the devices for which `pick(device)` holds, as text.
fn events_of(trace: &[TraceRow], pick: impl Fn(u32) -> bool) -> Vec<String> {
    trace
        .iter()
        .filter(|r| r.device.is_some_and(&pick))
        .map(|r| format!("{r:?}"))
        .collect()
}

fn mean(os: &[Outcome], f: impl Fn(&Outcome) -> f64) -> f64 {
    os.iter().map(f).sum::<f64>() / os.len() as f64
}

/// A 6-hour outage during the rollout: notified devices pile up and reconnect together when it
/// ends, so the backend sees more devices in flight at once, and the fleet finishes later.
#[test]
fn network_outage_ends_in_a_reconnection_storm() {
    let control = outcomes(&scenario("", "", ""));
    let outage = outcomes(&scenario(
        "",
        "",
        "[[fault]]\nkind = \"network-outage\"\nat = \"30m\"\nduration = \"6h\"",
    ));
    let peak = |os: &[Outcome]| mean(os, |o| o.peak_in_flight as f64);
    assert!(
        peak(&outage) > 3.0 * peak(&control),
        "peak in flight {} vs {}",
        peak(&outage),
        peak(&control)
    );
    let t95 = |os: &[Outcome]| mean(os, |o| o.time_to_95.unwrap());
    assert!(
        t95(&outage) > t95(&control) + 3.0 * 3600.0,
        "time_to_95 {} vs {}",
        t95(&outage),
        t95(&control)
    );
    assert!(outage.iter().all(|o| o.updated == 2000));
}

/// A power cut while installs run (30-minute installs, half the fleet loses power): devices
/// without A/B slots brick, devices with them revert and none brick.
#[test]
fn power_outage_bricks_only_devices_without_ab_slots() {
    let fault =
        "[[fault]]\nkind = \"power-outage\"\nat = \"1h\"\nduration = \"2h\"\nfraction = 0.5";
    let slow = |ab: bool| {
        scenario(
            &format!("ab_slots = {ab}"),
            "retry = { attempts = 3, backoff = \"10m\" }",
            fault,
        )
        .replace("install_time = \"60s\"", "install_time = \"30m\"")
    };
    let without = outcomes(&slow(false));
    let with = outcomes(&slow(true));
    assert!(without
        .iter()
        .all(|o| o.bricked > 0 && o.bricked == o.failures_by_reason["power_loss"]));
    assert!(with
        .iter()
        .all(|o| o.bricked == 0 && o.failures_by_reason["power_loss"] > 0));
    // Reverted A/B devices retry after power returns and finish.
    assert!(with.iter().all(|o| o.updated == 2000));
}

/// A tampered artifact is rejected by every device that verifies signatures, and installed (a
/// counted security violation) by devices that do not. A rejected execution is never retried
/// (AWS `REJECTED`, SPEC §1.5b), even with tries to spare: each rejecting device rejects once
/// and stays on its old version, and every other device updates.
#[test]
fn tampered_artifacts_are_rejected_only_with_verification() {
    let fault = "[[fault]]\nkind = \"tampered-artifact\"\nat = \"0s\"\nduration = \"1h\"";
    let verified = outcomes(&scenario(
        "",
        "retry = { attempts = 3, backoff = \"2h\" }",
        fault,
    ));
    let unverified = outcomes(&scenario("verifies_signatures = false", "", fault));
    assert!(verified
        .iter()
        .all(|o| o.security_violations == 0 && o.failures_by_reason["signature_rejected"] > 0));
    assert!(unverified
        .iter()
        .all(|o| o.security_violations > 0 && o.failures_by_reason["signature_rejected"] == 0));
    for o in &verified {
        assert_eq!(o.failures_by_reason["signature_rejected"], o.rejected);
        assert_eq!(
            o.updated + o.rejected,
            2000,
            "rejected devices are not retried"
        );
        assert_eq!(o.stranded_by_reason["retries_exhausted"], o.rejected);
    }
}

/// Corrupt downloads fail verification at the stated rate: 10 % of 6000 downloads, SE 0.4 %,
/// tolerance 1.5 % of downloads.
#[test]
fn corrupt_artifacts_fail_at_the_stated_rate() {
    let os = outcomes(&scenario(
        "",
        "retry = { attempts = 5 }",
        "[[fault]]\nkind = \"corrupt-artifact\"\nat = \"0s\"\nduration = \"4d\"\nprobability = 0.1",
    ));
    let corrupt: u64 = os.iter().map(|o| o.failures_by_reason["corrupt"]).sum();
    let downloads = 6000.0 + corrupt as f64; // every device once, plus the retries
    let share = corrupt as f64 / downloads;
    assert!((share - 0.1).abs() < 0.015, "{share}");
}

/// CDN degradation: at 20 % bandwidth a 10-second download takes 50 seconds.
#[test]
fn cdn_degradation_slows_downloads() {
    let control = outcomes(&scenario("", "", ""));
    let slow = outcomes(&scenario("", "", "[[fault]]\nkind = \"cdn-degradation\"\nat = \"0s\"\nduration = \"4d\"\nbandwidth_factor = 0.2"));
    let p50 = |os: &[Outcome]| mean(os, |o| o.download_time_p50.unwrap());
    assert!((p50(&control) - 10.0).abs() < 0.5, "{}", p50(&control));
    assert!((p50(&slow) - 50.0).abs() < 2.5, "{}", p50(&slow));
}

/// Telemetry faults change what the backend observes, never the ground truth.
#[test]
fn telemetry_faults_change_only_the_observed_view() {
    let control = outcomes(&scenario("", "", ""));
    let drop = outcomes(&scenario(
        "",
        "",
        "[[fault]]\nkind = \"telemetry-drop\"\nat = \"0s\"\nduration = \"4d\"\nprobability = 0.5",
    ));
    let delay = outcomes(&scenario(
        "",
        "",
        "[[fault]]\nkind = \"telemetry-delay\"\nat = \"0s\"\nduration = \"4d\"\ndelay = \"5d\"",
    ));
    for faulted in [&drop, &delay] {
        for (a, b) in control.iter().zip(faulted.iter()) {
            assert_eq!(
                (a.updated, a.exposed, a.harmed, a.time_to_95),
                (b.updated, b.exposed, b.harmed, b.time_to_95)
            );
        }
    }
    let observed = |os: &[Outcome]| mean(os, |o| o.observed_success as f64);
    assert_eq!(observed(&control), 2000.0);
    assert!(
        (observed(&drop) - 1000.0).abs() < 100.0,
        "{}",
        observed(&drop)
    );
    assert_eq!(
        observed(&delay),
        0.0,
        "reports delayed past the horizon never arrive"
    );
}

/// Clock skew moves maintenance windows: with clocks 6 hours fast, the 01:00–05:00 window
/// opens at real 19:00 instead of 01:00, so the fleet gets there 18 hours later.
#[test]
fn clock_skew_shifts_maintenance_windows() {
    let policy =
        "maintenance = [{ from = \"01:00\", to = \"05:00\" }]\nrate = { per_minute = 1000 }";
    let base = scenario("", policy, "").replacen("rate = { per_minute = 20 }\n", "", 1);
    let skewed = scenario(
        "",
        policy,
        "[[fault]]\nkind = \"clock-skew\"\nat = \"0s\"\nduration = \"4d\"\nskew = \"6h\"",
    )
    .replacen("rate = { per_minute = 20 }\n", "", 1);
    let (a, b) = (outcomes(&base), outcomes(&skewed));
    let t50 = |os: &[Outcome]| mean(os, |o| o.time_to_50.unwrap());
    let shift = t50(&b) - t50(&a);
    assert!((shift - 18.0 * 3600.0).abs() < 1800.0, "shift {shift}");
}

/// A fault's `where` scope confines it. A power outage over `region = "north"` (1 h to 3 h,
/// `fraction = 1`, no A/B slots, 30-minute installs) bricks north devices caught installing and
/// no south device; an outage of the network over `population = "north"` keeps north devices from
/// checking in or downloading during the window. Out-of-scope devices live exactly the control's
/// life: every fault draw is keyed per device and egress is unlimited, so nothing couples them to
/// the devices in scope — their rows and events are identical, not merely similar.
///
/// The bricked count: one device starts installing every 3 s, so about 610 are installing or
/// rebooting (30 min + 30 s) at 1 h, half of them north in expectation (the rollout order is a
/// random interleaving): 305, SD ≈ √(610 · ¼) ≈ 12; tolerance 60 (5 SD).
#[test]
fn scoped_faults_hit_only_devices_in_scope() {
    let power = |fault: &str| {
        two_regions("ab_slots = false", "", fault)
            .replace("install_time = \"60s\"", "install_time = \"30m\"")
    };
    let control = traced(&power(""));
    let cut = traced(&power(
        "[[fault]]\nkind = \"power-outage\"\nat = \"1h\"\nduration = \"2h\"\nfraction = 1.0\nwhere = { region = \"north\" }",
    ));
    for o in &cut.outcomes {
        assert_eq!(o.bricked, o.failures_by_reason["power_loss"]);
        assert!(
            (o.bricked as f64 - 305.0).abs() < 60.0,
            "bricked {}",
            o.bricked
        );
    }
    let bricked_south = cut
        .devices
        .iter()
        .filter(|d| d.bricked && d.region != "north")
        .count();
    assert_eq!(bricked_south, 0);
    assert_eq!(
        rows_in(&cut.devices, "south"),
        rows_in(&control.devices, "south"),
        "south devices are out of the power outage's scope"
    );
    assert_ne!(
        rows_in(&cut.devices, "north"),
        rows_in(&control.devices, "north")
    );

    let control = traced(&two_regions("", "", ""));
    let outage = traced(&two_regions(
        "",
        "",
        "[[fault]]\nkind = \"network-outage\"\nat = \"1h\"\nduration = \"2h\"\nwhere = { population = \"north\" }",
    ));
    let north: Vec<bool> = outage
        .devices
        .iter()
        .map(|d| d.population == "north")
        .collect();
    let is_north = |d: u32| north[d as usize];
    let (from, to) = (3_600_000, 3 * 3_600_000);
    // Offline devices neither check in nor download; an install already running goes on (the
    // network is down, not the power), so install and boot events may fall in the window.
    let offline_activity: Vec<_> = outage
        .trace
        .iter()
        .filter(|r| r.device.is_some_and(is_north) && r.time_ms > from && r.time_ms < to)
        .filter(|r| r.event == "check_in" || r.event == "download_done")
        .collect();
    assert!(offline_activity.is_empty(), "{offline_activity:?}");
    let storm = outage
        .trace
        .iter()
        .filter(|r| r.device.is_some_and(is_north) && r.time_ms == to && r.event == "check_in")
        .count();
    assert!(
        storm > 0,
        "north devices check in together when the outage ends"
    );
    assert_eq!(
        events_of(&outage.trace, |d| !is_north(d)),
        events_of(&control.trace, |d| !is_north(d)),
        "south devices are out of the network outage's scope"
    );
    assert_ne!(
        events_of(&outage.trace, is_north),
        events_of(&control.trace, is_north)
    );
    assert!(outage.outcomes.iter().all(|o| o.updated == 2000));
}

/// A 10 % canary (200 devices, notified 3 s apart, the last at 597 s) gated on
/// `update_failure_rate ≤ 0.05` (point test, 20 reports, 2 h bake, abort on failure), for a
/// release that fails to boot on 30 % of devices (A/B: they revert and report the failure; a
/// boot failure is not retried). `faults` adds `[[fault]]` tables.
fn gated(faults: &str) -> String {
    let canary = "[[policy.stage]]\nname = \"canary\"\nselect = {}\npercent = 10\nbake = \"2h\"\n[policy.stage.gate]\nmin_devices = 20\ntest = \"point\"\non_fail = \"abort\"\n[[policy.stage.gate.check]]\nmetric = \"update_failure_rate\"\nmax = 0.05\n";
    scenario("", canary, faults).replace(
        "reboot_time = \"30s\"",
        "reboot_time = \"30s\"\n[[release.defect]]\neffect = \"boot-failure\"\nprobability = 0.3",
    )
}

/// The ground truth of a replication: what must not move when only observation is disturbed.
fn truth(o: &Outcome) -> impl PartialEq + std::fmt::Debug + '_ {
    (
        (o.targeted, o.exposed, o.harmed, o.bricked, o.updated),
        (o.stranded, &o.failures_by_reason, o.security_violations),
    )
}

/// A 3 h telemetry delay (longer than the 2 h bake) moves the gate, and nothing that happens
/// to the devices. The gate is ready once the cohort is notified (597 s) and 20 results have
/// reached the backend: at max(597 s, t₂₀) in the control, where t₂₀ is when the 20th result is
/// sent, but at t₂₀ + 3 h under the delay; it judges 2 h later. So the halt moves later by
/// t₂₀ + 3 h − max(597 s, t₂₀), which lies in [3 h − 597 s, 3 h] (exact; 1 ms for rounding).
/// What must not change: both gates judge the same 200 results (every canary result was sent
/// within minutes, long before either judgment looks back to) and fail; the halt comes before
/// the second stage opens in both worlds, so exactly the same canary devices are exposed, and a
/// boot failure is a keyed per-device draw, so the same ones are harmed — every ground-truth
/// count and every device row is identical, and the first harm is at the same instant, so
/// `time_to_detect` moves by exactly the halt's shift. (Without the canary bounding exposure,
/// later detection would let harm grow; that is the policy's doing, not the fault's.)
#[test]
fn telemetry_delay_moves_the_gate_later_and_leaves_the_truth() {
    let control = traced(&gated(""));
    let delayed = traced(&gated(
        "[[fault]]\nkind = \"telemetry-delay\"\nat = \"0s\"\nduration = \"4d\"\ndelay = \"3h\"",
    ));
    for (c, d) in control.outcomes.iter().zip(&delayed.outcomes) {
        for o in [c, d] {
            assert_eq!(
                o.halt_reason.as_deref(),
                Some("gate:canary:update_failure_rate")
            );
            assert_eq!(o.gates.len(), 1, "{:?}", o.gates);
            assert_eq!(o.exposed, 200, "only the canary booted the release");
        }
        let (gc, gd) = (&c.gates[0], &d.gates[0]);
        assert_eq!(
            (gc.count, gc.base, gc.passed),
            (gd.count, gd.base, gd.passed)
        );
        assert_eq!(gc.base, 200.0);
        let shift = d.halted_at.unwrap() - c.halted_at.unwrap();
        assert!(
            (10_800.0 - 597.0 - 1e-3..=10_800.0 + 1e-3).contains(&shift),
            "halt moved by {shift} s"
        );
        assert_eq!(gd.time - gc.time, shift);
        let detect = d.time_to_detect.unwrap() - c.time_to_detect.unwrap();
        assert!((detect - shift).abs() < 1e-3, "{detect} vs {shift}");
        assert_eq!(truth(c), truth(d));
        // Every delayed report arrives long before the 4-day horizon.
        assert_eq!(
            (c.observed_success, c.observed_failure),
            (d.observed_success, d.observed_failure)
        );
    }
    assert_eq!(
        format!("{:?}", control.devices),
        format!("{:?}", delayed.devices)
    );
}

/// Dropping 80 % of result reports hides results from the gate, not from the truth. Each of
/// the 200 canary results reaches the backend with probability 0.2, independently of whether it
/// is a failure, so the gate judges Binomial(200, 0.2) results (mean 40, SD 5.7; tolerance 20,
/// 3.5 SD), far fewer than were sent, and still sees a failure rate far above 5 % (30 % truly):
/// it fails as the control's does (passing would take at most 2 failures among ~40 heard
/// results, probability about 10⁻⁴). Ground truth is identical, for the same reasons as under a
/// delay (the canary bounds exposure; the defect is a keyed draw); nothing but the canary ever
/// reports, so what the backend heard at the end is exactly what the gate judged.
#[test]
fn telemetry_drop_hides_results_from_the_gate_but_not_the_truth() {
    let control = traced(&gated(""));
    let dropped = traced(&gated(
        "[[fault]]\nkind = \"telemetry-drop\"\nat = \"0s\"\nduration = \"4d\"\nprobability = 0.8",
    ));
    for (c, d) in control.outcomes.iter().zip(&dropped.outcomes) {
        assert_eq!(
            d.halt_reason.as_deref(),
            Some("gate:canary:update_failure_rate")
        );
        let g = &d.gates[0];
        assert!(
            (g.base - 40.0).abs() < 20.0,
            "the gate heard {} results",
            g.base
        );
        assert!(!g.passed);
        assert_eq!((d.observed_success + d.observed_failure) as f64, g.base);
        assert!(d.observed_failure < d.harmed && d.observed_success < d.updated);
        assert_eq!(
            (c.observed_success + c.observed_failure, c.observed_failure),
            (200, c.harmed),
            "the control heard every result"
        );
        assert_eq!(truth(c), truth(d));
    }
    assert_eq!(
        format!("{:?}", control.devices),
        format!("{:?}", dropped.devices)
    );
}

/// The reconnection storm slows downloads through the backend's shared egress, and only through
/// it. With `egress_mbps = 40` and no outage, downloads start 3 s apart and take 10 s, so at
/// most a few overlap and each gets min(8, 40/k) Mbit/s: p95 at most 14 s. The outage (30 m to
/// 6 h 30 m) holds back the ~1400 devices notified during it; when it ends they all start
/// downloading at once, the k-th with 40/k Mbit/s, so it takes max(10, 2k) s. The p95 of the
/// 2000 downloads is the 1900th shortest: the ~1300th storm download, about 2600 s; tolerance
/// 10 % (the storm's size varies by the few devices caught mid-download at 30 m, and the p95
/// interpolates). Without an egress limit the same storm leaves every download at 10 s.
#[test]
fn reconnection_storm_slows_downloads_only_through_shared_egress() {
    let outage = "[[fault]]\nkind = \"network-outage\"\nat = \"30m\"\nduration = \"6h\"";
    let egress = "\n[backend]\negress_mbps = 40\n";
    let control = outcomes(&(scenario("", "", "") + egress));
    let storm = outcomes(&(scenario("", "", outage) + egress));
    let p95 = |os: &[Outcome]| mean(os, |o| o.download_time_p95.unwrap());
    assert!(p95(&control) <= 14.0, "{}", p95(&control));
    assert!(
        (p95(&storm) - 2600.0).abs() < 260.0,
        "storm p95 {}",
        p95(&storm)
    );
    let unlimited = outcomes(&scenario("", "", outage));
    assert!(
        unlimited.iter().all(|o| o.download_time_p95 == Some(10.0)),
        "{:?}",
        unlimited
            .iter()
            .map(|o| o.download_time_p95)
            .collect::<Vec<_>>()
    );
}

/// A backend rollback: the release needs API 8, the backend runs 8 but a `backend-api` fault
/// puts it on 7 from 1 h to 7 h. A device checks the API at its preflight, before downloading;
/// without maintenance windows it starts installing the moment its download is done, so
/// `download_done` marks each install start. A download that passed preflight just before 1 h
/// ends at most 10 s later (10 MB at 8 Mbit/s, unlimited egress); after that no install starts
/// until 7 h. Devices notified from 1 h on (800: 1200 are notified in the first hour at 20 a
/// minute) and up to 20 notified in the minute before, which check in after 1 h, defer once
/// (`incompatible_api`) until the fault ends; then each checks in within its 1-minute poll and
/// runs the target 10 + 60 + 30 s later, so 99 % are done by 7 h + 160 s. The control (no
/// fault) finishes within 2 h and never defers.
#[test]
fn backend_api_rollback_holds_installs_for_its_window() {
    let text = |faults: &str| {
        scenario("", "", faults).replace(
            "reboot_time = \"30s\"",
            "reboot_time = \"30s\"\nrequires_api = 8",
        ) + "\n[backend]\napi = 8\n"
    };
    let control = traced(&text(""));
    let rollback = traced(&text(
        "[[fault]]\nkind = \"backend-api\"\nat = \"1h\"\nduration = \"6h\"\napi = 7",
    ));
    let (from, to) = (3_600_000, 7 * 3_600_000);
    let installs = |r: &RunResult| -> Vec<u64> {
        r.trace
            .iter()
            .filter(|t| t.event == "download_done")
            .map(|t| t.time_ms)
            .collect()
    };
    let held: Vec<_> = installs(&rollback)
        .into_iter()
        .filter(|&t| t > from + 10_000 && t < to)
        .collect();
    assert!(held.is_empty(), "installs started at {held:?} ms");
    let resumed = installs(&rollback).into_iter().filter(|&t| t >= to).min();
    assert!(
        resumed.is_some_and(|t| t >= to + 10_000 && t <= to + 70_000),
        "{resumed:?}"
    );
    assert!(installs(&control).into_iter().all(|t| t < 2 * 3_600_000));
    for (c, r) in control.outcomes.iter().zip(&rollback.outcomes) {
        assert_eq!((c.updated, r.updated), (2000, 2000));
        assert_eq!((c.stranded, r.stranded), (0, 0));
        assert_eq!(c.deferrals_by_reason["incompatible_api"], 0);
        let deferred = r.deferrals_by_reason["incompatible_api"];
        assert!((800..=820).contains(&deferred), "{deferred} deferrals");
        let t99 = r.time_to_99.unwrap();
        assert!(
            t99 > 25_200.0 && t99 <= 25_200.0 + 160.0,
            "time_to_99 {t99}"
        );
        assert!(c.time_to_99.unwrap() < 7200.0);
    }
}

/// A fault's start is a backend event, like a stage judgment: its trace row (`events.csv`)
/// should name no device and carry the fault's index, as the rollout's own events do.
#[test]
fn regression_fault_start_trace_rows_name_no_device() {
    let r = traced(&scenario(
        "",
        "",
        "[[fault]]\nkind = \"network-outage\"\nat = \"30m\"\nduration = \"1h\"",
    ));
    let row = r.trace.iter().find(|t| t.event == "fault_start").unwrap();
    assert_eq!((row.device, row.detail.as_str()), (None, "0"), "{row:?}");
}

/// A backend rollback (`backend-api` to API 7 for 12 h on day 6 of `migration-chain.toml`,
/// after the fleet moved to 3.1.0, which needs API 8) cuts off every device then on 3.1.0: each
/// is harmed the moment the API drops — the hour's rise in `harmed` over the no-fault control
/// is exactly the devices the hourly series counts on 3.1.0 at that instant — and none reaches
/// the backend until the API is back: no check-in of a 3.1.0 device falls in the window.
#[test]
fn a_backend_api_rollback_cuts_off_firmware_that_needs_the_newer_api() {
    use fleetsim::replication::{RunLimits, Sim};
    let text = std::fs::read_to_string("scenarios/migration-chain.toml").unwrap();
    let fault = "[[fault]]\nkind = \"backend-api\"\nat = \"6d\"\nduration = \"12h\"\napi = 7\n";
    assert!(text.contains(fault));
    let control_text = text.replace(fault, "");
    let sc = load_str(&text, "mc.toml", Path::new("scenarios"), &[]).unwrap();
    let control = load_str(&control_text, "control.toml", Path::new("scenarios"), &[]).unwrap();
    let target = sc.policy.target as usize;
    let nv = sc.versions.len();
    let harmed_col = nv + 6;
    let rows = |sc| {
        let mut sim = Sim::new(
            sc,
            0,
            RunLimits {
                trace_rows: 5_000_000,
                ..RunLimits::default()
            },
        )
        .unwrap();
        sim.run().unwrap();
        let trace = std::mem::take(&mut sim.trace);
        (sim.series.take_rows(), trace, sim)
    };
    let (with, trace, sim) = rows(&sc);
    let (without, _, _) = rows(&control);
    let hour = 6 * 24;
    let rise = |r: &Vec<Vec<f64>>| r[hour][harmed_col] - r[hour - 1][harmed_col];
    let on_target = with[hour][target];
    assert!(
        on_target > 1000.0,
        "most of the fleet runs 3.1.0 by day 6: {on_target}"
    );
    assert_eq!(rise(&with) - rise(&without), on_target);
    // In the window, no device running 3.1.0 at its end checks in.
    let (from, to) = (6 * 86_400_000u64, 6 * 86_400_000 + 12 * 3_600_000);
    let cut_off: Vec<bool> = sim
        .world
        .fleet
        .devices()
        .iter()
        .map(|d| d.version as usize == target && d.initial_version as usize != target)
        .collect();
    let inside = trace
        .iter()
        .filter(|r| r.event == "check_in" && (from..to).contains(&r.time_ms))
        .filter(|r| {
            r.device
                .is_some_and(|d| cut_off[d as usize] && sim.world.fleet.dev(d).boot_at < from)
        })
        .count();
    assert_eq!(
        inside, 0,
        "a 3.1.0 device reached the backend during the rollback"
    );
}
