//! Command-line arguments. clap parses them into raw structs here, which are validated into the
//! [`Command`] the rest of the program runs; nothing past this module sees clap. The flags the
//! simulating commands share are declared once ([`SimArgs`], [`OutputArgs`]) and flattened into
//! each command; where a command means something more specific by one, it rewords that flag's
//! help with `mut_arg`. `docs` turns the same definitions into shell completions and man pages.

mod docs;

use crate::error::{Error, Result};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub use crate::commands::config::*;

#[derive(Parser, Debug)]
#[command(
    name = "fleetsim",
    version,
    about = "Rehearse over-the-air firmware rollouts against a simulated fleet before they touch production.",
    after_help = "Examples:\n  fleetsim init                                    # a starter scenario.toml\n  fleetsim run scenario.toml                       # simulate it, write reports/<name>/\n  fleetsim check scenarios/*.toml --junit junit.xml\n  fleetsim compare scenario.toml --set policy.rate.per_minute=60\n\nExit codes: 0 ok, 1 an expectation or guard failed (check, compare, chaos), 2 bad input or usage."
)]
struct Cli {
    #[command(subcommand)]
    command: RawCommand,
    /// Most memory a run may need (its up-front estimate), e.g. 16GiB or `unlimited`; default
    /// $FLEETSIM_MAX_MEMORY, else the memory available.
    #[arg(long, global = true, value_name = "SIZE")]
    max_memory: Option<String>,
}

/// The flags of every command that simulates (run, check, compare, sweep, tune, chaos).
#[derive(Args, Debug)]
struct SimArgs {
    /// Seed of every random stream (overrides `simulation.seed`); the same seed gives the same
    /// results.
    #[arg(long)]
    seed: Option<u64>,
    /// Number of replications to run (overrides `simulation.replications`).
    #[arg(long)]
    replications: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    #[command(flatten)]
    set: SetArgs,
}

/// `--set PATH=VALUE`: also on `validate`, which simulates nothing.
#[derive(Args, Debug)]
struct SetArgs {
    /// Override any scenario value, e.g. --set policy.rate.per_minute=60 or --set
    /// 'policy.stage[1].percent=5' (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
}

