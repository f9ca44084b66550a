//! Semantic validation of `[policy]`: stages, gates, checks, abort rules, and the version rules
//! the target imposes on the fleet.

use super::collect::Ctx;
use super::dist::{Dist, Unit};
use super::model::*;
use super::raw::*;
use super::selector::Selector;
use super::versions::version_index;
use crate::engine::time::{secs_to_ms, SimTime, HOUR_MS};
use crate::scenario::versions::{downgrade_refused, upgrade_path};

/// The result metrics: counts of devices by their latest result, which change when a result
/// arrives. A continuous abort rule reads only these, and only these take a gate's
/// `denominator = "cohort"`.
const RESULT_METRICS: [ObservedMetric; 6] = [
    ObservedMetric::UpdateFailureRate,
    ObservedMetric::UpdateSuccessRate,
    ObservedMetric::TimeoutRate,
    ObservedMetric::RevertRate,
    ObservedMetric::RejectedRate,
    ObservedMetric::AnyFailureRate,
];

/// Metrics that devices still on the old version also produce, so a cohort can be compared
/// with them (canary analysis).
const HAS_CONTROL: [ObservedMetric; 4] = [
    ObservedMetric::SilentRate,
    ObservedMetric::CrashRate,
    ObservedMetric::TelemetryGapRate,
    ObservedMetric::CommandFailureRate,
];

pub fn policy(
    pc: &mut Ctx,
    raw: &RawScenario,
    versions: &[Release],
    pops: &[Population],
    horizon: SimTime,
    start_unix_s: i64,
) -> Option<Policy> {
    let p = &raw.policy;
    let target = resolve_release(pc, "policy.target", &p.target, versions);
    let rollback_to = rollback_to(pc, p, versions, target);
    if let Some(t) = target {
        check_reachable(pc, p, versions, pops, t);
    }
    let start = SimTime::from_secs_f64(p.start.map_or(0.0, |d| d.0));
    let window_end = p.window.map_or(horizon, |w| start.plus(secs_to_ms(w.0)));
    if start >= horizon {
        pc.err(
            "policy.start",
            None,
            "the rollout starts after the simulation horizon",
        );
    }
    let rate = rate(pc, p);
    let max_in_flight = max_in_flight(pc, p);
    let max_devices = max_devices(pc, p);
    let retry = retry(pc, p);
    let quarantine_after = quarantine(pc, p);
    let preflight = preflight(pc, p);
    let maintenance = super::validate_disruption::windows(pc, p, start_unix_s, horizon);
    let disruption_budget = super::validate_disruption::budget(pc, p, pops);
    let operator = operator(pc, p);
    let stages = stages(pc, p, versions, pops);
    let aborts = aborts(pc, p);
    let shadow_gates = shadow_gates(pc, p, &stages);
    if pc.has_errors() {
        return None;
    }
    Some(Policy {
        target: target?,
        rollback_to,
        start,
        window_end,
        end_behavior: end_behavior(pc, p),
        action_type: p
            .action_type
            .as_ref()
            .map_or(ActionType::default(), |a| *a.get_ref()),
        force_at: force_at(pc, p, start, horizon),
        selection: p.selection,
        rate,
        max_in_flight,
        max_devices,
        timeout_ms: p.timeout.map(|t| secs_to_ms(t.0).max(1)),
        retry,
        quarantine_after,
        preflight,
        maintenance,
        disruption_budget,
        skip_migrations: p.skip_migrations,
        operator,
        stages,
        aborts,
        shadow_gates,
    })
}

/// `policy.end_behavior`, which acts at the close of a `window` (AWS applies `endBehavior`
/// only to a job with an `endTime`).
fn end_behavior(pc: &mut Ctx, p: &RawPolicy) -> EndBehavior {
    let Some(e) = &p.end_behavior else {
        return EndBehavior::default();
    };
    if p.window.is_none() {
        pc.err(
            "policy.end_behavior",
            Some(e.span()),
            "acts when the rollout window closes, and the policy gives no `window`: add one (AWS applies endBehavior only to a job with an endTime) or leave end_behavior out",
        );
    }
    *e.get_ref()
}

