//! The scenario file's JSON Schema (`fleetsim schema`), generated from the serde types of
//! [`super::raw`] that the parser reads, so that what an editor completes and checks is what
//! fleetsim accepts.
//!
//! The raw types keep several values as untyped TOML (distributions, selectors, firmware mixes)
//! because `validate` interprets them with positions; this module supplies the schemas of those
//! shapes as marker types (`#[schemars(with = "…")]` in `raw`). Every property carries a
//! `description` (from the doc comment of its raw field), and numbers an `x-unit`; the
//! reference in `docs/` is rendered from this schema by [`super::reference`].

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Value};
use std::borrow::Cow;

/// The longest duration a scenario may write, in seconds (36 600 days; see `engine::time`).
pub const MAX_DURATION_S: f64 = 36_600.0 * 86_400.0;

/// Duration strings humantime reads (`"90s"`, `"1d 12h"`) or a number of seconds as text.
const DURATION_PATTERN: &str =
    r"^\s*((\d+\s*[A-Za-zµ]+\s*)+|\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*)$";

/// Implements [`JsonSchema`] for a marker type from a function of the generator.
macro_rules! marker {
    ($(#[$doc:meta])* $name:ident, $title:literal, $body:expr) => {
        $(#[$doc])*
        pub struct $name;
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                $title.into()
            }
            fn json_schema(generator: &mut SchemaGenerator) -> Schema {
                #[allow(clippy::redundant_closure_call)]
                ($body)(generator)
            }
        }
    };
}

marker!(
    /// A duration (`raw::Dur`).
    Duration,
    "Duration",
    |_: &mut SchemaGenerator| json_schema!({
        "description": "A duration: a string with a unit — \"250ms\", \"30s\", \"15m\", \"6h\", \"2d\", \"1w\", combinable as \"1d 12h\" — or a bare number of seconds (validate warns that a bare number has no unit). At most 36 600 days.",
        "x-unit": "duration",
        "anyOf": [
            { "type": "string", "pattern": DURATION_PATTERN },
            { "type": "number", "minimum": 0, "maximum": MAX_DURATION_S }
        ],
        "examples": ["6h"]
    })
);

marker!(
    /// A duration that may be negative (a clock skew).
    SignedDuration,
    "SignedDuration",
    |_: &mut SchemaGenerator| json_schema!({
        "description": "A duration that may be negative: \"-2h\", \"30m\", or a signed number of seconds.",
        "x-unit": "duration (signed)",
        "anyOf": [
            { "type": "string", "pattern": r"^\s*-?\s*((\d+\s*[A-Za-zµ]+\s*)+|\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*)$" },
            { "type": "number", "minimum": -MAX_DURATION_S, "maximum": MAX_DURATION_S }
        ]
    })
);

marker!(
    /// `simulation.seed`: a u64, written as a string above TOML's integer range.
    Seed,
    "Seed",
    |_: &mut SchemaGenerator| json_schema!({
        "description": "A whole number from 0 to 18446744073709551615; above 9223372036854775807 (TOML's largest integer) write it as a string of digits.",
        "anyOf": [
            { "type": "integer", "minimum": 0 },
            { "type": "string", "pattern": r"^\s*\d{1,20}\s*$" }
        ]
    })
);

marker!(
    /// `disruption_budget.max_unavailable`: a count or a percentage.
    CountOrPercent,
    "CountOrPercent",
    |_: &mut SchemaGenerator| json_schema!({
        "description": "A whole number of devices (at least 1), or a percentage of the group as a string: \"10%\".",
        "anyOf": [
            { "type": "integer", "minimum": 1 },
            { "type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*%\s*$" }
        ]
    })
);

