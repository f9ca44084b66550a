//! A battery device's charge over time (SPEC §1.3, §1.3b): the level drains at
//! `drain_per_day` (times a `battery-drain` defect's factor while it acts), installs and
//! downloads spend it, and a recharge every `every` restores `recharge_to`. A battery that
//! reaches 0 keeps the device offline until its next recharge: [`Battery::flat_near`] gives
//! the reachability overlay those stretches.
//!
//! The level is a function of time, not a stored number: the device record keeps only what it
//! spent in the current recharge period, so a battery that nobody asks about costs nothing.

use crate::engine::time::DAY_MS;

/// A level at or below this is an empty battery (the spent amount is an `f32`: its rounding
/// must not keep a spent battery alive on its last millionths).
const EMPTY: f64 = 1e-6;

/// What decides one device's battery level at any time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Battery {
    /// The level at time zero (drawn from the profile's `level`).
    pub initial: f64,
    /// The recharge period (`None`: never recharged) and the level it restores.
    pub every: Option<u64>,
    pub recharge_to: f64,
    pub drain_per_day: f64,
    /// A `battery-drain` defect multiplies the drain by `factor` in `[onset, left_at)`.
    pub factor: f64,
    pub onset: u64,
    pub left_at: u64,
    /// What installs and downloads spent in recharge period `spent_epoch`.
    pub spent: f64,
    pub spent_epoch: u64,
}

impl Battery {
    /// The recharge period that contains `t` and when it starts.
    fn epoch(&self, t: u64) -> (u64, u64) {
        match self.every {
            Some(every) if t >= every => (t / every, t / every * every),
            _ => (0, 0),
        }
    }

    /// The level at `t` (0..1), assuming nothing more is spent before `t`.
    pub fn level(&self, t: u64) -> f64 {
        let (epoch, epoch_start) = self.epoch(t);
        let base = if epoch == 0 {
            self.initial
        } else {
            self.recharge_to
        };
        // A battery-drain defect multiplies the drain only while it acts: from its onset (boot
        // plus `after`) until the device leaves the release. Drain spent before the onset is
        // not multiplied, and what it drained stays drained after the device leaves, until the
        // next recharge.
        let boosted_ms = self
            .left_at
            .min(t)
            .saturating_sub(self.onset.max(epoch_start)) as f64
            * (self.factor - 1.0);
        let drained_ms = (t - epoch_start) as f64 + boosted_ms;
        let spent = if self.spent_epoch == epoch {
            self.spent
        } else {
            0.0
        };
        (base - self.drain_per_day * drained_ms / DAY_MS as f64 - spent).clamp(0.0, 1.0)
    }

    /// The flat stretch `[from, to)` of recharge period `epoch` (empty: the battery lasts it):
    /// from when the level reaches 0 until the next recharge. What was spent in the period
    /// counts from its start: the window may begin before the spend that emptied it, which
    /// no one asks about (the device was reachable then and every question is about now or
    /// later).
    fn flat_in(&self, epoch: u64) -> (u64, u64) {
        let (start, end) = match self.every {
            Some(every) => (
                epoch.saturating_mul(every),
                (epoch + 1).saturating_mul(every),
            ),
            None => (0, u64::MAX),
        };
        let base = if epoch == 0 {
            self.initial
        } else {
            self.recharge_to
        };
        let spent = if self.spent_epoch == epoch {
            self.spent
        } else {
            0.0
        };
        let budget = base - spent;
        // What was spent is kept in 32 bits: a battery spent to its last few millionths is empty.
        if budget <= EMPTY {
            return (start, end);
        }
        if self.drain_per_day <= 0.0 {
            return (0, 0);
        }
        // Milliseconds of plain drain the budget lasts; the defect's stretch counts `factor`
        // times each millisecond.
        let mut need = budget * DAY_MS as f64 / self.drain_per_day;
        let boost_from = self.onset.clamp(start, end);
        let boost_to = self.left_at.clamp(boost_from, end);
        let plain = (boost_from - start) as f64;
        let flat_at = if need <= plain {
            start as f64 + need
        } else {
            need -= plain;
            let boosted = (boost_to - boost_from) as f64 * self.factor;
            if need <= boosted {
                boost_from as f64 + need / self.factor
            } else {
                boost_to as f64 + (need - boosted)
            }
        };
        let from = flat_at.ceil();
        if from >= end as f64 {
            return (0, 0);
        }
        (from as u64, end)
    }

