//! Every unknown key of a scenario, found at once. serde stops at the first key a
//! `deny_unknown_fields` struct does not know, so a file with three typos took three runs to
//! fix; this pass walks the document against the scenario's JSON Schema ([`super::schema`],
//! generated from the same raw types) and reports each key no table of the file accepts, with
//! its position and a did-you-mean, before serde reads the file. The file is then checked
//! without those keys, so that its other errors come in the same report.
//!
//! Only tables whose keys the schema fixes (the raw structs) are checked; maps of names
//! (`[connectivity.NAME]`), selectors and distribution tables are left to the parser and to
//! `validate`, which report their own keys.

use crate::error::InputError;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use toml::Spanned;

/// A TOML document reduced to its shape: tables with their keys' positions, arrays, leaves.
enum Node {
    Table(Vec<(Spanned<String>, Node)>),
    Array(Vec<Node>),
    Leaf,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

macro_rules! leaf {
    ($($name:ident: $t:ty),*) => {
        $(fn $name<E: serde::de::Error>(self, _: $t) -> Result<Node, E> {
            Ok(Node::Leaf)
        })*
    };
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a TOML value")
    }
    leaf!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            entries.push((key, map.next_value::<Node>()?));
        }
        Ok(Node::Table(entries))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }
}

/// The unknown keys of `text`, in the order they appear. Text that does not parse gives none:
/// the parser reports its syntax error.
pub fn find(text: &str, label: &str) -> Vec<InputError> {
    let Ok(doc) = toml::Deserializer::parse(text).and_then(Node::deserialize) else {
        return vec![];
    };
    let root = super::json_schema::schema();
    let mut found = Vec::new();
    walk(root, root, &doc, "", &mut found);
    found.sort_by_key(|(offset, _, _)| *offset);
    found
        .into_iter()
        .map(|(offset, key_path, message)| InputError {
            file: label.to_string(),
            key_path,
            position: Some(super::line_col(text, offset)),
            message,
        })
        .collect()
}

/// `text` without the keys `found` names, so that the rest of the file can be checked too and
/// its errors reported with the unknown keys. `None` when a key cannot be found again (a quoted
/// key holding a dot): then only the unknown keys are reported.
pub fn without(text: &str, found: &[InputError]) -> Option<String> {
    let mut doc: toml_edit::DocumentMut = text.parse().ok()?;
    for e in found {
        let (parent, key) = match e.key_path.rsplit_once('.') {
            Some((p, k)) => (Some(p), k),
            None => (None, e.key_path.as_str()),
        };
        let mut table: &mut dyn toml_edit::TableLike = doc.as_table_mut();
        for step in parent.into_iter().flat_map(|p| p.split('.')) {
            table = descend(table, step)?;
        }
        table.remove(key)?;
    }
    Some(doc.to_string())
}

/// The table below `table` at one step of a key path: `key` or `key[i]`.
fn descend<'a>(
    table: &'a mut dyn toml_edit::TableLike,
    step: &str,
) -> Option<&'a mut dyn toml_edit::TableLike> {
    use toml_edit::{Item, Value as V};
    let (key, index) = match step.split_once('[') {
        Some((k, rest)) => (k, Some(rest.strip_suffix(']')?.parse::<usize>().ok()?)),
        None => (step, None),
    };
    let item = table.get_mut(key)?;
    match (item, index) {
        (Item::ArrayOfTables(a), Some(i)) => Some(a.get_mut(i)?),
        (Item::Value(V::Array(a)), Some(i)) => Some(a.get_mut(i)?.as_inline_table_mut()?),
        (other, None) => other.as_table_like_mut(),
        _ => None,
    }
}