/// The distribution tables of SPEC §1.2, each scalar parameter given by `scalar`.
fn distribution(description: &str, unit: &str, scalar: Schema) -> Schema {
    let table = |dist: &str, doc: &str, required: &[&str], params: Value| {
        let mut props =
            json!({ "dist": { "const": dist, "description": "The distribution's kind." } });
        if let (Value::Object(p), Value::Object(extra)) = (&mut props, params) {
            p.extend(extra);
        }
        let mut req = vec!["dist"];
        req.extend(required);
        json!({
            "type": "object",
            "title": dist,
            "description": doc,
            "properties": props,
            "required": req,
            "additionalProperties": false
        })
    };
    let s = scalar.to_value();
    let number = json!({ "type": "number" });
    json_schema!({
        "description": description,
        "x-unit": unit,
        "anyOf": [
            s.clone(),
            table("constant", "Always `value` (the same as writing the bare value).", &["value"], json!({ "value": s })),
            table("uniform", "Uniform between `min` and `max`.", &["min", "max"], json!({ "min": s, "max": s })),
            table("normal", "Normal with `mean` and `sd`, optionally truncated to [`min`, `max`] (a duration is truncated at 0).", &["mean", "sd"], json!({ "mean": s, "sd": s, "min": s, "max": s })),
            table("exponential", "Exponential with `mean`.", &["mean"], json!({ "mean": s })),
            table("lognormal", "Lognormal by `median` and `p95` (the way operators describe latencies), or by `mu` and `sigma` on the log scale (plain numbers: of ln(seconds) for a duration).", &[], json!({ "median": s, "p95": s, "mu": number, "sigma": number })),
            table("weibull", "Weibull with `shape` and `scale`.", &["shape", "scale"], json!({ "shape": number, "scale": s })),
            table("beta", "Beta with `a` and `b`: fractions such as a battery level.", &["a", "b"], json!({ "a": number, "b": number })),
            table("empirical", "Measured data: `values` with optional `weights`, or `file`, a CSV with one column (relative to the scenario's folder).", &[], json!({
                "values": { "type": "array", "items": s },
                "weights": { "type": "array", "items": number },
                "file": { "type": "string" }
            }))
        ]
    })
}

marker!(
    /// A distribution of durations.
    DurationDist,
    "DurationDistribution",
    |g: &mut SchemaGenerator| distribution(
        "A duration, or a distribution of durations: { dist = \"lognormal\", median = \"3m\", p95 = \"12m\" } (durations as strings or seconds).",
        "duration",
        g.subschema_for::<Duration>()
    )
);

marker!(
    /// A distribution of signed durations (clock skew).
    SignedDurationDist,
    "SignedDurationDistribution",
    |g: &mut SchemaGenerator| distribution(
        "A signed duration, or a distribution of them: { dist = \"normal\", mean = \"0s\", sd = \"2h\" }.",
        "duration (signed)",
        g.subschema_for::<SignedDuration>()
    )
);

marker!(
    /// A distribution of plain numbers.
    NumberDist,
    "NumberDistribution",
    |_: &mut SchemaGenerator| distribution(
        "A number, or a distribution of numbers: { dist = \"uniform\", min = 50, max = 2000 }.",
        "number",
        json_schema!({ "type": "number" })
    )
);

marker!(
    /// A number ≥ 0 (a delta size).
    NonNegative,
    "NonNegative",
    |_: &mut SchemaGenerator| json_schema!({ "type": "number", "minimum": 0 })
);

marker!(
    /// A tag or selector value.
    Scalar,
    "Scalar",
    |_: &mut SchemaGenerator| json_schema!({
        "description": "A string, number or boolean (compared as text).",
        "type": ["string", "number", "boolean"]
    })
);

marker!(
    /// A selector table (SPEC §1.5 `select`).
    Selector,
    "Selector",
    |g: &mut SchemaGenerator| {
        let value = g.subschema_for::<SelectorValue>();
        json_schema!({
            "description": "Which devices: every clause must match; a clause's value may be a list (any of them). Keys: `model`, `region`, `firmware`, `population`, any tag (`channel`, `customer`, `site`…); `not = { … }` excludes; `from` (the version a device came from) only in a defect's `where`. `{}` matches every device.",
            "type": "object",
            "properties": {
                "model": { "description": "Hardware model.", "allOf": [value] },
                "region": { "description": "Region.", "allOf": [value] },
                "firmware": { "description": "The version the device runs.", "allOf": [value] },
                "population": { "description": "The `[[population]]` name.", "allOf": [value] },
                "from": { "description": "The version the device came from (only in a release defect's `where`).", "allOf": [value] },
                "not": { "description": "Devices matching this selector are excluded.", "allOf": [g.subschema_for::<Selector>()] }
            },
            "additionalProperties": value
        })
    }
);

