//! Running replications: in parallel on a rayon pool, reduced in replication order so that
//! the results never depend on the number of threads.

use crate::error::{Error, Result};
use crate::fleet::device::{flag, Phase};
use crate::metrics::outcome::Outcome;
use crate::replication::{RunLimits, Sim, TraceRow};
use crate::scenario::catalog::YES_NO_METRICS;
use crate::scenario::Scenario;
use crate::stats::{aggregate, rate_summary, Aggregate, RateSummary};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Called with the number of replications just finished (drives a progress bar).
pub type OnProgress = std::sync::Arc<dyn Fn(u64) + Send + Sync>;

/// What to run besides the scenario itself.
#[derive(Clone, Default)]
pub struct RunOptions {
    pub threads: Option<usize>,
    /// Keep replication 0's per-device table (`devices.csv`).
    pub devices: bool,
    /// Keep up to this many events of replication 0 (`events.csv`); 0 for none.
    pub trace_rows: usize,
    pub max_events: Option<u64>,
    pub progress: Option<OnProgress>,
    /// Check every invariant once a simulated day (always in debug builds).
    pub daily_invariants: bool,
}

/// One device of replication 0 at the end, for `devices.csv`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct DeviceRow {
    pub device: u32,
    pub population: String,
    pub model: String,
    pub region: String,
    pub initial_version: String,
    pub final_version: String,
    pub targeted: bool,
    pub stage: Option<String>,
    pub exposed: bool,
    pub harmed: bool,
    pub bricked: bool,
    pub rolled_back: bool,
    pub attempts: u8,
    pub phase: String,
    pub last_reason: String,
}

/// Everything a run produced, in replication order.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct RunResult {
    pub outcomes: Vec<Outcome>,
    /// Sum of each time-series column per hour over the replications. Every column is a count,
    /// so the sums are exact in `f64` and do not depend on the order of addition: shards merge
    /// into exactly the sums of an unsharded run.
    pub series_sum: Vec<Vec<f64>>,
    pub devices: Vec<DeviceRow>,
    /// Per (population, stage) group, the [`BREAKDOWN`] counts summed over the replications
    /// (see [`breakdown`]); empty in shard files of older versions.
    #[serde(default)]
    pub breakdown_sum: Vec<u64>,
    pub trace: Vec<TraceRow>,
    pub events: u64,
    /// Events by kind, summed over the replications (`replication::KINDS` order).
    #[serde(default)]
    pub events_by_kind: Vec<u64>,
    pub threads: usize,
}

struct RepResult {
    outcome: Outcome,
    events_by_kind: [u64; crate::replication::KIND_COUNT],
    series: Vec<Vec<f64>>,
    devices: Vec<DeviceRow>,
    breakdown: Vec<u64>,
    trace: Vec<TraceRow>,
}

/// The device counts `breakdown.csv` has per group, in column order.
pub const BREAKDOWN: [&str; 8] = [
    "devices",
    "targeted",
    "updated",
    "exposed",
    "harmed",
    "bricked",
    "rolled_back",
    "failed",
];

/// Devices at the end of a replication per (population, stage) group, stage `stages.len()`
/// holding the devices no stage targeted: row-major `[group][BREAKDOWN column]`. `failed`
/// counts devices whose update (or rollback) job gave up (`retries_exhausted`). One pass over
/// the fleet, so that the report can break harm and failures down by model, region and stage.
pub fn breakdown(sim: &Sim) -> Vec<u64> {
    let stages = sim.scenario.policy.stages.len() + 1;
    let mut out = vec![0u64; sim.scenario.populations.len() * stages * BREAKDOWN.len()];
    let target = sim.scenario.policy.target;
    for d in sim.world.fleet.devices() {
        let stage = (d.stage as usize).min(stages - 1);
        let row = (d.population as usize * stages + stage) * BREAKDOWN.len();
        let counts = [
            true,
            d.has(flag::TARGETED),
            d.has(flag::TARGETED) && d.version == target,
            d.has(flag::EXPOSED),
            d.has(flag::HARMED),
            d.has(flag::BRICKED),
            d.has(flag::ROLLED_BACK),
            d.has(flag::JOB_FAILED),
        ];
        for (k, c) in counts.into_iter().enumerate() {
            out[row + k] += c as u64;
        }
    }
    out
}

