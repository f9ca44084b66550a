//! Scenario files: reading (`raw`), `--set` overrides (`overrides`), semantic validation
//! (`validate`) into the checked [`Scenario`] the simulator runs.
//!
//! ```text
//!  file.toml ──► overrides ──► serde (raw, spans) ──► validate ──► Scenario
//!                                   │                     │
//!                                   └──── InputError (file, key path, line:col, fix) ◄──┘
//! ```

pub mod catalog;
pub mod chaos;
pub mod collect;
pub mod dist;
pub mod inventory;
pub mod json_schema;
pub mod limits;
pub mod maintenance;
pub mod model;
pub mod overrides;
pub mod paths;
pub mod raw;
pub mod reference;
pub mod schema;
pub mod selector;
#[cfg(test)]
pub(crate) mod test_fleet;
pub mod unknown_keys;
pub mod validate;
pub mod validate_chaos;
pub mod validate_disruption;
pub mod validate_faults;
mod validate_mix;
pub mod validate_policy;
mod validate_population;
pub mod validate_release;
pub mod versions;
pub mod warn_durations;
pub mod warnings;

pub use model::Scenario;
pub use warnings::{warnings, Warning};

use crate::error::{Error, InputError, Result};
use std::path::Path;

/// The built-in reference scenario that `fleetsim run` uses when given no file.
pub const REFERENCE: &str = include_str!("../../scenarios/reference.toml");
pub const REFERENCE_LABEL: &str = "<built-in reference>";

/// Reads, overrides and validates a scenario file.
pub fn load_file(path: &Path, overrides: &[(String, String)]) -> Result<Scenario> {
    load_file_warned(path, overrides).map(|(sc, _)| sc)
}

/// [`load_file`], with the warnings of the plan (SPEC §3) that validated.
pub fn load_file_warned(
    path: &Path,
    overrides: &[(String, String)],
) -> Result<(Scenario, Vec<Warning>)> {
    let (label, text) = read_source(path)?;
    load_str_warned(&text, &label, &base_dir(path), overrides)
}

/// The label of the scenario read from standard input (`-` as the scenario path).
pub const STDIN_LABEL: &str = "<stdin>";

/// Standard input, read once: every command that reads the scenario again (a shard recording
/// its text, each point of a sweep) gets the same text.
static STDIN: std::sync::OnceLock<std::result::Result<String, String>> = std::sync::OnceLock::new();

/// A scenario's label and text: the file at `path`, or standard input for `-`.
pub fn read_source(path: &Path) -> Result<(String, String)> {
    let unreadable = |label: &str, e: &dyn std::fmt::Display| {
        Error::Input(vec![InputError {
            file: label.to_string(),
            key_path: String::new(),
            position: None,
            message: format!("cannot read the scenario: {e}"),
        }])
    };
    if path == Path::new("-") {
        let text = STDIN.get_or_init(|| {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map(|_| text)
                .map_err(|e| e.to_string())
        });
        return match text {
            Ok(t) => Ok((STDIN_LABEL.to_string(), t.clone())),
            Err(e) => Err(unreadable(STDIN_LABEL, e)),
        };
    }
    let label = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(&label, &e))?;
    Ok((label, text))
}

/// The folder a scenario's relative paths (inventory, empirical files) resolve against: the
/// scenario's own folder, or the working directory for standard input.
pub fn base_dir(path: &Path) -> std::path::PathBuf {
    if path == Path::new("-") {
        return ".".into();
    }
    path.parent().unwrap_or(Path::new(".")).to_path_buf()
}

/// The scenario text with `--set` overrides applied: what a shard records so that `merge` can
/// rebuild the exact scenario it ran.
pub fn effective_text(path: Option<&Path>, overrides: &[(String, String)]) -> Result<String> {
    match path {
        None => overrides::apply(REFERENCE, REFERENCE_LABEL, overrides),
        Some(p) => {
            let (label, text) = read_source(p)?;
            overrides::apply(&text, &label, overrides)
        }
    }
}

