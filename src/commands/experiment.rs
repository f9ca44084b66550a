//! `fleetsim sweep` and `fleetsim tune`: parameter grids run on common seeds, their Pareto
//! fronts, and the gate-setting recommendation.

use super::out_dir;
use super::shard::{Payload, ScenarioSource, ShardFile};
use crate::analysis::run::{metric_values, run, statistic, summarise, RunOptions};
use crate::analysis::sweep::{grid, pareto_front, Objective};
use crate::error::{Error, Result};
use crate::metrics::outcome::Outcome;
use crate::report::sweep_files::{
    sweep_csv, sweep_table, tune_csv, tune_table, Recommendation, SweepPoint, TunePoint,
};
use crate::report::{perf::Perf, progress::Progress, Staging};
use crate::scenario::{self, Scenario};
use crate::stats::{rate_summary, replications_to_settle, Z95};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Loads one point of a sweep (the base overrides plus the point's values) and runs it.
/// `healthy` removes every release defect first: the same scenario in a world where the
/// release is good (for `tune`).
fn run_point(
    path: &Path,
    overrides: &[(String, String)],
    params: &[(String, String)],
    healthy: bool,
    opts: &RunOptions,
) -> Result<Vec<crate::metrics::outcome::Outcome>> {
    let mut ov = overrides.to_vec();
    ov.extend(params.iter().cloned());
    let mut sc = scenario::load_file(path, &ov)?;
    if healthy {
        sc = sc.healthy();
    }
    Ok(run(&sc, 0..sc.replications, opts)?.outcomes)
}

/// An objective's value at a point, negated when maximised so that smaller is always better.
fn objective_value(
    p: &crate::report::sweep_files::SweepPoint,
    o: &crate::analysis::sweep::Objective,
) -> Option<f64> {
    p.objective(o).map(|x| if o.maximise { -x } else { x })
}

fn write_experiment(
    out: &Path,
    files: &[(&str, Vec<u8>)],
    started: Instant,
    events: u64,
    runs: u64,
    sc: &Scenario,
    output: &Output,
) -> Result<PathBuf> {
    let staging = Staging::new(out, output.force)?;
    for (name, bytes) in files {
        staging.write(name, bytes)?;
    }
    let wall_ms = started.elapsed().as_millis() as u64;
    let threads = output
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let perf = Perf::new(wall_ms, events, runs, threads, sc.device_count(), &[]);
    staging.write(
        "perf.json",
        crate::report::versioned::pretty(&perf).as_bytes(),
    )?;
    if output.report {
        crate::report::render::render(staging.dir())?;
    }
    staging.commit()
}

/// Prints where the results went: the HTML report when one was written, else the folder.
pub(crate) fn print_report_path(out: &Path, report: bool) -> Result<()> {
    if report {
        crate::out::line(&format!("\nreport: {}", out.join("report.html").display()))?;
    } else {
        crate::out::line(&format!("\nreport: {}/", out.display()))?;
    }
    Ok(())
}

fn csv_bytes(write: impl FnOnce(&Path) -> Result<()>) -> Result<Vec<u8>> {
    let dir = tempfile_dir()?;
    let path = dir.join("x.csv");
    write(&path)?;
    let bytes = std::fs::read(&path).map_err(|e| Error::io("cannot read back a CSV", e))?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(bytes)
}

fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "fleetsim-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    Ok(dir)
}

/// A grid point: its index and its parameter values.
type GridPoint = (usize, Vec<(String, String)>);

/// The grid points this process runs: all, or the shard's contiguous block.
fn my_points(
    grid: Vec<Vec<(String, String)>>,
    shard: Option<(u64, u64)>,
) -> Result<Vec<GridPoint>> {
    super::check_shard(shard, grid.len() as u64, "points", "the grid")?;
    let range = match shard {
        Some((k, n)) => super::shard_range(grid.len() as u64, k, n),
        None => 0..grid.len() as u64,
    };
    Ok(grid
        .into_iter()
        .enumerate()
        .filter(|(i, _)| range.contains(&(*i as u64)))
        .collect())
}

