//! Renders the people-facing part of a results folder — `plots/*.svg|png`, `report.html`,
//! `summary.md` — from the data files in it. `run`, `sweep`, `tune` and `compare` call this on
//! their staging folder before it is moved into place; `fleetsim report DIR` calls it on a copy
//! of an existing folder. Either way the report is a function of the data files alone.

use super::folder::{self, Folder, Table};
use super::plots::spread::distributions;
use super::plots::timeline::{
    active_range, composition, failures, observed_vs_true, Reading, TimeView,
};
use super::plots::tradeoff::{self, ComparePanel, TradeAxes, TradePoint};
use super::plots::{Marker, TimeAxis, PALETTE};
use super::summary::SummaryFile;
use super::{html_experiment, html_run, markdown};
use crate::analysis::sweep::parse_objective;
use crate::error::{Error, Result};
use crate::metrics::series::{column, FAILURES_PREFIX, VERSION_PREFIX};
use crate::plot;
use std::path::Path;

const STRIP: (u32, u32) = (1000, 320);
const TALL: (u32, u32) = (1000, 760);
const SQUARE: (u32, u32) = (900, 560);

/// Writes the plots, `report.html` and `summary.md` of the results folder `dir`.
pub fn render(dir: &Path) -> Result<()> {
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots)
        .map_err(|e| Error::io(format!("cannot create {}", plots.display()), e))?;
    let (html, md) = match folder::load(dir)? {
        Folder::Run {
            summary,
            replications,
            timeseries,
            stages,
            breakdown,
        } => {
            let svgs = run_plots(&plots, &summary, &replications, &timeseries, &stages)?;
            let files = html_run::RunFiles {
                summary: &summary,
                replications: &replications,
                stages: &stages,
                breakdown: breakdown.as_ref(),
            };
            (
                html_run::page(&files, &svgs),
                markdown::run(&summary, &stages, breakdown.as_ref()),
            )
        }
        Folder::Sweep(d) => {
            let svg = sweep_plot(&plots, &d)?;
            (html_experiment::sweep_page(&d, &svg), markdown::sweep(&d))
        }
        Folder::Tune(d) => {
            let svg = tune_plot(&plots, &d)?;
            (html_experiment::tune_page(&d, &svg), markdown::tune(&d))
        }
        Folder::Chaos(d) => (html_experiment::chaos_page(&d), markdown::chaos(&d)),
        Folder::Compare(d) => {
            let svg = compare_plot(&plots, &d)?;
            (
                html_experiment::compare_page(&d, &svg),
                markdown::compare(&d),
            )
        }
    };
    for (name, text) in [("report.html", html), ("summary.md", md)] {
        std::fs::write(dir.join(name), text)
            .map_err(|e| Error::io(format!("cannot write {name}"), e))?;
    }
    Ok(())
}

/// Stage openings, the halt and the rollback, each at its median time across the replications
/// where it happened; a label says in how many runs when that was not all of them, so a single
/// false halt in twenty runs does not read like the rollout's fate.
pub fn markers(s: &SummaryFile) -> Vec<Marker> {
    let label = |name: &str, n: u64| {
        if n < s.replications {
            format!("{name} ({n}/{})", s.replications)
        } else {
            name.to_string()
        }
    };
    let mut out: Vec<Marker> = s
        .stages
        .iter()
        .filter_map(|st| {
            Some(Marker {
                at: st.opened_at.p50?,
                label: label(&st.stage, st.opened_at.n),
                color: PALETTE[7],
            })
        })
        .collect();
    if let Some(a) = s.summary.metrics.get("halted_at") {
        if let Some(at) = a.p50 {
            out.push(Marker {
                at,
                label: label("halt", a.n),
                color: PALETTE[3],
            });
        }
    }
    if let Some(at) = s.rollback_at.p50 {
        out.push(Marker {
            at,
            label: label("rollback", s.rollback_at.n),
            color: PALETTE[2],
        });
    }
    out
}

fn run_plots(
    dir: &Path,
    s: &SummaryFile,
    reps: &Table,
    ts: &Table,
    stages: &Table,
) -> Result<html_run::RunPlots> {
    let axis = TimeAxis::for_horizon(s.horizon);
    let m = markers(s);
    // One time range for every time plot, so that a moment sits at the same place on each.
    let range = time_range(ts, axis, &m);
    let view = TimeView {
        axis,
        range: &range,
        markers: &m,
    };
    let readings = gate_readings(s, stages);
    let target = format!("{VERSION_PREFIX}{}", s.glance.target);
    Ok(html_run::RunPlots {
        composition: plot!(dir, "composition", TALL, composition, ts, &target, &view)?,
        observed: plot!(
            dir,
            "observed",
            TALL,
            observed_vs_true,
            ts,
            &readings,
            &view
        )?,
        failures: plot!(dir, "failures", TALL, failures, ts, &view)?,
        distributions: plot!(dir, "distributions", STRIP, distributions, reps)?,
    })
}

/// The time range every time plot shows: up to a little after the last visible change of any
/// plotted column, and far enough to show every marker.
fn time_range(ts: &Table, axis: TimeAxis, markers: &[Marker]) -> std::ops::Range<f64> {
    let xs: Vec<f64> = ts
        .column("time")
        .iter()
        .map(|t| axis.x(t.unwrap_or(0.0)))
        .collect();
    let r = active_range(
        ts,
        &xs,
        axis,
        &[
            VERSION_PREFIX,
            "true_",
            "observed_",
            FAILURES_PREFIX,
            column::STARTED,
            column::ROLLED_BACK,
        ],
    );
    let end = xs.last().copied().unwrap_or(r.end).max(r.end);
    let last_marker = markers.iter().map(|m| axis.x(m.at)).fold(0.0, f64::max);
    r.start..r.end.max((last_marker * 1.08).min(end))
}

