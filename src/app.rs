//! The commands, as outlines: load → check → simulate → analyse → report.

use crate::analysis::expect;
use crate::analysis::run::{run, summarise, RunOptions};
use crate::cli::{CheckConfig, Command, CompareConfig, Format, RunConfig};
use crate::error::{Error, InputError, Result};
use crate::report::{csv_files, perf::Perf, progress::Progress, summary, table, Staging};
use crate::scenario::{self, Scenario};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Runs a command; returns the process exit code for a "no" answer (0 when all is well).
pub fn execute(cmd: Command) -> Result<i32> {
    match cmd {
        Command::Run(cfg) => run_command(&cfg).map(|_| 0),
        Command::Merge { dirs, output } => merge_command(&dirs, &output),
        Command::Validate {
            scenarios,
            overrides,
        } => validate_command(&scenarios, &overrides),
        Command::Check(cfg) => check_command(&cfg),
        Command::Compare(cfg) => compare_command(&cfg),
        Command::Sweep(cfg) => sweep_command(&cfg),
        Command::Tune(cfg) => tune_command(&cfg),
    }
}

fn load(path: Option<&Path>, overrides: &[(String, String)]) -> Result<Scenario> {
    match path {
        Some(p) => scenario::load_file(p, overrides),
        None => scenario::load_str(
            scenario::REFERENCE,
            scenario::REFERENCE_LABEL,
            Path::new("."),
            overrides,
        ),
    }
}

/// Refuses a scenario that uses features this build parses but does not simulate.
fn refuse_unsimulated(sc: &Scenario) -> Result<()> {
    if sc.unsimulated.is_empty() {
        return Ok(());
    }
    Err(Error::Input(
        sc.unsimulated
            .iter()
            .map(|what| InputError {
                file: sc.file.clone(),
                key_path: String::new(),
                position: None,
                message: format!("{what} is not simulated yet in fleetsim {}: remove it to run this scenario (validate accepts it)", env!("CARGO_PKG_VERSION")),
            })
            .collect(),
    ))
}

fn validate_command(paths: &[PathBuf], overrides: &[(String, String)]) -> Result<i32> {
    let mut errors = Vec::new();
    for p in paths {
        match scenario::load_file(p, overrides) {
            Ok(sc) => {
                println!(
                    "ok: {} ({} devices, {} stages, {} replications)",
                    p.display(),
                    sc.device_count(),
                    sc.policy.stages.len(),
                    sc.replications
                );
                for what in &sc.unsimulated {
                    println!("  note: {what} is not simulated yet: `fleetsim run` refuses this scenario until it is");
                }
            }
            Err(Error::Input(e)) => errors.extend(e),
            Err(other) => return Err(other),
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Error::Input(errors))
    }
}

fn run_command(cfg: &RunConfig) -> Result<()> {
    let started = Instant::now();
    let sc = load(cfg.scenario.as_deref(), &cfg.overrides)?;
    refuse_unsimulated(&sc)?;
    let reps = match cfg.shard {
        Some((k, n)) => shard_range(sc.replications, k, n),
        None => 0..sc.replications,
    };
    let progress = Progress::new(reps.end - reps.start, cfg.quiet, &sc.name);
    let opts = RunOptions {
        threads: cfg.threads,
        devices: cfg.devices,
        trace_rows: cfg.trace_rows,
        max_events: cfg.max_events,
        progress: progress.callback(),
    };
    let result = run(&sc, reps.clone(), &opts);
    progress.finish();
    let result = result?;
    if let Some((k, n)) = cfg.shard {
        let default = format!("{}-shard-{k}-of-{n}", sanitize(&sc.name));
        let out = cfg
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("reports").join(default));
        let shard = ShardFile {
            fleetsim_version: env!("CARGO_PKG_VERSION").into(),
            scenario_text: scenario::effective_text(cfg.scenario.as_deref(), &cfg.overrides)?,
            file: sc.file.clone(),
            base_dir: cfg
                .scenario
                .as_deref()
                .and_then(|p| p.parent())
                .map(|p| p.to_path_buf())
                .unwrap_or_default(),
            replications: sc.replications,
            shard: (k, n),
            result,
        };
        let staging = Staging::new(&out)?;
        staging.write(
            "shard.json",
            serde_json::to_string(&shard).unwrap_or_default().as_bytes(),
        )?;
        let out = staging.commit()?;
        if !cfg.quiet {
            println!(
                "shard {k}/{n}: replications {}..{} of {} → {}/",
                reps.start,
                reps.end,
                sc.replications,
                out.display()
            );
        }
        return Ok(());
    }
    let out = cfg
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(sanitize(&sc.name)));
    write_run_report(&sc, &result, &out, cfg, started)
}

