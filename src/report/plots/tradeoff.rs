//! Plots of decisions: the trade-off scatter of a sweep or a tune with its Pareto front and the
//! recommended setting, and the base-versus-candidate chart of a comparison.

use super::timeline::tick;
use super::{draw_legend, draw_mesh, empty_note, s, safe_range, ValueAxis, FONT, GREY, PALETTE};
use plotters::coord::Shift;
use plotters::prelude::*;

type Res = std::result::Result<(), String>;

/// One point of a trade-off scatter.
#[derive(Clone, Debug)]
pub struct TradePoint {
    pub label: String,
    pub x: f64,
    pub y: f64,
    pub pareto: bool,
    pub recommended: bool,
}

/// What a trade-off scatter shows on its axes.
pub struct TradeAxes<'a> {
    pub title: &'a str,
    pub x_metric: &'a str,
    pub x_desc: String,
    pub y_metric: &'a str,
    pub y_desc: String,
}

/// Every point, the Pareto front joined by a line and drawn larger, and the recommended point
/// as a star-like marker with its label.
pub fn scatter<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    axes: &TradeAxes,
    points: &[TradePoint],
) -> Res {
    if points.is_empty() {
        return empty_note(root, axes.title, "no point has a value on both axes");
    }
    let xa = ValueAxis::for_metric(axes.x_metric, max_of(points.iter().map(|p| p.x)));
    let ya = ValueAxis::for_metric(axes.y_metric, max_of(points.iter().map(|p| p.y)));
    let pts: Vec<TradePoint> = points
        .iter()
        .map(|p| TradePoint {
            x: p.x / xa.divisor,
            y: p.y / ya.divisor,
            ..p.clone()
        })
        .collect();
    // Axes start at zero (counts, rates and times are never negative, and a chart that starts
    // elsewhere exaggerates differences) and span at least one unit (5 points for a rate), so
    // a front where every point is 0 still reads as "0", not as noise around it.
    // The y axis leaves a band above the highest point for the legend (upper right), so the
    // legend never hides a point.
    let range = |hi: f64, unit: &str, headroom: f64| {
        let min_span = if unit == "%" { 5.0 } else { 1.0 };
        0.0..(hi * headroom).max(min_span)
    };
    let x_range = range(max_of(pts.iter().map(|p| p.x)), xa.unit, 1.12);
    let y_range = range(max_of(pts.iter().map(|p| p.y)), ya.unit, 1.4);
    let mut chart = ChartBuilder::on(root)
        .caption(axes.title, (FONT, 18))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(safe_range(x_range), safe_range(y_range))
        .map_err(s)?;
    draw_mesh(
        &mut chart,
        &format!("{} ({})", axes.x_desc, xa.unit),
        &format!("{} ({})", axes.y_desc, ya.unit),
    )?;
    let mut front: Vec<(f64, f64)> = pts
        .iter()
        .filter(|p| p.pareto)
        .map(|p| (p.x, p.y))
        .collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    chart
        .draw_series(std::iter::once(PathElement::new(
            front,
            PALETTE[1].stroke_width(2),
        )))
        .map_err(s)?
        .label("Pareto front")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], PALETTE[1].stroke_width(2)));
    chart
        .draw_series(
            pts.iter()
                .filter(|p| !p.pareto)
                .map(|p| Circle::new((p.x, p.y), 4, GREY.mix(0.8).filled())),
        )
        .map_err(s)?
        .label("dominated setting")
        .legend(|(x, y)| Circle::new((x + 8, y), 4, GREY.filled()));
    chart
        .draw_series(
            pts.iter()
                .filter(|p| p.pareto)
                .map(|p| Circle::new((p.x, p.y), 6, PALETTE[1].filled())),
        )
        .map_err(s)?
        .label("on the front")
        .legend(|(x, y)| Circle::new((x + 8, y), 6, PALETTE[1].filled()));
    for p in &pts {
        let style = (FONT, 12).into_font().color(&GREY);
        chart
            .draw_series(std::iter::once(Text::new(
                p.label.clone(),
                (p.x, p.y),
                style,
            )))
            .map_err(s)?;
    }
    if let Some(r) = pts.iter().find(|p| p.recommended) {
        chart
            .draw_series([
                Circle::new((r.x, r.y), 11, PALETTE[3].stroke_width(3)),
                Circle::new((r.x, r.y), 5, PALETTE[3].filled()),
            ])
            .map_err(s)?
            .label("recommended")
            .legend(|(x, y)| Circle::new((x + 8, y), 6, PALETTE[3].stroke_width(3)));
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
}

