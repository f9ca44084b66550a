//! The report's plots, drawn with plotters as SVG (inlined into `report.html`) and PNG (for
//! pasting into pull requests and incident reviews). One module per family of plots; this one
//! owns what they share: the embedded font, the colour-blind-safe palette, the time axis and the
//! two backends.
//!
//! Every plot is a pure function of the data files of a report folder, so plots are as
//! reproducible as the data: the same folder renders the same bytes.

pub mod spread;
pub mod timeline;
pub mod tradeoff;

use crate::error::{Error, Result};
use plotters::coord::cartesian::Cartesian2d;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

/// The font every plot uses (registered once per process). DejaVu Sans ships inside the binary,
/// so a PNG renders the same on a machine with no fonts installed; the SVG names the generic
/// `sans-serif` family and lets the browser pick its own.
pub const FONT: &str = "sans-serif";

/// Okabe & Ito's palette, distinguishable under the common colour-vision deficiencies.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(240, 228, 66),  // yellow
    RGBColor(0, 0, 0),       // black
];
pub const GREY: RGBColor = RGBColor(120, 120, 120);

fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(
            "the embedded plot font could not be loaded".into(),
        ))
    }
}

/// Turns a drawing error into the crate's error, naming the plot.
pub(crate) fn draw_err(plot: &str) -> impl Fn(String) -> Error + '_ {
    move |e| Error::io(format!("cannot draw {plot}"), std::io::Error::other(e))
}

/// `DrawingAreaErrorKind` and friends carry the backend's error type; plots only report them.
pub(crate) fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A drawing of one plot as SVG.
pub type DrawSvg<'c> = dyn for<'a, 'b> Fn(&'a DrawingArea<SVGBackend<'b>, Shift>) -> std::result::Result<(), String>
    + 'c;
/// The same drawing as a bitmap.
pub type DrawPng<'c> = dyn for<'a, 'b> Fn(&'a DrawingArea<BitMapBackend<'b>, Shift>) -> std::result::Result<(), String>
    + 'c;

/// Renders a plot twice, as `NAME.svg` and `NAME.png` in `dir`, and returns the SVG text.
/// `draw_svg` and `draw_png` are the same drawing on the two backends (plotters' backends are
/// different types, so the caller passes one closure per backend through [`plot!`]).
pub fn emit(
    dir: &Path,
    name: &str,
    size: (u32, u32),
    draw_svg: &DrawSvg<'_>,
    draw_png: &DrawPng<'_>,
) -> Result<String> {
    ensure_font()?;
    let err = draw_err(name);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(s).map_err(&err)?;
        draw_svg(&root).map_err(&err)?;
        root.present().map_err(s).map_err(&err)?;
    }
    std::fs::write(dir.join(format!("{name}.svg")), &svg)
        .map_err(|e| Error::io(format!("cannot write {name}.svg"), e))?;
    let png = dir.join(format!("{name}.png"));
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        root.fill(&WHITE).map_err(s).map_err(&err)?;
        draw_png(&root).map_err(&err)?;
        root.present().map_err(s).map_err(&err)?;
    }
    Ok(svg)
}

/// Draws the same generic drawing function on both backends: `plot!(dir, name, size, f, args…)`
/// where `f` is generic over the backend.
#[macro_export]
#[doc(hidden)]
macro_rules! plot {
    ($dir:expr, $name:expr, $size:expr, $f:path, $($arg:expr),*) => {
        $crate::report::plots::emit(
            $dir,
            $name,
            $size,
            &|root| $f(root, $($arg),*),
            &|root| $f(root, $($arg),*),
        )
    };
}

/// How simulated seconds are shown on an x axis: hours for short horizons, days otherwise.
#[derive(Clone, Copy, Debug)]
pub struct TimeAxis {
    pub secs_per_unit: f64,
    pub label: &'static str,
}

impl TimeAxis {
    pub fn for_horizon(horizon_s: f64) -> TimeAxis {
        if horizon_s >= 2.0 * 86_400.0 {
            TimeAxis {
                secs_per_unit: 86_400.0,
                label: "days since scenario start",
            }
        } else {
            TimeAxis {
                secs_per_unit: 3_600.0,
                label: "hours since scenario start",
            }
        }
    }
    pub fn x(&self, secs: f64) -> f64 {
        secs / self.secs_per_unit
    }
}

/// How a metric's values are shown on an axis: durations in hours or days, the rest as is.
#[derive(Clone, Copy, Debug)]
pub struct ValueAxis {
    pub divisor: f64,
    pub unit: &'static str,
}

