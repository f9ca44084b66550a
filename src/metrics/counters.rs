//! Ground-truth counters of one replication, updated where the state they count changes.

use super::reasons::{Failure, Reason, REASONS};
use crate::engine::time::SimTime;
use crate::scenario::Scenario;

/// Shares of `targeted` whose first crossing time is recorded (`time_to_50/95/99`).
pub const ADOPTION_SHARES: [f64; 3] = [0.50, 0.95, 0.99];

#[derive(Clone, Debug, Default)]
pub struct Counters {
    pub targeted: u64,
    /// Targeted devices running the target now.
    pub on_target: u64,
    /// First time each share of [`ADOPTION_SHARES`] ran the target.
    pub adoption_at: [Option<SimTime>; 3],
    pub exposed: u64,
    pub harmed: u64,
    pub harmed_critical: u64,
    pub bricked: u64,
    pub rolled_back: u64,
    pub security_violations: u64,
    pub failures: [u64; 8],
    pub deferrals: [u64; REASONS.len()],
    pub peak_in_flight: u64,
    pub bytes_served: f64,
    pub download_times_ms: Vec<u64>,
    pub first_harm: Option<SimTime>,
    /// Stranded devices by reason, as of the moment the window closed.
    pub stranded: Option<[u64; REASONS.len()]>,
    /// `(device, time)` a device got back to its rollback target by a rollback install.
    pub recovered: Vec<(u32, u64)>,
    pub updates_started: u64,
}

impl Counters {
    pub fn new(_sc: &Scenario) -> Counters {
        Counters::default()
    }
    #[inline]
    pub fn fail(&mut self, f: Failure) {
        self.failures[f as usize] += 1;
    }
    #[inline]
    pub fn defer(&mut self, r: Reason) {
        self.deferrals[r as usize] += 1;
    }
    /// Records a change in the number of targeted devices on the target.
    pub fn target_delta(&mut self, entered: bool, now: SimTime, start: SimTime) {
        if entered {
            self.on_target += 1;
            for (i, share) in ADOPTION_SHARES.iter().enumerate() {
                let needed = (share * self.targeted as f64).ceil().max(1.0) as u64;
                if self.adoption_at[i].is_none() && self.on_target >= needed {
                    self.adoption_at[i] = Some(SimTime(now.0.saturating_sub(start.0)));
                }
            }
        } else {
            self.on_target -= 1;
        }
    }
}