/// Validates scenario text. `label` names it in errors; `base_dir` resolves relative files.
pub fn load_str(
    text: &str,
    label: &str,
    base_dir: &Path,
    overrides: &[(String, String)],
) -> Result<Scenario> {
    parse(text, label, base_dir, overrides).map(|(sc, _)| sc)
}

/// [`load_str`], with the warnings of the plan (SPEC §3) that validated.
pub fn load_str_warned(
    text: &str,
    label: &str,
    base_dir: &Path,
    overrides: &[(String, String)],
) -> Result<(Scenario, Vec<Warning>)> {
    let (sc, applied) = parse(text, label, base_dir, overrides)?;
    let mut found = warnings(&sc, &applied, label);
    if !overrides.is_empty() {
        let lines = overrides::LineMap::new(text, &applied);
        for w in &mut found {
            w.position = w.position.and_then(|p| lines.original(p));
        }
    }
    Ok((sc, found))
}

/// The validated scenario and the text it was validated from (overrides applied).
fn parse(
    text: &str,
    label: &str,
    base_dir: &Path,
    overrides: &[(String, String)],
) -> Result<(Scenario, String)> {
    let applied = overrides::apply(text, label, overrides)?;
    let checked = parse_applied(&applied, label, base_dir);
    match checked {
        Err(Error::Input(errors)) if !overrides.is_empty() => Err(Error::Input(
            overrides::attribute(errors, overrides, text, &applied),
        )),
        other => other.map(|mut sc| {
            // Kept on the scenario so that the report (from `summary.json`) can say what
            // `validate` would have warned about, whichever command loaded it.
            sc.warnings = warnings(&sc, &applied, label)
                .into_iter()
                .map(|w| format!("{}: {}", w.key_path, w.message))
                .collect();
            (sc, applied)
        }),
    }
}

/// Parses and validates scenario text that has its overrides applied.
fn parse_applied(text: &str, label: &str, base_dir: &Path) -> Result<Scenario> {
    // serde stops at the first unknown key: every one of them is reported at once instead,
    // with the errors of the rest of the file (checked without them).
    let mut errors = unknown_keys::find(text, label);
    if errors.is_empty() {
        return parse_known(text, label, base_dir);
    }
    if let Some(rest) = unknown_keys::without(text, &errors) {
        if let Err(Error::Input(more)) = parse_known(&rest, label, base_dir) {
            let lines = overrides::LineMap::new(text, &rest);
            errors.extend(more.into_iter().map(|mut e| {
                e.position = e.position.and_then(|p| lines.original(p));
                e
            }));
        }
    }
    Err(Error::Input(errors))
}

/// Parses and validates text in which every key is known.
fn parse_known(text: &str, label: &str, base_dir: &Path) -> Result<Scenario> {
    // toml 0.9+ parses the document before deserializing it, so a syntax error (no key path)
    // comes from `parse` and a shape error (with one) from serde; both carry a span.
    let error = |key_path: String, inner: toml::de::Error| {
        let message = plain_words(&friendly_serde_message(inner.message()), &key_path);
        Error::Input(vec![InputError {
            file: label.to_string(),
            position: inner.span().map(|s| line_col(text, s.start)),
            key_path,
            message,
        }])
    };
    let de = toml::Deserializer::parse(text).map_err(|e| error(String::new(), e))?;
    let raw: raw::RawScenario = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = key_path(&e.path().to_string());
        error(
            if path == "." { String::new() } else { path },
            e.into_inner(),
        )
    })?;
    validate::validate(raw, text, label, base_dir)
}

/// The dotted key path of a serde error, without the private field names through which `toml`
/// deserializes a `Spanned` value (`simulation.horizon`, not
/// `simulation.horizon.$__serde_spanned_private_value`).
fn key_path(serde_path: &str) -> String {
    serde_path
        .split('.')
        .filter(|part| !part.starts_with("$__serde_spanned"))
        .collect::<Vec<_>>()
        .join(".")
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// ` (did you mean `x`?)` when a candidate is close to `word`, else empty.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let best = candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min();
    best.map_or(String::new(), |(_, c)| format!(" (did you mean `{c}`?)"))
}

