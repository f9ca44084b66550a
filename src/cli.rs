//! Command-line arguments. clap parses them into raw structs here, which are validated into the
//! [`Command`] the rest of the program runs; nothing past this module sees clap.

use crate::error::{Error, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "fleetsim",
    version,
    about = "Rehearse over-the-air firmware rollouts against a simulated fleet before they touch production."
)]
struct Cli {
    #[command(subcommand)]
    command: RawCommand,
    /// Most memory a run may need (its up-front estimate), e.g. 16GiB or `unlimited`; default
    /// $FLEETSIM_MAX_MEMORY, else the memory available.
    #[arg(long, global = true, value_name = "SIZE")]
    max_memory: Option<String>,
}

#[derive(Subcommand, Debug)]
enum RawCommand {
    /// Run a scenario (with no file, the built-in reference scenario) and write the report folder.
    Run(RunArgs),
    /// Run scenarios and evaluate their `[[expect]]` assertions; exit 1 on a violation.
    Check(CheckArgs),
    /// Paired comparison of a candidate policy with a base on the same seeds; exit 1 when a
    /// guarded metric regresses past --tolerance.
    Compare(CompareArgs),
    /// Run every combination of parameter values × replications on common seeds; table, CSV,
    /// Pareto front.
    Sweep(SweepArgs),
    /// For gate settings: false-halt rate on the healthy release vs blast radius on the
    /// defective one, with the Pareto front and a recommendation.
    Tune(TuneArgs),
    /// Join `run --shard` folders into the result an unsharded run gives.
    Merge {
        /// Shard folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Report folder (default: reports/<scenario name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        quiet: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// For `check` shards: write JUnit XML to this file.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Write only the data files: no plots, report.html or summary.md.
        #[arg(long)]
        no_report: bool,
        /// Replace the --out folder even when fleetsim did not write it (it holds other files).
        #[arg(long)]
        force: bool,
    },
    /// Write a commented starter scenario (a small fleet, a staged plan with gates, a defect to
    /// rehearse) that validates and runs.
    #[command(
        after_help = "Examples:\n  fleetsim init                      # writes scenario.toml (5000 devices)\n  fleetsim init plan.toml --devices 20000\n  fleetsim init - | less             # print it instead"
    )]
    Init {
        /// File to write (`-`: print to stdout).
        #[arg(default_value = "scenario.toml")]
        file: PathBuf,
        /// Fleet size; stages and gate sample sizes scale with it (1000 to 10 000 000).
        #[arg(long, default_value_t = crate::commands::init::DEFAULT_DEVICES)]
        devices: u64,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
        /// Print nothing but errors.
        #[arg(long)]
        quiet: bool,
    },
    /// Print the JSON Schema of the scenario file (for editors: Even Better TOML / taplo), or
    /// with --markdown the scenario reference (docs/scenario-reference.md).
    #[command(
        after_help = "Examples:\n  fleetsim schema > scenario.schema.json   # then start a scenario with  #:schema ./scenario.schema.json\n  fleetsim schema --markdown > docs/scenario-reference.md"
    )]
    Schema {
        /// Print the reference of every key (type, unit, default, range, example) as Markdown.
        #[arg(long)]
        markdown: bool,
    },
    /// Render the plots, report.html and summary.md of a results folder again from its data
    /// files, without simulating.
    Report {
        /// A folder written by run, merge, sweep, tune or compare.
        dir: PathBuf,
        #[arg(long)]
        quiet: bool,
    },
    /// A randomised fault campaign: schedules that break `[[expect]]`, shrunk to minimal
    /// reproducers; exit 1 when one is found.
    Chaos(ChaosArgs),
    /// Parse and check scenario files without running them.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// Print nothing for valid files (errors and warnings still go to stderr).
        #[arg(long)]
        quiet: bool,
        /// Treat warnings (a plan that validates but cannot work as meant) as errors: exit 2.
        #[arg(long)]
        deny_warnings: bool,
        /// What to print on stdout.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Scenario file; omit it to run the built-in reference scenario.
    scenario: Option<PathBuf>,
    /// Override `simulation.seed`.
    #[arg(long)]
    seed: Option<u64>,
    /// Override `simulation.replications`.
    #[arg(long)]
    replications: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Report folder (default: reports/<scenario name>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override any scenario value, e.g. --set policy.rate.per_minute=60 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Print only the report folder's path (no table, no timing note, no progress bar).
    #[arg(long)]
    quiet: bool,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also write devices.csv (replication 0, one row per device).
    #[arg(long)]
    devices: bool,
    /// Also write events.csv (replication 0's events, up to --trace-limit rows).
    #[arg(long)]
    trace: bool,
    /// Most rows events.csv may hold.
    #[arg(long, default_value_t = 1_000_000)]
    trace_limit: usize,
    /// Most events one replication may process before it is stopped with an error.
    #[arg(long)]
    max_events: Option<u64>,
    /// Run only shard K of N (contiguous blocks of replications) and write a shard folder for
    /// `fleetsim merge`.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Write only the data files: no plots, report.html or summary.md.
    #[arg(long)]
    no_report: bool,
    /// Replace the --out folder even when fleetsim did not write it (it holds other files).
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Scenario files.
    #[arg(required = true)]
    scenarios: Vec<PathBuf>,
    /// Write JUnit XML (one test case per expectation) to this file.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Override `simulation.seed` in every scenario.
    #[arg(long)]
    seed: Option<u64>,
    /// Override `simulation.replications` in every scenario.
    #[arg(long)]
    replications: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Override any scenario value (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Print only violations.
    #[arg(long)]
    quiet: bool,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Run only shard K of N of each scenario's replications; `fleetsim merge` evaluates.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Shard folder (with --shard; default reports/check-shard-K-of-N).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace the --out folder even when fleetsim did not write it (it holds other files).
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
struct CompareArgs {
    /// The base scenario.
    base: PathBuf,
    /// The candidate scenario (default: the base with --candidate-set overrides).
    candidate: Option<PathBuf>,
    /// Override a value of the candidate only (repeatable).
    #[arg(long = "candidate-set", value_name = "PATH=VALUE")]
    candidate_set: Vec<String>,
    /// Allowed worsening of a guarded metric: relative to the base value, absolute for rates.
    #[arg(long, default_value_t = 0.05)]
    tolerance: f64,
    /// A guarded metric as METRIC:STAT[@WORLD], WORLD `as-written` or `healthy` (repeatable;
    /// default harmed:p95, bricked:mean as written, false_halt:rate, time_to_95:p50 healthy;
    /// without @WORLD false_halt and time_to_* are judged healthy, the rest as written).
    #[arg(long = "guard", value_name = "METRIC:STAT[@WORLD]")]
    guards: Vec<String>,
    /// Override `simulation.seed` (both scenarios).
    #[arg(long)]
    seed: Option<u64>,
    /// Override `simulation.replications` (both scenarios).
    #[arg(long)]
    replications: Option<u64>,
    #[arg(long)]
    threads: Option<usize>,
    /// With one scenario: override a value of the candidate (the base runs as written). With
    /// two: override a value of both (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Report folder (default: reports/<scenario name>-compare/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print nothing but the verdict's exit code.
    #[arg(long)]
    quiet: bool,
    /// Write only the data files: no plots, report.html or summary.md.
    #[arg(long)]
    no_report: bool,
    /// Replace the --out folder even when fleetsim did not write it (it holds other files).
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
struct ExperimentArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// A parameter axis: PATH=V1,V2,… or PATH=FROM..TO:STEP (repeatable).
    #[arg(long = "param", value_name = "PATH=VALUES", required = true)]
    params: Vec<String>,
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long)]
    replications: Option<u64>,
    #[arg(long)]
    threads: Option<usize>,
    /// Override any scenario value at every point (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Output folder (default: reports/<scenario name>-sweep or -tune).
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long)]
    quiet: bool,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Run only shard K of N of the points and write a shard folder for `fleetsim merge`.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Write only the data files: no plots, report.html or summary.md.
    #[arg(long)]
    no_report: bool,
    /// Replace the --out folder even when fleetsim did not write it (it holds other files).
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
struct SweepArgs {
    #[command(flatten)]
    common: ExperimentArgs,
    /// A Pareto objective METRIC[.STAT]:min|max (repeatable; default harmed:min, time_to_95:min).
    #[arg(long = "objective", value_name = "METRIC[.STAT]:min|max")]
    objectives: Vec<String>,
}