/// What a command prints.
#[derive(Args, Debug)]
struct OutputArgs {
    /// Print nothing but errors (the output folder is still written; the exit code still
    /// tells the verdict).
    #[arg(long)]
    quiet: bool,
    /// What to print on stdout: `table` for people, `json` for the document the command
    /// writes to its folder. With `json`, errors on stderr are JSON too, one object a line.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

const QUIET: &str = "quiet";
const FORMAT: &str = "format";

#[derive(Subcommand, Debug)]
enum RawCommand {
    /// Run a scenario (with no file, the built-in reference scenario) and write the report folder.
    #[command(
        mut_arg(QUIET, |a| a.help("Print only the report folder's path (no table, no timing note, no progress bar)")),
        after_help = "Examples:\n  fleetsim run                                     # the built-in reference scenario\n  fleetsim run scenario.toml --replications 200 --seed 7\n  fleetsim run scenario.toml --set policy.rate.per_minute=60 --out reports/fast\n  fleetsim run scenario.toml --save-baseline main  # keep it for `compare --baseline main`\n  fleetsim run big.toml --shard 3/10               # this machine's share; then `fleetsim merge`"
    )]
    Run(RunArgs),
    /// Run scenarios and evaluate their `[[expect]]` assertions; exit 1 on a violation.
    #[command(
        mut_arg("seed", |a| a.help("Seed of every random stream in every scenario (overrides `simulation.seed`)")),
        mut_arg("replications", |a| a.help("Number of replications of every scenario (overrides `simulation.replications`)")),
        mut_arg(QUIET, |a| a.help("Print only violations")),
        mut_arg(FORMAT, |a| a.help("What to print on stdout: `table` for people, `json` for one object per scenario with its verdicts. With `json`, errors on stderr are JSON too")),
        after_help = "Examples:\n  fleetsim check scenarios/*.toml\n  fleetsim check scenarios/*.toml --junit junit.xml --quiet\n  fleetsim check plan.toml --replications 200 --format json\n\nUnder GitHub Actions (GITHUB_ACTIONS=true) it also prints ::error annotations and appends a\nMarkdown table to $GITHUB_STEP_SUMMARY."
    )]
    Check(CheckArgs),
    /// Paired comparison of a candidate policy with a base on the same seeds; exit 1 when a
    /// guarded metric regresses past --tolerance.
    #[command(
        mut_arg("seed", |a| a.help("Seed of every random stream of both scenarios (overrides `simulation.seed`); with --baseline it must be the baseline's")),
        mut_arg("replications", |a| a.help("Number of replications of both scenarios (overrides `simulation.replications`); with --baseline it must be the baseline's")),
        mut_arg("set", |a| a.help("With one scenario: override a value of the candidate (the base runs as written). With two: override a value of both. With --baseline: override a value of the candidate (repeatable)")),
        mut_arg(QUIET, |a| a.help("Print nothing: the exit code is the verdict (0 no regression, 1 regressed)")),
        after_help = "Examples:\n  fleetsim compare plan.toml --set 'policy.stage[1].percent=10'\n  fleetsim compare base.toml candidate.toml --guard harmed:p95 --tolerance 0.1\n  fleetsim run plan.toml --save-baseline main            # once, on the main branch\n  fleetsim compare --baseline main plan.toml             # later: only the candidate runs\n  fleetsim compare --baseline reports/plan plan.toml --junit compare.xml\n\nUnder GitHub Actions (GITHUB_ACTIONS=true) it also prints ::error annotations for regressed\nguards and appends a Markdown table to $GITHUB_STEP_SUMMARY."
    )]
    Compare(CompareArgs),
    /// Run every combination of parameter values × replications on common seeds; table, CSV,
    /// Pareto front.
    #[command(
        mut_arg("set", |a| a.help("Override any scenario value at every point (repeatable)")),
        after_help = "Examples:\n  fleetsim sweep plan.toml --param 'policy.rate.per_minute=10,40' --param 'policy.stage[2].bake=1d..3d:1d'\n  fleetsim sweep plan.toml --param policy.rate.per_minute=10..100:10 --objective harmed.p95:min\n  fleetsim sweep plan.toml --param ... --shard 2/4   # a share of the points; then `fleetsim merge`"
    )]
    Sweep(SweepArgs),
    /// For gate settings: false-halt rate on the healthy release vs blast radius on the
    /// defective one, with the Pareto front and a recommendation.
    #[command(
        mut_arg("set", |a| a.help("Override any scenario value at every point (repeatable)")),
        after_help = "Examples:\n  fleetsim tune plan.toml --param 'policy.stage[1].gate.check[0].max=0.005,0.01,0.02'\n  fleetsim tune plan.toml --param 'policy.stage[1].gate.confidence=0.8,0.9,0.95' --max-false-halt 0.02 --max-time-to-95 7d"
    )]
    Tune(TuneArgs),
    /// Join `--shard` folders (of run, sweep, tune or check) into the result the unsharded
    /// command gives.
    #[command(
        mut_arg(QUIET, |a| a.help("Print nothing but errors (the folder, and --junit, are still written)")),
        after_help = "Examples:\n  fleetsim merge reports/plan-shard-*-of-10\n  fleetsim merge reports/check-shard-* --junit junit.xml"
    )]
    Merge {
        /// Shard folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Report folder (default: reports/<scenario name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
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
    /// Turn a production rollout system's own configuration into fleetsim's [policy]: AWS IoT
    /// Jobs, Eclipse hawkBit, Mender and Azure Device Update.
    #[command(
        after_help = "Examples:\n  fleetsim import aws-iot-job create-job.json              # the [policy], to paste\n  fleetsim import aws-iot-job create-job.json --into scenarios/reference.toml > rehearse.toml\n  fleetsim import hawkbit rollout.json --into scenarios/reference.toml\n  fleetsim import azure-adu deployment.json --into scenarios/reference.toml\n  fleetsim run rehearse.toml"
    )]
    Import {
        /// The system whose document FILE is.
        #[arg(value_enum)]
        system: crate::commands::import::System,
        /// The document (JSON): an AWS IoT Jobs CreateJob request or job template, a Mender
        /// POST /deployments body, or an Azure Device Update deployment.
        file: PathBuf,
        /// Print this scenario with its [policy] replaced (keeping its target, rollback_to,
        /// preflight and skip_migrations), validated and ready to run.
        #[arg(long, value_name = "SCENARIO")]
        into: Option<PathBuf>,
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
    #[command(after_help = "Examples:\n  fleetsim report reports/bad-release")]
    Report {
        /// A folder written by run, merge, sweep, tune or compare.
        dir: PathBuf,
        /// Print nothing but errors.
        #[arg(long)]
        quiet: bool,
    },
    /// A randomised fault campaign: schedules that break `[[expect]]`, shrunk to minimal
    /// reproducers; exit 1 when one is found.
    #[command(
        mut_arg("replications", |a| a.help("Number of replications of every schedule (overrides `simulation.replications`)")),
        mut_arg(QUIET, |a| a.help("Print nothing but errors: the exit code says whether a schedule broke an expectation")),
        after_help = "Examples:\n  fleetsim chaos plan.toml\n  fleetsim chaos plan.toml --campaigns 200 --campaign-seed 3 --replications 5"
    )]
    Chaos(ChaosArgs),
    /// Parse and check scenario files without running them.
    #[command(
        mut_arg(QUIET, |a| a.help("Print nothing for valid files (errors and warnings still go to stderr)")),
        mut_arg(FORMAT, |a| a.help("What to print on stdout: `table` for people, `json` for one object per file with its verdict, errors and warnings. With `json`, errors on stderr are JSON too")),
        after_help = "Examples:\n  fleetsim validate scenarios/*.toml\n  fleetsim validate plan.toml --deny-warnings\n  fleetsim validate plan.toml --set policy.stage[2].percent=120 --format json"
    )]
    Validate {
        /// Scenario files (`-`: standard input).
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        #[command(flatten)]
        set: SetArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// Treat warnings (a plan that validates but cannot work as meant) as errors: exit 2.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  fleetsim completions bash > ~/.local/share/bash-completion/completions/fleetsim\n  fleetsim completions zsh > ~/.zfunc/_fleetsim        # with fpath+=~/.zfunc before compinit\n  fleetsim completions fish > ~/.config/fish/completions/fleetsim.fish"
    )]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the man page (roff), or write one page per command into a folder.
    #[command(
        after_help = "Examples:\n  fleetsim man | man -l -\n  mkdir -p ~/.local/share/man/man1 && fleetsim man --dir ~/.local/share/man/man1   # then `man fleetsim-run`"
    )]
    Man {
        /// Write fleetsim.1 and fleetsim-<command>.1 for every command into this folder instead
        /// of printing fleetsim.1.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// A shell `fleetsim completions` writes a script for.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    #[value(name = "powershell")]
    PowerShell,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Scenario file (`-`: standard input); omit it to run the built-in reference scenario.
    scenario: Option<PathBuf>,
    #[command(flatten)]
    sim: SimArgs,
    /// Report folder (default: reports/<scenario name>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep the results as baseline NAME for `compare --baseline NAME`: the folder is
    /// reports/baselines/<scenario name>/NAME/ and also holds the healthy world's replications.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["out", "shard"])]
    save_baseline: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
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
    /// Write JUnit XML (a test suite per scenario, a test case per expectation) to this file.
    #[arg(long)]
    junit: Option<PathBuf>,
    #[command(flatten)]
    sim: SimArgs,
    #[command(flatten)]
    output: OutputArgs,
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
    /// The base scenario (with --baseline: the candidate scenario).
    base: PathBuf,
    /// The candidate scenario (default: the base with --set or --candidate-set overrides).
    candidate: Option<PathBuf>,
    /// Compare the candidate with a saved results folder instead of simulating a base: a `run`
    /// folder, or NAME saved with `run --save-baseline NAME`. It must have the candidate's
    /// seed, replications and world (fleet, releases, faults).
    #[arg(long, value_name = "DIR|NAME")]
    baseline: Option<String>,
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
    #[command(flatten)]
    sim: SimArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Report folder (default: reports/<scenario name>-compare/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write JUnit XML (one test case per guarded metric) to this file.
    #[arg(long)]
    junit: Option<PathBuf>,
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
    #[command(flatten)]
    sim: SimArgs,
    /// Output folder (default: reports/<scenario name>-sweep or -tune).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
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
    #[command(flatten)]
    sim: SimArgs,
    /// Most runs spent shrinking one violating schedule.
    #[arg(long, default_value_t = 40)]
    max_trials: u32,
    /// Output folder (default: reports/<scenario name>-chaos).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
    /// Replace the --out folder even when fleetsim did not write it (it holds other files).
    #[arg(long)]
    force: bool,
}

fn experiment(a: ExperimentArgs) -> Result<ExperimentConfig> {
    check_threads(a.sim.threads)?;
    Ok(ExperimentConfig {
        axes: a
            .params
            .iter()
            .map(|p| crate::analysis::sweep::parse_axis(p))
            .collect::<Result<_>>()?,
        overrides: sim_overrides(&a.sim, &a.sim.set.set)?,
        scenario: a.scenario,
        threads: a.sim.threads,
        out: a.out,
        quiet: a.output.quiet,
        format: a.output.format,
        shard: a.shard.as_deref().map(parse_point_shard).transpose()?,
        report: !a.no_report,
        force: a.force,
    })
}

fn parse_guards(guards: &[String]) -> Result<Vec<crate::analysis::compare::Guard>> {
    use crate::scenario::catalog::{OUTCOME_METRICS, STATS};
    use crate::scenario::model::World;
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

/// `--seed` and `--replications` are overrides of the scenario like any `--set`; `sets` are
/// the `--set` values that apply (compare's differ with the number of scenarios).
fn sim_overrides(sim: &SimArgs, sets: &[String]) -> Result<Vec<(String, String)>> {
    let mut overrides = Vec::new();
    if let Some(seed) = sim.seed {
        overrides.push(("simulation.seed".to_string(), seed.to_string()));
    }
    if let Some(r) = sim.replications {
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
    parse_from(std::env::args_os())
}

/// [`parse`] of any argument list (the first is the program name).
pub fn parse_from<I, T>(args: I) -> Result<Command>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    // Errors are JSON as soon as `--format json` is asked for, even when the arguments
    // around it do not parse (a usage error is an error like any other).
    crate::out::set_json_errors(json_requested(&args));
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        // Help and version go to stdout (exit 0); `fleetsim` with no command prints the help
        // on stderr (exit 2), as clap does, rather than the help text as an "error:".
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp
                    | clap::error::ErrorKind::DisplayVersion
                    | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            e.exit()
        }
        Err(e) => return Err(Error::Usage(clap_message(&e))),
    };
    if let Some(m) = &cli.max_memory {
        crate::memory::set_from_flag(m)?;
    }
    convert(cli.command)
}

