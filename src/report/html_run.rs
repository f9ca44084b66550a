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

/// The data files of a run folder the page is drawn from.
pub struct RunFiles<'a> {
    pub summary: &'a SummaryFile,
    pub replications: &'a Table,
    pub stages: &'a Table,
    /// `breakdown.csv` (absent in folders of older versions).
    pub breakdown: Option<&'a Table>,
}

pub fn page(f: &RunFiles, plots: &RunPlots) -> String {
    let (s, reps, stages) = (f.summary, f.replications, f.stages);
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
        "Devices per firmware version over time, mean over replications; below, on its own \
         scale, the devices that moved off their starting version. Dashed lines mark the \
         median time (across the replications where it happened) at which each stage opened, \
         the rollout halted and the rollback began; (k/n) says in how many runs. Every time \
         plot shares one time range.",
        "composition.svg",
    );
    p.figure(
        &plots.observed,
        "Above: solid lines are the ground truth; dashed lines are what the backend — and every \
         gate — had heard by then (support tickets included). Below: every gate and abort \
         evaluation of every replication, its value (or confidence bound) ÷ its threshold; a \
         filled point failed. The health signals the gates read — crash rate, silent devices, \
         telemetry gaps — exist only when a gate judges them, so they are points, not lines. \
         The distance from the first harm to the first point above 1 is the detection lag.",
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
    next_steps(&mut p, s, stages, f.breakdown);
    if let Some(t) = f.breakdown {
        breakdown_tables(&mut p, s, t);
    }
    super::cohorts::html(&mut p, s);
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

/// The headline in sentences, for a reader who has never seen the metric glossary. Counts are
/// means per run and durations medians; each sentence names the one statistic it uses.
fn story(s: &SummaryFile) -> String {
    let g = &s.glance;
    let mut lines: Vec<String> = vec![format!(
        "The rollout of {} to {} targeted devices was simulated {} times.",
        g.target,
        human_value("targeted", mean(s, "targeted")),
        s.replications
    )];
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
    if defective(s) {
        lines.push(harm_story(s));
    } else if let Some(f) = s.summary.rates.get("false_halt") {
        lines.push(format!(
            "The release has no defect, so every halt is a false halt: {} of {} runs ({}).",
            f.count,
            f.n,
            pct(f.rate)
        ));
    }
    lines.push(completion_story(s));
    if mean(s, "rolled_back").is_some_and(|x| x > 0.0) {
        lines.push(format!(
            "Rollback, as a mean per run: {} devices returned to {}, {} could not go back \
             (bricked, or an unsafe downgrade) and the rollback of {} more never completed.",
            human_value("rolled_back", mean(s, "rolled_back")),
            g.rollback_to,
            human_value("rollback_refused", mean(s, "rollback_refused")),
            human_value("rollback_stranded", mean(s, "rollback_stranded")),
        ));
    }
    lines.extend(support_story(s));
    lines.extend(fail_safe_story(s));
    let body: String = lines.iter().map(|l| format!("<p>{}</p>", esc(l))).collect();
    format!("<div class=\"story\">{body}</div>\n")
}

/// Edge fail-safes and delta fallbacks, when the run had any: means per run.
fn fail_safe_story(s: &SummaryFile) -> Option<String> {
    let parts: Vec<String> = [
        (
            "watchdog_reverted",
            "devices reverted by their boot watchdog",
        ),
        (
            "failsafe_reverted",
            "devices reverted by a configuration fail-safe",
        ),
        (
            "delta_fallbacks",
            "deltas that failed to apply and fell back to the full image",
        ),
    ]
    .iter()
    .filter_map(|(m, what)| {
        let x = mean(s, m).filter(|x| *x > 0.0)?;
        Some(format!("{} {what}", human_value(m, Some(x))))
    })
    .collect();
    (!parts.is_empty())
        .then(|| format!("Edge fail-safes, as a mean per run: {}.", parts.join("; ")))
}

/// Support and operations, when the run had any (quarantined devices, a support queue, field
/// visits): counts as means per run, the time to clear as a median.
fn support_story(s: &SummaryFile) -> Option<String> {
    let positive = |m: &str| mean(s, m).is_some_and(|x| x > 0.0);
    let queue = s
        .summary
        .metrics
        .get("support_backlog_peak")
        .filter(|a| a.n > 0);
    if !positive("quarantined") && queue.is_none() && !positive("field_visits") {
        return None;
    }
    let mut parts = vec![format!(
        "Support, as a mean per run: {} devices quarantined after repeated failures",
        human_value("quarantined", mean(s, "quarantined"))
    )];
    if let Some(q) = queue {
        let clear = s.summary.metrics.get("time_to_clear_support");
        parts.push(match clear.filter(|a| a.n > 0) {
            Some(c) => format!(
                "a peak support backlog of {} items, cleared a median {} after the first ticket \
                 (still not cleared at the horizon in {} runs)",
                human_value("support_backlog_peak", q.mean),
                human_value("time_to_clear_support", c.p50),
                c.missing
            ),
            None => format!(
                "a peak support backlog of {} items, never cleared before the horizon",
                human_value("support_backlog_peak", q.mean)
            ),
        });
    }
    if positive("field_visits") {
        parts.push(format!(
            "{} field visits to bricked devices, costing {}",
            human_value("field_visits", mean(s, "field_visits")),
            human_value("field_cost", mean(s, "field_cost"))
        ));
    }
    Some(format!("{}.", parts.join("; ")))
}

fn defective(s: &SummaryFile) -> bool {
    let g = &s.glance;
    g.releases
        .iter()
        .any(|r| r.version == g.target && !r.defects.is_empty())
}

/// Harm as means per run, then detection as a median, in two sentences.
fn harm_story(s: &SummaryFile) -> String {
    let harm = format!(
        "The release is defective (ground truth). Per run, a mean of {} devices were harmed and \
         {} bricked; the worst 5 % of runs harmed {} or more.",
        human_value("harmed", mean(s, "harmed")),
        human_value("bricked", mean(s, "bricked")),
        human_value("harmed", stat(s, "harmed", |a| a.p95)),
    );
    let detect = match s.summary.metrics.get("time_to_detect") {
        Some(a) if a.n > 0 => format!(
            "In the {} runs that detected it, the median time from the first harmed device to \
             the halt was {}.",
            a.n,
            human_value("time_to_detect", a.p50),
        ),
        _ => "No gate or abort rule detected the harm in any run.".to_string(),
    };
    format!("{harm} {detect}")
}

/// Completion and the devices left behind: cancelled by a halt (working as meant) apart from
/// those stranded for a reason of their own.
fn completion_story(s: &SummaryFile) -> String {
    let g = &s.glance;
    let reached = match s.summary.metrics.get("time_to_95") {
        Some(a) if a.n > 0 => format!(
            " In the {} runs that reached 95 % of them, the median time to get there was {}.",
            a.n,
            human_value("time_to_95", a.p50)
        ),
        _ => " No run reached 95 % of them.".to_string(),
    };
    let by = |r: &str| {
        s.summary
            .stranded_by_reason
            .get(r)
            .and_then(|a| a.mean)
            .unwrap_or(0.0)
    };
    let cancelled = by("cancelled");
    let stranded = mean(s, "stranded").unwrap_or(0.0) - cancelled;
    let left = if cancelled > 0.0 {
        format!(
            " Of the devices not updated when the window closed, a mean of {} per run were \
             cancelled by the halt (the rollout stopped before reaching them, as it should) and \
             {} were stranded for other reasons (see below).",
            human_value("stranded", Some(cancelled)),
            human_value("stranded", Some(stranded.max(0.0))),
        )
    } else {
        format!(
            " A mean of {} devices per run were stranded (not updated when the window closed).",
            human_value("stranded", Some(stranded.max(0.0)))
        )
    };
    format!(
        "A mean of {} of the targeted devices ran {} at the end.{reached}{left}",
        human_value("completion", mean(s, "completion")),
        g.target,
    )
}

/// Headline cards. A halted defective release leads with what a halt is judged by (how fast it
/// was detected, the harm, the recovery); a healthy one with speed and false halts. Counts show
/// the mean, durations the median, and each card says which.
fn cards(s: &SummaryFile) -> Vec<(String, String, String)> {
    let card = |label: &str, m: &str| match s.summary.metrics.get(m) {
        Some(a) if a.n > 0 => {
            let duration = crate::report::table::is_duration(m);
            let (v, name) = if duration {
                (a.p50, "median")
            } else {
                (a.mean, "mean")
            };
            let missing = if a.missing > 0 {
                format!(" · no value in {} runs", a.missing)
            } else {
                String::new()
            };
            (
                label.to_string(),
                human_value(m, v),
                format!("{name} · p95 {}{missing}", human_value(m, a.p95)),
            )
        }
        _ => (label.to_string(), "never".into(), "in no run".into()),
    };
    let rate = |label: &str, r: &str| {
        s.summary.rates.get(r).map(|x| {
            (
                label.to_string(),
                pct(x.rate),
                format!(
                    "{} of {} runs · 95% CI {}–{}",
                    x.count,
                    x.n,
                    pct(x.wilson95_low),
                    pct(x.wilson95_high)
                ),
            )
        })
    };
    let halted = s.summary.rates.get("halted").is_some_and(|h| h.count > 0);
    let mut out = Vec::new();
    if defective(s) && halted {
        out.push(card("time to detect", "time_to_detect"));
        out.push(card("harmed", "harmed"));
        out.push(card("bricked", "bricked"));
        out.push(card("recovered (rolled back)", "rolled_back"));
        out.push(card("time to recover 95 %", "time_to_recover_95"));
        out.extend(rate("halted", "halted"));
        out.push(card("time to 95 %", "time_to_95"));
    } else {
        out.push(card("time to 95 %", "time_to_95"));
        out.push(card("completion", "completion"));
        out.extend(rate("false halts", "false_halt"));
        out.extend(rate("halted", "halted"));
        out.push(card("harmed", "harmed"));
        if defective(s) {
            out.push(card("time to detect", "time_to_detect"));
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
    p.section(
        "reasons",
        "Why devices failed, were cancelled or were stranded",
    );
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
    let mut stranded = reason_rows(&s.summary.stranded_by_reason);
    // SPEC's `stranded_by_reason.cancelled`: devices a halt stopped before they updated. The
    // metric keeps its name; the page says what it means.
    for (_, row) in &mut stranded {
        if matches!(&row[0], Cell::Text(r) if r == "cancelled") {
            row[0] = text("cancelled by the halt (as meant)");
        }
    }
    p.h3("Not updated when the window closed, by reason (devices per run)");
    if stranded.is_empty() {
        p.note("Every targeted device was updated in every replication.");
    } else {
        p.note(
            "stranded_by_reason in summary.json. Devices cancelled by a halt were stopped on              purpose; the other reasons are devices the rollout could not reach.",
        );
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
        "Roll out {} (rollback to {}).",
        g.target, g.rollback_to
    ));
    let knobs = g
        .knobs
        .iter()
        .map(|(k, v)| {
            (
                false,
                vec![
                    Cell::Html(format!("<code>{}</code>", esc(k))),
                    text(v.clone()),
                ],
            )
        })
        .collect();
    p.table(&["key", "setting"], &[], knobs);
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
                    num(st.max_wait.map_or("-".into(), human_secs)),
                    text(st.on_insufficient.clone()),
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
            "max wait",
            "if insufficient",
            "approval",
            "gate",
            "checks",
        ],
        &[2, 3, 4],
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

/// "What to do next" (see [`super::advice`]); backquoted words are code.
fn next_steps(p: &mut Page, s: &SummaryFile, stages: &Table, breakdown: Option<&Table>) {
    let items = super::advice::advice(s, stages, breakdown);
    if items.is_empty() {
        return;
    }
    p.section("next", "What to do next");
    let list: String = items
        .iter()
        .map(|a| {
            let cmd = a.command.as_ref().map_or(String::new(), |c| {
                format!("<pre class=\"cmd\"><code>{}</code></pre>", esc(c))
            });
            format!("<li>{}{cmd}</li>", code_spans(&esc(&a.text)))
        })
        .collect();
    p.raw(&format!("<ul class=\"next\">{list}</ul>\n"));
}

/// `word` → `<code>word</code>` in text that is already escaped.
fn code_spans(escaped: &str) -> String {
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<code>{part}</code>"));
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Harm and failures rolled up by model, region and stage, from `breakdown.csv`.
fn breakdown_tables(p: &mut Page, s: &SummaryFile, t: &Table) {
    p.section("breakdown", "Harm and failures by model, region and stage");
    p.note(
        "Devices at the end of the run, mean per replication (breakdown.csv). \"failed\" \
         counts devices whose update or rollback gave up after its last attempt.",
    );
    for (column, title) in [
        ("model", "By model"),
        ("region", "By region"),
        ("stage", "By stage"),
    ] {
        p.h3(title);
        let mut groups = super::breakdown::roll_up(t, column);
        if column == "stage" {
            // In plan order; devices no stage targeted last.
            let at = |name: &str| {
                s.glance
                    .stages
                    .iter()
                    .position(|st| st.name == name)
                    .unwrap_or(usize::MAX)
            };
            groups.sort_by_key(|g| at(&g.name));
        }
        let rows = groups
            .into_iter()
            .map(|g| {
                let c = |x: f64| num(human_value("devices", Some(x)));
                let harmed_share = if g.exposed > 0.0 {
                    pct(g.harmed / g.exposed)
                } else {
                    "-".into()
                };
                (
                    g.harmed > 0.0,
                    vec![
                        text(g.name.clone()),
                        c(g.devices),
                        c(g.targeted),
                        c(g.updated),
                        c(g.exposed),
                        c(g.harmed),
                        num(harmed_share),
                        c(g.bricked),
                        c(g.rolled_back),
                        c(g.failed),
                    ],
                )
            })
            .collect();
        p.table(
            &[
                column,
                "devices",
                "targeted",
                "updated",
                "exposed",
                "harmed",
                "harmed / exposed",
                "bricked",
                "rolled back",
                "failed",
            ],
            &[1, 2, 3, 4, 5, 6, 7, 8, 9],
            rows,
        );
    }
}