/// `policy.force_after` (since the rollout start): given with `action_type = "timeforced"`,
/// and only with it.
fn force_at(pc: &mut Ctx, p: &RawPolicy, start: SimTime, horizon: SimTime) -> Option<SimTime> {
    let timeforced = p
        .action_type
        .as_ref()
        .is_some_and(|a| *a.get_ref() == ActionType::Timeforced);
    match (&p.force_after, timeforced) {
        (Some(f), true) => {
            let at = start.plus(secs_to_ms(f.get_ref().0));
            if at >= horizon {
                pc.err(
                    "policy.force_after",
                    Some(f.span()),
                    "the update turns forced after the simulation horizon: shorten force_after, or use action_type = \"soft\"",
                );
            }
            Some(at)
        }
        (None, true) => {
            let span = p.action_type.as_ref().map(|a| a.span());
            pc.err(
                "policy.action_type",
                span,
                "\"timeforced\" turns forced at `force_after`: add force_after (e.g. \"3d\", since the rollout start; hawkBit's forcetime)",
            );
            None
        }
        (Some(f), false) => {
            pc.err(
                "policy.force_after",
                Some(f.span()),
                "applies only with action_type = \"timeforced\": set that, or leave force_after out",
            );
            None
        }
        (None, false) => None,
    }
}

/// `policy.rollback_to`: a version older than the target that the target can downgrade to.
fn rollback_to(
    pc: &mut Ctx,
    p: &RawPolicy,
    versions: &[Release],
    target: Option<u8>,
) -> Option<u8> {
    let rollback_to = p
        .rollback_to
        .as_ref()
        .and_then(|r| resolve_release(pc, "policy.rollback_to", r, versions));
    if let (Some(t), Some(r)) = (target, rollback_to) {
        let span = p.rollback_to.as_ref().map(|x| x.span());
        if r >= t {
            pc.err(
                "policy.rollback_to",
                span,
                format!(
                    "{} is not older than the target {}: a rollback goes to an earlier version",
                    versions[r as usize].label, versions[t as usize].label
                ),
            );
        } else if downgrade_refused(versions, t, r) {
            pc.err("policy.rollback_to", span, format!("the target {} cannot downgrade to {}: a release in between has `downgrade = \"unsafe\"`", versions[t as usize].label, versions[r as usize].label));
        }
    }
    rollback_to
}

/// `policy.quarantine.after_failures` (1 to 100); no quarantine when not written.
fn quarantine(pc: &mut Ctx, p: &RawPolicy) -> Option<u32> {
    let n = &p.quarantine.as_ref()?.after_failures;
    if !(1..=100).contains(n.get_ref()) {
        pc.err(
            "policy.quarantine.after_failures",
            Some(n.span()),
            format!(
                "{} is outside 1..100: the failed attempts after which a device goes to support instead of being retried",
                n.get_ref()
            ),
        );
    }
    Some(*n.get_ref())
}

/// `policy.max_devices`; no limit when not written.
fn max_devices(pc: &mut Ctx, p: &RawPolicy) -> Option<u64> {
    let m = p.max_devices.as_ref()?;
    if *m.get_ref() == 0 {
        pc.err(
            "policy.max_devices",
            Some(m.span()),
            "must be at least 1 (leave it out for no limit)",
        );
    }
    Some(*m.get_ref())
}

/// `policy.max_in_flight`; no limit when not written.
fn max_in_flight(pc: &mut Ctx, p: &RawPolicy) -> u64 {
    match &p.max_in_flight {
        Some(m) if *m.get_ref() == 0 => {
            pc.err(
                "policy.max_in_flight",
                Some(m.span()),
                "must be at least 1 (leave it out for no limit)",
            );
            u64::MAX
        }
        Some(m) => *m.get_ref(),
        None => u64::MAX,
    }
}

/// `policy.retry`: tries per device, the first included, and the wait between them, as one
/// budget (the table form) or per failure type (AWS `jobExecutionsRetryConfig`: each type at
/// most once, `all` alone, at most 10 retries in total).
fn retry(pc: &mut Ctx, p: &RawPolicy) -> Retry {
    let rules = match &p.retry {
        None => return Retry::NONE,
        Some(RawRetry::All(r)) => {
            if *r.attempts.get_ref() == 0 || *r.attempts.get_ref() > 100 {
                pc.err(
                    "policy.retry.attempts",
                    Some(r.attempts.span()),
                    "attempts counts every try, the first included: 1 to 100",
                );
            }
            return Retry::all(
                (*r.attempts.get_ref()).max(1),
                r.backoff.map_or(0, |b| secs_to_ms(b.0)),
            );
        }
        Some(RawRetry::ByType(rules)) => rules,
    };
    if rules.is_empty() {
        pc.err("policy.retry", None, "an empty list retries nothing: give `{ on, attempts }` entries, or leave `retry` out for one try");
        return Retry::NONE;
    }
    let mut out = Retry {
        shared: false,
        ..Retry::NONE
    };
    let mut seen: Vec<RetryOn> = Vec::new();
    let mut retries = 0u32;
    for (i, r) in rules.iter().enumerate() {
        let path = format!("policy.retry[{i}]");
        let (on, attempts) = (*r.on.get_ref(), *r.attempts.get_ref());
        if attempts == 0 || attempts > 11 {
            pc.err(
                format!("{path}.attempts"),
                Some(r.attempts.span()),
                format!("{attempts}: attempts counts the tries that may end this way, the first included: 1 to 11 (AWS `numberOfRetries` 0 to 10, plus the first try)"),
            );
        }
        if seen.contains(&on) {
            pc.err(
                format!("{path}.on"),
                Some(r.on.span()),
                format!(
                    "`{}` is given twice: each failure type has one budget",
                    on.name()
                ),
            );
        } else if on == RetryOn::All && !seen.is_empty() || seen.contains(&RetryOn::All) {
            pc.err(
                format!("{path}.on"),
                Some(r.on.span()),
                "`on = \"all\"` is one budget for every failure type: give it alone, or list `failed` and `timed_out` each with its own",
            );
        }
        seen.push(on);
        retries += attempts.clamp(1, 11) - 1;
        let budget = RetryBudget {
            attempts: attempts.clamp(1, 11),
            backoff_ms: r.backoff.map_or(0, |b| secs_to_ms(b.0)),
        };
        match on {
            RetryOn::Failed => out.failed = budget,
            RetryOn::TimedOut => out.timed_out = budget,
            RetryOn::All => out = Retry::all(budget.attempts, budget.backoff_ms),
        }
    }
    if retries > 10 {
        pc.err("policy.retry", None, format!("{retries} retries per device in all: at most 10 (AWS allows 10 retries across failure types); lower the `attempts`"));
    }
    out
}

