//! `baseline.json` and baseline folders: what makes a results folder usable as the base of
//! `fleetsim compare --baseline` (criterion-style: raw per-replication results are kept next
//! to the report, so a later candidate is compared without simulating the base again).
//!
//! A pairing is valid only when replication `r` of the baseline and of the candidate saw the
//! same world: the same fleetsim (the simulator may change between versions), the same seed
//! and replication count, and the same world: fleet, releases and their defects, faults,
//! horizon — everything in the scenario but its `[policy]`, `[[expect]]`, `[chaos]` and
//! `simulation.name`. `world_hash` pins that part; `scenario_hash` pins the whole scenario
//! (a reader sees whether the candidate is the baseline's scenario unchanged).

use super::folder::{finite, Table};
use crate::analysis::compare::Replications;
use crate::error::{Error, Result};
use crate::metrics::outcome::Outcome;
use crate::scenario::Scenario;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file name of a run folder's identity.
pub const FILE: &str = "baseline.json";
/// The healthy world's replications, in a folder written by `run --save-baseline`.
pub const HEALTHY_FILE: &str = "healthy-replications.csv";

/// `baseline.json`: the identity of the run a folder holds.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BaselineFile {
    pub fleetsim_version: String,
    pub scenario: String,
    pub file: String,
    pub seed: u64,
    pub replications: u64,
    pub devices: u64,
    /// Seconds.
    pub horizon: f64,
    /// FNV-1a 64 (hex) of the scenario's world: all of it but policy, expectations, chaos
    /// space, name, seed and replications, as canonical JSON.
    pub world_hash: String,
    /// FNV-1a 64 (hex) of the whole scenario (overrides applied), as canonical JSON.
    pub scenario_hash: String,
    /// Whether the folder holds the healthy world's replications (`healthy-replications.csv`).
    pub healthy_world: bool,
}

impl BaselineFile {
    /// The identity of a run of `sc`, whose text with overrides applied is `text`.
    pub fn new(sc: &Scenario, text: &str, replications: u64, healthy_world: bool) -> BaselineFile {
        BaselineFile {
            fleetsim_version: env!("CARGO_PKG_VERSION").into(),
            scenario: sc.name.clone(),
            file: sc.file.clone(),
            seed: sc.seed,
            replications,
            devices: sc.device_count(),
            horizon: sc.horizon.as_secs_f64(),
            world_hash: hash(text, true),
            scenario_hash: hash(text, false),
            healthy_world,
        }
    }

    pub fn render(&self) -> String {
        super::versioned::pretty(self)
    }

    /// Refuses to pair `candidate` with this baseline (saved in `dir`) unless both ran the
    /// same fleetsim, seed, replications and world; the message says what differs and how to
    /// get a valid pairing.
    pub fn check_pairs_with(&self, candidate: &BaselineFile, dir: &Path) -> Result<()> {
        let refuse = |what: String, fix: &str| {
            Err(Error::Usage(format!(
                "--baseline {}: {what}; a paired comparison needs replication r of both to see \
                 the same world: {fix}, or save a new baseline",
                dir.display()
            )))
        };
        if self.fleetsim_version != candidate.fleetsim_version {
            return refuse(
                format!(
                    "it was saved by fleetsim {}, this is fleetsim {} (the simulator may differ)",
                    self.fleetsim_version, candidate.fleetsim_version
                ),
                "compare with the version that saved it",
            );
        }
        if self.seed != candidate.seed {
            return refuse(
                format!(
                    "it was saved with seed {}, the candidate runs seed {}",
                    self.seed, candidate.seed
                ),
                &format!("pass --seed {}", self.seed),
            );
        }
        if self.replications != candidate.replications {
            return refuse(
                format!(
                    "it holds {} replications, the candidate runs {}",
                    self.replications, candidate.replications
                ),
                &format!("pass --replications {}", self.replications),
            );
        }
        if self.devices != candidate.devices || self.horizon != candidate.horizon {
            return refuse(
                format!(
                    "its scenario has {} devices over {} s, the candidate {} devices over {} s",
                    self.devices, self.horizon, candidate.devices, candidate.horizon
                ),
                "compare a candidate of the same fleet and horizon",
            );
        }
        if self.world_hash != candidate.world_hash {
            return refuse(
                format!(
                    "the candidate's world (fleet, releases, faults or simulation settings: \
                     everything but [policy], [[expect]] and [chaos]) differs from the one of \
                     scenario `{}` ({}) it was saved from",
                    self.scenario, self.file
                ),
                "change only the policy",
            );
        }
        Ok(())
    }
}

