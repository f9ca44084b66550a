//! Tests of `fleetsim import` on documents shaped as the systems' API references show them (AWS IoT
//! Jobs, Mender, Azure Device Update, Eclipse hawkBit).

use super::*;

fn aws(doc: &str, start: Option<i64>) -> Policy {
    aws_iot_job(&serde_json::from_str(doc).unwrap(), "job.json", start).unwrap()
}

fn key<'a>(p: &'a Policy, k: &str) -> &'a str {
    p.keys
        .iter()
        .find(|(x, _)| x == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no `{k}` in {:?}", p.keys))
}

fn documented_request() -> Policy {
    aws(
        &std::fs::read_to_string("tests/data/import/aws-create-job.json").unwrap(),
        None,
    )
}

/// The documented exponential ramp (50 a minute, doubled each 1000 notified things) becomes
/// fleetsim's ramp, and the validated policy plays exactly 50 → 100 → 200 → 400 per minute as
/// 0, 1000, 2000 and 3000 devices are notified, capped at `maximumPerMinute`.
#[test]
fn an_aws_exponential_ramp_plays_50_100_200_400() {
    let p = documented_request();
    let rate = key(&p, "rate");
    assert_eq!(
        rate,
        "{ per_minute = 50, factor = 2.0, every_notified = 1000, max_per_minute = 1000 }"
    );
    // Into a real scenario: the result validates, and its rate is the ramp.
    let text = std::fs::read_to_string("scenarios/seed-staged-rollout.toml").unwrap();
    let merged = replace_policy(&text, &scenario_table(&text, "s.toml").unwrap(), &p);
    let sc = crate::scenario::load_str(&merged, "merged", Path::new("scenarios"), &[]).unwrap();
    let schedule: Vec<f64> = [0, 999, 1000, 2000, 3000, 4000, 5000]
        .iter()
        .map(|&n| sc.policy.rate.per_minute_at(n, 0))
        .collect();
    assert_eq!(schedule, [50.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0]);
}

/// Every other field of the documented request: aborts per failure type in order (FAILED,
/// TIMED_OUT, REJECTED as `rejected_rate`), the in-progress time-out, retries per failure type
/// counted as tries, the window from the scheduling times and its end behaviour, continuous
/// selection; targets and the document source named as not mapped.
#[test]
fn an_aws_create_job_maps_field_by_field() {
    let p = documented_request();
    assert_eq!(key(&p, "selection"), "\"continuous\"");
    assert_eq!(key(&p, "timeout"), "\"6h\"");
    assert_eq!(
        key(&p, "retry"),
        "[{ on = \"failed\", attempts = 3 }, { on = \"timed_out\", attempts = 3 }]"
    );
    assert_eq!(key(&p, "end_behavior"), "\"stop\"");
    assert_eq!(
        key(&p, "start"),
        "\"0m\"",
        "relative to the document's own start"
    );
    assert_eq!(key(&p, "window"), "\"14d\"");
    assert_eq!(p.aborts.len(), 3, "FAILED, TIMED_OUT and REJECTED");
    assert_eq!(p.aborts[0][0].1, "\"update_failure_rate\"");
    assert_eq!(
        (p.aborts[0][1].1.as_str(), p.aborts[0][2].1.as_str()),
        ("0.1", "100")
    );
    assert_eq!(p.aborts[1][0].1, "\"timeout_rate\"");
    assert_eq!(p.aborts[0][3].1, "\"abort\"");
    assert_eq!(p.aborts[2][0].1, "\"rejected_rate\"");
    assert_eq!(
        (p.aborts[2][1].1.as_str(), p.aborts[2][2].1.as_str()),
        ("0.05", "100")
    );
    let notes = p.not_mapped.join("\n");
    for field in ["targets", "documentSource", "description", "jobId"] {
        assert!(notes.contains(field), "{field} not named in:\n{notes}");
    }
    assert!(
        !notes.contains("jobExecutionsRetryConfig"),
        "FAILED and TIMED_OUT both 2: exact"
    );
}

