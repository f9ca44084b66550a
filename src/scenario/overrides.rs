//! `--set PATH=VALUE`: overrides of any scenario value, applied to the document before parsing so
//! that an overridden value is validated exactly like a written one.
//!
//! Paths are dotted keys with indexes for arrays of tables: `policy.rate.per_minute`,
//! `policy.stage[1].percent`, `population[0].count`. A value is read as TOML (`30`, `"2d"`,
//! `[1, 2]`, `{ per_minute = 5 }`); anything that is not valid TOML is taken as a string, so
//! `--set policy.window=14d` works without shell quoting.

use crate::error::{Error, InputError, Result};
use toml_edit::{DocumentMut, Item, TableLike, Value};

pub fn apply(text: &str, label: &str, overrides: &[(String, String)]) -> Result<String> {
    if overrides.is_empty() {
        return Ok(text.to_string());
    }
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let position = e.span().map(|s| super::line_col(text, s.start));
        Error::Input(vec![InputError {
            file: label.into(),
            key_path: String::new(),
            position,
            message: e.message().to_string(),
        }])
    })?;
    for (path, value) in overrides {
        set(&mut doc, path, value).map_err(|message| {
            Error::Input(vec![InputError {
                file: format!("--set {path}={value}"),
                key_path: path.clone(),
                position: None,
                message,
            }])
        })?;
    }
    Ok(doc.to_string())
}

/// How an override reads in a message: the flag the user typed.
fn flag_label(path: &str, value: &str) -> String {
    match path {
        "simulation.seed" => format!("--seed {value}"),
        "simulation.replications" => format!("--replications {value}"),
        _ => format!("--set {path}={value}"),
    }
}

/// Points every error about an overridden value (or about something inside it) at the flag
/// that set it, not at a line of the regenerated document; the other errors keep their place
/// in the file as written (`LineMap`: an inserted key shifts the lines below it).
pub fn attribute(
    errors: Vec<InputError>,
    overrides: &[(String, String)],
    original: &str,
    applied: &str,
) -> Vec<InputError> {
    let lines = LineMap::new(original, applied);
    let covers = |path: &str, key: &str| {
        key == path
            || key
                .strip_prefix(path)
                .is_some_and(|rest| rest.starts_with(['.', '[']))
    };
    errors
        .into_iter()
        .map(|mut e| {
            // The last override of a path is the one that counts.
            match overrides.iter().rev().find(|(p, _)| covers(p, &e.key_path)) {
                Some((path, value)) => {
                    if e.key_path == *path {
                        e.key_path.clear();
                    }
                    e.file = flag_label(path, value);
                    e.position = None;
                }
                None => e.position = e.position.and_then(|p| lines.original(p)),
            }
            e
        })
        .collect()
}

/// For each line of the text with overrides applied, the line of the text as written it came
/// from. Overrides change a value in place or insert a key line, and leave the rest of the
/// text byte for byte, so a greedy alignment with a short look-ahead recovers it.
pub struct LineMap {
    /// 0-based: applied line → original line (`None` for an inserted line).
    map: Vec<Option<usize>>,
}

impl LineMap {
    const LOOK_AHEAD: usize = 16;

    pub fn new(original: &str, applied: &str) -> LineMap {
        let a: Vec<&str> = original.lines().collect();
        let b: Vec<&str> = applied.lines().collect();
        let mut map = vec![None; b.len()];
        let (mut i, mut j) = (0, 0);
        while j < b.len() {
            let same_next = a.get(i + 1) == b.get(j + 1);
            if i < a.len() && (a[i] == b[j] || same_next) {
                // The same line, or one whose value an override changed.
                map[j] = Some(i);
                (i, j) = (i + 1, j + 1);
                continue;
            }
            let inserted =
                (1..Self::LOOK_AHEAD).find(|&d| i < a.len() && b.get(j + d) == Some(&a[i]));
            let deleted = (1..Self::LOOK_AHEAD).find(|&d| a.get(i + d) == Some(&b[j]));
            match (inserted, deleted) {
                (Some(d), e) if e.is_none_or(|e| d <= e) => j += d,
                (_, Some(d)) => i += d,
                _ => {
                    map[j] = (i < a.len()).then_some(i);
                    (i, j) = (i + 1, j + 1);
                }
            }
        }
        LineMap { map }
    }

    /// The 1-based position in the text as written of a position in the applied text; `None`
    /// for a line the overrides inserted.
    pub fn original(&self, (line, col): (usize, usize)) -> Option<(usize, usize)> {
        let l = self.map.get(line.checked_sub(1)?).copied().flatten()?;
        Some((l + 1, col))
    }
}