impl ValueAxis {
    pub fn for_metric(metric: &str, max_value: f64) -> ValueAxis {
        if crate::report::table::is_duration(metric) {
            if max_value >= 2.0 * 86_400.0 {
                ValueAxis {
                    divisor: 86_400.0,
                    unit: "days",
                }
            } else if max_value >= 2.0 * 3600.0 {
                ValueAxis {
                    divisor: 3600.0,
                    unit: "hours",
                }
            } else {
                ValueAxis {
                    divisor: 60.0,
                    unit: "minutes",
                }
            }
        } else if metric == "bytes_served" {
            ValueAxis {
                divisor: 1e9,
                unit: "GB",
            }
        } else if metric == "point" {
            ValueAxis {
                divisor: 1.0,
                unit: "number",
            }
        } else if crate::report::table::is_share(metric) {
            ValueAxis {
                divisor: 0.01,
                unit: "%",
            }
        } else {
            ValueAxis {
                divisor: 1.0,
                unit: "devices",
            }
        }
    }
}

/// An axis range plotters can draw: finite, non-empty, and well inside `f64` (its tick
/// arithmetic on infinite or `f64::MAX`-sized bounds never ends). Every chart builds its axes
/// through this, whatever the data files held.
pub fn safe_range(range: std::ops::Range<f64>) -> std::ops::Range<f64> {
    const LIMIT: f64 = 1e300;
    let (lo, hi) = (range.start, range.end);
    if !(lo.is_finite() && hi.is_finite()) {
        return 0.0..1.0;
    }
    let (lo, hi) = (lo.clamp(-LIMIT, LIMIT), hi.clamp(-LIMIT, LIMIT));
    if hi > lo {
        lo..hi
    } else {
        lo - 0.5..lo + 0.5
    }
}

/// A chart with two real-valued axes, as every plot here has.
pub type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A labelled vertical line on a time plot (a stage opening, a halt, a rollback).
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// Seconds since the scenario start.
    pub at: f64,
    pub label: String,
    pub color: RGBColor,
}

/// Pixels per label row, and an estimate of a 13 px label's advance per character (DejaVu
/// Sans averages a little over half an em); layout only needs to err on the wide side.
const LABEL_ROW_PX: f64 = 17.0;
const LABEL_CHAR_PX: f64 = 7.6;

/// Where a marker's label goes: its row from the top, and whether it ends at its line (drawn
/// to the left, near the right edge) instead of starting there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelSpot {
    pub row: usize,
    pub left: bool,
}

/// Lays marker labels out in rows so that none overlaps another or runs off the plot:
/// markers in time order, each in the first row where it fits after the labels already
/// there; a label that would cross the right edge is drawn to the left of its line. Markers
/// outside `range` get no spot. Returns the spots (by marker) and the number of rows.
pub fn layout_labels(
    markers: &[Marker],
    axis: TimeAxis,
    range: &std::ops::Range<f64>,
    width_px: f64,
) -> (Vec<Option<LabelSpot>>, usize) {
    let span = (range.end - range.start).max(1e-9);
    let mut order: Vec<usize> = (0..markers.len()).collect();
    order.sort_by(|&a, &b| markers[a].at.total_cmp(&markers[b].at));
    let mut row_ends: Vec<f64> = Vec::new();
    let mut spots = vec![None; markers.len()];
    for i in order {
        let x = axis.x(markers[i].at);
        if x < range.start || x > range.end {
            continue;
        }
        let px = (x - range.start) / span * width_px;
        let w = (markers[i].label.chars().count() + 1) as f64 * LABEL_CHAR_PX;
        let left = px + w > width_px;
        let (a, b) = if left { (px - w, px) } else { (px, px + w) };
        let row = match row_ends.iter().position(|&end| end + 6.0 <= a) {
            Some(r) => r,
            None => {
                row_ends.push(f64::NEG_INFINITY);
                row_ends.len() - 1
            }
        };
        row_ends[row] = b;
        spots[i] = Some(LabelSpot { row, left });
    }
    (spots, row_ends.len())
}

/// The top of a y axis that leaves `rows` label rows free above `data_max` in a plot area
/// `height_px` high.
pub fn y_top_with_labels(data_max: f64, rows: usize, height_px: f64) -> f64 {
    let free = (rows as f64 * LABEL_ROW_PX + 6.0) / height_px.max(1.0);
    (data_max.max(1e-9) * 1.04) / (1.0 - free.min(0.6))
}

/// The size of a chart's plotting area, for label layout.
pub fn plot_px<'a, DB: DrawingBackend + 'a>(chart: &Chart<'a, DB>) -> (f64, f64) {
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    ((xr.end - xr.start) as f64, (yr.end - yr.start) as f64)
}

