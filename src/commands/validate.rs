//! `fleetsim validate`: parse and check scenario files without running them.

use crate::cli::Format;
use crate::error::{Error, Result};
use crate::scenario;
use std::path::PathBuf;

/// One file's verdict, as `--format json` prints it.
#[derive(serde::Serialize)]
struct FileVerdict {
    file: String,
    valid: bool,
    devices: Option<u64>,
    stages: Option<usize>,
    replications: Option<u64>,
    /// Each error as the text on stderr: file, line and column, key path, what is valid.
    errors: Vec<String>,
}

pub(crate) fn validate_command(
    paths: &[PathBuf],
    overrides: &[(String, String)],
    quiet: bool,
    format: Format,
) -> Result<i32> {
    let mut errors = Vec::new();
    let mut verdicts = Vec::new();
    for p in paths {
        match scenario::load_file(p, overrides) {
            Ok(sc) => {
                if !quiet && format == Format::Table {
                    println!(
                        "ok: {} ({} devices, {} stages, {} replications)",
                        p.display(),
                        sc.device_count(),
                        sc.policy.stages.len(),
                        sc.replications
                    );
                }
                verdicts.push(FileVerdict {
                    file: p.display().to_string(),
                    valid: true,
                    devices: Some(sc.device_count()),
                    stages: Some(sc.policy.stages.len()),
                    replications: Some(sc.replications),
                    errors: Vec::new(),
                });
            }
            Err(Error::Input(e)) => {
                verdicts.push(FileVerdict {
                    file: p.display().to_string(),
                    valid: false,
                    devices: None,
                    stages: None,
                    replications: None,
                    errors: e.iter().map(|x| x.to_string()).collect(),
                });
                errors.extend(e);
            }
            Err(other) => return Err(other),
        }
    }
    if format == Format::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&verdicts).unwrap_or_default()
        );
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Error::Input(errors))
    }
}
