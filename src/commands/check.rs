//! `fleetsim check`: run scenarios and evaluate their `[[expect]]` assertions; JUnit XML and
//! GitHub Actions annotations for CI.

use super::shard::{CheckSuite, Payload, ScenarioSource, ShardFile};
use super::write_file_atomically;
use crate::analysis::expect;
use crate::analysis::run::RunOptions;
use crate::commands::config::{CheckConfig, Format};
use crate::error::{Error, Result};
use crate::metrics::outcome::Outcome;
use crate::report::junit::CheckSuite as JunitSuite;
use crate::report::progress::Progress;
use crate::report::table::{halt_reasons_list, verdict_label, verdict_observed};
use crate::scenario::Scenario;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

/// One scenario's outcomes, ready to be judged: as written, and in the healthy world when an
/// expectation asks for it and the scenario has a defect (otherwise both worlds are the same).
pub(crate) struct CheckRun {
    pub sc: Scenario,
    pub outcomes: Vec<Outcome>,
    pub healthy: Option<Vec<Outcome>>,
    /// Time spent loading and simulating it (unknown for merged shards).
    pub time: Option<Duration>,
}

/// A scenario that did not load: the file and the error (reported as an `error` test case in
/// the JUnit XML, and as an error, exit 2, once the others have been judged).
pub(crate) struct LoadFailure {
    pub file: String,
    pub error: Error,
}

pub(crate) fn check_command(cfg: &CheckConfig) -> Result<i32> {
    if cfg.shard.is_some() {
        return check_shard_command(cfg);
    }
    let started = crate::report::junit::timestamp();
    let mut runs = Vec::new();
    let mut failed = Vec::new();
    for path in &cfg.scenarios {
        let began = Instant::now();
        // A scenario that does not load is reported (and makes the exit code 2), but the
        // others are still judged, so that CI shows every verdict it can.
        let sc = match super::load(Some(path), &cfg.overrides) {
            Ok(sc) => sc,
            Err(error) => {
                failed.push(LoadFailure {
                    file: path.display().to_string(),
                    error,
                });
                continue;
            }
        };
        let (outcomes, healthy) = run_worlds(&sc, 0..sc.replications, cfg)?;
        runs.push(CheckRun {
            sc,
            outcomes,
            healthy,
            time: Some(began.elapsed()),
        });
    }
    finish_check(
        runs,
        failed,
        cfg.junit.as_deref(),
        cfg.quiet,
        cfg.format,
        started,
    )
}

/// `check --shard K/N`: this shard's replications of every scenario, into a shard folder.
fn check_shard_command(cfg: &CheckConfig) -> Result<i32> {
    let Some((k, n)) = cfg.shard else {
        return Ok(0);
    };
    let out = cfg.out.clone().unwrap_or_else(|| {
        std::path::PathBuf::from("reports").join(format!("check-shard-{k}-of-{n}"))
    });
    super::preflight(&out, cfg.force)?;
    let mut sources = Vec::new();
    for path in &cfg.scenarios {
        let sc = super::load(Some(path), &cfg.overrides)?;
        super::check_shard(cfg.shard, sc.replications, "replications", &sc.file)?;
        let reps = super::shard_range(sc.replications, k, n);
        let (outcomes, healthy) = run_worlds(&sc, reps, cfg)?;
        sources.push(CheckSuite {
            scenario: ScenarioSource::new(Some(path), &cfg.overrides, &sc)?,
            outcomes,
            healthy,
        });
    }
    let out = ShardFile::new((k, n), Payload::Check { suites: sources }).write(&out, cfg.force)?;
    if !cfg.quiet {
        crate::out::line(&format!(
            "check shard {k}/{n} → {}/ (evaluate with `fleetsim merge`)",
            out.display()
        ))?;
    }
    Ok(0)
}

/// Runs the scenario's replications as written and, only when some expectation is judged in
/// the healthy world and the scenario has a defect, the same replications of the healthy world
/// (same seeds) — so scenarios without `world = "healthy"` cost what they always did.
fn run_worlds(
    sc: &Scenario,
    reps: std::ops::Range<u64>,
    cfg: &CheckConfig,
) -> Result<(Vec<Outcome>, Option<Vec<Outcome>>)> {
    let worlds = if sc.needs_healthy_run() { 2 } else { 1 };
    let progress = Progress::new(worlds * (reps.end - reps.start), cfg.quiet, &sc.name);
    let opts = RunOptions {
        threads: cfg.threads,
        progress: progress.callback(),
        ..RunOptions::default()
    };
    let result = crate::analysis::run::run_worlds(sc, reps, sc.needs_healthy_run(), &opts);
    progress.finish();
    result
}

