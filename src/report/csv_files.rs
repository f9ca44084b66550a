//! The CSV outputs: `replications.csv`, `timeseries.csv`, `stages.csv`, and on request
//! `devices.csv` and `events.csv`. Times are seconds; a metric with no value is an empty cell.

use super::num;
use crate::analysis::run::{numeric_metrics, yes_no_metrics, DeviceRow};
use crate::error::{Error, Result};
use crate::metrics::outcome::Outcome;
use crate::replication::TraceRow;
use crate::scenario::Scenario;
use std::path::Path;

fn writer(path: &Path) -> Result<csv::Writer<std::fs::File>> {
    csv::Writer::from_path(path).map_err(|e| {
        Error::io(
            format!("cannot write {}", path.display()),
            std::io::Error::other(e),
        )
    })
}

fn io(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(
        format!("cannot write {}", path.display()),
        std::io::Error::other(e.to_string()),
    )
}

pub fn replications(path: &Path, outcomes: &[Outcome]) -> Result<()> {
    let mut w = writer(path)?;
    let Some(first) = outcomes.first() else {
        return w.flush().map_err(|e| io(path, e));
    };
    let mut header: Vec<String> = vec!["replication".into()];
    header.extend(numeric_metrics(first).iter().map(|(n, _)| n.to_string()));
    header.extend(yes_no_metrics(first).map(|(n, _)| n.to_string()));
    header.extend(["halt_reason", "final_stage"].map(String::from));
    header.extend(
        first
            .stranded_by_reason
            .keys()
            .map(|k| format!("stranded_{k}")),
    );
    header.extend(
        first
            .failures_by_reason
            .keys()
            .map(|k| format!("failures_{k}")),
    );
    header.extend(
        first
            .deferrals_by_reason
            .keys()
            .map(|k| format!("deferrals_{k}")),
    );
    header.extend(
        first
            .rollback_stranded_by_reason
            .keys()
            .map(|k| format!("rollback_stranded_{k}")),
    );
    header.push("events".into());
    for g in &first.shadow_gates {
        for col in ["fired", "fired_at", "harmed_at_fire", "exposed_at_fire"] {
            header.push(format!("shadow_{}_{col}", g.name));
        }
    }
    w.write_record(&header).map_err(|e| io(path, e))?;
    for o in outcomes {
        let mut row: Vec<String> = vec![o.replication.to_string()];
        row.extend(numeric_metrics(o).iter().map(|(_, v)| num(*v)));
        row.extend(yes_no_metrics(o).map(|(_, v)| v.to_string()));
        row.push(o.halt_reason.clone().unwrap_or_default());
        row.push(o.final_stage.clone().unwrap_or_default());
        row.extend(o.stranded_by_reason.values().map(|v| v.to_string()));
        row.extend(o.failures_by_reason.values().map(|v| v.to_string()));
        row.extend(o.deferrals_by_reason.values().map(|v| v.to_string()));
        row.extend(
            o.rollback_stranded_by_reason
                .values()
                .map(|v| v.to_string()),
        );
        row.push(o.events.to_string());
        for g in &o.shadow_gates {
            row.push(g.fired.to_string());
            row.push(num(g.fired_at));
            row.push(num(g.harmed_at_fire.map(|v| v as f64)));
            row.push(num(g.exposed_at_fire.map(|v| v as f64)));
        }
        w.write_record(&row).map_err(|e| io(path, e))?;
    }
    w.flush().map_err(|e| io(path, e))
}

pub fn timeseries(path: &Path, sc: &Scenario, rows: &[Vec<f64>]) -> Result<()> {
    let mut w = writer(path)?;
    let mut header = vec!["time".to_string(), "hour".to_string()];
    header.extend(crate::metrics::series::columns(sc));
    w.write_record(&header).map_err(|e| io(path, e))?;
    for (h, row) in rows.iter().enumerate() {
        let mut rec = vec![(h * 3600).to_string(), h.to_string()];
        rec.extend(row.iter().map(|x| num(Some(*x))));
        w.write_record(&rec).map_err(|e| io(path, e))?;
    }
    w.flush().map_err(|e| io(path, e))
}