fn objective_text(o: &Objective) -> String {
    format!(
        "{}.{}:{}",
        o.metric,
        o.stat,
        if o.maximise { "max" } else { "min" }
    )
}

pub(crate) fn sweep_command(cfg: &crate::commands::config::SweepConfig) -> Result<i32> {
    let started = Instant::now();
    let base = super::load(Some(&cfg.scenario), &cfg.overrides)?;
    let out = out_dir(&cfg.out, &base, &super::suffix("-sweep", cfg.shard));
    super::preflight(&out, cfg.force)?;
    let mine = my_points(grid(&cfg.axes)?, cfg.shard)?;
    let progress = Progress::new(mine.len() as u64 * base.replications, cfg.quiet, "sweep");
    let opts = RunOptions {
        threads: cfg.threads,
        progress: progress.callback(),
        ..RunOptions::default()
    };
    let mut points = Vec::with_capacity(mine.len());
    let mut events = 0;
    for (i, params) in mine {
        let outcomes = run_point(&cfg.scenario, &cfg.overrides, &params, false, &opts)?;
        events += outcomes.iter().map(|o| o.events).sum::<u64>();
        let named = crate::analysis::sweep::named_params(&base, &params);
        points.push(SweepPoint::new(i, named, &summarise(&outcomes)));
    }
    progress.finish();
    if let Some((k, n)) = cfg.shard {
        let scenario = ScenarioSource::new(Some(&cfg.scenario), &cfg.overrides, &base)?;
        let objectives = cfg.objectives.iter().map(objective_text).collect();
        let out = ShardFile::new(
            (k, n),
            Payload::Sweep {
                scenario,
                objectives,
                points,
            },
        )
        .write(
            &out_dir(&cfg.out, &base, &format!("-sweep-shard-{k}-of-{n}")),
            cfg.force,
        )?;
        if !cfg.quiet {
            crate::out::line(&format!("sweep shard {k}/{n} → {}/", out.display()))?;
        }
        return Ok(0);
    }
    finish_sweep(
        &base,
        points,
        &cfg.objectives,
        Output::of(cfg),
        started,
        events,
    )
}

/// Where and how a finished experiment is written.
pub(crate) struct Output<'a> {
    pub out: &'a Option<PathBuf>,
    pub quiet: bool,
    pub format: crate::commands::config::Format,
    /// Worker threads (for perf.json).
    pub threads: Option<usize>,
    /// Render plots, report.html and summary.md.
    pub report: bool,
    /// Replace an --out folder fleetsim did not write.
    pub force: bool,
}

impl Output<'_> {
    /// The output settings of `fleetsim merge` (its `RunConfig` carries them).
    pub(crate) fn of_merge(cfg: &crate::commands::config::RunConfig) -> Output<'_> {
        Output {
            out: &cfg.out,
            quiet: cfg.quiet,
            format: cfg.format,
            threads: cfg.threads,
            report: cfg.report,
            force: cfg.force,
        }
    }

    fn of(cfg: &crate::commands::config::ExperimentConfig) -> Output<'_> {
        Output {
            out: &cfg.out,
            quiet: cfg.quiet,
            format: cfg.format,
            threads: cfg.threads,
            report: cfg.report,
            force: cfg.force,
        }
    }
}