/// Draws markers as dashed vertical lines, each labelled in the free band at the top of the
/// chart at the spot [`layout_labels`] gave it. `y_top` is the top of the y axis.
pub fn draw_markers<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    markers: &[Marker],
    view: &timeline::TimeView,
    y_top: f64,
) -> std::result::Result<(), String> {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let (w, h) = plot_px(chart);
    let (spots, _) = layout_labels(markers, view.axis, view.range, w);
    let px = y_top / h.max(1.0);
    for (m, spot) in markers.iter().zip(spots) {
        let Some(spot) = spot else { continue };
        let x = view.axis.x(m.at);
        let y = y_top - (spot.row as f64 * LABEL_ROW_PX + 2.0) * px;
        chart
            .draw_series(std::iter::once(DashedPathElement::new(
                vec![(x, 0.0), (x, y_top)],
                4,
                3,
                m.color.stroke_width(1),
            )))
            .map_err(s)?;
        let (label, anchor) = if spot.left {
            (format!("{} ", m.label), HPos::Right)
        } else {
            (format!(" {}", m.label), HPos::Left)
        };
        let style = (FONT, 13)
            .into_font()
            .color(&m.color)
            .pos(Pos::new(anchor, VPos::Top));
        chart
            .draw_series(std::iter::once(Text::new(label, (x, y), style)))
            .map_err(s)?;
    }
    Ok(())
}

/// Draws the legend at the top left, just below the band of marker labels.
pub fn legend_under_labels<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    view: &timeline::TimeView,
) -> std::result::Result<(), String> {
    let (w, _) = plot_px(chart);
    let (_, rows) = layout_labels(view.markers, view.axis, view.range, w);
    let below = (rows as f64 * LABEL_ROW_PX + 10.0) as i32;
    draw_legend(chart, SeriesLabelPosition::Coordinate(8, below))
}

/// Draws the axes of a chart the way every plot here does: light grid, tick labels without
/// needless decimals, axis descriptions with units.
pub fn draw_mesh<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    x_desc: &str,
    y_desc: &str,
) -> std::result::Result<(), String> {
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|x| timeline::tick(*x))
        .y_label_formatter(&|y| timeline::tick(*y))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(s)
}

/// Draws the legend of the labelled series in a corner.
pub fn draw_legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    position: SeriesLabelPosition,
) -> std::result::Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(GREY)
        .draw()
        .map_err(s)
}

/// A centred note in an empty plot ("no failures in any replication").
pub fn empty_note<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    note: &str,
) -> std::result::Result<(), String> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        title.to_string(),
        (12, 10),
        (FONT, 18).into_font(),
    ))
    .map_err(s)?;
    area.draw(&Text::new(
        note.to_string(),
        (w as i32 / 2 - 4 * note.len() as i32, h as i32 / 2),
        (FONT, 15).into_font().color(&GREY),
    ))
    .map_err(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(at_days: f64, label: &str) -> Marker {
        Marker {
            at: at_days * 86_400.0,
            label: label.into(),
            color: GREY,
        }
    }

    /// Labels of markers close in time go to different rows; a label that would run past the
    /// right edge ends at its line; a marker past the range gets no label.
    #[test]
    fn marker_labels_neither_overlap_nor_leave_the_plot() {
        let axis = TimeAxis::for_horizon(21.0 * 86_400.0);
        let markers = [
            marker(0.0, "lab"),
            marker(0.5, "canary (40/50)"),
            marker(1.55, "wave-20 (6/50)"),
            marker(1.56, "halt"),
            marker(1.57, "rollback"),
            marker(9.9, "all (3/50)"),
            marker(30.0, "never shown"),
        ];
        let width = 900.0;
        let (spots, rows) = layout_labels(&markers, axis, &(0.0..10.0), width);
        assert!(spots[6].is_none());
        assert!(
            spots[5].unwrap().left,
            "the last label is drawn to the left of its line"
        );
        assert_eq!(rows, 4, "{spots:?}");
        let extent = |i: usize| {
            let px = axis.x(markers[i].at) / 10.0 * width;
            let w = (markers[i].label.chars().count() + 1) as f64 * LABEL_CHAR_PX;
            if spots[i].unwrap().left {
                (px - w, px)
            } else {
                (px, px + w)
            }
        };
        for i in 0..6 {
            let (a, b) = extent(i);
            assert!(
                a >= 0.0 && b <= width,
                "label {i} leaves the plot: {a}..{b}"
            );
            for j in 0..i {
                if spots[i].unwrap().row == spots[j].unwrap().row {
                    let (c, d) = extent(j);
                    assert!(b <= c || d <= a, "labels {j} and {i} overlap");
                }
            }
        }
        assert!(y_top_with_labels(100.0, rows, 300.0) > 104.0 / (1.0 - 0.0));
    }
}