/// `[policy.operator]`: how fast the operator responds and what they do on a pause.
fn operator(pc: &mut Ctx, p: &RawPolicy) -> Operator {
    match &p.operator {
        Some(o) => Operator {
            response: o.response.as_ref().map_or(Dist::Constant(0.0), |r| {
                pc.dist("policy.operator.response", r, Unit::Duration)
            }),
            on_pause: o.on_pause,
        },
        None => Operator {
            response: Dist::Constant(0.0),
            on_pause: OnPause::Hold,
        },
    }
}

fn shadow_gates(pc: &mut Ctx, p: &RawPolicy, stages: &[Stage]) -> Vec<ShadowGate> {
    let mut out: Vec<ShadowGate> = Vec::new();
    for (i, s) in p.shadow_gate.iter().enumerate() {
        let path = format!("policy.shadow_gate[{i}]");
        let Some(stage) = stages.iter().position(|st| st.name == *s.stage.get_ref()) else {
            let names: Vec<&str> = stages.iter().map(|st| st.name.as_str()).collect();
            let hint = super::did_you_mean(s.stage.get_ref(), names.iter().copied());
            pc.err(
                format!("{path}.stage"),
                Some(s.stage.span()),
                format!(
                    "no stage named `{}`{hint}; stages: {}",
                    s.stage.get_ref(),
                    names.join(", ")
                ),
            );
            continue;
        };
        if out.iter().any(|g| g.name == s.name) || s.name.trim().is_empty() {
            pc.err(
                format!("{path}.name"),
                None,
                format!(
                    "shadow gate names must be unique and not empty (`{}`)",
                    s.name
                ),
            );
        }
        let gate = gate(pc, &path, &s.as_gate());
        out.push(ShadowGate {
            name: s.name.clone(),
            stage,
            gate,
        });
    }
    out
}

fn resolve_release(
    pc: &mut Ctx,
    path: &str,
    name: &toml::Spanned<String>,
    versions: &[Release],
) -> Option<u8> {
    match version_index(versions, name.get_ref()) {
        Some(v) if versions[v as usize].defined => Some(v),
        _ => {
            let defined: Vec<&str> = versions
                .iter()
                .filter(|r| r.defined)
                .map(|r| r.label.as_str())
                .collect();
            let hint = super::did_you_mean(name.get_ref(), defined.iter().copied());
            pc.err(
                path,
                Some(name.span()),
                format!(
                    "`{}` is not a [[release]]{hint}; releases: {}",
                    name.get_ref(),
                    defined.join(", ")
                ),
            );
            None
        }
    }
}

/// Every starting firmware must have some chain of releases to the target ("a migration chain
/// that cannot be satisfied" is an input error, not a silent strand).
fn check_reachable(
    pc: &mut Ctx,
    p: &RawPolicy,
    versions: &[Release],
    pops: &[Population],
    target: u8,
) {
    for pop in pops {
        for &(v, _) in &pop.firmware_mix {
            if v < target && upgrade_path(versions, v, target).is_none() {
                pc.err(
                    "policy.target",
                    Some(p.target.span()),
                    format!(
                        "devices of population `{}` on {} can never reach {}: no chain of [[release]] entries satisfies `min_from` and the critical migrations; add an intermediate release",
                        pop.name, versions[v as usize].label, versions[target as usize].label
                    ),
                );
            }
        }
    }
}

