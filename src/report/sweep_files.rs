//! Outputs of `fleetsim sweep` (`sweep.csv`, `sweep.json`) and `fleetsim tune` (`tune.csv`,
//! `tune.json`), and their tables.

use super::num;
use crate::analysis::run::Summary;
use crate::error::{Error, Result};
use crate::stats::{Aggregate, RateSummary};
use std::collections::BTreeMap;
use std::path::Path;

/// One point of a sweep: its parameter values and every metric's summary.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SweepPoint {
    pub point: usize,
    pub params: Vec<(String, String)>,
    pub metrics: BTreeMap<String, Aggregate>,
    pub rates: BTreeMap<String, RateSummary>,
    pub pareto: bool,
}

impl SweepPoint {
    pub fn new(point: usize, params: Vec<(String, String)>, s: &Summary) -> SweepPoint {
        SweepPoint {
            point,
            params,
            metrics: s.metrics.clone(),
            rates: s.rates.clone(),
            pareto: false,
        }
    }

    /// The value of an objective's metric and statistic at this point (a rate for yes/no
    /// metrics).
    pub fn objective(&self, o: &crate::analysis::sweep::Objective) -> Option<f64> {
        if let Some(r) = self.rates.get(&o.metric) {
            return Some(r.rate);
        }
        self.metrics.get(&o.metric)?.stat(&o.stat)
    }
}

fn io(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(
        format!("cannot write {}", path.display()),
        std::io::Error::other(e.to_string()),
    )
}

pub fn sweep_csv(path: &Path, points: &[SweepPoint]) -> Result<()> {
    let mut w = csv::Writer::from_path(path).map_err(|e| io(path, e))?;
    let Some(first) = points.first() else {
        return w.flush().map_err(|e| io(path, e));
    };
    let mut header = vec!["point".to_string()];
    header.extend(first.params.iter().map(|(p, _)| p.clone()));
    for m in first.metrics.keys() {
        for s in ["mean", "p50", "p95", "ci95_low", "ci95_high"] {
            header.push(format!("{m}_{s}"));
        }
    }
    for r in first.rates.keys() {
        for s in ["rate", "wilson95_low", "wilson95_high"] {
            header.push(format!("{r}_{s}"));
        }
    }
    header.push("pareto".into());
    w.write_record(&header).map_err(|e| io(path, e))?;
    for p in points {
        let mut row = vec![p.point.to_string()];
        row.extend(p.params.iter().map(|(_, v)| v.clone()));
        for a in p.metrics.values() {
            row.extend([a.mean, a.p50, a.p95, a.ci95_low, a.ci95_high].map(num));
        }
        for r in p.rates.values() {
            row.extend([r.rate, r.wilson95_low, r.wilson95_high].map(|x| num(Some(x))));
        }
        row.push(p.pareto.to_string());
        w.write_record(&row).map_err(|e| io(path, e))?;
    }
    w.flush().map_err(|e| io(path, e))
}

/// One candidate gate setting evaluated by `tune`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TunePoint {
    pub point: usize,
    pub params: Vec<(String, String)>,
    /// Healthy world: how often the gates halt a release with no defect.
    pub false_halt: RateSummary,
    /// Healthy world: median seconds to 95 % of the fleet.
    pub time_to_95_p50: Option<f64>,
    /// Defective world: blast radius and detection.
    pub harmed_mean: Option<f64>,
    pub harmed_p95: Option<f64>,
    pub time_to_detect_mean: Option<f64>,
    pub halted_rate: f64,
    pub pareto: bool,
    pub recommended: bool,
}