/// Adds `counts` into `acc` element by element (`acc` grows to fit).
pub fn add_into(acc: &mut Vec<u64>, counts: &[u64]) {
    if acc.len() < counts.len() {
        acc.resize(counts.len(), 0);
    }
    for (a, c) in acc.iter_mut().zip(counts) {
        *a += c;
    }
}

fn run_one(sc: &Scenario, rep: u64, opts: &RunOptions) -> Result<RepResult> {
    let limits = RunLimits {
        max_events: opts.max_events.unwrap_or(RunLimits::default().max_events),
        trace_rows: if rep == 0 { opts.trace_rows } else { 0 },
        daily_invariants: opts.daily_invariants || RunLimits::default().daily_invariants,
    };
    let mut sim = Sim::new(sc, rep, limits)?;
    sim.run()?;
    let devices = if rep == 0 && opts.devices {
        device_rows(&sim)
    } else {
        Vec::new()
    };
    Ok(RepResult {
        outcome: sim.outcome(),
        events_by_kind: sim.events_by_kind,
        series: sim.series.take_rows(),
        devices,
        breakdown: breakdown(&sim),
        trace: std::mem::take(&mut sim.trace),
    })
}

fn device_rows(sim: &Sim) -> Vec<DeviceRow> {
    let sc = sim.scenario;
    sim.world
        .fleet
        .devices()
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let pop = &sc.populations[d.population as usize];
            DeviceRow {
                device: i as u32,
                population: pop.name.clone(),
                model: pop.model.clone(),
                region: pop.region.clone(),
                initial_version: sc.version_label(d.initial_version).into(),
                final_version: sc.version_label(d.version).into(),
                targeted: d.has(flag::TARGETED),
                stage: sc
                    .policy
                    .stages
                    .get(d.stage as usize)
                    .map(|s| s.name.clone()),
                exposed: d.has(flag::EXPOSED),
                harmed: d.has(flag::HARMED),
                bricked: d.has(flag::BRICKED),
                rolled_back: d.has(flag::ROLLED_BACK),
                attempts: d.attempts,
                phase: format!("{:?}", d.phase).to_lowercase(),
                last_reason: if d.has(flag::DEFERRED)
                    || d.phase == Phase::Idle && !d.has(flag::EXPOSED)
                {
                    crate::fleet::device::REASONS[d.reason as usize]
                        .0
                        .to_string()
                } else {
                    String::new()
                },
            }
        })
        .collect()
}

/// A pool of `threads` workers (default: every core).
pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {threads} threads: {e}")))
}

/// Runs replications `reps` of the scenario. Called from inside a rayon pool (a chaos campaign
/// running schedules in parallel), the replications share that pool instead of starting one.
pub fn run(sc: &Scenario, reps: std::ops::Range<u64>, opts: &RunOptions) -> Result<RunResult> {
    let pool = match rayon::current_thread_index() {
        Some(_) => None,
        None => Some(thread_pool(opts.threads)?),
    };
    let threads = pool
        .as_ref()
        .map_or_else(rayon::current_num_threads, |p| p.current_num_threads());
    // Each running replication holds its own fleet. Inside a shared pool (a chaos campaign)
    // other runs use the other threads, so every thread counts.
    let concurrent = match pool {
        Some(_) => (threads as u64).min(reps.end.saturating_sub(reps.start)),
        None => threads as u64,
    };
    crate::memory::check(sc.device_bound(), concurrent, threads)?;
    let in_pool = |f: &(dyn Fn() -> Vec<Result<RepResult>> + Sync)| match &pool {
        Some(p) => p.install(f),
        None => f(),
    };
    let mut outcomes = Vec::new();
    let mut series_sum: Vec<Vec<f64>> = Vec::new();
    let mut devices = Vec::new();
    let mut breakdown_sum = Vec::new();
    let mut trace = Vec::new();
    let mut events = 0;
    let mut events_by_kind = vec![0u64; crate::replication::KIND_COUNT];
    // Replications run in chunks so that memory stays bounded by the chunk, not the run; each
    // chunk is reduced in replication order, so the chunk size changes no output byte. Every
    // chunk ends with a wait for its slowest replication, which with a handful per thread
    // left a tenth of two threads idle: the first chunk is small and measures what a result
    // holds, the later ones are as long as `RESULT_BUDGET` allows.
    let mut chunk = (threads * 4) as u64;
    let mut start = reps.start;
    while start < reps.end {
        let end = (start + chunk).min(reps.end);
        let results = in_pool(&|| {
            (start..end)
                .into_par_iter()
                .map(|r| {
                    let result = run_one(sc, r, opts);
                    if let Some(p) = &opts.progress {
                        p(1);
                    }
                    result
                })
                .collect()
        });
        if start == reps.start {
            chunk = chunk_after(&results, threads);
        }
        for r in results {
            let r = r?;
            events += r.outcome.events;
            add_counts(&mut events_by_kind, &r.events_by_kind);
            add_into(&mut breakdown_sum, &r.breakdown);
            if series_sum.is_empty() {
                series_sum = r.series;
            } else {
                for (acc, row) in series_sum.iter_mut().zip(&r.series) {
                    for (a, x) in acc.iter_mut().zip(row) {
                        *a += x;
                    }
                }
            }
            if !r.devices.is_empty() {
                devices = r.devices;
            }
            if !r.trace.is_empty() {
                trace = r.trace;
            }
            outcomes.push(r.outcome);
        }
        start = end;
    }
    Ok(RunResult {
        outcomes,
        series_sum,
        devices,
        breakdown_sum,
        trace,
        events,
        events_by_kind,
        threads,
    })
}