fn rate(pc: &mut Ctx, p: &RawPolicy) -> Rate {
    let Some(r) = &p.rate else {
        return Rate {
            per_minute: f64::INFINITY,
            factor: 1.0,
            ramp: Vec::new(),
            max_per_minute: f64::INFINITY,
        };
    };
    let (span, r) = (r.span(), r.get_ref());
    if !(r.per_minute > 0.0 && r.per_minute.is_finite()) {
        pc.err(
            "policy.rate.per_minute",
            Some(span.clone()),
            "must be a positive number of devices per minute",
        );
    }
    // Both criteria may be given (AWS `rateIncreaseCriteria`): each crossing of either ramps.
    let ramp: Vec<(RampCriterion, u64)> = [
        (RampCriterion::Succeeded, r.every_succeeded),
        (RampCriterion::Notified, r.every_notified),
    ]
    .into_iter()
    .filter_map(|(c, n)| n.map(|n| (c, n)))
    .collect();
    if ramp.iter().any(|&(_, n)| n == 0) {
        pc.err(
            "policy.rate",
            Some(span.clone()),
            "the ramp count must be at least 1",
        );
    }
    let factor = r.factor.unwrap_or(1.0);
    if !ramp.is_empty() && (factor.is_nan() || factor <= 1.0 || factor > 5.0) {
        pc.err("policy.rate.factor", Some(span.clone()), format!("{factor}: an exponential ramp multiplies the rate by a factor above 1 and at most 5 (AWS incrementFactor is 1.1 to 5)"));
    }
    if r.factor.is_some() && ramp.is_empty() {
        pc.err("policy.rate", Some(span.clone()), "`factor` needs `every_succeeded` or `every_notified`: the count after which the rate grows");
    }
    let max_per_minute = r.max_per_minute.unwrap_or(f64::INFINITY);
    if max_per_minute < r.per_minute {
        pc.err(
            "policy.rate.max_per_minute",
            Some(span),
            "is below `per_minute`",
        );
    }
    Rate {
        per_minute: r.per_minute,
        factor,
        ramp: ramp.into_iter().filter(|&(_, n)| n > 0).collect(),
        max_per_minute,
    }
}

fn preflight(pc: &mut Ctx, p: &RawPolicy) -> Preflight {
    let default_off_peak = DailyWindow {
        from_s: 0,
        to_s: 6 * 3600,
    };
    let Some(f) = &p.preflight else {
        return Preflight {
            min_battery: 0.0,
            min_storage_mb: 0.0,
            min_bandwidth_kbps: 0.0,
            metered: Metered::Allow,
            off_peak: default_off_peak,
        };
    };
    Preflight {
        min_battery: f
            .min_battery
            .as_ref()
            .map_or(0.0, |b| pc.fraction("policy.preflight.min_battery", b)),
        min_storage_mb: f.min_storage_mb.unwrap_or(0.0).max(0.0),
        min_bandwidth_kbps: f.min_bandwidth_kbps.unwrap_or(0.0).max(0.0),
        metered: f.metered,
        off_peak: f
            .off_peak
            .as_ref()
            .and_then(|w| {
                super::validate_disruption::daily_window(
                    pc,
                    "policy.preflight.off_peak",
                    &w.from,
                    &w.to,
                )
            })
            .unwrap_or(default_off_peak),
    }
}

fn stages(pc: &mut Ctx, p: &RawPolicy, versions: &[Release], pops: &[Population]) -> Vec<Stage> {
    if p.stage.len() > super::limits::MAX_STAGES {
        pc.err(
            "policy.stage",
            None,
            format!(
                "{} stages; the limit is {}",
                p.stage.len(),
                super::limits::MAX_STAGES
            ),
        );
    }
    match (&p.groups, p.stage.is_empty()) {
        (None, true) => pc.err("policy.stage", None, "a policy needs at least one [[policy.stage]] (or hawkBit-style [policy.groups]); for a single wave write one stage with `select = {}` and `percent = 100`"),
        (Some(g), false) => pc.err("policy.groups", Some(g.count.span()), "give either [[policy.stage]] tables or [policy.groups], not both: the groups are the rollout's stages"),
        _ => {}
    }
    let mut out: Vec<Stage> = Vec::new();
    for (i, s) in p.stage.iter().enumerate() {
        let stage = stage(pc, &format!("policy.stage[{i}]"), s, &out, versions, pops);
        out.push(stage);
    }
    if let Some(g) = &p.groups {
        let conditions = group_conditions(pc, g);
        for s in group_stages(g) {
            let mut stage = stage(pc, "policy.groups", &s, &out, versions, pops);
            stage.group = Some(conditions);
            out.push(stage);
        }
    }
    if out.len() > 250 {
        pc.err("policy.stage", None, "at most 250 stages are supported");
    }
    out
}

