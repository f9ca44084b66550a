//! `fleetsim run`: simulate a scenario and write its report folder (or, with `--shard`, a shard
//! folder for `fleetsim merge`).

use super::shard::{Payload, ScenarioSource, ShardFile};
use super::{load, out_dir};
use crate::analysis::run::{run, summarise, RunOptions, RunResult};
use crate::commands::config::{Format, RunConfig};
use crate::error::Result;
use crate::report::{csv_files, perf::Perf, progress::Progress, summary, table, Staging};
use crate::scenario::Scenario;
use std::path::Path;
use std::time::Instant;

pub(crate) fn run_command(cfg: &RunConfig) -> Result<()> {
    let started = Instant::now();
    let sc = load(cfg.scenario.as_deref(), &cfg.overrides)?;
    // `--save-baseline NAME` is a run into the scenario's baseline folder that also keeps the
    // healthy world's replications (compare's default guards judge false halts there).
    let out = match &cfg.save_baseline {
        Some(name) => Some(crate::report::baseline::saved_dir(&sc.name, name)),
        None => cfg.out.clone(),
    };
    super::preflight(
        &out_dir(&out, &sc, &super::suffix("", cfg.shard)),
        cfg.force,
    )?;
    check_shard(cfg.shard, sc.replications, "replications", &sc.file)?;
    let reps = match cfg.shard {
        Some((k, n)) => shard_range(sc.replications, k, n),
        None => 0..sc.replications,
    };
    let healthy_run = cfg.save_baseline.is_some() && sc.has_defects();
    let worlds = if healthy_run { 2 } else { 1 };
    let progress = Progress::new(worlds * (reps.end - reps.start), cfg.quiet, &sc.name);
    let opts = RunOptions {
        threads: cfg.threads,
        devices: cfg.devices,
        trace_rows: cfg.trace_rows,
        max_events: cfg.max_events,
        progress: progress.callback(),
        ..RunOptions::default()
    };
    let result = run(&sc, reps.clone(), &opts).and_then(|r| {
        let healthy_opts = RunOptions {
            devices: false,
            trace_rows: 0,
            ..opts.clone()
        };
        let healthy = match healthy_run {
            true => Some(run(&sc.healthy(), reps.clone(), &healthy_opts)?.outcomes),
            false => None,
        };
        Ok((r, healthy))
    });
    progress.finish();
    let (result, healthy) = result?;
    let text = crate::scenario::effective_text(cfg.scenario.as_deref(), &cfg.overrides)?;
    let Some((k, n)) = cfg.shard else {
        let out = out_dir(&out, &sc, "");
        let identity = Identity {
            text: &text,
            healthy: healthy.as_deref(),
        };
        return write_run_report(&sc, &result, &out, cfg, identity, started);
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

/// What `baseline.json` is made of besides the scenario: its text with the overrides applied,
/// and the healthy world's outcomes when they were run (`--save-baseline`).
pub(crate) struct Identity<'a> {
    pub text: &'a str,
    pub healthy: Option<&'a [crate::metrics::outcome::Outcome]>,
}

/// Writes the report folder of a run (or of merged shards) and prints its summary.
pub(crate) fn write_run_report(
    sc: &Scenario,
    result: &RunResult,
    out: &Path,
    cfg: &RunConfig,
    identity: Identity,
    started: Instant,
) -> Result<()> {
    let summary = summarise(&result.outcomes);
    let staging = Staging::new(out, cfg.force)?;
    let summary_json = summary::render(sc, &summary, &result.outcomes);
    staging.write("summary.json", summary_json.as_bytes())?;
    csv_files::replications(&staging.path("replications.csv"), &result.outcomes)?;
    csv_files::timeseries(&staging.path("timeseries.csv"), sc, &result.series_mean())?;
    csv_files::stages(&staging.path("stages.csv"), &result.outcomes)?;
    if !result.breakdown_sum.is_empty() {
        csv_files::breakdown(
            &staging.path("breakdown.csv"),
            sc,
            &result.breakdown_sum,
            result.outcomes.len(),
        )?;
    }
    crate::report::baseline::write(
        &staging,
        sc,
        identity.text,
        &result.outcomes,
        identity.healthy,
    )?;
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
    let perf_json = crate::report::versioned::pretty(&perf);
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
