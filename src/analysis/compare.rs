//! Paired comparison of two policies on common random numbers (`fleetsim compare`).
//!
//! Both scenarios run on the base scenario's seed and replication count, so replication `r` of
//! each sees the same world: the per-replication differences measure the policy, not the noise,
//! and their confidence interval is far narrower than that of two independent runs.
//!
//! Each policy is judged in two worlds: the scenario as written (with its defective release,
//! where blast radius is measured) and the same scenario with every release defect removed
//! (where every halt is a false halt and time to 95 % has a value), both on the same seeds.
//! A guard names its world; by default false halts and time to 50/95/99 % are judged in the
//! healthy world and everything else as written.

use super::run::{halt_reason_counts, metric_values, numeric_metrics, statistic};
use crate::metrics::outcome::Outcome;
use crate::scenario::model::World;
use crate::stats::aggregate;
use std::collections::BTreeMap;

/// A metric and statistic that must not get worse, in one world.
#[derive(Clone, Debug, PartialEq)]
pub struct Guard {
    pub metric: String,
    pub stat: String,
    pub world: World,
}

/// The world a guard is judged in when it does not name one: the healthy world for false halts
/// and completion times (a defective release halting, or never reaching 95 %, is what the gates
/// are for), the world as written for everything else (blast radius needs the defect).
pub fn default_world(metric: &str) -> World {
    match metric {
        "false_halt" | "time_to_50" | "time_to_95" | "time_to_99" => World::Healthy,
        _ => World::AsWritten,
    }
}

/// The guards used when none are given: blast radius and bricks as written, false halts and
/// time to 95 % in the healthy world.
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
        world: default_world(m),
    })
    .collect()
}

/// The per-replication results of one world, in replication order: the outcomes of a run, or
/// the `replications.csv` of a saved baseline folder read back (`compare --baseline`). A
/// comparison needs only these, so both sides compare the same way.
pub trait Replications {
    /// The numeric metrics, in the order of `replications.csv`.
    fn metric_names(&self) -> Vec<String>;
    /// One value per replication (`None`: no value); `halted` and `false_halt` are 1 or 0. An
    /// unknown metric has no values at all.
    fn values(&self, metric: &str) -> Vec<Option<f64>>;
    /// Replications by halt reason.
    fn halt_reasons(&self) -> BTreeMap<String, u64>;
}

impl Replications for Vec<Outcome> {
    fn metric_names(&self) -> Vec<String> {
        self.first().map_or_else(Vec::new, |o| {
            numeric_metrics(o)
                .iter()
                .map(|(n, _)| n.to_string())
                .collect()
        })
    }
    fn values(&self, metric: &str) -> Vec<Option<f64>> {
        metric_values(self, metric)
    }
    fn halt_reasons(&self) -> BTreeMap<String, u64> {
        halt_reason_counts(self)
    }
}

/// One policy's outcomes in both worlds, replication by replication on the same seeds. When the
/// scenario has no defect, `healthy` is the as-written outcomes again (one run serves both).
pub struct Worlds<'a> {
    pub as_written: &'a dyn Replications,
    pub healthy: &'a dyn Replications,
}

impl<'a> Worlds<'a> {
    pub fn get(&self, world: World) -> &'a dyn Replications {
        match world {
            World::AsWritten => self.as_written,
            World::Healthy => self.healthy,
        }
    }
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
    /// The world both sides were taken in (absent in files of older versions: as written).
    #[serde(default)]
    pub world: World,
}

impl Row {
    /// `harmed p95`, or `false_halt rate [healthy]` for the healthy world.
    pub fn label(&self) -> String {
        match self.world {
            World::AsWritten => format!("{} {}", self.metric, self.stat),
            World::Healthy => format!("{} {} [healthy]", self.metric, self.stat),
        }
    }
}

