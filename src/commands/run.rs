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
    super::preflight(
        &out_dir(&cfg.out, &sc, &super::suffix("", cfg.shard)),
        cfg.force,
    )?;
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
        ..RunOptions::default()
    };
    let result = run(&sc, reps.clone(), &opts);
    progress.finish();
    let result = result?;
    let Some((k, n)) = cfg.shard else {
        return write_run_report(&sc, &result, &out_dir(&cfg.out, &sc, ""), cfg, started);
    };
    let scenario = ScenarioSource::new(cfg.scenario.as_deref(), &cfg.overrides, &sc)?;
    let out = ShardFile::new((k, n), Payload::Run { scenario, result }).write(
        &out_dir(&cfg.out, &sc, &format!("-shard-{k}-of-{n}")),
        cfg.force,
    )?;
    if cfg.quiet {
        crate::out::line(&out.display().to_string())?;
    } else {
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
    let staging = Staging::new(out, cfg.force)?;
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
    let perf = Perf::new(
        wall_ms,
        result.events,
        result.outcomes.len() as u64,
        result.threads,
        sc.device_count(),
        &result.events_by_kind,
    );
    let perf_json = serde_json::to_string_pretty(&perf).unwrap_or_default() + "\n";
    staging.write("perf.json", perf_json.as_bytes())?;
    if cfg.report {
        crate::report::render::render(staging.dir())?;
    }
    let out = staging.commit()?;
    match (cfg.quiet, cfg.format) {
        // `--quiet`: the folder alone, so that a script can use it (`open "$(fleetsim run -q)"`).
        (true, _) => crate::out::line(&out.display().to_string())?,
        (false, Format::Table) => {
            crate::out::text(&table::render(sc, &summary, result.outcomes.len() as u64))?
        }
        (false, Format::Json) => crate::out::text(&summary_json)?,
    }
    if !cfg.quiet && cfg.format == Format::Table {
        super::experiment::print_report_path(&out, cfg.report)?;
    }
    if cfg.quiet {
        return Ok(());
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
/// The products are taken in `u128`: `k · total` overflows `u64` for large `N` (a shard count
/// of 10^13 with a million replications), which used to give an empty or wrong block.
pub fn shard_range(total: u64, k: u64, n: u64) -> std::ops::Range<u64> {
    let bound = |i: u64| (i as u128 * total as u128 / n.max(1) as u128) as u64;
    bound(k.saturating_sub(1))..bound(k)
}

#[cfg(test)]
mod tests {
    use super::shard_range;

    /// Regression: `--shard 18446744073710/18446744073710` overflowed `k · total` and ran
    /// nothing (or the wrong block); the shards must tile `0..total` whatever N is.
    #[test]
    fn shard_range_does_not_overflow_for_huge_shard_counts() {
        let n = 18_446_744_073_710;
        assert_eq!(shard_range(1_000_000, n, n), 999_999..1_000_000);
        assert_eq!(shard_range(u64::MAX, n, n).end, u64::MAX);
        let (a, b) = (shard_range(10, 1, 3), shard_range(10, 3, 3));
        assert_eq!((a.start, b.end), (0, 10));
    }
}