/// Whether the arguments ask for `--format json` (as `--format json` or `--format=json`).
fn json_requested(args: &[std::ffi::OsString]) -> bool {
    args.windows(2)
        .any(|w| w[0] == "--format" && w[1] == "json")
        || args.iter().any(|a| a == "--format=json")
}

/// clap's rendering of a usage error without its own `error: ` prefix: the binary prints
/// `error:` once, for every kind of error.
fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let text = text.trim_end();
    text.strip_prefix("error: ").unwrap_or(text).to_string()
}

fn convert(command: RawCommand) -> Result<Command> {
    match command {
        RawCommand::Validate {
            scenarios,
            set,
            output,
            deny_warnings,
        } => Ok(Command::Validate {
            scenarios,
            overrides: parse_sets(&set.set)?,
            quiet: output.quiet,
            deny_warnings,
            format: output.format,
        }),
        RawCommand::Check(a) => check_command(a),
        RawCommand::Compare(a) => compare_command(a),
        RawCommand::Chaos(a) => chaos_command(a),
        RawCommand::Sweep(a) => sweep_command(a),
        RawCommand::Tune(a) => tune_command(a),
        RawCommand::Merge {
            dirs,
            out,
            output,
            junit,
            no_report,
            force,
        } => Ok(Command::Merge {
            dirs,
            junit,
            output: merge_output(out, output, no_report, force),
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
        RawCommand::Import { system, file, into } => Ok(Command::Import { system, file, into }),
        RawCommand::Run(a) => run_command(a),
        RawCommand::Completions { shell } => Ok(Command::Completions(docs::completions(
            Cli::command(),
            shell,
        ))),
        RawCommand::Man { dir } => Ok(Command::Man {
            pages: docs::man_pages(Cli::command(), dir.is_some())?,
            dir,
        }),
    }
}

/// `chaos`: the campaign settings, with the simulation flags it shares with `run`.
fn chaos_command(a: ChaosArgs) -> Result<Command> {
    check_threads(a.sim.threads)?;
    Ok(Command::Chaos(ChaosConfig {
        overrides: sim_overrides(&a.sim, &a.sim.set.set)?,
        scenario: a.scenario,
        campaigns: a.campaigns,
        campaign_seed: a.campaign_seed,
        threads: a.sim.threads,
        max_trials: a.max_trials,
        out: a.out,
        quiet: a.output.quiet,
        format: a.output.format,
        force: a.force,
    }))
}

/// `sweep`: the experiment and its objectives (by default, fewest harmed and fastest to 95%).
fn sweep_command(a: SweepArgs) -> Result<Command> {
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

/// Where and how `merge` writes: a run's output settings with nothing to simulate.
fn merge_output(
    out: Option<PathBuf>,
    output: OutputArgs,
    no_report: bool,
    force: bool,
) -> RunConfig {
    RunConfig {
        scenario: None,
        overrides: Vec::new(),
        threads: None,
        out,
        quiet: output.quiet,
        format: output.format,
        devices: false,
        trace_rows: 0,
        max_events: None,
        shard: None,
        report: !no_report,
        force,
        save_baseline: None,
    }
}

fn check_command(a: CheckArgs) -> Result<Command> {
    check_threads(a.sim.threads)?;
    Ok(Command::Check(CheckConfig {
        scenarios: a.scenarios,
        junit: a.junit,
        overrides: sim_overrides(&a.sim, &a.sim.set.set)?,
        threads: a.sim.threads,
        quiet: a.output.quiet,
        format: a.output.format,
        shard: a.shard.as_deref().map(parse_shard).transpose()?,
        out: a.out,
        force: a.force,
    }))
}

fn compare_command(a: CompareArgs) -> Result<Command> {
    check_threads(a.sim.threads)?;
    if !(a.tolerance >= 0.0 && a.tolerance.is_finite()) {
        return Err(Error::Usage("--tolerance must be a number ≥ 0".into()));
    }
    let sets = &a.sim.set.set;
    if a.baseline.is_some() && a.candidate.is_some() {
        return Err(Error::Usage(
            "with --baseline, give one scenario: the candidate (the baseline is the base)".into(),
        ));
    }
    if a.baseline.is_none()
        && a.candidate.is_none()
        && a.candidate_set.is_empty()
        && sets.is_empty()
    {
        return Err(Error::Usage(
            "give a CANDIDATE scenario, or --set (or --candidate-set) overrides that \
             turn the base into the candidate"
                .into(),
        ));
    }
    // With one scenario file, `--set` describes the candidate (the base is the file as
    // it is); with two, it applies to both, and `--candidate-set` to the candidate only. With
    // --baseline the one file is the candidate and both kinds of override change it.
    let (both, mut candidate_only) = if a.candidate.is_none() && a.baseline.is_none() {
        (Vec::new(), parse_sets(sets)?)
    } else {
        (sets.clone(), Vec::new())
    };
    candidate_only.extend(parse_sets(&a.candidate_set)?);
    Ok(Command::Compare(CompareConfig {
        base: a.base,
        candidate: a.candidate,
        overrides: sim_overrides(&a.sim, &both)?,
        candidate_overrides: candidate_only,
        tolerance: a.tolerance,
        guards: parse_guards(&a.guards)?,
        threads: a.sim.threads,
        format: a.output.format,
        out: a.out,
        quiet: a.output.quiet,
        baseline: a.baseline,
        junit: a.junit,
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
    check_threads(a.sim.threads)?;
    let overrides = sim_overrides(&a.sim, &a.sim.set.set)?;
    if let Some(name) = &a.save_baseline {
        check_baseline_name(name)?;
    }
    Ok(Command::Run(RunConfig {
        scenario: a.scenario,
        overrides,
        threads: a.sim.threads,
        out: a.out,
        quiet: a.output.quiet,
        format: a.output.format,
        devices: a.devices,
        trace_rows: if a.trace { a.trace_limit } else { 0 },
        max_events: a.max_events,
        shard: a.shard.as_deref().map(parse_shard).transpose()?,
        report: !a.no_report,
        force: a.force,
        save_baseline: a.save_baseline,
    }))
}

/// A baseline name is one folder name: letters, digits, `-`, `_` and `.`, not starting with a
/// dot (so it can never climb out of reports/baselines/).
fn check_baseline_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "--save-baseline `{name}`: a baseline name is letters, digits, `-`, `_` and `.` \
             (not starting with `.`), e.g. main or v2.3"
        )))
    }
}

/// Parses a replication shard `K/N`: N is at most the replications a run can have.
fn parse_shard(text: &str) -> Result<(u64, u64)> {
    parse_shard_of(
        text,
        crate::scenario::limits::MAX_REPLICATIONS,
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