/// One step of a path: a key and an optional array index.
fn steps(path: &str) -> Result<Vec<(String, Option<usize>)>, String> {
    path.split('.')
        .map(|part| {
            let (key, index) = match part.split_once('[') {
                Some((k, rest)) => {
                    let i = rest
                        .strip_suffix(']')
                        .and_then(|n| n.parse().ok())
                        .ok_or_else(|| format!("`{part}`: an index is written `key[N]`"))?;
                    (k, Some(i))
                }
                None => (part, None),
            };
            if key.is_empty() {
                return Err(format!("`{path}` has an empty key"));
            }
            Ok((key.to_string(), index))
        })
        .collect()
}

fn parse_value(text: &str) -> Value {
    let doc = format!("v = {text}");
    match doc.parse::<DocumentMut>() {
        Ok(d) => d
            .get("v")
            .and_then(|i| i.as_value())
            .cloned()
            .unwrap_or_else(|| Value::from(text)),
        Err(_) => Value::from(text),
    }
}

fn set(doc: &mut DocumentMut, path: &str, value: &str) -> Result<(), String> {
    let steps = steps(path)?;
    set_in(doc.as_table_mut(), &steps, parse_value(value), path)
}

/// Walks `steps` below a table (standard or inline, through `TableLike`) and sets the last one.
fn set_in(
    table: &mut dyn TableLike,
    steps: &[(String, Option<usize>)],
    value: Value,
    path: &str,
) -> Result<(), String> {
    let ((key, index), rest) = steps.split_first().ok_or("empty path")?;
    if rest.is_empty() && index.is_none() {
        table.insert(key, Item::Value(value));
        return Ok(());
    }
    let child = table
        .get_mut(key)
        .ok_or_else(|| format!("`{path}`: there is no `{key}` to override"))?;
    let Some(i) = *index else {
        let inner = child
            .as_table_like_mut()
            .ok_or_else(|| format!("`{path}`: `{key}` is not a table"))?;
        return set_in(inner, rest, value, path);
    };
    let out_of_range =
        |len: usize| format!("`{path}`: index {i} of `{key}` is out of range (it has {len})");
    match child {
        Item::ArrayOfTables(a) => {
            let len = a.len();
            let t = a.get_mut(i).ok_or_else(|| out_of_range(len))?;
            if rest.is_empty() {
                return Err(format!(
                    "`{path}`: a whole table cannot be replaced; set one of its keys"
                ));
            }
            set_in(t, rest, value, path)
        }
        Item::Value(Value::Array(a)) => {
            let len = a.len();
            let slot = a.get_mut(i).ok_or_else(|| out_of_range(len))?;
            if rest.is_empty() {
                *slot = value;
                return Ok(());
            }
            let inner = slot
                .as_inline_table_mut()
                .ok_or_else(|| format!("`{path}`: entry {i} of `{key}` is not a table"))?;
            set_in(inner, rest, value, path)
        }
        _ => Err(format!(
            "`{path}`: `{key}` is not a list that can be indexed"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_nested_and_indexed_values() {
        let src = "[simulation]\nname = \"x\"\n[policy]\nrate = { per_minute = 30 }\n[[policy.stage]]\nname = \"a\"\npercent = 1\n[[policy.stage]]\nname = \"b\"\npercent = 5\n";
        let out = apply(
            src,
            "t",
            &[
                ("policy.rate.per_minute".into(), "60".into()),
                ("policy.stage[1].percent".into(), "50".into()),
                ("policy.window".into(), "14d".into()),
            ],
        )
        .unwrap();
        let v: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(v["policy"]["rate"]["per_minute"].as_integer(), Some(60));
        assert_eq!(v["policy"]["stage"][1]["percent"].as_integer(), Some(50));
        assert_eq!(v["policy"]["window"].as_str(), Some("14d"));
    }

    #[test]
    fn line_map_sees_through_inserted_and_changed_lines() {
        let original = "[a]\nx = 1\n\n[b]\ny = 2\nz = 3\n";
        let applied = apply(
            original,
            "t",
            &[("a.w".into(), "5".into()), ("b.y".into(), "7".into())],
        )
        .unwrap();
        let map = LineMap::new(original, &applied);
        let line_of =
            |needle: &str| applied.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
        assert_eq!(map.original((line_of("z"), 1)), Some((6, 1)));
        assert_eq!(map.original((line_of("y"), 5)), Some((5, 5)));
        assert_eq!(map.original((line_of("[b]"), 1)), Some((4, 1)));
        assert_eq!(map.original((line_of("w"), 1)), None);
    }

    #[test]
    fn missing_parent_is_an_error() {
        let err = apply("[a]\nb = 1\n", "t", &[("c.d".into(), "1".into())]).unwrap_err();
        assert!(err.to_string().contains("there is no `c`"), "{err}");
    }
}