/// `[policy.groups]` as the stages it stands for: `group-1` … `group-N`, each taking the next
/// equal share of the matching devices (the cumulative percent `100·k/N`), no bake, no gate:
/// the group's own conditions decide it.
fn group_stages(g: &RawGroups) -> Vec<RawStage> {
    let n = (*g.count.get_ref()).clamp(1, 250);
    (1..=n)
        .map(|k| RawStage {
            name: format!("group-{k}"),
            select: g.select.clone(),
            percent: Some(toml::Spanned::new(
                g.count.span(),
                100.0 * f64::from(k) / f64::from(n),
            )),
            count: None,
            bake: None,
            open_at: None,
            max_wait: None,
            on_insufficient: OnInsufficient::default(),
            approval: Approval::default(),
            gate: None,
            success_threshold: None,
            error_threshold: None,
            error_action: None,
        })
        .collect()
}

/// A group's conditions; its count is 1 to 250 and its thresholds are shares of a group, 0 to 1.
fn group_conditions(pc: &mut Ctx, g: &RawGroups) -> GroupConditions {
    let n = *g.count.get_ref();
    if n == 0 || n > 250 {
        pc.err(
            "policy.groups.count",
            Some(g.count.span()),
            format!("{n}: 1 to 250 groups"),
        );
    }
    conditions(
        pc,
        "policy.groups",
        &g.success_threshold,
        &g.error_threshold,
        g.error_action,
    )
}

/// A hawkBit group's conditions at `path`: thresholds are shares of the group, 0 to 1.
fn conditions(
    pc: &mut Ctx,
    path: &str,
    success: &Option<toml::Spanned<f64>>,
    error: &Option<toml::Spanned<f64>>,
    error_action: Option<Action>,
) -> GroupConditions {
    for (key, t) in [("success_threshold", success), ("error_threshold", error)] {
        if let Some(t) = t.as_ref().filter(|t| !(0.0..=1.0).contains(t.get_ref())) {
            pc.err(
                format!("{path}.{key}"),
                Some(t.span()),
                format!("{}: a share of the group, 0 to 1", t.get_ref()),
            );
        }
    }
    GroupConditions {
        success: success.as_ref().map_or(1.0, |t| *t.get_ref()),
        error: error.as_ref().map(|t| *t.get_ref()),
        error_action: error_action.unwrap_or_default(),
    }
}

/// A `[[policy.stage]]` that gives hawkBit group conditions is a group: its conditions, and
/// none of the keys of a gated stage (a group has no gate to bake or wait for; `approval`
/// stays, as it is about how the stage opens: hawkBit's `successAction = PAUSE` before it).
fn stage_group(pc: &mut Ctx, path: &str, s: &RawStage) -> Option<GroupConditions> {
    if s.success_threshold.is_none() && s.error_threshold.is_none() && s.error_action.is_none() {
        return None;
    }
    let gated = [
        ("gate", s.gate.is_some()),
        ("bake", s.bake.is_some()),
        ("max_wait", s.max_wait.is_some()),
    ];
    for (key, given) in gated {
        if given {
            pc.err(
                format!("{path}.{key}"),
                None,
                "a stage with success_threshold, error_threshold or error_action is a hawkBit group, judged by those conditions over its whole cohort: it takes no gate, bake or max_wait",
            );
        }
    }
    Some(conditions(
        pc,
        path,
        &s.success_threshold,
        &s.error_threshold,
        s.error_action,
    ))
}

/// One `[[policy.stage]]`, checked against the stages before it (`earlier`).
fn stage(
    pc: &mut Ctx,
    path: &str,
    s: &RawStage,
    earlier: &[Stage],
    versions: &[Release],
    pops: &[Population],
) -> Stage {
    let select = stage_select(pc, path, s, versions, pops);
    let share = share(pc, path, s);
    check_share_grows(pc, path, s, earlier, &select, share);
    let gate = s
        .gate
        .as_ref()
        .map(|g| gate(pc, &format!("{path}.gate"), g));
    Stage {
        name: s.name.clone(),
        select,
        share,
        bake_ms: s.bake.map_or(0, |b| secs_to_ms(b.0)),
        open_at_ms: open_at(pc, path, s, earlier),
        max_wait_ms: s.max_wait.map(|b| secs_to_ms(b.0)),
        on_insufficient: s.on_insufficient,
        approval: s.approval,
        gate,
        group: stage_group(pc, path, s),
    }
}

