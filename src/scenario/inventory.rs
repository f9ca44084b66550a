//! Inventory CSV (`fleet.inventory = "devices.csv"`): one row per device, columns named after
//! population keys. Rows may name a `[[population]]` in a `population` column to inherit its
//! settings (its `count` is then ignored); identical rows are grouped into one population so a
//! million-row inventory costs no more than its distinct device kinds.
//!
//! Recognised columns: `id` (ignored), `population`, `model`, `region`, `utc_offset`, `firmware`,
//! `connectivity`, `power`, `storage_free_mb`, `ab_slots`, `install_failure`, `crash_rate`,
//! `telemetry_interval`, `commands_per_day`, `verifies_signatures`; every other column is a tag
//! (a `tag.` prefix is stripped).

use super::raw::{Dur, RawPopulation};
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// The columns an inventory may have besides tags: (column, meaning, an example cell). The
/// scenario reference lists them; a test checks that each is read as a key, not as a tag.
pub const COLUMNS: [(&str, &str, &str); 15] = [
    (
        "id",
        "The device's own identifier; ignored (rows that differ only in `id` are one population).",
        "dev-000001",
    ),
    (
        "population",
        "A `[[population]]` whose keys the row inherits (its `count` is ignored).",
        "sensors",
    ),
    ("model", "Hardware model.", "sn-10"),
    ("region", "Region.", "eu"),
    ("utc_offset", "Local time offset from UTC.", "+01:00"),
    (
        "firmware",
        "The version the device runs at the start.",
        "2.3.0",
    ),
    (
        "connectivity",
        "A `[connectivity.NAME]` profile.",
        "cellular",
    ),
    ("power", "A `[power.NAME]` profile.", "battery"),
    ("storage_free_mb", "Free storage, MB.", "512"),
    (
        "ab_slots",
        "A/B partitions: true/false (or yes/no, 1/0).",
        "false",
    ),
    (
        "install_failure",
        "Probability 0..1 that one install attempt fails transiently.",
        "0.005",
    ),
    ("crash_rate", "Background crashes per device-day.", "0.02"),
    (
        "telemetry_interval",
        "How often the device reports health: a duration.",
        "30m",
    ),
    ("commands_per_day", "Remote commands per device-day.", "4"),
    (
        "verifies_signatures",
        "The device rejects a bad signature: true/false.",
        "true",
    ),
];

fn sp<T>(v: T) -> Spanned<T> {
    Spanned::new(0..0, v)
}

/// Reads the inventory and returns one population per distinct row. Errors name the file, the
/// line and the column and say what was expected; they never quote a cell (the path may name
/// any file, and an inventory exported from a real fleet does not belong in a CI log). Values
/// that parse are validated with the scenario's populations, whose messages name them as they
/// would name the same value in the scenario.
pub fn read(path: &Path, templates: &[RawPopulation]) -> Result<Vec<RawPopulation>, String> {
    let shown = path.display();
    let file = crate::input_files::open(path, crate::input_files::INVENTORY)?;
    let mut reader = csv::Reader::from_reader(file);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, &e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if !headers
        .iter()
        .any(|h| h == "population" || h == "connectivity")
    {
        return Err(format!(
            "{shown}: line 1: the header has neither a `population` nor a `connectivity` column: \
             every device needs a connectivity profile, named in a `connectivity` column or \
             inherited from the [[population]] its `population` column names"
        ));
    }
    let groups = group_rows(path, &mut reader, &headers)?;
    let mut used_names: BTreeMap<String, u32> = BTreeMap::new();
    let mut out = Vec::new();
    for (values, (count, line)) in groups {
        let at = format!("{shown}: line {line}");
        let cell = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .map(|i| values[i].clone())
                .filter(|v| !v.is_empty())
        };
        let mut pop = match cell("population") {
            Some(t) => templates
                .iter()
                .find(|p| p.name == t)
                .cloned()
                .ok_or_else(|| {
                    let names: Vec<&str> = templates.iter().map(|p| p.name.as_str()).collect();
                    format!(
                        "{at}: column `population`: no [[population]] of that name to inherit \
                         from; defined: {}",
                        if names.is_empty() {
                            "none".to_string()
                        } else {
                            names.join(", ")
                        }
                    )
                })?,
            None => blank(),
        };
        let base = if pop.name.is_empty() {
            "inventory".to_string()
        } else {
            pop.name.clone()
        };
        let n = used_names.entry(base.clone()).or_insert(0);
        *n += 1;
        pop.name = if *n == 1 { base } else { format!("{base}/{n}") };
        pop.count = Some(sp(count));
        for (h, v) in headers.iter().zip(&values) {
            if v.is_empty() {
                continue;
            }
            // Only recognised columns can fail, so the column named is one of fleetsim's.
            apply(&mut pop, h, v).map_err(|e| format!("{at}: column `{h}`: {e}"))?;
        }
        out.push(pop);
    }
    Ok(out)
}

