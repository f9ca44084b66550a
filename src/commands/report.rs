//! `fleetsim report DIR`: renders the plots, `report.html` and `summary.md` of a results folder
//! again from its data files, without simulating. They are rendered in a staging folder beside
//! `DIR` and each moved into place in one atomic step; every other file and subfolder of `DIR`
//! (the data files, and anything the user put there) is left as it was.

use crate::error::{Error, Result};
use crate::report::Staging;
use std::path::Path;

/// The entries of a results folder that `report` owns and draws again.
const RENDERED: [&str; 3] = ["summary.md", "plots", "report.html"];

pub(crate) fn report_command(dir: &Path, quiet: bool) -> Result<i32> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{}: no such folder (give a folder written by run, merge, sweep, tune, compare or chaos)",
            dir.display()
        )));
    }
    // Fail on a folder that is not a results folder before copying anything.
    crate::report::folder::load(dir)?;
    let staging = Staging::beside(dir)?;
    copy_data(dir, staging.dir())?;
    crate::report::render::render(staging.dir())?;
    // report.html last: it links the plots and quotes the summary.
    let out = staging.commit_entries(&RENDERED)?;
    if !quiet {
        crate::out::line(&format!("report: {}", out.join("report.html").display()))?;
    }
    Ok(0)
}

/// Links every data file of `from` into `to` for the renderer to read (the rendered files are
/// drawn again, and the marker is fleetsim's bookkeeping, not data).
fn copy_data(from: &Path, to: &Path) -> Result<()> {
    let entries = std::fs::read_dir(from)
        .map_err(|e| Error::io(format!("cannot read {}", from.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("cannot read {}", from.display()), e))?;
        let name = entry.file_name();
        let path = entry.path();
        let skip = RENDERED.iter().any(|r| name == *r) || name == crate::report::staging::MARKER;
        if !path.is_file() || skip {
            continue;
        }
        // A hard link costs nothing for a large devices.csv or events.csv; the renderer only
        // reads them and the staging folder is removed afterwards, so sharing them is safe.
        let target = to.join(&name);
        if std::fs::hard_link(&path, &target).is_err() {
            std::fs::copy(&path, &target)
                .map_err(|e| Error::io(format!("cannot copy {}", path.display()), e))?;
        }
    }
    Ok(())
}
