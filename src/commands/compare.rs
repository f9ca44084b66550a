//! `fleetsim compare`: a paired comparison of two policies on common random numbers. Prints the
//! table and writes `compare.json` (with the plot, `report.html` and `summary.md`) to the report
//! folder. Each policy runs as written and, for guards judged there, in the healthy world (every
//! release defect removed), both on the base's seeds. With `--baseline` the base is a saved
//! results folder and only the candidate runs. Like `check`, it writes `--junit FILE` and, under
//! GitHub Actions, `::error` annotations and a job-summary table.

use super::experiment::print_report_path;
use super::out_dir;
use crate::analysis::compare::{Replications, Worlds};
use crate::analysis::run::RunOptions;
use crate::commands::config::{CompareConfig, Format};
use crate::error::{Error, Result};
use crate::metrics::outcome::Outcome;
use crate::report::baseline::{self, BaselineFile};
use crate::report::folder::CompareDoc;
use crate::report::{progress::Progress, table, Staging};
use crate::scenario::model::World;
use crate::scenario::{self, Scenario};
use std::path::Path;
use std::time::{Instant, SystemTime};

pub(crate) fn compare_command(cfg: &CompareConfig) -> Result<i32> {
    let started = (Instant::now(), crate::report::junit::timestamp());
    if let Some(spec) = &cfg.baseline {
        return baseline_compare(cfg, spec, started);
    }
    let (base, base_warnings) = scenario::load_file_warned(&cfg.base, &cfg.overrides)?;
    super::validate::print_warnings(&base_warnings);
    super::preflight(&out_dir(&cfg.out, &base, "-compare"), cfg.force)?;
    // The candidate runs on the base's seed and replication count: common random numbers.
    let mut cand_overrides = cfg.overrides.clone();
    cand_overrides.extend(cfg.candidate_overrides.iter().cloned());
    cand_overrides.push(("simulation.seed".into(), base.seed.to_string()));
    cand_overrides.push((
        "simulation.replications".into(),
        base.replications.to_string(),
    ));
    let candidate_path = cfg.candidate.as_deref().unwrap_or(&cfg.base);
    let (candidate, cand_warnings) = scenario::load_file_warned(candidate_path, &cand_overrides)?;
    // Warnings the candidate shares with the base (one file, other overrides) print once.
    let new_warnings: Vec<_> = cand_warnings
        .into_iter()
        .filter(|w| !base_warnings.contains(w))
        .collect();
    super::validate::print_warnings(&new_warnings);
    let healthy_guarded = cfg.guards.iter().any(|g| g.world == World::Healthy);
    let runs_of = |sc: &Scenario| {
        if healthy_guarded && sc.has_defects() {
            2
        } else {
            1
        }
    };
    let total = (runs_of(&base) + runs_of(&candidate)) * base.replications;
    let progress = Progress::new(total, cfg.quiet, "compare");
    let opts = RunOptions {
        threads: cfg.threads,
        progress: progress.callback(),
        ..RunOptions::default()
    };
    let runs = run_worlds(&base, base.replications, healthy_guarded, &opts).and_then(|b| {
        Ok((
            b,
            run_worlds(&candidate, base.replications, healthy_guarded, &opts)?,
        ))
    });
    progress.finish();
    let (b, c) = runs?;
    let labels = Labels {
        base: label(&cfg.base, &shared_overrides(cfg)),
        candidate: label(candidate_path, &candidate_overrides(cfg)),
    };
    let doc = compare_doc(cfg, &base, labels, &b.worlds(), &c.worlds());
    finish(cfg, &base, &candidate.file, &doc, started)
}

/// `compare --baseline DIR|NAME CANDIDATE`: the base's replications are read from the saved
/// folder, which must pair with the candidate (same fleetsim, seed, replications and world).
fn baseline_compare(
    cfg: &CompareConfig,
    spec: &str,
    started: (Instant, SystemTime),
) -> Result<i32> {
    let mut overrides = cfg.overrides.clone();
    overrides.extend(cfg.candidate_overrides.iter().cloned());
    let candidate = super::load(Some(&cfg.base), &overrides)?;
    let dir = baseline::resolve(spec, &candidate.name)?;
    let saved = baseline::load(&dir)?;
    let text = scenario::effective_text(Some(&cfg.base), &overrides)?;
    let mine = BaselineFile::new(&candidate, &text, candidate.replications, false);
    saved.file.check_pairs_with(&mine, &dir)?;
    let healthy_guarded = cfg.guards.iter().any(|g| g.world == World::Healthy);
    if healthy_guarded && candidate.has_defects() && saved.healthy.is_none() {
        return Err(Error::Usage(format!(
            "--baseline {}: a guard is judged in the healthy world, but the folder holds only \
             the scenario as written; save the baseline with `fleetsim run SCENARIO \
             --save-baseline NAME` (which also runs the healthy world), or guard only \
             as-written metrics (--guard METRIC:STAT@as-written)",
            dir.display()
        )));
    }
    super::preflight(&out_dir(&cfg.out, &candidate, "-compare"), cfg.force)?;
    let runs_of = if healthy_guarded && candidate.has_defects() {
        2
    } else {
        1
    };
    let progress = Progress::new(runs_of * candidate.replications, cfg.quiet, "compare");
    let opts = RunOptions {
        threads: cfg.threads,
        progress: progress.callback(),
        ..RunOptions::default()
    };
    let c = run_worlds(&candidate, candidate.replications, healthy_guarded, &opts);
    progress.finish();
    let c = c?;
    let base_worlds = Worlds {
        as_written: &saved.as_written,
        healthy: match &saved.healthy {
            Some(h) => h as &dyn Replications,
            None => &saved.as_written,
        },
    };
    let labels = Labels {
        base: format!(
            "baseline {} ({}, fleetsim {})",
            saved.dir.display(),
            saved.file.file,
            saved.file.fleetsim_version
        ),
        candidate: label(&cfg.base, &candidate_overrides(cfg)),
    };
    let doc = compare_doc(cfg, &candidate, labels, &base_worlds, &c.worlds());
    finish(cfg, &candidate, &candidate.file, &doc, started)
}