#[derive(Args, Debug)]
struct TuneArgs {
    #[command(flatten)]
    common: ExperimentArgs,
    /// Highest acceptable false-halt rate on the healthy release.
    #[arg(long, default_value_t = 0.01)]
    max_false_halt: f64,
    /// Longest acceptable median time to 95 % on the healthy release (e.g. 7d).
    #[arg(long)]
    max_time_to_95: Option<String>,
}

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

fn experiment(a: ExperimentArgs) -> Result<ExperimentConfig> {
    check_threads(a.threads)?;
    Ok(ExperimentConfig {
        axes: a
            .params
            .iter()
            .map(|p| crate::analysis::sweep::parse_axis(p))
            .collect::<Result<_>>()?,
        overrides: common_overrides(a.seed, a.replications, &a.set)?,
        scenario: a.scenario,
        threads: a.threads,
        out: a.out,
        quiet: a.quiet,
        format: a.format,
        shard: a.shard.as_deref().map(parse_point_shard).transpose()?,
        report: !a.no_report,
        force: a.force,
    })
}

#[derive(Args, Debug)]
struct ChaosArgs {
    /// The scenario file (its `[chaos]` table is the fault space).
    scenario: PathBuf,
    /// Number of schedules to draw (default: `chaos.campaigns`).
    #[arg(long)]
    campaigns: Option<u32>,
    /// Seed of the schedule draws (default: the scenario's seed).
    #[arg(long)]
    campaign_seed: Option<u64>,
    /// Override `simulation.replications` for every schedule.
    #[arg(long)]
    replications: Option<u64>,
    #[arg(long)]
    threads: Option<usize>,
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Most runs spent shrinking one violating schedule.
    #[arg(long, default_value_t = 40)]
    max_trials: u32,
    /// Output folder (default: reports/<scenario name>-chaos).
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long)]
    quiet: bool,
    /// What to print on stdout (json: the folder's chaos.json).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Replace the --out folder even when fleetsim did not write it (it holds other files).
    #[arg(long)]
    force: bool,
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
}

