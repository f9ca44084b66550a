//! "What to do next": the report's closing advice, derived from the run's data files alone —
//! the check that fired and how early, where the harm concentrated, what `validate` warned
//! about, the stages the rollout never reached, and the `tune` or `compare` command that would
//! answer the next question.

use super::breakdown::{most_harmed, roll_up};
use super::folder::Table;
use super::summary::SummaryFile;
use super::table::{human_value, pct};

/// One piece of advice: a sentence or two, and the command that follows it up, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Advice {
    pub text: String,
    pub command: Option<String>,
}

fn said(text: String) -> Advice {
    Advice {
        text,
        command: None,
    }
}

/// Everything worth doing next, most important first.
pub fn advice(s: &SummaryFile, stages: &Table, breakdown: Option<&Table>) -> Vec<Advice> {
    let mut out = Vec::new();
    out.extend(fired(s, stages));
    if let Some(t) = breakdown {
        out.extend(concentration(s, t));
    }
    out.extend(unopened(s));
    out.extend(s.glance.warnings.iter().map(|w| {
        let stop = if w.ends_with('.') { "" } else { "." };
        said(format!(
            "`fleetsim validate` warns: {w}{stop} Fix the plan before trusting the numbers above."
        ))
    }));
    out
}

/// The scenario path a command can be run on (the built-in reference is this file).
fn scenario_arg(s: &SummaryFile) -> String {
    if s.file == crate::scenario::REFERENCE_LABEL {
        "scenarios/reference.toml".into()
    } else if s.file.contains([' ', '\'', '"']) {
        format!("'{}'", s.file.replace('\'', "'\\''"))
    } else {
        s.file.clone()
    }
}

fn defective(s: &SummaryFile) -> bool {
    let g = &s.glance;
    g.releases
        .iter()
        .any(|r| r.version == g.target && !r.defects.is_empty())
}

/// The halt reason most runs ended with, and how many.
fn top_reason(s: &SummaryFile) -> Option<(&str, u64)> {
    s.summary
        .halt_reasons
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(r, n)| (r.as_str(), *n))
}

/// What the check that fired did, and the command that tunes it; or, when nothing fired, what
/// the run says about the policy's speed or blindness.
fn fired(s: &SummaryFile, stages: &Table) -> Vec<Advice> {
    let reps = s.replications;
    let Some((reason, n)) = top_reason(s) else {
        return not_halted(s);
    };
    let mut text = format!("`{reason}` halted the rollout in {n} of {reps} runs.");
    if reason.ends_with(":insufficient") {
        text.push_str(
            " The gate never had enough reports to judge: its `min_devices` is more than the \
             stage delivers in time (or `max_wait` is too short), and `on_insufficient` halted \
             the rollout, whether the release was good or bad. Lower `min_devices`, enlarge the \
             stage, or try settings:",
        );
        return vec![Advice {
            text,
            command: min_devices_command(s, reason),
        }];
    }
    let detect = s.summary.metrics.get("time_to_detect");
    if defective(s) {
        if let Some(a) = detect.filter(|a| a.n > 0) {
            text.push_str(&format!(
                " Over the {2} runs that detected harm, the first failed check came a median {0} \
                 after the first harmed device (p95 {1}).",
                human_value("time_to_detect", a.p50),
                human_value("time_to_detect", a.p95),
                a.n
            ));
        }
        text.push_str(&format!(
            " A mean of {} devices per run were harmed all the same.",
            human_value(
                "harmed",
                s.summary.metrics.get("harmed").and_then(|a| a.mean)
            )
        ));
    } else {
        text.push_str(
            " The release has no defect, so these are false halts: the check's threshold or \
             `min_devices` is tighter than the noise of a healthy release (a `[[release.defect]]` \
             in the scenario would let `tune` weigh the blast radius too).",
        );
    }
    let command = tune_command(s, stages, reason, defective(s));
    if command.is_some() {
        text.push_str(if defective(s) {
            " Would a tighter threshold detect sooner without halting healthy releases? Tune it:"
        } else {
            " Sweep it and read the false-halt column:"
        });
    }
    vec![Advice { text, command }]
}

