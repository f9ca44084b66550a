//! Model tests against closed-form results. Each uses a fixed seed and states its tolerance.

mod common;

use common::TWO_RELEASES;
use fleetsim::analysis::run::{run, summarise, RunOptions};
use fleetsim::fleet::device::flag;
use fleetsim::replication::{RunLimits, Sim};
use fleetsim::scenario::{load_str, Scenario};
use std::path::Path;

/// A fleet that is always online (sessions of ~1000 days, 1 s gaps), checks in every minute,
/// downloads 1 MB at 8 Mbit/s (1 s), installs in 60 s and reboots in 30 s.
fn simple(extra_release: &str, policy_extra: &str, pop_extra: &str) -> String {
    format!(
        r#"
[simulation]
name = "simple"
seed = 42
horizon = "3d"
replications = 4

[connectivity.always]
online = {{ dist = "exponential", mean = "1000d" }}
offline = "1s"
check_in = "1m"
bandwidth_kbps = 8000

[[population]]
name = "fleet"
count = 2000
model = "m1"
firmware = "1.0.0"
connectivity = "always"
{pop_extra}

{TWO_RELEASES}
{extra_release}

[policy]
target = "2.0.0"
rate = {{ per_minute = 100 }}
{policy_extra}

[[policy.stage]]
name = "all"
select = {{}}
percent = 100
"#
    )
}

