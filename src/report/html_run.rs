//! The HTML page of a run: what happened in a few sentences and cards, the `[[expect]]`
//! verdicts, the plots, the outcome table with confidence intervals, the reasons things failed or
//! were stranded, the gate timeline, and the scenario at a glance.

use super::folder::Table;
use super::html::{esc, num, text, verdict, Cell, Page};
use super::summary::SummaryFile;
use super::table::{bound_human, count_text, human_value, pct};
use crate::engine::time::human_secs;
use crate::stats::Aggregate;

/// The SVG text of a run's plots.
pub struct RunPlots {
    pub composition: String,
    pub observed: String,
    pub failures: String,
    pub distributions: String,
}

/// Gate evaluations listed in full (replication 0's); the rest are summarised per stage.
const GATE_ROWS_MAX: usize = 300;

pub fn page(s: &SummaryFile, reps: &Table, stages: &Table, plots: &RunPlots) -> String {
    let meta = format!(
        "<code>{}</code> · {} devices · {} replications · seed {} · horizon {}",
        esc(&s.file),
        s.devices,
        s.replications,
        s.seed,
        esc(&human_secs(s.horizon))
    );
    let mut p = Page::new(&s.scenario, meta);
    p.section("overview", "What happened");
    p.raw(&story(s));
    p.cards(&cards(s));
    expectations(&mut p, s);
    p.section("plots", "Plots");
    p.figure(
        &plots.composition,
        "Devices per firmware version over time, mean over replications. Dashed lines mark the \
         median time (across the replications where it happened) at which each stage opened, \
         the rollout halted and the rollback began; (k/n) says in how many runs.",
        "composition.svg",
    );
    p.figure(
        &plots.observed,
        "Solid lines are the ground truth; dashed lines are what the backend — and every gate — \
         had heard by then. The distance between them is the detection lag.",
        "observed.svg",
    );
    p.figure(
        &plots.failures,
        "Above: devices notified, started, running the target and rolled back. Below: failed \
         attempts by reason (one device can fail several times).",
        "failures.svg",
    );
    p.figure(
        &plots.distributions,
        "How the outcome varies from one replication to the next (dashed: median and p95). \
         A run that never reached 95 % or never detected harm has no value and is left out.",
        "distributions.svg",
    );
    outcomes(&mut p, s, reps);
    reasons(&mut p, s);
    gates(&mut p, s, stages);
    glance(&mut p, s);
    p.finish()
}

fn mean(s: &SummaryFile, m: &str) -> Option<f64> {
    s.summary.metrics.get(m).and_then(|a| a.mean)
}

fn stat(s: &SummaryFile, m: &str, f: fn(&Aggregate) -> Option<f64>) -> Option<f64> {
    s.summary.metrics.get(m).and_then(f)
}

