//! `fleetsim validate`: parse and check scenario files without running them.

use crate::error::{Error, Result};
use crate::scenario;
use std::path::PathBuf;

pub(crate) fn validate_command(paths: &[PathBuf], overrides: &[(String, String)]) -> Result<i32> {
    let mut errors = Vec::new();
    for p in paths {
        match scenario::load_file(p, overrides) {
            Ok(sc) => {
                println!(
                    "ok: {} ({} devices, {} stages, {} replications)",
                    p.display(),
                    sc.device_count(),
                    sc.policy.stages.len(),
                    sc.replications
                );
            }
            Err(Error::Input(e)) => errors.extend(e),
            Err(other) => return Err(other),
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Error::Input(errors))
    }
}
