//! An Eclipse hawkBit rollout — the `POST /rest/v1/rollouts` body of its Management API — as
//! fleetsim's `[policy]` (SPEC §3).
//!
//! hawkBit cuts a rollout into groups that run one after another. A group starts the next
//! when its `successCondition` (a THRESHOLD percentage of the group's targets that finished)
//! is met or when every action of it has ended; its `errorCondition` (a THRESHOLD percentage
//! of the group's targets in error, strictly exceeded) triggers the `errorAction` (PAUSE).
//! Both percentages are over the *whole* group, which is what fleetsim's hawkBit groups
//! simulate. `amountGroups` becomes `[policy.groups]`; a `groups` list becomes one
//! `[[policy.stage]]` per group with its own thresholds (its `targetPercentage` summed into
//! fleetsim's cumulative `percent`). Defaults follow hawkBit's server: without a condition
//! object the thresholds are 50 % (`RolloutGroupConditionBuilder.withDefaults`), an object
//! without `expression` means 100, the action type is `forced`, and a group's missing
//! conditions are the rollout's.

use super::{count, duration, field, input, number, object, Policy};
use crate::error::Result;
use serde_json::Value;

/// Rollout fields that name the rollout or what it deploys to whom: not how it proceeds.
const WHO: &[(&str, &str)] = &[
    ("name", "it names the rollout"),
    ("description", "it describes the rollout"),
    (
        "targetFilterQuery",
        "the fleet is the scenario's populations (an RSQL filter is not translated)",
    ),
    (
        "distributionSetId",
        "the release rolled out is the scenario's `target`",
    ),
    (
        "weight",
        "it orders a device's actions across rollouts; one rollout is rehearsed",
    ),
];

/// One hawkBit group as it becomes a fleetsim stage.
struct Group {
    name: String,
    /// The group's share of the rollout's targets, percent (hawkBit `targetPercentage`).
    percent: f64,
    success: f64,
    error: f64,
    /// `successAction = PAUSE` on the group *before* this one: the operator opens it.
    approval: bool,
}

/// The rollout-level (or a group's) conditions, in percent, with whether the success action
/// pauses.
#[derive(Clone, Copy)]
struct Conditions {
    success: f64,
    error: f64,
    pause_after: bool,
}

/// A hawkBit `POST /rest/v1/rollouts` body as a policy.
pub(crate) fn rollout(doc: &Value, file: &str, start_unix_s: Option<i64>) -> Result<Policy> {
    let fields = object(doc, file, "a hawkBit POST /rest/v1/rollouts body")?;
    let mut p = Policy::from(format!("{file} (Eclipse hawkBit)"));
    for key in fields.keys() {
        let known = [
            "amountGroups",
            "groups",
            "type",
            "forcetime",
            "startAt",
            "confirmationRequired",
            "successCondition",
            "successAction",
            "errorCondition",
            "errorAction",
            "dynamic",
            "dynamicGroupTemplate",
        ];
        if let Some((_, why)) = WHO.iter().find(|(k, _)| k == key) {
            p.not_mapped.push(format!("{key}: {why}"));
        } else if !known.contains(&key.as_str()) {
            p.not_mapped.push(format!(
                "{key}: not a rollout field fleetsim knows (it reads amountGroups, groups, type, forcetime, startAt, confirmationRequired and the success and error conditions and actions)"
            ));
        }
    }
    if field(doc, "dynamic").as_bool() == Some(true) {
        p.not_mapped.push("dynamic: hawkBit's experimental dynamic groups (created for devices that match later) are not simulated; the rehearsal plays the static groups over the devices that match at the start".into());
    }
    let opens = start(doc, file, start_unix_s, &mut p)?;
    action_type(doc, file, opens, &mut p)?;
    let rollout = conditions(doc, file, "", None)?;
    match (field(doc, "groups"), field(doc, "amountGroups")) {
        (Value::Null, amount) => {
            let n = match amount {
                Value::Null => 1,
                v => count(v, file, "amountGroups")?,
            };
            if !(1..=250).contains(&n) {
                return Err(input(
                    file,
                    "amountGroups",
                    None,
                    format!("{n} groups: fleetsim simulates 1 to 250"),
                ));
            }
            equal_groups(n, rollout, &mut p);
        }
        (groups, Value::Null) => listed_groups(groups, file, rollout, &mut p)?,
        (_, _) => {
            return Err(input(
                file,
                "amountGroups",
                None,
                "give either amountGroups or groups, not both (hawkBit refuses both)".into(),
            ))
        }
    }
    Ok(p)
}