/// Every gate and abort evaluation of every replication as a point: its value as a multiple of
/// its threshold (above 1 fails), so checks in different units share one axis. A `min` check
/// (the value must stay above its threshold) is inverted so that above 1 still fails.
fn gate_readings(s: &SummaryFile, stages: &Table) -> Vec<Reading> {
    let min_check = |stage: &str, check: &str| {
        s.glance
            .stages
            .iter()
            .filter(|st| st.name == stage)
            .flat_map(|st| &st.checks)
            .any(|c| c.starts_with(&format!("{check} ≥")))
    };
    (0..stages.rows.len())
        .filter_map(|i| {
            let f = |c: &str| folder::finite(stages.cell(i, c));
            let (stage, check) = (stages.cell(i, "stage"), stages.cell(i, "check"));
            // Too few reports is not a health reading.
            if check == "min_devices" {
                return None;
            }
            let value = f("bound").or(f("observed"))?;
            let threshold = f("threshold").filter(|t| *t > 0.0)?;
            let ratio = if min_check(stage, check) {
                if value <= 0.0 {
                    return None;
                }
                threshold / value
            } else {
                value / threshold
            };
            Some(Reading {
                at: f("time")?,
                check: check.to_string(),
                ratio,
                passed: stages.cell(i, "passed") == "true",
            })
        })
        .collect()
}

/// The first two objectives that have a value at some point, against each other; with only
/// one such objective, it is drawn against the point number.
fn sweep_plot(dir: &Path, d: &folder::SweepDoc) -> Result<String> {
    let objectives: Vec<_> = d
        .objectives
        .iter()
        .filter_map(|o| parse_objective(o).ok())
        .filter(|o| d.points.iter().any(|p| p.objective(o).is_some()))
        .collect();
    // An objective that is the same at every point (no harm in a healthy sweep) would pile
    // every point onto one line: the ones that vary are drawn, against the point number if
    // only one does.
    let varies = |o: &&crate::analysis::sweep::Objective| {
        let v: Vec<f64> = d.points.iter().filter_map(|p| p.objective(o)).collect();
        v.iter()
            .any(|x| (x - v[0]).abs() > 1e-9 * v[0].abs().max(1.0))
    };
    let objectives: Vec<_> = match objectives.iter().filter(varies).count() {
        0 => objectives,
        _ => objectives.iter().filter(varies).cloned().collect(),
    };
    let point_axis = crate::analysis::sweep::Objective {
        metric: "point".into(),
        stat: "mean".into(),
        maximise: false,
    };
    let (ox, oy) = match objectives.as_slice() {
        [x, y, ..] => (x.clone(), y.clone()),
        [y] => (point_axis, y.clone()),
        [] => (point_axis.clone(), point_axis),
    };
    let value = |p: &crate::report::sweep_files::SweepPoint,
                 o: &crate::analysis::sweep::Objective| {
        if o.metric == "point" {
            Some(p.point as f64)
        } else {
            p.objective(o)
        }
    };
    let points: Vec<TradePoint> = d
        .points
        .iter()
        .filter_map(|p| {
            let (x, y) = (value(p, &ox)?, value(p, &oy)?);
            Some(TradePoint::numbered(p.point, x, y, p.pareto, false))
        })
        .collect();
    let desc = |o: &crate::analysis::sweep::Objective| {
        if o.metric == "point" {
            "point".to_string()
        } else {
            format!("{} {}", o.metric, o.stat)
        }
    };
    let axes = TradeAxes {
        title: "Sweep: the trade-off between the objectives",
        x_metric: &ox.metric,
        x_desc: desc(&ox),
        y_metric: &oy.metric,
        y_desc: desc(&oy),
    };
    plot!(dir, "tradeoff", SQUARE, tradeoff::scatter, &axes, &points)
}

fn tune_plot(dir: &Path, d: &folder::TuneDoc) -> Result<String> {
    let points: Vec<TradePoint> = d
        .points
        .iter()
        .filter_map(|p| {
            let x = p.harmed_mean?;
            Some(TradePoint::numbered(
                p.point,
                x,
                p.false_halt.rate,
                p.pareto,
                p.recommended,
            ))
        })
        .collect();
    let axes = TradeAxes {
        title: "Tune: false halts (healthy release) vs blast radius (defective release)",
        x_metric: "harmed",
        x_desc: "mean harmed devices".into(),
        y_metric: "false_halt_rate",
        y_desc: "false-halt rate".into(),
    };
    plot!(dir, "tradeoff", SQUARE, tradeoff::scatter, &axes, &points)
}

fn compare_plot(dir: &Path, d: &folder::CompareDoc) -> Result<String> {
    let panels: Vec<ComparePanel> = d
        .rows
        .iter()
        .filter(|r| r.guarded)
        .map(|r| ComparePanel {
            metric: r.metric.clone(),
            stat: r.stat.clone(),
            base: r.base,
            candidate: r.candidate,
            diff_ci95: r.diff_ci95,
            regressed: r.regressed,
        })
        .collect();
    plot!(dir, "compare", STRIP, tradeoff::compare, &panels)
}
