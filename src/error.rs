//! Typed errors of the library. Every variant says what went wrong, where, and how to fix it;
//! none leaves partial state behind (reports are written atomically, see `report`).

use std::fmt;

/// One problem in a scenario file or a command-line value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    /// Dotted key path, e.g. `policy.stage[2].percent`; empty for a whole-file problem.
    pub key_path: String,
    /// 1-based line and column, when the parser knows them.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        if !self.key_path.is_empty() {
            write!(f, ": {}", self.key_path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Everything the library can fail with. All variants are fatal for the command that hit them
/// and leave no output behind; the binary maps each to an exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario (or an override of it) is invalid. Exit code 2.
    #[error("{}", join(.0))]
    Input(Vec<InputError>),
    /// A command-line argument is invalid. Exit code 2.
    #[error("{0}")]
    Usage(String),
    /// A run would exceed a limit (devices, events, horizon, memory). Exit code 2.
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// The simulator broke one of its own invariants: a bug in fleetsim, not in the input.
    /// Exit code 2; the seed and replication reproduce it.
    #[error("simulator bug: {what} (seed {seed}, replication {replication}); please report it with the scenario")]
    Invariant {
        seed: u64,
        replication: u64,
        what: String,
    },
    /// Reading input or writing the report failed. Exit code 2.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

fn join(errors: &[InputError]) -> String {
    let mut out = errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    if errors.len() > 1 {
        out.push_str(&format!("\n({} problems)", errors.len()));
    }
    out
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