fn parse_guards(guards: &[String]) -> Result<Vec<crate::analysis::compare::Guard>> {
    use crate::scenario::model::World;
    use crate::scenario::validate::{OUTCOME_METRICS, STATS};
    if guards.is_empty() {
        return Ok(crate::analysis::compare::default_guards());
    }
    guards
        .iter()
        .map(|g| {
            let (spec, world) = match g.split_once('@') {
                Some((spec, w)) => (spec, Some(w)),
                None => (g.as_str(), None),
            };
            let (metric, stat) = spec.split_once(':').ok_or_else(|| {
                Error::Usage(format!(
                    "--guard `{g}`: write METRIC:STAT or METRIC:STAT@WORLD, e.g. harmed:p95 or time_to_95:p50@healthy"
                ))
            })?;
            let world = match world {
                None => crate::analysis::compare::default_world(metric),
                Some(w) => World::parse(w).ok_or_else(|| {
                    let hint = crate::scenario::did_you_mean(w, World::NAMES);
                    Error::Usage(format!(
                        "--guard `{g}`: unknown world `{w}`{hint}; valid: {}",
                        World::NAMES.join(", ")
                    ))
                })?,
            };
            if !OUTCOME_METRICS.contains(&metric) {
                let hint = crate::scenario::did_you_mean(metric, OUTCOME_METRICS);
                return Err(Error::Usage(format!(
                    "--guard `{g}`: unknown metric `{metric}`{hint}; valid: {}",
                    OUTCOME_METRICS.join(", ")
                )));
            }
            if !STATS.contains(&stat) {
                return Err(Error::Usage(format!(
                    "--guard `{g}`: unknown stat `{stat}`; valid: {}",
                    STATS.join(", ")
                )));
            }
            Ok(crate::analysis::compare::Guard {
                metric: metric.into(),
                stat: stat.into(),
                world,
            })
        })
        .collect()
}

