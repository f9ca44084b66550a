//! The commands, as outlines: load → check → simulate → analyse → report. One module per
//! command; this one dispatches and holds what several commands share.

mod chaos;
mod check;
mod compare;
mod experiment;
mod report;
mod run;
mod shard;
mod validate;

use crate::cli::Command;
use crate::error::{Error, Result};
use crate::scenario::{self, Scenario};
use std::path::{Path, PathBuf};

pub use run::shard_range;

/// Runs a command; returns the process exit code for a "no" answer (0 when all is well).
pub fn execute(cmd: Command) -> Result<i32> {
    match cmd {
        Command::Run(cfg) => run::run_command(&cfg).map(|_| 0),
        Command::Merge {
            dirs,
            output,
            junit,
        } => shard::merge_command(&dirs, &output, junit.as_deref()),
        Command::Validate {
            scenarios,
            overrides,
            quiet,
            format,
        } => validate::validate_command(&scenarios, &overrides, quiet, format),
        Command::Check(cfg) => check::check_command(&cfg),
        Command::Compare(cfg) => compare::compare_command(&cfg),
        Command::Sweep(cfg) => experiment::sweep_command(&cfg),
        Command::Tune(cfg) => experiment::tune_command(&cfg),
        Command::Chaos(cfg) => chaos::chaos_command(&cfg),
        Command::Report { dir, quiet } => report::report_command(&dir, quiet),
    }
}

pub(crate) fn load(path: Option<&Path>, overrides: &[(String, String)]) -> Result<Scenario> {
    match path {
        Some(p) => scenario::load_file(p, overrides),
        None => scenario::load_str(
            scenario::REFERENCE,
            scenario::REFERENCE_LABEL,
            Path::new("."),
            overrides,
        ),
    }
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

/// Writes a single file through a temporary sibling and a rename.
pub(crate) fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)
        .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("cannot write {}", path.display()), e)
    })
}

/// Where a command writes its folder: `--out`, or `reports/<scenario name><suffix>`.
pub(crate) fn out_dir(out: &Option<PathBuf>, sc: &Scenario, suffix: &str) -> PathBuf {
    out.clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(format!("{}{suffix}", sanitize(&sc.name))))
}
