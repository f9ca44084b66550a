//! Plots across replications, from `replications.csv`: how wide the spread of blast radius,
//! completion time and detection time is, as histograms with the median and p95 marked.

use super::timeline::tick;
use super::{empty_note, s, safe_range, ValueAxis, FONT, GREY, PALETTE};
use crate::report::folder::Table;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

type Res = std::result::Result<(), String>;

/// The metrics whose spread the report shows, with their panel titles.
pub const METRICS: [(&str, &str); 3] = [
    ("harmed", "Blast radius (harmed)"),
    ("time_to_95", "Time to 95 % updated"),
    ("time_to_detect", "Time to detect"),
];

/// One histogram panel per metric of [`METRICS`], side by side.
pub fn distributions<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, reps: &Table) -> Res {
    let panels = root.split_evenly((1, METRICS.len()));
    for ((metric, title), area) in METRICS.iter().zip(panels.iter()) {
        let values: Vec<f64> = reps.column(metric).into_iter().flatten().collect();
        histogram(area, title, metric, &values, reps.rows.len())?;
    }
    Ok(())
}

/// Bin counts of `values` over `[lo, hi]` in `bins` equal bins (the last bin is closed).
pub fn bin_counts(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<u64> {
    let mut counts = vec![0u64; bins];
    let width = (hi - lo) / bins as f64;
    for v in values {
        let i = if width > 0.0 {
            (((v - lo) / width) as usize).min(bins - 1)
        } else {
            0
        };
        counts[i] += 1;
    }
    counts
}

fn histogram<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    metric: &str,
    values: &[f64],
    replications: usize,
) -> Res {
    if values.is_empty() {
        return empty_note(area, title, "no value in any run");
    }
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    let axis = ValueAxis::for_metric(metric, max);
    let (lo, hi) = (min / axis.divisor, max / axis.divisor);
    // Square-root rule, bounded so that small and large runs both read well.
    let bins = ((values.len() as f64).sqrt().ceil() as usize).clamp(1, 30);
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    let scaled: Vec<f64> = values.iter().map(|v| v / axis.divisor).collect();
    let counts = bin_counts(&scaled, lo, hi, bins);
    let width = (hi - lo) / bins as f64;
    let y_top = counts.iter().copied().max().unwrap_or(1) as f64 * 1.15;
    let caption = if values.len() < replications {
        format!("{title} — {} of {replications} runs", values.len())
    } else {
        format!("{title} — {replications} runs")
    };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 15))
        .margin(10)
        .x_label_area_size(38)
        .y_label_area_size(46)
        .build_cartesian_2d(safe_range(lo..hi), safe_range(0.0..y_top))
        .map_err(s)?;
    chart
        .configure_mesh()
        .x_desc(axis.unit)
        .y_desc("runs")
        .x_labels(5)
        .y_labels(5)
        .x_label_formatter(&|x| tick(*x))
        .y_label_formatter(&|y| tick(*y))
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(s)?;
    chart
        .draw_series(counts.iter().enumerate().map(|(i, c)| {
            let x0 = lo + i as f64 * width;
            Rectangle::new(
                [(x0, 0.0), (x0 + width, *c as f64)],
                PALETTE[0].mix(0.7).filled(),
            )
        }))
        .map_err(s)?;
    let mut sorted = scaled.clone();
    sorted.sort_by(f64::total_cmp);
    for (q, label) in [(0.5, "p50"), (0.95, "p95")] {
        let Some(x) = crate::stats::quantile_sorted(&sorted, q) else {
            continue;
        };
        chart
            .draw_series(std::iter::once(DashedPathElement::new(
                vec![(x, 0.0), (x, y_top)],
                4,
                3,
                PALETTE[3].stroke_width(2),
            )))
            .map_err(s)?;
        chart
            .draw_series(std::iter::once(Text::new(
                label,
                (x, y_top * 0.97),
                (FONT, 12).into_font().color(&GREY),
            )))
            .map_err(s)?;
    }
    Ok(())
}
