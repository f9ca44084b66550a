//! `fleetsim compare`: a paired comparison of two policies on common random numbers.

use crate::analysis::run::{run, RunOptions};
use crate::cli::{CompareConfig, Format};
use crate::error::Result;
use crate::report::table;
use crate::scenario;

pub(crate) fn compare_command(cfg: &CompareConfig) -> Result<i32> {
    let base = scenario::load_file(&cfg.base, &cfg.overrides)?;
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
