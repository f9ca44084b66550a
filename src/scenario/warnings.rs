//! Warnings (SPEC §3): a plan that validates but cannot work as meant. Each warning names the
//! file, key path and line like an [`InputError`] does; `validate --deny-warnings` turns them
//! into errors, `run` and `check` print them once and carry on.
//!
//! The kinds, each a static reading of the validated [`Scenario`] and the text it came from:
//!
//! - a `max_ratio_vs_control` check whose stage leaves no control devices;
//! - `min_devices` above the number of devices the stage adds (its cohort);
//! - a rollout window that closes after `simulation.horizon`;
//! - a duration written without a unit (`bake = 72` is 72 seconds), see [`super::warn_durations`];
//! - a gate that can never be judged (its stage adds no devices), and a check that can never
//!   fail because its metric never has data (`command_failure_rate` where no device gets
//!   commands, `support_tickets` without `[support]` tickets);
//! - a `policy.quarantine` that no device can reach (more failed attempts than `retry` allows);
//! - populations that give `consent` under an action type that never asks it (`forced`,
//!   `download-only`).
//!
//! Cohort sizes are the expected values of `policy::cohort`'s draw, computed per population
//! and starting version: exact where the stages' selectors are nested or disjoint and every
//! population starts on one version, a close estimate otherwise.

use super::model::{Bound, Gate, Scenario, Share};
use super::raw::{ObservedMetric, OnInsufficient, Selection};
use super::selector::Selector;
use crate::engine::time::human_secs;
use crate::error::InputError;
use std::fmt;
use toml_edit::{Document, Item};

/// One warning: where (file, key path, line and column) and what, as [`InputError`] has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub file: String,
    /// Dotted key path, e.g. `policy.stage[0].bake`.
    pub key_path: String,
    /// 1-based line and column of the value (or of its table), when it is in the text.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl Warning {
    /// The same problem as an error, for `--deny-warnings`.
    pub fn into_error(self) -> InputError {
        InputError {
            file: self.file,
            key_path: self.key_path,
            position: self.position,
            message: self.message,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.clone().into_error().fmt(f)
    }
}

/// Every warning of a validated scenario. `text` is the scenario text it was validated from
/// (overrides applied), `file` names it.
pub fn warnings(sc: &Scenario, text: &str, file: &str) -> Vec<Warning> {
    let Ok(doc) = Document::parse(text) else {
        return Vec::new();
    };
    let mut w = Sink {
        doc: &doc,
        text,
        file,
        out: Vec::new(),
    };
    let estimates = estimate_stages(sc);
    stage_gates(&mut w, sc, &estimates);
    shadow_gates(&mut w, sc, &estimates);
    window_past_horizon(&mut w, sc);
    quarantine_never_reached(&mut w, sc);
    consent_never_asked(&mut w, sc);
    super::warn_durations::bare_durations(&doc, &mut |path, message| w.push(&path, message));
    w.out.sort_by_key(|x| x.position);
    w.out
}

/// Collects warnings and finds where their key paths are in the text.
struct Sink<'a> {
    doc: &'a Document<&'a str>,
    text: &'a str,
    file: &'a str,
    out: Vec<Warning>,
}

impl Sink<'_> {
    fn push(&mut self, key_path: &str, message: String) {
        self.out.push(Warning {
            file: self.file.to_string(),
            key_path: key_path.to_string(),
            position: locate(self.doc, key_path).map(|o| super::line_col(self.text, o)),
            message,
        });
    }
}

/// The byte offset of a key path's value in the document, or of the nearest enclosing table
/// that has one (a key left at its default is not in the text).
pub(crate) fn locate(doc: &Document<&str>, key_path: &str) -> Option<usize> {
    let mut item: &Item = doc.as_item();
    let mut best = None;
    for seg in segments(key_path) {
        let next = match seg {
            Seg::Key(k) => item.get(k),
            Seg::Index(i) => item.get(i),
        };
        let Some(next) = next else { break };
        item = next;
        if let Some(span) = item.span() {
            best = Some(span.start);
        }
    }
    best
}

/// One step of a key path: `policy`, `stage`, `[1]`.
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn segments(key_path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in key_path.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            out.push(Seg::Key(key));
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                out.push(Seg::Index(i));
            }
        }
    }
    out
}

/// What a stage takes, estimated before any run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StageEstimate {
    /// Devices the stage adds (its cohort), expected value.
    pub cohort_size: f64,
    /// Devices of the cohort's populations left outside every cohort so far and not on the
    /// target: where the control of a `max_ratio_vs_control` check comes from.
    pub control_size: f64,
    /// Whether one of the cohort's populations grows (`arrivals_per_day`), so that the static
    /// counts understate what the run sees.
    pub grows: bool,
}

