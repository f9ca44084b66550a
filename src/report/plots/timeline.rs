//! Plots over simulated time, from `timeseries.csv` (the hourly mean over replications) and
//! `stages.csv` (every gate evaluation): the fleet's composition by firmware version with the
//! devices that moved on their own scale, failures by reason, and the backend's view of harm
//! against the ground truth with the health readings the gates judged.

use super::{
    draw_legend, draw_markers, draw_mesh, empty_note, layout_labels, legend_under_labels, s,
    safe_range, y_top_with_labels, Marker, TimeAxis, FONT, GREY, PALETTE,
};
use crate::metrics::series::{column, FAILURES_PREFIX, VERSION_PREFIX};
use crate::report::folder::Table;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

type Res = std::result::Result<(), String>;

/// What every time plot shares: the axis unit, the time range (the same on every plot) and the
/// stage/halt/rollback markers.
pub struct TimeView<'a> {
    pub axis: TimeAxis,
    pub range: &'a std::ops::Range<f64>,
    pub markers: &'a [Marker],
}

/// One gate or abort evaluation (a row of `stages.csv`) as a point of the health panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    /// Seconds since the scenario start.
    pub at: f64,
    pub check: String,
    /// The value the check compared, as a multiple of its threshold (above 1 fails).
    pub ratio: f64,
    pub passed: bool,
}

/// Layout constants of every time chart (see [`chart_on`]).
const MARGIN: u32 = 12;
const Y_LABELS: u32 = 70;
const X_LABELS: u32 = 42;
const CAPTION: u32 = 30;

/// A time chart on `area` whose y axis leaves room above `data_max` for the marker labels.
fn chart_on<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    view: &TimeView,
    data_max: f64,
) -> std::result::Result<(super::Chart<'a, DB>, f64), String> {
    let (w, h) = area.dim_in_pixel();
    let width = w.saturating_sub(2 * MARGIN + Y_LABELS) as f64;
    let height = h.saturating_sub(2 * MARGIN + X_LABELS + CAPTION) as f64;
    let (_, rows) = layout_labels(view.markers, view.axis, view.range, width);
    let y_top = y_top_with_labels(data_max.max(1.0), rows, height);
    let chart = ChartBuilder::on(area)
        .caption(title, (FONT, 18))
        .margin(MARGIN)
        .x_label_area_size(X_LABELS)
        .y_label_area_size(Y_LABELS)
        .build_cartesian_2d(safe_range(view.range.clone()), safe_range(0.0..y_top))
        .map_err(s)?;
    Ok((chart, y_top))
}

/// One named line or band of a time plot.
struct Line {
    label: String,
    ys: Vec<f64>,
    color: RGBColor,
    dashed: bool,
}

fn xs(ts: &Table, axis: TimeAxis) -> Vec<f64> {
    ts.column("time")
        .iter()
        .map(|t| axis.x(t.unwrap_or(0.0)))
        .collect()
}

/// The time range worth showing: up to a little after the last hour in which any of the
/// columns starting with `prefixes` changed visibly (a 21-day horizon whose action is over on day 3 is
/// drawn to about day 3.5), but never less than a day and never past the horizon.
pub fn active_range(
    ts: &Table,
    xs: &[f64],
    axis: TimeAxis,
    prefixes: &[&str],
) -> std::ops::Range<f64> {
    let end = xs.last().copied().unwrap_or(1.0).max(1e-9);
    let cols: Vec<usize> = (0..ts.header.len())
        .filter(|&c| prefixes.iter().any(|p| ts.header[c].starts_with(p)))
        .collect();
    // A change under 0.1 % of a column's largest value moves its line by less than a pixel:
    // it does not keep the axis open (a single late device in one of 50 replications would).
    let value = |i: usize, c: usize| -> f64 {
        ts.rows[i]
            .get(c)
            .and_then(|v| crate::report::folder::finite(v))
            .unwrap_or(0.0)
    };
    let scale: Vec<f64> = cols
        .iter()
        .map(|&c| {
            (0..ts.rows.len())
                .map(|i| value(i, c).abs())
                .fold(0.0, f64::max)
        })
        .collect();
    let changed = |i: usize| {
        cols.iter()
            .zip(&scale)
            .any(|(&c, &m)| (value(i, c) - value(i - 1, c)).abs() > 1e-3 * m)
    };
    let last_change = (1..ts.rows.len())
        .rev()
        .find(|&i| changed(i))
        .map_or(0.0, |i| xs[i]);
    let day = axis.x(86_400.0);
    0.0..(last_change * 1.15).max(day).min(end)
}