/// `startAt` (epoch milliseconds) as `start`, relative to the scenario's `simulation.start`
/// (else the rollout's own start). Returns the rollout's opening, Unix seconds, if known.
fn start(
    doc: &Value,
    file: &str,
    start_unix_s: Option<i64>,
    p: &mut Policy,
) -> Result<Option<i64>> {
    let at = match field(doc, "startAt") {
        Value::Null => {
            p.not_mapped.push("startAt (absent): hawkBit waits for a manual start; the rehearsal starts the rollout at once".into());
            return Ok(start_unix_s);
        }
        v => (count(v, file, "startAt")? / 1000) as i64,
    };
    let origin = start_unix_s.unwrap_or(at);
    if at < origin {
        p.not_mapped.push(
            "startAt: before the scenario's simulation.start; the rollout opens at the start"
                .into(),
        );
    } else if at > origin {
        p.keys.push(("start".into(), duration((at - origin) / 60)));
    }
    Ok(Some(at.max(origin)))
}

/// `type` (default `forced`), `forcetime` and `confirmationRequired` as `action_type` and
/// `force_after`.
fn action_type(doc: &Value, file: &str, opens: Option<i64>, p: &mut Policy) -> Result<()> {
    let kind = match field(doc, "type") {
        Value::Null => "forced",
        Value::String(s) => match s.as_str() {
            "forced" | "soft" | "timeforced" | "downloadonly" => s.as_str(),
            other => {
                return Err(input(
                    file,
                    "type",
                    None,
                    format!("`{other}` is not a hawkBit action type: forced, soft, timeforced or downloadonly"),
                ))
            }
        },
        v => {
            return Err(input(
                file,
                "type",
                None,
                format!("expected a string (forced, soft, timeforced or downloadonly), found {v}"),
            ))
        }
    };
    let confirm = match field(doc, "confirmationRequired") {
        Value::Null => false,
        v => v.as_bool().ok_or_else(|| {
            input(
                file,
                "confirmationRequired",
                None,
                format!("expected true or false, found {v}"),
            )
        })?,
    };
    let forcetime = match field(doc, "forcetime") {
        Value::Null => None,
        v => Some((count(v, file, "forcetime")? / 1000) as i64),
    };
    if confirm && kind != "forced" {
        p.not_mapped.push("confirmationRequired (true): the owners' confirmation is the populations' `consent` (delay, deny); give the scenario's populations one, or the soft actions install at once".into());
    }
    let mut force_after = None;
    let written = match kind {
        "forced" if confirm => {
            p.not_mapped.push("confirmationRequired (true) with type forced: hawkBit's user consent flow holds even a forced action for confirmation; fleetsim asks the owners (population `consent`) under action_type \"soft\", which is used".into());
            "soft"
        }
        "downloadonly" => "download-only",
        "timeforced" => match (forcetime, opens) {
            (Some(f), Some(o)) if f > o => {
                force_after = Some(duration((f - o + 59) / 60));
                "timeforced"
            }
            (Some(_), Some(_)) | (None, _) => {
                p.not_mapped.push("forcetime: at or before the rollout's start (hawkBit stores 0 when absent), so the time-forced actions are forced from the start".into());
                "forced"
            }
            (Some(_), None) => {
                p.not_mapped.push("forcetime: the rollout has no startAt to measure it from; the actions are taken as soft".into());
                "soft"
            }
        },
        other => other,
    };
    if forcetime.is_some() && kind != "timeforced" {
        p.not_mapped.push(format!(
            "forcetime: hawkBit uses it only for timeforced actions, not {kind}"
        ));
    }
    p.keys
        .push(("action_type".into(), format!("\"{written}\"")));
    if let Some(f) = force_after {
        p.keys.push(("force_after".into(), f));
    }
    Ok(())
}

