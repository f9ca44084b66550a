//! The JSON Schema of the scenario file (`fleetsim schema`), generated from the parser's own
//! types (`raw`, whose untyped values name their shapes in `schema`), tidied for editors.

use serde_json::{json, Value};
use std::sync::OnceLock;

/// The schema of the scenario file, generated once.
pub fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        // Draft 7: what taplo (Even Better TOML) and most editors implement.
        let schema = schemars::generate::SchemaSettings::draft07()
            .into_generator()
            .into_root_schema_for::<super::raw::RawScenario>();
        let mut value = schema.to_value();
        tidy(&mut value);
        if let Value::Object(root) = &mut value {
            root.insert("title".into(), "fleetsim scenario".into());
        }
        value
    })
}

/// The schema as pretty JSON text with a final newline (what `fleetsim schema` prints).
pub fn schema_text() -> String {
    serde_json::to_string_pretty(schema()).unwrap_or_default() + "\n"
}

/// Tidies what schemars writes. TOML has no null: an optional key is left out. schemars writes an `Option` as "T or null"
/// and its `#[serde(default)]` as `default: null`; both would offer editors a value that no
/// TOML file can hold, so they are removed.
fn tidy(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.get("default") == Some(&Value::Null) {
                map.remove("default");
            }
            // Doc comments wrap at 100 columns; a description is one paragraph.
            if let Some(Value::String(d)) = map.get_mut("description") {
                *d = d.replace('\n', " ");
            }
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            let any_of = map.remove("anyOf");
            if let Some(Value::Array(mut alts)) = any_of {
                alts.retain(|a| a != &json!({ "type": "null" }));
                match (alts.len(), alts.pop()) {
                    // Draft 7 ignores the siblings of a `$ref`: keep it alone in an `allOf`.
                    (1, Some(only)) if only.get("$ref").is_some() => {
                        map.insert("allOf".into(), Value::Array(vec![only]));
                    }
                    (1, Some(Value::Object(only))) => {
                        for (k, x) in only {
                            map.entry(k).or_insert(x);
                        }
                    }
                    (_, last) => {
                        alts.extend(last);
                        map.insert("anyOf".into(), Value::Array(alts));
                    }
                }
            }
            map.values_mut().for_each(tidy);
        }
        Value::Array(items) => items.iter_mut().for_each(tidy),
        _ => {}
    }
}