/// Expected cohort sizes per stage, as `policy::cohort::build` draws them: each stage tops the
/// devices its selector matches (that still need the update) up to its share, and takes the
/// rest from devices no earlier stage took, spread over groups in proportion to what is left.
pub(crate) fn estimate_stages(sc: &Scenario) -> Vec<StageEstimate> {
    let groups = groups(sc);
    let mut taken = vec![0.0; groups.len()];
    let mut out = Vec::with_capacity(sc.policy.stages.len());
    for stage in &sc.policy.stages {
        let eligible: Vec<bool> = groups
            .iter()
            .map(|g| g.version < sc.policy.target && matches(&stage.select, sc, g))
            .collect();
        let sum = |f: &dyn Fn(usize) -> f64| -> f64 {
            (0..groups.len()).filter(|&i| eligible[i]).map(f).sum()
        };
        let matching = sum(&|i| groups[i].devices);
        let wanted = match stage.share {
            Share::Percent(p) => ((p / 100.0) * matching - 1e-9).ceil().max(0.0),
            Share::Count(c) => (c as f64).min(matching),
        };
        let free = sum(&|i| groups[i].devices - taken[i]);
        let need = (wanted - sum(&|i| taken[i])).clamp(0.0, free.max(0.0));
        let mut pops = vec![false; sc.populations.len()];
        for (i, g) in groups.iter().enumerate().filter(|(i, _)| eligible[*i]) {
            let share = if free > 0.0 { need / free } else { 0.0 };
            taken[i] += (g.devices - taken[i]) * share;
            // The control is drawn from the populations as written, every variant of a mix.
            pops[sc.populations[g.population].head] |= g.devices > 0.0;
        }
        let control_size = (0..groups.len())
            .filter(|&i| {
                pops[sc.populations[groups[i].population].head]
                    && groups[i].version != sc.policy.target
            })
            .map(|i| groups[i].devices - taken[i])
            .sum();
        let grows = (0..pops.len()).any(|p| pops[p] && sc.populations[p].arrivals_per_day > 0.0);
        out.push(StageEstimate {
            cohort_size: need,
            control_size,
            grows,
        });
    }
    out
}

/// Devices of one population that start on one version.
struct Group {
    population: usize,
    version: u8,
    devices: f64,
}

fn groups(sc: &Scenario) -> Vec<Group> {
    let mut out = Vec::new();
    for (p, pop) in sc.populations.iter().enumerate() {
        let devices = sc.expected_devices(p);
        let mut prev = 0.0;
        for &(version, cumulative) in &pop.firmware_mix {
            out.push(Group {
                population: p,
                version,
                devices: devices * (cumulative - prev),
            });
            prev = cumulative;
        }
    }
    out
}

fn matches(select: &Selector, sc: &Scenario, g: &Group) -> bool {
    let pop = &sc.populations[g.population];
    select.matches(&pop.attrs(&sc.versions[g.version as usize].label, None))
}

fn stage_gates(w: &mut Sink, sc: &Scenario, est: &[StageEstimate]) {
    for (i, stage) in sc.policy.stages.iter().enumerate() {
        let Some(gate) = &stage.gate else { continue };
        let path = format!("policy.stage[{i}].gate");
        if est[i].cohort_size < 0.5 {
            w.push(&path, format!("stage `{}` adds no devices (earlier stages already took its share of the devices `select` matches, or none of them still needs the update), so its gate can never be judged: it ends as insufficient as soon as the stage opens{}", stage.name, insufficient_outcome(stage.on_insufficient)));
            continue;
        }
        gate_warnings(
            w,
            sc,
            &path,
            &stage.name,
            gate,
            &est[i],
            stage.on_insufficient,
        );
    }
}

fn shadow_gates(w: &mut Sink, sc: &Scenario, est: &[StageEstimate]) {
    for (k, g) in sc.policy.shadow_gates.iter().enumerate() {
        let stage = &sc.policy.stages[g.stage];
        if est[g.stage].cohort_size < 0.5 {
            continue; // the stage's own gate (or its lack of devices) is warned about once
        }
        let path = format!("policy.shadow_gate[{k}]");
        let on_insufficient = stage.on_insufficient;
        gate_warnings(
            w,
            sc,
            &path,
            &stage.name,
            &g.gate,
            &est[g.stage],
            on_insufficient,
        );
    }
}

