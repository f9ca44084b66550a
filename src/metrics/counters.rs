//! The recorder of ground truth of one replication, [`Counters`]: what truly happened to the
//! fleet, counted where the state it counts changes. It is written only through its methods
//! (one per fact: a start, a harm, a brick, bytes served, …) and read as plain data, a
//! [`Truth`], through `Deref`: readers see every count, no reader can change one.

use super::cohort::Slots;
use super::reasons::{Failure, Reason, FAILURES, REASONS};
use crate::engine::time::SimTime;
use crate::scenario::Scenario;

/// Shares of `targeted` whose first crossing time is recorded (`time_to_50/95/99`).
pub const ADOPTION_SHARES: [f64; 3] = [0.50, 0.95, 0.99];

/// Every count the recorder keeps.
#[derive(Clone, Debug, Default)]
pub struct Truth {
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
    /// Devices that rejected the update at least once (AWS `REJECTED`: refused before the
    /// start, or the image's signature rejected), each counted once.
    pub rejected: u64,
    /// Which devices have rejected it, a bit per device (rejections are rare: grown on
    /// demand, not sized to the fleet).
    rejected_devices: Vec<u64>,
    pub failures: [u64; FAILURES.len()],
    pub deferrals: [u64; REASONS.len()],
    pub peak_in_flight: u64,
    pub bytes_served: f64,
    pub download_times_ms: super::durations::Durations,
    pub first_harm: Option<SimTime>,
    /// Stranded devices by reason, as of the moment the window closed.
    pub stranded: Option<[u64; REASONS.len()]>,
    /// `(device, time)` a device got back to its rollback target by a rollback install.
    pub recovered: Vec<(u32, u64)>,
    pub updates_started: u64,
    /// A/B devices whose boot watchdog reverted a crash-looping image.
    pub watchdog_reverted: u64,
    /// Devices whose edge fail-safe reverted a configuration they could not report from.
    pub failsafe_reverted: u64,
    /// Delta downloads that failed to apply, after which the full image was downloaded.
    pub delta_fallbacks: u64,
    /// Where each model's, region's and stage's counts live (`by_cohort`).
    pub cohorts: Slots,
    /// Failure events by cohort slot and kind: each failure counts in its device's model,
    /// region and stage slot, so each dimension sums to `failures`.
    pub cohort_failures: Vec<[u64; FAILURES.len()]>,
    /// Stranded devices by cohort slot and reason, as `stranded`.
    pub cohort_stranded: Vec<[u64; REASONS.len()]>,
    /// `(device, version)` of every field visit done: the version it left the device on.
    pub field_visits: Vec<(u32, u8)>,
    /// What the field visits cost, summed.
    pub field_cost: f64,
}

/// The recorder: a [`Truth`] that only its methods write.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    truth: Truth,
}

impl std::ops::Deref for Counters {
    type Target = Truth;
    #[inline]
    fn deref(&self) -> &Truth {
        &self.truth
    }
}

