//! `fleetsim chaos`: a randomised fault campaign (SPEC §1.7). Every schedule that breaks an
//! `[[expect]]` assertion is shrunk to a minimal one and written as a standalone scenario that
//! `fleetsim check` fails on.

use super::out_dir;
use crate::analysis::expect::{self, Verdict};
use crate::analysis::run::{run, RunOptions};
use crate::cli::ChaosConfig;
use crate::error::{Error, Result};
use crate::fault::campaign::{draw, scopes, shrink_candidates, DrawnFault};
use crate::report::{progress::Progress, Staging};
use crate::scenario::{self, Scenario};

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

struct Campaign<'a> {
    base_text: String,
    file: String,
    base_dir: std::path::PathBuf,
    opts: RunOptions,
    scopes: Vec<(String, String)>,
    cfg: &'a ChaosConfig,
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

    fn trial(&self, faults: &[DrawnFault]) -> Result<Trial> {
        let sc = scenario::load_str(&self.text(faults), &self.file, &self.base_dir, &[])?;
        let outcomes = run(&sc, 0..sc.replications, &self.opts)?.outcomes;
        let verdicts = expect::evaluate(&sc.expects, &outcomes);
        Ok(Trial {
            severity: severity(&verdicts),
            verdicts,
        })
    }

    /// Greedy shrinking: take the first smaller schedule that still violates, until none does
    /// or the trial budget is spent.
    fn shrink(
        &self,
        mut faults: Vec<DrawnFault>,
        mut trial: Trial,
    ) -> Result<(Vec<DrawnFault>, Trial)> {
        let mut budget = self.cfg.max_trials;
        'outer: while budget > 0 {
            for candidate in shrink_candidates(&faults, &self.scopes) {
                if budget == 0 {
                    break 'outer;
                }
                budget -= 1;
                let t = self.trial(&candidate)?;
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
}

pub(crate) fn chaos_command(cfg: &ChaosConfig) -> Result<i32> {
    let base = scenario::load_file(&cfg.scenario, &cfg.overrides)?;
    if base.expects.is_empty() {
        return Err(Error::Usage(format!("{}: a chaos campaign looks for schedules that break [[expect]] assertions; the scenario has none", base.file)));
    }
    let chaos = base.chaos.clone().unwrap_or(crate::scenario::model::Chaos {
        kinds: crate::fault::campaign::DRAWABLE
            .iter()
            .map(|k| k.to_string())
            .collect(),
        max_faults: 3,
        campaigns: 50,
    });
    let campaigns = cfg.campaigns.unwrap_or(chaos.campaigns) as u64;
    let campaign_seed = cfg.campaign_seed.unwrap_or(base.seed);
    let c = Campaign {
        base_text: scenario::effective_text(Some(&cfg.scenario), &cfg.overrides)?,
        file: base.file.clone(),
        base_dir: cfg
            .scenario
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default(),
        opts: RunOptions {
            threads: cfg.threads,
            ..RunOptions::default()
        },
        scopes: scopes(&base),
        cfg,
    };
    let progress = Progress::new(campaigns, cfg.quiet, "chaos");
    let tick = progress.callback();
    let mut rows = Vec::new();
    let mut found = Vec::new();
    for k in 0..campaigns {
        let faults = draw(&base, &chaos.kinds, chaos.max_faults, campaign_seed, k);
        let trial = c.trial(&faults);
        if let Some(t) = &tick {
            t(1);
        }
        let trial = match trial {
            Err(Error::Invariant {
                seed,
                replication,
                what,
            }) => {
                progress.finish();
                let reproducer = c.text(&faults);
                return Err(Error::Invariant { seed, replication, what: format!("{what}; chaos campaign {k} of seed {campaign_seed}, schedule:\n{reproducer}") });
            }
            other => other?,
        };
        let violated = trial.severity > 0.0;
        rows.push((k, faults.clone(), trial.severity));
        if violated {
            let (small, t) = c.shrink(faults, trial)?;
            found.push((k, small, t));
        }
    }
    progress.finish();
    found.sort_by(|a, b| b.2.severity.total_cmp(&a.2.severity).then(a.0.cmp(&b.0)));
    let out = write_campaign(cfg, &base, &c, &rows, &found, campaign_seed)?;
    if !cfg.quiet {
        print!("{}", table(&base, campaigns, campaign_seed, &found));
        println!("\nreport: {}/", out.display());
    }
    Ok(if found.is_empty() { 0 } else { 1 })
}

fn reproducer(
    c: &Campaign,
    base: &Scenario,
    k: u64,
    seed: u64,
    faults: &[DrawnFault],
    t: &Trial,
) -> String {
    let failed: Vec<String> = t
        .verdicts
        .iter()
        .filter(|v| !v.passed)
        .map(|v| {
            format!(
                "{} (observed {})",
                v.bound_text(),
                v.observed.map_or("no value".into(), expect::fmt)
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
    seed: u64,
) -> Result<std::path::PathBuf> {
    let staging = Staging::new(&out_dir(&cfg.out, base, "-chaos"))?;
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
        staging.write(&name, reproducer(c, base, *k, seed, faults, t).as_bytes())?;
        summary.push(serde_json::json!({ "campaign": k, "severity": t.severity, "faults": faults, "verdicts": t.verdicts, "reproducer": name }));
    }
    let json = serde_json::json!({ "scenario": base.name, "campaign_seed": seed, "campaigns": rows.len(), "violations": summary });
    staging.write(
        "chaos.json",
        (serde_json::to_string_pretty(&json).unwrap_or_default() + "\n").as_bytes(),
    )?;
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
                    v.bound_text(),
                    v.observed.map_or("no value".into(), expect::fmt)
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