/// A condition object's THRESHOLD `expression` as a percentage: hawkBit's default 50 without
/// the object (`default`: the rollout's, for a group), 100 without an expression.
fn threshold(v: &Value, file: &str, key: &str, default: f64) -> Result<f64> {
    let Some(obj) = v.as_object() else {
        return match v {
            Value::Null => Ok(default),
            _ => Err(input(
                file,
                key,
                None,
                format!("expected {{ \"condition\": \"THRESHOLD\", \"expression\": \"50\" }}, found {v}"),
            )),
        };
    };
    match obj.get("condition").and_then(Value::as_str) {
        None | Some("THRESHOLD") => {}
        Some(other) => {
            return Err(input(
                file,
                &format!("{key}.condition"),
                None,
                format!("`{other}`: hawkBit's only condition is THRESHOLD"),
            ))
        }
    }
    let pct = match obj.get("expression") {
        None | Some(Value::Null) => 100.0,
        Some(Value::String(s)) => s.trim().parse::<f64>().map_err(|_| {
            input(
                file,
                &format!("{key}.expression"),
                None,
                format!(
                    "`{s}` is not a percentage (hawkBit's THRESHOLD is a whole number, 0 to 100)"
                ),
            )
        })?,
        Some(e) => number(e, file, &format!("{key}.expression"))?,
    };
    if !(0.0..=100.0).contains(&pct) {
        return Err(input(
            file,
            &format!("{key}.expression"),
            None,
            format!("{pct}: a percentage of the group, 0 to 100"),
        ));
    }
    Ok(pct)
}

/// The success and error conditions and actions of the rollout (`prefix` empty) or of a
/// group (`prefix` `groups[i].`), a group's missing ones being the rollout's (`inherit`).
fn conditions(
    v: &Value,
    file: &str,
    prefix: &str,
    inherit: Option<Conditions>,
) -> Result<Conditions> {
    let base = inherit.unwrap_or(Conditions {
        success: 50.0,
        error: 50.0,
        pause_after: false,
    });
    let success = threshold(
        field(v, "successCondition"),
        file,
        &format!("{prefix}successCondition"),
        base.success,
    )?;
    let error = threshold(
        field(v, "errorCondition"),
        file,
        &format!("{prefix}errorCondition"),
        base.error,
    )?;
    let action = |key: &str, allowed: &[&str]| -> Result<Option<String>> {
        let v = field(v, key);
        if v.is_null() {
            return Ok(None);
        }
        match v.get("action").and_then(Value::as_str) {
            Some(a) if allowed.contains(&a) => Ok(Some(a.to_string())),
            None => Ok(None),
            Some(a) => Err(input(
                file,
                &format!("{prefix}{key}.action"),
                None,
                format!("`{a}`: hawkBit's {key} is {}", allowed.join(" or ")),
            )),
        }
    };
    let pause_after = match action("successAction", &["NEXTGROUP", "PAUSE"])? {
        Some(a) => a == "PAUSE",
        None => base.pause_after,
    };
    // PAUSE is hawkBit's only error action, and fleetsim's default `error_action`.
    action("errorAction", &["PAUSE"])?;
    Ok(Conditions {
        success,
        error,
        pause_after,
    })
}

/// `amountGroups` equal groups with the rollout's conditions: `[policy.groups]` when no
/// group pauses, else one stage per group (a pause is the next stage's operator approval).
fn equal_groups(n: u64, c: Conditions, p: &mut Policy) {
    if !c.pause_after {
        p.groups = vec![
            ("count".into(), n.to_string()),
            ("select".into(), "{}".into()),
            ("success_threshold".into(), fraction(c.success)),
            ("error_threshold".into(), fraction(c.error)),
            ("error_action".into(), "\"pause\"".into()),
        ];
        return;
    }
    let groups: Vec<Group> = (1..=n)
        .map(|k| Group {
            name: format!("group-{k}"),
            percent: 100.0 / n as f64,
            success: c.success,
            error: c.error,
            approval: k > 1,
        })
        .collect();
    push_stages(&groups, p);
}