/// Groups identical rows: each distinct row with its device count and the line it first
/// appears on (what an error points at).
fn group_rows<R: std::io::Read>(
    path: &Path,
    reader: &mut csv::Reader<R>,
    headers: &[String],
) -> Result<BTreeMap<Vec<String>, (u64, u64)>, String> {
    let mut groups: BTreeMap<Vec<String>, (u64, u64)> = BTreeMap::new();
    for row in reader.records() {
        let row = row.map_err(|e| csv_error(path, &e))?;
        let line = row.position().map_or(0, |p| p.line());
        let key: Vec<String> = headers
            .iter()
            .zip(row.iter())
            .map(|(h, v)| {
                if h == "id" {
                    String::new()
                } else {
                    v.trim().to_string()
                }
            })
            .collect();
        groups.entry(key).or_insert((0, line)).0 += 1;
        if groups.len() > 100_000 {
            return Err(format!(
                "{}: more than 100000 distinct device kinds; group devices into populations",
                path.display()
            ));
        }
    }
    Ok(groups)
}

/// A CSV error: csv's messages give the record, line and byte, never a field's text; an I/O
/// error (the size cap) already names the file.
fn csv_error(path: &Path, e: &csv::Error) -> String {
    let text = e.to_string();
    if text.starts_with(&path.display().to_string()) {
        text
    } else {
        format!("{}: {text}", path.display())
    }
}

fn blank() -> RawPopulation {
    RawPopulation {
        name: String::new(),
        count: None,
        model: None,
        region: None,
        utc_offset: None,
        firmware: None,
        tags: None,
        connectivity: None,
        power: None,
        storage_free_mb: None,
        ab_slots: None,
        watchdog: None,
        consent: None,
        install_failure: None,
        crash_rate: None,
        telemetry_interval: None,
        commands_per_day: None,
        verifies_signatures: None,
        arrivals_per_day: None,
    }
}

/// A cell as a TOML string (a column's value is one name, never a mix).
fn text(v: &str) -> toml::Spanned<toml::Value> {
    sp(toml::Value::String(v.into()))
}

fn num(v: &str) -> Result<f64, String> {
    v.parse::<f64>()
        .map_err(|_| "expected a number".to_string())
}

fn boolean(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err("expected true or false (or yes/no, 1/0)".into()),
    }
}

fn apply(pop: &mut RawPopulation, header: &str, v: &str) -> Result<(), String> {
    match header {
        "id" | "population" => {}
        "model" => pop.model = Some(text(v)),
        "region" => pop.region = Some(text(v)),
        "utc_offset" => pop.utc_offset = Some(text(v)),
        "firmware" => pop.firmware = Some(sp(toml::Value::String(v.into()))),
        "connectivity" => pop.connectivity = Some(text(v)),
        "power" => pop.power = Some(text(v)),
        "storage_free_mb" => pop.storage_free_mb = Some(sp(toml::Value::Float(num(v)?))),
        "ab_slots" => pop.ab_slots = Some(boolean(v)?),
        "install_failure" => pop.install_failure = Some(sp(num(v)?)),
        "crash_rate" => pop.crash_rate = Some(sp(num(v)?)),
        "telemetry_interval" => {
            let secs = crate::engine::time::parse_duration_secs(v)
                .map_err(|_| "expected a duration such as 1h or a number of seconds")?;
            pop.telemetry_interval = Some(sp(Dur(secs)))
        }
        "commands_per_day" => pop.commands_per_day = Some(sp(num(v)?)),
        "verifies_signatures" => pop.verifies_signatures = Some(boolean(v)?),
        tag => {
            let key = tag.strip_prefix("tag.").unwrap_or(tag);
            pop.tags
                .get_or_insert_with(BTreeMap::new)
                .insert(key.into(), toml::Value::String(v.into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every documented column is read as the key it names (a misspelt match arm would make it
    /// a tag silently).
    #[test]
    fn documented_columns_are_keys_not_tags() {
        for (column, _, example) in COLUMNS {
            let mut pop = blank();
            apply(&mut pop, column, example).unwrap_or_else(|e| panic!("{column}: {e}"));
            assert!(pop.tags.is_none(), "`{column}` was read as a tag");
        }
    }
}
