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

/// Outcome metrics an `[[expect]]` may name (SPEC §2, plus the observed-view counters).
pub const OUTCOME_METRICS: [&str; 29] = [
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
    "peak_in_flight",
    "bytes_served",
    "download_time_p50",
    "download_time_p95",
    "observed_success",
    "observed_failure",
    "observed_timed_out",
    "observed_tickets",
    "halted",
    "false_halt",
];
pub const STATS: [&str; 9] = [
    "mean", "sd", "min", "p5", "p50", "p95", "p99", "max", "rate",
];