/// Turns serde's "unknown field `x`, expected one of `a`, `b`" into a message with a
/// did-you-mean, and keeps other messages as they are.
fn friendly_serde_message(message: &str) -> String {
    let message = message.trim();
    for (prefix, noun) in [("unknown field `", "key"), ("unknown variant `", "value")] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let Some((word, tail)) = rest.split_once('`') else {
                break;
            };
            let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
            let hint = did_you_mean(word, expected.iter().copied());
            let valid = if expected.is_empty() {
                "none here".to_string()
            } else {
                expected.join(", ")
            };
            return format!("unknown {noun} `{word}`{hint}; valid: {valid}");
        }
    }
    // Rust's type names mean nothing to the author of a scenario.
    for (rust, plain) in [
        ("expected f64", "expected a number"),
        ("expected u64", "expected a whole number ≥ 0"),
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        ("expected usize", "expected a whole number ≥ 0"),
        ("expected i64", "expected a whole number"),
    ] {
        if let Some(head) = message.strip_suffix(rust) {
            return format!("{head}{plain}");
        }
    }
    message.to_string()
}

/// serde's and toml's words for types (`struct RawRate`, `a sequence`, `wanted string or
/// table`) in the words of a scenario's author, using what the schema says the key holds.
fn plain_words(message: &str, key_path: &str) -> String {
    let prop = || reference::property_at(json_schema::schema(), key_path);
    if message.contains("wanted string or table") || message.contains("expected enum ") {
        if let Some(p) = prop().filter(|p| !p.names.is_empty()) {
            let names: Vec<String> = p.names.iter().map(|v| format!("\"{v}\"")).collect();
            return format!("expected one of {}", names.join(", "));
        }
    }
    let mut out = message.to_string();
    if let Some(at) = out.find("expected struct ") {
        let example = prop()
            .and_then(|p| p.example)
            .map(|e| {
                format!(
                    ", e.g. {{{}",
                    reference::toml_value(&e).trim_start_matches('{')
                )
            })
            .unwrap_or_default();
        out = format!("{}expected a table{example}", &out[..at]);
    }
    for (rust, plain) in [
        ("expected a sequence", "expected a list [ … ]"),
        ("expected a map", "expected a table { … }"),
        ("invalid type: sequence", "invalid type: a list"),
        ("invalid type: map", "invalid type: a table"),
        ("floating point `", "number `"),
        ("wanted string or table", "expected a string"),
    ] {
        out = out.replace(rust, plain);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_typos() {
        assert_eq!(
            did_you_mean("percnt", ["percent", "count"]),
            " (did you mean `percent`?)"
        );
        assert_eq!(did_you_mean("zzzzzz", ["percent", "count"]), "");
    }

    #[test]
    fn serde_unknown_field_message() {
        let m =
            friendly_serde_message("unknown field `bakee`, expected one of `name`, `bake`, `gate`");
        assert_eq!(
            m,
            "unknown key `bakee` (did you mean `bake`?); valid: name, bake, gate"
        );
    }

    /// Regression: a bad value under a `Spanned` key was reported at
    /// `simulation.horizon.$__serde_spanned_private_value`.
    #[test]
    fn key_paths_of_spanned_values_read_as_written() {
        let text = "[simulation]\nname = \"x\"\nhorizon = \"2x\"\n[policy]\ntarget = \"1\"\n";
        match load_str(text, "t.toml", Path::new("."), &[]) {
            Err(Error::Input(e)) => {
                assert_eq!(e[0].key_path, "simulation.horizon");
                assert_eq!(e[0].position, Some((3, 11)));
            }
            other => panic!("expected an input error, got {other:?}"),
        }
    }

    #[test]
    fn line_col_is_one_based() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }
}
