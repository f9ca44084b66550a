//! When and how many devices may be disrupted (issue 12 items 4 and 5): maintenance windows
//! (`days`, `cron` with `duration`, `zone`, `applies_to`) and the disruption budget. The fleet
//! is always online and downloads in a second, so a window decides adoption times to the
//! millisecond: an install that waits for a window starts when it opens and the device runs
//! the target 90 s later (60 s install, 30 s reboot). Each case is set against the plain daily
//! window, or no window or budget, on the same seeds.

mod common;

use common::{outcomes, scenario, validate_refuses, ALWAYS_ONLINE, ONE_STAGE, TWO_RELEASES};
use fleetsim::metrics::outcome::Outcome;

/// 2000 devices at `offset` from UTC, the scenario starting on Thursday 2026-03-05 00:00 UTC;
/// `policy` is added to `[policy]` (its `maintenance`, `rate`).
fn fleet(offset: &str, policy: &str) -> String {
    format!(
        r#"
[simulation]
name = "maintenance"
seed = 5
horizon = "3d"
replications = 2
start = "2026-03-05T00:00:00Z"

{ALWAYS_ONLINE}
[[population]]
name = "fleet"
count = 2000
model = "m1"
firmware = "1.0.0"
utc_offset = "{offset}"
connectivity = "always"

{TWO_RELEASES}

[policy]
target = "2.0.0"
{policy}

{ONE_STAGE}"#
    )
}

const H: f64 = 3600.0;
/// From a window's opening until the device runs the target.
const INSTALL: f64 = 90.0;

/// Every device downloads within the first hour (rate 100 a minute) and waits for its window;
/// all adoption times are the same instant.
fn adoption(o: &Outcome) -> f64 {
    assert_eq!(o.updated, 2000);
    let t = o.time_to_50.unwrap();
    assert_eq!(
        o.time_to_99,
        Some(t),
        "every device installs at the window's opening"
    );
    t
}

const RATE: &str = "rate = { per_minute = 100 }";

/// `days = ["sat"]`: the 01:00–05:00 window opens first on Saturday, 2 days after the
/// Thursday start; without `days` it opens on Thursday at 01:00.
#[test]
fn days_restrict_a_window_to_those_weekdays() {
    let daily = outcomes(&fleet(
        "+00:00",
        &format!("{RATE}\nmaintenance = [{{ from = \"01:00\", to = \"05:00\" }}]"),
    ));
    let saturday = outcomes(&fleet(
        "+00:00",
        &format!(
            "{RATE}\nmaintenance = [{{ from = \"01:00\", to = \"05:00\", days = [\"sat\"] }}]"
        ),
    ));
    for (d, s) in daily.iter().zip(&saturday) {
        assert_eq!(adoption(d), H + INSTALL);
        assert_eq!(adoption(s), 48.0 * H + H + INSTALL);
        assert_eq!(s.deferrals_by_reason["maintenance"], 2000);
    }
}

/// `cron = "0 2 * * SAT"` with `duration = "4h"` (parsed by croner): Saturday 02:00.
#[test]
fn a_cron_window_opens_at_its_firing() {
    let cron = outcomes(&fleet(
        "+00:00",
        &format!("{RATE}\nmaintenance = [{{ cron = \"0 2 * * SAT\", duration = \"4h\" }}]"),
    ));
    for o in &cron {
        assert_eq!(adoption(o), 48.0 * H + 2.0 * H + INSTALL);
    }
}

/// At UTC+5 the 01:00–05:00 device-local window opens at 20:00 UTC (Thursday 05:00 local is
/// past it, so the next is Friday 01:00 local); on `zone = "utc"` it opens at 01:00 UTC.
#[test]
fn zone_chooses_the_clock() {
    let local = outcomes(&fleet(
        "+05:00",
        &format!("{RATE}\nmaintenance = [{{ from = \"01:00\", to = \"05:00\" }}]"),
    ));
    let utc = outcomes(&fleet(
        "+05:00",
        &format!("{RATE}\nmaintenance = [{{ from = \"01:00\", to = \"05:00\", zone = \"utc\" }}]"),
    ));
    for (l, u) in local.iter().zip(&utc) {
        assert_eq!(adoption(l), 20.0 * H + INSTALL);
        assert_eq!(adoption(u), H + INSTALL);
    }
}

