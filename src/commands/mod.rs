//! The commands, as outlines: load → check → simulate → analyse → report. One module per
//! command; this one dispatches and holds what several commands share.

mod chaos;
mod check;
mod compare;
pub mod config;
mod experiment;
pub mod import;
pub mod init;
mod merge;
mod report;
mod run;
mod schema;
mod shard;
mod validate;

use crate::commands::config::Command;
use crate::error::{Error, Result};
use crate::scenario::{self, Scenario};
use std::path::{Path, PathBuf};

pub use run::{check_shard, shard_range};

/// Runs a command; returns the process exit code for a "no" answer (0 when all is well).
pub fn execute(cmd: Command) -> Result<i32> {
    match cmd {
        Command::Run(cfg) => run::run_command(&cfg).map(|_| 0),
        Command::Merge {
            dirs,
            output,
            junit,
        } => merge::merge_command(&dirs, &output, junit.as_deref()),
        Command::Validate {
            scenarios,
            overrides,
            quiet,
            deny_warnings,
            format,
        } => validate::validate_command(&scenarios, &overrides, quiet, deny_warnings, format),
        Command::Check(cfg) => check::check_command(&cfg),
        Command::Compare(cfg) => compare::compare_command(&cfg),
        Command::Sweep(cfg) => experiment::sweep_command(&cfg),
        Command::Tune(cfg) => experiment::tune_command(&cfg),
        Command::Chaos(cfg) => chaos::chaos_command(&cfg),
        Command::Report { dir, quiet } => report::report_command(&dir, quiet),
        Command::Init {
            file,
            devices,
            force,
            quiet,
        } => init::init_command(&file, devices, force, quiet),
        Command::Completions(script) => crate::out::text(&script).map(|_| 0),
        Command::Man { pages, dir } => man_command(&pages, dir.as_deref()).map(|_| 0),
        Command::Schema { markdown } => schema::schema_command(markdown),
        Command::Import { system, file, into } => {
            import::import_command(system, &file, into.as_deref())
        }
    }
}

/// Prints the man page, or writes every page into `dir` (each file atomically).
fn man_command(pages: &[(String, Vec<u8>)], dir: Option<&Path>) -> Result<()> {
    let Some(dir) = dir else {
        let roff = pages.first().map(|p| &p.1[..]).unwrap_or_default();
        return crate::out::text(&String::from_utf8_lossy(roff));
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    for (name, roff) in pages {
        write_file_atomically(&dir.join(name), roff)?;
    }
    Ok(())
}

/// Loads the scenario a command runs (the built-in reference without a file) and prints its
/// warnings on stderr, once.
pub(crate) fn load(path: Option<&Path>, overrides: &[(String, String)]) -> Result<Scenario> {
    let (sc, warnings) = match path {
        Some(p) => scenario::load_file_warned(p, overrides)?,
        None => scenario::load_str_warned(
            scenario::REFERENCE,
            scenario::REFERENCE_LABEL,
            Path::new("."),
            overrides,
        )?,
    };
    validate::print_warnings(&warnings);
    Ok(sc)
}

pub(crate) use crate::report::folder::sanitize;

/// Writes a single file through a temporary sibling and a rename. A target that exists and is
/// not a regular file (`/dev/stdout`, a pipe, `/dev/full`) is written in place: renaming over
/// it would replace the device rather than write to it.
pub(crate) fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return std::fs::write(path, bytes)
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e));
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("cannot write {}", path.display()), e)
    })?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("cannot write {}", path.display()), e)
    })
}

/// The folder name suffix of a command's output: `-sweep`, or `-sweep-shard-K-of-N` for a shard.
pub(crate) fn suffix(kind: &str, shard: Option<(u64, u64)>) -> String {
    match shard {
        Some((k, n)) => format!("{kind}-shard-{k}-of-{n}"),
        None => kind.to_string(),
    }
}

/// Refuses an `--out` that could not be replaced before the simulation runs, not after.
pub(crate) fn preflight(out: &Path, force: bool) -> Result<()> {
    crate::report::staging::check_out(out, force)
}

/// Where a command writes its folder: `--out`, or `reports/<scenario name><suffix>`.
pub(crate) fn out_dir(out: &Option<PathBuf>, sc: &Scenario, suffix: &str) -> PathBuf {
    out.clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(format!("{}{suffix}", sanitize(&sc.name))))
}
