//! `docs/scenario-reference.md` (`fleetsim schema --markdown`): the scenario keys, durations,
//! distributions, selectors, the inventory CSV and the metrics, rendered from the JSON Schema of
//! [`super::schema`] so that the reference says exactly what the parser accepts. A test compares
//! the committed file with this output, so the two cannot drift.

use serde_json::{Map, Value};
use std::fmt::Write;

/// What the reference shows of one key.
pub struct Prop {
    /// A table (or tables) of further keys, documented in its own section.
    pub table: bool,
    pub description: String,
    /// The unit a number or duration is in (empty when the key has none).
    pub unit: String,
    /// A number, integer or duration (which must then have a unit).
    pub numeric: bool,
    pub kind: String,
    pub default: Option<Value>,
    pub required: bool,
    pub range: String,
    pub example: Option<Value>,
    /// For a string with a fixed set of values: each value and what it means (or a pointer to
    /// the section that lists them).
    pub values: Vec<(String, String)>,
    /// Every value a string with a fixed set of values may take.
    pub names: Vec<String>,
}

/// Where the schema keeps its named shapes (draft 7).
const DEFS: &str = "definitions";

/// The `$ref` of a schema: its own, or (draft 7 allows no siblings next to `$ref`, so a
/// described reference is `{ description, allOf: [{ $ref }] }`) that of its only `allOf`.
fn ref_of(s: &Value) -> Option<&str> {
    s.get("$ref")
        .or_else(|| match s.get("allOf")?.as_array()?.as_slice() {
            [only] => only.get("$ref"),
            _ => None,
        })?
        .as_str()
}

/// The schema a `$ref` names, or the schema itself.
pub fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    def_name(s)
        .and_then(|name| root[DEFS].get(name))
        .unwrap_or(s)
}

/// The name of the definition a schema refers to.
pub fn def_name(s: &Value) -> Option<&str> {
    ref_of(s)?.strip_prefix("#/definitions/")
}

/// How a type reads: the named shapes by name, the rest from `type`.
fn kind(root: &Value, s: &Value) -> String {
    if let Some(name) = def_name(s) {
        let named = match name {
            "Duration" => "duration",
            "SignedDuration" => "signed duration",
            "DurationDistribution" => "duration or distribution",
            "SignedDurationDistribution" => "signed duration or distribution",
            "NumberDistribution" => "number or distribution",
            "Selector" => "selector",
            "FirmwareMix" => "version or mix",
            "ExpectBound" => "number or duration",
            "Seed" => "integer (or digits as a string)",
            "Scalar" => "string, number or boolean",
            "NonNegative" => "number",
            _ if name.starts_with("Raw") => {
                // Several shapes: each by its own kind (`table or array of tables`).
                if let Some(shapes) = resolve(root, s).get("anyOf").and_then(Value::as_array) {
                    let kinds: Vec<String> = shapes.iter().map(|b| kind(root, b)).collect();
                    return kinds.join(" or ");
                }
                "table"
            }
            _ => "",
        };
        if !named.is_empty() {
            return named.into();
        }
        return kind(root, resolve(root, s));
    }
    if s.get("oneOf").is_some() || s.get("enum").is_some() {
        return "string".into();
    }
    match s.get("type").and_then(Value::as_str) {
        Some("array") => format!("array of {}", plural(&kind(root, &s["items"]))),
        Some("object") => match s.get("additionalProperties") {
            Some(v @ Value::Object(_)) => format!("table of {}", plural(&kind(root, v))),
            _ => "table".into(),
        },
        Some(t) => t.into(),
        None => String::new(),
    }
}

fn plural(kind: &str) -> String {
    match kind {
        "table" => "tables".into(),
        "string" | "number" | "integer" | "duration" => format!("{kind}s"),
        "version or mix" | "selector" => format!("{kind}es"),
        other => other.into(),
    }
}

fn range(s: &Value) -> String {
    let num = |k: &str| s.get(k).and_then(Value::as_f64).map(number);
    let low = num("minimum")
        .map(|m| format!("≥ {m}"))
        .or(num("exclusiveMinimum").map(|m| format!("> {m}")));
    let high = num("maximum")
        .map(|m| format!("≤ {m}"))
        .or(num("exclusiveMaximum").map(|m| format!("< {m}")));
    match (low, high) {
        (Some(l), Some(h)) => format!("{l}, {h}"),
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => String::new(),
    }
}