/// The warnings about one gate (a stage gate or a shadow gate) at `path`.
fn gate_warnings(
    w: &mut Sink,
    sc: &Scenario,
    path: &str,
    stage: &str,
    gate: &Gate,
    est: &StageEstimate,
    on_insufficient: OnInsufficient,
) {
    let cohort = est.cohort_size.round();
    let static_cohort = !(est.grows && sc.policy.selection == Selection::Continuous);
    if static_cohort && gate.min_devices as f64 > cohort {
        w.push(&format!("{path}.min_devices"), format!("min_devices = {} is more than the {cohort} devices stage `{stage}` adds (its cohort): the gate never gets enough reports and ends as insufficient in every run{}", gate.min_devices, insufficient_outcome(on_insufficient)));
    }
    for (j, check) in gate.checks.iter().enumerate() {
        let check_path = format!("{path}.check[{j}]");
        if let Bound::MaxRatioVsControl(_) = check.bound {
            if est.control_size < 0.5 && !est.grows {
                w.push(&format!("{check_path}.max_ratio_vs_control"), format!("stage `{stage}` leaves no control devices: together with the stages before it, it takes every device of its populations that is not on the target, so no device of the same populations is still on the old version to compare with: the check is insufficient at every judgement{}; lower the stage's share, or compare with `max` instead", insufficient_outcome(on_insufficient)));
            }
        }
        if let Some(why) = never_has_data(sc, check.metric) {
            w.push(
                &format!("{check_path}.metric"),
                format!("`{}` can never fail here: {why}", check.metric.name()),
            );
        }
    }
}

/// Why a check's metric never has data in this scenario, if it never does.
fn never_has_data(sc: &Scenario, metric: ObservedMetric) -> Option<&'static str> {
    match metric {
        ObservedMetric::CommandFailureRate
            if sc.populations.iter().all(|p| p.commands_per_day <= 0.0) =>
        {
            Some("no population sends remote commands (`commands_per_day` is 0 everywhere), so no command can fail")
        }
        ObservedMetric::SupportTickets if !sc.support.opens_tickets() => Some(
            "no support ticket is ever opened (no `[support]` table, or `ticket_probability` and `background_per_device_day` are 0)",
        ),
        _ => None,
    }
}

fn insufficient_outcome(on: OnInsufficient) -> &'static str {
    match on {
        OnInsufficient::Fail => " (on_insufficient = \"fail\": even a healthy release halts)",
        OnInsufficient::Pass => " (on_insufficient = \"pass\": the stage passes unjudged)",
        OnInsufficient::Extend => {
            " (on_insufficient = \"extend\": the rollout waits there until the window closes)"
        }
    }
}

fn window_past_horizon(w: &mut Sink, sc: &Scenario) {
    let p = &sc.policy;
    if p.window_end <= sc.horizon {
        return;
    }
    let secs = |t: crate::engine::time::SimTime| human_secs(t.as_secs_f64());
    w.push("policy.window", format!("the rollout window closes at {} (start {} + window {}), after simulation.horizon {}: the simulation ends before the window closes, so what the plan does at its close (cancelling the devices not yet reached) never happens in a run; shorten `window` or lengthen the horizon", secs(p.window_end), secs(p.start), human_secs(p.window_end.as_secs_f64() - p.start.as_secs_f64()), secs(sc.horizon)));
}

/// `quarantine.after_failures` above the tries `retry` gives a device: no device ever fails that
/// often, so nobody is quarantined.
fn quarantine_never_reached(w: &mut Sink, sc: &Scenario) {
    let p = &sc.policy;
    let tries = p.retry.max_tries();
    if let Some(n) = p.quarantine_after.filter(|&n| n > tries) {
        w.push("policy.quarantine.after_failures", format!("after_failures = {n} is more than the {tries} tries `policy.retry` gives a device: its job has failed for good before it fails {n} times, so no device is ever quarantined; lower `after_failures` to at most {tries} or raise `retry.attempts`"));
    }
}

/// Populations with `consent` under `action_type = "forced"` or `"download-only"`: their
/// owners are never asked, so the consent table changes nothing.
fn consent_never_asked(w: &mut Sink, sc: &Scenario) {
    use super::raw::ActionType;
    let kind = match sc.policy.action_type {
        ActionType::Forced => "forced",
        ActionType::DownloadOnly => "download-only",
        ActionType::Soft | ActionType::Timeforced => return,
    };
    let mut names: Vec<&str> = sc
        .populations
        .iter()
        .filter(|p| p.consent.is_some())
        .map(|p| p.name.as_str())
        .collect();
    names.dedup();
    if names.is_empty() {
        return;
    }
    w.push("policy.action_type", format!("population {} gives `consent`, but a {kind} update never asks the owner: the consent table changes nothing; use action_type = \"soft\" (or \"timeforced\") to rehearse the owners' answers", names.join(", ")));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_values_and_falls_back_to_tables() {
        let text = "[policy]\ntarget = \"1\"\n[[policy.stage]]\nname = \"a\"\n[[policy.stage]]\nname = \"b\"\nbake = 72\n";
        let doc = Document::parse(text).unwrap();
        let at = |p: &str| locate(&doc, p).map(|o| super::super::line_col(text, o));
        assert_eq!(at("policy.stage[1].bake"), Some((7, 8)));
        assert_eq!(at("policy.stage[1].max_wait"), at("policy.stage[1]"));
        assert_eq!(at("policy.target"), Some((2, 10)));
    }
}
