//! `fleetsim report DIR`: renders the plots, `report.html` and `summary.md` of a results folder
//! again from its data files, without simulating. The folder is re-rendered in a staging copy
//! and swapped in whole, so an error leaves the old report as it was.

use crate::error::{Error, Result};
use crate::report::Staging;
use std::path::Path;

pub(crate) fn report_command(dir: &Path, quiet: bool) -> Result<i32> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{}: no such folder (give a folder written by run, merge, sweep, tune or compare)",
            dir.display()
        )));
    }
    // Fail on a folder that is not a results folder before copying anything.
    crate::report::folder::load(dir)?;
    // `.` or `..` name no folder the staging copy could sit beside: use the real path.
    let dir = &dir
        .canonicalize()
        .map_err(|e| Error::io(format!("cannot resolve {}", dir.display()), e))?;
    let staging = Staging::new(dir)?;
    copy_data(dir, staging.dir())?;
    crate::report::render::render(staging.dir())?;
    let out = staging.commit()?;
    if !quiet {
        crate::out::line(&format!("report: {}", out.join("report.html").display()))?;
    }
    Ok(0)
}

/// Copies every file of `from` but the rendered ones (they are drawn again).
fn copy_data(from: &Path, to: &Path) -> Result<()> {
    let entries = std::fs::read_dir(from)
        .map_err(|e| Error::io(format!("cannot read {}", from.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("cannot read {}", from.display()), e))?;
        let name = entry.file_name();
        let path = entry.path();
        if !path.is_file() || name == "report.html" || name == "summary.md" {
            continue;
        }
        // A hard link costs nothing for a large devices.csv or events.csv; the data files are
        // never written again, so sharing them with the old folder is safe.
        let target = to.join(&name);
        if std::fs::hard_link(&path, &target).is_err() {
            std::fs::copy(&path, &target)
                .map_err(|e| Error::io(format!("cannot copy {}", path.display()), e))?;
        }
    }
    Ok(())
}