/// `--seed` and `--replications` are overrides of the scenario like any `--set`.
fn common_overrides(
    seed: Option<u64>,
    replications: Option<u64>,
    sets: &[String],
) -> Result<Vec<(String, String)>> {
    let mut overrides = Vec::new();
    if let Some(seed) = seed {
        overrides.push(("simulation.seed".to_string(), seed.to_string()));
    }
    if let Some(r) = replications {
        overrides.push(("simulation.replications".to_string(), r.to_string()));
    }
    overrides.extend(parse_sets(sets)?);
    Ok(overrides)
}

fn check_threads(threads: Option<usize>) -> Result<()> {
    if threads == Some(0) {
        return Err(Error::Usage("--threads must be at least 1".into()));
    }
    Ok(())
}

fn parse_sets(sets: &[String]) -> Result<Vec<(String, String)>> {
    sets.iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(Error::Usage(format!(
                "--set `{s}`: write PATH=VALUE, e.g. --set policy.rate.per_minute=60"
            ))),
        })
        .collect()
}

/// Parses the process arguments. Help and version requests exit here, as clap does.
pub fn parse() -> Result<Command> {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) =>
        {
            e.exit()
        }
        Err(e) => return Err(Error::Usage(e.render().to_string().trim_end().to_string())),
    };
    if let Some(m) = &cli.max_memory {
        crate::memory::set_from_flag(m)?;
    }
    match cli.command {
        RawCommand::Validate {
            scenarios,
            set,
            quiet,
            deny_warnings,
            format,
        } => Ok(Command::Validate {
            scenarios,
            overrides: parse_sets(&set)?,
            quiet,
            deny_warnings,
            format,
        }),
        RawCommand::Check(a) => {
            check_threads(a.threads)?;
            Ok(Command::Check(CheckConfig {
                scenarios: a.scenarios,
                junit: a.junit,
                overrides: common_overrides(a.seed, a.replications, &a.set)?,
                threads: a.threads,
                quiet: a.quiet,
                format: a.format,
                shard: a.shard.as_deref().map(parse_shard).transpose()?,
                out: a.out,
                force: a.force,
            }))
        }
        RawCommand::Compare(a) => compare_command(a),
        RawCommand::Chaos(a) => {
            check_threads(a.threads)?;
            Ok(Command::Chaos(ChaosConfig {
                overrides: common_overrides(None, a.replications, &a.set)?,
                scenario: a.scenario,
                campaigns: a.campaigns,
                campaign_seed: a.campaign_seed,
                threads: a.threads,
                max_trials: a.max_trials,
                out: a.out,
                quiet: a.quiet,
                format: a.format,
                force: a.force,
            }))
        }
        RawCommand::Sweep(a) => {
            let objectives = if a.objectives.is_empty() {
                vec!["harmed:min".to_string(), "time_to_95:min".to_string()]
            } else {
                a.objectives
            };
            Ok(Command::Sweep(SweepConfig {
                common: experiment(a.common)?,
                objectives: objectives
                    .iter()
                    .map(|o| crate::analysis::sweep::parse_objective(o))
                    .collect::<Result<_>>()?,
            }))
        }
        RawCommand::Tune(a) => tune_command(a),
        RawCommand::Merge {
            dirs,
            out,
            quiet,
            format,
            junit,
            no_report,
            force,
        } => Ok(Command::Merge {
            dirs,
            junit,
            output: RunConfig {
                scenario: None,
                overrides: Vec::new(),
                threads: None,
                out,
                quiet,
                format,
                devices: false,
                trace_rows: 0,
                max_events: None,
                shard: None,
                report: !no_report,
                force,
            },
        }),
        RawCommand::Report { dir, quiet } => Ok(Command::Report { dir, quiet }),
        RawCommand::Init {
            file,
            devices,
            force,
            quiet,
        } => Ok(Command::Init {
            file,
            devices,
            force,
            quiet,
        }),
        RawCommand::Schema { markdown } => Ok(Command::Schema { markdown }),
        RawCommand::Run(a) => run_command(a),
    }
}

