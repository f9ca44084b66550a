//! Sharding beyond one machine: `--shard K/N` makes `run`, `sweep`, `tune` and `check` do only
//! their deterministic share (a contiguous block of replications, or of sweep points) and write
//! a shard folder; `fleetsim merge DIR…` joins all N shard folders into exactly the result the
//! unsharded command gives (`merge`). This file owns the shard folder's format.

use crate::analysis::run::RunResult;
use crate::error::{Error, Result};
use crate::metrics::outcome::Outcome;
use crate::report::sweep_files::{SweepPoint, TunePoint};
use crate::report::Staging;
use crate::scenario::{self, Scenario};
use std::path::{Path, PathBuf};

/// What `merge` needs to rebuild a scenario exactly: its text with `--set` overrides applied,
/// and the folder its relative paths resolve against — absolute, so that `merge` works from any
/// working directory.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScenarioSource {
    pub text: String,
    pub file: String,
    pub base_dir: PathBuf,
}

impl ScenarioSource {
    pub fn new(
        path: Option<&Path>,
        overrides: &[(String, String)],
        sc: &Scenario,
    ) -> Result<ScenarioSource> {
        Ok(ScenarioSource {
            text: scenario::effective_text(path, overrides)?,
            file: sc.file.clone(),
            base_dir: path.map(absolute_base_dir).unwrap_or_default(),
        })
    }
    pub fn load(&self) -> Result<Scenario> {
        scenario::load_str(&self.text, &self.file, &self.base_dir, &[])
    }
}

/// The folder a scenario's relative paths resolve against, as an absolute path.
fn absolute_base_dir(path: &Path) -> PathBuf {
    let base = scenario::base_dir(path);
    let base = if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    };
    base.canonicalize()
        .or_else(|_| std::path::absolute(&base))
        .unwrap_or(base)
}

/// The share of a command's work one shard did.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    Run {
        scenario: ScenarioSource,
        result: RunResult,
    },
    Sweep {
        scenario: ScenarioSource,
        objectives: Vec<String>,
        points: Vec<SweepPoint>,
    },
    Tune {
        scenario: ScenarioSource,
        max_false_halt: f64,
        max_time_to_95: Option<f64>,
        points: Vec<TunePoint>,
    },
    Check {
        suites: Vec<CheckSuite>,
    },
}

/// One scenario's share of a sharded `check`: its outcomes as written and, when an expectation
/// is judged in the healthy world and the scenario has a defect, the healthy world's outcomes
/// of the same replications.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct CheckSuite {
    pub scenario: ScenarioSource,
    pub outcomes: Vec<Outcome>,
    #[serde(default)]
    pub healthy: Option<Vec<Outcome>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
pub struct ShardFile {
    pub fleetsim_version: String,
    /// `(k, n)`, 1-based.
    pub shard: (u64, u64),
    pub payload: Payload,
}

impl ShardFile {
    pub fn new(shard: (u64, u64), payload: Payload) -> ShardFile {
        ShardFile {
            fleetsim_version: env!("CARGO_PKG_VERSION").into(),
            shard,
            payload,
        }
    }

    /// Writes the shard folder atomically.
    pub fn write(&self, out: &Path, force: bool) -> Result<PathBuf> {
        let staging = Staging::new(out, force)?;
        let json = serde_json::to_string(&crate::report::versioned::Versioned::new(self))
            .map_err(|e| Error::io("cannot encode the shard", std::io::Error::other(e)))?;
        staging.write("shard.json", json.as_bytes())?;
        staging.commit()
    }

    fn kind(&self) -> &'static str {
        match self.payload {
            Payload::Run { .. } => "run",
            Payload::Sweep { .. } => "sweep",
            Payload::Tune { .. } => "tune",
            Payload::Check { .. } => "check",
        }
    }

    /// Everything but the shard's own results, to check shards belong together.
    fn identity(&self) -> String {
        let sources = match &self.payload {
            Payload::Run { scenario, .. }
            | Payload::Sweep { scenario, .. }
            | Payload::Tune { scenario, .. } => vec![scenario.clone()],
            Payload::Check { suites } => suites.iter().map(|s| s.scenario.clone()).collect(),
        };
        let extra = match &self.payload {
            Payload::Sweep { objectives, .. } => objectives.join(","),
            Payload::Tune {
                max_false_halt,
                max_time_to_95,
                ..
            } => format!("{max_false_halt}/{max_time_to_95:?}"),
            _ => String::new(),
        };
        format!("{}|{}|{}|{:?}", self.kind(), self.shard.1, extra, sources)
    }
}

fn read_shard(dir: &Path) -> Result<ShardFile> {
    let path = dir.join("shard.json");
    let shown = path.display();
    let bytes = crate::input_files::read(&path, crate::input_files::RESULTS)
        .map_err(|e| Error::Usage(format!("{e} (is {} a shard folder?)", dir.display())))?;
    crate::report::versioned::check_readable(&bytes, &path)?;
    // serde's messages quote what they found; a file that is not a shard file is not echoed.
    let shard: ShardFile = serde_json::from_slice(&bytes).map_err(|e| {
        Error::Usage(format!(
            "{shown}: not a fleetsim shard file: {}",
            crate::input_files::json_error_text(&e)
        ))
    })?;
    if shard.fleetsim_version != env!("CARGO_PKG_VERSION") {
        let v = &shard.fleetsim_version;
        let written = if v.len() <= 32 && semver::Version::parse(v).is_ok() {
            format!("fleetsim {v}")
        } else {
            "another version of fleetsim".into()
        };
        return Err(Error::Usage(format!(
            "{shown}: written by {written}, this is {}",
            env!("CARGO_PKG_VERSION")
        )));
    }
    Ok(shard)
}

pub(super) fn read_shards(dirs: &[PathBuf]) -> Result<Vec<ShardFile>> {
    let mut shards = dirs
        .iter()
        .map(|d| read_shard(d))
        .collect::<Result<Vec<_>>>()?;
    let first = shards
        .first()
        .ok_or_else(|| Error::Usage("merge needs at least one shard folder".into()))?;
    let (identity, n) = (first.identity(), first.shard.1);
    // A set of the shards seen, not a table of N flags: N may be 10^13.
    let mut seen = std::collections::BTreeSet::new();
    for s in &shards {
        if s.identity() != identity {
            return Err(Error::Usage(
                "the shards come from different commands, scenarios, overrides or shard counts"
                    .into(),
            ));
        }
        let k = s.shard.0;
        if k == 0 || k > n || !seen.insert(k) {
            return Err(Error::Usage(format!(
                "shard {k}/{n} is given twice or is out of range"
            )));
        }
    }
    // The first missing shard is at most one past the number given.
    if let Some(missing) = (1..=n).find(|k| !seen.contains(k)) {
        return Err(Error::Usage(format!(
            "shard {missing}/{n} is missing: merge needs every shard"
        )));
    }
    shards.sort_by_key(|s| s.shard.0);
    Ok(shards)
}
