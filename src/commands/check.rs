//! `fleetsim check`: run scenarios and evaluate their `[[expect]]` assertions; JUnit XML and
//! GitHub Actions annotations for CI.

use super::shard::{Payload, ScenarioSource, ShardFile};
use super::write_file_atomically;
use crate::analysis::expect;
use crate::analysis::run::{run, RunOptions};
use crate::cli::{CheckConfig, Format};
use crate::error::{Error, Result};
use crate::metrics::outcome::Outcome;
use crate::report::progress::Progress;
use crate::scenario::Scenario;
use std::path::Path;

pub(crate) fn check_command(cfg: &CheckConfig) -> Result<i32> {
    let mut runs = Vec::new();
    let mut sources = Vec::new();
    for path in &cfg.scenarios {
        let sc = super::load(Some(path), &cfg.overrides)?;
        let reps = match cfg.shard {
            Some((k, n)) => super::shard_range(sc.replications, k, n),
            None => 0..sc.replications,
        };
        let progress = Progress::new(reps.end - reps.start, cfg.quiet, &sc.name);
        let opts = RunOptions {
            threads: cfg.threads,
            progress: progress.callback(),
            ..RunOptions::default()
        };
        let result = run(&sc, reps, &opts);
        progress.finish();
        let outcomes = result?.outcomes;
        if cfg.shard.is_some() {
            sources.push((
                ScenarioSource::new(Some(path), &cfg.overrides, &sc)?,
                outcomes,
            ));
        } else {
            runs.push((sc, outcomes));
        }
    }
    if let Some((k, n)) = cfg.shard {
        let out = cfg.out.clone().unwrap_or_else(|| {
            std::path::PathBuf::from("reports").join(format!("check-shard-{k}-of-{n}"))
        });
        let out = ShardFile::new((k, n), Payload::Check { suites: sources }).write(&out)?;
        if !cfg.quiet {
            crate::out::line(&format!(
                "check shard {k}/{n} → {}/ (evaluate with `fleetsim merge`)",
                out.display()
            ))?;
        }
        return Ok(0);
    }
    finish_check(runs, cfg.junit.as_deref(), cfg.quiet, cfg.format)
}

/// Evaluates every scenario's expectations on its outcomes, prints the verdicts, writes JUnit
/// XML and GitHub annotations, and returns the exit code (1 on any violation).
pub(crate) fn finish_check(
    runs: Vec<(Scenario, Vec<Outcome>)>,
    junit: Option<&Path>,
    quiet: bool,
    format: Format,
) -> Result<i32> {
    let mut suites = Vec::new();
    let mut json = Vec::new();
    for (sc, outcomes) in runs {
        let verdicts = expect::evaluate(&sc.expects, &outcomes);
        if format == Format::Table {
            print_verdicts(&sc, &verdicts, outcomes.len(), quiet)?;
        }
        json.push(serde_json::json!({
            "scenario": sc.name, "file": sc.file, "seed": sc.seed,
            "replications": outcomes.len(), "verdicts": verdicts,
        }));
        suites.push((sc.name.clone(), sc.file.clone(), verdicts));
    }
    if let Some(junit_path) = junit {
        let xml = crate::report::junit::render(&suites);
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
            "{} passed, {} failed",
            total - violations,
            violations
        ))?,
        Format::Json => crate::out::line(
            &serde_json::to_string_pretty(&serde_json::json!({
                "scenarios": json, "passed": total - violations, "failed": violations,
            }))
            .unwrap_or_default(),
        )?,
    }
    Ok(if violations > 0 { 1 } else { 0 })
}

fn print_verdicts(
    sc: &Scenario,
    verdicts: &[expect::Verdict],
    replications: usize,
    quiet: bool,
) -> Result<()> {
    if !quiet {
        crate::out::line(&format!(
            "{} ({}, {} replications, seed {})",
            sc.name, sc.file, replications, sc.seed
        ))?;
        if verdicts.is_empty() {
            crate::out::line("  (no [[expect]] entries)")?;
        }
    }
    for v in verdicts.iter().filter(|v| !quiet || !v.passed) {
        let observed = v.observed.map_or("no value".to_string(), expect::fmt);
        let interval = v.interval.map_or(String::new(), |(lo, hi)| {
            format!(" [95% CI {} – {}]", expect::fmt(lo), expect::fmt(hi))
        });
        let verdict = if v.passed { "pass" } else { "FAIL" };
        crate::out::line(&format!(
            "  {verdict}  {:<40} observed {observed}{interval}",
            v.bound_text()
        ))?;
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
            let observed = v.observed.map_or("no value".to_string(), expect::fmt);
            if annotate && !v.passed {
                let line = lines
                    .as_ref()
                    .map_or(String::new(), |l| format!(",line={}", l[i]));
                crate::out::line(&format!(
                    "::error file={}{line},title={}::{}",
                    gh_property(file),
                    gh_property("fleetsim check"),
                    gh_data(&format!(
                        "{name}: expected {}, observed {observed}",
                        v.bound_text()
                    ))
                ))?;
            }
            md.push_str(&format!(
                "| {name} | `{}` | {observed} | {} |\n",
                v.bound_text(),
                if v.passed { "✅" } else { "❌" }
            ));
        }
    }
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