/// How many bytes of finished replications may wait for their turn to be reduced.
const RESULT_BUDGET: usize = 64 << 20;

/// The chunk size after the first chunk's `results`: as many replications as
/// [`RESULT_BUDGET`] holds of the largest result, between 4 and 64 per thread (past 64 the
/// wait for the slowest replication costs under 2 % of a chunk).
fn chunk_after(results: &[Result<RepResult>], threads: usize) -> u64 {
    let bytes = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| {
            std::mem::size_of::<RepResult>()
                + r.series.iter().map(|row| row.len() * 8 + 24).sum::<usize>()
                + r.breakdown.len() * 8
        })
        .max()
        .unwrap_or(1);
    (RESULT_BUDGET / bytes).clamp(threads * 4, threads * 64) as u64
}

/// Adds per-kind event counts into `acc` (which grows to fit).
fn add_counts(acc: &mut Vec<u64>, counts: &[u64]) {
    if acc.len() < counts.len() {
        acc.resize(counts.len(), 0);
    }
    for (a, c) in acc.iter_mut().zip(counts) {
        *a += c;
    }
}

/// Outcomes of the scenario as written and, when `healthy` is asked for and the scenario has a
/// defect, of its healthy world (every release defect removed, same seeds), as `check`,
/// `compare` and `chaos` judge them. Without a defect the as-written run is the healthy world
/// too, so it is not run twice.
pub fn run_worlds(
    sc: &Scenario,
    reps: std::ops::Range<u64>,
    healthy: bool,
    opts: &RunOptions,
) -> Result<(Vec<Outcome>, Option<Vec<Outcome>>)> {
    let as_written = run(sc, reps.clone(), opts)?.outcomes;
    let healthy = match healthy && sc.has_defects() {
        true => Some(run(&sc.healthy(), reps, opts)?.outcomes),
        false => None,
    };
    Ok((as_written, healthy))
}

impl RunResult {
    /// Mean of each time-series column per hour across replications.
    pub fn series_mean(&self) -> Vec<Vec<f64>> {
        let n = self.outcomes.len().max(1) as f64;
        self.series_sum
            .iter()
            .map(|row| row.iter().map(|x| x / n).collect())
            .collect()
    }

    /// Joins shard results (in any order) into the result of one run over all their
    /// replications.
    pub fn merge(mut parts: Vec<RunResult>) -> RunResult {
        parts.sort_by_key(|p| p.outcomes.first().map_or(u64::MAX, |o| o.replication));
        let mut out = RunResult {
            outcomes: Vec::new(),
            series_sum: Vec::new(),
            devices: Vec::new(),
            breakdown_sum: Vec::new(),
            trace: Vec::new(),
            events: 0,
            events_by_kind: Vec::new(),
            threads: 0,
        };
        for p in parts {
            out.events += p.events;
            add_counts(&mut out.events_by_kind, &p.events_by_kind);
            add_into(&mut out.breakdown_sum, &p.breakdown_sum);
            out.threads = out.threads.max(p.threads);
            if out.series_sum.is_empty() {
                out.series_sum = p.series_sum;
            } else {
                for (acc, row) in out.series_sum.iter_mut().zip(&p.series_sum) {
                    for (a, x) in acc.iter_mut().zip(row) {
                        *a += x;
                    }
                }
            }
            if !p.devices.is_empty() {
                out.devices = p.devices;
            }
            if !p.trace.is_empty() {
                out.trace = p.trace;
            }
            out.outcomes.extend(p.outcomes);
        }
        out
    }
}