/// A number as people write it: no `.0`, thousands in groups of three.
fn number(x: f64) -> String {
    if x.fract() != 0.0 || x.abs() >= 1e15 {
        return x.to_string();
    }
    let digits = (x.abs() as u64).to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    if x < 0.0 {
        format!("−{out}")
    } else {
        out
    }
}

/// Names listed in a section of their own, which a key's row links to instead of repeating.
const LISTED: [(&str, &str); 4] = [
    ("OutcomeMetric", "[outcome metrics](#outcome-metrics)"),
    ("ObservedMetric", "[observed metrics](#observed-metrics)"),
    ("Stat", "[stats](#stats)"),
    ("FaultKind", "[fault kinds](#fault-kinds)"),
];

fn values(root: &Value, s: &Value) -> Vec<(String, String)> {
    if let Some((_, link)) = LISTED.iter().find(|(n, _)| def_name(s) == Some(*n)) {
        return vec![(String::new(), format!("One of the {link}."))];
    }
    values_of(root, s)
}

fn values_of(root: &Value, s: &Value) -> Vec<(String, String)> {
    let r = resolve(root, s);
    let Some(alts) = r.get("oneOf").and_then(Value::as_array) else {
        return vec![];
    };
    alts.iter()
        .filter_map(|a| {
            let name = a.get("const").or_else(|| a.get("enum")?.get(0))?.as_str()?;
            let doc = a.get("description").and_then(Value::as_str).unwrap_or("");
            Some((name.to_string(), doc.to_string()))
        })
        .collect()
}