marker!(
    /// A selector clause's value.
    SelectorValue,
    "SelectorValue",
    |g: &mut SchemaGenerator| json_schema!({
        "description": "One value or a non-empty list of values.",
        "anyOf": [g.subschema_for::<Scalar>(), { "type": "array", "items": g.subschema_for::<Scalar>(), "minItems": 1 }]
    })
);

marker!(
    /// `population.firmware`: a version or a mix of versions.
    FirmwareMix,
    "FirmwareMix",
    |_: &mut SchemaGenerator| json_schema!({
        "description": "A semantic version (\"2.3.0\"), or a mix of versions and shares: { \"2.3.0\" = 0.9, \"2.1.0\" = 0.1 } (shares ≥ 0, normalised to their sum).",
        "anyOf": [
            { "type": "string" },
            { "type": "object", "additionalProperties": { "type": "number", "minimum": 0 }, "minProperties": 1 }
        ]
    })
);

marker!(
    /// `population.model`, `region`, `connectivity` and `power`: a name or a mix of names.
    NameMix,
    "NameMix",
    |_: &mut SchemaGenerator| json_schema!({
        "description": "A name, or a mix of names and shares: { wired = 0.7, cellular = 0.3 } (shares ≥ 0, normalised to their sum; each device draws its own, independently of the other mixed keys).",
        "anyOf": [
            { "type": "string" },
            { "type": "object", "additionalProperties": { "type": "number", "minimum": 0 }, "minProperties": 1 }
        ]
    })
);

marker!(
    /// `population.utc_offset`: one offset, or one per region of a region mix.
    OffsetByRegion,
    "OffsetByRegion",
    |_: &mut SchemaGenerator| json_schema!({
        "description": "A UTC offset (\"Z\" or ±HH:MM) for every device, or a table by region for a `region` mix: { eu = \"+01:00\", us = \"-05:00\" } (every region of the mix needs one).",
        "anyOf": [
            { "type": "string" },
            { "type": "object", "additionalProperties": { "type": "string" }, "minProperties": 1 }
        ]
    })
);

marker!(
    /// An `[[expect]]` bound: a number or a duration.
    ExpectBound,
    "ExpectBound",
    |g: &mut SchemaGenerator| json_schema!({
        "description": "A number in the metric's unit (seconds for times, a fraction for rates), or a duration string such as \"21d\".",
        "anyOf": [{ "type": "number" }, g.subschema_for::<Duration>()]
    })
);

marker!(
    /// A chaos scope: `"fleet"` or a selector.
    ChaosScope,
    "ChaosScope",
    |g: &mut SchemaGenerator| json_schema!({
        "description": "\"fleet\" (every device) or a selector table such as { region = \"eu\" }.",
        "anyOf": [{ "const": "fleet" }, g.subschema_for::<Selector>()]
    })
);

/// A string that must be one of `names`: (name, description, unit if it has one).
fn one_of_names<'a>(
    description: &str,
    names: impl IntoIterator<Item = (&'a str, &'a str, Option<&'a str>)>,
) -> Schema {
    let alternatives: Vec<Value> = names
        .into_iter()
        .map(|(n, d, unit)| match unit {
            Some(u) => json!({ "const": n, "description": d, "x-unit": u }),
            None => json!({ "const": n, "description": d }),
        })
        .collect();
    json_schema!({ "description": description, "type": "string", "oneOf": alternatives })
}

/// Names with descriptions and no unit.
fn plain<'a>(
    names: &'a [(&'a str, &'a str)],
) -> impl Iterator<Item = (&'a str, &'a str, Option<&'a str>)> {
    names.iter().map(|(n, d)| (*n, *d, None))
}