/// Compares every metric's mean as written (and each guard's statistic in its world). A
/// guarded metric regresses when the candidate is worse than the base by more than
/// `tolerance`, relative to the base value (absolute for rates, and when the base is 0).
/// As-written rows come first, then the healthy world's guarded rows.
pub fn compare(base: &Worlds, candidate: &Worlds, guards: &[Guard], tolerance: f64) -> Vec<Row> {
    let mut wanted: Vec<(String, String, World)> = base
        .as_written
        .metric_names()
        .into_iter()
        .map(|n| (n, "mean".to_string(), World::AsWritten))
        .collect();
    wanted.push(("halted".into(), "rate".into(), World::AsWritten));
    wanted.push(("false_halt".into(), "rate".into(), World::AsWritten));
    for world in [World::AsWritten, World::Healthy] {
        for g in guards.iter().filter(|g| g.world == world) {
            if !wanted
                .iter()
                .any(|(m, s, w)| *m == g.metric && *s == g.stat && *w == world)
            {
                wanted.push((g.metric.clone(), g.stat.clone(), world));
            }
        }
    }
    wanted
        .into_iter()
        .map(|(metric, st, world)| {
            let guarded = guards
                .iter()
                .any(|g| g.metric == metric && g.stat == st && g.world == world);
            row(
                base.get(world),
                candidate.get(world),
                metric,
                st,
                world,
                guarded,
                tolerance,
            )
        })
        .collect()
}

/// Clips a paired interval to the differences that can happen: every metric is ≥ 0, so the
/// mean difference over the pairs is at least −(the base's mean over them), and a share or a
/// rate is ≤ 1, so it is at most 1 − that mean. The t interval of a skewed metric over few runs
/// otherwise reads "−39.7" for a base of 33.3 bricked devices.
fn clip_to_range(
    (lo, hi): (f64, f64),
    base: &[Option<f64>],
    candidate: &[Option<f64>],
    metric: &str,
    stat: &str,
) -> (f64, f64) {
    let pairs: Vec<f64> = base
        .iter()
        .zip(candidate)
        .filter_map(|(b, c)| c.and(*b))
        .collect();
    if pairs.is_empty() {
        return (lo, hi);
    }
    let base_mean = pairs.iter().sum::<f64>() / pairs.len() as f64;
    let share = stat == "rate" || matches!(metric, "completion" | "halted" | "false_halt");
    let hi = if share { hi.min(1.0 - base_mean) } else { hi };
    (lo.max(-base_mean), hi)
}

fn row(
    base: &dyn Replications,
    candidate: &dyn Replications,
    metric: String,
    st: String,
    world: World,
    guarded: bool,
    tolerance: f64,
) -> Row {
    let (b, c) = (base.values(&metric), candidate.values(&metric));
    let diffs: Vec<Option<f64>> = b
        .iter()
        .zip(&c)
        .map(|(x, y)| Some(y.as_ref()? - x.as_ref()?))
        .collect();
    let d = aggregate(&diffs);
    let (bs, cs) = (statistic(&b, &st), statistic(&c, &st));
    let regressed = guarded && is_worse(&metric, &st, bs, cs, tolerance);
    // The paired interval is of the mean difference: shown for means and rates only.
    let ci = if st == "mean" || st == "rate" {
        d.ci95_low
            .zip(d.ci95_high)
            .map(|ci| clip_to_range(ci, &b, &c, &metric, &st))
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
        world,
    }
}

/// What halted the base's and the candidate's replications in one world: the reasons behind
/// a false-halt or blast-radius verdict.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HaltReasons {
    pub world: World,
    pub base: BTreeMap<String, u64>,
    pub candidate: BTreeMap<String, u64>,
}

/// Halt reasons of both policies as written and, when a guard is judged there, in the healthy
/// world.
pub fn halt_reasons(base: &Worlds, candidate: &Worlds, guards: &[Guard]) -> Vec<HaltReasons> {
    let mut worlds = vec![World::AsWritten];
    if guards.iter().any(|g| g.world == World::Healthy) {
        worlds.push(World::Healthy);
    }
    worlds
        .into_iter()
        .map(|w| HaltReasons {
            world: w,
            base: base.get(w).halt_reasons(),
            candidate: candidate.get(w).halt_reasons(),
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
    fn default_guards_judge_false_halts_and_completion_in_the_healthy_world() {
        let worlds: Vec<(String, World)> = default_guards()
            .into_iter()
            .map(|g| (g.metric, g.world))
            .collect();
        assert_eq!(
            worlds,
            [
                ("harmed".to_string(), World::AsWritten),
                ("bricked".to_string(), World::AsWritten),
                ("false_halt".to_string(), World::Healthy),
                ("time_to_95".to_string(), World::Healthy),
            ]
        );
    }

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
