//! The life cycle of a results folder on disk: what `--out` may replace, how the new folder is
//! staged, made durable and swapped in, and how the litter of a killed run is cleaned up.
//!
//! ```text
//!  --out X ──► resolve ──► recover .X.old-PID ──► clean stale .X.tmp-PID ──► owned? ──► .X.tmp-PID
//!                                                                                          │ write
//!   X (new) ◄── renameat2(RENAME_EXCHANGE) ◄── fsync files and folders ◄── .fleetsim marker ┘
//! ```
//!
//! Guarantees: fleetsim replaces only a folder that is missing, empty, or that it wrote itself
//! (its `.fleetsim` marker lists every entry fleetsim put there, and nothing else is in it);
//! any other folder is refused unless `--force`, and the working directory (or a folder that
//! holds it) never. The swap is one atomic step on Linux, so a kill at any instant leaves `X`
//! either the old complete folder or the new complete one. Where the exchange is not supported,
//! the old folder is renamed aside only once the new one is complete and durable, and a later
//! run puts it back if it finds `X` missing.

use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The marker file in every results folder fleetsim writes: its version, the command line and
/// the entries it wrote (`file: NAME`, one a line).
pub const MARKER: &str = ".fleetsim";

/// A staging folder whose process is still alive is left alone unless it is older than this:
/// staging folders are created after the simulation, so a live one is minutes old at most, and
/// an old one with a "live" PID belongs to a dead run whose PID was reused.
const STALE_AGE: Duration = Duration::from_secs(6 * 3600);

/// A results folder being written beside its final place.
pub struct Staging {
    tmp: PathBuf,
    /// The final folder, resolved (`.` and `..` name a real folder).
    real: PathBuf,
    /// The final folder as the user named it, for messages.
    shown: PathBuf,
}

impl Staging {
    /// Starts a folder that will replace `out` whole. `out` may be replaced only when it is
    /// missing, empty or written by fleetsim; `force` replaces any other folder.
    pub fn new(out: &Path, force: bool) -> Result<Staging> {
        let real = resolve(out)?;
        recover(&real);
        clean_stale(&real);
        check_replaceable(out, &real, force)?;
        Staging::create(real, out)
    }

    /// A staging folder beside the existing results folder `dir`, for `fleetsim report`, which
    /// moves only the files it renders into place ([`Staging::commit_entries`]).
    pub fn beside(dir: &Path) -> Result<Staging> {
        let real = resolve(dir)?;
        clean_stale(&real);
        Staging::create(real, dir)
    }