/// Devices per firmware version, stacked, above the devices that moved off their starting
/// version (running the target, rolled back, updating now) on their own scale: in a fleet of
/// millions a canary of a few hundred is a hairline on the first panel and readable on the
/// second.
pub fn composition<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ts: &Table,
    target_column: &str,
    view: &TimeView,
) -> Res {
    let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 * 3 / 5);
    stacked_versions(&top, ts, view)?;
    let spec: [(&str, &str, RGBColor, bool); 3] = [
        (target_column, "running the target", PALETTE[0], false),
        (
            column::ROLLED_BACK,
            "rolled back (cumulative)",
            PALETTE[2],
            false,
        ),
        (column::IN_FLIGHT, "updating now", PALETTE[1], true),
    ];
    let moved = lines_of(ts, &spec);
    let title = "Devices that moved off their starting version (own scale)";
    if moved.is_empty() {
        return empty_note(&bottom, title, "no device left its starting version");
    }
    lines_chart(&bottom, title, "devices", &xs(ts, view.axis), &moved, view)
}

fn stacked_versions<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ts: &Table,
    view: &TimeView,
) -> Res {
    let title = "Fleet composition by firmware version (mean over replications)";
    let xs = xs(ts, view.axis);
    let layers: Vec<(String, Vec<f64>)> = ts
        .header
        .iter()
        .filter_map(|h| h.strip_prefix(VERSION_PREFIX))
        .map(|v| {
            (
                v.to_string(),
                zeroed(ts.column(&format!("{VERSION_PREFIX}{v}"))),
            )
        })
        .filter(|(_, ys)| ys.iter().any(|y| *y > 0.0))
        .collect();
    if xs.is_empty() || layers.is_empty() {
        return empty_note(root, title, "no samples");
    }
    let mut cum = vec![0.0; xs.len()];
    let mut bands: Vec<(String, Vec<f64>, Vec<f64>)> = Vec::new();
    for (label, ys) in &layers {
        let lower = cum.clone();
        for (c, y) in cum.iter_mut().zip(ys) {
            *c += y;
        }
        bands.push((label.clone(), lower, cum.clone()));
    }
    let data_max = cum.iter().copied().fold(1.0, f64::max);
    let (mut chart, y_top) = chart_on(root, title, view, data_max)?;
    draw_mesh(&mut chart, view.axis.label, "devices")?;
    for (i, (label, lower, upper)) in bands.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut poly: Vec<(f64, f64)> = xs.iter().copied().zip(upper.iter().copied()).collect();
        poly.extend(xs.iter().copied().zip(lower.iter().copied()).rev());
        chart
            .draw_series(std::iter::once(Polygon::new(
                poly,
                color.mix(0.75).filled(),
            )))
            .map_err(s)?
            .label(label.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
    }
    draw_markers(&mut chart, view.markers, view, y_top)?;
    draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
}

/// The lines of `spec` — (column, label, colour, dashed) — that are not zero throughout.
fn lines_of(ts: &Table, spec: &[(&str, &str, RGBColor, bool)]) -> Vec<Line> {
    spec.iter()
        .map(|(col, label, color, dashed)| Line {
            label: label.to_string(),
            ys: zeroed(ts.column(col)),
            color: *color,
            dashed: *dashed,
        })
        .filter(|l| l.ys.iter().any(|y| *y > 0.0))
        .collect()
}

fn zeroed(v: Vec<Option<f64>>) -> Vec<f64> {
    v.into_iter().map(|x| x.unwrap_or(0.0)).collect()
}

/// Lines over time on one chart, with markers.
fn lines_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    y_desc: &str,
    xs: &[f64],
    lines: &[Line],
    view: &TimeView,
) -> Res {
    let y_max = lines
        .iter()
        .flat_map(|l| l.ys.iter().copied())
        .fold(0.0, f64::max);
    if xs.is_empty() || lines.is_empty() {
        return empty_note(root, title, "nothing to show");
    }
    let (mut chart, y_top) = chart_on(root, title, view, y_max)?;
    draw_mesh(&mut chart, view.axis.label, y_desc)?;
    for l in lines {
        let pts: Vec<(f64, f64)> = xs.iter().copied().zip(l.ys.iter().copied()).collect();
        let style = l.color.stroke_width(2);
        let color = l.color;
        let series = if l.dashed {
            chart
                .draw_series(std::iter::once(DashedPathElement::new(pts, 7, 4, style)))
                .map_err(s)?
        } else {
            chart.draw_series(LineSeries::new(pts, style)).map_err(s)?
        };
        series.label(l.label.clone()).legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
        });
    }
    draw_markers(&mut chart, view.markers, view, y_top)?;
    legend_under_labels(&mut chart, view)
}

