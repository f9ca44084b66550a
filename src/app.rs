//! The commands, as outlines: load → check → simulate → analyse → report.

use crate::analysis::run::{run, summarise, RunOptions};
use crate::cli::{Command, Format, RunConfig};
use crate::error::{Error, InputError, Result};
use crate::report::{csv_files, perf::Perf, summary, table, Staging};
use crate::scenario::{self, Scenario};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Runs a command; returns the process exit code for a "no" answer (0 when all is well).
pub fn execute(cmd: Command) -> Result<i32> {
    match cmd {
        Command::Run(cfg) => run_command(&cfg).map(|_| 0),
        Command::Validate {
            scenarios,
            overrides,
        } => validate_command(&scenarios, &overrides),
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
    let opts = RunOptions {
        threads: cfg.threads,
        devices: cfg.devices,
        trace_rows: cfg.trace_rows,
        max_events: cfg.max_events,
    };
    let result = run(&sc, 0..sc.replications, &opts)?;
    let summary = summarise(&result.outcomes);
    let out = cfg
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(sanitize(&sc.name)));
    let staging = Staging::new(&out)?;
    let summary_json = summary::render(&sc, &summary, &result.outcomes);
    staging.write("summary.json", summary_json.as_bytes())?;
    csv_files::replications(&staging.path("replications.csv"), &result.outcomes)?;
    csv_files::timeseries(&staging.path("timeseries.csv"), &sc, &result.series_mean)?;
    csv_files::stages(&staging.path("stages.csv"), &result.outcomes)?;
    if cfg.devices {
        csv_files::devices(&staging.path("devices.csv"), &result.devices)?;
    }
    if cfg.trace_rows > 0 {
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
            table::render(&sc, &summary, result.outcomes.len() as u64)
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