    fn create(real: PathBuf, shown: &Path) -> Result<Staging> {
        let parent = parent_of(&real);
        std::fs::create_dir_all(&parent)
            .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
        let tmp = sibling(&real, "tmp", std::process::id());
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir(&tmp)
            .map_err(|e| Error::io(format!("cannot create {}", tmp.display()), e))?;
        Ok(Staging {
            tmp,
            real,
            shown: shown.to_path_buf(),
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

    /// Marks the finished folder as fleetsim's, makes it durable and swaps it in for any
    /// previous one in one step.
    pub fn commit(self) -> Result<PathBuf> {
        let entries = entry_names(&self.tmp)
            .map_err(|e| Error::io(format!("cannot read {}", self.tmp.display()), e))?;
        write_marker(&self.tmp, &entries)?;
        sync_tree(&self.tmp)?;
        let leftover = swap_in(&self.tmp, &self.real)?;
        sync_dir(&parent_of(&self.real));
        // What is left is the old folder (or nothing): a kill from here on leaves a stale
        // staging folder that the next run removes, never a missing report.
        let _ = std::fs::remove_dir_all(&leftover);
        let shown = self.shown.clone();
        std::mem::forget(self);
        Ok(shown)
    }

    /// Moves only the named entries of the staging folder into the existing folder, each in
    /// one atomic step, and leaves everything else in it alone.
    pub fn commit_entries(self, names: &[&str]) -> Result<PathBuf> {
        sync_tree(&self.tmp)?;
        let mut moved = Vec::new();
        for name in names {
            let from = self.tmp.join(name);
            if std::fs::symlink_metadata(&from).is_err() {
                continue;
            }
            let to = self.real.join(name);
            let leftover = swap_in(&from, &to)?;
            let _ = std::fs::remove_dir_all(&leftover);
            moved.push(name.to_string());
        }
        add_to_marker(&self.real, &self.tmp, &moved)?;
        sync_dir(&self.real);
        Ok(self.shown.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

/// Refuses, before anything runs, an `--out` that [`Staging::new`] would refuse at the end.
pub fn check_out(out: &Path, force: bool) -> Result<()> {
    let real = resolve(out)?;
    recover(&real);
    check_replaceable(out, &real, force)
}

/// `out` as a real path: an existing folder canonicalized, a new one below its (resolved)
/// parent. Something that exists and is not a folder is refused: the swap would replace a
/// file or a device (`--out /dev/full`).
fn resolve(out: &Path) -> Result<PathBuf> {
    let refuse = |why: &str| {
        Error::io(
            format!("cannot write the report folder {}", out.display()),
            std::io::Error::other(why.to_string()),
        )
    };
    match std::fs::symlink_metadata(out) {
        Ok(m) if m.is_dir() => {
            return out
                .canonicalize()
                .map_err(|e| Error::io(format!("cannot resolve {}", out.display()), e));
        }
        Ok(_) => {
            return Err(refuse(
                "it exists and is not a folder; choose another --out",
            ))
        }
        Err(_) => {}
    }
    let name = match out.file_name() {
        Some(n) => n.to_os_string(),
        None => return Err(refuse("it names no folder; choose another --out")),
    };
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty());
    let parent = match parent {
        Some(p) => p.canonicalize().unwrap_or_else(|_| absolute(p)),
        None => absolute(Path::new(".")).canonicalize().unwrap_or_default(),
    };
    Ok(parent.join(name))
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn parent_of(p: &Path) -> PathBuf {
    p.parent()
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map_or("report".into(), |n| n.to_string_lossy().to_string())
}

/// `.X.KIND-PID` beside `X`.
fn sibling(real: &Path, kind: &str, pid: u32) -> PathBuf {
    parent_of(real).join(format!(".{}.{kind}-{pid}", name_of(real)))
}

/// The siblings `.X.KIND-PID` of `X` left by other processes, with their PIDs.
fn siblings(real: &Path, kind: &str) -> Vec<(PathBuf, u32)> {
    let prefix = format!(".{}.{kind}-", name_of(real));
    let Ok(entries) = std::fs::read_dir(parent_of(real)) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let pid: u32 = name.strip_prefix(&prefix)?.parse().ok()?;
            (pid != std::process::id()).then(|| (e.path(), pid))
        })
        .collect()
}

fn pid_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        // Without /proc only the age tells a dead run's folder.
        true
    }
}

fn is_stale(path: &Path, pid: u32) -> bool {
    let old = std::fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > STALE_AGE);
    !pid_alive(pid) || old
}

/// A run killed between the two renames of the fallback swap left `X` missing and the old
/// report at `.X.old-PID`: put it back.
fn recover(real: &Path) {
    if std::fs::symlink_metadata(real).is_ok() {
        return;
    }
    for (old, pid) in siblings(real, "old") {
        if is_stale(&old, pid) && std::fs::rename(&old, real).is_ok() {
            sync_dir(&parent_of(real));
            return;
        }
    }
}

/// Removes the staging folders (and set-aside old folders) of `X` that earlier, killed runs
/// left behind.
fn clean_stale(real: &Path) {
    for kind in ["tmp", "old"] {
        for (path, pid) in siblings(real, kind) {
            if is_stale(&path, pid) {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
    }
}

/// May `real` be replaced whole? Missing, empty and fleetsim's own folders may; any other
/// only with `force`; the working directory or a folder holding it never.
fn check_replaceable(shown: &Path, real: &Path, force: bool) -> Result<()> {
    let Ok(found) = entry_names(real) else {
        return Ok(());
    };
    let cwd = std::env::current_dir().and_then(|d| d.canonicalize());
    if cwd.is_ok_and(|cwd| cwd.starts_with(real)) {
        return Err(Error::Usage(format!(
            "--out {}: that is the working directory (or holds it), and replacing it would \
             delete everything in it; choose a new folder, e.g. --out reports/run",
            shown.display()
        )));
    }
    if found.is_empty() || force {
        return Ok(());
    }
    let foreign: Vec<String> = match marker_entries(real) {
        Some(listed) => found.difference(&listed).cloned().collect(),
        None => found.iter().cloned().collect(),
    };
    if foreign.is_empty() {
        return Ok(());
    }
    let mut list = foreign
        .iter()
        .take(5)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if foreign.len() > 5 {
        list.push_str(&format!(" and {} more", foreign.len() - 5));
    }
    Err(Error::Usage(format!(
        "--out {}: the folder holds files fleetsim did not write ({list}); fleetsim replaces \
         only an empty folder or one it wrote itself (marked by its {MARKER} file). Choose \
         another --out, move those files away, or add --force to replace the folder and \
         everything in it",
        shown.display()
    )))
}

/// The names in a folder, the marker itself left out.
fn entry_names(dir: &Path) -> std::io::Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().to_string();
        if name != MARKER {
            names.insert(name);
        }
    }
    Ok(names)
}

/// The entries a folder's marker says fleetsim wrote; `None` without a marker.
fn marker_entries(dir: &Path) -> Option<BTreeSet<String>> {
    let text = std::fs::read_to_string(dir.join(MARKER)).ok()?;
    if !text.starts_with("fleetsim ") {
        return None;
    }
    Some(
        text.lines()
            .filter_map(|l| l.strip_prefix("file: "))
            .map(String::from)
            .collect(),
    )
}

/// Lists `names` in the marker of `dir` too (when it has one), keeping its first lines: the
/// folder stays fleetsim's, and what `report` added is fleetsim's as well.
fn add_to_marker(dir: &Path, scratch: &Path, names: &[String]) -> Result<()> {
    let Some(listed) = marker_entries(dir) else {
        return Ok(());
    };
    let Ok(mut text) = std::fs::read_to_string(dir.join(MARKER)) else {
        return Ok(());
    };
    for name in names.iter().filter(|n| !listed.contains(*n)) {
        text.push_str(&format!("file: {name}\n"));
    }
    let tmp = scratch.join(MARKER);
    let _ = std::fs::remove_file(&tmp);
    std::fs::write(&tmp, text)
        .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
    sync_file(&tmp)?;
    std::fs::rename(&tmp, dir.join(MARKER))
        .map_err(|e| Error::io(format!("cannot update {}", dir.join(MARKER).display()), e))
}

fn write_marker(dir: &Path, entries: &BTreeSet<String>) -> Result<()> {
    let command: Vec<String> = std::env::args_os()
        .map(|a| shell_word(&a.to_string_lossy()))
        .collect();
    let mut text = format!(
        "fleetsim {}\ncommand: {}\n",
        env!("CARGO_PKG_VERSION"),
        command.join(" ")
    );
    for name in entries {
        text.push_str(&format!("file: {name}\n"));
    }
    let path = dir.join(MARKER);
    std::fs::write(&path, text)
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// An argument as a shell would need it, on one line.
fn shell_word(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        return arg.to_string();
    }
    let quoted: String = arg
        .chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect::<String>()
        .replace('\'', "'\\''");
    format!("'{quoted}'")
}

/// Moves `from` to `to`, atomically replacing whatever `to` is; returns where the old `to`
/// (if any) now is, for the caller to remove.
fn swap_in(from: &Path, to: &Path) -> Result<PathBuf> {
    let context = || format!("cannot move the report into {}", to.display());
    let to_is_dir = std::fs::symlink_metadata(to).is_ok_and(|m| m.is_dir());
    if !to_is_dir {
        // A missing target or a file: rename is one atomic step.
        std::fs::rename(from, to).map_err(|e| Error::io(context(), e))?;
        return Ok(from.to_path_buf());
    }
    match exchange(from, to) {
        Ok(()) => Ok(from.to_path_buf()),
        Err(e) if exchange_unsupported(&e) => swap_by_renames(from, to),
        Err(e) => Err(Error::io(context(), e)),
    }
}

/// The fallback of a file system without RENAME_EXCHANGE: the new folder is complete and
/// durable already; the old one steps aside to `.X.old-PID` (where a later run finds it if
/// this one is killed now) and the new one takes its place.
fn swap_by_renames(from: &Path, to: &Path) -> Result<PathBuf> {
    let context = || format!("cannot move the report into {}", to.display());
    let old = sibling(to, "old", std::process::id());
    let _ = std::fs::remove_dir_all(&old);
    std::fs::rename(to, &old).map_err(|e| Error::io(context(), e))?;
    if let Err(e) = std::fs::rename(from, to) {
        // Put the previous folder back: nothing is lost.
        let _ = std::fs::rename(&old, to);
        return Err(Error::io(context(), e));
    }
    Ok(old)
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are NUL-terminated strings that outlive the call; renameat2 reads
    // them and touches no memory of ours. The raw syscall works where the C library has no
    // wrapper (glibc < 2.28).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

fn exchange_unsupported(e: &std::io::Error) -> bool {
    #[cfg(target_os = "linux")]
    if let Some(code) = e.raw_os_error() {
        return [libc::EINVAL, libc::ENOSYS, libc::EOPNOTSUPP, libc::ENOTSUP].contains(&code);
    }
    e.kind() == std::io::ErrorKind::Unsupported
}

/// fsyncs every file and folder below `dir`, and `dir` itself, so that the swap publishes
/// data that is on disk.
fn sync_tree(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?;
        let kind = entry
            .file_type()
            .map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?;
        if kind.is_dir() {
            sync_tree(&entry.path())?;
        } else if kind.is_file() {
            sync_file(&entry.path())?;
        }
    }
    sync_dir(dir);
    Ok(())
}

fn sync_file(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// Makes a folder's entries durable. Best effort: some file systems refuse to fsync a folder,
/// and the files themselves are already synced.
fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("--out"), "--out");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's\n"), "'it'\\''s\u{FFFD}'");
    }

    #[test]
    fn exchange_swaps_two_folders() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        std::fs::write(a.join("new"), "").unwrap();
        std::fs::write(b.join("old"), "").unwrap();
        let left = swap_in(&a, &b).unwrap();
        assert!(b.join("new").is_file());
        assert!(left.join("old").is_file());
    }
}
