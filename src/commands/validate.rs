//! `fleetsim validate`: parse and check scenario files without running them, and warn about
//! plans that validate but cannot work as meant (`--deny-warnings` makes those errors).

use crate::commands::config::Format;
use crate::error::{Error, InputError, Result};
use crate::out;
use crate::scenario::{self, Scenario, Warning};
use std::path::{Path, PathBuf};

/// One file's verdict, as `--format json` prints it.
#[derive(serde::Serialize)]
struct FileVerdict {
    file: String,
    valid: bool,
    devices: Option<u64>,
    stages: Option<usize>,
    /// The stages as the run plays them, `[policy.groups]` expanded.
    stage_plan: Vec<StagePlan>,
    replications: Option<u64>,
    /// Each error as the text on stderr: file, line and column, key path, what is valid.
    errors: Vec<String>,
    /// Each warning in the same shape (also listed under `--deny-warnings`, which makes the
    /// file invalid).
    warnings: Vec<String>,
}

/// One stage of the plan: its name, its cumulative share of the devices it selects, and a
/// hawkBit group's conditions.
#[derive(serde::Serialize)]
struct StagePlan {
    name: String,
    percent: Option<f64>,
    count: Option<u64>,
    success_threshold: Option<f64>,
    error_threshold: Option<f64>,
}

fn stage_plan(sc: &Scenario) -> Vec<StagePlan> {
    use crate::scenario::model::Share;
    sc.policy
        .stages
        .iter()
        .map(|s| {
            let (percent, count) = match s.share {
                Share::Percent(p) => (Some(p), None),
                Share::Count(n) => (None, Some(n)),
            };
            StagePlan {
                name: s.name.clone(),
                percent,
                count,
                success_threshold: s.group.map(|g| g.success),
                error_threshold: s.group.and_then(|g| g.error),
            }
        })
        .collect()
}

pub(crate) fn validate_command(
    paths: &[PathBuf],
    overrides: &[(String, String)],
    quiet: bool,
    deny_warnings: bool,
    format: Format,
) -> Result<i32> {
    let mut errors = Vec::new();
    let mut verdicts = Vec::new();
    for p in paths {
        match scenario::load_file_warned(p, overrides) {
            Ok((sc, warnings)) => {
                let verdict = valid_file(p, &sc, &warnings, quiet, deny_warnings, format)?;
                verdicts.push(verdict);
                if deny_warnings {
                    errors.extend(warnings.into_iter().map(Warning::into_error));
                }
            }
            Err(Error::Input(e)) => {
                verdicts.push(invalid_file(p, &e));
                errors.extend(e);
            }
            Err(other) => return Err(other),
        }
    }
    if format == Format::Json {
        // A list of files' verdicts: the version is in each, as in each error record.
        let versioned: Vec<_> = verdicts
            .iter()
            .map(crate::report::versioned::Versioned::new)
            .collect();
        out::line(&serde_json::to_string_pretty(&versioned).unwrap_or_default())?;
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Error::Input(errors))
    }
}

/// The verdict of a file that validated; its warnings go to stderr unless they are errors
/// (`--deny-warnings`), which the caller reports.
fn valid_file(
    p: &Path,
    sc: &Scenario,
    warnings: &[Warning],
    quiet: bool,
    deny_warnings: bool,
    format: Format,
) -> Result<FileVerdict> {
    let valid = !deny_warnings || warnings.is_empty();
    if !deny_warnings {
        print_warnings(warnings);
    }
    if valid && !quiet && format == Format::Table {
        out::line(&format!(
            "ok: {} ({} devices, {} stages, {} replications{})",
            p.display(),
            sc.device_count(),
            sc.policy.stages.len(),
            sc.replications,
            match warnings.len() {
                0 => String::new(),
                1 => ", 1 warning".to_string(),
                n => format!(", {n} warnings"),
            }
        ))?;
    }
    Ok(FileVerdict {
        file: p.display().to_string(),
        valid,
        devices: Some(sc.device_count()),
        stages: Some(sc.policy.stages.len()),
        stage_plan: stage_plan(sc),
        replications: Some(sc.replications),
        // Denied warnings are this file's errors.
        errors: match valid {
            true => Vec::new(),
            false => warnings.iter().map(|w| w.to_string()).collect(),
        },
        warnings: warnings.iter().map(|w| w.to_string()).collect(),
    })
}

fn invalid_file(p: &Path, errors: &[InputError]) -> FileVerdict {
    FileVerdict {
        file: p.display().to_string(),
        valid: false,
        devices: None,
        stages: None,
        stage_plan: Vec::new(),
        replications: None,
        errors: errors.iter().map(|x| x.to_string()).collect(),
        warnings: Vec::new(),
    }
}

/// Prints warnings on stderr, one a line: `warning: FILE:LINE:COL: key: message`.
pub(crate) fn print_warnings(warnings: &[Warning]) {
    for w in warnings {
        out::warning(&w.clone().into_error());
    }
}