/// Cross-replication summary of every metric (SPEC §2).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub metrics: BTreeMap<String, Aggregate>,
    pub rates: BTreeMap<String, RateSummary>,
    pub stranded_by_reason: BTreeMap<String, Aggregate>,
    pub failures_by_reason: BTreeMap<String, Aggregate>,
    /// Preflight deferrals by reason per replication: every time a check held a device back
    /// (battery, storage, bandwidth, metered, maintenance, API, in-flight limit …).
    #[serde(default)]
    pub deferrals_by_reason: BTreeMap<String, Aggregate>,
    /// `rollback_stranded` by reason per replication.
    #[serde(default)]
    pub rollback_stranded_by_reason: BTreeMap<String, Aggregate>,
    pub halt_reasons: BTreeMap<String, u64>,
    pub final_stages: BTreeMap<String, u64>,
    /// Per shadow gate: how often and when it would have fired, and the harm by then.
    pub shadow_gates: BTreeMap<String, ShadowSummary>,
    /// Per dimension (`model`, `region`, `stage`) and cohort: harmed, bricked, failures and
    /// stranded devices by reason, each aggregated across replications as the global metrics
    /// are (see [`CohortSummary`]).
    #[serde(default)]
    pub by_cohort: BTreeMap<String, BTreeMap<String, CohortSummary>>,
}

/// One cohort's counts across replications.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct CohortSummary {
    pub harmed: Aggregate,
    pub bricked: Aggregate,
    pub failures_by_reason: BTreeMap<String, Aggregate>,
    pub stranded_by_reason: BTreeMap<String, Aggregate>,
}

