//! Names a user writes or reads: fault kinds, outcome metrics and statistics. Validation
//! checks input against these lists and the reports print them; each is written here once.

/// Fault kinds of SPEC §1.7, every one simulated.
pub const FAULT_KINDS: [&str; 9] = [
    "network-outage",
    "power-outage",
    "cdn-degradation",
    "corrupt-artifact",
    "tampered-artifact",
    "telemetry-delay",
    "telemetry-drop",
    "backend-api",
    "clock-skew",
];

/// The numeric outcome metrics of a replication (SPEC §2, plus the observed-view counters), in
/// the order of `replications.csv` and of `analysis::run::numeric_metrics`, which a test keeps
/// in step.
pub const NUMERIC_METRICS: [&str; 37] = [
    "devices",
    "targeted",
    "updated",
    "completion",
    "time_to_50",
    "time_to_95",
    "time_to_99",
    "exposed",
    "harmed",
    "harmed_critical",
    "bricked",
    "halted_at",
    "time_to_detect",
    "rolled_back",
    "rollback_refused",
    "rollback_stranded",
    "time_to_recover_95",
    "stranded",
    "security_violations",
    "watchdog_reverted",
    "failsafe_reverted",
    "delta_fallbacks",
    "quarantined",
    "support_backlog_peak",
    "time_to_clear_support",
    "field_visits",
    "field_cost",
    "rejected",
    "peak_in_flight",
    "bytes_served",
    "download_time_p50",
    "download_time_p95",
    "observed_success",
    "observed_failure",
    "observed_timed_out",
    "observed_rejected",
    "observed_tickets",
];

/// The yes/no outcome metrics: judged with the stat `rate`, written after the numeric ones.
pub const YES_NO_METRICS: [&str; 2] = ["halted", "false_halt"];

/// Whether `metric` is one of [`YES_NO_METRICS`].
pub fn is_yes_no(metric: &str) -> bool {
    YES_NO_METRICS.contains(&metric)
}

/// Outcome metrics an `[[expect]]` may name: the numeric ones, then the yes/no ones.
pub const OUTCOME_METRICS: [&str; NUMERIC_METRICS.len() + YES_NO_METRICS.len()] = {
    let mut out = [""; NUMERIC_METRICS.len() + YES_NO_METRICS.len()];
    let mut i = 0;
    while i < NUMERIC_METRICS.len() {
        out[i] = NUMERIC_METRICS[i];
        i += 1;
    }
    let mut j = 0;
    while j < YES_NO_METRICS.len() {
        out[i + j] = YES_NO_METRICS[j];
        j += 1;
    }
    out
};

/// Statistics across replications an expectation or guard may name.
pub const STATS: [&str; 9] = [
    "mean", "sd", "min", "p5", "p50", "p95", "p99", "max", "rate",
];
