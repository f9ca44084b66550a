//! `[[expect]]` evaluation: each expectation names an outcome metric, a statistic across
//! replications and bounds. As in `summary.json`, a replication where the metric has no value
//! (a `time_to_95` never reached, a rollout that never halted) is left out of the statistic —
//! how often that happens is its own metric (`false_halt`, `completion`) — and an expectation
//! on a metric that has no value in any replication fails.

use super::run::numeric_metrics;
use super::stats::{aggregate, rate_summary};
use crate::metrics::outcome::Outcome;
use crate::scenario::model::Expect;

/// The verdict on one expectation.
#[derive(Clone, Debug, serde::Serialize)]
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

fn values(outcomes: &[Outcome], metric: &str) -> Option<Vec<Option<f64>>> {
    let first = outcomes.first()?;
    let idx = numeric_metrics(first)
        .iter()
        .position(|(n, _)| *n == metric)?;
    Some(outcomes.iter().map(|o| numeric_metrics(o)[idx].1).collect())
}

fn flags(outcomes: &[Outcome], metric: &str) -> Option<Vec<bool>> {
    match metric {
        "halted" => Some(outcomes.iter().map(|o| o.halted).collect()),
        "false_halt" => Some(outcomes.iter().map(|o| o.false_halt).collect()),
        _ => None,
    }
}

pub fn evaluate(expects: &[Expect], outcomes: &[Outcome]) -> Vec<Verdict> {
    expects.iter().map(|e| evaluate_one(e, outcomes)).collect()
}

fn evaluate_one(e: &Expect, outcomes: &[Outcome]) -> Verdict {
    let (observed, interval) = if let Some(f) = flags(outcomes, &e.metric) {
        let r = rate_summary(&f);
        let as_number = |x: bool| if x { 1.0 } else { 0.0 };
        match e.stat.as_str() {
            "rate" | "mean" => (Some(r.rate), Some((r.wilson95_low, r.wilson95_high))),
            "min" => (Some(as_number(f.iter().all(|x| *x))), None),
            "max" => (Some(as_number(f.iter().any(|x| *x))), None),
            _ => {
                let v: Vec<Option<f64>> = f.iter().map(|x| Some(as_number(*x))).collect();
                (stat_of(&v, &e.stat), None)
            }
        }
    } else {
        match values(outcomes, &e.metric) {
            Some(v) => {
                let interval = (e.stat == "mean").then(|| {
                    let a = aggregate(&v);
                    a.ci95_low.zip(a.ci95_high)
                });
                (stat_of(&v, &e.stat), interval.flatten())
            }
            None => (None, None),
        }
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
    }
}

/// A statistic of the values that exist.
fn stat_of(v: &[Option<f64>], stat: &str) -> Option<f64> {
    let mut xs: Vec<f64> = v.iter().flatten().copied().collect();
    if xs.is_empty() {
        return None;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    xs.sort_by(f64::total_cmp);
    let q = |p: f64| super::stats::quantile_sorted(&xs, p);
    match stat {
        "mean" | "rate" => Some(mean),
        "sd" => Some(if xs.len() > 1 {
            (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        }),
        "min" => xs.first().copied(),
        "max" => xs.last().copied(),
        "p5" => q(0.05),
        "p50" => q(0.5),
        "p95" => q(0.95),
        "p99" => q(0.99),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_values_are_left_out() {
        let v = vec![Some(10.0), None, Some(20.0)];
        assert_eq!(stat_of(&v, "max"), Some(20.0));
        assert_eq!(stat_of(&v, "mean"), Some(15.0));
        assert_eq!(stat_of(&[None, None], "mean"), None);
    }
}