/// Evaluates every scenario's expectations on the outcomes of their worlds, prints the
/// verdicts, writes JUnit XML (with an error case for each scenario in `failed`) and GitHub
/// annotations, and returns the exit code: 1 on any violation, or the load errors (exit 2).
pub(crate) fn finish_check(
    runs: Vec<CheckRun>,
    failed: Vec<LoadFailure>,
    junit: Option<&Path>,
    quiet: bool,
    format: Format,
    started: SystemTime,
) -> Result<i32> {
    let mut suites = Vec::new();
    let mut json = Vec::new();
    let mut junit_suites = Vec::new();
    for r in runs {
        let sc = &r.sc;
        // Without a defect the scenario as written is the healthy world.
        let healthy = r
            .healthy
            .as_deref()
            .or((!sc.has_defects()).then_some(&r.outcomes[..]));
        let verdicts = expect::evaluate(&sc.expects, &r.outcomes, healthy);
        if format == Format::Table {
            print_verdicts(sc, &verdicts, r.outcomes.len(), r.healthy.is_some(), quiet)?;
        }
        json.push(serde_json::json!({
            "scenario": sc.name, "file": sc.file, "seed": sc.seed,
            "replications": r.outcomes.len(), "healthy_world_run": r.healthy.is_some(),
            "verdicts": verdicts.iter().map(verdict_json).collect::<Vec<_>>(),
        }));
        junit_suites.push(JunitSuite {
            name: sc.name.clone(),
            file: sc.file.clone(),
            outcome: Ok(verdicts.clone()),
            time: r.time,
        });
        suites.push((sc.name.clone(), sc.file.clone(), verdicts));
    }
    junit_suites.extend(failed.iter().map(|f| JunitSuite {
        name: f.file.clone(),
        file: f.file.clone(),
        outcome: Err(format!("{:#}", f.error)),
        time: None,
    }));
    if let Some(junit_path) = junit {
        let xml =
            crate::report::junit::render_check(&junit_suites, started, known_time(&junit_suites))?;
        write_file_atomically(junit_path, xml.as_bytes())?;
    }
    // Workflow commands go to stdout, where they would break a JSON document.
    github_annotations(&suites, format == Format::Table)?;
    let violations = suites
        .iter()
        .flat_map(|s| &s.2)
        .filter(|v| !v.passed)
        .count();
    let total: usize = suites.iter().map(|s| s.2.len()).sum();
    match format {
        Format::Table => crate::out::line(&format!(
            "{} passed, {} failed{}",
            total - violations,
            violations,
            match failed.len() {
                0 => String::new(),
                n => format!(", {n} scenario(s) did not load"),
            }
        ))?,
        Format::Json => crate::out::line(
            crate::report::versioned::pretty(&serde_json::json!({
                "scenarios": json, "passed": total - violations, "failed": violations,
            }))
            .trim_end(),
        )?,
    }
    if !failed.is_empty() {
        return Err(join_errors(failed));
    }
    Ok(if violations > 0 { 1 } else { 0 })
}

/// The time of the suites whose time is known, `None` when none is.
fn known_time(suites: &[JunitSuite]) -> Option<Duration> {
    let known: Vec<Duration> = suites.iter().filter_map(|s| s.time).collect();
    (!known.is_empty()).then(|| known.iter().sum())
}

/// One error for all the scenarios that did not load: their problems together when they are
/// all input errors, else the first error.
fn join_errors(failed: Vec<LoadFailure>) -> Error {
    if failed.iter().all(|f| matches!(f.error, Error::Input(_))) {
        Error::Input(
            failed
                .into_iter()
                .flat_map(|f| match f.error {
                    Error::Input(e) => e,
                    _ => Vec::new(),
                })
                .collect(),
        )
    } else {
        failed
            .into_iter()
            .find(|f| !matches!(f.error, Error::Input(_)))
            .map(|f| f.error)
            .unwrap_or_else(|| Error::Usage("a scenario did not load".into()))
    }
}

/// A verdict in `check --format json`: its `summary.json` fields plus, always, the world it was
/// judged in and the halt reasons of that world's replications.
fn verdict_json(v: &expect::Verdict) -> serde_json::Value {
    let mut value = serde_json::to_value(v).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.insert("world".into(), v.world.name().into());
        map.insert(
            "halt_reasons".into(),
            serde_json::to_value(&v.halt_reasons).unwrap_or_default(),
        );
    }
    value
}

/// Whether a verdict's line is followed by the halt reasons behind it: when it failed, and for
/// the halt metrics themselves, whose value the reasons explain.
pub(crate) fn shows_halt_reasons(v: &expect::Verdict) -> bool {
    !v.halt_reasons.is_empty() && (!v.passed || crate::scenario::catalog::is_yes_no(&v.metric))
}