marker!(
    /// `[[fault]] kind`.
    FaultKind,
    "FaultKind",
    |_: &mut SchemaGenerator| one_of_names("A fault kind.", plain(&FAULT_KIND_DOCS))
);

marker!(
    /// `[[expect]] metric`.
    OutcomeMetric,
    "OutcomeMetric",
    |_: &mut SchemaGenerator| one_of_names(
        "An outcome metric, computed from the ground truth.",
        OUTCOME_METRIC_DOCS.iter().map(|(n, unit, d)| (*n, *d, Some(*unit)))
    )
);

marker!(
    /// `[[expect]] stat`.
    Stat,
    "Stat",
    |_: &mut SchemaGenerator| one_of_names("A statistic across replications.", plain(&STAT_DOCS))
);

marker!(
    /// `[[expect]] world`.
    World,
    "World",
    |_: &mut SchemaGenerator| one_of_names(
        "The world an expectation is judged in.",
        plain(&[
            ("as-written", "The scenario as written (the default)."),
            ("healthy", "The scenario with every release defect removed, as `tune` builds it."),
        ])
    )
);

/// Every fault kind with what it does (the names are `catalog::FAULT_KINDS`; a test keeps
/// them in step).
pub const FAULT_KIND_DOCS: [(&str, &str); 9] = [
    ("network-outage", "Devices in scope are offline for the duration; when it ends they reconnect together (a reconnection storm)."),
    ("power-outage", "`fraction` of the devices in scope lose power: installs in progress are interrupted."),
    ("cdn-degradation", "Downloads get `bandwidth_factor` of their bandwidth and fail with `error_rate`."),
    ("corrupt-artifact", "A download is corrupted with `probability`: the checksum check rejects it."),
    ("tampered-artifact", "A bad signature: every device in scope must reject it (one that installs it is a security violation)."),
    ("telemetry-delay", "Reports in scope are delayed by `delay`, a duration distribution."),
    ("telemetry-drop", "A report is lost with `probability`."),
    ("backend-api", "The backend API version is `api` for the duration (a backend rollback); fleet-wide, no `where`."),
    ("clock-skew", "Device clocks are off by `skew`, a signed duration distribution: maintenance windows open at the wrong time."),
];

