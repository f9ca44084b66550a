//! `summary.json`: the scenario's identity, every metric's cross-replication aggregate, and
//! per-stage gate decisions.

use crate::analysis::run::Summary;
use crate::metrics::outcome::Outcome;
use crate::scenario::model::Expect;
use crate::scenario::Scenario;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct StageDecisions {
    pub stage: String,
    /// Replications in which the stage's gate was judged at least once.
    pub judged: u64,
    pub passed: u64,
    pub failed: u64,
    pub insufficient: u64,
    /// Failed checks by metric name, over all replications.
    pub failed_checks: BTreeMap<String, u64>,
}

#[derive(serde::Serialize)]
pub struct SummaryFile<'a> {
    pub scenario: &'a str,
    pub file: &'a str,
    pub fleetsim_version: &'a str,
    pub seed: u64,
    pub replications: u64,
    /// Seconds.
    pub horizon: f64,
    pub devices: u64,
    #[serde(flatten)]
    pub summary: &'a Summary,
    pub stages: Vec<StageDecisions>,
    /// The scenario's `[[expect]]` entries (evaluated by `fleetsim check`).
    pub expect: &'a [Expect],
}

pub fn stage_decisions(sc: &Scenario, outcomes: &[Outcome]) -> Vec<StageDecisions> {
    let mut out: Vec<StageDecisions> = sc
        .policy
        .stages
        .iter()
        .map(|s| StageDecisions {
            stage: s.name.clone(),
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
            if recs.iter().any(|r| !r.passed) {
                d.failed += 1;
                for r in recs.iter().filter(|r| !r.passed) {
                    *d.failed_checks.entry(r.check.clone()).or_insert(0) += 1;
                }
            } else {
                d.passed += 1;
            }
        }
    }
    out
}

pub fn render(sc: &Scenario, summary: &Summary, outcomes: &[Outcome]) -> String {
    let file = SummaryFile {
        scenario: &sc.name,
        file: &sc.file,
        fleetsim_version: env!("CARGO_PKG_VERSION"),
        seed: sc.seed,
        replications: outcomes.len() as u64,
        horizon: sc.horizon.as_secs_f64(),
        devices: sc.device_count(),
        summary,
        stages: stage_decisions(sc, outcomes),
        expect: &sc.expects,
    };
    let mut s =
        serde_json::to_string_pretty(&file).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