/// `applies_to = "notify"` on UTC gates the rollout itself (AWS job maintenance windows): at
/// 10 a minute inside 06:00–07:00 UTC the pump notifies exactly 600 devices a day (one every
/// 6 s from 06:00:00 to 06:59:54), so the three windows of a 3-day horizon reach 1 800 devices
/// and the last 200 are never notified (`cancelled`). Without the window all 2000 are
/// notified in 200 minutes.
#[test]
fn a_utc_notify_window_gates_the_rollout() {
    let rate = "rate = { per_minute = 10 }";
    let gated = outcomes(&fleet("+03:00", &format!("{rate}\nmaintenance = [{{ from = \"06:00\", to = \"07:00\", zone = \"utc\", applies_to = \"notify\" }}]")));
    let free = outcomes(&fleet("+03:00", rate));
    for (g, f) in gated.iter().zip(&free) {
        assert_eq!(g.updated, 1800);
        assert_eq!(g.stranded_by_reason["cancelled"], 200);
        assert!(
            g.time_to_50.unwrap() > 24.0 * H,
            "the second window passes half"
        );
        assert_eq!(f.updated, 2000);
        assert!(f.time_to_99.unwrap() < 4.0 * H);
    }
}

/// `applies_to = "notify"` on the device's clock: each device takes the job only inside its
/// own window, 06:00–07:00 local at UTC+5 = 01:00–02:00 UTC. With no rate every device is
/// notified at once and defers exactly once, to 01:00 UTC; installs are not held back.
#[test]
fn a_device_notify_window_holds_back_learning_the_job() {
    let gated = outcomes(&fleet(
        "+05:00",
        "maintenance = [{ from = \"06:00\", to = \"07:00\", applies_to = \"notify\" }]",
    ));
    for o in &gated {
        assert_eq!(o.updated, 2000);
        assert_eq!(o.deferrals_by_reason["maintenance"], 2000);
        let (first, last) = (o.time_to_50.unwrap(), o.time_to_99.unwrap());
        assert!(
            first > H + INSTALL && last < 2.0 * H + INSTALL,
            "{first} {last}"
        );
    }
}

/// What the window keys refuse, with the key path and exit code 2.
#[test]
fn window_keys_are_validated() {
    let cases = [
        ("maintenance = [{ from = \"01:00\", to = \"05:00\", cron = \"0 2 * * SAT\", duration = \"4h\" }]", "policy.maintenance[0]: a window is either `from`/`to` (with optional `days`) or `cron` with `duration`, not both"),
        ("maintenance = [{ cron = \"0 0 2 * * SAT\", duration = \"4h\" }]", "policy.maintenance[0].cron: `0 0 2 * * SAT` is not a five-field cron schedule"),
        ("maintenance = [{ cron = \"0 25 * * SAT\", duration = \"4h\" }]", "policy.maintenance[0].cron: `0 25 * * SAT` is not a cron schedule"),
        ("maintenance = [{ cron = \"0 2 * * SAT\" }]", "policy.maintenance[0].duration: a `cron` window needs `duration`"),
        ("maintenance = [{ cron = \"0 2 * * SAT\", duration = \"8d\" }]", "policy.maintenance[0].duration: must be more than 0 and at most 7 days"),
        ("maintenance = [{ cron = \"* * * * *\", duration = \"1m\" }]", "opens more than 200000 times"),
        ("maintenance = [{ from = \"01:00\", to = \"05:00\", days = [\"sat\", \"saturdy\"] }]", "policy.maintenance[0].days[1]: `saturdy` is not a day of the week (did you mean `saturday`?)"),
        ("maintenance = [{ from = \"01:00\", to = \"05:00\", days = [] }]", "policy.maintenance[0].days: `days` is empty"),
        ("maintenance = [{ cron = \"0 2 * * *\", duration = \"1h\", days = [\"sat\"] }]", "policy.maintenance[0].days: `days` goes with `from`/`to`"),
        ("maintenance = [{ from = \"01:00\" }]", "policy.maintenance[0]: a maintenance window needs `from` and `to`"),
        ("maintenance = [{ from = \"01:00\", to = \"05:00\", zone = \"local\" }]", "policy.maintenance[0].zone: unknown value `local`; valid: device, utc"),
        ("maintenance = [{ from = \"01:00\", to = \"05:00\", applies_to = \"download\" }]", "policy.maintenance[0].applies_to: unknown value `download`; valid: install, notify"),
    ];
    for (i, (policy, message)) in cases.iter().enumerate() {
        let stderr = validate_refuses(
            &fleet("+00:00", policy).replace("horizon = \"3d\"", "horizon = \"365d\""),
            &format!("case-{i}.toml"),
        );
        assert!(stderr.contains(message), "case {i}: {stderr}");
    }
}