/// `open_at` of a stage: never before an earlier stage's (stages open in order).
fn open_at(pc: &mut Ctx, path: &str, s: &RawStage, earlier: &[Stage]) -> Option<u64> {
    let at = secs_to_ms(s.open_at?.0);
    if let Some((j, before)) = (earlier.iter().enumerate().rev())
        .find_map(|(j, e)| e.open_at_ms.map(|t| (j, t)))
        .filter(|&(_, t)| t > at)
    {
        pc.err(
            format!("{path}.open_at"),
            None,
            format!(
                "{} is before stage `{}`'s open_at ({}): stages open in order",
                crate::engine::time::SimTime(at),
                earlier[j].name,
                crate::engine::time::SimTime(before)
            ),
        );
    }
    Some(at)
}

/// `select` of a stage, which must match some device of a non-empty fleet.
fn stage_select(
    pc: &mut Ctx,
    path: &str,
    s: &RawStage,
    versions: &[Release],
    pops: &[Population],
) -> Selector {
    let Some(t) = &s.select else {
        return Selector::default();
    };
    let select = pc.selector(&format!("{path}.select"), t, false);
    let any = pops.iter().any(|pop| {
        pop.firmware_mix
            .iter()
            .any(|(v, _)| select.matches(&pop.attrs(&versions[*v as usize].label, None)))
    });
    if !any && pop_count(pops) > 0 {
        pc.err(
            format!("{path}.select"),
            Some(t.span()),
            format!("the selector ({select}) matches no device of the fleet"),
        );
    }
    select
}

/// Exactly one of `percent` (a cumulative share in (0, 100]) or `count`.
fn share(pc: &mut Ctx, path: &str, s: &RawStage) -> Share {
    match (&s.percent, &s.count) {
        (Some(pct), None) => {
            let x = *pct.get_ref();
            if !(x > 0.0 && x <= 100.0) {
                let why = if x > 100.0 {
                    "is more than 100"
                } else {
                    "must be more than 0"
                };
                pc.err(format!("{path}.percent"), Some(pct.span()), format!("{x} {why}: `percent` is the cumulative share (0 < percent ≤ 100) of the devices `select` matches"));
            }
            Share::Percent(x)
        }
        (None, Some(c)) => Share::Count(*c.get_ref()),
        _ => {
            pc.err(
                path,
                None,
                "a stage needs exactly one of `percent` (cumulative share) or `count`",
            );
            Share::Percent(100.0)
        }
    }
}

/// Shares are cumulative: a stage must not reach fewer devices than the last earlier stage
/// with the same selector.
fn check_share_grows(
    pc: &mut Ctx,
    path: &str,
    s: &RawStage,
    earlier: &[Stage],
    select: &Selector,
    share: Share,
) {
    let Some(prev) = earlier.iter().rev().find(|o| o.select == *select) else {
        return;
    };
    let decreasing = match (prev.share, share) {
        (Share::Percent(a), Share::Percent(b)) => b < a,
        (Share::Count(a), Share::Count(b)) => b < a,
        _ => false,
    };
    if decreasing {
        let span = s
            .percent
            .as_ref()
            .map(|x| x.span())
            .or(s.count.as_ref().map(|x| x.span()));
        pc.err(format!("{path}.percent"), span, format!("cumulative shares must not decrease: stage `{}` with the same selector already reached {}", prev.name, share_text(prev.share)));
    }
}

fn pop_count(pops: &[Population]) -> u64 {
    pops.iter().map(|p| p.count).sum()
}

/// A test's `confidence` (default 0.95), which must lie in (0, 1).
fn confidence(pc: &mut Ctx, path: &str, c: &Option<toml::Spanned<f64>>) -> f64 {
    c.as_ref().map_or(0.95, |c| {
        let x = *c.get_ref();
        if !(x > 0.0 && x < 1.0) {
            pc.err(
                format!("{path}.confidence"),
                Some(c.span()),
                format!("{x} is outside (0, 1); write e.g. 0.95"),
            );
        }
        x
    })
}

fn gate(pc: &mut Ctx, path: &str, g: &RawGate) -> Gate {
    let confidence = confidence(pc, path, &g.confidence);
    if g.denominator == Denominator::Cohort {
        for (i, c) in g.check.iter().enumerate() {
            let m = *c.metric.get_ref();
            if !RESULT_METRICS.contains(&m) {
                pc.err(
                    format!("{path}.check[{i}].metric"),
                    Some(c.metric.span()),
                    format!("`{}` is not a count of devices by result, so `denominator = \"cohort\"` does not apply to it; it applies to update_failure_rate, update_success_rate, timeout_rate, revert_rate, rejected_rate and any_failure_rate", m.name()),
                );
            }
        }
    }
    let checks = g
        .check
        .iter()
        .enumerate()
        .filter_map(|(i, c)| check(pc, &format!("{path}.check[{i}]"), c))
        .collect();
    Gate {
        min_devices: g.min_devices.unwrap_or(1).max(1),
        test: g.test,
        confidence,
        on_fail: g.on_fail,
        checks,
        denominator: g.denominator,
        analysis: analysis(pc, path, g),
    }
}