/// A rollout no check halted: blind to a defect, or (healthy) possibly too slow.
fn not_halted(s: &SummaryFile) -> Vec<Advice> {
    let file = scenario_arg(s);
    if defective(s) {
        return vec![Advice {
            text: format!(
                "No gate or abort rule halted the defective release in any of {} runs: a mean \
                 of {} devices per run were harmed. Add a check that reads this harm \
                 (`silent_rate` for devices that stop reporting, `crash_rate` for crashes, \
                 `update_failure_rate` for failed installs) and compare the plans:",
                s.replications,
                human_value("harmed", s.summary.metrics.get("harmed").and_then(|a| a.mean)),
            ),
            command: Some(format!(
                "fleetsim compare {file} CANDIDATE.toml   # CANDIDATE.toml: this scenario with the new check"
            )),
        }];
    }
    let median = s.summary.metrics.get("time_to_95").and_then(|a| a.p50);
    let rate = s.glance.knobs.iter().find(|(k, _)| k == "policy.rate");
    let faster = rate.and_then(|(_, v)| v.split(' ').next()?.parse::<f64>().ok());
    vec![Advice {
        text: format!(
            "No run halted{}. Could it go faster without losing the gates' protection? \
             Compare a doubled notification rate on the same seeds:",
            median.map_or(String::new(), |m| format!(
                "; the median time to 95 % is {}",
                human_value("time_to_95", Some(m))
            ))
        ),
        command: faster.map(|r| {
            format!(
                "fleetsim compare {file} --set policy.rate.per_minute={}",
                r * 2.0
            )
        }),
    }]
}

/// `fleetsim tune` over the `min_devices` of the gate behind an `insufficient` halt.
fn min_devices_command(s: &SummaryFile, reason: &str) -> Option<String> {
    let stage = reason
        .strip_prefix("gate:")?
        .strip_suffix(":insufficient")?;
    let i = s.glance.stages.iter().position(|st| st.name == stage)?;
    let min: u64 = s.glance.stages[i].gate.split(", ").find_map(|part| {
        part.strip_prefix("min ")?
            .strip_suffix(" devices")?
            .parse()
            .ok()
    })?;
    let (command, limit) = if defective(s) {
        ("tune", " --max-false-halt 0.01")
    } else {
        ("sweep", "")
    };
    Some(format!(
        "fleetsim {command} {} --param 'policy.stage[{i}].gate.min_devices={},{},{min}'{limit}",
        scenario_arg(s),
        (min / 4).max(1),
        (min / 2).max(1)
    ))
}

