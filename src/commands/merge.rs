//! `fleetsim merge DIR…`: joins all N shard folders (`shard`) into exactly the result the
//! unsharded `run`, `sweep`, `tune` or `check` gives, written by that command's own finisher.

use super::shard::{read_shards, Payload};
use super::{check, experiment, run};
use crate::analysis::run::RunResult;
use crate::commands::config::RunConfig;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `fleetsim merge`: joins shard folders and writes what the unsharded command writes.
pub fn merge_command(dirs: &[PathBuf], cfg: &RunConfig, junit: Option<&Path>) -> Result<i32> {
    let started = Instant::now();
    let mut shards = read_shards(dirs)?.into_iter().map(|s| s.payload);
    match shards.next() {
        Some(Payload::Run { scenario, result }) => {
            let mut parts = vec![result];
            parts.extend(shards.filter_map(|p| {
                if let Payload::Run { result, .. } = p {
                    Some(result)
                } else {
                    None
                }
            }));
            let sc = scenario.load()?;
            let out = super::out_dir(&cfg.out, &sc, "");
            let identity = run::Identity {
                text: &scenario.text,
                healthy: None,
            };
            run::write_run_report(&sc, &RunResult::merge(parts), &out, cfg, identity, started)?;
            Ok(0)
        }
        Some(Payload::Sweep {
            scenario,
            objectives,
            mut points,
        }) => {
            points.extend(shards.flat_map(|p| {
                if let Payload::Sweep { points, .. } = p {
                    points
                } else {
                    Vec::new()
                }
            }));
            let objectives = objectives
                .iter()
                .map(|o| crate::analysis::sweep::parse_objective(o))
                .collect::<Result<Vec<_>>>()?;
            experiment::finish_sweep(
                &scenario.load()?,
                points,
                &objectives,
                experiment::Output::of_merge(cfg),
                started,
                0,
            )
        }
        Some(Payload::Tune {
            scenario,
            max_false_halt,
            max_time_to_95,
            mut points,
        }) => {
            points.extend(shards.flat_map(|p| {
                if let Payload::Tune { points, .. } = p {
                    points
                } else {
                    Vec::new()
                }
            }));
            experiment::finish_tune(
                &scenario.load()?,
                points,
                max_false_halt,
                max_time_to_95,
                experiment::Output::of_merge(cfg),
                started,
                0,
            )
        }
        Some(Payload::Check { mut suites }) => {
            for p in shards {
                if let Payload::Check { suites: more } = p {
                    for (acc, part) in suites.iter_mut().zip(more) {
                        acc.outcomes.extend(part.outcomes);
                        if let (Some(h), Some(more)) = (acc.healthy.as_mut(), part.healthy) {
                            h.extend(more);
                        }
                    }
                }
            }
            let loaded = suites
                .into_iter()
                .map(|s| {
                    Ok(check::CheckRun {
                        sc: s.scenario.load()?,
                        outcomes: s.outcomes,
                        healthy: s.healthy,
                        // The shards ran elsewhere: how long they took is not known here.
                        time: None,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            check::finish_check(
                loaded,
                Vec::new(),
                junit,
                cfg.quiet,
                cfg.format,
                crate::report::junit::timestamp(),
            )
        }
        None => Err(Error::Usage("merge needs at least one shard folder".into())),
    }
}