/// The headline in sentences, for a reader who has never seen the metric glossary.
fn story(s: &SummaryFile) -> String {
    let mut lines: Vec<String> = Vec::new();
    let g = &s.glance;
    lines.push(format!(
        "The rollout of {} to {} targeted devices was simulated {} times.",
        g.target,
        human_value("targeted", mean(s, "targeted")),
        s.replications
    ));
    if let Some(h) = s.summary.rates.get("halted") {
        let top = s.summary.halt_reasons.iter().max_by_key(|(_, n)| **n);
        lines.push(format!(
            "The gates or abort rules halted it in {} of {} runs ({}){}.",
            h.count,
            h.n,
            pct(h.rate),
            top.map_or(String::new(), |(r, n)| format!(", most often {r} ({n}×)"))
        ));
    }
    let defective = g
        .releases
        .iter()
        .any(|r| r.version == g.target && !r.defects.is_empty());
    if defective {
        lines.push(format!(
            "The release is defective (ground truth): on average {} devices were harmed \
             (p95 {}), {} bricked; {}.",
            human_value("harmed", mean(s, "harmed")),
            human_value("harmed", stat(s, "harmed", |a| a.p95)),
            human_value("bricked", mean(s, "bricked")),
            match s.summary.metrics.get("time_to_detect") {
                Some(a) if a.n > 0 => format!(
                    "detection took {} (median of the {} runs that detected it) after the first harm",
                    human_value("time_to_detect", a.p50),
                    a.n
                ),
                _ => "no gate or abort rule detected the harm in any run".to_string(),
            }
        ));
    } else if let Some(f) = s.summary.rates.get("false_halt") {
        lines.push(format!(
            "The release has no defect, so every halt is a false halt: {} of {} runs ({}).",
            f.count,
            f.n,
            pct(f.rate)
        ));
    }
    let reached = match s.summary.metrics.get("time_to_95") {
        Some(a) if a.n > 0 => format!(
            "95 % of them got there in {} (median of the {} runs that got there)",
            human_value("time_to_95", a.p50),
            a.n
        ),
        _ => "no run reached 95 %".to_string(),
    };
    lines.push(format!(
        "{} of the targeted devices ran {} at the end on average; {reached}; {} devices were \
         stranded on average.",
        human_value("completion", mean(s, "completion")),
        g.target,
        human_value("stranded", mean(s, "stranded")),
    ));
    if mean(s, "rolled_back").is_some_and(|x| x > 0.0) {
        lines.push(format!(
            "Rollback returned {} devices on average; {} could not go back and the rollback of \
             {} more never completed.",
            human_value("rolled_back", mean(s, "rolled_back")),
            human_value("rollback_refused", mean(s, "rollback_refused")),
            human_value("rollback_stranded", mean(s, "rollback_stranded")),
        ));
    }
    let body: String = lines.iter().map(|l| format!("<p>{}</p>", esc(l))).collect();
    format!("<div class=\"story\">{body}</div>\n")
}

fn cards(s: &SummaryFile) -> Vec<(String, String, String)> {
    let agg = |m: &str| match s.summary.metrics.get(m) {
        Some(a) if a.n > 0 => (
            human_value(m, a.mean),
            format!(
                "mean · p95 {}{}",
                human_value(m, a.p95),
                if a.missing > 0 {
                    format!(" · no value in {} runs", a.missing)
                } else {
                    String::new()
                }
            ),
        ),
        _ => ("never".to_string(), "in no run".to_string()),
    };
    let mut out = Vec::new();
    for (label, m) in [
        ("blast radius (harmed)", "harmed"),
        ("bricked", "bricked"),
        ("time to detect", "time_to_detect"),
        ("time to 95 %", "time_to_95"),
        ("completion", "completion"),
    ] {
        let (v, sub) = agg(m);
        out.push((label.to_string(), v, sub));
    }
    for (label, r) in [("halted", "halted"), ("false halts", "false_halt")] {
        if let Some(x) = s.summary.rates.get(r) {
            out.push((
                label.to_string(),
                pct(x.rate),
                format!(
                    "{} of {} · 95% CI {}–{}",
                    x.count,
                    x.n,
                    pct(x.wilson95_low),
                    pct(x.wilson95_high)
                ),
            ));
        }
    }
    out
}

fn expectations(p: &mut Page, s: &SummaryFile) {
    if s.expectations.is_empty() {
        return;
    }
    p.section("expect", "Expectations");
    let failed = s.expectations.iter().filter(|v| !v.passed).count();
    p.para(&format!(
        "{} passed, {} failed ([[expect]] in the scenario; `fleetsim check` exits 1 on a failure).",
        s.expectations.len() - failed,
        failed
    ));
    let rows = s
        .expectations
        .iter()
        .map(|v| {
            let interval = v.interval.map_or(String::new(), |(lo, hi)| {
                format!(
                    "{} – {}",
                    human_value(&v.metric, Some(lo)),
                    human_value(&v.metric, Some(hi))
                )
            });
            (
                !v.passed,
                vec![
                    verdict(v.passed),
                    text(bound_human(&v.metric, &v.stat, v.min, v.max)),
                    num(human_value(&v.metric, v.observed)),
                    num(interval),
                ],
            )
        })
        .collect();
    p.table(
        &["", "expectation", "observed", "95% interval"],
        &[2, 3],
        rows,
    );
}