fn scenario(text: &str) -> Scenario {
    load_str(text, "test.toml", Path::new("."), &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// Device k is notified at k·0.6 s, learns at a uniform point of its 1-minute poll interval
/// (mean 30 s), then 1 s download + 60 s install + 30 s reboot. Half the fleet (1000 devices)
/// therefore runs the target at 999·0.6 + 30 + 91 ≈ 720.4 s. The uniform jitter is symmetric
/// and 100 times wider than the spacing, so the crossing is within a few seconds: tolerance 5 s.
#[test]
fn time_to_50_matches_the_rate_and_pipeline() {
    let sc = scenario(&simple("", "", ""));
    let result = run(&sc, 0..4, &RunOptions::default()).unwrap();
    for o in &result.outcomes {
        assert_eq!(o.updated, 2000);
        let t50 = o.time_to_50.unwrap();
        assert!((t50 - 720.4).abs() < 5.0, "time_to_50 {t50}");
        // The last device is notified at 1999·0.6 = 1199.4 s; it finishes within 60 s + 91 s.
        let t99 = o.time_to_99.unwrap();
        assert!(t99 > 1150.0 && t99 < 1199.4 + 151.0, "time_to_99 {t99}");
    }
}

/// A boot failure with probability 0.1 on A/B devices: every device installs, and the share
/// harmed is Binomial(8000, 0.1) over 4 replications: SE 0.0034, tolerance 0.014 (4 SE).
#[test]
fn boot_failure_harm_is_binomial() {
    let release = "[[release.defect]]\neffect = \"boot-failure\"\nprobability = 0.1\n";
    let sc = scenario(&simple(release, "retry = { attempts = 1 }", ""));
    let result = run(&sc, 0..4, &RunOptions::default()).unwrap();
    let harmed: u64 = result.outcomes.iter().map(|o| o.harmed).sum();
    let share = harmed as f64 / 8000.0;
    assert!((share - 0.1).abs() < 0.014, "{share}");
    // A/B devices revert: none bricked, every failure reported as a revert.
    assert!(result.outcomes.iter().all(|o| o.bricked == 0));
    let reverts: u64 = result
        .outcomes
        .iter()
        .map(|o| o.failures_by_reason["boot_reverted"])
        .sum();
    assert_eq!(reverts, harmed);
}

/// Without A/B slots the same defect bricks, and bricked devices never report.
#[test]
fn boot_failure_without_ab_slots_bricks() {
    let release = "[[release.defect]]\neffect = \"boot-failure\"\nprobability = 0.1\n";
    let sc = scenario(&simple(release, "", "ab_slots = false"));
    let result = run(&sc, 0..2, &RunOptions::default()).unwrap();
    for o in &result.outcomes {
        assert_eq!(o.bricked, o.harmed);
        assert!(o.bricked > 100);
        assert_eq!(
            o.observed_failure, 0,
            "a bricked device goes silent; it never reports a failure"
        );
    }
}

/// Storage uniform on [0, 100] MB with `min_storage_mb = 25`: a quarter of the fleet is
/// stranded for storage. 8000 devices: SE 0.0048, tolerance 0.02.
#[test]
fn storage_preflight_strands_the_expected_share() {
    let sc = scenario(&simple(
        "",
        "preflight = { min_storage_mb = 25 }",
        "storage_free_mb = { dist = \"uniform\", min = 0, max = 100 }",
    ));
    let result = run(&sc, 0..4, &RunOptions::default()).unwrap();
    let stranded: u64 = result
        .outcomes
        .iter()
        .map(|o| o.stranded_by_reason["storage"])
        .sum();
    let share = stranded as f64 / 8000.0;
    assert!((share - 0.25).abs() < 0.02, "{share}");
    // Too little storage is terminal: each such device is deferred exactly once, and that
    // deferral is what `deferrals_storage` counts.
    for o in &result.outcomes {
        assert_eq!(
            o.deferrals_by_reason["storage"],
            o.stranded_by_reason["storage"]
        );
        assert_eq!(o.deferrals_by_reason["battery"], 0);
    }
}

/// AWS IoT Jobs exponential rate: base 10/min, ×2 every 100 notified, capped at 50.
#[test]
fn exponential_ramp_schedule() {
    let sc = scenario(&simple("", "", "").replace(
        "rate = { per_minute = 100 }",
        "rate = { per_minute = 10, factor = 2.0, every_notified = 100, max_per_minute = 50 }",
    ));
    let rate = &sc.policy.rate;
    assert_eq!(rate.per_minute_at(0, 0), 10.0);
    assert_eq!(rate.per_minute_at(99, 0), 10.0);
    assert_eq!(rate.per_minute_at(100, 0), 20.0);
    assert_eq!(rate.per_minute_at(250, 0), 40.0);
    assert_eq!(rate.per_minute_at(300, 0), 50.0);
    // With the ramp, the first 100 take 10 min, the next 100 5 min, the next 100 2.5 min...:
    // half the fleet notified after 10 + 5 + 2.5 + 700/50 = 31.5 min, the whole after 51.5 min.
    let result = run(&sc, 0..1, &RunOptions::default()).unwrap();
    let t50 = result.outcomes[0].time_to_50.unwrap();
    assert!(
        (t50 - (31.5 * 60.0 + 121.0)).abs() < 10.0,
        "time_to_50 {t50}"
    );
}

/// Common random numbers: whether a defect hits a device does not depend on the policy. Two
/// policies with different rates expose the same devices; the harmed sets must be equal.
#[test]
fn defect_draws_do_not_depend_on_the_policy() {
    let release = "[[release.defect]]\neffect = \"crash-rate\"\nfactor = 3.0\nprobability = 0.3\n";
    let a = scenario(&simple(release, "", ""));
    let b = scenario(&simple(release, "", "").replace("per_minute = 100", "per_minute = 37"));
    let (mut sa, mut sb) = (
        Sim::new(&a, 0, RunLimits::default()).unwrap(),
        Sim::new(&b, 0, RunLimits::default()).unwrap(),
    );
    sa.run().unwrap();
    sb.run().unwrap();
    let harmed = |s: &Sim| {
        s.world
            .fleet
            .devices()
            .iter()
            .map(|d| d.has(flag::HARMED))
            .collect::<Vec<_>>()
    };
    assert!(
        sa.world
            .fleet
            .devices()
            .iter()
            .all(|d| d.has(flag::EXPOSED))
            && sb
                .world
                .fleet
                .devices()
                .iter()
                .all(|d| d.has(flag::EXPOSED))
    );
    assert_eq!(harmed(&sa), harmed(&sb));
}

fn strip_gates(text: &str) -> String {
    let start = text.find("[[policy.stage]]").unwrap();
    let end = text.find("[[expect]]").unwrap();
    format!(
        "{}[[policy.stage]]\nname = \"all\"\nselect = {{}}\npercent = 100\n\n{}",
        &text[..start],
        &text[end..]
    )
}

/// bad-release's gates halt the rollout in most replications and keep the blast radius far
/// below a gateless policy on the same seeds (common random numbers make this a paired test).
#[test]
fn gates_contain_the_bad_release() {
    let text = std::fs::read_to_string("scenarios/bad-release.toml").unwrap();
    let gated = scenario(&text);
    let gateless = scenario(&strip_gates(&text));
    let opts = RunOptions::default();
    let (g, n) = (
        run(&gated, 0..12, &opts).unwrap(),
        run(&gateless, 0..12, &opts).unwrap(),
    );
    let halted = g.outcomes.iter().filter(|o| o.halted).count();
    assert!(halted >= 11, "halted in {halted} of 12");
    let (sg, sn) = (summarise(&g.outcomes), summarise(&n.outcomes));
    let (hg, hn) = (
        sg.metrics["harmed"].mean.unwrap(),
        sn.metrics["harmed"].mean.unwrap(),
    );
    // Without gates every sn-10 sensor updates: about 15 100 · (0.03 + 0.97·0.2) ≈ 3 400 harmed.
    assert!(hn > 2_500.0, "gateless harmed {hn}");
    assert!(hg < hn / 4.0, "gated {hg} vs gateless {hn}");
}

/// A healthy release (bad-release with its defects removed) rarely halts: at most 2 of 20
/// replications (the gates use one-sided 90 % bounds, and background failures are 1 %).
#[test]
fn a_healthy_release_rarely_halts() {
    let text = std::fs::read_to_string("scenarios/bad-release.toml").unwrap();
    let start = text.find("[[release.defect]]").unwrap();
    let end = text.find("[support]").unwrap();
    let healthy = scenario(&format!("{}{}", &text[..start], &text[end..]));
    let r = run(&healthy, 0..20, &RunOptions::default()).unwrap();
    let halts = r.outcomes.iter().filter(|o| o.halted).count();
    assert!(halts <= 2, "{halts} false halts in 20");
    assert!(
        r.outcomes.iter().all(|o| o.harmed == o.bricked),
        "only battery deaths can harm a healthy rollout"
    );
}

/// Rollback returns exposed devices to `rollback_to` through the install path.
#[test]
fn rollback_recovers_exposed_devices() {
    let text = std::fs::read_to_string("scenarios/bad-release.toml").unwrap();
    let sc = scenario(&text);
    let r = run(&sc, 0..6, &RunOptions::default()).unwrap();
    for o in r.outcomes.iter().filter(|o| o.halt_reason.is_some()) {
        assert!(o.rolled_back > 0);
        assert!(o.rolled_back + o.rollback_refused <= o.exposed);
        assert!(
            o.time_to_recover_95.is_some(),
            "replication {}: no recovery",
            o.replication
        );
    }
}

/// An inventory CSV: rows inherit from a template population, identical rows are grouped, and
/// extra columns become tags a selector can use.
#[test]
fn inventory_csv_builds_the_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,population,region,firmware,site\n");
    for i in 0..300 {
        let (region, site) = if i % 3 == 0 {
            ("eu", "north")
        } else {
            ("us", "south")
        };
        csv.push_str(&format!("dev-{i},fleet,{region},1.0.0,{site}\n"));
    }
    std::fs::write(dir.path().join("devices.csv"), csv).unwrap();
    let text = simple("", "", "").replacen(
        "[[population]]\nname = \"fleet\"\ncount = 2000",
        "[fleet]\ninventory = \"devices.csv\"\n\n[[population]]\nname = \"fleet\"",
        1,
    );
    let text = text.replace("select = {}", "select = { site = \"north\" }");
    let sc = load_str(&text, "inv.toml", dir.path(), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sc.device_count(), 300);
    assert_eq!(sc.populations.len(), 2, "two distinct kinds of row");
    let r = run(&sc, 0..1, &RunOptions::default()).unwrap();
    assert_eq!(
        r.outcomes[0].targeted, 100,
        "the stage selects the 100 devices of site north"
    );
}

/// `arrivals_per_day`: a Poisson stream of joins. 100 a day over the 3-day horizon is 300 extra
/// devices on average; over 4 replications the mean has SE √300/2 ≈ 8.7, tolerance 40. With
/// `selection = "snapshot"` they are not targeted; with `"continuous"` the running rollout
/// takes every one of them.
#[test]
fn arrivals_join_and_continuous_selection_takes_them() {
    let snapshot = scenario(&simple("", "", "arrivals_per_day = 100"));
    let continuous = scenario(&simple(
        "",
        "selection = \"continuous\"",
        "arrivals_per_day = 100",
    ));
    let (s, c) = (
        run(&snapshot, 0..4, &RunOptions::default()).unwrap(),
        run(&continuous, 0..4, &RunOptions::default()).unwrap(),
    );
    let mean_devices = s.outcomes.iter().map(|o| o.devices as f64).sum::<f64>() / 4.0;
    assert!((mean_devices - 2300.0).abs() < 40.0, "{mean_devices}");
    for (a, b) in s.outcomes.iter().zip(&c.outcomes) {
        assert_eq!(a.devices, b.devices, "the same world under both policies");
        assert_eq!(a.targeted, 2000);
        assert_eq!(
            b.targeted, b.devices,
            "continuous selection targets every arrival"
        );
        assert!(b.updated > a.updated);
    }
}

const CANARY_SHADOW: &str = r#"
[[policy.shadow_gate]]
name = "canary-twin"
stage = "canary"
min_devices = 200
test = "wilson"
confidence = 0.9
on_fail = "rollback"
[[policy.shadow_gate.check]]
metric = "update_failure_rate"
max = 0.02
[[policy.shadow_gate.check]]
metric = "silent_rate"
silent_after = "12h"
max = 0.01
[[policy.shadow_gate.check]]
metric = "crash_rate"
max_ratio_vs_control = 1.5

[[policy.shadow_gate]]
name = "strict-silence"
stage = "canary"
min_devices = 50
[[policy.shadow_gate.check]]
metric = "silent_rate"
silent_after = "6h"
max = 0.002
"#;

fn with_shadows(text: &str) -> String {
    let at = text.find("[[expect]]").unwrap();
    format!("{}{CANARY_SHADOW}\n{}", &text[..at], &text[at..])
}

/// A shadow gate with the acting canary gate's definition fires exactly when (and only when)
/// the acting gate fails, on the same seed.
#[test]
fn shadow_gate_fire_times_agree_with_the_acting_gate() {
    let text = std::fs::read_to_string("scenarios/bad-release.toml").unwrap();
    let sc = scenario(&with_shadows(&text));
    let r = run(&sc, 0..16, &RunOptions::default()).unwrap();
    let mut compared = 0;
    for o in &r.outcomes {
        let canary: Vec<_> = o.gates.iter().filter(|g| g.stage == "canary").collect();
        if canary.is_empty() {
            continue;
        }
        compared += 1;
        let acting_failed = canary.iter().any(|g| !g.passed);
        let twin = &o.shadow_gates[0];
        assert_eq!(twin.fired, acting_failed, "replication {}", o.replication);
        if acting_failed {
            assert_eq!(
                twin.fired_at,
                Some(canary[0].time),
                "replication {}",
                o.replication
            );
            assert!(twin.harmed_at_fire.unwrap() <= o.harmed);
        }
    }
    assert!(
        compared >= 4,
        "only {compared} replications judged the canary"
    );
}

/// Shadow gates never act: a scenario whose gates are all shadows rolls out as if it had none,
/// yet records when each would have fired.
#[test]
fn shadow_gates_never_act() {
    let text = std::fs::read_to_string("scenarios/bad-release.toml").unwrap();
    let gateless = strip_gates(&text).replace("name = \"all\"", "name = \"canary\"");
    let plain = run(&scenario(&gateless), 0..4, &RunOptions::default()).unwrap();
    let shadowed = run(
        &scenario(&with_shadows(&gateless)),
        0..4,
        &RunOptions::default(),
    )
    .unwrap();
    for (a, b) in plain.outcomes.iter().zip(&shadowed.outcomes) {
        assert_eq!(
            (a.harmed, a.updated, a.halted),
            (b.harmed, b.updated, b.halted)
        );
        assert!(
            b.shadow_gates[1].fired,
            "the strict silence gate fires on a bad release"
        );
    }
}

/// Regression: after an abort-rule pause and a resume, the current stage was never judged again
/// and the rollout sat in it forever (9.7 % completion instead of 97 %).
#[test]
fn regression_resume_after_an_abort_pause_judges_the_stage() {
    let sc = scenario(&std::fs::read_to_string("tests/data/pause-resume.toml").unwrap());
    let r = run(&sc, 0..5, &RunOptions::default()).unwrap();
    for o in &r.outcomes {
        assert!(o.halted, "the abort rule pauses every run");
        assert!(
            o.completion.unwrap() > 0.9,
            "replication {}: completion {:?}",
            o.replication,
            o.completion
        );
    }
}

/// Regression: every attempt of an A/B device hit by a boot failure reverted again and was
/// counted again, so `revert_rate` exceeded 1 and a Wilson check on it passed.
#[test]
fn regression_revert_rate_counts_each_device_once() {
    let release = "[[release.defect]]\neffect = \"boot-failure\"\nprobability = 1.0\n";
    let gate = "retry = { attempts = 3 }\n";
    let text = simple(release, gate, "").replace(
        "percent = 100\n",
        "percent = 10\nbake = \"1h\"\n[policy.stage.gate]\nmin_devices = 50\ntest = \"wilson\"\non_fail = \"abort\"\n[[policy.stage.gate.check]]\nmetric = \"revert_rate\"\nmax = 0.5\n",
    );
    let r = run(&scenario(&text), 0..2, &RunOptions::default()).unwrap();
    for o in &r.outcomes {
        let g = o
            .gates
            .iter()
            .find(|g| g.check == "revert_rate")
            .expect("the gate was judged");
        assert!(g.observed.unwrap() <= 1.0, "revert_rate {:?}", g.observed);
        assert!(!g.passed, "every device reverts: the gate must fail");
        // A boot revert is not transient: no device tries the broken image a second time.
        assert_eq!(o.failures_by_reason["boot_reverted"], o.exposed);
    }
}

/// Regression: a freed download slot went to the first waiter even when it was offline, and
/// then sat idle while others waited.
#[test]
fn regression_a_freed_download_slot_goes_to_a_waiting_device() {
    let text = std::fs::read_to_string("scenarios/bad-release.toml")
        .unwrap()
        .replace(
            "max_concurrent_downloads = 1000",
            "max_concurrent_downloads = 3",
        );
    let sc = scenario(&strip_gates(&text).replace("timeout = \"6h\"\n", ""));
    let mut sim = Sim::new(&sc, 0, RunLimits::default()).unwrap();
    sim.run().unwrap();
    let waiting = sim
        .world
        .fleet
        .devices()
        .iter()
        .filter(|d| d.phase == fleetsim::fleet::device::Phase::QueuedForSlot)
        .count();
    assert!(
        waiting == 0 || sim.world.backend.active_downloads() == 3,
        "{waiting} devices wait while {} of 3 slots are busy",
        sim.world.backend.active_downloads()
    );
}

/// Regression: with `skip_migrations = "chain"` and no `rollback_to`, a rollback downgraded
/// devices that had only reached the intermediate migration release.
#[test]
fn regression_rollback_only_touches_devices_on_the_target() {
    let text = std::fs::read_to_string("scenarios/migration-chain.toml")
        .unwrap()
        .replace("rollback_to = \"3.0.0\"\n", "")
        .replace("max = 0.03", "max = 0.0")
        .replace("on_fail = \"pause\"", "on_fail = \"rollback\"");
    let sc = scenario(&text);
    let mut sim = Sim::new(&sc, 0, RunLimits::default()).unwrap();
    sim.run().unwrap();
    let o = sim.outcome();
    assert!(o.halted && o.rolled_back > 0);
    for d in sim.world.fleet.devices() {
        if d.has(flag::ROLLED_BACK) || d.has(flag::REFUSED) {
            assert!(
                d.has(flag::EXPOSED),
                "a device that never ran the target was rolled back"
            );
        }
    }
}

/// Regression: devices waiting for a maintenance window at window close were counted stranded
/// and then updated, so updated + stranded exceeded targeted.
#[test]
fn regression_stranded_and_updated_do_not_overlap() {
    let sc = scenario(&std::fs::read_to_string("scenarios/sleepy-fleet.toml").unwrap());
    let r = run(&sc, 0..4, &RunOptions::default()).unwrap();
    for o in &r.outcomes {
        assert!(
            o.updated + o.stranded <= o.targeted,
            "{} + {} > {}",
            o.updated,
            o.stranded,
            o.targeted
        );
    }
}

/// Regression: a device offline mid-download when the rollout halted resumed its download when
/// it came back and installed the halted release.
#[test]
fn regression_devices_offline_at_the_halt_do_not_install_the_halted_release() {
    let text = std::fs::read_to_string("tests/data/offline-at-halt.toml").unwrap();
    let sc = scenario(&text);
    let mut sim = Sim::new(
        &sc,
        0,
        RunLimits {
            trace_rows: 5_000_000,
            ..RunLimits::default()
        },
    )
    .unwrap();
    sim.run().unwrap();
    let halted = sim.controller.halted_at().expect("the abort rule trips").0;
    let mut back_after_halt = std::collections::HashSet::new();
    for row in &sim.trace {
        let Some(d) = row.device else { continue };
        if row.time_ms > halted && row.event == "check_in" && row.detail == "Interrupted" {
            back_after_halt.insert(d);
        }
        if row.event == "boot_done" && back_after_halt.contains(&d) {
            panic!(
                "device {d} came back after the halt and booted the halted release at {}",
                row.time_ms
            );
        }
    }
    assert!(
        !back_after_halt.is_empty(),
        "the scenario must exercise devices returning after the halt"
    );
}

/// CI runs the suite in release builds, where the whole-state invariant checks otherwise run
/// only at the end of a replication: here every fixture (and every test scenario) runs with the
/// daily checks on, so a breach mid-run fails the build with the seed that reproduces it.
#[test]
fn every_fixture_passes_the_daily_invariant_checks() {
    let opts = RunOptions {
        daily_invariants: true,
        ..RunOptions::default()
    };
    for dir in ["scenarios", "tests/data"] {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let sc = fleetsim::scenario::load_file(&path, &[])
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            // A million devices once, the rest a few times.
            let reps = if sc.device_count() > 100_000 { 1 } else { 3 };
            if let Err(e) = run(&sc, 0..reps.min(sc.replications), &opts) {
                panic!("{}: {e}", path.display());
            }
        }
    }
}