fn compare_command(a: CompareArgs) -> Result<Command> {
    check_threads(a.threads)?;
    if !(a.tolerance >= 0.0 && a.tolerance.is_finite()) {
        return Err(Error::Usage("--tolerance must be a number ≥ 0".into()));
    }
    if a.candidate.is_none() && a.candidate_set.is_empty() && a.set.is_empty() {
        return Err(Error::Usage(
            "give a CANDIDATE scenario, or --set (or --candidate-set) overrides that \
             turn the base into the candidate"
                .into(),
        ));
    }
    // With one scenario file, `--set` describes the candidate (the base is the file as
    // it is); with two, it applies to both, and `--candidate-set` to the candidate only.
    let (both, mut candidate_only) = if a.candidate.is_none() {
        (Vec::new(), parse_sets(&a.set)?)
    } else {
        (a.set.clone(), Vec::new())
    };
    candidate_only.extend(parse_sets(&a.candidate_set)?);
    Ok(Command::Compare(CompareConfig {
        base: a.base,
        candidate: a.candidate,
        overrides: common_overrides(a.seed, a.replications, &both)?,
        candidate_overrides: candidate_only,
        tolerance: a.tolerance,
        guards: parse_guards(&a.guards)?,
        threads: a.threads,
        format: a.format,
        out: a.out,
        quiet: a.quiet,
        report: !a.no_report,
        force: a.force,
    }))
}

fn tune_command(a: TuneArgs) -> Result<Command> {
    if !(0.0..=1.0).contains(&a.max_false_halt) {
        return Err(Error::Usage(
            "--max-false-halt is a fraction in 0..1, e.g. 0.01".into(),
        ));
    }
    let max_time_to_95 = a
        .max_time_to_95
        .as_deref()
        .map(|t| {
            crate::engine::time::parse_duration_secs(t)
                .map_err(|m| Error::Usage(format!("--max-time-to-95: {m}")))
        })
        .transpose()?;
    Ok(Command::Tune(TuneConfig {
        common: experiment(a.common)?,
        max_false_halt: a.max_false_halt,
        max_time_to_95,
    }))
}

fn run_command(a: RunArgs) -> Result<Command> {
    check_threads(a.threads)?;
    let overrides = common_overrides(a.seed, a.replications, &a.set)?;
    Ok(Command::Run(RunConfig {
        scenario: a.scenario,
        overrides,
        threads: a.threads,
        out: a.out,
        quiet: a.quiet,
        format: a.format,
        devices: a.devices,
        trace_rows: if a.trace { a.trace_limit } else { 0 },
        max_events: a.max_events,
        shard: a.shard.as_deref().map(parse_shard).transpose()?,
        report: !a.no_report,
        force: a.force,
    }))
}

/// Parses a replication shard `K/N`: N is at most the replications a run can have.
fn parse_shard(text: &str) -> Result<(u64, u64)> {
    parse_shard_of(
        text,
        crate::scenario::validate::MAX_REPLICATIONS,
        "replications a scenario can have",
    )
}

/// Parses a sweep or tune shard `K/N`: N is at most the points a sweep can have.
fn parse_point_shard(text: &str) -> Result<(u64, u64)> {
    parse_shard_of(
        text,
        crate::analysis::sweep::MAX_POINTS as u64,
        "points a sweep can have",
    )
}

/// Parses `K/N` with 1 ≤ K ≤ N ≤ `max_n`. Each shard does at least one work item, so N is
/// bounded by the work there is (checked again against the scenario once it is loaded).
fn parse_shard_of(text: &str, max_n: u64, of: &str) -> Result<(u64, u64)> {
    let err = || {
        Error::Usage(format!(
            "--shard `{text}`: write K/N with 1 ≤ K ≤ N, e.g. --shard 3/10"
        ))
    };
    let (k, n) = text.split_once('/').ok_or_else(err)?;
    let (k, n): (u64, u64) = (
        k.trim().parse().map_err(|_| err())?,
        n.trim().parse().map_err(|_| err())?,
    );
    if k == 0 || n == 0 || k > n {
        return Err(err());
    }
    if n > max_n {
        return Err(Error::Usage(format!(
            "--shard `{text}`: {n} shards is more than the {max_n} {of}; N must be at most the \
             work to share (each shard does at least one)"
        )));
    }
    Ok((k, n))
}
