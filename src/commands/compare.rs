//! `fleetsim compare`: a paired comparison of two policies on common random numbers. Prints the
//! table and writes `compare.json` (with the plot, `report.html` and `summary.md`) to the report
//! folder.

use super::experiment::print_report_path;
use super::out_dir;
use crate::analysis::run::{run, RunOptions};
use crate::cli::{CompareConfig, Format};
use crate::error::Result;
use crate::report::folder::CompareDoc;
use crate::report::{progress::Progress, table, Staging};
use crate::scenario;

pub(crate) fn compare_command(cfg: &CompareConfig) -> Result<i32> {
    let (base, base_warnings) = scenario::load_file_warned(&cfg.base, &cfg.overrides)?;
    super::validate::print_warnings(&base_warnings);
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
    let progress = Progress::new(2 * base.replications, cfg.quiet, "compare");
    let opts = RunOptions {
        threads: cfg.threads,
        progress: progress.callback(),
        ..RunOptions::default()
    };
    let runs = run(&base, 0..base.replications, &opts)
        .and_then(|b| Ok((b, run(&candidate, 0..base.replications, &opts)?)));
    progress.finish();
    let (b, c) = runs?;
    let rows =
        crate::analysis::compare::compare(&b.outcomes, &c.outcomes, &cfg.guards, cfg.tolerance);
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
    };
    let json = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
    let staging = Staging::new(&out_dir(&cfg.out, &base, "-compare"))?;
    staging.write("compare.json", json.as_bytes())?;
    if cfg.report {
        crate::report::render::render(staging.dir())?;
    }
    let out = staging.commit()?;
    if !cfg.quiet {
        match cfg.format {
            Format::Json => crate::out::text(&json)?,
            Format::Table => {
                crate::out::text(&table::render_compare(&base, &doc.rows, cfg.tolerance))?;
                print_report_path(&out, cfg.report)?;
            }
        }
    }
    Ok(if regressed { 1 } else { 0 })
}
