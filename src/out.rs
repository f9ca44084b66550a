//! What the commands print. `println!` panics when stdout cannot be written; these functions
//! return an error instead, so that no output problem ends in a panic (exit 101).
//!
//! - A reader that closes early (`fleetsim run | head -1`, `| true`) is not an error: like
//!   ripgrep, fleetsim treats a broken pipe as "nobody wants the rest". What was left to print
//!   is dropped, but the command still finishes its work — its report folder, `--junit` file —
//!   and exits with the code it would have had (0 for a good run, 1 for a failed check), so a
//!   CI script with `set -o pipefail` sees the true verdict.
//! - Any other write error (`> /dev/full`, a full disk) is an I/O error: exit 2 with a message.
//! - Notes on stderr (warnings, timings) are best effort: a closed stderr loses them silently.

use crate::error::{Error, Result};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write to stdout found the pipe closed; later writes are skipped.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Prints `text` on stdout as it is (`print!`).
pub fn text(text: &str) -> Result<()> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(Error::io("cannot write to stdout", e)),
    }
}

/// Prints `line` and a newline on stdout (`println!`).
pub fn line(line: &str) -> Result<()> {
    text(&format!("{line}\n"))
}

/// Set when `--format json` was asked for: errors and warnings on stderr are then JSON, one
/// object a line (an [`ErrorRecord`](crate::error::ErrorRecord)), so that an editor or a CI
/// bot can place them; stdout keeps the command's document.
static JSON_ERRORS: AtomicBool = AtomicBool::new(false);

pub fn set_json_errors(on: bool) {
    JSON_ERRORS.store(on, Ordering::Relaxed);
}

/// Prints an error on stderr: `error: …` (with its causes), or its JSON records.
pub fn error(e: &Error) {
    if JSON_ERRORS.load(Ordering::Relaxed) {
        for r in e.records() {
            note(&crate::report::versioned::line(&r));
        }
    } else {
        note(&format!("error: {e:#}"));
    }
}

/// Prints a scenario warning on stderr: `warning: …`, or its JSON record.
pub fn warning(w: &crate::error::InputError) {
    if JSON_ERRORS.load(Ordering::Relaxed) {
        let r = crate::error::ErrorRecord::input(w, "warning");
        note(&crate::report::versioned::line(&r));
    } else {
        note(&format!("warning: {w}"));
    }
}

/// Prints `line` and a newline on stderr; a stderr that cannot be written loses it.
pub fn note(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
