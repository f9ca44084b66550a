//! The fault space of `[chaos]` (SPEC §1.7): which fault kinds a campaign may draw and the
//! defaults of a space the file leaves open. Validation checks a `[chaos]` table against these;
//! `fault::campaign` draws from the result.

use super::model::{Chaos, Scenario};
use crate::engine::time::SimTime;

/// Fault kinds a campaign can draw (every kind of SPEC §1.7 but `backend-api`, which needs a
/// backend version the campaign cannot invent).
pub const DRAWABLE: [&str; 8] = [
    "network-outage",
    "power-outage",
    "cdn-degradation",
    "corrupt-artifact",
    "tampered-artifact",
    "telemetry-delay",
    "telemetry-drop",
    "clock-skew",
];

/// Faults per schedule and schedules per campaign when `[chaos]` does not say.
pub const DEFAULT_MAX_FAULTS: u32 = 3;
pub const DEFAULT_CAMPAIGNS: u32 = 50;
/// Fault durations when `[chaos]` gives no `duration`: 10 minutes to 2 days, in seconds.
pub const DEFAULT_DURATION_S: (f64, f64) = (600.0, 172_800.0);

/// Fault start times when `[chaos]` gives no `at`: the first 90 % of the rollout window, so a
/// fault has time to matter, in seconds since the scenario start.
pub fn default_at_s(window_end: SimTime, horizon: SimTime) -> (f64, f64) {
    (0.0, window_end.min(horizon).as_secs_f64() * 0.9)
}

/// The fault space of a scenario without a `[chaos]` table.
pub fn default_chaos(sc: &Scenario) -> Chaos {
    Chaos {
        kinds: DRAWABLE.iter().map(|k| k.to_string()).collect(),
        max_faults: DEFAULT_MAX_FAULTS,
        campaigns: DEFAULT_CAMPAIGNS,
        at_s: default_at_s(sc.policy.window_end, sc.horizon),
        duration_s: DEFAULT_DURATION_S,
        scopes: None,
    }
}