/// The fleet split into 10 sites of 200 devices (a `site` tag per population), every device
/// notified at once; `policy` is added to `[policy]`.
fn sites(policy: &str) -> String {
    let one = fleet("+00:00", policy);
    let (head, tail) = one.split_at(one.find("[[release]]").unwrap());
    let head = head.replace("count = 2000", "count = 200").replace(
        "name = \"fleet\"",
        "name = \"site-0\"\ntags = { site = \"s0\" }",
    );
    let start = head.find("[[population]]").unwrap();
    let block = head[start..].to_string();
    let mut text = head.clone();
    for i in 1..10 {
        text += &block
            .replace("site-0", &format!("site-{i}"))
            .replace("\"s0\"", &format!("\"s{i}\""));
    }
    text + tail
}

/// `disruption_budget = { group_by = ["site"], max_unavailable = 2 }`: each site's 200 devices
/// all download within the first minute, then install two at a time, each place handed on the
/// moment its device boots (90 s later). So 99 % of a site (its 198th device, the 99th of a
/// place) runs the target 99 · 90 s = 8 910 s after its place's first install, which starts
/// within the first 62 s (check-in within a minute, 1 s download): time_to_99 lies in
/// (8 910, 8 975). Every device but the first two of each site waits exactly once
/// (`deferrals_budget` = 2000 − 20), no site ever has more than 2 devices installing (the
/// invariants check it each simulated day, and the peak is read at the end), and a budget of
/// "1%" (of 200: 2) is the same run. Without the budget all devices update within 5 minutes.
#[test]
fn a_disruption_budget_caps_each_group() {
    let budget = "disruption_budget = { group_by = [\"site\"], max_unavailable = 2 }";
    let capped = outcomes(&sites(budget));
    let share = outcomes(&sites(&budget.replace("2 }", "\"1%\" }")));
    let free = outcomes(&sites(""));
    for ((c, s), f) in capped.iter().zip(&share).zip(&free) {
        assert_eq!(c.updated, 2000);
        let t99 = c.time_to_99.unwrap();
        assert!(t99 > 8_910.0 && t99 < 8_975.0, "time_to_99 {t99}");
        assert_eq!(c.deferrals_by_reason["budget"], 1980);
        assert_eq!(
            (s.updated, s.time_to_99, s.deferrals_by_reason["budget"]),
            (c.updated, c.time_to_99, 1980)
        );
        assert!(f.time_to_99.unwrap() < 300.0);
        assert_eq!(f.deferrals_by_reason["budget"], 0);
    }
    let sc = scenario(&sites(budget));
    let mut sim = fleetsim::replication::Sim::new(&sc, 0, Default::default()).unwrap();
    sim.run().unwrap();
    let groups: Vec<_> = sim.world.backend.budget().unwrap().groups().collect();
    assert_eq!(groups.len(), 10);
    for (cap, busy, peak) in groups {
        assert_eq!(
            (cap, busy, peak),
            (2, 0, 2),
            "the budget binds and every place is back"
        );
    }
}

/// A budget that never makes room before the horizon: at one device per site and a 12 h
/// install, a 3-day horizon lets each site install 6 devices; the rest are still waiting for
/// the budget at the end (`stranded_budget`).
#[test]
fn devices_the_budget_never_admits_are_stranded_for_it() {
    let text = sites("disruption_budget = { group_by = [\"site\"], max_unavailable = 1 }")
        .replace("install_time = \"60s\"", "install_time = \"12h\"");
    for o in outcomes(&text) {
        assert_eq!(
            o.updated,
            10 * 5,
            "5 full installs per site finish inside 3 days"
        );
        assert_eq!(
            o.stranded_by_reason["budget"],
            2000 - 10 * 6,
            "the 6th is under way"
        );
    }
}

/// What the budget's keys refuse.
#[test]
fn budget_keys_are_validated() {
    let cases = [
        ("disruption_budget = { group_by = [\"sit\"], max_unavailable = 2 }", "policy.disruption_budget.group_by[0]: `sit` is neither model, region, population nor a tag of any population (did you mean `site`?)"),
        ("disruption_budget = { group_by = [\"site\"], max_unavailable = 0 }", "policy.disruption_budget.max_unavailable: must be a whole number of devices (at least 1)"),
        ("disruption_budget = { group_by = [\"site\"], max_unavailable = 1.5 }", "policy.disruption_budget.max_unavailable: must be a whole number"),
        ("disruption_budget = { group_by = [\"site\"], max_unavailable = \"150%\" }", "policy.disruption_budget.max_unavailable: `150%` is not a percentage above 0 and at most 100"),
        ("disruption_budget = { group_by = [\"site\"] }", "max_unavailable"),
    ];
    for (i, (policy, message)) in cases.iter().enumerate() {
        let stderr = validate_refuses(&sites(policy), &format!("case-{i}.toml"));
        assert!(stderr.contains(message), "case {i}: {stderr}");
    }
}