/// Marks the Pareto front and writes the sweep's folder and table.
pub(crate) fn finish_sweep(
    base: &Scenario,
    mut points: Vec<SweepPoint>,
    objectives: &[Objective],
    output: Output,
    started: Instant,
    events: u64,
) -> Result<i32> {
    points.sort_by_key(|p| p.point);
    let values: Vec<Vec<Option<f64>>> = points
        .iter()
        .map(|p| objectives.iter().map(|o| objective_value(p, o)).collect())
        .collect();
    for (p, front) in points.iter_mut().zip(pareto_front(&values)) {
        p.pareto = front;
    }
    let json = serde_json::json!({
        "scenario": base.name, "file": base.file, "seed": base.seed, "replications": base.replications,
        "fleetsim_version": env!("CARGO_PKG_VERSION"),
        "objectives": objectives.iter().map(objective_text).collect::<Vec<_>>(),
        "points": points,
    });
    let files = [
        ("sweep.csv", csv_bytes(|p| sweep_csv(p, &points))?),
        (
            "sweep.json",
            crate::report::versioned::pretty(&json).into_bytes(),
        ),
    ];
    let runs = points.len() as u64 * base.replications;
    let out = write_experiment(
        &out_dir(output.out, base, "-sweep"),
        &files,
        started,
        events,
        runs,
        base,
        &output,
    )?;
    match (output.quiet, output.format) {
        (true, _) => {}
        (false, crate::commands::config::Format::Json) => {
            crate::out::text(&String::from_utf8_lossy(&files[1].1))?
        }
        (false, crate::commands::config::Format::Table) => {
            crate::out::text(&sweep_table(&points))?;
            print_report_path(&out, output.report)?;
        }
    }
    Ok(0)
}

pub(crate) fn tune_command(cfg: &crate::commands::config::TuneConfig) -> Result<i32> {
    let started = Instant::now();
    let base = super::load(Some(&cfg.scenario), &cfg.overrides)?;
    let out = out_dir(&cfg.out, &base, &super::suffix("-tune", cfg.shard));
    super::preflight(&out, cfg.force)?;
    if base.versions[base.policy.target as usize]
        .defects
        .iter()
        .all(|d| d.probability == 0.0)
    {
        return Err(Error::Usage(format!(
            "{}: tune compares a defective and a healthy world; the target release has no [[release.defect]] to define the defective one",
            base.file
        )));
    }
    let mine = my_points(grid(&cfg.axes)?, cfg.shard)?;
    let progress = Progress::new(2 * mine.len() as u64 * base.replications, cfg.quiet, "tune");
    let opts = RunOptions {
        threads: cfg.threads,
        progress: progress.callback(),
        ..RunOptions::default()
    };
    let mut points = Vec::new();
    let mut events = 0;
    for (i, params) in mine {
        let healthy = run_point(&cfg.scenario, &cfg.overrides, &params, true, &opts)?;
        let defective = run_point(&cfg.scenario, &cfg.overrides, &params, false, &opts)?;
        events += healthy
            .iter()
            .chain(&defective)
            .map(|o| o.events)
            .sum::<u64>();
        let named = crate::analysis::sweep::named_params(&base, &params);
        points.push(tune_point(i, named, &healthy, &defective));
    }
    progress.finish();
    if let Some((k, n)) = cfg.shard {
        let scenario = ScenarioSource::new(Some(&cfg.scenario), &cfg.overrides, &base)?;
        let payload = Payload::Tune {
            scenario,
            max_false_halt: cfg.max_false_halt,
            max_time_to_95: cfg.max_time_to_95,
            points,
        };
        let out = ShardFile::new((k, n), payload).write(
            &out_dir(&cfg.out, &base, &format!("-tune-shard-{k}-of-{n}")),
            cfg.force,
        )?;
        if !cfg.quiet {
            crate::out::line(&format!("tune shard {k}/{n} → {}/", out.display()))?;
        }
        return Ok(0);
    }
    finish_tune(
        &base,
        points,
        cfg.max_false_halt,
        cfg.max_time_to_95,
        Output::of(cfg),
        started,
        events,
    )
}

fn tune_point(
    i: usize,
    params: Vec<(String, String)>,
    healthy: &[Outcome],
    defective: &[Outcome],
) -> TunePoint {
    let harmed = metric_values(defective, "harmed");
    TunePoint {
        point: i,
        params,
        // With the defects removed every halt is a false halt.
        false_halt: rate_summary(&healthy.iter().map(|o| o.halted).collect::<Vec<_>>()),
        time_to_95_p50: statistic(&metric_values(healthy, "time_to_95"), "p50"),
        harmed_mean: statistic(&harmed, "mean"),
        harmed_p95: statistic(&harmed, "p95"),
        time_to_detect_mean: statistic(&metric_values(defective, "time_to_detect"), "mean"),
        halted_rate: rate_summary(&defective.iter().map(|o| o.halted).collect::<Vec<_>>()).rate,
        pareto: false,
        recommended: false,
    }
}

