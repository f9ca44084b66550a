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

#[cfg(test)]
mod tests {
    use super::*;

    /// `time_to_50/95/99` are the first moments ⌈share × targeted⌉ devices ran the target,
    /// counted from the rollout's start; a device leaving the target (a rollback) never moves
    /// a crossing already recorded.
    #[test]
    fn adoption_times_are_first_crossings_from_the_start() {
        let mut c = Counters {
            targeted: 10,
            ..Counters::default()
        };
        let start = SimTime(1_000);
        for k in 1..=10u64 {
            c.target_delta(true, SimTime(1_000 + k * 100), start);
            if k == 5 {
                // Back below half: the 50 % crossing stays where it was.
                c.target_delta(false, SimTime(1_550), start);
                c.target_delta(true, SimTime(1_560), start);
            }
        }
        assert_eq!(c.on_target, 10);
        // 50 %: the 5th device, at 1 500 (500 after the start); 95 % and 99 %: ⌈9.5⌉ = ⌈9.9⌉ =
        // 10 devices, at 2 000.
        assert_eq!(
            c.adoption_at,
            [
                Some(SimTime(500)),
                Some(SimTime(1_000)),
                Some(SimTime(1_000))
            ]
        );
    }

    /// Failures and deferrals are counted by their kind's index, the order of the names every
    /// output uses.
    #[test]
    fn failures_and_deferrals_count_by_kind() {
        let mut c = Counters::default();
        c.fail(Failure::Timeout);
        c.fail(Failure::Timeout);
        c.defer(Reason::Battery);
        let named = |i: usize| crate::metrics::reasons::FAILURES[i].0;
        let timeouts: Vec<&str> = (0..8).filter(|&i| c.failures[i] == 2).map(named).collect();
        assert_eq!(timeouts, ["timeout"]);
        assert_eq!(c.failures.iter().sum::<u64>(), 2);
        let deferred: Vec<&str> = (0..REASONS.len())
            .filter(|&i| c.deferrals[i] == 1)
            .map(|i| REASONS[i].0)
            .collect();
        assert_eq!(deferred, ["battery"]);
    }
}
