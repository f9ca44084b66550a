//! The summary table printed by `fleetsim run`: people-facing, so durations read `3d 4h` and
//! rates read as percentages.

use crate::analysis::run::Summary;
use crate::engine::time::human_secs;
use crate::scenario::catalog::{is_yes_no, YES_NO_METRICS};
use crate::scenario::Scenario;
use crate::stats::Aggregate;

#[derive(Clone, Copy)]
enum Unit {
    Count,
    Share,
    Duration,
    Bytes,
}

const ROWS: [(&str, Unit); 19] = [
    ("targeted", Unit::Count),
    ("updated", Unit::Count),
    ("completion", Unit::Share),
    ("time_to_50", Unit::Duration),
    ("time_to_95", Unit::Duration),
    ("exposed", Unit::Count),
    ("harmed", Unit::Count),
    ("harmed_critical", Unit::Count),
    ("bricked", Unit::Count),
    ("time_to_detect", Unit::Duration),
    ("rolled_back", Unit::Count),
    ("rollback_refused", Unit::Count),
    ("rollback_stranded", Unit::Count),
    ("time_to_recover_95", Unit::Duration),
    ("stranded", Unit::Count),
    ("rejected", Unit::Count),
    ("peak_in_flight", Unit::Count),
    ("bytes_served", Unit::Bytes),
    ("download_time_p95", Unit::Duration),
];

/// Rows of the support and operations metrics, each shown only when the scenario models what
/// it measures (a quarantine, the team's queue, field visits), so other tables stay as they are.
fn support_rows(sc: &Scenario) -> Vec<(&'static str, Unit)> {
    let mut rows = Vec::new();
    if sc.policy.quarantine_after.is_some() {
        rows.push(("quarantined", Unit::Count));
    }
    if sc.support.queue.is_some() {
        rows.push(("support_backlog_peak", Unit::Count));
        rows.push(("time_to_clear_support", Unit::Duration));
    }
    if sc.support.field_visit.is_some() {
        rows.push(("field_visits", Unit::Count));
        rows.push(("field_cost", Unit::Count));
    }
    // Edge fail-safes and delta fallbacks, when the scenario has what they count.
    if sc.populations.iter().any(|p| p.watchdog.is_some()) {
        rows.push(("watchdog_reverted", Unit::Count));
    }
    if sc.versions.iter().any(|r| r.fail_safe_ms.is_some()) {
        rows.push(("failsafe_reverted", Unit::Count));
    }
    if sc.versions.iter().any(|r| r.delta_failure > 0.0) {
        rows.push(("delta_fallbacks", Unit::Count));
    }
    rows
}

fn fmt(x: Option<f64>, unit: Unit) -> String {
    let Some(x) = x else { return "-".into() };
    if x < 0.0 && x.is_finite() {
        // A difference or the lower end of an interval can be negative: sign, then magnitude.
        return format!("-{}", fmt(Some(-x), unit));
    }
    match unit {
        Unit::Count if (x - x.round()).abs() < 1e-9 => format!("{}", x.round() as i64),
        Unit::Count => format!("{x:.1}"),
        Unit::Share => format!("{:.1}%", x * 100.0),
        Unit::Duration => human_secs(x),
        Unit::Bytes => {
            let units = ["B", "KB", "MB", "GB", "TB"];
            let mut v = x;
            let mut i = 0;
            while v >= 1000.0 && i + 1 < units.len() {
                v /= 1000.0;
                i += 1;
            }
            format!("{v:.1} {}", units[i])
        }
    }
}

pub fn render(sc: &Scenario, summary: &Summary, replications: u64) -> String {
    let mut out = format!(
        "{} — {} devices, {} replications, seed {}\n\n",
        sc.name,
        sc.device_count(),
        replications,
        sc.seed
    );
    out.push_str(&format!(
        "{:<20} {:>12} {:>12} {:>12}\n",
        "metric", "mean", "p50", "p95"
    ));
    for (name, unit) in ROWS.into_iter().chain(support_rows(sc)) {
        let a = summary
            .metrics
            .get(name)
            .cloned()
            .unwrap_or_else(Aggregate::default);
        if a.n == 0 && a.missing > 0 {
            out.push_str(&format!(
                "{:<20} {:>12} {:>12} {:>12}   (no value in {} runs)\n",
                name, "-", "-", "-", a.missing
            ));
            continue;
        }
        let note = if a.missing > 0 {
            format!("   (no value in {} runs)", a.missing)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{:<20} {:>12} {:>12} {:>12}{note}\n",
            name,
            fmt(a.mean, unit),
            fmt(a.p50, unit),
            fmt(a.p95, unit)
        ));
    }
    for name in YES_NO_METRICS {
        if let Some(r) = summary.rates.get(name) {
            out.push_str(&format!(
                "{:<20} {:>12}   ({} of {}; 95% CI {:.1}%–{:.1}%)\n",
                name,
                fmt(Some(r.rate), Unit::Share),
                r.count,
                r.n,
                r.wilson95_low * 100.0,
                r.wilson95_high * 100.0
            ));
        }
    }
    let mut first = true;
    for (label, map) in [
        ("stranded", &summary.stranded_by_reason),
        ("preflight deferrals", &summary.deferrals_by_reason),
    ] {
        let reasons: Vec<String> = map
            .iter()
            .filter(|(_, a)| a.mean.unwrap_or(0.0) > 0.0)
            .map(|(k, a)| format!("{k} {}", fmt(a.mean, Unit::Count)))
            .collect();
        if !reasons.is_empty() {
            let gap = if std::mem::take(&mut first) { "\n" } else { "" };
            out.push_str(&format!(
                "{gap}{label} (mean) by reason: {}\n",
                reasons.join(", ")
            ));
        }
    }
    for (name, g) in &summary.shadow_gates {
        out.push_str(&format!(
            "shadow gate {name}: would fire in {} ({} of {}), at {} on average, with {} devices harmed and {} exposed by then\n",
            fmt(Some(g.fired.rate), Unit::Share),
            g.fired.count,
            g.fired.n,
            fmt(g.fired_at.mean, Unit::Duration),
            fmt(g.harmed_at_fire.mean, Unit::Count),
            fmt(g.exposed_at_fire.mean, Unit::Count),
        ));
    }
    if !summary.halt_reasons.is_empty() {
        out.push_str(&format!(
            "halt reasons: {}\n",
            halt_reasons_list(&summary.halt_reasons)
        ));
    }
    out
}

