//! Renders the people-facing part of a results folder — `plots/*.svg|png`, `report.html`,
//! `summary.md` — from the data files in it. `run`, `sweep`, `tune` and `compare` call this on
//! their staging folder before it is moved into place; `fleetsim report DIR` calls it on a copy
//! of an existing folder. Either way the report is a function of the data files alone.

use super::folder::{self, Folder, Table};
use super::plots::spread::distributions;
use super::plots::timeline::{composition, failures, observed_vs_true};
use super::plots::tradeoff::{self, ComparePanel, TradeAxes, TradePoint};
use super::plots::{Marker, TimeAxis, PALETTE};
use super::summary::SummaryFile;
use super::{html_experiment, html_run, markdown};
use crate::analysis::sweep::parse_objective;
use crate::error::{Error, Result};
use crate::plot;
use std::path::Path;

const WIDE: (u32, u32) = (1000, 440);
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
        } => {
            let svgs = run_plots(&plots, &summary, &replications, &timeseries)?;
            (
                html_run::page(&summary, &replications, &stages, &svgs),
                markdown::run(&summary),
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

fn run_plots(dir: &Path, s: &SummaryFile, reps: &Table, ts: &Table) -> Result<html_run::RunPlots> {
    let axis = TimeAxis::for_horizon(s.horizon);
    let m = markers(s);
    Ok(html_run::RunPlots {
        composition: plot!(dir, "composition", WIDE, composition, ts, &m, axis)?,
        observed: plot!(dir, "observed", WIDE, observed_vs_true, ts, &m, axis)?,
        failures: plot!(dir, "failures", TALL, failures, ts, &m, axis)?,
        distributions: plot!(dir, "distributions", STRIP, distributions, reps)?,
    })
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