fn describe(root: &Value, s: &Value, required: bool) -> Prop {
    let r = resolve(root, s);
    let text = |k: &str| {
        s.get(k)
            .or_else(|| r.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let kind = kind(root, s);
    // Quantities, which need a unit; a seed or a tag value is a number but not a quantity.
    let numeric = [
        "number",
        "integer",
        "duration",
        "signed duration",
        "duration or distribution",
        "signed duration or distribution",
        "number or distribution",
        "number or duration",
        "table of numbers",
    ]
    .contains(&kind.as_str());
    Prop {
        table: kind.contains("table") && !kind.contains("table of numbers"),
        description: text("description"),
        unit: text("x-unit"),
        numeric,
        kind,
        default: s.get("default").cloned(),
        required,
        range: match (range(s).as_str(), def_name(s)) {
            // The bound every duration shares, which the `Duration` definition holds.
            ("", Some("Duration")) => "≤ 36 600 days".into(),
            (r, _) => r.to_string(),
        },
        example: s.get("examples").and_then(|e| e.get(0)).cloned(),
        values: values(root, s),
        names: values_of(root, s).into_iter().map(|(v, _)| v).collect(),
    }
}

/// The tables a key holds, and how their sections are named: `[x]`, `[[x]]` or `[x.NAME]`. A
/// key of several shapes (`retry`: a table or an array of tables) holds one of each.
fn child_tables<'a>(root: &'a Value, s: &'a Value, path: &str) -> Vec<(String, &'a Value)> {
    let is_raw = |s: &Value| def_name(s).is_some_and(|n| n.starts_with("Raw"));
    if is_raw(s) {
        let t = resolve(root, s);
        return match t.get("anyOf").and_then(Value::as_array) {
            Some(shapes) => shapes
                .iter()
                .flat_map(|b| child_tables(root, b, path))
                .collect(),
            None => vec![(path.to_string(), t)],
        };
    }
    match s.get("type").and_then(Value::as_str) {
        Some("array") if is_raw(&s["items"]) => {
            vec![(format!("{path}[]"), resolve(root, &s["items"]))]
        }
        Some("object") => match s.get("additionalProperties") {
            Some(v) if is_raw(v) => vec![(format!("{path}.NAME"), resolve(root, v))],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Calls `f` with the dotted path and description of every key of the file, depth first.
pub fn for_each_property(root: &Value, f: &mut dyn FnMut(&str, &Prop)) {
    walk(root, root, "", f);
}

/// What the schema says of the key at a key path as errors write it
/// (`policy.stage[2].gate.on_fail`, `connectivity.wifi.online`).
pub fn property_at(root: &Value, key_path: &str) -> Option<Prop> {
    let wanted: Vec<String> = key_path
        .split('.')
        .map(|part| match part.split_once('[') {
            Some((k, _)) => format!("{k}[]"),
            None => part.to_string(),
        })
        .collect();
    let mut found = None;
    for_each_property(root, &mut |path, prop| {
        let parts: Vec<&str> = path.split('.').collect();
        let same = parts.len() == wanted.len()
            && parts
                .iter()
                .zip(&wanted)
                .all(|(p, w)| p == w || *p == "NAME" || p.strip_suffix("[]") == Some(w));
        if same && found.is_none() {
            found = Some(clone_prop(prop));
        }
    });
    found
}

fn walk(root: &Value, table: &Value, prefix: &str, f: &mut dyn FnMut(&str, &Prop)) {
    let Some(props) = table.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required = required_keys(table);
    for (key, s) in props {
        let path = join(prefix, key);
        f(&path, &describe(root, s, required.contains(&key.as_str())));
        for (child, t) in child_tables(root, s, &path) {
            walk(root, t, &child, f);
        }
    }
}

fn required_keys(table: &Value) -> Vec<&str> {
    table
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// A JSON value written as TOML, on one line.
pub fn toml_value(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(toml_value).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} = {}", toml_key(k), toml_value(v)))
                .collect();
            if inner.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", inner.join(", "))
            }
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn toml_key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        k.to_string()
    } else {
        serde_json::to_string(k).unwrap_or_default()
    }
}

/// A Markdown table cell: no line breaks, pipes escaped.
fn cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

fn code(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        // A backtick inside a code span would end it; none of the examples has one.
        format!("`{}`", text.replace('|', "\\|"))
    }
}

/// The whole reference, as committed in `docs/scenario-reference.md`.
pub fn markdown(root: &Value) -> String {
    let mut out = String::from(HEADER);
    sections(root, &mut out);
    out.push_str(&shapes(root));
    out.push_str(&inventory());
    out.push_str(&metrics(root));
    out
}

const HEADER: &str = "# Scenario file reference

<!-- Generated by `fleetsim schema --markdown` from the scenario JSON Schema (`fleetsim schema`).
     Do not edit: change the doc comments in src/scenario/raw.rs and regenerate with
     `cargo run --release -- schema --markdown > docs/scenario-reference.md`
     (tests/schema.rs fails while the two differ). -->

A scenario is one TOML file. This page lists every key it may hold: its type, unit, default,
valid range, what it means and a one-line example. Durations are strings with a unit
(`\"30s\"`, `\"15m\"`, `\"6h\"`, `\"2d\"`, `\"1w\"`) or a bare number of seconds; rates and
probabilities are fractions 0..1 (`0.02` is 2 %). Keys marked *required* must be given; every
other key may be left out, and then takes the default shown (or, where the meaning says so, has
no effect). A key fleetsim does not know is an error with a did-you-mean, never ignored.

Key paths are written as `--set` takes them: `policy.stage[].bake` is the `bake` of a stage
(`--set 'policy.stage[canary].bake=2d'` or `policy.stage[0].bake`); `connectivity.NAME.online` is
the `online` of the profile `[connectivity.NAME]`.

";

/// The top-level tables in the order a scenario usually has them.
const ORDER: [&str; 12] = [
    "simulation",
    "backend",
    "connectivity",
    "power",
    "fleet",
    "population",
    "release",
    "support",
    "policy",
    "fault",
    "chaos",
    "expect",
];

/// One section per table of the file.
fn sections(root: &Value, out: &mut String) {
    let mut tables: Vec<(String, Vec<(String, Prop)>)> = vec![("".into(), vec![])];
    let mut index: std::collections::BTreeMap<String, usize> = [(String::new(), 0)].into();
    for_each_property(root, &mut |path, prop| {
        let (parent, key) = match path.rsplit_once('.') {
            Some((p, k)) => (p.to_string(), k.to_string()),
            None => (String::new(), path.to_string()),
        };
        let i = *index.entry(parent.clone()).or_insert_with(|| {
            tables.push((parent.clone(), vec![]));
            tables.len() - 1
        });
        tables[i].1.push((key, clone_prop(prop)));
    });
    // The order a scenario is written in, not the alphabet; depth-first within each table.
    let rank = |table: &str| {
        let top = table.split(['.', '[']).next().unwrap_or("");
        ORDER.iter().position(|t| *t == top).unwrap_or(ORDER.len())
    };
    tables.sort_by_key(|(t, _)| if t.is_empty() { 0 } else { rank(t) + 1 });
    for (table, rows) in &tables {
        let _ = writeln!(out, "## {}\n", heading(table));
        let doc = table_doc(root, table);
        if !doc.is_empty() {
            let _ = writeln!(out, "{doc}\n");
        }
        out.push_str("| key | type | unit | default | valid | meaning | example |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        for (key, p) in rows {
            let _ = writeln!(out, "{}", row(key, p));
        }
        out.push('\n');
    }
}

fn clone_prop(p: &Prop) -> Prop {
    Prop {
        table: p.table,
        description: p.description.clone(),
        unit: p.unit.clone(),
        numeric: p.numeric,
        kind: p.kind.clone(),
        default: p.default.clone(),
        required: p.required,
        range: p.range.clone(),
        example: p.example.clone(),
        values: p.values.clone(),
        names: p.names.clone(),
    }
}

/// `policy.stage[].gate` → `[policy.stage.gate]`; `policy.stage[]` → `[[policy.stage]]`.
fn heading(table: &str) -> String {
    if table.is_empty() {
        return "Top level".into();
    }
    let dotted = table.replace("[]", "");
    if table.ends_with("[]") {
        format!("`[[{dotted}]]`")
    } else {
        format!("`[{dotted}]`")
    }
}

/// The description of the table at `path` (the doc comment of its raw struct).
fn table_doc(root: &Value, path: &str) -> String {
    if path.is_empty() {
        return root["description"].as_str().unwrap_or("").to_string();
    }
    let mut found = String::new();
    for_each_property(root, &mut |p, prop| {
        if p == path.trim_end_matches("[]").trim_end_matches(".NAME") {
            found = prop.description.clone();
        }
    });
    found
}

fn row(key: &str, p: &Prop) -> String {
    let default = match (&p.default, p.required) {
        (_, true) => "*required*".to_string(),
        (Some(d), _) if d != &Value::Array(vec![]) && d != &Value::Object(Map::new()) => {
            code(&toml_value(d))
        }
        _ => String::new(),
    };
    let mut meaning = p.description.clone();
    if !p.values.is_empty() {
        let vals: Vec<String> = p
            .values
            .iter()
            .map(|(v, d)| match v.is_empty() {
                true => d.clone(),
                false => format!("`\"{v}\"`: {d}"),
            })
            .collect();
        meaning = format!("{meaning} {}", vals.join(" "));
    }
    let example = p
        .example
        .as_ref()
        .map(|e| code(&format!("{} = {}", toml_key(key), toml_value(e))))
        .unwrap_or_default();
    format!(
        "| `{}` | {} | {} | {} | {} | {} | {} |",
        key,
        cell(&p.kind),
        cell(&p.unit),
        default,
        cell(&p.range),
        cell(&meaning),
        example
    )
}

/// Durations, distributions and selectors: the shapes many keys share.
fn shapes(root: &Value) -> String {
    let defs = &root[DEFS];
    let doc = |name: &str| defs[name]["description"].as_str().unwrap_or("").to_string();
    let mut out = String::from("## Durations\n\n");
    let _ = writeln!(out, "{}\n", doc("Duration"));
    out.push_str("## Distributions\n\n");
    let _ = writeln!(
        out,
        "Wherever a key's type says *or distribution*, a constant or one of these tables may be written. {}\n",
        doc("DurationDistribution")
    );
    out.push_str("| `dist` | parameters (required in bold) | meaning |\n|---|---|---|\n");
    let alts = defs["DurationDistribution"]["anyOf"].as_array();
    for alt in alts
        .into_iter()
        .flatten()
        .filter(|a| a.get("title").is_some())
    {
        let required = required_keys(alt);
        let params: Vec<String> = alt["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| *k != "dist")
            .map(|(k, _)| {
                if required.contains(&k.as_str()) {
                    format!("**`{k}`**")
                } else {
                    format!("`{k}`")
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            alt["title"].as_str().unwrap_or(""),
            params.join(", "),
            cell(alt["description"].as_str().unwrap_or(""))
        );
    }
    out.push_str(
        "\nExample: `install_time = { dist = \"lognormal\", median = \"3m\", p95 = \"12m\" }`.\n\n",
    );
    out.push_str("## Selectors\n\n");
    let _ = writeln!(out, "{}\n", doc("Selector"));
    out.push_str("| key | meaning |\n|---|---|\n");
    for (k, v) in defs["Selector"]["properties"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let _ = writeln!(
            out,
            "| `{k}` | {} |",
            cell(v["description"].as_str().unwrap_or(""))
        );
    }
    out.push_str("\nExample: `select = { channel = \"external\", region = [\"eu\", \"uk\"], not = { model = \"gw-2\" } }`.\n\n");
    out.push_str("## Fault kinds\n\nThe `kind` of a `[[fault]]` and the `kinds` of `[chaos]`.\n\n| kind | what it does |\n|---|---|\n");
    for (name, doc) in values_of(
        root,
        &serde_json::json!({ "$ref": "#/definitions/FaultKind" }),
    ) {
        let _ = writeln!(out, "| `{name}` | {} |", cell(&doc));
    }
    out.push('\n');
    out
}

fn inventory() -> String {
    let mut out = String::from(
        "## Inventory CSV\n\n`fleet.inventory = \"devices.csv\"` reads one device per row. The header names the columns; \
         identical rows (ignoring `id`) form one population, so a large inventory costs no more than its distinct kinds \
         of device. Every row needs a connectivity profile: a `connectivity` column, or a `population` column naming a \
         `[[population]]` (without `count`) whose keys the row inherits and may override. Empty cells keep the inherited \
         value. Any other column is a tag (a `tag.` prefix is stripped), matched by selectors.\n\n\
         | column | meaning | example cell |\n|---|---|---|\n",
    );
    for (col, doc, example) in super::inventory::COLUMNS {
        let _ = writeln!(out, "| `{col}` | {} | `{example}` |", cell(doc));
    }
    out.push_str("\n```csv\nid,population,region,firmware,site\ndev-000001,sensors,eu,2.3.0,plant-a\ndev-000002,sensors,us,2.3.0,plant-b\n```\n\n");
    out
}

fn metrics(root: &Value) -> String {
    let defs = &root[DEFS];
    let mut out = String::from(
        "## Observed metrics\n\nWhat a gate check (`metric` of `[[policy.stage.gate.check]]`) or an abort rule reads: \
         only what devices have reported, when they were online.\n\n| metric | meaning and unit |\n|---|---|\n",
    );
    for (name, doc) in values_of(
        root,
        &serde_json::json!({ "$ref": "#/definitions/ObservedMetric" }),
    ) {
        let _ = writeln!(out, "| `{name}` | {} |", cell(&doc));
    }
    out.push_str(
        "\n## Outcome metrics\n\nWhat `[[expect]]`, `compare --guard` and the reports judge, computed from the ground truth \
         per replication and summarised across replications by a stat (below). In data files (JSON, CSV) times are \
         seconds and rates fractions; tables and the HTML report show `3d 4h` and percentages.\n\n\
         | metric | unit | meaning |\n|---|---|---|\n",
    );
    for alt in defs["OutcomeMetric"]["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            alt["const"].as_str().unwrap_or(""),
            cell(alt["x-unit"].as_str().unwrap_or("")),
            cell(alt["description"].as_str().unwrap_or(""))
        );
    }
    out.push_str("\n## Stats\n\n| stat | meaning |\n|---|---|\n");
    for alt in defs["Stat"]["oneOf"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "| `{}` | {} |",
            alt["const"].as_str().unwrap_or(""),
            cell(alt["description"].as_str().unwrap_or(""))
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_toml() {
        let v = serde_json::json!({ "dist": "lognormal", "median": "3m", "2.3.0": 4 });
        assert_eq!(
            toml_value(&v),
            r#"{ "2.3.0" = 4, dist = "lognormal", median = "3m" }"#
        );
        assert_eq!(toml_value(&serde_json::json!([1, "a"])), r#"[1, "a"]"#);
    }

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(number(1_000_000.0), "1 000 000");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(100.0), "100");
    }

    #[test]
    fn every_table_of_the_file_has_a_section() {
        let md = markdown(crate::scenario::json_schema::schema());
        for heading in [
            "## `[simulation]`",
            "## `[[population]]`",
            "## `[connectivity.NAME]`",
            "## `[[policy.stage]]`",
            "## `[policy.stage.gate]`",
            "## `[[policy.stage.gate.check]]`",
            "## `[[release.defect]]`",
            "## Inventory CSV",
            "## Observed metrics",
            "## Outcome metrics",
        ] {
            assert!(md.contains(heading), "{heading} missing");
        }
        assert!(
            md.contains("| `crash_rate` | number | crashes per device-day |"),
            "{md}"
        );
    }
}