impl Counters {
    pub fn new(sc: &Scenario) -> Counters {
        let cohorts = Slots::new(sc);
        let n = cohorts.len();
        Counters {
            truth: Truth {
                cohorts,
                cohort_failures: vec![[0; FAILURES.len()]; n],
                cohort_stranded: vec![[0; REASONS.len()]; n],
                ..Truth::default()
            },
        }
    }
    /// `n` more devices are targeted by the rollout.
    #[inline]
    pub fn target(&mut self, n: u64) {
        self.truth.targeted += n;
    }
    /// A device starts the update for the first time.
    #[inline]
    pub fn start_update(&mut self) {
        self.truth.updates_started += 1;
    }
    /// `n` executions are in flight now.
    #[inline]
    pub fn in_flight(&mut self, n: u64) {
        self.truth.peak_in_flight = self.truth.peak_in_flight.max(n);
    }
    /// The backend served `bytes` more.
    #[inline]
    pub fn serve(&mut self, bytes: f64) {
        self.truth.bytes_served += bytes;
    }
    /// A download finished after `ms`.
    #[inline]
    pub fn download_took(&mut self, ms: u64) {
        self.truth.download_times_ms.push(ms);
    }
    /// A device installed a tampered image.
    pub fn security_violation(&mut self) {
        self.truth.security_violations += 1;
    }
    /// A device's watchdog reverted its image.
    pub fn watchdog_revert(&mut self) {
        self.truth.watchdog_reverted += 1;
    }
    /// A device's fail-safe reverted its configuration.
    pub fn failsafe_revert(&mut self) {
        self.truth.failsafe_reverted += 1;
    }
    /// A delta failed to apply: the device falls back to the full image.
    pub fn delta_fallback(&mut self) {
        self.truth.delta_fallbacks += 1;
    }
    /// Device `d` rejected the update (counted once per device).
    pub fn reject(&mut self, d: u32) {
        let (word, bit) = (d as usize / 64, 1u64 << (d % 64));
        let words = &mut self.truth.rejected_devices;
        if words.len() <= word {
            words.resize(word + 1, 0);
        }
        if words[word] & bit == 0 {
            words[word] |= bit;
            self.truth.rejected += 1;
        }
    }
    /// A device booted the target release for the first time.
    pub fn expose(&mut self) {
        self.truth.exposed += 1;
    }
    /// A device was harmed at `now` (`critical`: of a high-criticality population).
    pub fn harm(&mut self, critical: bool, now: SimTime) {
        self.truth.harmed += 1;
        self.truth.harmed_critical += critical as u64;
        self.truth.first_harm.get_or_insert(now);
    }
    /// A device was bricked.
    pub fn brick(&mut self) {
        self.truth.bricked += 1;
    }
    /// Device `d` got back to its rollback target at `now_ms`.
    pub fn roll_back(&mut self, d: u32, now_ms: u64) {
        self.truth.rolled_back += 1;
        self.truth.recovered.push((d, now_ms));
    }
    /// A field visit reflashed device `d` to version `v`, at `cost`.
    pub fn field_visit(&mut self, d: u32, v: u8, cost: f64) {
        self.truth.field_visits.push((d, v));
        self.truth.field_cost += cost;
    }
    /// The devices stranded by reason as the window closed.
    pub fn strand(&mut self, by_reason: [u64; REASONS.len()]) {
        self.truth.stranded = Some(by_reason);
    }
    /// A device of population entry `population` in stage `stage` is stranded for `reason`:
    /// its cohorts' share of the `stranded` counts [`Counters::strand`] records.
    pub fn strand_in(&mut self, reason: Reason, population: u16, stage: u8) {
        let t = &mut self.truth;
        for s in t.cohorts.of(population, stage).into_iter().flatten() {
            t.cohort_stranded[s][reason as usize] += 1;
        }
    }
    /// One more device stranded for `reason` (found at the horizon, after the close), of
    /// population entry `population` in stage `stage`.
    pub fn strand_more(&mut self, reason: Reason, population: u16, stage: u8) {
        if let Some(stranded) = self.truth.stranded.as_mut() {
            stranded[reason as usize] += 1;
            self.strand_in(reason, population, stage);
        }
    }
    /// Test hook: every count, to corrupt and see the invariants catch it.
    #[cfg(test)]
    pub(crate) fn truth_mut(&mut self) -> &mut Truth {
        &mut self.truth
    }
    /// A failure event of a device of population entry `population` in stage `stage`.
    #[inline]
    pub fn fail(&mut self, f: Failure, population: u16, stage: u8) {
        let t = &mut self.truth;
        t.failures[f as usize] += 1;
        for s in t.cohorts.of(population, stage).into_iter().flatten() {
            t.cohort_failures[s][f as usize] += 1;
        }
    }
    #[inline]
    pub fn defer(&mut self, r: Reason) {
        self.truth.deferrals[r as usize] += 1;
    }
    /// Records a change in the number of targeted devices on the target.
    pub fn target_delta(&mut self, entered: bool, now: SimTime, start: SimTime) {
        if entered {
            self.truth.on_target += 1;
            for (i, share) in ADOPTION_SHARES.iter().enumerate() {
                let needed = (share * self.truth.targeted as f64).ceil().max(1.0) as u64;
                if self.truth.adoption_at[i].is_none() && self.truth.on_target >= needed {
                    self.truth.adoption_at[i] = Some(SimTime(now.0.saturating_sub(start.0)));
                }
            }
        } else {
            self.truth.on_target -= 1;
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
        let mut c = Counters::default();
        c.target(10);
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
        c.fail(Failure::Timeout, 0, 0);
        c.fail(Failure::Timeout, 0, 0);
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
