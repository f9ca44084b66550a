//! `--set PATH=VALUE`: overrides of any scenario value, applied to the document before parsing so
//! that an overridden value is validated exactly like a written one.
//!
//! Paths are dotted keys with indexes for arrays of tables: `policy.rate.per_minute`,
//! `policy.stage[1].percent`, `population[0].count`. An entry may be named instead of counted:
//! `policy.stage[canary].bake`, `population[eu-cameras].count`, `release[4.2.0].size_mb` (the
//! entry whose `name`, or for a release `version`, is that; a name may hold dots). A value is read as TOML (`30`, `"2d"`,
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
    // Errors name entries by index; an override may have named them (`stage[canary]`).
    let canonical: Vec<String> = overrides
        .iter()
        .map(|(p, _)| canonical(original, p).unwrap_or_else(|| p.clone()))
        .collect();
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
            let hit = (0..overrides.len())
                .rev()
                .find(|&i| covers(&canonical[i], &e.key_path));
            match hit.map(|i| (&overrides[i].0, &overrides[i].1, &canonical[i])) {
                Some((path, value, canon)) => {
                    if e.key_path == *canon {
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

/// Which entry of a list a step picks.
#[derive(Clone, Debug, PartialEq)]
enum Pick {
    Index(usize),
    /// The entry whose `name` (a release: `version`) is this.
    Named(String),
}

/// One step of a path: a key and an optional entry of the list it holds.
type Step = (String, Option<Pick>);

/// Splits `a.b[2].c[canary].d`: keys at dots, entries in brackets (which may hold dots).
fn steps(path: &str) -> Result<Vec<Step>, String> {
    let mut out = Vec::new();
    let mut rest = path;
    loop {
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let key = &rest[..end];
        if key.is_empty() {
            return Err(format!("`{path}` has an empty key"));
        }
        rest = &rest[end..];
        let pick = match rest.strip_prefix('[') {
            Some(inner) => {
                let close = inner.find(']').ok_or_else(|| {
                    format!("`{path}`: an entry is written `key[N]` or `key[NAME]`")
                })?;
                let (entry, after) = (inner[..close].trim(), &inner[close + 1..]);
                rest = after;
                let entry = entry.trim_matches(|c| c == '"' || c == '\'');
                if entry.is_empty() {
                    return Err(format!("`{path}`: `{key}[]` needs an index or a name"));
                }
                Some(match entry.parse() {
                    Ok(i) => Pick::Index(i),
                    Err(_) => Pick::Named(entry.to_string()),
                })
            }
            None => None,
        };
        out.push((key.to_string(), pick));
        match rest.strip_prefix('.') {
            Some(r) => rest = r,
            None if rest.is_empty() => return Ok(out),
            None => return Err(format!("`{path}`: expected `.` after `]`")),
        }
    }
}

/// The name an entry of a list goes by: its `name`, or a release's `version`.
fn entry_name(entry: &dyn TableLike) -> Option<&str> {
    ["name", "version"]
        .iter()
        .find_map(|k| entry.get(k).and_then(Item::as_str))
}

/// The index of the entry named `name` among `entries`, or an error listing the names.
fn find_named<'a>(
    entries: impl Iterator<Item = Option<&'a str>>,
    name: &str,
    key: &str,
    path: &str,
) -> Result<usize, String> {
    let names: Vec<&str> = entries.map(|n| n.unwrap_or("")).collect();
    if let Some(i) = names.iter().position(|n| n.trim() == name) {
        return Ok(i);
    }
    let hint = super::did_you_mean(name, names.iter().copied());
    let listed: Vec<&str> = names.iter().copied().filter(|n| !n.is_empty()).collect();
    Err(format!(
        "`{path}`: no `{key}` entry is named `{name}`{hint}; named: {}",
        if listed.is_empty() {
            "none".to_string()
        } else {
            listed.join(", ")
        }
    ))
}

/// The entries of a list, as tables.
fn entry_names(item: &Item) -> Vec<Option<&str>> {
    match item {
        Item::ArrayOfTables(a) => a.iter().map(|t| entry_name(t)).collect(),
        Item::Value(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_inline_table().and_then(|t| entry_name(t)))
            .collect(),
        _ => vec![],
    }
}

/// `path` with every named entry replaced by its index in `text` (`policy.stage[canary].bake`
/// → `policy.stage[1].bake`): the form validation errors use. `None` when a step does not
/// resolve (the override itself then fails with the reason).
pub fn canonical(text: &str, path: &str) -> Option<String> {
    let doc: DocumentMut = text.parse().ok()?;
    let mut table: &dyn TableLike = doc.as_table();
    let mut out = Vec::new();
    let steps = steps(path).ok()?;
    for (n, (key, pick)) in steps.iter().enumerate() {
        let last = n + 1 == steps.len();
        let item = table.get(key);
        let index = match pick {
            None => None,
            Some(Pick::Index(i)) => Some(*i),
            Some(Pick::Named(name)) => {
                Some(find_named(entry_names(item?).into_iter(), name, key, path).ok()?)
            }
        };
        out.push(match index {
            Some(i) => format!("{key}[{i}]"),
            None => key.clone(),
        });
        if last {
            break;
        }
        table = match (item?, index) {
            (Item::ArrayOfTables(a), Some(i)) => a.get(i)?,
            (Item::Value(Value::Array(a)), Some(i)) => a.get(i)?.as_inline_table()?,
            (other, None) => other.as_table_like()?,
            _ => return None,
        };
    }
    Some(out.join("."))
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
    steps: &[Step],
    value: Value,
    path: &str,
) -> Result<(), String> {
    let ((key, pick), rest) = steps.split_first().ok_or("empty path")?;
    if rest.is_empty() && pick.is_none() {
        table.insert(key, Item::Value(value));
        return Ok(());
    }
    let child = table
        .get_mut(key)
        .ok_or_else(|| format!("`{path}`: there is no `{key}` to override"))?;
    let index = match pick {
        None => None,
        Some(Pick::Index(i)) => Some(*i),
        Some(Pick::Named(name)) => {
            Some(find_named(entry_names(child).into_iter(), name, key, path)?)
        }
    };
    let Some(i) = index else {
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
    fn entries_are_addressed_by_name_as_well_as_index() {
        let src = "[[population]]\nname = \"eu-cameras\"\ncount = 5\n[[release]]\nversion = \"4.2.0\"\nsize_mb = 1\n[policy]\nstage = [{ name = \"canary\", percent = 1 }]\n";
        let out = apply(
            src,
            "t",
            &[
                ("population[eu-cameras].count".into(), "500".into()),
                ("release[4.2.0].size_mb".into(), "9".into()),
                ("policy.stage[\"canary\"].bake".into(), "2d".into()),
            ],
        )
        .unwrap();
        let v: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(v["population"][0]["count"].as_integer(), Some(500));
        assert_eq!(v["release"][0]["size_mb"].as_integer(), Some(9));
        assert_eq!(v["policy"]["stage"][0]["bake"].as_str(), Some("2d"));
        assert_eq!(
            canonical(src, "release[4.2.0].size_mb").as_deref(),
            Some("release[0].size_mb")
        );
        let err = apply(
            src,
            "t",
            &[("population[eu-camera].count".into(), "1".into())],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("no `population` entry is named `eu-camera` (did you mean `eu-cameras`?); named: eu-cameras"),
            "{err}"
        );
    }

    #[test]
    fn missing_parent_is_an_error() {
        let err = apply("[a]\nb = 1\n", "t", &[("c.d".into(), "1".into())]).unwrap_err();
        assert!(err.to_string().contains("there is no `c`"), "{err}");
    }
}
