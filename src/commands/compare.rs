//! `fleetsim compare`: a paired comparison of two policies on common random numbers. Prints the
//! table and writes `compare.json` (with the plot, `report.html` and `summary.md`) to the report
//! folder. Each policy runs as written and, for guards judged there, in the healthy world (every
//! release defect removed), both on the base's seeds.

use super::experiment::print_report_path;
use super::out_dir;
use crate::analysis::compare::Worlds;
use crate::analysis::run::RunOptions;
use crate::cli::{CompareConfig, Format};
use crate::error::Result;
use crate::metrics::outcome::Outcome;
use crate::report::folder::CompareDoc;
use crate::report::{progress::Progress, table, Staging};
use crate::scenario::model::World;
use crate::scenario::{self, Scenario};

pub(crate) fn compare_command(cfg: &CompareConfig) -> Result<i32> {
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
    let (bw, cw) = (b.worlds(), c.worlds());
    let rows = crate::analysis::compare::compare(&bw, &cw, &cfg.guards, cfg.tolerance);
    let halt_reasons = crate::analysis::compare::halt_reasons(&bw, &cw, &cfg.guards);
    let regressed = rows.iter().any(|r| r.regressed);
    // The labels say what ran: each file with the overrides that changed it.
    let label = |path: &std::path::Path, overrides: &[&(String, String)]| {
        let mut text = path.display().to_string();
        for (k, v) in overrides {
            text.push_str(&format!(" with {k}={v}"));
        }
        text
    };
    let both: Vec<&(String, String)> = cfg
        .overrides
        .iter()
        .filter(|(k, _)| k != "simulation.seed" && k != "simulation.replications")
        .collect();
    let mut candidate_all = both.clone();
    candidate_all.extend(cfg.candidate_overrides.iter());
    let base_text = label(&cfg.base, &both);
    let candidate_text = label(candidate_path, &candidate_all);
    let doc = CompareDoc {
        scenario: base.name.clone(),
        base: base_text,
        candidate: candidate_text,
        fleetsim_version: env!("CARGO_PKG_VERSION").into(),
        seed: base.seed,
        replications: base.replications,
        tolerance: cfg.tolerance,
        regressed,
        rows,
        halt_reasons,
    };
    let json = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
    let staging = Staging::new(&out_dir(&cfg.out, &base, "-compare"), cfg.force)?;
    staging.write("compare.json", json.as_bytes())?;
    if cfg.report {
        crate::report::render::render(staging.dir())?;
    }
    let out = staging.commit()?;
    if !cfg.quiet {
        match cfg.format {
            Format::Json => crate::out::text(&json)?,
            Format::Table => {
                crate::out::text(&table::render_compare(&base, &doc, cfg.tolerance))?;
                print_report_path(&out, cfg.report)?;
            }
        }
    }
    Ok(if regressed { 1 } else { 0 })
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
            healthy: self.healthy.as_deref().unwrap_or(&self.as_written),
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
