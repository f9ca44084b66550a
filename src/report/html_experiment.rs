//! The HTML pages of the deciding commands: a sweep (every point, its Pareto front), a tune
//! (false halts against blast radius, and the recommendation) and a paired comparison.

use super::folder::{CompareDoc, SweepDoc, TuneDoc};
use super::html::{esc, num, text, Cell, Page};
use super::table::{compare_diff, compare_value, human_value, pct};
use crate::engine::time::human_secs;

/// One column per parameter, headed by its full path (`policy.stage[canary].gate.check[1].max`)
/// with a zero-width space after each dot so that a long path wraps inside its header instead
/// of widening the table past the page; the cells hold only the values.
fn param_headers(params: Option<&Vec<(String, String)>>) -> Vec<String> {
    params.map_or(Vec::new(), |ps| {
        ps.iter()
            .map(|(p, _)| p.replace('.', ".\u{200B}"))
            .collect()
    })
}

fn param_cells(params: &[(String, String)]) -> Vec<Cell> {
    params.iter().map(|(_, v)| num(v.clone())).collect()
}

/// A table whose columns are `point`, the parameters, then `rest`; numeric columns align right.
fn points_table(p: &mut Page, params: &[String], rest: &[&str], rows: Vec<(bool, Vec<Cell>)>) {
    let mut headers: Vec<&str> = vec!["point"];
    headers.extend(params.iter().map(String::as_str));
    headers.extend(rest);
    let numeric: Vec<usize> = (0..headers.len() - 1).collect();
    p.table(&headers, &numeric, rows);
}