/// The three most frequent halt reasons, `gate:canary:silent_rate ×26, abort:… ×11`, or `none`:
/// the line of the run summary, also behind `check` verdicts and `compare` results.
pub fn halt_reasons_list(counts: &std::collections::BTreeMap<String, u64>) -> String {
    if counts.is_empty() {
        return "none".into();
    }
    let mut hr: Vec<_> = counts.iter().collect();
    hr.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let top: Vec<String> = hr
        .iter()
        .take(3)
        .map(|(k, v)| format!("{k} ×{v}"))
        .collect();
    top.join(", ")
}

fn unit_of(metric: &str) -> Unit {
    ROWS.iter().find(|(n, _)| *n == metric).map_or(
        if metric.starts_with("time_to")
            || metric.starts_with("download_time")
            || metric == "halted_at"
        {
            Unit::Duration
        } else {
            Unit::Count
        },
        |(_, u)| *u,
    )
}

/// The table of `fleetsim compare`: guarded metrics first, then every metric's mean, then the
/// halt reasons of each world.
pub fn render_compare(
    sc: &Scenario,
    doc: &crate::report::folder::CompareDoc,
    tolerance: f64,
) -> String {
    let rows = &doc.rows;
    let mut out = format!(
        "{} — paired on seed {}, {} replications (tolerance {})\n\n",
        sc.name, sc.seed, sc.replications, tolerance
    );
    out.push_str(&format!(
        "{:<26} {:>12} {:>12} {:>12}   {}\n",
        "metric", "base", "candidate", "diff", "paired 95% CI"
    ));
    let mut ordered: Vec<&crate::analysis::compare::Row> =
        rows.iter().filter(|r| r.guarded).collect();
    ordered.extend(rows.iter().filter(|r| !r.guarded));
    for r in ordered {
        let unit = if r.stat == "rate" {
            Unit::Share
        } else {
            unit_of(&r.metric)
        };
        let diff = r.candidate.zip(r.base).map(|(c, b)| c - b);
        let ci = r.diff_ci95.map_or(String::new(), |(lo, hi)| {
            format!("[{}, {}]", signed(Some(lo), unit), signed(Some(hi), unit))
        });
        let mark = if r.regressed {
            "  REGRESSED"
        } else if r.guarded {
            "  (guarded)"
        } else {
            ""
        };
        let fmt_diff = |d: Option<f64>| signed(d, unit);
        out.push_str(&format!(
            "{:<26} {:>12} {:>12} {:>12}   {ci}{mark}\n",
            r.label(),
            fmt(r.base, unit),
            fmt(r.candidate, unit),
            fmt_diff(diff)
        ));
    }
    for h in &doc.halt_reasons {
        out.push_str(&format!("\nhalt reasons {}", compare_halt_reasons(h)));
    }
    if !doc.halt_reasons.is_empty() {
        out.push('\n');
    }
    out
}

/// A difference in people units, always signed: `+2h 0m`, `-14.7`, `+1.2 pp` for a share
/// (percentage points), `+3.3 GB`.
fn signed(x: Option<f64>, unit: Unit) -> String {
    let Some(d) = x else { return "-".into() };
    let sign = if d < 0.0 { "-" } else { "+" };
    match unit {
        Unit::Share => format!("{sign}{:.1} pp", d.abs() * 100.0),
        Unit::Count => format!("{sign}{:.1}", d.abs()),
        _ => format!("{sign}{}", fmt(Some(d.abs()), unit)),
    }
}

/// A difference in a metric's people units, always signed: `+2h 0m`, `-14.7`, `+10.0%` (for
/// shares, percentage points).
pub fn human_signed(metric: &str, x: Option<f64>) -> String {
    match x {
        Some(v) if v >= 0.0 => format!("+{}", human_value(metric, Some(v))),
        other => human_value(metric, other),
    }
}

