//! Each fault kind against a no-fault control on the same seeds (common random numbers): the
//! fault must show its mechanism's effect, and faults on observation must leave the truth alone.

use fleetsim::analysis::run::{run, RunOptions};
use fleetsim::metrics::outcome::Outcome;
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

fn outcomes(text: &str) -> Vec<Outcome> {
    let sc = load_str(text, "faults.toml", Path::new("."), &[]).unwrap_or_else(|e| panic!("{e}"));
    run(&sc, 0..sc.replications, &RunOptions::default())
        .unwrap()
        .outcomes
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
/// counted security violation) by devices that do not.
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
    assert!(
        verified.iter().all(|o| o.updated == 2000),
        "rejected devices retry after the window and succeed"
    );
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