/// The same as plain text, for sentences.
fn params_text(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(p, v)| format!("{p} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn sweep_page(d: &SweepDoc, plot: &str) -> String {
    let meta = format!(
        "sweep of <code>{}</code> · {} points × {} replications on common seeds (seed {})",
        esc(&d.file),
        d.points.len(),
        d.replications,
        d.seed
    );
    let mut p = Page::new(&format!("{} — sweep", d.scenario), meta);
    p.section("front", "Trade-off");
    p.para(&format!(
        "Objectives: {}. A point is on the Pareto front when no other point is at least as good \
         on every objective and better on one. Every point saw the same simulated worlds, so \
         differences between points are the policy's, not noise.",
        d.objectives.join(", ")
    ));
    p.figure(
        plot,
        "The first two objectives of every point; the front is joined.",
        "tradeoff.svg",
    );
    p.section("points", "Points");
    let rows = d
        .points
        .iter()
        .map(|pt| {
            let m = |k: &str, f: fn(&crate::stats::Aggregate) -> Option<f64>| {
                human_value(k, pt.metrics.get(k).and_then(f))
            };
            let mut cells = vec![num(pt.point.to_string())];
            cells.extend(param_cells(&pt.params));
            cells.extend([
                num(m("harmed", |a| a.mean)),
                num(m("harmed", |a| a.p95)),
                num(m("time_to_95", |a| a.p50)),
                num(m("completion", |a| a.mean)),
                num(pt
                    .rates
                    .get("false_halt")
                    .map_or("-".into(), |r| pct(r.rate))),
                text(if pt.pareto { "◆\u{a0}front" } else { "" }),
            ]);
            (false, cells)
        })
        .collect();
    points_table(
        &mut p,
        &param_headers(d.points.first().map(|pt| &pt.params)),
        &[
            "harmed mean",
            "harmed p95",
            "time to 95 % p50",
            "completion",
            "false halts",
            "",
        ],
        rows,
    );
    p.note("Every metric's mean, p50, p95 and confidence interval is in sweep.csv.");
    p.finish()
}

pub fn tune_page(d: &TuneDoc, plot: &str) -> String {
    let meta = format!(
        "gate tuning of <code>{}</code> · {} settings × {} replications in the defective and \
         the healthy world (seed {})",
        esc(&d.file),
        d.points.len(),
        d.replications,
        d.seed
    );
    let mut p = Page::new(&format!("{} — gate tuning", d.scenario), meta);
    p.section("recommendation", "Recommendation");
    p.para(&recommendation(d));
    let needed = crate::stats::replications_to_settle(0.0, d.max_false_halt, crate::stats::Z95)
        .map_or(String::new(), |n| {
            format!(
                ": certifying a {} rate takes at least {n} replications",
                super::table::pct(d.max_false_halt)
            )
        });
    p.note(&format!(
        "A setting qualifies only when the 95 % Wilson upper bound of its false-halt rate is \
         within the limit, so the recommendation holds on the evidence, not just on the point \
         estimate{needed}."
    ));
    p.figure(
        plot,
        "False-halt rate on the healthy release against mean blast radius on the defective one.",
        "tradeoff.svg",
    );
    p.section("settings", "Settings");
    let rows = d
        .points
        .iter()
        .map(|pt| {
            let mut cells = vec![num(pt.point.to_string())];
            cells.extend(param_cells(&pt.params));
            cells.extend([
                num(format!(
                    "{} ({}–{})",
                    pct(pt.false_halt.rate),
                    pct(pt.false_halt.wilson95_low),
                    pct(pt.false_halt.wilson95_high)
                )),
                num(human_value("harmed", pt.harmed_mean)),
                num(human_value("harmed", pt.harmed_p95)),
                num(human_value("time_to_detect", pt.time_to_detect_mean)),
                num(human_value("time_to_95", pt.time_to_95_p50)),
                text(if pt.recommended {
                    "★\u{a0}recommended"
                } else if pt.pareto {
                    "◆\u{a0}front"
                } else {
                    ""
                }),
            ]);
            (false, cells)
        })
        .collect();
    points_table(
        &mut p,
        &param_headers(d.points.first().map(|pt| &pt.params)),
        &[
            "false halts (95% CI)",
            "harmed mean",
            "harmed p95",
            "detect (mean)",
            "time to 95 % (p50, healthy)",
            "",
        ],
        rows,
    );
    p.finish()
}

/// The recommendation in a sentence, or why there is none.
fn recommendation(d: &TuneDoc) -> String {
    let limit = format!(
        "false-halt rate ≤ {}{}",
        pct(d.max_false_halt),
        d.max_time_to_95.map_or(String::new(), |t| format!(
            " and time to 95 % ≤ {}",
            human_secs(t)
        ))
    );
    match d.recommended.and_then(|r| d.points.iter().find(|p| p.point == r)) {
        Some(r) => format!(
            "Recommended: {} — the smallest mean blast radius ({}) among the settings with a {limit} \
             on the 95 % Wilson upper bound. \
             Its false-halt rate on the healthy release is {} (95 % Wilson interval {}–{}).",
            params_text(&r.params),
            human_value("harmed", r.harmed_mean),
            pct(r.false_halt.rate),
            pct(r.false_halt.wilson95_low),
            pct(r.false_halt.wilson95_high)
        ),
        None => match d.leading.and_then(|r| d.points.iter().find(|p| p.point == r)) {
            Some(l) => format!(
                "No setting is shown to have a {limit}: the evidence is too thin. {} leads on the \
                 point estimate ({} false halts in {} healthy runs, 95 % Wilson upper bound {}); {}.",
                params_text(&l.params),
                l.false_halt.count,
                l.false_halt.n,
                pct(l.false_halt.wilson95_high),
                d.replications_needed.map_or(
                    "no replication count settles it at that proportion".to_string(),
                    |n| format!("{n} replications seeing the same proportion would settle it")
                )
            ),
            None => format!("No setting meets a {limit}: widen the search or relax the limit."),
        },
    }
}

pub fn compare_page(d: &CompareDoc, plot: &str) -> String {
    let meta = format!(
        "base <code>{}</code> · candidate <code>{}</code> · paired on seed {}, {} replications · \
         tolerance {}",
        esc(&d.base),
        esc(&d.candidate),
        d.seed,
        d.replications,
        d.tolerance
    );
    let mut p = Page::new(&format!("{} — comparison", d.scenario), meta);
    p.section("verdict", "Verdict");
    let regressed: Vec<String> = d
        .rows
        .iter()
        .filter(|r| r.regressed)
        .map(|r| r.label())
        .collect();
    p.para(&if regressed.is_empty() {
        "No guarded metric regressed past the tolerance (exit code 0).".to_string()
    } else {
        format!(
            "The candidate regressed on {} (exit code 1).",
            regressed.join(", ")
        )
    });
    for h in &d.halt_reasons {
        p.para(&format!(
            "Halt reasons {}.",
            super::table::compare_halt_reasons(h)
        ));
    }
    p.figure(
        plot,
        "Guarded metrics: base and candidate; the error bar is base + the 95 % interval of the \
         paired difference, where defined (means and rates).",
        "compare.svg",
    );
    p.section("metrics", "Every metric");
    p.note(
        "Both policies ran on the same seeds: replication r of each saw the same world, so the \
         paired difference measures the policy.",
    );
    let rows = compare_rows(d);
    p.table(
        &[
            "metric",
            "base",
            "candidate",
            "difference",
            "paired 95% CI",
            "",
        ],
        &[1, 2, 3, 4],
        rows,
    );
    p.finish()
}

/// One row per compared metric: base, candidate, their difference and the paired interval, in
/// the metric's units; regressions flagged.
fn compare_rows(d: &CompareDoc) -> Vec<(bool, Vec<Cell>)> {
    d.rows
        .iter()
        .map(|r| {
            let f = |x| compare_value(&r.metric, &r.stat, x);
            let d = |x| compare_diff(&r.metric, &r.stat, x);
            // The difference of the statistic itself (for a mean, the mean paired difference).
            let diff = d(r.candidate.zip(r.base).map(|(c, b)| c - b));
            let ci = r.diff_ci95.map_or(String::new(), |(lo, hi)| {
                format!("[{}, {}]", d(Some(lo)), d(Some(hi)))
            });
            (
                r.regressed,
                vec![
                    text(r.label()),
                    num(f(r.base)),
                    num(f(r.candidate)),
                    num(diff),
                    num(ci),
                    text(if r.regressed {
                        "REGRESSED"
                    } else if r.guarded {
                        "guarded"
                    } else {
                        ""
                    }),
                ],
            )
        })
        .collect()
}

/// Every schedule listed on the chaos page at most (the rest are in campaigns.csv).
const CHAOS_ROWS_MAX: usize = 500;

/// The page of a chaos campaign: the schedules that broke an expectation (shrunk, with their
/// reproducers), then every schedule drawn.
pub fn chaos_page(d: &super::folder::ChaosDoc) -> String {
    let meta = format!(
        "chaos campaign · {} fault schedules · campaign seed {}",
        d.campaigns, d.campaign_seed
    );
    let mut p = Page::new(&format!("{} — chaos", d.scenario), meta);
    p.section("violations", "Schedules that break an expectation");
    if d.violations.is_empty() {
        p.para(&format!(
            "None of the {} schedules broke an [[expect]] assertion.",
            d.campaigns
        ));
    } else {
        p.para(&format!(
            "{} of {} schedules broke an [[expect]] assertion. Each is shrunk to the fewest, \
             shortest faults that still break it; fleetsim check on its reproducer exits 1.",
            d.violations.len(),
            d.campaigns
        ));
        let rows = d
            .violations
            .iter()
            .map(|v| {
                let faults = v
                    .faults
                    .iter()
                    .map(|f| {
                        format!(
                            "{} at {} for {}",
                            f.kind,
                            human_secs(f.at),
                            human_secs(f.duration)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" + ");
                let broken = v
                    .verdicts
                    .iter()
                    .filter(|x| !x.passed)
                    .map(|x| {
                        format!(
                            "{} (observed {})",
                            super::table::verdict_label(x),
                            super::table::verdict_observed(x)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                (
                    true,
                    vec![
                        num(v.campaign.to_string()),
                        num(format!("{:.3}", v.severity)),
                        text(faults),
                        text(broken),
                        Cell::Html(format!("<code>{}</code>", esc(&v.reproducer))),
                    ],
                )
            })
            .collect();
        p.table(
            &[
                "campaign",
                "severity",
                "shrunk schedule",
                "breaks",
                "reproducer",
            ],
            &[0, 1],
            rows,
        );
    }
    p.section("schedules", "Every schedule drawn");
    let t = &d.schedules;
    let rows = (0..t.rows.len().min(CHAOS_ROWS_MAX))
        .map(|i| {
            let violated = t.cell(i, "violated") == "true";
            (
                violated,
                vec![
                    num(t.cell(i, "campaign").to_string()),
                    text(t.cell(i, "faults").to_string()),
                    text(if violated { "breaks" } else { "holds" }),
                    num(t.cell(i, "severity").to_string()),
                ],
            )
        })
        .collect();
    p.table(
        &["campaign", "faults", "expectations", "severity"],
        &[0, 3],
        rows,
    );
    if t.rows.len() > CHAOS_ROWS_MAX {
        p.note(&format!(
            "{} more schedules are in campaigns.csv.",
            t.rows.len() - CHAOS_ROWS_MAX
        ));
    }
    p.finish()
}
