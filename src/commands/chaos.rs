//! `fleetsim chaos`: a randomised fault campaign (SPEC §1.7). Schedules run in parallel and are
//! reduced in campaign order; every schedule that breaks an `[[expect]]` assertion is shrunk to
//! a minimal one and written as a standalone scenario that `fleetsim check` fails on.

use super::out_dir;
use crate::analysis::expect::{self, Verdict};
use crate::analysis::run::OnProgress;
use crate::analysis::run::{run_worlds, RunOptions};
use crate::commands::config::{ChaosConfig, Format};
use crate::error::{Error, Result};
use crate::fault::campaign::{default_chaos, draw, shrink_candidates, DrawnFault, Space};
use crate::report::{progress::Progress, Staging};
use crate::scenario::{self, Scenario};
use rayon::prelude::*;

/// What one schedule did to the scenario's expectations.
struct Trial {
    verdicts: Vec<Verdict>,
    /// How far past their bounds the failed expectations are, relative to each bound.
    severity: f64,
}

fn severity(verdicts: &[Verdict]) -> f64 {
    verdicts
        .iter()
        .filter(|v| !v.passed)
        .map(|v| match v.observed {
            None => 1.0,
            Some(x) => {
                let over = v.max.map_or(0.0, |hi| (x - hi) / hi.abs().max(1.0));
                let under = v.min.map_or(0.0, |lo| (lo - x) / lo.abs().max(1.0));
                over.max(under).max(1e-9)
            }
        })
        .fold(0.0, |a, b| a + b)
}

/// A simulator invariant breach, with the campaign and the schedule (the scenario text that
/// ran) appended so that it can be reproduced; other errors unchanged.
fn with_schedule(e: Error, k: u64, campaign_seed: u64, text: &str) -> Error {
    match e {
        Error::Invariant {
            seed,
            replication,
            what,
        } => Error::Invariant {
            seed,
            replication,
            what: format!(
                "{what}; chaos campaign {k} of campaign seed {campaign_seed}, schedule:\n{text}"
            ),
        },
        other => other,
    }
}

struct Campaign<'a> {
    /// The scenario text every schedule is appended to, its relative paths made absolute so a
    /// reproducer loads from any folder.
    base_text: String,
    file: String,
    base_dir: std::path::PathBuf,
    opts: RunOptions,
    space: Space,
    campaign_seed: u64,
    cfg: &'a ChaosConfig,
}

/// What one campaign found: its schedule, how badly it broke the expectations, and its shrunk
/// form when it broke any.
struct Found {
    k: u64,
    faults: Vec<DrawnFault>,
    severity: f64,
    shrunk: Option<(Vec<DrawnFault>, Trial)>,
}

