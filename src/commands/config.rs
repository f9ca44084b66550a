//! The validated requests the commands run: what `cli` makes of the command line. Plain data,
//! so a command can be called (and tested) without parsing arguments.

use clap::ValueEnum;
use std::path::PathBuf;

/// What `sweep` and `tune` share.
#[derive(Clone, Debug)]
pub struct ExperimentConfig {
    pub scenario: PathBuf,
    pub axes: Vec<crate::analysis::sweep::Axis>,
    pub overrides: Vec<(String, String)>,
    pub threads: Option<usize>,
    pub out: Option<PathBuf>,
    pub quiet: bool,
    pub format: Format,
    pub shard: Option<(u64, u64)>,
    /// Render plots, report.html and summary.md next to the data files.
    pub report: bool,
    /// Replace an --out folder fleetsim did not write.
    pub force: bool,
}

#[derive(Clone, Debug)]
pub struct SweepConfig {
    pub common: ExperimentConfig,
    pub objectives: Vec<crate::analysis::sweep::Objective>,
}

#[derive(Clone, Debug)]
pub struct TuneConfig {
    pub common: ExperimentConfig,
    pub max_false_halt: f64,
    /// Seconds.
    pub max_time_to_95: Option<f64>,
}

impl std::ops::Deref for SweepConfig {
    type Target = ExperimentConfig;
    fn deref(&self) -> &ExperimentConfig {
        &self.common
    }
}

impl std::ops::Deref for TuneConfig {
    type Target = ExperimentConfig;
    fn deref(&self) -> &ExperimentConfig {
        &self.common
    }
}

/// A validated `chaos` request.
#[derive(Clone, Debug)]
pub struct ChaosConfig {
    pub scenario: PathBuf,
    pub campaigns: Option<u32>,
    pub campaign_seed: Option<u64>,
    pub overrides: Vec<(String, String)>,
    pub threads: Option<usize>,
    pub max_trials: u32,
    pub out: Option<PathBuf>,
    pub quiet: bool,
    pub format: Format,
    /// Replace an --out folder fleetsim did not write.
    pub force: bool,
}

/// A validated `compare` request.
#[derive(Clone, Debug)]
pub struct CompareConfig {
    pub base: PathBuf,
    pub candidate: Option<PathBuf>,
    pub overrides: Vec<(String, String)>,
    pub candidate_overrides: Vec<(String, String)>,
    pub tolerance: f64,
    pub guards: Vec<crate::analysis::compare::Guard>,
    pub threads: Option<usize>,
    pub format: Format,
    pub out: Option<PathBuf>,
    pub quiet: bool,
    /// `--baseline DIR|NAME`: the saved base (then `base` is the candidate's file and
    /// `candidate` is `None`).
    pub baseline: Option<String>,
    /// Write JUnit XML (a test case per guard) to this file.
    pub junit: Option<PathBuf>,
    /// Render plots, report.html and summary.md next to compare.json.
    pub report: bool,
    /// Replace an --out folder fleetsim did not write.
    pub force: bool,
}

/// A validated `check` request.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    pub scenarios: Vec<PathBuf>,
    pub junit: Option<PathBuf>,
    pub overrides: Vec<(String, String)>,
    pub threads: Option<usize>,
    pub quiet: bool,
    pub format: Format,
    pub shard: Option<(u64, u64)>,
    pub out: Option<PathBuf>,
    /// Replace an --out folder fleetsim did not write.
    pub force: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
}

/// A validated `run` request.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub scenario: Option<PathBuf>,
    pub overrides: Vec<(String, String)>,
    pub threads: Option<usize>,
    pub out: Option<PathBuf>,
    pub quiet: bool,
    pub format: Format,
    pub devices: bool,
    pub trace_rows: usize,
    pub max_events: Option<u64>,
    /// `(k, n)`, 1-based.
    pub shard: Option<(u64, u64)>,
    /// Render plots, report.html and summary.md next to the data files.
    pub report: bool,
    /// Replace an --out folder fleetsim did not write.
    pub force: bool,
    /// `--save-baseline NAME`: write to reports/baselines/<scenario>/NAME/ with the healthy
    /// world's replications too.
    pub save_baseline: Option<String>,
}

#[derive(Clone, Debug)]
pub enum Command {
    Run(RunConfig),
    Validate {
        scenarios: Vec<PathBuf>,
        overrides: Vec<(String, String)>,
        quiet: bool,
        /// Warnings are errors (exit 2).
        deny_warnings: bool,
        format: Format,
    },
    Check(CheckConfig),
    Compare(CompareConfig),
    Merge {
        dirs: Vec<PathBuf>,
        /// Output settings (only `out`, `quiet`, `format` apply).
        output: RunConfig,
        junit: Option<PathBuf>,
    },
    Sweep(SweepConfig),
    Tune(TuneConfig),
    Chaos(ChaosConfig),
    Report {
        dir: PathBuf,
        quiet: bool,
    },
    Init {
        file: PathBuf,
        devices: u64,
        force: bool,
        quiet: bool,
    },
    Schema {
        markdown: bool,
    },
    /// `fleetsim import SYSTEM FILE [--into SCENARIO]`.
    Import {
        system: crate::commands::import::System,
        file: PathBuf,
        into: Option<PathBuf>,
    },
    /// A shell completion script, ready to print.
    Completions(String),
    /// Man pages: `(file name, roff)`; printed when `dir` is `None`, else written there.
    Man {
        pages: Vec<(String, Vec<u8>)>,
        dir: Option<PathBuf>,
    },
}