/// What `tune` recommends and how firmly. A setting qualifies as "false halts ≤ the limit" only
/// when the 95 % Wilson upper bound of its false-halt rate is at or below the limit: with 20
/// healthy runs and none halted the rate could still be 16 %, and the point estimate alone
/// would certify it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Recommendation {
    /// The smallest mean blast radius among the settings that qualify on the interval.
    pub recommended: Option<usize>,
    /// `"interval"` when a setting is recommended (the Wilson upper bound was compared).
    pub recommended_on: Option<String>,
    /// `"sufficient"` (a setting qualifies on the interval), `"too_thin"` (none does, but some
    /// would on the point estimate) or `"none"` (none would even on the point estimate).
    pub evidence: String,
    /// With thin evidence: the setting the point estimate would pick.
    pub leading: Option<usize>,
    /// With thin evidence: the replication count at which the leading setting's observed
    /// false-halt proportion would put its Wilson upper bound at or below the limit (`None`
    /// when no count up to a billion would).
    pub replications_needed: Option<u64>,
}

pub fn tune_csv(path: &Path, points: &[TunePoint]) -> Result<()> {
    let mut w = csv::Writer::from_path(path).map_err(|e| io(path, e))?;
    let Some(first) = points.first() else {
        return w.flush().map_err(|e| io(path, e));
    };
    let mut header = vec!["point".to_string()];
    header.extend(first.params.iter().map(|(p, _)| p.clone()));
    header.extend(
        [
            "false_halt_rate",
            "false_halt_wilson95_low",
            "false_halt_wilson95_high",
            "time_to_95_p50",
            "harmed_mean",
            "harmed_p95",
            "time_to_detect_mean",
            "halted_rate",
            "pareto",
            "recommended",
        ]
        .map(String::from),
    );
    w.write_record(&header).map_err(|e| io(path, e))?;
    for p in points {
        let mut row = vec![p.point.to_string()];
        row.extend(p.params.iter().map(|(_, v)| v.clone()));
        row.extend([
            num(Some(p.false_halt.rate)),
            num(Some(p.false_halt.wilson95_low)),
            num(Some(p.false_halt.wilson95_high)),
            num(p.time_to_95_p50),
            num(p.harmed_mean),
            num(p.harmed_p95),
            num(p.time_to_detect_mean),
            num(Some(p.halted_rate)),
            p.pareto.to_string(),
            p.recommended.to_string(),
        ]);
        w.write_record(&row).map_err(|e| io(path, e))?;
    }
    w.flush().map_err(|e| io(path, e))
}