impl TradePoint {
    /// Sweep or tune point number `point` at `(x, y)`, labelled with its number.
    pub fn numbered(point: usize, x: f64, y: f64, pareto: bool, recommended: bool) -> TradePoint {
        TradePoint {
            label: format!(" {point}"),
            x,
            y,
            pareto,
            recommended,
        }
    }
}

fn max_of(it: impl Iterator<Item = f64>) -> f64 {
    it.fold(f64::MIN, f64::max)
}

/// One guarded metric of a comparison.
#[derive(Clone, Debug)]
pub struct ComparePanel {
    pub metric: String,
    pub stat: String,
    pub base: Option<f64>,
    pub candidate: Option<f64>,
    /// 95 % interval of the paired difference (candidate − base), where defined.
    pub diff_ci95: Option<(f64, f64)>,
    pub regressed: bool,
}

/// One panel per guarded metric: base and candidate as bars; on the candidate, the paired 95 %
/// interval (base + the interval of the difference) as an error bar.
pub fn compare<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, panels: &[ComparePanel]) -> Res {
    if panels.is_empty() {
        return empty_note(root, "Base vs candidate", "no guarded metric");
    }
    let areas = root.split_evenly((1, panels.len()));
    for (p, area) in panels.iter().zip(areas.iter()) {
        compare_panel(area, p)?;
    }
    Ok(())
}

fn compare_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &ComparePanel) -> Res {
    let title = format!("{} {}", p.metric, p.stat);
    let (Some(b), Some(c)) = (p.base, p.candidate) else {
        return empty_note(area, &title, "no value");
    };
    let interval = p.diff_ci95.map(|(lo, hi)| (b + lo, b + hi));
    let top_raw = [b, c, interval.map_or(c, |i| i.1)]
        .into_iter()
        .fold(0.0, f64::max);
    let axis = ValueAxis::for_metric(&p.metric, top_raw);
    let (b, c) = (b / axis.divisor, c / axis.divisor);
    let interval = interval.map(|(lo, hi)| (lo / axis.divisor, hi / axis.divisor));
    let y_top = (top_raw / axis.divisor * 1.25).max(if axis.unit == "%" { 5.0 } else { 1.0 });
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("{title}{}", if p.regressed { " — REGRESSED" } else { "" }),
            (FONT, 15),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..2.0, safe_range(0.0..y_top))
        .map_err(s)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&|_| String::new())
        .y_desc(axis.unit)
        .y_label_formatter(&|y| tick(*y))
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(s)?;
    let cand_color = if p.regressed { PALETTE[3] } else { PALETTE[2] };
    chart
        .draw_series([
            Rectangle::new([(0.2, 0.0), (0.8, b)], PALETTE[0].mix(0.75).filled()),
            Rectangle::new([(1.2, 0.0), (1.8, c)], cand_color.mix(0.75).filled()),
        ])
        .map_err(s)?;
    let label = |x: f64, name: &str, v: f64| {
        Text::new(
            format!("{name} {}", tick(v)),
            (x, v + y_top * 0.08),
            (FONT, 12).into_font(),
        )
    };
    chart
        .draw_series([label(0.2, "base", b), label(1.2, "candidate", c)])
        .map_err(s)?;
    if let Some((lo, hi)) = interval {
        let style = PALETTE[7].stroke_width(2);
        chart
            .draw_series([
                PathElement::new(vec![(1.5, lo.max(0.0)), (1.5, hi)], style),
                PathElement::new(vec![(1.4, lo.max(0.0)), (1.6, lo.max(0.0))], style),
                PathElement::new(vec![(1.4, hi), (1.6, hi)], style),
            ])
            .map_err(s)?;
    }
    Ok(())
}