/// A gate's analysis-run keys (Argo Rollouts `AnalysisTemplate` metrics), if it gives any.
fn analysis(pc: &mut Ctx, path: &str, g: &RawGate) -> Option<Analysis> {
    let given = g.interval.is_some()
        || g.count.is_some()
        || g.failure_limit.is_some()
        || g.consecutive_success_limit.is_some()
        || g.inconclusive_limit.is_some()
        || g.on_inconclusive.is_some();
    if !given {
        return None;
    }
    let interval_ms = g.interval.as_ref().map(|i| secs_to_ms(i.get_ref().0));
    if let (Some(i), Some(0)) = (&g.interval, interval_ms) {
        pc.err(
            format!("{path}.interval"),
            Some(i.span()),
            "an analysis run measures again after a positive interval",
        );
    }
    let count = g.count.as_ref().map(|c| *c.get_ref());
    if let Some(c) = g.count.as_ref().filter(|c| *c.get_ref() == 0) {
        pc.err(
            format!("{path}.count"),
            Some(c.span()),
            "count is the measurements in all: at least 1",
        );
    }
    let csl = g.consecutive_success_limit.as_ref().map(|c| *c.get_ref());
    if let Some(c) = g
        .consecutive_success_limit
        .as_ref()
        .filter(|c| *c.get_ref() == 0)
    {
        pc.err(
            format!("{path}.consecutive_success_limit"),
            Some(c.span()),
            "at least 1 (leave it out for none)",
        );
    }
    let repeats = count.is_none_or(|n| n > 1);
    if repeats && interval_ms.is_none() {
        let what = match count {
            Some(n) => format!("count = {n} measures {n} times"),
            None => "an analysis run without `count` measures until a limit decides".into(),
        };
        pc.err(
            path,
            g.count.as_ref().map(|c| c.span()),
            format!("{what}: give `interval`, the time between measurements"),
        );
    }
    if count.is_none() && csl.is_none() && interval_ms.is_some() {
        pc.err(
            path,
            g.interval.as_ref().map(|i| i.span()),
            "an analysis run with neither `count` nor `consecutive_success_limit` can only fail, never pass: give one",
        );
    }
    if let (Some(n), Some(c), Some(span)) = (
        count,
        csl,
        g.consecutive_success_limit.as_ref().map(|c| c.span()),
    ) {
        if c > n {
            pc.err(
                format!("{path}.consecutive_success_limit"),
                Some(span),
                format!("{c} consecutive passes cannot happen in count = {n} measurements"),
            );
        }
    }
    Some(Analysis {
        interval_ms: interval_ms.map(|ms| ms.max(1)),
        count,
        failure_limit: g.failure_limit.unwrap_or(0),
        consecutive_success_limit: csl,
        inconclusive_limit: g.inconclusive_limit.unwrap_or(0),
        on_inconclusive: g.on_inconclusive.unwrap_or_default(),
    })
}

fn is_fraction_metric(m: ObservedMetric) -> bool {
    !matches!(
        m,
        ObservedMetric::CrashRate | ObservedMetric::SupportTickets
    )
}

fn check(pc: &mut Ctx, path: &str, c: &RawCheck) -> Option<Check> {
    let metric = *c.metric.get_ref();
    let bounds = [
        c.max.as_ref().map(|b| (Bound::Max(*b.get_ref()), b)),
        c.min.as_ref().map(|b| (Bound::Min(*b.get_ref()), b)),
        c.max_ratio_vs_control
            .as_ref()
            .map(|b| (Bound::MaxRatioVsControl(*b.get_ref()), b)),
    ];
    let given: Vec<_> = bounds.into_iter().flatten().collect();
    if given.len() != 1 {
        pc.err(
            path,
            Some(c.metric.span()),
            "a check needs exactly one of `max`, `min` or `max_ratio_vs_control`",
        );
        return None;
    }
    let (bound, spanned) = given[0];
    match bound {
        Bound::Max(_) | Bound::Min(_) if is_fraction_metric(metric) => {
            let key = if matches!(bound, Bound::Max(_)) {
                "max"
            } else {
                "min"
            };
            pc.fraction(&format!("{path}.{key}"), spanned);
        }
        Bound::MaxRatioVsControl(x) if !(x > 0.0 && x.is_finite()) => {
            pc.err(
                format!("{path}.max_ratio_vs_control"),
                Some(spanned.span()),
                "must be a ratio greater than 0, e.g. 1.5",
            );
        }
        Bound::MaxRatioVsControl(_) if !HAS_CONTROL.contains(&metric) => {
            let names: Vec<&str> = HAS_CONTROL.iter().map(|m| m.name()).collect();
            pc.err(
                format!("{path}.max_ratio_vs_control"),
                Some(spanned.span()),
                format!("`{}` has no control group (devices on the old version do not update or open tickets); use `max` or `min`. Metrics with a control: {}", metric.name(), names.join(", ")),
            );
        }
        _ => {}
    }
    if c.silent_after.is_some() && metric != ObservedMetric::SilentRate {
        pc.err(
            format!("{path}.silent_after"),
            Some(c.metric.span()),
            "`silent_after` applies only to `metric = \"silent_rate\"`",
        );
    }
    Some(Check {
        metric,
        bound,
        silent_after_ms: c.silent_after.map_or(6 * HOUR_MS, |d| secs_to_ms(d.0)),
    })
}