fn walk(
    root: &Value,
    schema: &Value,
    node: &Node,
    path: &str,
    found: &mut Vec<(usize, String, String)>,
) {
    let schema = super::reference::resolve(root, schema);
    // A value of several shapes (`retry`: a table or an array of tables): the one branch of
    // its shape. Several tables of one shape (distributions) are left to the parser.
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
        let want = match node {
            Node::Table(_) => "object",
            Node::Array(_) => "array",
            Node::Leaf => return,
        };
        let mut of_shape = branches
            .iter()
            .map(|b| super::reference::resolve(root, b))
            .filter(|b| b.get("type").and_then(Value::as_str) == Some(want));
        if let (Some(b), None) = (of_shape.next(), of_shape.next()) {
            walk(root, b, node, path, found);
        }
        return;
    }
    match node {
        Node::Table(entries) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
            for (key, child) in entries {
                let name = key.get_ref();
                let child_path = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                match props.and_then(|p| p.get(name)) {
                    Some(s) => walk(root, s, child, &child_path, found),
                    None if closed => {
                        let valid: Vec<&str> = props
                            .into_iter()
                            .flatten()
                            .map(|(k, _)| k.as_str())
                            .collect();
                        found.push((key.span().start, child_path, unknown(name, &valid)));
                    }
                    // A map of names: each value has the map's schema.
                    None => match schema.get("additionalProperties") {
                        Some(s @ Value::Object(_)) if props.is_none() => {
                            walk(root, s, child, &child_path, found)
                        }
                        _ => {}
                    },
                }
            }
        }
        Node::Array(items) => {
            if let Some(s) = schema.get("items").filter(|s| s.is_object()) {
                for (i, item) in items.iter().enumerate() {
                    walk(root, s, item, &format!("{path}[{i}]"), found);
                }
            }
        }
        Node::Leaf => {}
    }
}

/// The message serde's unknown-field error gets in `friendly_serde_message`, with the same
/// did-you-mean.
fn unknown(word: &str, valid: &[&str]) -> String {
    let hint = super::did_you_mean(word, valid.iter().copied());
    let valid = if valid.is_empty() {
        "none here".to_string()
    } else {
        valid.join(", ")
    };
    format!("unknown key `{word}`{hint}; valid: {valid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"[simulation]
name = "x"
horizon = "10d"
replicatons = 3

[[population]]
name = "p"
count = 10
firmware = "1.0.0"
connectivity = "c"
storage_free_mb = { dist = "uniform", min = 1, max = 2 }
tags = { anything = "goes" }

[connectivity.c]
online = "1h"
offline = "1h"
check_in = "5m"
bandwidth_kbps = 100
metred = true

[policy]
target = "1.0.0"
rate = { per_minute = 5, facter = 2 }
[[policy.stage]]
name = "all"
percent = 100
bakee = "1d"
select = { region = "eu", not = { model = "m" } }
"#;

    #[test]
    fn every_unknown_key_is_found_with_its_place() {
        let found = find(TEXT, "t.toml");
        let got: Vec<(&str, (usize, usize))> = found
            .iter()
            .map(|e| (e.key_path.as_str(), e.position.unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                ("simulation.replicatons", (4, 1)),
                ("connectivity.c.metred", (19, 1)),
                ("policy.rate.facter", (23, 26)),
                ("policy.stage[0].bakee", (27, 1)),
            ]
        );
        assert!(
            found[0].message.contains("did you mean `replications`?"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn without_the_unknown_keys_the_rest_is_left_as_written() {
        let rest = without(TEXT, &find(TEXT, "t.toml")).unwrap();
        assert!(find(&rest, "t.toml").is_empty(), "{rest}");
        assert!(rest.contains("rate = { per_minute = 5}"), "{rest}");
        assert!(rest.contains("select = { region = \"eu\", not = { model = \"m\" } }"));
        assert_eq!(TEXT.lines().count() - 3, rest.lines().count(), "{rest}");
    }

    #[test]
    fn a_file_that_does_not_parse_has_no_unknown_keys_to_report() {
        assert!(find("[simulation\nname = ", "t").is_empty());
    }
}