/// `fleetsim tune` over the threshold of the check behind `reason`: tighter and looser around
/// it when the release is defective (detect sooner?), only looser when it is healthy (the halts
/// were false).
fn tune_command(s: &SummaryFile, stages: &Table, reason: &str, tighten: bool) -> Option<String> {
    let mut parts = reason.split(':');
    let kind = parts.next()?;
    let (stage, check) = match kind {
        "gate" => (parts.next()?.to_string(), parts.next()?),
        "abort" => (String::new(), parts.next()?),
        _ => return None,
    };
    let check = check.split('+').next()?;
    if check == "insufficient" {
        return None;
    }
    let row = (0..stages.rows.len()).find(|&i| {
        stages.cell(i, "check") == check
            && if kind == "gate" {
                stages.cell(i, "stage") == stage
            } else {
                stages.cell(i, "stage").starts_with("abort[")
            }
    })?;
    let threshold = super::folder::finite(stages.cell(row, "threshold"))?;
    let mut key_kind = "threshold";
    let path = if kind == "gate" {
        let (i, st) = s
            .glance
            .stages
            .iter()
            .enumerate()
            .find(|(_, st)| st.name == stage)?;
        let j = st
            .checks
            .iter()
            .position(|c| c.split(' ').next() == Some(check))?;
        let key = match &st.checks[j] {
            c if c.contains("× control") => "max_ratio_vs_control",
            c if c.contains(" ≥ ") => "min",
            _ => "max",
        };
        key_kind = key;
        format!("policy.stage[{i}].gate.check[{j}].{key}")
    } else {
        let label = stages.cell(row, "stage");
        // A `max_count` rule's record has the test `count`: its limit is a whole count.
        if stages.cell(row, "test") == "count" {
            key_kind = "max_count";
        }
        format!(
            "policy.abort[{}].{key_kind}",
            label.trim_start_matches("abort[").trim_end_matches(']')
        )
    };
    // Factors that make the check stricter below 1 (looser above) for a `max`-type bound.
    let factors: [f64; 3] = match (tighten, key_kind) {
        (true, "max_ratio_vs_control") => [0.8, 1.0, 1.5],
        (true, _) => [0.5, 1.0, 2.0],
        (false, _) => [1.0, 1.5, 2.0],
    };
    let values: Vec<String> = factors
        .iter()
        .map(|f| {
            // A `min` bound is stricter when higher; a ratio below 1 would fail a healthy cohort.
            let x = if key_kind == "min" {
                threshold / f
            } else {
                threshold * f
            };
            short(match key_kind {
                "max_ratio_vs_control" => x.max(1.05),
                "max_count" => x.round().max(1.0),
                _ => x,
            })
        })
        .collect();
    let values = values.join(",");
    // `tune` needs a defective world; a healthy scenario's false halts are a sweep's question.
    Some(if tighten {
        format!(
            "fleetsim tune {} --param '{path}={values}' --max-false-halt 0.01",
            scenario_arg(s)
        )
    } else {
        format!(
            "fleetsim sweep {} --param '{path}={values}'",
            scenario_arg(s)
        )
    })
}

/// A threshold as a short decimal: `0.005`, `2.5`.
fn short(x: f64) -> String {
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Where the harm fell: the stage (and model) that took most of it.
fn concentration(s: &SummaryFile, t: &Table) -> Vec<Advice> {
    let mut out = Vec::new();
    let by_stage = roll_up(t, "stage");
    if let Some((g, share)) = most_harmed(&by_stage) {
        let first = s.glance.stages.first().is_some_and(|st| st.name == g.name);
        let remedy = if first {
            "A smaller first stage, or a check that reads this harm sooner, would spare them."
        } else {
            "A stricter gate on the stage before it, a longer bake there, or a smaller share \
             for this stage would spare them."
        };
        out.push(said(format!(
            "{} of the harm fell on stage `{}` (a mean of {} of its {} devices per run): they \
             were harmed before any gate stopped the rollout. {remedy}",
            pct(share),
            g.name,
            human_value("harmed", Some(g.harmed)),
            human_value("devices", Some(g.devices)),
        )));
    }
    let by_model = roll_up(t, "model");
    if by_model.len() > 1 {
        if let Some((g, share)) = most_harmed(&by_model).filter(|(_, share)| *share > 0.5) {
            out.push(said(format!(
                "Model `{}` took {} of the harm: make sure the first stages sample it (e.g. a \
                 canary with `select = {{ model = \"{}\" }}`), so that its gate sees the \
                 defect early.",
                g.name,
                pct(share),
                g.name
            )));
        }
    }
    out
}

/// Stages no run (or only some runs) opened: their gates were never tested.
fn unopened(s: &SummaryFile) -> Vec<Advice> {
    let never: Vec<&str> = s
        .stages
        .iter()
        .filter(|st| st.opened_at.n == 0)
        .map(|st| st.stage.as_str())
        .collect();
    if never.is_empty() {
        return Vec::new();
    }
    vec![said(format!(
        "Stage{} {} never opened in any run: {} gates were never exercised here. To rehearse \
         them, run the healthy world (`fleetsim check` with a `world = \"healthy\"` expectation) \
         or a release whose defect the earlier stages miss.",
        if never.len() == 1 { "" } else { "s" },
        never
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", "),
        if never.len() == 1 { "its" } else { "their" },
    ))]
}
