//! The outcome of one replication (SPEC §2): every metric by its stable name. This struct *is*
//! the schema of `replications.csv` and of the per-replication part of `summary.json`.

use crate::metrics::gate_log::GateRecord;
use crate::metrics::reasons::Reason;
use std::collections::BTreeMap;

/// Whether and when a shadow gate would have fired, and the true harm and exposure by then.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ShadowOutcome {
    pub name: String,
    pub fired: bool,
    /// Seconds since the scenario start.
    pub fired_at: Option<f64>,
    pub harmed_at_fire: Option<u64>,
    pub exposed_at_fire: Option<u64>,
}

/// All durations and times are seconds; rates are fractions in 0..1; `None` is "no value".
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    pub replication: u64,
    /// Devices in the fleet.
    pub devices: u64,
    /// Devices the rollout set out to update (the union of the stage cohorts).
    pub targeted: u64,
    /// Targeted devices running the target at the end.
    pub updated: u64,
    /// `updated / targeted`.
    pub completion: Option<f64>,
    /// Seconds from rollout start until 50 / 95 / 99 % of `targeted` ran the target.
    pub time_to_50: Option<f64>,
    pub time_to_95: Option<f64>,
    pub time_to_99: Option<f64>,
    /// Devices that booted (or tried to boot) the target.
    pub exposed: u64,
    /// Blast radius: devices that suffered a defect effect or were bricked by the rollout.
    pub harmed: u64,
    pub harmed_critical: u64,
    pub bricked: u64,
    pub halted: bool,
    pub halt_reason: Option<String>,
    /// Seconds since the scenario start.
    pub halted_at: Option<f64>,
    pub final_stage: Option<String>,
    /// Seconds from the first harm to the first failed gate or abort (`None` without harm,
    /// without a halt, or when the halt came before any harm).
    pub time_to_detect: Option<f64>,
    pub false_halt: bool,
    pub rolled_back: u64,
    pub rollback_refused: u64,
    /// Exposed devices that had to go back but whose rollback never completed (still on the
    /// target at the end, not refused), so that `rolled_back + rollback_refused +
    /// rollback_stranded` is every exposed device the rollback had to return.
    #[serde(default)]
    pub rollback_stranded: u64,
    /// `rollback_stranded` by reason: `offline` (never came back online for it), a preflight
    /// reason (`storage`, `battery`, …), `retries_exhausted`, `in_progress` (still under way
    /// at the horizon), `not_notified` (the rollback's rate never reached it).
    #[serde(default)]
    pub rollback_stranded_by_reason: BTreeMap<String, u64>,
    /// Seconds from the rollback decision until 95 % of recoverable exposed devices ran
    /// their rollback version.
    pub time_to_recover_95: Option<f64>,
    pub stranded: u64,
    pub stranded_by_reason: BTreeMap<String, u64>,
    pub failures_by_reason: BTreeMap<String, u64>,
    /// Preflight deferrals by reason (every check that defers a device counts).
    pub deferrals_by_reason: BTreeMap<String, u64>,
    pub security_violations: u64,
    /// A/B devices whose boot watchdog reverted a crash-looping image by itself.
    #[serde(default)]
    pub watchdog_reverted: u64,
    /// Devices whose edge fail-safe reverted a configuration after losing the backend.
    #[serde(default)]
    pub failsafe_reverted: u64,
    /// Delta downloads that failed to apply (the full image was downloaded then).
    #[serde(default)]
    pub delta_fallbacks: u64,
    /// Devices quarantined to support after `policy.quarantine.after_failures` failed attempts.
    #[serde(default)]
    pub quarantined: u64,
    /// The most items (tickets and quarantined devices) in the support queue at once (`None`
    /// without `support.capacity_per_day`).
    #[serde(default)]
    pub support_backlog_peak: Option<u64>,
    /// Seconds from the first support item until the queue is empty again after its peak
    /// (`None` without a queue or items, or when it is not empty again by the horizon).
    #[serde(default)]
    pub time_to_clear_support: Option<f64>,
    /// Bricked devices a field visit brought back before the horizon.
    #[serde(default)]
    pub field_visits: u64,
    /// What those visits cost (`field_visits × support.field_visit.cost`).
    #[serde(default)]
    pub field_cost: f64,
    /// Targeted devices that rejected the update at least once (the job refused before the
    /// start: incompatible API, blocked migration, storage; or the image's signature rejected).
    #[serde(default)]
    pub rejected: u64,
    pub peak_in_flight: u64,
    pub bytes_served: f64,
    pub download_time_p50: Option<f64>,
    pub download_time_p95: Option<f64>,
    /// The backend's view at the end: devices whose latest reported result is a success / a
    /// failure, devices past the timeout, and support tickets opened.
    pub observed_success: u64,
    pub observed_failure: u64,
    pub observed_timed_out: u64,
    /// Devices whose latest outcome the backend heard is `rejected`.
    #[serde(default)]
    pub observed_rejected: u64,
    pub observed_tickets: u64,
    /// Events processed (a work measure, not a timing).
    pub events: u64,
    /// What each `[[policy.shadow_gate]]` would have done.
    pub shadow_gates: Vec<ShadowOutcome>,
    /// Gate evaluations of this replication (in `stages.csv`, not in `replications.csv`).
    pub gates: Vec<GateRecord>,
    /// Seconds since the scenario start at which each stage opened, in stage order (`None`:
    /// never reached). Aggregated in `summary.json`; drawn as markers in the report's plots.
    #[serde(default)]
    pub stage_opened_at: Vec<Option<f64>>,
    /// Seconds since the scenario start at which the rollback was decided.
    #[serde(default)]
    pub rollback_at: Option<f64>,
    /// Harmed and bricked devices, failures and stranded devices by reason, per model, region
    /// and stage (in `summary.json`, not in `replications.csv`: the cohorts depend on the
    /// scenario).
    #[serde(default)]
    pub by_cohort: crate::metrics::cohort::ByCohort,
}

/// A rollback-stranded device still mid-rollback at the horizon.
pub const IN_PROGRESS: &str = "in_progress";
/// A rollback-stranded device the rollback never reached.
pub const NOT_NOTIFIED: &str = "not_notified";

/// The reasons of `rollback_stranded_by_reason`, every one always present (a fixed set of
/// columns in `replications.csv`).
/// Deferral reasons named from [`Reason`], plus two of the rollback's own: `in_progress` (still
/// under way at the horizon) and `not_notified` (the rollback's rate never reached it).
pub const ROLLBACK_STRANDED_REASONS: [&str; 12] = [
    Reason::Offline.name(),
    Reason::Battery.name(),
    Reason::Storage.name(),
    Reason::Metered.name(),
    Reason::Maintenance.name(),
    Reason::IncompatibleApi.name(),
    Reason::Bandwidth.name(),
    Reason::InFlightLimit.name(),
    Reason::RetriesExhausted.name(),
    IN_PROGRESS,
    NOT_NOTIFIED,
    Reason::Cancelled.name(),
];
