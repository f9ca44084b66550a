//! Paired comparison of two policies on common random numbers (`fleetsim compare`).
//!
//! Both scenarios run on the base scenario's seed and replication count, so replication `r` of
//! each sees the same world: the per-replication differences measure the policy, not the noise,
//! and their confidence interval is far narrower than that of two independent runs.

use super::run::{metric_values, numeric_metrics, statistic};
use super::stats::aggregate;
use crate::metrics::outcome::Outcome;

/// A metric and statistic that must not get worse.
#[derive(Clone, Debug, PartialEq)]
pub struct Guard {
    pub metric: String,
    pub stat: String,
}

/// The guards used when none are given: blast radius, bricks, false halts, time to 95 %.
pub fn default_guards() -> Vec<Guard> {
    [
        ("harmed", "p95"),
        ("bricked", "mean"),
        ("false_halt", "rate"),
        ("time_to_95", "p50"),
    ]
    .iter()
    .map(|(m, s)| Guard {
        metric: m.to_string(),
        stat: s.to_string(),
    })
    .collect()
}

/// Metrics where a larger value is better; for every other metric smaller is better.
pub fn higher_is_better(metric: &str) -> bool {
    matches!(
        metric,
        "completion" | "updated" | "rolled_back" | "observed_success"
    )
}

/// One row of the comparison.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Row {
    pub metric: String,
    pub stat: String,
    pub base: Option<f64>,
    pub candidate: Option<f64>,
    /// Mean of the paired per-replication differences (candidate − base) over replications
    /// where both have a value, and (for means and rates) its 95 % t interval.
    pub paired_diff: Option<f64>,
    pub diff_ci95: Option<(f64, f64)>,
    pub guarded: bool,
    pub regressed: bool,
}

/// Compares every metric's mean (and each guard's statistic). A guarded metric regresses when
/// the candidate is worse than the base by more than `tolerance`, relative to the base value
/// (absolute for rates, and when the base is 0).
pub fn compare(
    base: &[Outcome],
    candidate: &[Outcome],
    guards: &[Guard],
    tolerance: f64,
) -> Vec<Row> {
    let mut wanted: Vec<(String, String)> = Vec::new();
    if let Some(first) = base.first() {
        wanted.extend(
            numeric_metrics(first)
                .iter()
                .map(|(n, _)| (n.to_string(), "mean".to_string())),
        );
    }
    wanted.push(("halted".into(), "rate".into()));
    wanted.push(("false_halt".into(), "rate".into()));
    for g in guards {
        if !wanted.iter().any(|(m, s)| *m == g.metric && *s == g.stat) {
            wanted.push((g.metric.clone(), g.stat.clone()));
        }
    }
    wanted
        .into_iter()
        .map(|(metric, st)| {
            let (b, c) = (
                metric_values(base, &metric),
                metric_values(candidate, &metric),
            );
            let diffs: Vec<Option<f64>> = b
                .iter()
                .zip(&c)
                .map(|(x, y)| Some(y.as_ref()? - x.as_ref()?))
                .collect();
            let d = aggregate(&diffs);
            let (bs, cs) = (statistic(&b, &st), statistic(&c, &st));
            let guarded = guards.iter().any(|g| g.metric == metric && g.stat == st);
            let regressed = guarded && is_worse(&metric, &st, bs, cs, tolerance);
            // The paired interval is of the mean difference: shown for means and rates only.
            let ci = if st == "mean" || st == "rate" {
                d.ci95_low.zip(d.ci95_high)
            } else {
                None
            };
            Row {
                metric,
                stat: st,
                base: bs,
                candidate: cs,
                paired_diff: d.mean,
                diff_ci95: ci,
                guarded,
                regressed,
            }
        })
        .collect()
}

fn is_worse(
    metric: &str,
    stat: &str,
    base: Option<f64>,
    cand: Option<f64>,
    tolerance: f64,
) -> bool {
    match (base, cand) {
        (Some(b), Some(c)) => {
            let worsening = if higher_is_better(metric) {
                b - c
            } else {
                c - b
            };
            let allowed = if stat == "rate" || b == 0.0 {
                tolerance
            } else {
                tolerance * b.abs()
            };
            worsening > allowed + 1e-12
        }
        // A metric the base reaches and the candidate never does (e.g. time_to_95) regressed.
        (Some(_), None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_and_tolerance() {
        assert!(is_worse("harmed", "p95", Some(100.0), Some(106.0), 0.05));
        assert!(!is_worse("harmed", "p95", Some(100.0), Some(104.0), 0.05));
        assert!(is_worse("completion", "mean", Some(0.9), Some(0.8), 0.05));
        assert!(!is_worse("completion", "mean", Some(0.9), Some(0.99), 0.05));
        assert!(is_worse("false_halt", "rate", Some(0.0), Some(0.1), 0.05));
        assert!(is_worse("time_to_95", "p50", Some(1.0), None, 0.05));
    }
}