impl Campaign<'_> {
    fn text(&self, faults: &[DrawnFault]) -> String {
        let mut t = self.base_text.clone();
        for f in faults {
            t.push('\n');
            t.push_str(&f.to_toml());
        }
        t
    }

    /// Runs campaign `k`'s schedule (or a shrunk form of it). A simulator invariant breach is
    /// reported with the campaign and the schedule that was running.
    fn trial(&self, k: u64, faults: &[DrawnFault]) -> Result<Trial> {
        let text = self.text(faults);
        let sc = scenario::load_str(&text, &self.file, &self.base_dir, &[])?;
        // Healthy-world expectations are judged, as by `check`, on the same schedule with every
        // release defect removed; that world runs only when one asks for it.
        let (outcomes, healthy) =
            run_worlds(&sc, 0..sc.replications, sc.needs_healthy_run(), &self.opts)
                .map_err(|e| with_schedule(e, k, self.campaign_seed, &text))?;
        let healthy = healthy
            .as_deref()
            .or((!sc.has_defects()).then_some(&outcomes[..]));
        let verdicts = expect::evaluate(&sc.expects, &outcomes, healthy);
        Ok(Trial {
            severity: severity(&verdicts),
            verdicts,
        })
    }

    /// Greedy shrinking: take the first smaller schedule that still violates, until none does
    /// or the trial budget is spent.
    fn shrink(
        &self,
        k: u64,
        mut faults: Vec<DrawnFault>,
        mut trial: Trial,
    ) -> Result<(Vec<DrawnFault>, Trial)> {
        let mut budget = self.cfg.max_trials;
        'outer: while budget > 0 {
            for candidate in shrink_candidates(&faults, &self.space) {
                if budget == 0 {
                    break 'outer;
                }
                budget -= 1;
                let t = self.trial(k, &candidate)?;
                if t.severity > 0.0 {
                    faults = candidate;
                    trial = t;
                    continue 'outer;
                }
            }
            break;
        }
        Ok((faults, trial))
    }

    /// Draws, runs and (when it breaks an expectation) shrinks campaign `k`.
    fn campaign(&self, k: u64) -> Result<Found> {
        let faults = draw(&self.space, self.campaign_seed, k);
        let trial = self.trial(k, &faults)?;
        let severity = trial.severity;
        let shrunk = if severity > 0.0 {
            Some(self.shrink(k, faults.clone(), trial)?)
        } else {
            None
        };
        Ok(Found {
            k,
            faults,
            severity,
            shrunk,
        })
    }

    /// Runs every campaign on a pool of `--threads` threads (each schedule's replications
    /// share the pool) and returns them in campaign order, so the outputs do not depend on the
    /// thread count; the first error in campaign order wins.
    fn run_all(&self, campaigns: u64, tick: Option<OnProgress>) -> Result<Vec<Found>> {
        let pool = crate::analysis::run::thread_pool(self.cfg.threads)?;
        let results: Vec<Result<Found>> = pool.install(|| {
            (0..campaigns)
                .into_par_iter()
                .map(|k| {
                    let found = self.campaign(k);
                    if let Some(t) = &tick {
                        t(1);
                    }
                    found
                })
                .collect()
        });
        results.into_iter().collect()
    }
}

pub(crate) fn chaos_command(cfg: &ChaosConfig) -> Result<i32> {
    let base = super::load(Some(&cfg.scenario), &cfg.overrides)?;
    super::preflight(&out_dir(&cfg.out, &base, "-chaos"), cfg.force)?;
    if base.expects.is_empty() {
        return Err(Error::Usage(format!("{}: a chaos campaign looks for schedules that break [[expect]] assertions; the scenario has none", base.file)));
    }
    let chaos = base.chaos.clone().unwrap_or_else(|| default_chaos(&base));
    let campaigns = cfg.campaigns.unwrap_or(chaos.campaigns) as u64;
    let base_dir = cfg
        .scenario
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    let text = scenario::effective_text(Some(&cfg.scenario), &cfg.overrides)?;
    let c = Campaign {
        base_text: scenario::paths::absolute_paths(&text, &base.file, &base_dir)?,
        file: base.file.clone(),
        base_dir,
        opts: RunOptions {
            threads: cfg.threads,
            ..RunOptions::default()
        },
        space: Space::new(&base, &chaos),
        campaign_seed: cfg.campaign_seed.unwrap_or(base.seed),
        cfg,
    };
    let progress = Progress::new(campaigns, cfg.quiet, "chaos");
    let results = c.run_all(campaigns, progress.callback());
    progress.finish();
    let results = results?;
    let mut found: Vec<(u64, Vec<DrawnFault>, Trial)> = Vec::new();
    let mut rows = Vec::new();
    for r in results {
        rows.push((r.k, r.faults, r.severity));
        if let Some((small, t)) = r.shrunk {
            found.push((r.k, small, t));
        }
    }
    found.sort_by(|a, b| b.2.severity.total_cmp(&a.2.severity).then(a.0.cmp(&b.0)));
    let out = write_campaign(cfg, &base, &c, &rows, &found)?;
    match (cfg.quiet, cfg.format) {
        (true, _) => {}
        (false, Format::Json) => {
            let json = std::fs::read_to_string(out.join("chaos.json"))
                .map_err(|e| crate::error::Error::io("cannot read chaos.json back", e))?;
            crate::out::text(&json)?;
        }
        (false, Format::Table) => {
            crate::out::text(&table(&base, campaigns, c.campaign_seed, &found))?;
            crate::out::line(&format!("\nreport: {}", out.join("report.html").display()))?;
        }
    }
    Ok(if found.is_empty() { 0 } else { 1 })
}