fn aborts(pc: &mut Ctx, p: &RawPolicy) -> Vec<AbortRule> {
    p.abort
        .iter()
        .enumerate()
        .map(|(i, a)| abort(pc, &format!("policy.abort[{i}]"), a))
        .collect()
}

fn abort(pc: &mut Ctx, path: &str, a: &RawAbort) -> AbortRule {
    let metric = *a.metric.get_ref();
    if !RESULT_METRICS.contains(&metric) {
        let names: Vec<&str> = RESULT_METRICS.iter().map(|m| m.name()).collect();
        pc.err(
            format!("{path}.metric"),
            Some(a.metric.span()),
            format!(
                "`{}` is not evaluated continuously; abort rules read {}",
                metric.name(),
                names.join(", ")
            ),
        );
    }
    let limit = abort_limit(pc, path, a);
    if a.min_executed == Some(0) {
        pc.err(
            format!("{path}.min_executed"),
            None,
            "0 devices: a rule is judged once at least 1 device counts (write 1, the default, or more)",
        );
    }
    let confidence = confidence(pc, path, &a.confidence);
    // A confidence outside (0, 1) has its own error; a valid one is pointless with a point test.
    if let Some(c) = &a.confidence {
        if a.test == AbortTest::Point && confidence > 0.0 && confidence < 1.0 {
            pc.err(
                format!("{path}.confidence"),
                Some(c.span()),
                "`confidence` is for `test = \"wilson\"` or `\"sequential\"`; a point test has none",
            );
        }
    }
    if let AbortLimit::Rate(t) = limit {
        if a.test == AbortTest::Sequential && !(t > 0.0 && t < 1.0) {
            let span = a.threshold.as_ref().map(|t| t.span());
            pc.err(
                format!("{path}.threshold"),
                span,
                format!("`test = \"sequential\"` tests the rate against a threshold strictly between 0 and 1, found {t}"),
            );
        }
    }
    AbortRule {
        metric,
        limit,
        min_executed: a.min_executed.unwrap_or(1),
        per: a.per,
        test: a.test,
        confidence,
        action: a.action,
    }
}

/// `threshold` or `max_count`, exactly one; a count is of failures, so it does not go with
/// `update_success_rate`, and it is compared as it is (no `test`).
fn abort_limit(pc: &mut Ctx, path: &str, a: &RawAbort) -> AbortLimit {
    match (&a.threshold, &a.max_count) {
        (Some(t), None) => AbortLimit::Rate(pc.fraction(&format!("{path}.threshold"), t)),
        (None, Some(c)) => {
            let n = *c.get_ref();
            let key = format!("{path}.max_count");
            if n < 1 {
                pc.err(
                    &key,
                    Some(c.span()),
                    format!("{n} must be a count of at least 1, e.g. 5"),
                );
            }
            if *a.metric.get_ref() == ObservedMetric::UpdateSuccessRate {
                pc.err(&key, Some(c.span()), "`max_count` counts failed results; `update_success_rate` counts successes: use `threshold`, or a failure metric such as `update_failure_rate`");
            }
            if a.test != AbortTest::Point {
                pc.err(
                    format!("{path}.test"),
                    Some(c.span()),
                    "`test` judges a rate against `threshold`; `max_count` is a plain count: remove `test` or use `threshold`",
                );
            }
            AbortLimit::Count(n.max(1) as u64)
        }
        (Some(t), Some(c)) => {
            pc.err(
                format!("{path}.max_count"),
                Some(c.span()),
                "`threshold` and `max_count` conflict: give one (a rate or a count of results)",
            );
            AbortLimit::Rate(*t.get_ref())
        }
        (None, None) => {
            pc.err(
                path,
                Some(a.metric.span()),
                "an abort rule needs `threshold` (a rate, e.g. 0.05) or `max_count` (a count of results, e.g. 5)",
            );
            AbortLimit::Rate(1.0)
        }
    }
}

fn share_text(share: Share) -> String {
    match share {
        Share::Percent(p) => format!("{p} %"),
        Share::Count(c) => format!("{c} devices"),
    }
}