/// Each AWS failure type maps to the observed metric of that outcome — `ALL` to
/// `any_failure_rate` — and the rules keep the document's order (AWS checks criteria in
/// order; so does fleetsim). Nothing about them is named as not mapped.
#[test]
fn every_aws_failure_type_maps_to_its_outcome_metric() {
    let criterion = |t: &str| {
        format!(
            r#"{{"failureType": "{t}", "action": "CANCEL", "thresholdPercentage": 2.5, "minNumberOfExecutedThings": 10}}"#
        )
    };
    let doc = format!(
        r#"{{"abortConfig": {{"criteriaList": [{}, {}, {}, {}]}}}}"#,
        criterion("ALL"),
        criterion("REJECTED"),
        criterion("TIMED_OUT"),
        criterion("FAILED")
    );
    let p = aws(&doc, None);
    let metrics: Vec<&str> = p.aborts.iter().map(|a| a[0].1.as_str()).collect();
    assert_eq!(
        metrics,
        [
            "\"any_failure_rate\"",
            "\"rejected_rate\"",
            "\"timeout_rate\"",
            "\"update_failure_rate\""
        ]
    );
    assert!(p.aborts.iter().all(|a| a[1].1 == "0.025"));
    assert!(!p.not_mapped.join("\n").contains("abortConfig"));
}

/// Times are relative to the scenario's `simulation.start` when importing into it; a start
/// before it opens the rollout at once, and says so.
#[test]
fn scheduling_times_are_relative_to_the_scenario_start() {
    let doc =
        r#"{"schedulingConfig": {"startTime": "2026-03-02T06:30", "endTime": "2026-03-03T06:30"}}"#;
    let start = chrono::DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z")
        .unwrap()
        .timestamp();
    let p = aws(doc, Some(start));
    assert_eq!(
        (key(&p, "start"), key(&p, "window")),
        ("\"390m\"", "\"1d\"")
    );
    assert_eq!(
        key(&p, "rate"),
        "{ per_minute = 1000 }",
        "AWS's default rate"
    );
    let p = aws(
        r#"{"schedulingConfig": {"startTime": "2026-03-01T00:00"}}"#,
        Some(start),
    );
    assert_eq!(key(&p, "start"), "\"0m\"");
    assert!(p.not_mapped[0].contains("before the scenario's simulation.start"));
}

/// Retries that differ by failure type keep their own budgets, `FORCE_CANCEL` is
/// `force-cancel`, and a cron window becomes a UTC notification window.
#[test]
fn per_type_retries_and_the_end_behaviour_map_one_to_one() {
    let p = aws(
        r#"{"jobExecutionsRetryConfig": {"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 1}, {"failureType": "TIMED_OUT", "numberOfRetries": 4}]},
            "schedulingConfig": {"startTime": "2026-03-02T02:00", "endTime": "2026-03-09T02:00", "endBehavior": "FORCE_CANCEL", "maintenanceWindows": [{"startTime": "cron(0 2 ? * SAT *)", "durationInMinutes": 120}]}}"#,
        None,
    );
    assert_eq!(
        key(&p, "retry"),
        "[{ on = \"failed\", attempts = 2 }, { on = \"timed_out\", attempts = 5 }]"
    );
    assert_eq!(key(&p, "end_behavior"), "\"force-cancel\"");
    // The cron window maps to a UTC notification window.
    assert_eq!(
        key(&p, "maintenance"),
        "[{ cron = \"0 2 * * SAT\", duration = \"2h\", zone = \"utc\", applies_to = \"notify\" }]"
    );
}