/// A compared statistic as people read it: a rate as a percentage, else in the metric's units.
pub fn compare_value(metric: &str, stat: &str, x: Option<f64>) -> String {
    if stat == "rate" {
        x.map_or("-".into(), pct)
    } else {
        human_value(metric, x)
    }
}

/// A difference of a compared statistic, signed: percentage points for a rate, else the
/// metric's units.
pub fn compare_diff(metric: &str, stat: &str, x: Option<f64>) -> String {
    if stat == "rate" {
        x.map_or("-".into(), |v| format!("{:+.1} pp", v * 100.0))
    } else {
        human_signed(metric, x)
    }
}

/// A count as people read it: whole numbers as they are, others to one decimal.
pub fn count_text(x: f64) -> String {
    fmt(Some(x), Unit::Count)
}

/// An expectation's bounds in the metric's people units (`halted rate ≥ 95.0%`,
/// `time_to_95 p95 ≤ 21d 0h`), as the observed value next to it is shown.
pub fn bound_human(metric: &str, stat: &str, min: Option<f64>, max: Option<f64>) -> String {
    let unit = if stat == "rate" { "halted" } else { metric };
    let f = |x: f64| human_value(unit, Some(x));
    match (min, max) {
        (Some(lo), Some(hi)) => format!("{} ≤ {metric} {stat} ≤ {}", f(lo), f(hi)),
        (Some(lo), None) => format!("{metric} {stat} ≥ {}", f(lo)),
        (None, Some(hi)) => format!("{metric} {stat} ≤ {}", f(hi)),
        (None, None) => format!("{metric} {stat}"),
    }
}

/// A verdict's expectation in people units, marked `[healthy]` when judged in the healthy
/// world: `false_halt rate ≤ 5.0% [healthy]`, `time_to_95 p95 ≤ 21d 0h`.
pub fn verdict_label(v: &crate::analysis::expect::Verdict) -> String {
    let bound = bound_human(&v.metric, &v.stat, v.min, v.max);
    match v.world {
        crate::scenario::model::World::AsWritten => bound,
        crate::scenario::model::World::Healthy => format!("{bound} [healthy]"),
    }
}

/// A verdict's observed statistic in the same units as its bound, with its 95 % interval when
/// it has one: `100.0% [95% CI 92.9% – 100.0%]`, `5d 13h`, `no value`.
pub fn verdict_observed(v: &crate::analysis::expect::Verdict) -> String {
    let unit = if v.stat == "rate" {
        "halted"
    } else {
        v.metric.as_str()
    };
    let Some(x) = v.observed else {
        return "no value".into();
    };
    let interval = v.interval.map_or(String::new(), |(lo, hi)| {
        format!(
            " [95% CI {} – {}]",
            human_value(unit, Some(lo)),
            human_value(unit, Some(hi))
        )
    });
    format!("{}{interval}", human_value(unit, Some(x)))
}

/// A fraction as a percentage with one decimal: `0.0123` → `1.2%`.
/// `(healthy world): base none; candidate gate:canary:insufficient ×20` — one world's halt
/// reasons of both policies of a comparison, for the terminal and the HTML page.
pub fn compare_halt_reasons(h: &crate::analysis::compare::HaltReasons) -> String {
    format!(
        "({} world): base {}; candidate {}",
        h.world.name(),
        halt_reasons_list(&h.base),
        halt_reasons_list(&h.candidate)
    )
}

pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Metrics whose values are seconds (shown as `3d 4h`).
pub fn is_duration(metric: &str) -> bool {
    metric.starts_with("time_") || metric.starts_with("download_time") || metric.ends_with("_at")
}

/// Metrics whose values are fractions (shown as percentages).
pub fn is_share(metric: &str) -> bool {
    metric == "completion" || metric.ends_with("_rate") || is_yes_no(metric)
}

/// A metric's value as people read it: durations as `3d 4h`, shares as percentages, bytes in
/// MB/GB, counts as whole numbers (one decimal for means).
pub fn human_value(metric: &str, x: Option<f64>) -> String {
    let unit = if is_duration(metric) {
        Unit::Duration
    } else if is_share(metric) {
        Unit::Share
    } else if metric == "bytes_served" {
        Unit::Bytes
    } else {
        Unit::Count
    };
    fmt(x, unit)
}

#[cfg(test)]
mod tests {
    /// The summary table is a selection of the catalog's metrics, named as the summary stores
    /// them: a row named otherwise would print `-` forever.
    #[test]
    fn rows_are_catalog_metrics() {
        let support = [
            "quarantined",
            "support_backlog_peak",
            "time_to_clear_support",
        ];
        let names = (super::ROWS.iter().map(|r| r.0))
            .chain(support)
            .chain(["field_visits", "field_cost"])
            .chain(["watchdog_reverted", "failsafe_reverted", "delta_fallbacks"]);
        for name in names {
            assert!(
                crate::scenario::catalog::NUMERIC_METRICS.contains(&name),
                "{name}"
            );
        }
    }
}
