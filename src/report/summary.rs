//! `summary.json`: the scenario's identity and shape at a glance, every metric's
//! cross-replication aggregate, per-stage gate decisions and opening times, and the verdicts on
//! the scenario's `[[expect]]` entries. The struct is the file's schema, and it reads back:
//! `fleetsim report DIR` renders the HTML report from this file and the CSV files beside it.

use super::glance::{glance, Glance};
use crate::analysis::expect::{evaluate, Verdict};
use crate::analysis::run::Summary;
use crate::metrics::gate_log::GateRecord;
use crate::metrics::outcome::Outcome;
use crate::scenario::model::Expect;
use crate::scenario::Scenario;
use crate::stats::{aggregate, Aggregate};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StageDecisions {
    pub stage: String,
    /// Replications in which the stage's gate was judged at least once.
    pub judged: u64,
    pub passed: u64,
    pub failed: u64,
    pub insufficient: u64,
    /// Failed checks by metric name, over all replications.
    pub failed_checks: BTreeMap<String, u64>,
    /// Seconds since the scenario start at which the stage opened, over the replications that
    /// reached it.
    #[serde(default)]
    pub opened_at: Aggregate,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SummaryFile {
    pub scenario: String,
    pub file: String,
    pub fleetsim_version: String,
    pub seed: u64,
    pub replications: u64,
    /// Seconds.
    pub horizon: f64,
    pub devices: u64,
    #[serde(flatten)]
    pub summary: Summary,
    pub stages: Vec<StageDecisions>,
    /// Seconds since the scenario start at which a rollback was decided, over the replications
    /// that rolled back.
    #[serde(default)]
    pub rollback_at: Aggregate,
    /// The scenario's `[[expect]]` entries.
    pub expect: Vec<Expect>,
    /// The verdict on each of them for this run (what `fleetsim check` would print).
    #[serde(default)]
    pub expectations: Vec<Verdict>,
    /// The fleet, releases and policy that were simulated.
    #[serde(default)]
    pub glance: Glance,
}

pub fn stage_decisions(sc: &Scenario, outcomes: &[Outcome]) -> Vec<StageDecisions> {
    let mut out: Vec<StageDecisions> = sc
        .policy
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| StageDecisions {
            stage: s.name.clone(),
            opened_at: aggregate(
                &outcomes
                    .iter()
                    .map(|o| o.stage_opened_at.get(i).copied().flatten())
                    .collect::<Vec<_>>(),
            ),
            ..Default::default()
        })
        .collect();
    for o in outcomes {
        for (i, s) in sc.policy.stages.iter().enumerate() {
            let recs: Vec<_> = o.gates.iter().filter(|g| g.stage == s.name).collect();
            if recs.is_empty() {
                continue;
            }
            let d = &mut out[i];
            d.judged += 1;
            if recs.iter().any(|r| r.decision.starts_with("insufficient")) {
                d.insufficient += 1;
            }
            // A check that waited to be judged again (`insufficient:wait` / `:extend`) is not a
            // failure of the stage.
            let failed = |r: &&&GateRecord| {
                !r.passed && !r.decision.ends_with(":wait") && !r.decision.ends_with(":extend")
            };
            if recs.iter().any(|r| failed(&r)) {
                d.failed += 1;
                for r in recs.iter().filter(failed) {
                    *d.failed_checks.entry(r.check.clone()).or_insert(0) += 1;
                }
            } else {
                d.passed += 1;
            }
        }
    }
    out
}

pub fn summary_file(sc: &Scenario, summary: &Summary, outcomes: &[Outcome]) -> SummaryFile {
    SummaryFile {
        scenario: sc.name.clone(),
        file: sc.file.clone(),
        fleetsim_version: env!("CARGO_PKG_VERSION").into(),
        seed: sc.seed,
        replications: outcomes.len() as u64,
        horizon: sc.horizon.as_secs_f64(),
        devices: sc.device_count(),
        summary: summary.clone(),
        stages: stage_decisions(sc, outcomes),
        rollback_at: aggregate(&outcomes.iter().map(|o| o.rollback_at).collect::<Vec<_>>()),
        expect: sc.expects.clone(),
        // Healthy-world expectations are judged here only when the scenario has no defect (both
        // worlds are then the same); `check` runs the healthy world for the others.
        expectations: evaluate(
            &sc.expects,
            outcomes,
            (!sc.has_defects()).then_some(outcomes),
        ),
        glance: glance(sc),
    }
}

pub fn render(sc: &Scenario, summary: &Summary, outcomes: &[Outcome]) -> String {
    let file = summary_file(sc, summary, outcomes);
    super::versioned::pretty(&file)
}
