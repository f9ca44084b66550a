//! The continuous abort rules (`[[policy.abort]]`, AWS IoT Jobs `abortConfig`, Azure Device
//! Update `rollbackPolicy`): what one rule reads from what the backend has heard over the
//! whole rollout, and whether it fires. Pure: the controller checks the rules in order after
//! every result and acts on the first that fires.
//!
//! - The *count* is the metric's numerator (failed attempts, successes, time-outs, reverts,
//!   rejections, or every outcome but a success); the *base* its denominator — with
//!   `per = "executed"` the metric's own (devices with a result; devices started for
//!   `timeout_rate`; devices with an outcome for `rejected_rate` and `any_failure_rate`),
//!   with `per = "notified"` the devices notified. `min_executed` counts devices with an
//!   outcome, or devices notified.
//! - `max_count` fires when the count reaches it; `threshold` when the rate passes it, by the
//!   rule's `test`: `point` (the rate itself), `wilson` (its one-sided Wilson bound at
//!   `confidence`), `sequential` ([`crate::stats::sequential`], valid however often judged).
//!   `update_success_rate` fires when the rate falls *below* the threshold; its tests judge
//!   the complementary rate of non-successes above `1 − threshold`.

use crate::backend::Obs;
use crate::metrics::gate_log::GateRecord;
use crate::scenario::model::{AbortLimit, AbortRule};
use crate::scenario::raw::{AbortPer, AbortTest, ObservedMetric};
use crate::stats::sequential::SequentialTest;
use crate::stats::{wilson, z_quantile};

/// What a rule reads: its count over its base, and the devices `min_executed` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    pub count: u64,
    pub base: u64,
    pub executed: u64,
}

/// The rule's reading of `g`.
pub fn reading(rule: &AbortRule, g: &Obs) -> Reading {
    let (count, base) = match rule.metric {
        ObservedMetric::UpdateFailureRate => (g.failure, g.reported),
        ObservedMetric::UpdateSuccessRate => (g.success, g.reported),
        ObservedMetric::TimeoutRate => (g.timed_out, g.started),
        ObservedMetric::RejectedRate => (g.rejected, g.executed),
        ObservedMetric::AnyFailureRate => (g.any_failure(), g.executed),
        // Validation admits no other metric.
        _ => (g.reverts, g.reported),
    };
    match rule.per {
        AbortPer::Executed => Reading {
            count,
            base,
            executed: g.executed,
        },
        AbortPer::Notified => Reading {
            count,
            base: g.notified,
            executed: g.notified,
        },
    }
}

/// A rule's tests, built once per replication (the sequential test's prior normalisation is
/// computed once).
#[derive(Clone, Copy, Debug)]
pub struct Judge {
    sequential: Option<SequentialTest>,
    z: f64,
}

impl Judge {
    pub fn new(rule: &AbortRule) -> Judge {
        let sequential = match (rule.test, rule.limit) {
            (AbortTest::Sequential, AbortLimit::Rate(t)) => {
                let p0 = if rule.metric == ObservedMetric::UpdateSuccessRate {
                    1.0 - t
                } else {
                    t
                };
                Some(SequentialTest::new(p0, rule.confidence))
            }
            _ => None,
        };
        Judge {
            sequential,
            z: z_quantile(rule.confidence),
        }
    }

    /// The record of rule `k` firing on `g` at `time` (seconds), or `None` while it holds (or
    /// is not yet judged: fewer than `min_executed` devices, or nothing to judge). `decision`
    /// is the action.
    pub fn fires(
        &self,
        k: usize,
        rule: &AbortRule,
        g: &Obs,
        time: f64,
        decision: &str,
    ) -> Option<GateRecord> {
        let r = reading(rule, g);
        if r.executed < rule.min_executed || r.base == 0 {
            return None;
        }
        let value = r.count as f64 / r.base as f64;
        let (test, bound, threshold, fired) = match rule.limit {
            AbortLimit::Count(max) => ("count", None, max as f64, r.count >= max),
            AbortLimit::Rate(t) => {
                let (bound, fired) = self.rate_fires(rule, r, value, t);
                (test_name(rule.test), bound, t, fired)
            }
        };
        fired.then(|| GateRecord {
            stage: format!("abort[{k}]"),
            time,
            check: rule.metric.name().into(),
            test: test.into(),
            count: r.count as f64,
            base: r.base as f64,
            observed: Some(if test == "count" {
                r.count as f64
            } else {
                value
            }),
            bound,
            threshold,
            passed: false,
            decision: decision.into(),
        })
    }

    /// Whether the rate `value` (`r.count` of `r.base`) passes threshold `t` by the rule's
    /// test, and the bound it compared (`wilson`).
    fn rate_fires(&self, rule: &AbortRule, r: Reading, value: f64, t: f64) -> (Option<f64>, bool) {
        let success = rule.metric == ObservedMetric::UpdateSuccessRate;
        // Successes are judged as the complementary rate of non-successes, so that every
        // test asks one question: is a bad rate above its limit?
        let (bad, limit) = if success {
            (r.base - r.count, 1.0 - t)
        } else {
            (r.count, t)
        };
        match rule.test {
            // Today's comparison, kept exactly: a success rate below, the rest above.
            AbortTest::Point if success => (None, value < t),
            AbortTest::Point => (None, value > t),
            AbortTest::Wilson => {
                let lower = wilson(bad, r.base, self.z).0;
                let bound = if success { 1.0 - lower } else { lower };
                (Some(bound), lower > limit)
            }
            AbortTest::Sequential => (None, self.sequential.is_some_and(|s| s.fires(bad, r.base))),
        }
    }
}

pub fn test_name(t: AbortTest) -> &'static str {
    match t {
        AbortTest::Point => "point",
        AbortTest::Wilson => "wilson",
        AbortTest::Sequential => "sequential",
    }
}
