//! Reading a results folder back: the data files that `run`, `sweep`, `tune` and `compare`
//! write are all the report renderer looks at, so `fleetsim report DIR` re-renders a report
//! without simulating anything, and a report can never show what its data files do not hold.

use crate::analysis::compare::Row;
use crate::error::{Error, Result};
use crate::report::summary::SummaryFile;
use crate::report::sweep_files::{SweepPoint, TunePoint};
use std::path::Path;

/// A CSV file as a header and text rows, read by column name.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A cell's number when it is one and finite.
pub fn finite(cell: &str) -> Option<f64> {
    cell.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

impl Table {
    pub fn read(path: &Path) -> Result<Table> {
        // csv's messages give the record, line and byte, never a field's text.
        let bad = |e: &dyn std::fmt::Display| {
            Error::Usage(format!("{}: not a fleetsim CSV file: {e}", path.display()))
        };
        let file =
            crate::input_files::open(path, crate::input_files::RESULTS).map_err(Error::Usage)?;
        let mut r = csv::Reader::from_reader(file);
        let header = r
            .headers()
            .map_err(|e| bad(&e))?
            .iter()
            .map(String::from)
            .collect();
        let rows = r
            .records()
            .map(|rec| rec.map(|rec| rec.iter().map(String::from).collect()))
            .collect::<std::result::Result<Vec<Vec<String>>, _>>()
            .map_err(|e| bad(&e))?;
        Ok(Table { header, rows })
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// A column's numbers; empty cells (no value) and a missing column are `None`. fleetsim
    /// writes "no value" as an empty cell and never a non-finite number, so `inf`, `NaN` or
    /// `1e309` (an edited or damaged file) are read as no value too: a plot axis can then never
    /// get non-finite bounds (plotters spun forever on them).
    pub fn column(&self, name: &str) -> Vec<Option<f64>> {
        match self.index(name) {
            Some(i) => self
                .rows
                .iter()
                .map(|r| r.get(i).and_then(|v| finite(v)))
                .collect(),
            None => vec![None; self.rows.len()],
        }
    }

    /// A cell as text (empty when the column or row is missing).
    pub fn cell(&self, row: usize, name: &str) -> &str {
        self.index(name)
            .and_then(|i| self.rows.get(row)?.get(i))
            .map_or("", String::as_str)
    }
}

/// `sweep.json`.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct SweepDoc {
    pub scenario: String,
    pub file: String,
    pub seed: u64,
    pub replications: u64,
    pub objectives: Vec<String>,
    pub points: Vec<SweepPoint>,
}

/// `tune.json`.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct TuneDoc {
    pub scenario: String,
    pub file: String,
    pub seed: u64,
    pub replications: u64,
    pub max_false_halt: f64,
    /// Seconds.
    pub max_time_to_95: Option<f64>,
    pub recommended: Option<usize>,
    /// How the recommendation was made and how firmly (absent in folders of older versions).
    #[serde(default)]
    pub recommended_on: Option<String>,
    #[serde(default)]
    pub evidence: String,
    #[serde(default)]
    pub leading: Option<usize>,
    #[serde(default)]
    pub replications_needed: Option<u64>,
    pub points: Vec<TunePoint>,
}

/// `compare.json`, written by `fleetsim compare`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CompareDoc {
    pub scenario: String,
    pub base: String,
    pub candidate: String,
    pub fleetsim_version: String,
    pub seed: u64,
    pub replications: u64,
    /// Relative tolerance (absolute for rates) of a guarded metric before it counts as a
    /// regression.
    pub tolerance: f64,
    pub regressed: bool,
    pub rows: Vec<Row>,
    /// Halt reasons of base and candidate per world (absent in files of older versions).
    #[serde(default)]
    pub halt_reasons: Vec<crate::analysis::compare::HaltReasons>,
}

/// One schedule of a chaos campaign that broke an expectation, in `chaos.json`.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct ChaosViolation {
    pub campaign: u64,
    pub severity: f64,
    /// The shrunk schedule (kind, at and duration in seconds, scope, parameters).
    pub faults: Vec<ChaosFault>,
    pub verdicts: Vec<crate::analysis::expect::Verdict>,
    /// The reproducer scenario, relative to the folder.
    pub reproducer: String,
}

/// A fault of a shrunk schedule as `chaos.json` records it.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct ChaosFault {
    pub kind: String,
    pub at: f64,
    pub duration: f64,
}

/// `chaos.json` and `campaigns.csv`, written by `fleetsim chaos`.
#[derive(Clone, Debug)]
pub struct ChaosDoc {
    pub scenario: String,
    pub campaign_seed: u64,
    pub campaigns: u64,
    pub violations: Vec<ChaosViolation>,
    /// `campaigns.csv`: every drawn schedule, whether it broke an expectation, its severity.
    pub schedules: Table,
}

#[derive(serde::Deserialize)]
struct ChaosJson {
    scenario: String,
    campaign_seed: u64,
    campaigns: u64,
    violations: Vec<ChaosViolation>,
}

/// What kind of results a folder holds, with its data.
pub enum Folder {
    Run {
        summary: Box<SummaryFile>,
        replications: Table,
        timeseries: Table,
        stages: Table,
        /// `breakdown.csv` (absent in folders of older versions).
        breakdown: Option<Table>,
    },
    Sweep(SweepDoc),
    Tune(TuneDoc),
    Compare(CompareDoc),
    Chaos(ChaosDoc),
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes =
        crate::input_files::read(path, crate::input_files::RESULTS).map_err(Error::Usage)?;
    super::versioned::check_readable(&bytes, path)?;
    // serde's messages quote what they found: a file that is not ours is not echoed.
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::Usage(format!(
            "{}: not a fleetsim results file (written by another version?): {}",
            path.display(),
            crate::input_files::json_error_text(&e)
        ))
    })
}

/// Reads the results folder `dir`, recognised by its main data file.
pub fn load(dir: &Path) -> Result<Folder> {
    let has = |f: &str| dir.join(f).is_file();
    if has("summary.json") {
        return Ok(Folder::Run {
            summary: Box::new(read_json(&dir.join("summary.json"))?),
            replications: Table::read(&dir.join("replications.csv"))?,
            timeseries: Table::read(&dir.join("timeseries.csv"))?,
            stages: Table::read(&dir.join("stages.csv"))?,
            breakdown: match has("breakdown.csv") {
                true => Some(Table::read(&dir.join("breakdown.csv"))?),
                false => None,
            },
        });
    }
    if has("sweep.json") {
        return Ok(Folder::Sweep(read_json(&dir.join("sweep.json"))?));
    }
    if has("tune.json") {
        return Ok(Folder::Tune(read_json(&dir.join("tune.json"))?));
    }
    if has("compare.json") {
        return Ok(Folder::Compare(read_json(&dir.join("compare.json"))?));
    }
    if has("chaos.json") {
        let j: ChaosJson = read_json(&dir.join("chaos.json"))?;
        return Ok(Folder::Chaos(ChaosDoc {
            scenario: j.scenario,
            campaign_seed: j.campaign_seed,
            campaigns: j.campaigns,
            violations: j.violations,
            schedules: Table::read(&dir.join("campaigns.csv"))?,
        }));
    }
    Err(Error::Usage(format!(
        "{}: not a fleetsim results folder (it has no summary.json, sweep.json, tune.json, \
         compare.json or chaos.json; a shard folder is joined with `fleetsim merge` first)",
        dir.display()
    )))
}

/// A scenario name as a folder name.
pub(crate) fn sanitize(name: &str) -> String {
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