/// `by_cohort` across replications: the cohorts of the first outcome (every outcome of a
/// scenario has the same), each count aggregated over the replications. A reason that never
/// happened to a cohort in any replication is left out of its maps (read it as 0), so that the
/// file stays small when a fleet has many models or regions.
fn summarise_cohorts(outcomes: &[Outcome]) -> BTreeMap<String, BTreeMap<String, CohortSummary>> {
    use crate::metrics::cohort::CohortCounts;
    let Some(first) = outcomes.first() else {
        return BTreeMap::new();
    };
    let values = |dim: &str, name: &str, f: &dyn Fn(&CohortCounts) -> u64| -> Vec<Option<f64>> {
        (outcomes.iter())
            .map(|o| o.by_cohort.get(dim)?.get(name).map(|c| f(c) as f64))
            .collect()
    };
    let of = |dim: &str, name: &str, f: &dyn Fn(&CohortCounts) -> u64| -> Aggregate {
        aggregate(&values(dim, name, f))
    };
    let reasons = |dim: &str, name: &str, keys: Vec<&String>, stranded: bool| {
        (keys.into_iter())
            .filter_map(|k| {
                let by = |c: &CohortCounts| {
                    let map = if stranded {
                        &c.stranded_by_reason
                    } else {
                        &c.failures_by_reason
                    };
                    map.get(k).copied().unwrap_or(0)
                };
                let v = values(dim, name, &by);
                v.iter()
                    .any(|x| x.is_some_and(|x| x > 0.0))
                    .then(|| (k.clone(), aggregate(&v)))
            })
            .collect()
    };
    (first.by_cohort.iter())
        .map(|(dim, cohorts)| {
            let summaries = (cohorts.iter())
                .map(|(name, c)| {
                    let s = CohortSummary {
                        harmed: of(dim, name, &|c| c.harmed),
                        bricked: of(dim, name, &|c| c.bricked),
                        failures_by_reason: reasons(
                            dim,
                            name,
                            c.failures_by_reason.keys().collect(),
                            false,
                        ),
                        stranded_by_reason: reasons(
                            dim,
                            name,
                            c.stranded_by_reason.keys().collect(),
                            true,
                        ),
                    };
                    (name.clone(), s)
                })
                .collect();
            (dim.clone(), summaries)
        })
        .collect()
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ShadowSummary {
    pub fired: RateSummary,
    pub fired_at: Aggregate,
    pub harmed_at_fire: Aggregate,
    pub exposed_at_fire: Aggregate,
}

/// The numeric metrics of an outcome, by name, in a stable order.
pub fn numeric_metrics(o: &Outcome) -> Vec<(&'static str, Option<f64>)> {
    let u = |x: u64| Some(x as f64);
    vec![
        ("devices", u(o.devices)),
        ("targeted", u(o.targeted)),
        ("updated", u(o.updated)),
        ("completion", o.completion),
        ("time_to_50", o.time_to_50),
        ("time_to_95", o.time_to_95),
        ("time_to_99", o.time_to_99),
        ("exposed", u(o.exposed)),
        ("harmed", u(o.harmed)),
        ("harmed_critical", u(o.harmed_critical)),
        ("bricked", u(o.bricked)),
        ("halted_at", o.halted_at),
        ("time_to_detect", o.time_to_detect),
        ("rolled_back", u(o.rolled_back)),
        ("rollback_refused", u(o.rollback_refused)),
        ("rollback_stranded", u(o.rollback_stranded)),
        ("time_to_recover_95", o.time_to_recover_95),
        ("stranded", u(o.stranded)),
        ("security_violations", u(o.security_violations)),
        ("watchdog_reverted", u(o.watchdog_reverted)),
        ("failsafe_reverted", u(o.failsafe_reverted)),
        ("delta_fallbacks", u(o.delta_fallbacks)),
        ("quarantined", u(o.quarantined)),
        (
            "support_backlog_peak",
            o.support_backlog_peak.map(|x| x as f64),
        ),
        ("time_to_clear_support", o.time_to_clear_support),
        ("field_visits", u(o.field_visits)),
        ("field_cost", Some(o.field_cost)),
        ("rejected", u(o.rejected)),
        ("peak_in_flight", u(o.peak_in_flight)),
        ("bytes_served", Some(o.bytes_served)),
        ("download_time_p50", o.download_time_p50),
        ("download_time_p95", o.download_time_p95),
        ("observed_success", u(o.observed_success)),
        ("observed_failure", u(o.observed_failure)),
        ("observed_timed_out", u(o.observed_timed_out)),
        ("observed_rejected", u(o.observed_rejected)),
        ("observed_tickets", u(o.observed_tickets)),
    ]
}

/// The yes/no metrics of an outcome, by name, in the order of [`YES_NO_METRICS`].
pub fn yes_no_metrics(o: &Outcome) -> [(&'static str, bool); 2] {
    let [halted, false_halt] = YES_NO_METRICS;
    [(halted, o.halted), (false_halt, o.false_halt)]
}

pub fn summarise(outcomes: &[Outcome]) -> Summary {
    let mut metrics = BTreeMap::new();
    if let Some(first) = outcomes.first() {
        for (i, (name, _)) in numeric_metrics(first).into_iter().enumerate() {
            let values: Vec<Option<f64>> =
                outcomes.iter().map(|o| numeric_metrics(o)[i].1).collect();
            metrics.insert(name.to_string(), aggregate(&values));
        }
    }
    let mut rates = BTreeMap::new();
    for (i, name) in YES_NO_METRICS.iter().enumerate() {
        let values: Vec<bool> = outcomes.iter().map(|o| yes_no_metrics(o)[i].1).collect();
        rates.insert(name.to_string(), rate_summary(&values));
    }
    let by = |f: &dyn Fn(&Outcome) -> &BTreeMap<String, u64>| -> BTreeMap<String, Aggregate> {
        let keys: Vec<String> = outcomes
            .first()
            .map(|o| f(o).keys().cloned().collect())
            .unwrap_or_default();
        keys.into_iter()
            .map(|k| {
                let v: Vec<Option<f64>> = outcomes
                    .iter()
                    .map(|o| f(o).get(&k).map(|x| *x as f64))
                    .collect();
                (k, aggregate(&v))
            })
            .collect()
    };
    let halt_reasons = halt_reason_counts(outcomes);
    let mut final_stages = BTreeMap::new();
    for o in outcomes {
        *final_stages
            .entry(o.final_stage.clone().unwrap_or_else(|| "-".into()))
            .or_insert(0) += 1;
    }
    let mut shadow_gates = BTreeMap::new();
    for (k, s) in outcomes
        .first()
        .map(|o| o.shadow_gates.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let of = |f: &dyn Fn(&crate::metrics::outcome::ShadowOutcome) -> Option<f64>| -> Vec<Option<f64>> { outcomes.iter().map(|o| f(&o.shadow_gates[k])).collect() };
        shadow_gates.insert(
            s.name.clone(),
            ShadowSummary {
                fired: rate_summary(
                    &outcomes
                        .iter()
                        .map(|o| o.shadow_gates[k].fired)
                        .collect::<Vec<_>>(),
                ),
                fired_at: aggregate(&of(&|x| x.fired_at)),
                harmed_at_fire: aggregate(&of(&|x| x.harmed_at_fire.map(|v| v as f64))),
                exposed_at_fire: aggregate(&of(&|x| x.exposed_at_fire.map(|v| v as f64))),
            },
        );
    }
    Summary {
        shadow_gates,
        metrics,
        rates,
        stranded_by_reason: by(&|o| &o.stranded_by_reason),
        failures_by_reason: by(&|o| &o.failures_by_reason),
        deferrals_by_reason: by(&|o| &o.deferrals_by_reason),
        rollback_stranded_by_reason: by(&|o| &o.rollback_stranded_by_reason),
        halt_reasons,
        final_stages,
        by_cohort: summarise_cohorts(outcomes),
    }
}

/// Per-replication values of an outcome metric by name (yes/no metrics as 0/1); empty if the
/// name is unknown.
pub fn metric_values(outcomes: &[Outcome], metric: &str) -> Vec<Option<f64>> {
    if let Some(i) = YES_NO_METRICS.iter().position(|n| *n == metric) {
        return outcomes
            .iter()
            .map(|o| Some(yes_no_metrics(o)[i].1 as u8 as f64))
            .collect();
    }
    outcomes
        .iter()
        .filter_map(|o| {
            numeric_metrics(o)
                .into_iter()
                .find(|(n, _)| *n == metric)
                .map(|(_, v)| v)
        })
        .collect()
}

/// A statistic (`mean sd min p5 p50 p95 p99 max rate`) of the values that exist; `rate` is the
/// mean of a yes/no metric.
pub fn statistic(values: &[Option<f64>], stat: &str) -> Option<f64> {
    aggregate(values).stat(stat)
}

/// How many replications halted for each reason (`gate:canary:insufficient` → 50).
pub fn halt_reason_counts(outcomes: &[Outcome]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for r in outcomes.iter().filter_map(|o| o.halt_reason.as_ref()) {
        *counts.entry(r.clone()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replications run from inside a rayon pool (a chaos campaign's schedules) share it and
    /// give exactly the outcomes of a run with its own pool.
    #[test]
    fn a_run_inside_a_pool_matches_a_run_with_its_own() {
        let sc = crate::scenario::load_file(
            std::path::Path::new("tests/data/fragile.toml"),
            &[("simulation.replications".into(), "3".into())],
        )
        .unwrap();
        let opts = RunOptions {
            threads: Some(1),
            ..RunOptions::default()
        };
        let own = run(&sc, 0..3, &opts).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let shared = pool.install(|| run(&sc, 0..3, &opts)).unwrap();
        assert_eq!(
            shared.threads, 2,
            "the pool's threads, not `threads: Some(1)`"
        );
        let json = |r: &RunResult| serde_json::to_string(&r.outcomes).unwrap();
        assert_eq!(json(&own), json(&shared));
    }

    /// The metric names an outcome reports are the catalog's, in its order: the columns of
    /// `replications.csv` and the names `[[expect]]` accepts come from one list.
    #[test]
    fn outcome_metric_names_are_the_catalog() {
        let sc = crate::scenario::load_file(
            std::path::Path::new("tests/data/fragile.toml"),
            &[("simulation.replications".into(), "1".into())],
        )
        .unwrap();
        let opts = RunOptions {
            threads: Some(1),
            ..RunOptions::default()
        };
        let result = run(&sc, 0..1, &opts).unwrap();
        let o = &result.outcomes[0];
        let numeric: Vec<&str> = numeric_metrics(o).iter().map(|(n, _)| *n).collect();
        assert_eq!(numeric, crate::scenario::catalog::NUMERIC_METRICS);
        let yes_no: Vec<&str> = yes_no_metrics(o).iter().map(|(n, _)| *n).collect();
        assert_eq!(yes_no, YES_NO_METRICS);
    }
}