    /// The flat stretch that contains `t`, or the next one after `t` (empty if the battery
    /// lasts this period and the next): the shape the overlay's down intervals have.
    pub fn flat_near(&self, t: u64) -> (u64, u64) {
        let (epoch, _) = self.epoch(t);
        let (from, to) = self.flat_in(epoch);
        if from < to && t < to {
            return (from, to);
        }
        match self.every {
            Some(_) => self.flat_in(epoch + 1),
            None => (0, 0),
        }
    }

    /// How long from `t` until the level reaches 0 while a download also spends
    /// `spend_per_ms` (none: it lasts the whole period).
    pub fn lasts_ms(&self, t: u64, spend_per_ms: f64) -> Option<u64> {
        let level = self.level(t);
        let factor = if self.onset <= t && t < self.left_at {
            self.factor
        } else {
            1.0
        };
        let rate = self.drain_per_day * factor / DAY_MS as f64 + spend_per_ms;
        (rate > 0.0).then(|| (level / rate).ceil().min(u64::MAX as f64) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn battery(initial: f64, drain_per_day: f64, every: Option<u64>) -> Battery {
        Battery {
            initial,
            every,
            recharge_to: 1.0,
            drain_per_day,
            factor: 1.0,
            onset: u64::MAX,
            left_at: u64::MAX,
            spent: 0.0,
            spent_epoch: 0,
        }
    }

    /// Half a battery at 0.25 a day lasts 2 days, then stays flat (no recharge).
    #[test]
    fn drain_alone_empties_at_level_over_drain() {
        let b = battery(0.5, 0.25, None);
        assert_eq!(b.flat_near(0), (2 * DAY_MS, u64::MAX));
        assert!(b.level(2 * DAY_MS - 1) > 0.0);
        assert_eq!(b.level(2 * DAY_MS), 0.0);
    }

    /// With a daily recharge to 1.0 and a drain of 2 a day, every day after the first runs
    /// flat at noon; the first day, from 0.25, at 3 h.
    #[test]
    fn recharges_bring_the_device_back_each_period() {
        let b = battery(0.25, 2.0, Some(DAY_MS));
        assert_eq!(b.flat_near(0), (3 * 3_600_000, DAY_MS));
        assert_eq!(b.flat_near(DAY_MS - 1), (3 * 3_600_000, DAY_MS));
        assert_eq!(b.flat_near(DAY_MS), (DAY_MS + DAY_MS / 2, 2 * DAY_MS));
        assert_eq!(b.flat_near(DAY_MS + 1), (DAY_MS + DAY_MS / 2, 2 * DAY_MS));
    }

    /// A drain defect of factor 3 from 12 h: 0.5 at 0.5 a day lasts 12 h of plain drain (0.25
    /// left), then 0.25 / 1.5 a day = 4 h more.
    #[test]
    fn a_drain_defect_speeds_the_end() {
        let b = Battery {
            factor: 3.0,
            onset: DAY_MS / 2,
            ..battery(0.5, 0.5, None)
        };
        assert_eq!(b.flat_near(0).0, DAY_MS / 2 + 4 * 3_600_000);
        assert!(b.level(DAY_MS / 2 + 4 * 3_600_000) < 1e-12);
    }

    /// What was spent empties the battery at once (the stretch counts from the period start)
    /// and belongs only to its period.
    #[test]
    fn spending_everything_flattens_until_the_recharge() {
        let b = Battery {
            spent: 1.0,
            spent_epoch: 1,
            ..battery(1.0, 0.0, Some(DAY_MS))
        };
        assert_eq!(b.flat_near(DAY_MS + 5), (DAY_MS, 2 * DAY_MS));
        assert_eq!(
            b.flat_near(5),
            (DAY_MS, 2 * DAY_MS),
            "period 0 lasts; 1 is flat"
        );
        assert_eq!(
            b.flat_near(2 * DAY_MS),
            (0, 0),
            "a fresh charge without drain lasts"
        );
    }

    /// A download spending 0.1 a second empties 0.5 in 5 s.
    #[test]
    fn a_download_spends_as_it_goes() {
        let b = battery(0.5, 0.0, None);
        assert_eq!(b.lasts_ms(0, 0.1 / 1000.0), Some(5_000));
        assert_eq!(b.lasts_ms(0, 0.0), None);
    }
}
