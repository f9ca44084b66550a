//! The record of every gate and abort-rule check a replication evaluated (`stages.csv`,
//! `summary.json`): written by the policy, read by the outcome and the reports.

/// One gate (or abort-rule) check as evaluated, for `stages.csv` and `summary.json`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct GateRecord {
    pub stage: String,
    /// Seconds since the scenario start.
    pub time: f64,
    pub check: String,
    pub test: String,
    /// Numerator and denominator of the observed value (count over devices, or crashes over
    /// device-days).
    pub count: f64,
    pub base: f64,
    pub observed: Option<f64>,
    /// The confidence bound compared with the threshold (`wilson` tests).
    pub bound: Option<f64>,
    pub threshold: f64,
    pub passed: bool,
    pub decision: String,
}