/// Writes the report folder of a run (or of merged shards) and prints its summary.
fn write_run_report(
    sc: &Scenario,
    result: &crate::analysis::run::RunResult,
    out: &Path,
    cfg: &RunConfig,
    started: Instant,
) -> Result<()> {
    let summary = summarise(&result.outcomes);
    let staging = Staging::new(out)?;
    let summary_json = summary::render(sc, &summary, &result.outcomes);
    staging.write("summary.json", summary_json.as_bytes())?;
    csv_files::replications(&staging.path("replications.csv"), &result.outcomes)?;
    csv_files::timeseries(&staging.path("timeseries.csv"), sc, &result.series_mean())?;
    csv_files::stages(&staging.path("stages.csv"), &result.outcomes)?;
    if !result.devices.is_empty() {
        csv_files::devices(&staging.path("devices.csv"), &result.devices)?;
    }
    if !result.trace.is_empty() || cfg.trace_rows > 0 {
        csv_files::events(&staging.path("events.csv"), &result.trace)?;
    }
    let wall_ms = started.elapsed().as_millis() as u64;
    let perf = Perf {
        wall_ms,
        events: result.events,
        events_per_sec: result.events as f64 / (wall_ms.max(1) as f64 / 1000.0),
        replications: result.outcomes.len() as u64,
        threads: result.threads,
        devices: sc.device_count(),
        peak_rss_bytes: crate::report::perf::peak_rss_bytes(),
    };
    let perf_json = serde_json::to_string_pretty(&perf).unwrap_or_default() + "\n";
    staging.write("perf.json", perf_json.as_bytes())?;
    let out = staging.commit()?;
    match (cfg.quiet, cfg.format) {
        (true, _) => {}
        (false, Format::Table) => print!(
            "{}",
            table::render(sc, &summary, result.outcomes.len() as u64)
        ),
        (false, Format::Json) => print!("{summary_json}"),
    }
    if !cfg.quiet && cfg.format == Format::Table {
        println!("\nreport: {}/", out.display());
    }
    eprintln!(
        "{} replications, {} events in {:.2} s ({:.1} M events/s, {} threads)",
        perf.replications,
        perf.events,
        wall_ms as f64 / 1000.0,
        perf.events_per_sec / 1e6,
        perf.threads
    );
    Ok(())
}

/// Replications of shard `k` (1-based) of `n`: contiguous blocks, so shards differ by at most
/// one replication.
pub fn shard_range(total: u64, k: u64, n: u64) -> std::ops::Range<u64> {
    (k - 1) * total / n..k * total / n
}

/// What a shard folder holds: its results and what `merge` needs to rebuild the scenario.
#[derive(serde::Serialize, serde::Deserialize)]
struct ShardFile {
    fleetsim_version: String,
    scenario_text: String,
    file: String,
    base_dir: PathBuf,
    replications: u64,
    shard: (u64, u64),
    result: crate::analysis::run::RunResult,
}

fn merge_command(dirs: &[PathBuf], cfg: &RunConfig) -> Result<i32> {
    let started = Instant::now();
    let mut shards: Vec<ShardFile> = Vec::new();
    for d in dirs {
        let path = d.join("shard.json");
        let bytes = std::fs::read(&path).map_err(|e| {
            Error::io(
                format!("cannot read {} (is it a shard folder?)", path.display()),
                e,
            )
        })?;
        let shard: ShardFile = serde_json::from_slice(&bytes).map_err(|e| {
            Error::Usage(format!(
                "{}: not a fleetsim shard file: {e}",
                path.display()
            ))
        })?;
        if shard.fleetsim_version != env!("CARGO_PKG_VERSION") {
            return Err(Error::Usage(format!(
                "{}: written by fleetsim {}, this is {}",
                path.display(),
                shard.fleetsim_version,
                env!("CARGO_PKG_VERSION")
            )));
        }
        shards.push(shard);
    }
    let first = shards
        .first()
        .ok_or_else(|| Error::Usage("merge needs at least one shard folder".into()))?;
    let n = first.shard.1;
    let mut seen = vec![false; n as usize];
    for s in &shards {
        if s.scenario_text != first.scenario_text
            || s.shard.1 != n
            || s.replications != first.replications
        {
            return Err(Error::Usage(
                "the shards come from different scenarios, overrides or shard counts".into(),
            ));
        }
        let k = s.shard.0 as usize;
        if k == 0 || k > n as usize || std::mem::replace(&mut seen[k - 1], true) {
            return Err(Error::Usage(format!(
                "shard {k}/{n} is given twice or is out of range"
            )));
        }
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(Error::Usage(format!(
            "shard {}/{n} is missing: merge needs every shard",
            missing + 1
        )));
    }
    let sc = scenario::load_str(&first.scenario_text, &first.file, &first.base_dir, &[])?;
    let result =
        crate::analysis::run::RunResult::merge(shards.into_iter().map(|s| s.result).collect());
    let out = cfg
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(sanitize(&sc.name)));
    write_run_report(&sc, &result, &out, cfg, started)?;
    Ok(0)
}