fn reproducer(c: &Campaign, base: &Scenario, k: u64, faults: &[DrawnFault], t: &Trial) -> String {
    let seed = c.campaign_seed;
    let failed: Vec<String> = t
        .verdicts
        .iter()
        .filter(|v| !v.passed)
        .map(|v| {
            format!(
                "{} (observed {})",
                crate::report::table::verdict_label(v),
                crate::report::table::verdict_observed(v)
            )
        })
        .collect();
    format!(
        "# fleetsim chaos reproducer: campaign {k} of campaign seed {seed}, scenario seed {}, shrunk to {} fault(s).\n# Violates: {}\n# Reproduce: fleetsim check <this file>   (exit 1)\n\n{}",
        base.seed,
        faults.len(),
        failed.join("; "),
        c.text(faults)
    )
}

fn write_campaign(
    cfg: &ChaosConfig,
    base: &Scenario,
    c: &Campaign,
    rows: &[(u64, Vec<DrawnFault>, f64)],
    found: &[(u64, Vec<DrawnFault>, Trial)],
) -> Result<std::path::PathBuf> {
    let seed = c.campaign_seed;
    let staging = Staging::new(&out_dir(&cfg.out, base, "-chaos"), cfg.force)?;
    let mut csv = String::from("campaign,faults,violated,severity\n");
    for (k, faults, sev) in rows {
        let text: Vec<String> = faults.iter().map(|f| f.describe()).collect();
        csv.push_str(&format!(
            "{k},\"{}\",{},{}\n",
            text.join("; "),
            *sev > 0.0,
            sev
        ));
    }
    staging.write("campaigns.csv", csv.as_bytes())?;
    let mut summary = Vec::new();
    for (k, faults, t) in found {
        let name = format!("violations/campaign-{k:05}.toml");
        staging.write(&name, reproducer(c, base, *k, faults, t).as_bytes())?;
        summary.push(serde_json::json!({ "campaign": k, "severity": t.severity, "faults": faults, "verdicts": t.verdicts, "reproducer": name }));
    }
    let json = serde_json::json!({ "scenario": base.name, "campaign_seed": seed, "campaigns": rows.len(), "violations": summary });
    staging.write(
        "chaos.json",
        crate::report::versioned::pretty(&json).as_bytes(),
    )?;
    // The campaign's page, from chaos.json and campaigns.csv alone (as `fleetsim report`).
    crate::report::render::render(staging.dir())?;
    staging.commit()
}

fn table(
    base: &Scenario,
    campaigns: u64,
    seed: u64,
    found: &[(u64, Vec<DrawnFault>, Trial)],
) -> String {
    let mut out = format!(
        "{} — {campaigns} fault schedules (campaign seed {seed}): {} break an expectation\n",
        base.name,
        found.len()
    );
    for (k, faults, t) in found.iter().take(20) {
        let failed: Vec<String> = t
            .verdicts
            .iter()
            .filter(|v| !v.passed)
            .map(|v| {
                format!(
                    "{} (observed {})",
                    crate::report::table::verdict_label(v),
                    crate::report::table::verdict_observed(v)
                )
            })
            .collect();
        let what: Vec<String> = faults.iter().map(|f| f.describe()).collect();
        out.push_str(&format!(
            "  campaign {k:>5}  severity {:>7.3}  {}\n                  breaks: {}\n",
            t.severity,
            what.join(" + "),
            failed.join("; ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A breach met while a schedule runs (drawn or being shrunk) names the schedule.
    #[test]
    fn an_invariant_breach_carries_the_schedule_that_ran() {
        let breach = Error::Invariant {
            seed: 21,
            replication: 1,
            what: "event in the past".into(),
        };
        let schedule = "[[fault]]\nkind = \"network-outage\"\n";
        let message = with_schedule(breach, 4, 99, schedule).to_string();
        assert!(
            message.contains("event in the past; chaos campaign 4 of campaign seed 99, schedule:\n[[fault]]\nkind = \"network-outage\""),
            "{message}"
        );
        assert!(message.contains("(seed 21, replication 1)"), "{message}");
        let other = with_schedule(Error::Usage("x".into()), 4, 99, schedule);
        assert_eq!(other.to_string(), "x");
    }
}
