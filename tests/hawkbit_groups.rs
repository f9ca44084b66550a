//! Eclipse hawkBit rollout groups (`[policy.groups]`): equal shares of the matching devices,
//! each judged over its whole group with no minimum sample. Runs are compared on the same
//! seeds (common random numbers).

mod common;

use assert_cmd::Command;
use common::{
    outcomes, population, simulation, validate_refuses, ALWAYS_ONLINE, NEVER_ONLINE, TWO_RELEASES,
};

/// 1000 always-online devices and, with `asleep`, 1000 more that are never online, notified
/// at 100 a minute, in two hawkBit groups with the `[policy.groups]` keys `groups`.
fn groups(pop: &str, asleep: bool, groups: &str) -> String {
    let asleep = if asleep {
        format!("{NEVER_ONLINE}\n{}", population("asleep", 1000, "never"))
    } else {
        String::new()
    };
    let (sim, fleet) = (
        simulation("groups", 31, "3d"),
        population("fleet", 1000, "always"),
    );
    format!(
        r#"
{sim}
{ALWAYS_ONLINE}
{fleet}{pop}

{asleep}
{TWO_RELEASES}

[policy]
target = "2.0.0"
rate = {{ per_minute = 100 }}

[policy.groups]
count = 2
{groups}
"#
    )
}

/// `validate --format json` shows the stages the groups stand for: `group-1` over half the
/// devices, `group-2` over all of them, each with its thresholds.
#[test]
fn validate_shows_the_expansion() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("groups.toml");
    std::fs::write(
        &path,
        groups("", false, "success_threshold = 0.5\nerror_threshold = 0.2"),
    )
    .unwrap();
    let out = Command::cargo_bin("fleetsim")
        .unwrap()
        .args(["validate", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let plan = &v[0]["stage_plan"];
    assert_eq!(plan[0]["name"], "group-1");
    assert_eq!(plan[1]["name"], "group-2");
    assert_eq!(plan[0]["percent"], 50.0);
    assert_eq!(plan[1]["percent"], 100.0);
    assert_eq!(plan[1]["success_threshold"], 0.5);
    assert_eq!(plan[1]["error_threshold"], 0.2);
}

/// Half of each group never comes online. Over the whole group the success share stays near
/// 50 % (Binomial: SD 2.2 % on 500 devices): a 60 % success threshold holds the first group
/// forever, so the second never starts and only the first group's online devices update;
/// a 40 % threshold lets the second start, and every online device updates.
#[test]
fn offline_devices_hold_a_group_back() {
    let held = outcomes(&groups("", true, "success_threshold = 0.6"));
    let going = outcomes(&groups("", true, "success_threshold = 0.4"));
    for (h, g) in held.iter().zip(&going) {
        assert!(!h.halted && !g.halted);
        assert_eq!(g.updated, 1000);
        assert!((400..=600).contains(&h.updated), "{}", h.updated);
        assert_eq!(h.final_stage.as_deref(), Some("group-1"));
        assert_eq!(g.final_stage.as_deref(), Some("group-2"));
    }
}

/// 30 % of installs fail. An error threshold of 20 % of the whole group fails the first group
/// once its 101st failure arrives, however many devices have reported (no minimum sample), and
/// pauses the rollout; without one, the same seeds go through both groups.
#[test]
fn the_error_threshold_fails_a_group_over_its_whole_cohort() {
    let pop = "install_failure = 0.3";
    let failed = outcomes(&groups(
        pop,
        false,
        "error_threshold = 0.2\nsuccess_threshold = 0.5",
    ));
    let control = outcomes(&groups(pop, false, "success_threshold = 0.5"));
    for (f, c) in failed.iter().zip(&control) {
        assert!(f.halted, "{f:?}");
        assert_eq!(
            f.halt_reason.as_deref(),
            Some("gate:group-1:error_threshold")
        );
        assert!(!c.halted);
        assert!(f.updated < c.updated);
    }
}

/// 20 % of installs fail and are not retried, so no group ever reaches a 100 % success
/// threshold. hawkBit still runs a group's success action once every device of it has an
/// outcome (the group is complete): the second group starts, and all 1000 devices are tried.
#[test]
fn a_complete_group_starts_the_next_below_its_threshold() {
    let runs = outcomes(&groups(
        "install_failure = 0.2",
        false,
        "success_threshold = 1.0",
    ));
    for r in &runs {
        assert!(!r.halted);
        assert_eq!(r.final_stage.as_deref(), Some("group-2"));
        assert_eq!(r.observed_success + r.observed_failure, 1000);
        // Binomial(1000, 0.8): SD 12.6; 740–860 is beyond 4.7 SD.
        assert!((740..=860).contains(&r.updated), "{}", r.updated);
    }
}

/// A `[[policy.stage]]` with hawkBit conditions is a group: two such stages of half and all
/// the devices play exactly as `[policy.groups] count = 2` with the same conditions, on the
/// same seeds. A group stage takes no gate.
#[test]
fn stages_with_group_conditions_are_groups() {
    let conditions = "success_threshold = 0.6\nerror_threshold = 0.2";
    let expanded = outcomes(&groups("install_failure = 0.1", false, conditions));
    let stages = groups("install_failure = 0.1", false, "").replace(
        "[policy.groups]\ncount = 2\n",
        &format!(
            "[[policy.stage]]\nname = \"group-1\"\nselect = {{}}\npercent = 50\n{conditions}\n\n[[policy.stage]]\nname = \"group-2\"\nselect = {{}}\npercent = 100\n{conditions}\n"
        ),
    );
    let written = outcomes(&stages);
    for (e, w) in expanded.iter().zip(&written) {
        assert_eq!(e.updated, w.updated);
        assert_eq!(e.time_to_95, w.time_to_95);
        assert_eq!(e.halt_reason, w.halt_reason);
        assert_eq!(e.events, w.events);
    }
    let gated = stages.replacen(
        &format!("{conditions}\n\n[[policy.stage]]"),
        &format!("{conditions}\n[policy.stage.gate]\nmin_devices = 10\n\n[[policy.stage]]"),
        1,
    );
    let stderr = validate_refuses(&gated, "gated.toml");
    assert!(stderr.contains("policy.stage[0].gate"), "{stderr}");
    assert!(stderr.contains("hawkBit group"), "{stderr}");
}

/// Groups are refused next to stages, with thresholds outside 0..1, and with no group.
#[test]
fn bad_groups_are_refused() {
    let both = groups("", false, "").replace(
        "[policy.groups]",
        "[[policy.stage]]\nname = \"all\"\nselect = {}\npercent = 100\n\n[policy.groups]",
    );
    let stderr = validate_refuses(&both, "both.toml");
    assert!(stderr.contains("not both"), "{stderr}");
    let stderr = validate_refuses(&groups("", false, "error_threshold = 20"), "pct.toml");
    assert!(stderr.contains("policy.groups.error_threshold"), "{stderr}");
    let none = groups("", false, "").replace("count = 2", "count = 0");
    let stderr = validate_refuses(&none, "none.toml");
    assert!(stderr.contains("policy.groups.count"), "{stderr}");
    assert!(stderr.contains("1 to 250"), "{stderr}");
}