pub fn stages(path: &Path, outcomes: &[Outcome]) -> Result<()> {
    let mut w = writer(path)?;
    w.write_record([
        "replication",
        "stage",
        "time",
        "check",
        "test",
        "count",
        "base",
        "observed",
        "bound",
        "threshold",
        "passed",
        "decision",
    ])
    .map_err(|e| io(path, e))?;
    for o in outcomes {
        for g in &o.gates {
            w.write_record([
                o.replication.to_string(),
                g.stage.clone(),
                num(Some(g.time)),
                g.check.clone(),
                g.test.clone(),
                num(Some(g.count)),
                num(Some(g.base)),
                num(g.observed),
                num(g.bound),
                num(Some(g.threshold)),
                g.passed.to_string(),
                g.decision.clone(),
            ])
            .map_err(|e| io(path, e))?;
        }
    }
    w.flush().map_err(|e| io(path, e))
}

pub fn devices(path: &Path, rows: &[DeviceRow]) -> Result<()> {
    let mut w = writer(path)?;
    for r in rows {
        w.serialize(r).map_err(|e| io(path, e))?;
    }
    w.flush().map_err(|e| io(path, e))
}

pub fn events(path: &Path, rows: &[TraceRow]) -> Result<()> {
    let mut w = writer(path)?;
    w.write_record(["time", "event", "device", "detail"])
        .map_err(|e| io(path, e))?;
    for r in rows {
        let device = r.device.map(|d| d.to_string()).unwrap_or_default();
        w.write_record([
            num(Some(r.time_ms as f64 / 1000.0)),
            r.event.to_string(),
            device,
            r.detail.clone(),
        ])
        .map_err(|e| io(path, e))?;
    }
    w.flush().map_err(|e| io(path, e))
}

/// `breakdown.csv`: per population and stage (`not targeted` for devices no stage took), the
/// mean over replications of the [`BREAKDOWN`](crate::analysis::run::BREAKDOWN) device counts
/// at the end of the run. Groups with no device are left out. The report rolls the rows up by
/// model, region and stage.
pub fn breakdown(path: &Path, sc: &Scenario, sums: &[u64], replications: usize) -> Result<()> {
    use crate::analysis::run::BREAKDOWN;
    let mut w = writer(path)?;
    let mut header: Vec<&str> = vec!["population", "model", "region", "stage"];
    header.extend(BREAKDOWN);
    w.write_record(&header).map_err(|e| io(path, e))?;
    let stages = sc.policy.stages.len() + 1;
    let n = replications.max(1) as f64;
    // Variants of a population with mixes that differ only in connectivity or power are one
    // row: the rows are keyed by population, model, region and stage, in first-seen order.
    let mut rows: Vec<(Vec<String>, Vec<u64>)> = Vec::new();
    let mut index: std::collections::HashMap<Vec<String>, usize> = Default::default();
    for (g, counts) in sums.chunks(BREAKDOWN.len()).enumerate() {
        let (pop, stage) = (&sc.populations[g / stages], g % stages);
        if counts[0] == 0 {
            continue;
        }
        let stage = sc
            .policy
            .stages
            .get(stage)
            .map_or("not targeted", |s| s.name.as_str());
        let key = vec![
            pop.name.clone(),
            pop.model.clone(),
            pop.region.clone(),
            stage.to_string(),
        ];
        match index.get(&key) {
            Some(&i) => crate::analysis::run::add_into(&mut rows[i].1, counts),
            None => {
                index.insert(key.clone(), rows.len());
                rows.push((key, counts.to_vec()));
            }
        }
    }
    for (mut row, counts) in rows {
        row.extend(counts.iter().map(|&c| num(Some(c as f64 / n))));
        w.write_record(&row).map_err(|e| io(path, e))?;
    }
    w.flush().map_err(|e| io(path, e))
}