/// A `groups` list: one stage per group, its `targetPercentage` (default 100) of the
/// rollout's targets added to the cumulative `percent` (hawkBit caps a group at what remains;
/// the last group takes the rest, as hawkBit requires every target to be in a group).
fn listed_groups(v: &Value, file: &str, rollout: Conditions, p: &mut Policy) -> Result<()> {
    let list = v.as_array().filter(|l| !l.is_empty()).ok_or_else(|| {
        input(
            file,
            "groups",
            None,
            "expected a non-empty list of groups".into(),
        )
    })?;
    if list.len() > 250 {
        return Err(input(
            file,
            "groups",
            None,
            format!("{} groups: fleetsim simulates 1 to 250", list.len()),
        ));
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut pause_next = false;
    for (i, g) in list.iter().enumerate() {
        let prefix = format!("groups[{i}].");
        for key in g.as_object().map(|o| o.keys()).into_iter().flatten() {
            match key.as_str() {
                "name"
                | "targetPercentage"
                | "targetFilterQuery"
                | "confirmationRequired"
                | "successCondition"
                | "successAction"
                | "errorCondition"
                | "errorAction" => {}
                "description" => p
                    .not_mapped
                    .push(format!("{prefix}description: it describes the group")),
                k => p.not_mapped.push(format!(
                    "{prefix}{k}: not a rollout group field fleetsim knows"
                )),
            }
        }
        let name = match field(g, "name") {
            Value::String(s) if !s.is_empty() => s.clone(),
            _ => format!("group-{}", i + 1),
        };
        let pct = match field(g, "targetPercentage") {
            Value::Null => 100.0,
            t => number(t, file, &format!("{prefix}targetPercentage"))?,
        };
        if !(1.0..=100.0).contains(&pct) {
            return Err(input(
                file,
                &format!("{prefix}targetPercentage"),
                None,
                format!("{pct}: hawkBit takes 1 to 100"),
            ));
        }
        if !field(g, "targetFilterQuery").is_null() {
            p.not_mapped.push(format!("{prefix}targetFilterQuery: the group takes its share of every targeted device (an RSQL filter is not translated)"));
        }
        if !field(g, "confirmationRequired").is_null() {
            p.not_mapped.push(format!("{prefix}confirmationRequired: owners are asked per population (`consent`), not per group"));
        }
        let c = conditions(g, file, &prefix, Some(rollout))?;
        groups.push(Group {
            name,
            percent: pct,
            success: c.success,
            error: c.error,
            approval: pause_next,
        });
        pause_next = c.pause_after;
    }
    push_stages(&groups, p);
    Ok(())
}

/// The groups as stages with cumulative `percent`; a group that adds no devices is left out
/// (with a note) and the last one takes the rest.
fn push_stages(groups: &[Group], p: &mut Policy) {
    let mut total = 0.0f64;
    for (i, g) in groups.iter().enumerate() {
        let last = i + 1 == groups.len();
        if total >= 100.0 {
            p.not_mapped.push(format!(
                "group `{}`: the groups before it already take every device, so it is empty",
                g.name
            ));
            continue;
        }
        total = (total + g.percent).min(100.0);
        if last && total < 100.0 {
            p.not_mapped.push(format!(
                "group `{}`: takes the rest of the devices, as hawkBit requires every target to be in a group",
                g.name
            ));
            total = 100.0;
        }
        let mut stage = vec![
            (
                "name".into(),
                toml::Value::String(g.name.clone()).to_string(),
            ),
            ("select".into(), "{}".into()),
            (
                "percent".into(),
                if total >= 100.0 {
                    "100".into()
                } else {
                    format!("{total:?}")
                },
            ),
            ("success_threshold".into(), fraction(g.success)),
            ("error_threshold".into(), fraction(g.error)),
            ("error_action".into(), "\"pause\"".into()),
        ];
        if g.approval {
            stage.push(("approval".into(), "\"operator\"".into()));
        }
        p.stages.push(stage);
    }
}

/// A percentage as fleetsim's share, 0 to 1.
fn fraction(pct: f64) -> String {
    format!("{:?}", pct / 100.0)
}