/// A scenario name as a folder name.
fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("scenario{s}")
    } else {
        s
    }
}

fn check_command(cfg: &CheckConfig) -> Result<i32> {
    let mut suites = Vec::new();
    for path in &cfg.scenarios {
        let sc = scenario::load_file(path, &cfg.overrides)?;
        refuse_unsimulated(&sc)?;
        let opts = RunOptions {
            threads: cfg.threads,
            ..RunOptions::default()
        };
        let result = run(&sc, 0..sc.replications, &opts)?;
        let verdicts = expect::evaluate(&sc.expects, &result.outcomes);
        print_verdicts(&sc, &verdicts, result.outcomes.len(), cfg.quiet);
        suites.push((sc.name.clone(), sc.file.clone(), verdicts));
    }
    if let Some(junit_path) = &cfg.junit {
        let xml = crate::report::junit::render(&suites);
        write_file_atomically(junit_path, xml.as_bytes())?;
    }
    github_annotations(&suites)?;
    let violations = suites
        .iter()
        .flat_map(|s| &s.2)
        .filter(|v| !v.passed)
        .count();
    let total: usize = suites.iter().map(|s| s.2.len()).sum();
    println!("{} passed, {} failed", total - violations, violations);
    Ok(if violations > 0 { 1 } else { 0 })
}

fn print_verdicts(sc: &Scenario, verdicts: &[expect::Verdict], replications: usize, quiet: bool) {
    if !quiet {
        println!(
            "{} ({}, {} replications, seed {})",
            sc.name, sc.file, replications, sc.seed
        );
        if verdicts.is_empty() {
            println!("  (no [[expect]] entries)");
        }
    }
    for v in verdicts.iter().filter(|v| !quiet || !v.passed) {
        let observed = v.observed.map_or("no value".to_string(), expect::fmt);
        let interval = v.interval.map_or(String::new(), |(lo, hi)| {
            format!(" [95% CI {} – {}]", expect::fmt(lo), expect::fmt(hi))
        });
        let verdict = if v.passed { "pass" } else { "FAIL" };
        println!(
            "  {verdict}  {:<40} observed {observed}{interval}",
            v.bound_text()
        );
    }
}

/// Under GitHub Actions: `::error` annotations for violations and a Markdown table appended
/// to the job summary.
fn github_annotations(suites: &[(String, String, Vec<expect::Verdict>)]) -> Result<()> {
    if std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") {
        return Ok(());
    }
    let mut md = String::from(
        "### fleetsim check\n\n| scenario | expectation | observed | result |\n|---|---|---|---|\n",
    );
    for (name, file, verdicts) in suites {
        for v in verdicts {
            let observed = v.observed.map_or("no value".to_string(), expect::fmt);
            if !v.passed {
                println!("::error file={file},title=fleetsim check::{name}: expected {}, observed {observed}", v.bound_text());
            }
            md.push_str(&format!(
                "| {name} | `{}` | {observed} | {} |\n",
                v.bound_text(),
                if v.passed { "✅" } else { "❌" }
            ));
        }
    }
    if let Ok(path) = std::env::var("GITHUB_STEP_SUMMARY") {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(format!("cannot open {path}"), e))?;
        f.write_all(md.as_bytes())
            .map_err(|e| Error::io(format!("cannot write {path}"), e))?;
    }
    Ok(())
}

/// Writes a single file through a temporary sibling and a rename.
fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)
        .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("cannot write {}", path.display()), e)
    })
}