fn print_verdicts(
    sc: &Scenario,
    verdicts: &[expect::Verdict],
    replications: usize,
    healthy_run: bool,
    quiet: bool,
) -> Result<()> {
    if !quiet {
        let worlds = if healthy_run {
            ", as written and healthy"
        } else {
            ""
        };
        crate::out::line(&format!(
            "{} ({}, {} replications{worlds}, seed {})",
            sc.name, sc.file, replications, sc.seed
        ))?;
        if verdicts.is_empty() {
            crate::out::line("  (no [[expect]] entries)")?;
        }
    }
    for v in verdicts.iter().filter(|v| !quiet || !v.passed) {
        let verdict = if v.passed { "pass" } else { "FAIL" };
        crate::out::line(&format!(
            "  {verdict}  {:<40} observed {}",
            verdict_label(v),
            verdict_observed(v)
        ))?;
        if shows_halt_reasons(v) {
            crate::out::line(&format!(
                "        halt reasons: {}",
                halt_reasons_list(&v.halt_reasons)
            ))?;
        }
    }
    Ok(())
}

/// Under GitHub Actions: `::error` annotations for violations and a Markdown table appended
/// to the job summary.
fn github_annotations(
    suites: &[(String, String, Vec<expect::Verdict>)],
    annotate: bool,
) -> Result<()> {
    if std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") {
        return Ok(());
    }
    let mut md = String::from(
        "### fleetsim check\n\n| scenario | expectation | observed | result |\n|---|---|---|---|\n",
    );
    for (name, file, verdicts) in suites {
        let lines = expect_lines(file, verdicts.len());
        for (i, v) in verdicts.iter().enumerate() {
            let observed = verdict_observed(v);
            if annotate && !v.passed {
                let line = lines
                    .as_ref()
                    .map_or(String::new(), |l| format!(",line={}", l[i]));
                crate::out::line(&format!(
                    "::error file={}{line},title={}::{}",
                    gh_property(file),
                    gh_property("fleetsim check"),
                    gh_data(&format!(
                        "{name}: expected {}, observed {observed}{}",
                        verdict_label(v),
                        halt_reasons_suffix(v)
                    ))
                ))?;
            }
            md.push_str(&format!(
                "| {} | {} | {observed} | {} |\n",
                crate::report::markdown::text(name),
                crate::report::markdown::code(&verdict_label(v)),
                if v.passed { "✅" } else { "❌" }
            ));
        }
    }
    append_step_summary(&md)
}

/// Under GitHub Actions: an `::error` annotation for each guard of a `compare` that
/// regressed (on the candidate's file) and a Markdown table of the guards appended to the job
/// summary. `annotate` is false with `--format json`, whose stdout is the document.
pub(crate) fn github_compare(
    file: &str,
    doc: &crate::report::folder::CompareDoc,
    annotate: bool,
) -> Result<()> {
    if std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") {
        return Ok(());
    }
    let value = |x: Option<f64>| x.map_or("no value".to_string(), expect::fmt);
    let mut md = format!(
        "### fleetsim compare: {}\n\nseed {}, {} replications, tolerance {}\n\n\
         | guard | base | candidate | paired diff | result |\n|---|---|---|---|---|\n",
        crate::report::markdown::text(&doc.scenario),
        doc.seed,
        doc.replications,
        doc.tolerance
    );
    for r in doc.rows.iter().filter(|r| r.guarded) {
        if annotate && r.regressed {
            crate::out::line(&format!(
                "::error file={},title={}::{}",
                gh_property(file),
                gh_property("fleetsim compare"),
                gh_data(&format!(
                    "{}: {}",
                    doc.scenario,
                    crate::report::junit::compare_message(r, doc.tolerance)
                ))
            ))?;
        }
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            crate::report::markdown::code(&r.label()),
            value(r.base),
            value(r.candidate),
            r.paired_diff
                .map_or("no value".to_string(), |d| format!("{d:+.4}")),
            if r.regressed { "❌ regressed" } else { "✅" }
        ));
    }
    append_step_summary(&md)
}

/// Appends Markdown to `$GITHUB_STEP_SUMMARY`, when it is set.
fn append_step_summary(md: &str) -> Result<()> {
    if let Ok(path) = std::env::var("GITHUB_STEP_SUMMARY") {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(format!("cannot open {path}"), e))?;
        f.write_all(md.as_bytes())
            .map_err(|e| Error::io(format!("cannot write {path}"), e))?;
    }
    Ok(())
}

/// `; halt reasons: gate:canary:insufficient ×50` for a verdict whose halt reasons are shown.
pub(crate) fn halt_reasons_suffix(v: &expect::Verdict) -> String {
    if shows_halt_reasons(v) {
        format!("; halt reasons: {}", halt_reasons_list(&v.halt_reasons))
    } else {
        String::new()
    }
}

/// The 1-based line of each `[[expect]]` table in `file`, when the file can be read and holds
/// exactly `count` of them (an annotation then points at the expectation that failed).
fn expect_lines(file: &str, count: usize) -> Option<Vec<usize>> {
    let text = std::fs::read_to_string(file).ok()?;
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[expect]]"))
        .map(|(i, _)| i + 1)
        .collect();
    (lines.len() == count).then_some(lines)
}

/// Escapes the message of a GitHub Actions workflow command.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`file=`, `title=`) of a workflow command.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_are_escaped() {
        assert_eq!(gh_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(gh_property("a:b,c"), "a%3Ab%2Cc");
    }
}