/// FNV-1a 64 of the scenario text as canonical JSON (keys sorted, formatting and comments
/// gone); `world_only` leaves out the policy, expectations, chaos space, name, seed and
/// replications.
fn hash(text: &str, world_only: bool) -> String {
    let mut value: serde_json::Value = toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|t| serde_json::to_value(t).ok())
        .unwrap_or_default();
    if let (true, Some(map)) = (world_only, value.as_object_mut()) {
        for key in ["policy", "expect", "chaos"] {
            map.remove(key);
        }
        if let Some(sim) = map.get_mut("simulation").and_then(|s| s.as_object_mut()) {
            for key in ["name", "seed", "replications"] {
                sim.remove(key);
            }
        }
    }
    let canonical = serde_json::to_string(&value).unwrap_or_default();
    let h = canonical.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{h:016x}")
}

/// Writes a run folder's `baseline.json` and, with the healthy world's outcomes (`run
/// --save-baseline` of a scenario with a defect), `healthy-replications.csv`.
pub fn write(
    staging: &super::Staging,
    sc: &Scenario,
    text: &str,
    outcomes: &[Outcome],
    healthy: Option<&[Outcome]>,
) -> Result<()> {
    let file = BaselineFile::new(sc, text, outcomes.len() as u64, healthy.is_some());
    staging.write(FILE, file.render().as_bytes())?;
    if let Some(h) = healthy {
        super::csv_files::replications(&staging.path(HEALTHY_FILE), h)?;
    }
    Ok(())
}

/// A saved baseline read back: its identity and its replications per world.
pub struct Saved {
    pub dir: PathBuf,
    pub file: BaselineFile,
    pub as_written: SavedReplications,
    pub healthy: Option<SavedReplications>,
}

/// Reads the baseline folder `dir` (a `run` or `merge` folder, or one of `run --save-baseline`).
pub fn load(dir: &Path) -> Result<Saved> {
    if !dir.join(FILE).is_file() {
        return Err(Error::Usage(format!(
            "--baseline {}: not a baseline folder (it has no {FILE}); a baseline is the folder \
             of `fleetsim run` or `fleetsim merge`, or one saved with `fleetsim run SCENARIO \
             --save-baseline NAME`",
            dir.display()
        )));
    }
    let bytes = crate::input_files::read(&dir.join(FILE), crate::input_files::RESULTS)
        .map_err(Error::Usage)?;
    super::versioned::check_readable(&bytes, &dir.join(FILE))?;
    let file: BaselineFile = serde_json::from_slice(&bytes).map_err(|e| {
        Error::Usage(format!(
            "{}: not a fleetsim baseline file (written by another version?): {}",
            dir.join(FILE).display(),
            crate::input_files::json_error_text(&e)
        ))
    })?;
    let read = |name: &str| -> Result<SavedReplications> {
        let table = Table::read(&dir.join(name))?;
        if table.rows.len() as u64 != file.replications {
            return Err(Error::Usage(format!(
                "{}: {} rows, but {FILE} says {} replications (a damaged baseline?)",
                dir.join(name).display(),
                table.rows.len(),
                file.replications
            )));
        }
        Ok(SavedReplications(table))
    };
    Ok(Saved {
        as_written: read("replications.csv")?,
        healthy: match file.healthy_world {
            true => Some(read(HEALTHY_FILE)?),
            false => None,
        },
        dir: dir.to_path_buf(),
        file,
    })
}