fn compare_command(cfg: &CompareConfig) -> Result<i32> {
    let base = scenario::load_file(&cfg.base, &cfg.overrides)?;
    refuse_unsimulated(&base)?;
    // The candidate runs on the base's seed and replication count: common random numbers.
    let mut cand_overrides = cfg.overrides.clone();
    cand_overrides.extend(cfg.candidate_overrides.iter().cloned());
    cand_overrides.push(("simulation.seed".into(), base.seed.to_string()));
    cand_overrides.push((
        "simulation.replications".into(),
        base.replications.to_string(),
    ));
    let candidate = scenario::load_file(
        cfg.candidate.as_deref().unwrap_or(&cfg.base),
        &cand_overrides,
    )?;
    refuse_unsimulated(&candidate)?;
    let opts = RunOptions {
        threads: cfg.threads,
        ..RunOptions::default()
    };
    let b = run(&base, 0..base.replications, &opts)?;
    let c = run(&candidate, 0..base.replications, &opts)?;
    let rows =
        crate::analysis::compare::compare(&b.outcomes, &c.outcomes, &cfg.guards, cfg.tolerance);
    match cfg.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        ),
        Format::Table => print!("{}", table::render_compare(&base, &rows, cfg.tolerance)),
    }
    Ok(if rows.iter().any(|r| r.regressed) {
        1
    } else {
        0
    })
}

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
    refuse_unsimulated(&sc)?;
    if healthy {
        sc.versions.iter_mut().for_each(|v| v.defects.clear());
    }
    Ok(run(&sc, 0..sc.replications, opts)?.outcomes)
}

fn objective_value(
    p: &crate::report::sweep_files::SweepPoint,
    o: &crate::analysis::sweep::Objective,
) -> Option<f64> {
    let v = match p.rates.get(&o.metric) {
        Some(r) => Some(r.rate),
        None => {
            let a = p.metrics.get(&o.metric)?;
            match o.stat.as_str() {
                "mean" | "rate" => a.mean,
                "sd" => a.sd,
                "min" => a.min,
                "p5" => a.p5,
                "p50" => a.p50,
                "p95" => a.p95,
                "p99" => a.p99,
                _ => a.max,
            }
        }
    };
    v.map(|x| if o.maximise { -x } else { x })
}

fn write_experiment(
    out: &Path,
    files: &[(&str, Vec<u8>)],
    started: Instant,
    events: u64,
    runs: u64,
    sc: &Scenario,
    threads: Option<usize>,
) -> Result<PathBuf> {
    let staging = Staging::new(out)?;
    for (name, bytes) in files {
        staging.write(name, bytes)?;
    }
    let wall_ms = started.elapsed().as_millis() as u64;
    let perf = Perf {
        wall_ms,
        events,
        events_per_sec: events as f64 / (wall_ms.max(1) as f64 / 1000.0),
        replications: runs,
        threads: threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        devices: sc.device_count(),
        peak_rss_bytes: crate::report::perf::peak_rss_bytes(),
    };
    staging.write(
        "perf.json",
        (serde_json::to_string_pretty(&perf).unwrap_or_default() + "\n").as_bytes(),
    )?;
    staging.commit()
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

fn sweep_command(cfg: &crate::cli::SweepConfig) -> Result<i32> {
    use crate::analysis::sweep::{grid, pareto_front};
    use crate::report::sweep_files::{sweep_csv, sweep_table, SweepPoint};
    let started = Instant::now();
    let base = scenario::load_file(&cfg.scenario, &cfg.overrides)?;
    refuse_unsimulated(&base)?;
    let points_params = grid(&cfg.axes)?;
    let progress = Progress::new(
        points_params.len() as u64 * base.replications,
        cfg.quiet,
        "sweep",
    );
    let opts = RunOptions {
        threads: cfg.threads,
        progress: progress.callback(),
        ..RunOptions::default()
    };
    let mut points = Vec::with_capacity(points_params.len());
    let mut events = 0;
    for (i, params) in points_params.into_iter().enumerate() {
        let outcomes = run_point(&cfg.scenario, &cfg.overrides, &params, false, &opts)?;
        events += outcomes.iter().map(|o| o.events).sum::<u64>();
        points.push(SweepPoint::new(i, params, &summarise(&outcomes)));
    }
    progress.finish();
    let values: Vec<Vec<Option<f64>>> = points
        .iter()
        .map(|p| {
            cfg.objectives
                .iter()
                .map(|o| objective_value(p, o))
                .collect()
        })
        .collect();
    for (p, front) in points.iter_mut().zip(pareto_front(&values)) {
        p.pareto = front;
    }
    let out = cfg.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports").join(format!("{}-sweep", sanitize(&base.name)))
    });
    let json = serde_json::json!({
        "scenario": base.name, "file": base.file, "seed": base.seed, "replications": base.replications,
        "fleetsim_version": env!("CARGO_PKG_VERSION"),
        "objectives": cfg.objectives.iter().map(|o| format!("{}.{}:{}", o.metric, o.stat, if o.maximise { "max" } else { "min" })).collect::<Vec<_>>(),
        "points": points,
    });
    let files = [
        ("sweep.csv", csv_bytes(|p| sweep_csv(p, &points))?),
        (
            "sweep.json",
            (serde_json::to_string_pretty(&json).unwrap_or_default() + "\n").into_bytes(),
        ),
    ];
    let runs = points.len() as u64 * base.replications;
    let out = write_experiment(&out, &files, started, events, runs, &base, cfg.threads)?;
    if !cfg.quiet {
        print!("{}", sweep_table(&points));
        println!("\nreport: {}/", out.display());
    }
    Ok(0)
}