/// Updates over time (devices notified, started, on the target, rolled back) above failed
/// attempts by reason, both cumulative means over replications, on one time axis.
pub fn failures<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ts: &Table,
    view: &TimeView,
) -> Res {
    let xs = xs(ts, view.axis);
    let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 / 2);
    let spec: [(&str, &str, RGBColor, bool); 4] = [
        (column::NOTIFIED, "notified", GREY, true),
        (column::STARTED, "started the update", PALETTE[0], false),
        (
            column::TRUE_UPDATED,
            "running the target",
            PALETTE[2],
            false,
        ),
        (column::ROLLED_BACK, "rolled back", PALETTE[3], false),
    ];
    let updates = lines_of(ts, &spec);
    let title = "Updates, cumulative (mean over replications)";
    if updates.is_empty() {
        empty_note(&top, title, "no device was notified in any replication")?;
    } else {
        lines_chart(&top, title, "devices", &xs, &updates, view)?;
    }
    let title = "Failed attempts by reason, cumulative (mean over replications)";
    let lines: Vec<Line> = ts
        .header
        .iter()
        .filter_map(|h| h.strip_prefix(FAILURES_PREFIX))
        .map(|r| {
            (
                r.to_string(),
                zeroed(ts.column(&format!("{FAILURES_PREFIX}{r}"))),
            )
        })
        .filter(|(_, ys)| ys.iter().any(|y| *y > 0.0))
        .enumerate()
        .map(|(i, (label, ys))| Line {
            label: label.to_string(),
            ys,
            color: PALETTE[i % PALETTE.len()],
            dashed: false,
        })
        .collect();
    if lines.is_empty() {
        return empty_note(&bottom, title, "no failed attempt in any replication");
    }
    lines_chart(&bottom, title, "failure events", &xs, &lines, view)
}

/// True harm (solid) against what the backend has heard (dashed) above the health readings
/// every gate and abort rule judged: the gap between harm and the first reading above its
/// threshold is the detection lag of the check that fired.
pub fn observed_vs_true<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ts: &Table,
    readings: &[Reading],
    view: &TimeView,
) -> Res {
    let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 / 2);
    let title = "Observed by the backend vs ground truth (mean over replications)";
    let spec: [(&str, &str, RGBColor, bool); 5] = [
        (column::TRUE_HARMED, "harmed (truth)", PALETTE[3], false),
        (column::TRUE_BRICKED, "bricked (truth)", PALETTE[7], false),
        (
            column::OBSERVED_FAILURE,
            "failed results reported",
            PALETTE[0],
            true,
        ),
        (
            column::OBSERVED_TIMED_OUT,
            "timed out (seen)",
            PALETTE[4],
            true,
        ),
        (
            column::OBSERVED_TICKETS,
            "support tickets (seen)",
            PALETTE[5],
            true,
        ),
    ];
    let lines = lines_of(ts, &spec);
    if lines.is_empty() {
        empty_note(
            &top,
            title,
            "no harm and no failure reported in any replication",
        )?;
    } else {
        lines_chart(&top, title, "devices", &xs(ts, view.axis), &lines, view)?;
    }
    health_readings(&bottom, readings, view)
}

/// Readings above this multiple of their threshold are drawn at it (the panel is about
/// crossing 1, not about how far past it a reading went).
const READING_CAP: f64 = 4.0;

fn health_readings<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    readings: &[Reading],
    view: &TimeView,
) -> Res {
    let title = "What the gates read: each evaluation's value ÷ its threshold (above 1 fails)";
    if readings.is_empty() {
        return empty_note(
            root,
            title,
            "no gate or abort rule was evaluated in any replication",
        );
    }
    let mut checks: Vec<&str> = readings.iter().map(|r| r.check.as_str()).collect();
    checks.sort_unstable();
    checks.dedup();
    let data_max = readings
        .iter()
        .map(|r| r.ratio.min(READING_CAP))
        .fold(1.2, f64::max);
    let (mut chart, y_top) = chart_on(root, title, view, data_max)?;
    draw_mesh(&mut chart, view.axis.label, "value ÷ threshold")?;
    let (x0, x1) = (view.range.start, view.range.end);
    chart
        .draw_series(std::iter::once(DashedPathElement::new(
            vec![(x0, 1.0), (x1, 1.0)],
            6,
            4,
            BLACK.stroke_width(1),
        )))
        .map_err(s)?;
    {
        use plotters::style::text_anchor::{HPos, Pos, VPos};
        let style = (FONT, 13)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Bottom));
        chart
            .draw_series(std::iter::once(Text::new(
                "threshold ".to_string(),
                (x1, 1.0),
                style,
            )))
            .map_err(s)?;
    }
    for (i, check) in checks.iter().enumerate() {
        let color = PALETTE[i % 6];
        let pts: Vec<(f64, f64, bool)> = readings
            .iter()
            .filter(|r| r.check == *check)
            .map(|r| (view.axis.x(r.at), r.ratio.min(READING_CAP), r.passed))
            .filter(|(x, _, _)| *x <= x1)
            .collect();
        chart
            .draw_series(pts.iter().map(|&(x, y, passed)| {
                let style = if passed {
                    color.stroke_width(1)
                } else {
                    color.filled()
                };
                Circle::new((x, y), 4, style)
            }))
            .map_err(s)?
            .label(check.to_string())
            .legend(move |(x, y)| Circle::new((x + 7, y), 4, color.filled()));
    }
    draw_markers(&mut chart, view.markers, view, y_top)?;
    legend_under_labels(&mut chart, view)
}

/// A tick label: whole numbers without a decimal point, others with one decimal.
pub fn tick(v: f64) -> String {
    crate::report::table::count_text(v)
}
