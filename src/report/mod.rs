//! The report folder (SPEC §4). Each output format is one module; all of them only read the
//! analysed results. The folder is written atomically: files go to a hidden sibling folder that
//! replaces the old report only once every file is complete, so a failed or interrupted run
//! never leaves a half-written report in place of a good one.

pub mod csv_files;
pub mod folder;
pub mod glance;
pub mod html;
pub mod html_experiment;
pub mod html_run;
pub mod junit;
pub mod markdown;
pub mod perf;
pub mod plots;
pub mod progress;
pub mod render;
pub mod summary;
pub mod sweep_files;
pub mod table;

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// A report folder being written.
pub struct Staging {
    tmp: PathBuf,
    out: PathBuf,
}

impl Staging {
    pub fn new(out: &Path) -> Result<Staging> {
        // `commit` renames over `out`: never do that to a file or a device (`--out /dev/full`).
        if std::fs::symlink_metadata(out).is_ok_and(|m| !m.is_dir()) {
            return Err(Error::io(
                format!("cannot write the report folder {}", out.display()),
                std::io::Error::other("it exists and is not a folder; choose another --out"),
            ));
        }
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
        let name = out
            .file_name()
            .map_or("report".into(), |n| n.to_string_lossy().to_string());
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)
            .map_err(|e| Error::io(format!("cannot create {}", tmp.display()), e))?;
        Ok(Staging {
            tmp,
            out: out.to_path_buf(),
        })
    }

    /// The folder being written (hidden until [`Staging::commit`]).
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.tmp.join(file)
    }

    pub fn write(&self, file: &str, bytes: &[u8]) -> Result<()> {
        let p = self.path(file);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
        }
        std::fs::write(&p, bytes).map_err(|e| Error::io(format!("cannot write {}", p.display()), e))
    }

    /// Moves the finished folder into place, replacing any previous report.
    pub fn commit(self) -> Result<PathBuf> {
        let out = self.out.clone();
        let backup = out.with_file_name(format!(
            ".{}.old-{}",
            out.file_name()
                .map_or("report".into(), |n| n.to_string_lossy().to_string()),
            std::process::id()
        ));
        if out.exists() {
            std::fs::rename(&out, &backup)
                .map_err(|e| Error::io(format!("cannot replace {}", out.display()), e))?;
        }
        if let Err(e) = std::fs::rename(&self.tmp, &out) {
            // Put the previous report back: nothing is lost.
            let _ = std::fs::rename(&backup, &out);
            return Err(Error::io(
                format!("cannot move the report into {}", out.display()),
                e,
            ));
        }
        let _ = std::fs::remove_dir_all(&backup);
        std::mem::forget(self);
        Ok(out)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

/// Formats a float for data files: shortest round-trip text, empty for no value.
pub fn num(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v}"),
        Some(v) if v.is_infinite() => {
            if v > 0.0 {
                "inf".into()
            } else {
                "-inf".into()
            }
        }
        _ => String::new(),
    }
}