/// The recommendation: the smallest mean blast radius among the settings whose false-halt rate
/// is within the limit on its 95 % Wilson upper bound (and fast enough). When none qualifies on
/// the interval but some would on the point estimate, the point-estimate pick "leads" and the
/// replication count that would settle it is derived from its observed proportion.
fn recommend(
    points: &[TunePoint],
    max_false_halt: f64,
    max_time_to_95: Option<f64>,
) -> Recommendation {
    let fast =
        |p: &TunePoint| max_time_to_95.is_none_or(|m| p.time_to_95_p50.is_some_and(|t| t <= m));
    let key = |p: &TunePoint| {
        (
            p.harmed_mean.unwrap_or(f64::INFINITY),
            p.false_halt.rate,
            p.time_to_95_p50.unwrap_or(f64::INFINITY),
        )
    };
    let best = |ok: &dyn Fn(&TunePoint) -> bool| {
        points.iter().filter(|p| ok(p) && fast(p)).min_by(|a, b| {
            key(a)
                .partial_cmp(&key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.point.cmp(&b.point))
        })
    };
    if let Some(p) = best(&|p| p.false_halt.wilson95_high <= max_false_halt + 1e-12) {
        return Recommendation {
            recommended: Some(p.point),
            recommended_on: Some("interval".into()),
            evidence: "sufficient".into(),
            ..Recommendation::default()
        };
    }
    match best(&|p| p.false_halt.rate <= max_false_halt + 1e-12) {
        Some(p) => Recommendation {
            evidence: "too_thin".into(),
            leading: Some(p.point),
            replications_needed: replications_to_settle(p.false_halt.rate, max_false_halt, Z95),
            ..Recommendation::default()
        },
        None => Recommendation {
            evidence: "none".into(),
            ..Recommendation::default()
        },
    }
}

/// Marks the Pareto front (false halts vs blast radius), picks the recommendation and writes
/// the folder and table.
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish_tune(
    base: &Scenario,
    mut points: Vec<TunePoint>,
    max_false_halt: f64,
    max_time_to_95: Option<f64>,
    output: Output,
    started: Instant,
    events: u64,
) -> Result<i32> {
    points.sort_by_key(|p| p.point);
    let values: Vec<Vec<Option<f64>>> = points
        .iter()
        .map(|p| vec![Some(p.false_halt.rate), p.harmed_mean])
        .collect();
    for (p, front) in points.iter_mut().zip(pareto_front(&values)) {
        p.pareto = front;
    }
    let rec = recommend(&points, max_false_halt, max_time_to_95);
    if let Some(b) = rec
        .recommended
        .and_then(|b| points.iter().position(|p| p.point == b))
    {
        points[b].recommended = true;
    }
    let json = serde_json::json!({
        "scenario": base.name, "file": base.file, "seed": base.seed, "replications": base.replications,
        "fleetsim_version": env!("CARGO_PKG_VERSION"),
        "max_false_halt": max_false_halt, "max_time_to_95": max_time_to_95,
        "recommended": rec.recommended, "recommended_on": rec.recommended_on,
        "evidence": rec.evidence, "leading": rec.leading,
        "replications_needed": rec.replications_needed, "points": points,
    });
    let files = [
        ("tune.csv", csv_bytes(|p| tune_csv(p, &points))?),
        (
            "tune.json",
            crate::report::versioned::pretty(&json).into_bytes(),
        ),
    ];
    let runs = 2 * points.len() as u64 * base.replications;
    let out = write_experiment(
        &out_dir(output.out, base, "-tune"),
        &files,
        started,
        events,
        runs,
        base,
        &output,
    )?;
    match (output.quiet, output.format) {
        (true, _) => {}
        (false, crate::commands::config::Format::Json) => {
            crate::out::text(&String::from_utf8_lossy(&files[1].1))?
        }
        (false, crate::commands::config::Format::Table) => {
            crate::out::text(&tune_table(&points, &rec, max_false_halt))?;
            print_report_path(&out, output.report)?;
        }
    }
    Ok(0)
}