fn outcomes(p: &mut Page, s: &SummaryFile, reps: &Table) {
    p.section("outcomes", "Outcome metrics");
    p.note(
        "Ground truth, per replication, summarised across replications. The CI is the 95 % \
         confidence interval of the mean; \"runs\" counts the replications where the metric has \
         a value.",
    );
    let rows = reps
        .header
        .iter()
        .filter_map(|m| s.summary.metrics.get(m).map(|a| (m, a)))
        .map(|(m, a)| {
            let f = |x| human_value(m, x);
            (
                false,
                vec![
                    text(m.clone()),
                    num(f(a.mean)),
                    num(format!("{} – {}", f(a.ci95_low), f(a.ci95_high))),
                    num(f(a.p5)),
                    num(f(a.p50)),
                    num(f(a.p95)),
                    num(f(a.max)),
                    num(a.n.to_string()),
                ],
            )
        })
        .collect();
    p.table(
        &[
            "metric", "mean", "95% CI", "p5", "p50", "p95", "max", "runs",
        ],
        &[1, 2, 3, 4, 5, 6, 7],
        rows,
    );
    let rates = s
        .summary
        .rates
        .iter()
        .map(|(m, r)| {
            (
                false,
                vec![
                    text(m.clone()),
                    num(pct(r.rate)),
                    num(format!("{} of {}", r.count, r.n)),
                    num(format!(
                        "{} – {}",
                        pct(r.wilson95_low),
                        pct(r.wilson95_high)
                    )),
                ],
            )
        })
        .collect();
    p.table(
        &["yes/no metric", "rate", "runs", "95% Wilson interval"],
        &[1, 2, 3],
        rates,
    );
}

fn reason_rows(map: &std::collections::BTreeMap<String, Aggregate>) -> Vec<(bool, Vec<Cell>)> {
    map.iter()
        .filter(|(_, a)| a.max.is_some_and(|x| x > 0.0))
        .map(|(k, a)| {
            (
                false,
                vec![
                    text(k.clone()),
                    num(human_value("count", a.mean)),
                    num(human_value("count", a.p95)),
                    num(human_value("count", a.max)),
                ],
            )
        })
        .collect()
}

fn reasons(p: &mut Page, s: &SummaryFile) {
    p.section("reasons", "Why devices failed or were stranded");
    let failures = reason_rows(&s.summary.failures_by_reason);
    p.h3("Failed attempts by reason (events per run)");
    if failures.is_empty() {
        p.note("No attempt failed in any replication.");
    } else {
        p.table(&["reason", "mean", "p95", "max"], &[1, 2, 3], failures);
    }
    let deferrals = reason_rows(&s.summary.deferrals_by_reason);
    p.h3("Preflight deferrals by reason (checks that held a device back, per run)");
    if deferrals.is_empty() {
        p.note("No preflight check deferred a device in any replication.");
    } else {
        p.table(&["reason", "mean", "p95", "max"], &[1, 2, 3], deferrals);
    }
    let stranded = reason_rows(&s.summary.stranded_by_reason);
    p.h3("Stranded when the window closed, by reason (devices per run)");
    if stranded.is_empty() {
        p.note("No device was stranded in any replication.");
    } else {
        p.table(&["reason", "mean", "p95", "max"], &[1, 2, 3], stranded);
    }
    if !s.summary.halt_reasons.is_empty() {
        p.h3("Halt reasons (runs)");
        let rows = s
            .summary
            .halt_reasons
            .iter()
            .map(|(r, n)| (false, vec![text(r.clone()), num(n.to_string())]))
            .collect();
        p.table(&["reason", "runs"], &[1], rows);
    }
}

