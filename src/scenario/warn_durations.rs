//! The "duration without a unit" warning: every duration key of the scenario (SPEC §1) given as
//! a bare number, or as a string that is only a number, means seconds. That is valid — and
//! stays accepted — but `bake = 72` was more likely meant as 72 hours than 72 seconds.
//!
//! The walk is over the text (with spans), not the validated scenario, because validation has
//! already turned every duration into milliseconds and forgotten how it was written.

use toml_edit::{Document, Item, Value};

/// The keys that hold a duration or a distribution of durations. `*` is any table key,
/// `[]` any element of an array (of tables).
const DURATION_KEYS: &[&str] = &[
    "simulation.horizon",
    "backend.api_changes[].at",
    "connectivity.*.online",
    "connectivity.*.offline",
    "connectivity.*.check_in",
    "power.*.recharge.every",
    "population[].telemetry_interval",
    "release[].install_time",
    "release[].reboot_time",
    "release[].defect[].after",
    "support.ticket_delay",
    "support.resolve_time",
    "support.field_visit.delay",
    "policy.start",
    "policy.window",
    "policy.timeout",
    "policy.retry.backoff",
    "policy.operator.response",
    "policy.stage[].bake",
    "policy.stage[].max_wait",
    "policy.stage[].gate.check[].silent_after",
    "policy.shadow_gate[].check[].silent_after",
    "fault[].at",
    "fault[].duration",
    "fault[].delay",
    "fault[].skew",
    "chaos.at.min",
    "chaos.at.max",
    "chaos.duration.*",
];

/// Calls `warn(key path, message)` for every duration written without a unit.
pub(crate) fn bare_durations(doc: &Document<&str>, warn: &mut dyn FnMut(String, String)) {
    for pattern in DURATION_KEYS {
        let segs: Vec<&str> = pattern.split('.').collect();
        walk(doc.as_item(), String::new(), &segs, &mut |path, item| {
            duration_value(&path, item, warn)
        });
    }
}

/// Visits every item that matches the pattern segments below `item`.
fn walk(item: &Item, path: String, segs: &[&str], visit: &mut dyn FnMut(String, &Item)) {
    let Some((seg, rest)) = segs.split_first() else {
        return visit(path, item);
    };
    let (key, array) = match seg.strip_suffix("[]") {
        Some(k) => (k, true),
        None => (*seg, false),
    };
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    if key == "*" {
        let Some(t) = item.as_table_like() else {
            return;
        };
        for (k, child) in t.iter() {
            walk(child, join(k), rest, visit);
        }
        return;
    }
    let Some(child) = item.get(key) else { return };
    if !array {
        return walk(child, join(key), rest, visit);
    }
    for i in 0.. {
        let Some(element) = child.get(i) else { break };
        walk(element, format!("{}[{i}]", join(key)), rest, visit);
    }
}

/// A duration value: a scalar, or a distribution table whose duration parameters are checked.
fn duration_value(path: &str, item: &Item, warn: &mut dyn FnMut(String, String)) {
    if let Some(message) = item.as_value().and_then(bare_number) {
        return warn(path.to_string(), message);
    }
    let Some(t) = item.as_table_like() else {
        return;
    };
    // `mu`, `sigma`, `shape`, beta's `a`/`b` and `weights` are not durations.
    let params: &[&str] = match t.get("dist").and_then(Item::as_str) {
        Some("constant") => &["value"],
        Some("uniform") => &["min", "max"],
        Some("normal") => &["mean", "sd", "min", "max"],
        Some("exponential") => &["mean"],
        Some("lognormal") => &["median", "p95"],
        Some("weibull") => &["scale"],
        Some("empirical") => &["values"],
        _ => &[],
    };
    for &param in params {
        let Some(v) = t.get(param) else { continue };
        if let Some(a) = v.as_array() {
            // Empirical values: one warning for the list, at the first bare number.
            if a.iter().any(|x| bare_number(x).is_some()) {
                let message = "the values have no unit and mean seconds; write them as durations (\"30m\", \"2h\"…)";
                warn(format!("{path}.{param}"), message.to_string());
            }
        } else if let Some(message) = v.as_value().and_then(bare_number) {
            warn(format!("{path}.{param}"), message);
        }
    }
}

/// The message for a number of seconds written without a unit; `None` for anything else, and
/// for zero, which means the same in every unit.
fn bare_number(v: &Value) -> Option<String> {
    let (shown, secs) = match v {
        Value::Integer(i) => (i.value().to_string(), *i.value() as f64),
        Value::Float(f) => (f.value().to_string(), *f.value()),
        Value::String(s) => {
            let t = s.value().trim();
            (format!("\"{t}\""), t.parse::<f64>().ok()?)
        }
        _ => return None,
    };
    if secs == 0.0 || !secs.is_finite() {
        return None;
    }
    let fix = if secs.fract() == 0.0 && secs.abs() < 1e15 {
        let n = secs as i64;
        format!("write \"{n}s\" (or \"{n}m\", \"{n}h\", \"{n}d\"…)")
    } else {
        format!(
            "write it with a unit, e.g. \"{}ms\"",
            (secs * 1000.0).round() as i64
        )
    };
    Some(format!(
        "{shown} has no unit and means {} seconds; {fix}",
        secs_text(secs)
    ))
}

fn secs_text(secs: f64) -> String {
    if secs.fract() == 0.0 && secs.abs() < 1e15 {
        format!("{}", secs as i64)
    } else {
        format!("{secs}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(String, String)> {
        let doc = Document::parse(text).unwrap();
        let mut out = Vec::new();
        bare_durations(&doc, &mut |p, m| out.push((p, m)));
        out
    }

    #[test]
    fn bare_numbers_in_duration_keys_are_found() {
        let text = r#"
[simulation]
horizon = "30d"
[policy]
window = 600
operator = { response = { dist = "lognormal", median = 3600, p95 = "8h" } }
[[policy.stage]]
bake = 72
[[policy.stage]]
bake = "1d"
max_wait = "90"
[[policy.stage.gate.check]]
silent_after = 0
"#;
        let got = found(text);
        let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "policy.window",
                "policy.operator.response.median",
                "policy.stage[0].bake",
                "policy.stage[1].max_wait"
            ]
        );
        assert_eq!(
            got[2].1,
            "72 has no unit and means 72 seconds; write \"72s\" (or \"72m\", \"72h\", \"72d\"…)"
        );
    }

    #[test]
    fn non_duration_numbers_are_not_warned() {
        let text = "[policy]\nrate = { per_minute = 30 }\n[[policy.stage]]\npercent = 5\n";
        assert!(found(text).is_empty());
    }
}
