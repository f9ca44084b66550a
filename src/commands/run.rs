//! `fleetsim run`: simulate a scenario and write its report folder (or, with `--shard`, a shard
//! folder for `fleetsim merge`).

use super::shard::{Payload, ScenarioSource, ShardFile};
use super::{load, out_dir};
use crate::analysis::run::{run, summarise, RunOptions, RunResult};
use crate::cli::{Format, RunConfig};
use crate::error::Result;
use crate::report::{csv_files, perf::Perf, progress::Progress, summary, table, Staging};
use crate::scenario::Scenario;
use std::path::Path;
use std::time::Instant;

pub(crate) fn run_command(cfg: &RunConfig) -> Result<()> {
    let started = Instant::now();
    let sc = load(cfg.scenario.as_deref(), &cfg.overrides)?;
    check_shard(cfg.shard, sc.replications, "replications", &sc.file)?;
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
    let Some((k, n)) = cfg.shard else {
        return write_run_report(&sc, &result, &out_dir(&cfg.out, &sc, ""), cfg, started);
    };
    let scenario = ScenarioSource::new(cfg.scenario.as_deref(), &cfg.overrides, &sc)?;
    let out = ShardFile::new((k, n), Payload::Run { scenario, result }).write(&out_dir(
        &cfg.out,
        &sc,
        &format!("-shard-{k}-of-{n}"),
    ))?;
    if !cfg.quiet {
        crate::out::line(&format!(
            "shard {k}/{n}: replications {}..{} of {} → {}/",
            reps.start,
            reps.end,
            sc.replications,
            out.display()
        ))?;
    }
    Ok(())
}

/// Writes the report folder of a run (or of merged shards) and prints its summary.
pub(crate) fn write_run_report(
    sc: &Scenario,
    result: &RunResult,
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
    if cfg.report {
        crate::report::render::render(staging.dir())?;
    }
    let out = staging.commit()?;
    match (cfg.quiet, cfg.format) {
        (true, _) => {}
        (false, Format::Table) => {
            crate::out::text(&table::render(sc, &summary, result.outcomes.len() as u64))?
        }
        (false, Format::Json) => crate::out::text(&summary_json)?,
    }
    if !cfg.quiet && cfg.format == Format::Table {
        super::experiment::print_report_path(&out, cfg.report)?;
    }
    crate::out::note(&format!(
        "{} replications, {} events in {:.2} s ({:.1} M events/s, {} threads)",
        perf.replications,
        perf.events,
        wall_ms as f64 / 1000.0,
        perf.events_per_sec / 1e6,
        perf.threads
    ));
    Ok(())
}

/// Refuses `--shard K/N` when there are fewer than N work items (`what`: "replications",
/// "points"), so that every shard does some of the work and N stays bounded by it.
pub fn check_shard(shard: Option<(u64, u64)>, total: u64, what: &str, of: &str) -> Result<()> {
    match shard {
        Some((k, n)) if n > total => Err(crate::error::Error::Usage(format!(
            "--shard {k}/{n}: {of} has {total} {what}, fewer than the {n} shards; N must be at \
             most {total} (each shard does at least one)"
        ))),
        _ => Ok(()),
    }
}

/// Work items of shard `k` (1-based) of `n`: contiguous blocks that differ by at most one.
pub fn shard_range(total: u64, k: u64, n: u64) -> std::ops::Range<u64> {
    // In u128, so that no K/N can overflow the product.
    let at = |i: u64| (i as u128 * total as u128 / n.max(1) as u128) as u64;
    at(k.saturating_sub(1))..at(k)
}
