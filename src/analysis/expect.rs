//! `[[expect]]` evaluation: each expectation names an outcome metric, a statistic across
//! replications and bounds. As in `summary.json`, a replication where the metric has no value
//! (a `time_to_95` never reached, a rollout that never halted) is left out of the statistic —
//! how often that happens is its own metric (`false_halt`, `completion`) — and an expectation
//! on a metric that has no value in any replication fails.

use super::run::{halt_reason_counts, metric_values, statistic};
use crate::metrics::outcome::Outcome;
use crate::scenario::model::{Expect, World};
use crate::stats::{aggregate, rate_summary};
use std::collections::BTreeMap;

/// The verdict on one expectation.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Verdict {
    pub metric: String,
    pub stat: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The observed statistic (`None` when it has no value at all).
    pub observed: Option<f64>,
    /// 95 % interval of the observed statistic, where one is defined (mean: t interval; rate:
    /// Wilson interval).
    pub interval: Option<(f64, f64)>,
    pub passed: bool,
    /// The world the statistic was taken in (left out of `summary.json` when as written, so
    /// that files of scenarios without `world` keep their bytes).
    #[serde(default, skip_serializing_if = "World::is_as_written")]
    pub world: World,
    /// Replications of that world by halt reason: what stopped the rollouts behind the verdict.
    /// Not part of `summary.json` (whose `halt_reasons` already has them); `check` prints and
    /// exports it.
    #[serde(skip)]
    pub halt_reasons: BTreeMap<String, u64>,
}

impl Verdict {
    /// `harmed p95 ≤ 1500`, `completion p50 ≥ 0.9`, `0 ≤ x ≤ 1`.
    pub fn bound_text(&self) -> String {
        match (self.min, self.max) {
            (Some(lo), Some(hi)) => {
                format!("{} ≤ {} {} ≤ {}", fmt(lo), self.metric, self.stat, fmt(hi))
            }
            (Some(lo), None) => format!("{} {} ≥ {}", self.metric, self.stat, fmt(lo)),
            (None, Some(hi)) => format!("{} {} ≤ {}", self.metric, self.stat, fmt(hi)),
            (None, None) => format!("{} {}", self.metric, self.stat),
        }
    }

    /// [`Verdict::bound_text`], marked `[healthy]` when judged in the healthy world (the
    /// as-written world is the default and stays unmarked).
    pub fn label(&self) -> String {
        match self.world {
            World::AsWritten => self.bound_text(),
            World::Healthy => format!("{} [healthy]", self.bound_text()),
        }
    }
}

pub fn fmt(x: f64) -> String {
    if x.is_infinite() {
        if x > 0.0 {
            "never".into()
        } else {
            "-inf".into()
        }
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.4}")
    }
}

fn yes_no(metric: &str) -> bool {
    crate::scenario::catalog::is_yes_no(metric)
}

/// Judges each expectation on the outcomes of its world. `healthy` holds the healthy world's
/// outcomes (the as-written ones again when the scenario has no defect); without it,
/// healthy-world expectations are left out — `run` only has the world as written, `check`
/// always passes both.
pub fn evaluate(
    expects: &[Expect],
    as_written: &[Outcome],
    healthy: Option<&[Outcome]>,
) -> Vec<Verdict> {
    expects
        .iter()
        .filter_map(|e| match e.world {
            World::AsWritten => Some(evaluate_one(e, as_written)),
            World::Healthy => healthy.map(|h| evaluate_one(e, h)),
        })
        .collect()
}

fn evaluate_one(e: &Expect, outcomes: &[Outcome]) -> Verdict {
    let values = metric_values(outcomes, &e.metric);
    let observed = statistic(&values, &e.stat);
    let interval = match e.stat.as_str() {
        "rate" | "mean" if yes_no(&e.metric) => {
            let r = rate_summary(&values.iter().map(|v| *v == Some(1.0)).collect::<Vec<_>>());
            Some((r.wilson95_low, r.wilson95_high))
        }
        "mean" => {
            let a = aggregate(&values);
            a.ci95_low.zip(a.ci95_high)
        }
        _ => None,
    };
    let passed =
        observed.is_some_and(|x| e.min.is_none_or(|lo| x >= lo) && e.max.is_none_or(|hi| x <= hi));
    Verdict {
        metric: e.metric.clone(),
        stat: e.stat.clone(),
        min: e.min,
        max: e.max,
        observed,
        interval,
        passed,
        world: e.world,
        halt_reasons: halt_reason_counts(outcomes),
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::run::statistic;

    #[test]
    fn missing_values_are_left_out() {
        let v = vec![Some(10.0), None, Some(20.0)];
        assert_eq!(statistic(&v, "max"), Some(20.0));
        assert_eq!(statistic(&v, "mean"), Some(15.0));
        assert_eq!(statistic(&[None, None], "mean"), None);
    }
}