/// `--baseline DIR|NAME`: `DIR` when it is a folder, else `NAME` saved for the candidate's
/// scenario, `reports/baselines/<scenario name>/NAME/`.
pub fn resolve(spec: &str, scenario_name: &str) -> Result<PathBuf> {
    let as_dir = PathBuf::from(spec);
    if as_dir.is_dir() {
        return Ok(as_dir);
    }
    let named = saved_dir(scenario_name, spec);
    if !spec.contains(['/', '\\']) && named.is_dir() {
        return Ok(named);
    }
    Err(Error::Usage(format!(
        "--baseline `{spec}`: no such folder, and no baseline of that name for scenario \
         `{scenario_name}` ({}); save one with `fleetsim run SCENARIO --save-baseline {spec}`",
        named.display()
    )))
}

/// Where `run --save-baseline NAME` keeps a scenario's baseline.
pub fn saved_dir(scenario_name: &str, name: &str) -> PathBuf {
    PathBuf::from("reports")
        .join("baselines")
        .join(super::folder::sanitize(scenario_name))
        .join(name)
}

/// A saved `replications.csv`, read as the per-replication results of one world. Its numbers
/// are the outcomes' own (shortest round-trip decimals), so a comparison against it gives
/// the very numbers a comparison against the run would.
pub struct SavedReplications(Table);

impl Replications for SavedReplications {
    fn metric_names(&self) -> Vec<String> {
        // The numeric metrics come right after `replication`, up to `halted`.
        let header = &self.0.header;
        let end = header
            .iter()
            .position(|h| h == "halted")
            .unwrap_or(header.len());
        header.iter().take(end).skip(1).cloned().collect()
    }
    fn values(&self, metric: &str) -> Vec<Option<f64>> {
        if self.0.index(metric).is_none() {
            return Vec::new();
        }
        match metric {
            "halted" | "false_halt" => (0..self.0.rows.len())
                .map(|r| Some(f64::from(u8::from(self.0.cell(r, metric) == "true"))))
                .collect(),
            _ => (0..self.0.rows.len())
                .map(|r| finite(self.0.cell(r, metric)))
                .collect(),
        }
    }
    fn halt_reasons(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for r in 0..self.0.rows.len() {
            let reason = self.0.cell(r, "halt_reason");
            if !reason.is_empty() {
                *counts.entry(reason.to_string()).or_insert(0) += 1;
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::hash;

    const PLAN: &str = "[simulation]\nname = \"a\"\nseed = 1\nhorizon = \"30d\"\n\
                        [policy]\ntarget = \"2.0\"\n[[release]]\nversion = \"2.0\"\nsize_mb = 5\n";

    /// The world hash ignores what a candidate may change (policy, name, seed and
    /// replications, which are checked on their own, layout and comments) and nothing else.
    #[test]
    fn the_world_hash_is_the_scenario_without_its_policy() {
        let world = hash(PLAN, true);
        let other_policy = PLAN.replace("target = \"2.0\"", "target = \"2.0\"\nrate = 3");
        assert_eq!(hash(&other_policy, true), world);
        assert_ne!(hash(&other_policy, false), hash(PLAN, false));
        let renamed = PLAN.replace("name = \"a\"", "name = \"b\"  # a comment");
        assert_eq!(hash(&renamed, true), world);
        let reseeded = PLAN.replace("seed = 1", "seed = 2");
        assert_eq!(hash(&reseeded, true), world);
        let bigger = PLAN.replace("size_mb = 5", "size_mb = 6");
        assert_ne!(hash(&bigger, true), world);
        let longer = PLAN.replace("\"30d\"", "\"31d\"");
        assert_ne!(hash(&longer, true), world);
    }
}