/// AWS cron is converted field by field; what cannot be is named.
#[test]
fn aws_cron_becomes_posix_cron() {
    assert_eq!(super::aws_cron("cron(30 1 ? * 7 *)").unwrap(), "30 1 * * 6");
    assert_eq!(
        super::aws_cron("cron(0 22 ? * MON-FRI *)").unwrap(),
        "0 22 * * MON-FRI"
    );
    assert_eq!(super::aws_cron("cron(0 3 1 * ? *)").unwrap(), "0 3 1 * *");
    assert!(super::aws_cron("cron(0 3 1 * ? 2027)").is_err());
    assert!(super::aws_cron("rate(5 minutes)").is_err());
    assert!(super::aws_cron("cron(0 3 ? * 2-6 *)").is_err());
}

/// Bad documents are input errors naming the field.
#[test]
fn bad_documents_name_the_field() {
    let bad = |doc: &str| {
        aws_iot_job(&serde_json::from_str(doc).unwrap(), "job.json", None)
            .unwrap_err()
            .to_string()
    };
    assert!(bad("[1]").contains("expected a JSON object"));
    assert!(bad(r#"{"targetSelection": "ALL"}"#).contains("targetSelection"));
    assert!(
        bad(r#"{"timeoutConfig": {"inProgressTimeoutInMinutes": -5}}"#)
            .contains("timeoutConfig.inProgressTimeoutInMinutes")
    );
    assert!(bad(
        r#"{"abortConfig": {"criteriaList": [{"failureType": "FAILED", "action": "PAUSE", "thresholdPercentage": 5, "minNumberOfExecutedThings": 1}]}}"#
    )
    .contains("only abort action is CANCEL"));
    assert!(
        bad(r#"{"schedulingConfig": {"startTime": "next tuesday"}}"#).contains("yyyy-MM-ddTHH:mm")
    );
}

/// `--into`: every policy table of the scenario goes, the kept keys stay, and the rest of the
/// scenario is untouched.
#[test]
fn into_replaces_the_policy_tables_only() {
    let scenario = std::fs::read_to_string("scenarios/seed-staged-rollout.toml").unwrap();
    let p = aws(r#"{"targetSelection": "SNAPSHOT"}"#, None);
    let out = replace_policy(&scenario, &scenario_table(&scenario, "s.toml").unwrap(), &p);
    let table: toml::Table = toml::from_str(&out).unwrap();
    let policy = table["policy"].as_table().unwrap();
    assert_eq!(policy["target"].as_str(), Some("2.4.0"));
    assert_eq!(policy["rollback_to"].as_str(), Some("2.3.0"));
    assert!(
        policy.get("window").is_none(),
        "the scenario's window was the policy's"
    );
    assert_eq!(policy["stage"].as_array().unwrap().len(), 1);
    let before: toml::Table = toml::from_str(&scenario).unwrap();
    for k in before.keys().filter(|k| *k != "policy") {
        assert_eq!(before[k], table[k], "{k} changed");
    }
}

/// Both rate-increase criteria: fleetsim ramps on each crossing of either, as AWS does; the
/// validated rate doubles at 1000 notified and again at 200 succeeded.
#[test]
fn both_rate_criteria_are_kept() {
    let p = aws(
        r#"{"jobExecutionsRolloutConfig": {"exponentialRate": {"baseRatePerMinute": 10, "incrementFactor": 2.0,
            "rateIncreaseCriteria": {"numberOfNotifiedThings": 1000, "numberOfSucceededThings": 200}}}}"#,
        None,
    );
    assert_eq!(
        key(&p, "rate"),
        "{ per_minute = 10, factor = 2.0, every_notified = 1000, every_succeeded = 200, max_per_minute = 1000 }"
    );
    assert!(p.not_mapped.is_empty(), "{:?}", p.not_mapped);
    let text = std::fs::read_to_string("scenarios/seed-staged-rollout.toml").unwrap();
    let merged = replace_policy(&text, &scenario_table(&text, "s.toml").unwrap(), &p);
    let sc = crate::scenario::load_str(&merged, "merged", Path::new("scenarios"), &[]).unwrap();
    let at = |n, s| sc.policy.rate.per_minute_at(n, s);
    assert_eq!(
        (
            at(0, 0),
            at(1000, 0),
            at(0, 200),
            at(1000, 200),
            at(2000, 400)
        ),
        (10.0, 20.0, 20.0, 40.0, 160.0)
    );
}

/// A Mender deployment with three phases (10 %, 40 %, the rest) opening a day and three days
/// after the first: cumulative shares, `open_at` from the first phase's start, which is the
/// rollout's start relative to the scenario's; retries as tries; `max_devices`; what the
/// deployment targets is named as not mapped.
#[test]
fn mender_phases_become_timed_stages() {
    let doc = std::fs::read_to_string("tests/data/import/mender-deployment.json").unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z")
        .unwrap()
        .timestamp();
    let p = mender(&serde_json::from_str(&doc).unwrap(), "m.json", Some(start)).unwrap();
    assert_eq!(key(&p, "start"), "\"6h\"");
    assert_eq!(key(&p, "retry"), "{ attempts = 3 }");
    assert_eq!(key(&p, "max_devices"), "9000");
    let stage = |i: usize, k: &str| {
        p.stages[i]
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(p.stages.len(), 3);
    assert_eq!(
        (
            stage(0, "percent"),
            stage(1, "percent"),
            stage(2, "percent")
        ),
        (Some("10.0".into()), Some("50.0".into()), Some("100".into()))
    );
    assert_eq!(
        (
            stage(0, "open_at"),
            stage(1, "open_at"),
            stage(2, "open_at")
        ),
        (None, Some("\"1d\"".into()), Some("\"3d\"".into()))
    );
    let notes = p.not_mapped.join("\n");
    assert!(
        notes.contains("artifact_name") && notes.contains("devices"),
        "{notes}"
    );
    let bad = |doc: &str| {
        mender(&serde_json::from_str(doc).unwrap(), "m.json", None)
            .unwrap_err()
            .to_string()
    };
    assert!(bad(r#"{"phases": [{"batch_size": 60}, {"batch_size": 50, "start_ts": "2026-01-01T00:00:00Z"}, {"start_ts": "2026-01-02T00:00:00Z"}]}"#).contains("more than 100 %"));
    assert!(
        bad(r#"{"phases": [{"batch_size": 10}, {"start_ts": "soon"}]}"#)
            .contains("phases[1].start_ts")
    );
    assert!(bad(r#"{"phases": [{"batch_size": 10}, {}]}"#).contains("needs a start_ts"));
}

fn adu(doc: &str, start: Option<i64>) -> Policy {
    azure_adu(&serde_json::from_str(doc).unwrap(), "adu.json", start).unwrap()
}

/// `(limit key, limit, per, action)` of each abort rule, in order.
fn rules(p: &Policy) -> Vec<(String, String, String, String)> {
    p.aborts
        .iter()
        .map(|a| {
            let get = |k: &str| a.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
            assert_eq!(get("metric").as_deref(), Some("\"any_failure_rate\""));
            let (limit, value) = a[1].clone();
            (limit, value, get("per").unwrap(), get("action").unwrap())
        })
        .collect()
}

/// The documented deployment: both failure conditions become rollback rules (the percentage
/// as a fraction of the devices notified, the count as `max_count`), the group is one stage of
/// every device, the start is relative to the scenario's, and every other field is named.
#[test]
fn an_adu_deployment_maps_field_by_field() {
    let doc = std::fs::read_to_string("tests/data/import/azure-adu-deployment.json").unwrap();
    let start = crate::scenario::validate::unix_seconds("2026-03-02T00:00:00Z").ok();
    let p = adu(&doc, start);
    let roll = |l: &str, v: &str| {
        (
            l.to_string(),
            v.to_string(),
            "\"notified\"".to_string(),
            "\"rollback\"".to_string(),
        )
    };
    assert_eq!(
        rules(&p),
        [roll("threshold", "0.05"), roll("max_count", "20")]
    );
    assert_eq!(key(&p, "start"), "\"6h\"");
    assert_eq!(p.stages.len(), 1);
    assert_eq!(
        p.stages[0][1..],
        [
            ("select".into(), "{}".into()),
            ("percent".into(), "100".into())
        ]
    );
    assert!(
        !p.keys.iter().any(|(k, _)| k == "rate"),
        "ADU notifies the group at once"
    );
    let notes = p.not_mapped.join("\n");
    for field in [
        "deploymentId",
        "groupId",
        "update:",
        "rollbackPolicy.update",
        "isCanceled",
        "isRetried",
        "isCloudInitiatedRollback",
    ] {
        assert!(notes.contains(field), "{field} not named in:\n{notes}");
    }
    // Read alone, the deployment starts at its own time: no `start`.
    assert!(!adu(&doc, None).keys.iter().any(|(k, _)| k == "start"));
    // Into the fixture, the policy validates and its rules are the two limits.
    let text = std::fs::read_to_string("scenarios/seed-staged-rollout.toml").unwrap();
    let merged = replace_policy(&text, &scenario_table(&text, "s.toml").unwrap(), &p);
    let sc = crate::scenario::load_str(&merged, "merged", Path::new("scenarios"), &[]).unwrap();
    assert_eq!(sc.policy.aborts.len(), 2);
}

/// Either failure condition alone is one rule; unknown fields are named, not dropped.
#[test]
fn an_adu_failure_condition_alone_is_one_rule() {
    let only = |failure: &str| {
        adu(
            &format!(
                r#"{{"rollbackPolicy": {{"failure": {failure}}}, "downloadSecurity": "https"}}"#
            ),
            None,
        )
    };
    let pct = only(r#"{"devicesFailedPercentage": 12.5}"#);
    assert_eq!(rules(&pct).len(), 1);
    assert_eq!(
        (rules(&pct)[0].0.as_str(), rules(&pct)[0].1.as_str()),
        ("threshold", "0.125")
    );
    let count = only(r#"{"devicesFailedCount": 3, "devicesFailedRatio": 1}"#);
    assert_eq!(rules(&count).len(), 1);
    assert_eq!(
        (rules(&count)[0].0.as_str(), rules(&count)[0].1.as_str()),
        ("max_count", "3")
    );
    let notes = count.not_mapped.join("\n");
    assert!(
        notes.contains("downloadSecurity")
            && notes.contains("rollbackPolicy.failure.devicesFailedRatio"),
        "{notes}"
    );
    // No rollback policy: no rule, and the deployment still runs as one stage.
    let none = adu(r#"{"groupId": "g"}"#, None);
    assert!(none.aborts.is_empty());
    assert!(
        !none.text(None).contains("rollback_to"),
        "no rollback: nothing to name"
    );
    assert!(only(r#"{"devicesFailedCount": 3}"#)
        .text(None)
        .contains("# rollback_to = "));
}

/// Bad ADU documents are input errors naming the file and the key path.
#[test]
fn bad_adu_documents_name_the_key() {
    let bad = |doc: &str| {
        azure_adu(&serde_json::from_str(doc).unwrap(), "adu.json", None)
            .unwrap_err()
            .to_string()
    };
    let has = |doc: &str, what: &[&str]| {
        let e = bad(doc);
        assert!(e.contains("adu.json"), "{e}");
        for w in what {
            assert!(e.contains(w), "`{w}` not in: {e}");
        }
    };
    has("[1]", &["expected a JSON object"]);
    has(
        r#"{"rollbackPolicy": {"failure": {"devicesFailedPercentage": 150}}}"#,
        &[
            "rollbackPolicy.failure.devicesFailedPercentage",
            "between 0 and 100",
        ],
    );
    has(
        r#"{"rollbackPolicy": {"failure": {"devicesFailedPercentage": -1}}}"#,
        &["between 0 and 100"],
    );
    has(
        r#"{"rollbackPolicy": {"failure": {"devicesFailedCount": "ten"}}}"#,
        &["rollbackPolicy.failure.devicesFailedCount", "whole number"],
    );
    has(
        r#"{"rollbackPolicy": {"failure": {"devicesFailedCount": 0}}}"#,
        &["at least 1"],
    );
    has(
        r#"{"rollbackPolicy": {"failure": {}}}"#,
        &["needs devicesFailedPercentage or devicesFailedCount"],
    );
    has(
        r#"{"rollbackPolicy": {"update": {}}}"#,
        &["rollbackPolicy.failure"],
    );
    has(r#"{"rollbackPolicy": 5}"#, &["rollbackPolicy"]);
    has(
        r#"{"startDateTime": "tomorrow"}"#,
        &["startDateTime", "RFC 3339"],
    );
    has(r#"{"isCanceled": "no"}"#, &["isCanceled", "true or false"]);
}

fn hawkbit(doc: &str, start: Option<i64>) -> Policy {
    hawkbit::rollout(&serde_json::from_str(doc).unwrap(), "rollout.json", start).unwrap()
}

fn hawkbit_err(doc: &str) -> String {
    match hawkbit::rollout(&serde_json::from_str(doc).unwrap(), "rollout.json", None) {
        Ok(p) => panic!("accepted: {p:?}"),
        Err(e) => e.to_string(),
    }
}

fn group_key<'a>(p: &'a Policy, k: &str) -> &'a str {
    p.groups
        .iter()
        .find(|(x, _)| x == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no `{k}` in {:?}", p.groups))
}

/// The documented rollout shape (`MgmtRolloutRestRequestBodyPost`'s example with our values):
/// five equal groups judged at 80 % finished / 5 % in error, time-forced two days after its
/// `startAt` (06:00 on the scenario's first day).
#[test]
fn a_hawkbit_rollout_becomes_groups_and_an_action_type() {
    let doc = std::fs::read_to_string("tests/data/import/hawkbit-rollout.json").unwrap();
    let march_2 = 1_772_409_600; // 2026-03-02T00:00:00Z
    let p = hawkbit(&doc, Some(march_2));
    assert_eq!(key(&p, "start"), "\"6h\"");
    assert_eq!(key(&p, "action_type"), "\"timeforced\"");
    assert_eq!(key(&p, "force_after"), "\"2d\"");
    assert_eq!(group_key(&p, "count"), "5");
    assert_eq!(group_key(&p, "success_threshold"), "0.8");
    assert_eq!(group_key(&p, "error_threshold"), "0.05");
    assert_eq!(group_key(&p, "error_action"), "\"pause\"");
    for field in [
        "name",
        "description",
        "targetFilterQuery",
        "distributionSetId",
        "weight",
    ] {
        assert!(
            p.not_mapped
                .iter()
                .any(|n| n.starts_with(&format!("{field}:"))),
            "{field}: {:?}",
            p.not_mapped
        );
    }
}

/// hawkBit's server defaults: without condition objects both thresholds are 50 %
/// (`RolloutGroupConditionBuilder.withDefaults`), one group, a forced action; without
/// `startAt` the rollout waits for a manual start, which the rehearsal makes at once. An
/// object without `expression` means 100 %.
#[test]
fn hawkbit_defaults_are_the_servers() {
    let p = hawkbit(
        r#"{ "name": "r", "distributionSetId": 1, "targetFilterQuery": "id==*" }"#,
        None,
    );
    assert_eq!(key(&p, "action_type"), "\"forced\"");
    assert_eq!(group_key(&p, "count"), "1");
    assert_eq!(group_key(&p, "success_threshold"), "0.5");
    assert_eq!(group_key(&p, "error_threshold"), "0.5");
    assert!(p.not_mapped.iter().any(|n| n.starts_with("startAt")));
    let p = hawkbit(
        r#"{ "name": "r", "amountGroups": 2, "successCondition": { "condition": "THRESHOLD" },
             "type": "downloadonly" }"#,
        None,
    );
    assert_eq!(group_key(&p, "success_threshold"), "1.0");
    assert_eq!(key(&p, "action_type"), "\"download-only\"");
    // The user consent flow holds even forced actions: fleetsim asks owners under `soft`.
    let p = hawkbit(r#"{ "name": "r", "confirmationRequired": true }"#, None);
    assert_eq!(key(&p, "action_type"), "\"soft\"");
    // A time-forced rollout without a force time is forced from the start (hawkBit stores 0).
    let p = hawkbit(
        r#"{ "type": "timeforced", "startAt": 1772431200000 }"#,
        None,
    );
    assert_eq!(key(&p, "action_type"), "\"forced\"");
}

/// A `groups` list: each group a stage with its own conditions (the rollout's where it gives
/// none), its `targetPercentage` added to the cumulative `percent`, and a `PAUSE` success
/// action holding the next group for the operator.
#[test]
fn hawkbit_groups_become_stages_with_their_conditions() {
    let doc = std::fs::read_to_string("tests/data/import/hawkbit-rollout-groups.json").unwrap();
    let p = hawkbit(&doc, None);
    assert!(p.groups.is_empty());
    let stage = |i: usize, k: &str| {
        p.stages[i]
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(stage(0, "name").as_deref(), Some("\"Group1\""));
    assert_eq!(stage(0, "percent").as_deref(), Some("20.0"));
    assert_eq!(stage(0, "success_threshold").as_deref(), Some("0.9"));
    assert_eq!(stage(0, "error_threshold").as_deref(), Some("0.3"));
    assert_eq!(stage(0, "approval"), None);
    assert_eq!(stage(1, "percent").as_deref(), Some("100"));
    assert_eq!(stage(1, "success_threshold").as_deref(), Some("0.5"));
    assert_eq!(stage(1, "error_threshold").as_deref(), Some("0.8"));
    assert_eq!(stage(1, "approval").as_deref(), Some("\"operator\""));
    assert!(p
        .not_mapped
        .iter()
        .any(|n| n.starts_with("groups[0].targetFilterQuery")));
    assert!(p
        .not_mapped
        .iter()
        .any(|n| n.starts_with("confirmationRequired (true)")));
    // Groups that fall short of every device: the last takes the rest, with a note.
    let p = hawkbit(
        r#"{ "groups": [ { "name": "a", "targetPercentage": 10 }, { "name": "b", "targetPercentage": 30 } ] }"#,
        None,
    );
    assert_eq!(p.stages[1][2].1, "100");
    assert!(p.not_mapped.iter().any(|n| n.contains("takes the rest")));
}

#[test]
fn bad_hawkbit_documents_name_the_field() {
    for (doc, field, what) in [
        (
            r#"{ "amountGroups": 2, "groups": [ { "name": "a" } ] }"#,
            "amountGroups",
            "not both",
        ),
        (
            r#"{ "type": "hard" }"#,
            "type",
            "forced, soft, timeforced or downloadonly",
        ),
        (
            r#"{ "successCondition": { "condition": "MANUAL" } }"#,
            "successCondition.condition",
            "THRESHOLD",
        ),
        (
            r#"{ "errorCondition": { "condition": "THRESHOLD", "expression": "ten" } }"#,
            "errorCondition.expression",
            "not a percentage",
        ),
        (
            r#"{ "errorCondition": { "condition": "THRESHOLD", "expression": "120" } }"#,
            "errorCondition.expression",
            "0 to 100",
        ),
        (
            r#"{ "errorAction": { "action": "ROLLBACK" } }"#,
            "errorAction.action",
            "PAUSE",
        ),
        (
            r#"{ "groups": [ { "name": "a", "targetPercentage": 0 } ] }"#,
            "groups[0].targetPercentage",
            "1 to 100",
        ),
        (r#"{ "groups": [] }"#, "groups", "non-empty"),
        (r#"{ "amountGroups": 0 }"#, "amountGroups", "1 to 250"),
        (r#"{ "startAt": "tomorrow" }"#, "startAt", "whole number"),
    ] {
        let err = hawkbit_err(doc);
        assert!(err.contains(field) && err.contains(what), "{doc}: {err}");
    }
}