/// What `compare.json` calls the two sides.
struct Labels {
    base: String,
    candidate: String,
}

/// A file with the overrides that changed it: `plan.toml with policy.rate.per_minute=60`.
fn label(path: &Path, overrides: &[&(String, String)]) -> String {
    let mut text = path.display().to_string();
    for (k, v) in overrides {
        text.push_str(&format!(" with {k}={v}"));
    }
    text
}

/// The overrides of both sides, but the seed and replications (the table's title has them).
fn shared_overrides(cfg: &CompareConfig) -> Vec<&(String, String)> {
    cfg.overrides
        .iter()
        .filter(|(k, _)| k != "simulation.seed" && k != "simulation.replications")
        .collect()
}

fn candidate_overrides(cfg: &CompareConfig) -> Vec<&(String, String)> {
    let mut all = shared_overrides(cfg);
    all.extend(cfg.candidate_overrides.iter());
    all
}

fn compare_doc(
    cfg: &CompareConfig,
    sc: &Scenario,
    labels: Labels,
    base: &Worlds,
    candidate: &Worlds,
) -> CompareDoc {
    let rows = crate::analysis::compare::compare(base, candidate, &cfg.guards, cfg.tolerance);
    let halt_reasons = crate::analysis::compare::halt_reasons(base, candidate, &cfg.guards);
    CompareDoc {
        scenario: sc.name.clone(),
        base: labels.base,
        candidate: labels.candidate,
        fleetsim_version: env!("CARGO_PKG_VERSION").into(),
        seed: sc.seed,
        replications: sc.replications,
        tolerance: cfg.tolerance,
        regressed: rows.iter().any(|r| r.regressed),
        rows,
        halt_reasons,
    }
}

/// Writes the folder, prints the table (or `compare.json`), the JUnit XML and the GitHub
/// Actions annotations (on `candidate_file`, where a fix would go); returns 1 when a guard
/// regressed. `sc` is the base (the candidate with --baseline): the folder is named after it.
fn finish(
    cfg: &CompareConfig,
    sc: &Scenario,
    candidate_file: &str,
    doc: &CompareDoc,
    started: (Instant, SystemTime),
) -> Result<i32> {
    let json = crate::report::versioned::pretty(doc);
    let staging = Staging::new(&out_dir(&cfg.out, sc, "-compare"), cfg.force)?;
    staging.write("compare.json", json.as_bytes())?;
    if cfg.report {
        crate::report::render::render(staging.dir())?;
    }
    let out = staging.commit()?;
    if let Some(path) = &cfg.junit {
        let xml = crate::report::junit::render_compare(
            &doc.scenario,
            candidate_file,
            &doc.rows,
            cfg.tolerance,
            started.1,
            started.0.elapsed(),
        )?;
        super::write_file_atomically(path, xml.as_bytes())?;
    }
    if !cfg.quiet {
        match cfg.format {
            Format::Json => crate::out::text(&json)?,
            Format::Table => {
                crate::out::text(&table::render_compare(sc, doc, cfg.tolerance))?;
                print_report_path(&out, cfg.report)?;
            }
        }
    }
    // Workflow commands go to stdout, where they would break a JSON document.
    super::check::github_compare(candidate_file, doc, cfg.format == Format::Table)?;
    Ok(if doc.regressed { 1 } else { 0 })
}

/// One policy's outcomes as written and, when needed, in the healthy world.
struct WorldRuns {
    as_written: Vec<Outcome>,
    healthy: Option<Vec<Outcome>>,
}

impl WorldRuns {
    fn worlds(&self) -> Worlds<'_> {
        Worlds {
            as_written: &self.as_written,
            healthy: self.healthy.as_ref().unwrap_or(&self.as_written),
        }
    }
}

/// Runs the scenario as written and, when a guard is judged in the healthy world and the
/// scenario has a defect, the same replications with every defect removed. Without a defect
/// both worlds are the same and one run serves both.
fn run_worlds(
    sc: &Scenario,
    replications: u64,
    healthy_guarded: bool,
    opts: &RunOptions,
) -> Result<WorldRuns> {
    let (as_written, healthy) =
        crate::analysis::run::run_worlds(sc, 0..replications, healthy_guarded, opts)?;
    Ok(WorldRuns {
        as_written,
        healthy,
    })
}