fn gates(p: &mut Page, s: &SummaryFile, stages: &Table) {
    p.section("gates", "Gate timeline");
    p.note(
        "A stage's gate passing opens the next stage; a gate failing (or an abort rule \
         tripping) is the halt. Both are marked on the composition plot.",
    );
    let rows = s
        .stages
        .iter()
        .map(|d| {
            (
                d.failed > 0,
                vec![
                    text(d.stage.clone()),
                    num(human_value("opened_at", d.opened_at.p50)),
                    num(format!("{} of {}", d.opened_at.n, s.replications)),
                    num(d.judged.to_string()),
                    num(d.passed.to_string()),
                    num(d.failed.to_string()),
                    num(d.insufficient.to_string()),
                    text(
                        d.failed_checks
                            .iter()
                            .map(|(c, n)| format!("{c} ×{n}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                ],
            )
        })
        .collect();
    p.table(
        &[
            "stage",
            "opened (median)",
            "reached in",
            "judged",
            "passed",
            "failed",
            "insufficient",
            "failed checks",
        ],
        &[1, 2, 3, 4, 5, 6],
        rows,
    );
    evaluations(p, s, stages);
    shadow_gates(p, s);
}

/// Every gate and abort evaluation of replication 0, values in the check's own units.
fn evaluations(p: &mut Page, s: &SummaryFile, stages: &Table) {
    let first: Vec<usize> = (0..stages.rows.len())
        .filter(|&i| stages.cell(i, "replication") == "0")
        .collect();
    p.h3("Every evaluation of replication 0");
    if first.is_empty() {
        p.note("Replication 0 evaluated no gate and no abort rule.");
        return;
    }
    let f = |i: usize, c: &str| stages.cell(i, c).to_string();
    let x = |i: usize, c: &str| crate::report::folder::finite(stages.cell(i, c));
    let rows = first
        .iter()
        .take(GATE_ROWS_MAX)
        .map(|&i| {
            let passed = f(i, "passed") == "true";
            let (stage, check) = (f(i, "stage"), f(i, "check"));
            let ratio = is_ratio_check(s, &stage, &check);
            let v = |c: &str| gate_value(&check, ratio, x(i, c));
            (
                !passed,
                vec![
                    num(human_value("time_at", x(i, "time"))),
                    text(stage.clone()),
                    text(check.clone()),
                    text(f(i, "test")),
                    num(format!(
                        "{} / {}",
                        x(i, "count").map_or(String::new(), count_text),
                        x(i, "base").map_or(String::new(), count_text)
                    )),
                    num(v("observed")),
                    num(v("bound")),
                    num(v("threshold")),
                    verdict(passed),
                    text(f(i, "decision")),
                ],
            )
        })
        .collect();
    p.table(
        &[
            "time",
            "stage",
            "check",
            "test",
            "count / base",
            "observed",
            "bound",
            "threshold",
            "",
            "decision",
        ],
        &[0, 4, 5, 6, 7],
        rows,
    );
    if first.len() > GATE_ROWS_MAX {
        p.note(&format!(
            "{} more evaluations of replication 0 are in stages.csv.",
            first.len() - GATE_ROWS_MAX
        ));
    }
}

/// Whether `stage`'s `check` compares the cohort with its control (its values are ratios).
fn is_ratio_check(s: &SummaryFile, stage: &str, check: &str) -> bool {
    s.glance
        .stages
        .iter()
        .filter(|st| st.name == stage)
        .flat_map(|st| &st.checks)
        .any(|c| c.starts_with(check) && c.contains("× control"))
}

/// A gate value in its metric's units: proportions as percentages, crash rates per device-day,
/// tickets as counts, cohort-vs-control ratios with a `×`.
fn gate_value(check: &str, ratio: bool, x: Option<f64>) -> String {
    let Some(x) = x else { return "-".into() };
    if ratio {
        format!("{x:.2}×")
    } else if check == "support_tickets" {
        count_text(x)
    } else if check == "crash_rate" {
        format!("{x:.3}/device-day")
    } else {
        format!("{:.2}%", x * 100.0)
    }
}

fn shadow_gates(p: &mut Page, s: &SummaryFile) {
    if s.summary.shadow_gates.is_empty() {
        return;
    }
    p.h3("Shadow gates (evaluated, never acting)");
    let rows = s
        .summary
        .shadow_gates
        .iter()
        .map(|(name, g)| {
            (
                false,
                vec![
                    text(name.clone()),
                    num(format!(
                        "{} ({} of {})",
                        pct(g.fired.rate),
                        g.fired.count,
                        g.fired.n
                    )),
                    num(human_value("fired_at", g.fired_at.p50)),
                    num(human_value("harmed", g.harmed_at_fire.mean)),
                    num(human_value("exposed", g.exposed_at_fire.mean)),
                ],
            )
        })
        .collect();
    p.table(
        &[
            "shadow gate",
            "would have fired",
            "at (median)",
            "harmed by then",
            "exposed by then",
        ],
        &[1, 2, 3, 4],
        rows,
    );
}

fn glance(p: &mut Page, s: &SummaryFile) {
    p.section("scenario", "The scenario at a glance");
    fleet_table(p, &s.glance);
    releases_table(p, &s.glance);
    policy(p, &s.glance);
}

fn fleet_table(p: &mut Page, g: &super::glance::Glance) {
    p.h3("Fleet");
    let rows = g
        .populations
        .iter()
        .map(|r| {
            (
                false,
                vec![
                    text(r.name.clone()),
                    num(if r.arrivals_per_day > 0.0 {
                        format!("{} (+{}/day)", r.count, r.arrivals_per_day)
                    } else {
                        r.count.to_string()
                    }),
                    text(r.model.clone()),
                    text(r.region.clone()),
                    text(r.utc_offset.clone()),
                    text(r.firmware.clone()),
                    text(if r.ab_slots { "A/B" } else { "single (bricks)" }),
                    text(r.connectivity.clone()),
                    text(r.power.clone()),
                ],
            )
        })
        .collect();
    p.table(
        &[
            "population",
            "devices",
            "model",
            "region",
            "UTC offset",
            "firmware",
            "slots",
            "connectivity",
            "power",
        ],
        &[1],
        rows,
    );
}

fn releases_table(p: &mut Page, g: &super::glance::Glance) {
    p.h3("Releases");
    let rows = g
        .releases
        .iter()
        .map(|r| {
            let defects = if r.defects.is_empty() {
                text("none")
            } else {
                Cell::Html(format!(
                    "<span class=\"truth\">{}</span>",
                    esc(&r.defects.join("; "))
                ))
            };
            (
                false,
                vec![
                    text(r.version.clone()),
                    num(format!("{} MB", r.size_mb)),
                    defects,
                ],
            )
        })
        .collect();
    p.table(
        &[
            "version",
            "size",
            "defects (ground truth: the policy never sees them)",
        ],
        &[1],
        rows,
    );
}

fn policy(p: &mut Page, g: &super::glance::Glance) {
    p.h3("Policy");
    p.para(&format!(
        "Roll out {} (rollback to {}) at {}; the window is open from {} to {}.",
        g.target,
        g.rollback_to,
        g.rate,
        human_secs(g.window_start),
        human_secs(g.window_end)
    ));
    let rows = g
        .stages
        .iter()
        .map(|st| {
            (
                false,
                vec![
                    text(st.name.clone()),
                    text(st.select.clone()),
                    num(st.share.clone()),
                    num(human_secs(st.bake)),
                    text(st.approval.clone()),
                    text(if st.gate.is_empty() {
                        "none".into()
                    } else {
                        st.gate.clone()
                    }),
                    text(st.checks.join("; ")),
                ],
            )
        })
        .collect();
    p.table(
        &[
            "stage",
            "select",
            "cumulative share",
            "bake",
            "approval",
            "gate",
            "checks",
        ],
        &[2, 3],
        rows,
    );
    for (title, items) in [
        ("Abort rules (whole rollout)", &g.aborts),
        ("Shadow gates", &g.shadow_gates),
        ("Injected faults", &g.faults),
    ] {
        if items.is_empty() {
            continue;
        }
        p.h3(title);
        let list: String = items
            .iter()
            .map(|i| format!("<li>{}</li>", esc(i)))
            .collect();
        p.raw(&format!("<ul>{list}</ul>\n"));
    }
}