fn tune_command(cfg: &crate::cli::TuneConfig) -> Result<i32> {
    use crate::analysis::run::{metric_values, statistic};
    use crate::analysis::stats::rate_summary;
    use crate::analysis::sweep::{grid, pareto_front};
    use crate::report::sweep_files::{tune_csv, tune_table, TunePoint};
    let started = Instant::now();
    let base = scenario::load_file(&cfg.scenario, &cfg.overrides)?;
    refuse_unsimulated(&base)?;
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
    let grid = grid(&cfg.axes)?;
    let progress = Progress::new(2 * grid.len() as u64 * base.replications, cfg.quiet, "tune");
    let opts = RunOptions {
        threads: cfg.threads,
        progress: progress.callback(),
        ..RunOptions::default()
    };
    let mut points = Vec::new();
    let mut events = 0;
    for (i, params) in grid.into_iter().enumerate() {
        let healthy = run_point(&cfg.scenario, &cfg.overrides, &params, true, &opts)?;
        let defective = run_point(&cfg.scenario, &cfg.overrides, &params, false, &opts)?;
        events += healthy
            .iter()
            .chain(&defective)
            .map(|o| o.events)
            .sum::<u64>();
        let harmed = metric_values(&defective, "harmed");
        points.push(TunePoint {
            point: i,
            params,
            // With the defects removed every halt is a false halt.
            false_halt: rate_summary(&healthy.iter().map(|o| o.halted).collect::<Vec<_>>()),
            time_to_95_p50: statistic(&metric_values(&healthy, "time_to_95"), "p50"),
            harmed_mean: statistic(&harmed, "mean"),
            harmed_p95: statistic(&harmed, "p95"),
            time_to_detect_mean: statistic(&metric_values(&defective, "time_to_detect"), "mean"),
            halted_rate: rate_summary(&defective.iter().map(|o| o.halted).collect::<Vec<_>>()).rate,
            pareto: false,
            recommended: false,
        });
    }
    progress.finish();
    let values: Vec<Vec<Option<f64>>> = points
        .iter()
        .map(|p| vec![Some(p.false_halt.rate), p.harmed_mean])
        .collect();
    for (p, front) in points.iter_mut().zip(pareto_front(&values)) {
        p.pareto = front;
    }
    let eligible = |p: &&TunePoint| {
        p.false_halt.rate <= cfg.max_false_halt + 1e-12
            && cfg
                .max_time_to_95
                .is_none_or(|m| p.time_to_95_p50.is_some_and(|t| t <= m))
    };
    let best = points
        .iter()
        .filter(eligible)
        .min_by(|a, b| {
            let key = |p: &TunePoint| {
                (
                    p.harmed_mean.unwrap_or(f64::INFINITY),
                    p.false_halt.rate,
                    p.time_to_95_p50.unwrap_or(f64::INFINITY),
                )
            };
            key(a)
                .partial_cmp(&key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.point.cmp(&b.point))
        })
        .map(|p| p.point);
    if let Some(b) = best {
        points[b].recommended = true;
    }
    let out = cfg
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(format!("{}-tune", sanitize(&base.name))));
    let json = serde_json::json!({
        "scenario": base.name, "file": base.file, "seed": base.seed, "replications": base.replications,
        "fleetsim_version": env!("CARGO_PKG_VERSION"),
        "max_false_halt": cfg.max_false_halt, "max_time_to_95": cfg.max_time_to_95,
        "recommended": best, "points": points,
    });
    let files = [
        ("tune.csv", csv_bytes(|p| tune_csv(p, &points))?),
        (
            "tune.json",
            (serde_json::to_string_pretty(&json).unwrap_or_default() + "\n").into_bytes(),
        ),
    ];
    let runs = 2 * points.len() as u64 * base.replications;
    let out = write_experiment(&out, &files, started, events, runs, &base, cfg.threads)?;
    if !cfg.quiet {
        print!("{}", tune_table(&points, cfg.max_false_halt));
        println!("\nreport: {}/", out.display());
    }
    Ok(0)
}