/// Every outcome metric with its unit and meaning (the names are `catalog::OUTCOME_METRICS`;
/// a test keeps them in step).
pub const OUTCOME_METRIC_DOCS: [(&str, &str, &str); 39] = [
    ("devices", "devices", "Devices in the fleet."),
    ("targeted", "devices", "Devices the rollout set out to update."),
    ("updated", "devices", "Devices running the target at the end."),
    ("completion", "fraction 0..1", "updated / targeted."),
    ("time_to_50", "seconds", "From rollout start until 50 % of targeted run the target (no value if never)."),
    ("time_to_95", "seconds", "From rollout start until 95 % of targeted run the target (no value if never)."),
    ("time_to_99", "seconds", "From rollout start until 99 % of targeted run the target (no value if never)."),
    ("exposed", "devices", "Devices that booted the target at any time."),
    ("harmed", "devices", "Blast radius: devices that suffered any defect effect or were bricked because of the rollout."),
    ("harmed_critical", "devices", "Harmed devices whose `criticality` tag is `high`."),
    ("bricked", "devices", "Devices that cannot recover without a field visit."),
    ("halted_at", "seconds", "When the rollout halted (no value if it did not)."),
    ("time_to_detect", "seconds", "From the first harm to the first failed gate or abort (no value if none)."),
    ("rolled_back", "devices", "Devices returned to `rollback_to`."),
    ("rollback_refused", "devices", "Devices that could not go back (`downgrade = \"unsafe\"`, bricked)."),
    ("rollback_stranded", "devices", "Devices whose rollback never completed (offline, failed for good, preflight)."),
    ("time_to_recover_95", "seconds", "From the rollback decision until 95 % of recoverable exposed devices run `rollback_to`."),
    ("stranded", "devices", "Devices not updated when the window closed (by reason in summary.json)."),
    ("security_violations", "devices", "Tampered artifacts installed (0 when signatures are checked)."),
    ("watchdog_reverted", "devices", "A/B devices whose boot watchdog reverted a crash-looping image by itself."),
    ("failsafe_reverted", "devices", "Devices whose edge fail-safe reverted a configuration they could not report from."),
    ("delta_fallbacks", "downloads", "Deltas that failed to apply, after which the full image was downloaded (its bytes served too)."),
    ("quarantined", "devices", "Devices quarantined to support after `policy.quarantine.after_failures` failed attempts (no longer retried; stranded as `retries_exhausted`)."),
    ("support_backlog_peak", "items", "Most tickets and quarantined devices in the support queue at once (no value without `support.capacity_per_day`)."),
    ("time_to_clear_support", "seconds", "From the first support item until the queue is empty again after its peak (no value without a queue, or if it is not empty again before the horizon)."),
    ("field_visits", "devices", "Bricked devices a field visit brought back on `rollback_to` before the horizon (they still count as bricked)."),
    ("field_cost", "cost units", "What the field visits cost: `field_visits` × `support.field_visit.cost`."),
    ("rejected", "devices", "Targeted devices that rejected the update at least once (AWS `REJECTED`): refused before the start (incompatible API, blocked migration, storage) or the image's signature rejected."),
    ("peak_in_flight", "devices", "Most devices between download start and result at once."),
    ("bytes_served", "bytes", "Bytes the backend served."),
    ("download_time_p50", "seconds", "Median download time."),
    ("download_time_p95", "seconds", "95th percentile of download time."),
    ("observed_success", "devices", "Successes the backend heard of (the observed view)."),
    ("observed_failure", "devices", "Failures the backend heard of."),
    ("observed_timed_out", "devices", "Devices the backend timed out."),
    ("observed_rejected", "devices", "Devices whose latest outcome the backend heard is `rejected`."),
    ("observed_tickets", "tickets", "Support tickets opened."),
    ("halted", "yes/no (stat `rate`)", "Whether the rollout halted."),
    ("false_halt", "yes/no (stat `rate`)", "The rollout halted although the release has no defect."),
];

/// Every statistic an expectation or guard may name (the names are `catalog::STATS`).
pub const STAT_DOCS: [(&str, &str); 9] = [
    ("mean", "Mean over replications."),
    ("sd", "Standard deviation over replications."),
    ("min", "Smallest value."),
    ("p5", "5th percentile."),
    ("p50", "Median."),
    ("p95", "95th percentile."),
    ("p99", "99th percentile."),
    ("max", "Largest value."),
    (
        "rate",
        "Share of replications where a yes/no metric (`halted`, `false_halt`) is yes.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::catalog::{FAULT_KINDS, OUTCOME_METRICS, STATS};
    use crate::scenario::json_schema::schema;

    #[test]
    fn documented_names_are_the_names_validate_accepts() {
        let faults: Vec<&str> = FAULT_KIND_DOCS.iter().map(|d| d.0).collect();
        assert_eq!(faults, FAULT_KINDS);
        let metrics: Vec<&str> = OUTCOME_METRIC_DOCS.iter().map(|d| d.0).collect();
        assert_eq!(metrics, OUTCOME_METRICS);
        let stats: Vec<&str> = STAT_DOCS.iter().map(|d| d.0).collect();
        assert_eq!(stats, STATS);
    }

    /// Every key of the file is documented: a description, and for a number or a duration its
    /// unit, so the reference never shows an empty cell where the reader needs one.
    #[test]
    fn every_property_has_a_description_and_numbers_a_unit() {
        let schema = schema();
        let mut missing = Vec::new();
        crate::scenario::reference::for_each_property(schema, &mut |path, prop| {
            if prop.description.is_empty() {
                missing.push(format!("{path}: no description"));
            }
            if prop.numeric && prop.unit.is_empty() {
                missing.push(format!("{path}: a number without a unit"));
            }
            if prop.example.is_none() && !prop.table {
                missing.push(format!("{path}: no example"));
            }
        });
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }
}
