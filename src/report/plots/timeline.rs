//! Plots over simulated time, from `timeseries.csv` (the hourly mean over replications): the
//! fleet's composition by firmware version, failures by reason, and the backend's view of harm
//! against the ground truth.

use super::{
    draw_legend, draw_markers, draw_mesh, empty_note, s, safe_range, Marker, TimeAxis, FONT, GREY,
    PALETTE,
};
use crate::report::folder::Table;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

type Res = std::result::Result<(), String>;

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

/// Devices per firmware version, stacked, with stage openings, the halt and the rollback marked.
pub fn composition<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ts: &Table,
    markers: &[Marker],
    axis: TimeAxis,
) -> Res {
    let title = "Fleet composition by firmware version (mean over replications)";
    let xs = xs(ts, axis);
    let layers: Vec<(String, Vec<f64>)> = ts
        .header
        .iter()
        .filter_map(|h| h.strip_prefix("version_"))
        .map(|v| (v.to_string(), zeroed(ts.column(&format!("version_{v}")))))
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
    let y_top = cum.iter().copied().fold(1.0, f64::max) * 1.08;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 18))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(70)
        .build_cartesian_2d(
            safe_range(active_range(ts, &xs, axis, &["version_"])),
            safe_range(0.0..y_top),
        )
        .map_err(s)?;
    draw_mesh(&mut chart, axis.label, "devices")?;
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
    draw_markers(&mut chart, markers, axis, y_top)?;
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
#[allow(clippy::too_many_arguments)]
fn lines_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    y_desc: &str,
    x_range: std::ops::Range<f64>,
    xs: &[f64],
    lines: &[Line],
    markers: &[Marker],
    axis: TimeAxis,
) -> Res {
    let y_max = lines
        .iter()
        .flat_map(|l| l.ys.iter().copied())
        .fold(0.0, f64::max);
    if xs.is_empty() || lines.is_empty() {
        return empty_note(root, title, "nothing to show");
    }
    let y_top = (y_max * 1.12).max(1.0);
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 18))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(70)
        .build_cartesian_2d(safe_range(x_range), safe_range(0.0..y_top))
        .map_err(s)?;
    draw_mesh(&mut chart, axis.label, y_desc)?;
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
    draw_markers(&mut chart, markers, axis, y_top)?;
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// Updates over time (devices notified, started, on the target, rolled back) above failed
/// attempts by reason, both cumulative means over replications, on one time axis.
pub fn failures<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ts: &Table,
    markers: &[Marker],
    axis: TimeAxis,
) -> Res {
    let xs = xs(ts, axis);
    let range = active_range(ts, &xs, axis, &["failures_", "started", "true_updated"]);
    let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 / 2);
    let spec: [(&str, &str, RGBColor, bool); 4] = [
        ("notified", "notified", GREY, true),
        ("started", "started the update", PALETTE[0], false),
        ("true_updated", "running the target", PALETTE[2], false),
        ("rolled_back", "rolled back", PALETTE[3], false),
    ];
    let updates = lines_of(ts, &spec);
    let title = "Updates, cumulative (mean over replications)";
    if updates.is_empty() {
        empty_note(&top, title, "no device was notified in any replication")?;
    } else {
        lines_chart(
            &top,
            title,
            "devices",
            range.clone(),
            &xs,
            &updates,
            markers,
            axis,
        )?;
    }
    let title = "Failed attempts by reason, cumulative (mean over replications)";
    let lines: Vec<Line> = ts
        .header
        .iter()
        .filter_map(|h| h.strip_prefix("failures_"))
        .map(|r| (r.to_string(), zeroed(ts.column(&format!("failures_{r}")))))
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
    lines_chart(
        &bottom,
        title,
        "failure events",
        range,
        &xs,
        &lines,
        markers,
        axis,
    )
}

/// True harm (solid) against what the backend has heard (dashed): the gap between them is the
/// detection lag a gate lives with.
pub fn observed_vs_true<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ts: &Table,
    markers: &[Marker],
    axis: TimeAxis,
) -> Res {
    let title = "Observed by the backend vs ground truth (mean over replications)";
    let spec: [(&str, &str, RGBColor, bool); 5] = [
        ("true_harmed", "harmed (truth)", PALETTE[3], false),
        ("true_bricked", "bricked (truth)", PALETTE[7], false),
        (
            "observed_failure",
            "failed results reported",
            PALETTE[0],
            true,
        ),
        ("observed_timed_out", "timed out (seen)", PALETTE[4], true),
        (
            "observed_tickets",
            "support tickets (seen)",
            PALETTE[5],
            true,
        ),
    ];
    let lines = lines_of(ts, &spec);
    if lines.is_empty() {
        return empty_note(
            root,
            title,
            "no harm and no failure reported in any replication",
        );
    }
    let xs = xs(ts, axis);
    let range = active_range(ts, &xs, axis, &["true_", "observed_"]);
    lines_chart(root, title, "devices", range, &xs, &lines, markers, axis)
}

/// A tick label: whole numbers without a decimal point, others with one decimal.
pub fn tick(v: f64) -> String {
    crate::report::table::count_text(v)
}
