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
    fn missing_parent_is_an_error() {
        let err = apply("[a]\nb = 1\n", "t", &[("c.d".into(), "1".into())]).unwrap_err();
        assert!(err.to_string().contains("there is no `c`"), "{err}");
    }
}
