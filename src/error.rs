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

/// One problem as data (`--format json`): the fields an editor or a CI bot needs to place it.
/// `line` and `column` are 1-based and `null` when unknown, `key_path` is `null` for a
/// whole-file or command-line problem, and `valid` is what the message says would be valid
/// (the text after `valid:`, or clap's possible values), when it says so.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ErrorRecord {
    /// `error` or `warning`.
    pub severity: &'static str,
    /// `input` (a scenario or override), `usage` (a flag), `limit`, `io` or `bug`.
    pub kind: &'static str,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub key_path: Option<String>,
    pub message: String,
    pub valid: Option<String>,
}

impl ErrorRecord {
    /// A scenario problem (an error, or a warning with `severity` "warning").
    pub fn input(e: &InputError, severity: &'static str) -> ErrorRecord {
        ErrorRecord {
            severity,
            kind: "input",
            file: Some(e.file.clone()),
            line: e.position.map(|p| p.0),
            column: e.position.map(|p| p.1),
            key_path: (!e.key_path.is_empty()).then(|| e.key_path.clone()),
            valid: valid_part(&e.message),
            message: e.message.clone(),
        }
    }

    fn other(kind: &'static str, message: String) -> ErrorRecord {
        ErrorRecord {
            severity: "error",
            kind,
            file: None,
            line: None,
            column: None,
            key_path: None,
            valid: valid_part(&message),
            message,
        }
    }
}

/// What a message says would be valid: `…; valid: a, b, c` or clap's `[possible values: a, b]`.
fn valid_part(message: &str) -> Option<String> {
    if let Some((_, rest)) = message.split_once("[possible values: ") {
        return rest.split_once(']').map(|(v, _)| v.to_string());
    }
    let (_, rest) = message.rsplit_once("valid: ")?;
    Some(rest.lines().next().unwrap_or("").trim().to_string())
}

impl Error {
    /// The error as records, one per problem (a scenario can have several).
    pub fn records(&self) -> Vec<ErrorRecord> {
        match self {
            Error::Input(errors) => errors
                .iter()
                .map(|e| ErrorRecord::input(e, "error"))
                .collect(),
            // clap's usage text follows the message after a blank line; the record keeps the
            // message (`--help` shows the usage).
            Error::Usage(text) => {
                let message = text.split("\n\n").next().unwrap_or(text).trim().to_string();
                let mut record = ErrorRecord::other("usage", message);
                record.valid = record.valid.or_else(|| valid_part(text));
                vec![record]
            }
            Error::Limit(_) => vec![ErrorRecord::other("limit", self.to_string())],
            Error::Invariant { .. } => vec![ErrorRecord::other("bug", self.to_string())],
            Error::Io { .. } => vec![ErrorRecord::other("io", format!("{self:#}"))],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_takes_what_is_valid_from_the_message() {
        assert_eq!(
            valid_part("unknown key `bakee` (did you mean `bake`?); valid: name, bake, gate"),
            Some("name, bake, gate".to_string())
        );
        assert_eq!(
            valid_part(
                "invalid value 'yaml' for '--format <FORMAT>'\n  [possible values: table, json]"
            ),
            Some("table, json".to_string())
        );
        assert_eq!(valid_part("120 is more than 100"), None);
        let e = Error::Usage("invalid value 'x'\n\nUsage: fleetsim run\n".into());
        let r = &e.records()[0];
        assert_eq!((r.kind, r.message.as_str()), ("usage", "invalid value 'x'"));
    }
}