/// A point's parameters by their full paths, for sentences: `policy.rate.per_minute=10,
/// policy.stage[canary].bake=1d`.
fn params_text(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(p, v)| format!("{p}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The parameter columns of a terminal table: a key naming each parameter by its full path
/// (`  p1  policy.stage[canary].gate.check[1].max`), then one narrow column per parameter
/// headed `p1`, `p2`, …, so that the table stays as wide as its values however long the paths.
struct ParamColumns {
    key: String,
    widths: Vec<usize>,
}

impl ParamColumns {
    fn new(points: &[&[(String, String)]]) -> ParamColumns {
        let Some(first) = points.first() else {
            return ParamColumns {
                key: String::new(),
                widths: Vec::new(),
            };
        };
        let mut key = String::from("parameters:\n");
        let widths = first
            .iter()
            .enumerate()
            .map(|(i, (path, _))| {
                key.push_str(&format!("  p{}  {path}\n", i + 1));
                points
                    .iter()
                    .filter_map(|p| p.get(i).map(|(_, v)| v.chars().count()))
                    .chain([format!("p{}", i + 1).len()])
                    .max()
                    .unwrap_or(2)
            })
            .collect();
        key.push('\n');
        ParamColumns { key, widths }
    }
    fn header(&self) -> String {
        self.widths
            .iter()
            .enumerate()
            .map(|(i, w)| format!("  {:>w$}", format!("p{}", i + 1)))
            .collect()
    }
    fn row(&self, params: &[(String, String)]) -> String {
        self.widths
            .iter()
            .zip(params)
            .map(|(w, (_, v))| format!("  {v:>w$}"))
            .collect()
    }
}

fn h(x: Option<f64>) -> String {
    x.map_or("-".into(), crate::engine::time::human_secs)
}

fn n(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.1}"))
}

pub fn sweep_table(points: &[SweepPoint]) -> String {
    let cols = ParamColumns::new(
        &points
            .iter()
            .map(|p| p.params.as_slice())
            .collect::<Vec<_>>(),
    );
    let mut out = format!(
        "{}{:>5}{} {:>10} {:>10} {:>11} {:>11} {:>10}\n",
        cols.key,
        "point",
        cols.header(),
        "harmed",
        "harmed p95",
        "time_to_95",
        "completion",
        "false halt"
    );
    for p in points {
        let m = |k: &str| p.metrics.get(k);
        out.push_str(&format!(
            "{:>5}{} {:>10} {:>10} {:>11} {:>10.1}% {:>9.1}%{}\n",
            p.point,
            cols.row(&p.params),
            n(m("harmed").and_then(|a| a.mean)),
            n(m("harmed").and_then(|a| a.p95)),
            h(m("time_to_95").and_then(|a| a.p50)),
            m("completion").and_then(|a| a.mean).unwrap_or(0.0) * 100.0,
            p.rates.get("false_halt").map_or(0.0, |r| r.rate) * 100.0,
            if p.pareto { "  ◆ pareto" } else { "" }
        ));
    }
    out
}

pub fn tune_table(points: &[TunePoint], rec: &Recommendation, max_false_halt: f64) -> String {
    let cols = ParamColumns::new(
        &points
            .iter()
            .map(|p| p.params.as_slice())
            .collect::<Vec<_>>(),
    );
    let mut out = format!(
        "{}{:>5}{} {:>16} {:>10} {:>10} {:>13} {:>11}\n",
        cols.key,
        "point",
        cols.header(),
        "false halt",
        "harmed",
        "harmed p95",
        "detect",
        "time_to_95"
    );
    for p in points {
        let mark = if p.recommended {
            "  ★ recommended"
        } else if rec.leading == Some(p.point) {
            "  ☆ leading (too thin)"
        } else if p.pareto {
            "  ◆ pareto"
        } else {
            ""
        };
        out.push_str(&format!(
            "{:>5}{} {:>6.1}% ({:>4.1}–{:>4.1}) {:>10} {:>10} {:>13} {:>11}{mark}\n",
            p.point,
            cols.row(&p.params),
            p.false_halt.rate * 100.0,
            p.false_halt.wilson95_low * 100.0,
            p.false_halt.wilson95_high * 100.0,
            n(p.harmed_mean),
            n(p.harmed_p95),
            h(p.time_to_detect_mean),
            h(p.time_to_95_p50),
        ));
    }
    out.push('\n');
    out.push_str(&recommendation_text(points, rec, max_false_halt));
    out
}

/// The recommendation as a sentence, or why there is none and what would settle it.
pub fn recommendation_text(points: &[TunePoint], rec: &Recommendation, limit: f64) -> String {
    let find = |i: Option<usize>| i.and_then(|i| points.iter().find(|p| p.point == i));
    if let Some(p) = find(rec.recommended) {
        return format!(
            "recommended: {} — the smallest blast radius with a false-halt rate ≤ {:.1} % (95 % upper bound {:.1} %)\n",
            params_text(&p.params),
            limit * 100.0,
            p.false_halt.wilson95_high * 100.0
        );
    }
    let Some(p) = find(rec.leading) else {
        return format!(
            "no setting meets a false-halt rate ≤ {:.1} %: widen the search or relax the limit\n",
            limit * 100.0
        );
    };
    let settle = rec.replications_needed.map_or(
        "no replication count settles it at that proportion".to_string(),
        |n| {
            format!(
                "{n} replications seeing the same proportion would settle it (--replications {n})"
            )
        },
    );
    format!(
        "no setting is shown to have a false-halt rate ≤ {:.1} %: the evidence is too thin. {} leads on the point estimate ({} false halts in {} healthy runs, 95 % upper bound {:.1} %); {settle}\n",
        limit * 100.0,
        params_text(&p.params),
        p.false_halt.count,
        p.false_halt.n,
        p.false_halt.wilson95_high * 100.0
    )
}
