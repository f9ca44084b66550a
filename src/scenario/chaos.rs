//! The fault space of `[chaos]` (SPEC §1.7): which fault kinds a campaign may draw and the
//! defaults of a space the file leaves open. Validation checks a `[chaos]` table against these;
//! `fault::campaign` draws from the result.

use super::catalog::FAULT_KINDS;
use super::model::{Chaos, Scenario};
use crate::engine::time::SimTime;

/// Where `backend-api` stands in [`FAULT_KINDS`].
const BACKEND_API: usize = 7;

/// Fault kinds a campaign can draw: every kind of [`FAULT_KINDS`] but `backend-api`, which
/// needs a backend version the campaign cannot invent.
pub const DRAWABLE: [&str; FAULT_KINDS.len() - 1] = {
    let mut out = [""; FAULT_KINDS.len() - 1];
    let (mut i, mut j) = (0, 0);
    while i < FAULT_KINDS.len() {
        if i != BACKEND_API {
            out[j] = FAULT_KINDS[i];
            j += 1;
        }
        i += 1;
    }
    out
};

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

#[cfg(test)]
mod tests {
    #[test]
    fn a_campaign_draws_every_fault_kind_but_backend_api() {
        assert_eq!(super::FAULT_KINDS[super::BACKEND_API], "backend-api");
        assert!(!super::DRAWABLE.contains(&"backend-api"));
        assert!(super::DRAWABLE
            .iter()
            .all(|k| super::FAULT_KINDS.contains(k)));
    }
}
