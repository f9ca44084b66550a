//! Analysis runs (Argo Rollouts `AnalysisTemplate` metrics, Flagger): a gate measured again
//! every `interval` after its first measurement at `bake`, instead of judged once.
//!
//! Each check is one Argo metric with the gate's limits, counted on its own, and assessed after
//! every measurement as Argo's `assessMetricStatus` does: *failed* once its failed measurements
//! exceed `failure_limit`; else *inconclusive* once its inconclusive ones exceed
//! `inconclusive_limit`; else *successful* once `consecutive_success_limit` passes in a row are
//! reached, or at `count` measurements (with a `consecutive_success_limit` not reached by then:
//! *inconclusive*, Argo's rule when both limits apply). A check that is decided is no longer
//! measured. The run is decided by the worst of its checks as soon as one fails or is
//! inconclusive (Argo terminates the run then), and passes when every check has passed.
//!
//! The controller (`super::rollout`) takes the measurements and acts on a run's outcome: a
//! failed run as the gate's `on_fail`, an inconclusive one as `on_inconclusive` — `pause`
//! (Argo: the rollout waits for a human, as a gate's pause does), `pass`, or `extend` (a new
//! run, its counts from zero, one `interval` later).

use super::gate::Measured;
use crate::scenario::model::Analysis;

/// One check's counts in the current analysis run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckRun {
    pub failed: u32,
    pub inconclusive: u32,
    pub consecutive_passes: u32,
    /// What decided it, once decided.
    pub decided: Option<Decided>,
}

/// How a check of an analysis run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decided {
    Passed,
    Failed,
    Inconclusive,
}

/// A stage gate's analysis run: measurements taken and each check's counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunState {
    pub measurements: u32,
    pub checks: Vec<CheckRun>,
}

impl CheckRun {
    /// Counts one measurement and decides the check if a limit is reached after
    /// `measurements` measurements of the run.
    fn count(&mut self, m: Measured, measurements: u32, a: &Analysis) {
        match m {
            Measured::Pass => self.consecutive_passes += 1,
            Measured::Fail => {
                self.failed += 1;
                self.consecutive_passes = 0;
            }
            Measured::Inconclusive => {
                self.inconclusive += 1;
                self.consecutive_passes = 0;
            }
        }
        self.decided = if self.failed > a.failure_limit {
            Some(Decided::Failed)
        } else if self.inconclusive > a.inconclusive_limit {
            Some(Decided::Inconclusive)
        } else if a
            .consecutive_success_limit
            .is_some_and(|c| self.consecutive_passes >= c)
        {
            Some(Decided::Passed)
        } else if a.count.is_some_and(|n| measurements >= n) {
            Some(match a.consecutive_success_limit {
                Some(_) => Decided::Inconclusive,
                None => Decided::Passed,
            })
        } else {
            None
        };
    }
}

/// Where an analysis run stands after a measurement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// These checks (by index) failed: the gate fails.
    Failed(Vec<usize>),
    /// A check is inconclusive: `on_inconclusive` decides.
    Inconclusive,
    /// Every check passed.
    Passed,
    /// Not decided: measure again one `interval` later.
    Continue,
}

impl RunState {
    /// Starts the run's next measurement of a gate with `checks` checks: which checks are
    /// still measured.
    pub fn begin_measurement(&mut self, checks: usize) -> Vec<bool> {
        if self.checks.len() != checks {
            self.checks = vec![CheckRun::default(); checks];
        }
        self.measurements += 1;
        self.checks.iter().map(|c| c.decided.is_none()).collect()
    }

    /// Counts check `k`'s measurement.
    pub fn record(&mut self, k: usize, m: Measured, a: &Analysis) {
        let n = self.measurements;
        self.checks[k].count(m, n, a);
    }

    /// The run's outcome so far: the worst decided check, as soon as one fails or is
    /// inconclusive.
    pub fn outcome(&self) -> RunOutcome {
        let failed: Vec<usize> = (0..self.checks.len())
            .filter(|&k| self.checks[k].decided == Some(Decided::Failed))
            .collect();
        if !failed.is_empty() {
            RunOutcome::Failed(failed)
        } else if self
            .checks
            .iter()
            .any(|c| c.decided == Some(Decided::Inconclusive))
        {
            RunOutcome::Inconclusive
        } else if self
            .checks
            .iter()
            .all(|c| c.decided == Some(Decided::Passed))
        {
            RunOutcome::Passed
        } else {
            RunOutcome::Continue
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::raw::OnInconclusive;

    fn analysis(count: Option<u32>, csl: Option<u32>) -> Analysis {
        Analysis {
            interval_ms: Some(1),
            count,
            failure_limit: 1,
            consecutive_success_limit: csl,
            inconclusive_limit: 0,
            on_inconclusive: OnInconclusive::Pause,
        }
    }

    /// Feeds `seq` to a check and returns what decided it, and after how many measurements.
    fn run(a: Analysis, seq: &[Measured]) -> Option<(Decided, u32)> {
        let mut c = CheckRun::default();
        for (k, &m) in seq.iter().enumerate() {
            c.count(m, k as u32 + 1, &a);
            if let Some(d) = c.decided {
                return Some((d, k as u32 + 1));
            }
        }
        None
    }

    use Measured::{Fail as F, Inconclusive as I, Pass as P};

    /// Argo's rules, measurement by measurement: `failure_limit = 1` tolerates one failure,
    /// the second fails the check; one inconclusive exceeds `inconclusive_limit = 0`; the
    /// count passes a check without a consecutive-success limit; with one, its run of passes
    /// passes early, and a count reached without it is inconclusive.
    #[test]
    fn each_limit_decides_as_argo_assesses_a_metric() {
        assert_eq!(
            run(analysis(Some(5), None), &[P, F, P, F]),
            Some((Decided::Failed, 4))
        );
        assert_eq!(
            run(analysis(Some(5), None), &[P, F, P, P, P]),
            Some((Decided::Passed, 5))
        );
        assert_eq!(
            run(analysis(Some(5), None), &[P, I]),
            Some((Decided::Inconclusive, 2))
        );
        assert_eq!(
            run(analysis(Some(6), Some(3)), &[P, F, P, P, P]),
            Some((Decided::Passed, 5))
        );
        assert_eq!(
            run(analysis(Some(4), Some(3)), &[P, P, F, P]),
            Some((Decided::Inconclusive, 4))
        );
        assert_eq!(run(analysis(None, Some(2)), &[P, F, P]), None);
    }
}
