//! `summary.md`: the report's headline as Markdown, for pull requests and CI job summaries
//! (`cat summary.md >> "$GITHUB_STEP_SUMMARY"`).

use super::folder::{CompareDoc, SweepDoc, TuneDoc};
use super::summary::SummaryFile;
use super::table::{bound_human, compare_diff, compare_value, human_value, pct};

/// User text (a scenario, stage or file name, a parameter value) as inline Markdown that reads
/// as the text itself wherever it stands — a heading, a table cell, a paragraph: control
/// characters (new lines among them) become spaces, so the text can neither end its line nor
/// start a heading, list or table row; `& < >` become entities, so no HTML gets through; and the
/// characters that start emphasis, links, code, tables, strike-through or math are
/// backslash-escaped.
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' | '$' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// User text as a code span when it holds nothing a code span cannot carry safely (a back
/// tick, a pipe, HTML or a control character), else as escaped [`text`].
pub(crate) fn code(s: &str) -> String {
    let plain = |c: char| !c.is_control() && !"`|<>&".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        format!("`{s}`")
    } else {
        text(s)
    }
}

/// A table cell of user text (escaped by [`text`]: pipes included).
fn cell(s: &str) -> String {
    text(s)
}

/// The headline metrics of a run.
const HEADLINE: [&str; 9] = [
    "harmed",
    "harmed_critical",
    "bricked",
    "time_to_detect",
    "time_to_95",
    "completion",
    "stranded",
    "rolled_back",
    "time_to_recover_95",
];

pub fn run(
    s: &SummaryFile,
    stages: &super::folder::Table,
    breakdown: Option<&super::folder::Table>,
) -> String {
    let mut out = format!(
        "### fleetsim: {}\n\n{} — {} devices, {} replications, seed {}\n\n",
        text(&s.scenario),
        code(&s.file),
        s.devices,
        s.replications,
        s.seed
    );
    for (label, key) in [("halted", "halted"), ("false halts", "false_halt")] {
        if let Some(r) = s.summary.rates.get(key) {
            out.push_str(&format!(
                "- **{label}**: {} ({} of {}; 95% CI {}–{})\n",
                pct(r.rate),
                r.count,
                r.n,
                pct(r.wilson95_low),
                pct(r.wilson95_high)
            ));
        }
    }
    out.push_str("\n| metric | mean | p50 | p95 | 95% CI of mean |\n|---|--:|--:|--:|--:|\n");
    for m in HEADLINE {
        let Some(a) = s.summary.metrics.get(m) else {
            continue;
        };
        let f = |x| human_value(m, x);
        out.push_str(&format!(
            "| {m} | {} | {} | {} | {} – {} |\n",
            f(a.mean),
            f(a.p50),
            f(a.p95),
            f(a.ci95_low),
            f(a.ci95_high)
        ));
    }
    if !s.expectations.is_empty() {
        let failed = s.expectations.iter().filter(|v| !v.passed).count();
        out.push_str(&format!(
            "\n**Expectations**: {} passed, {failed} failed\n\n| | expectation | observed |\n|---|---|--:|\n",
            s.expectations.len() - failed
        ));
        for v in &s.expectations {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                if v.passed { "✅" } else { "❌" },
                cell(&bound_human(&v.metric, &v.stat, v.min, v.max)),
                human_value(&v.metric, v.observed)
            ));
        }
    }
    if !s.summary.halt_reasons.is_empty() {
        let reasons: Vec<String> = s
            .summary
            .halt_reasons
            .iter()
            .map(|(r, n)| format!("{} ×{n}", code(r)))
            .collect();
        out.push_str(&format!("\nHalt reasons: {}\n", reasons.join(", ")));
    }
    if let Some(c) = s
        .summary
        .stranded_by_reason
        .get("cancelled")
        .and_then(|a| a.mean)
        .filter(|c| *c > 0.0)
    {
        out.push_str(&format!(
            "\nCancelled by the halt (as meant): a mean of {} devices per run (`stranded_by_reason.cancelled`).\n",
            human_value("stranded", Some(c))
        ));
    }
    out.push_str(&cohorts(s));
    let next = super::advice::advice(s, stages, breakdown);
    if !next.is_empty() {
        out.push_str("\n**What to do next**\n\n");
        for a in next {
            out.push_str(&format!("- {}\n", with_code_spans(&a.text)));
            if let Some(c) = a.command {
                out.push_str(&format!("  {}\n", code(&c)));
            }
        }
    }
    out.push_str("\nThe full report is `report.html` in the same folder.\n");
    out
}

/// Rows `summary.md` lists at most; the rest are in `report.html`.
const MARKDOWN_ROWS: usize = 15;

/// The table by cohort (`by_cohort`): the cohorts something happened to, dimension by
/// dimension; empty when nothing happened or the summary has no `by_cohort`.
fn cohorts(s: &SummaryFile) -> String {
    use super::cohorts::{rows, Row, DIMENSIONS};
    use super::table::count_text;
    let all: Vec<(&str, Row)> = (DIMENSIONS.iter())
        .flat_map(|(dim, _)| rows(s, dim).into_iter().map(move |r| (*dim, r)))
        .filter(|(_, r)| r.any())
        .collect();
    if all.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\n**By cohort** (mean per run)\n\n| cohort | harmed | bricked | failures | stranded |\n|---|--:|--:|--:|--:|\n",
    );
    let with = |n: f64, why: &str| match why.is_empty() {
        true => count_text(n),
        false => format!("{} ({})", count_text(n), text(why)),
    };
    for (dim, r) in all.iter().take(MARKDOWN_ROWS) {
        out.push_str(&format!(
            "| {dim} {} | {} | {} | {} | {} |\n",
            code(&r.name),
            count_text(r.harmed),
            count_text(r.bricked),
            with(r.failures, &r.failure_reasons),
            with(r.stranded, &r.stranded_reasons),
        ));
    }
    if all.len() > MARKDOWN_ROWS {
        out.push_str(&format!(
            "\n{} more cohorts in `report.html`.\n",
            all.len() - MARKDOWN_ROWS
        ));
    }
    out
}

/// Advice text whose backquoted words are code: each part escaped for Markdown on its own.
fn with_code_spans(s: &str) -> String {
    s.split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { code(part) } else { text(part) })
        .collect()
}

fn params(p: &[(String, String)]) -> String {
    cell(
        &p.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

pub fn sweep(d: &SweepDoc) -> String {
    let mut out = format!(
        "### fleetsim sweep: {}\n\n{} points × {} replications (seed {}); objectives {}\n\n\
         | point | parameters | harmed mean | harmed p95 | time_to_95 p50 | false halts | |\n\
         |--:|---|--:|--:|--:|--:|---|\n",
        text(&d.scenario),
        d.points.len(),
        d.replications,
        d.seed,
        text(&d.objectives.join(", "))
    );
    for p in &d.points {
        let m = |k: &str, f: fn(&crate::stats::Aggregate) -> Option<f64>| {
            human_value(k, p.metrics.get(k).and_then(f))
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            p.point,
            params(&p.params),
            m("harmed", |a| a.mean),
            m("harmed", |a| a.p95),
            m("time_to_95", |a| a.p50),
            p.rates
                .get("false_halt")
                .map_or("-".into(), |r| pct(r.rate)),
            if p.pareto { "◆ front" } else { "" }
        ));
    }
    out
}

pub fn tune(d: &TuneDoc) -> String {
    let mut out = format!(
        "### fleetsim tune: {}\n\n{} settings × {} replications (seed {}); limit: false halts ≤ {}\n\n\
         | point | parameters | false halts (95% CI) | harmed mean | harmed p95 | detect | |\n\
         |--:|---|--:|--:|--:|--:|---|\n",
        text(&d.scenario),
        d.points.len(),
        d.replications,
        d.seed,
        pct(d.max_false_halt)
    );
    for p in &d.points {
        out.push_str(&format!(
            "| {} | {} | {} ({}–{}) | {} | {} | {} | {} |\n",
            p.point,
            params(&p.params),
            pct(p.false_halt.rate),
            pct(p.false_halt.wilson95_low),
            pct(p.false_halt.wilson95_high),
            human_value("harmed", p.harmed_mean),
            human_value("harmed", p.harmed_p95),
            human_value("time_to_detect", p.time_to_detect_mean),
            if p.recommended {
                "★ recommended"
            } else if d.leading == Some(p.point) {
                "☆ leading (too thin)"
            } else if p.pareto {
                "◆ front"
            } else {
                ""
            }
        ));
    }
    if d.evidence == "too_thin" {
        out.push_str(&format!(
            "\nNo setting is shown to have false halts ≤ {} on the 95 % Wilson upper bound: the evidence is too thin{}.\n",
            pct(d.max_false_halt),
            d.replications_needed
                .map_or(String::new(), |n| format!("; {n} replications would settle it"))
        ));
    }
    out
}

pub fn compare(d: &CompareDoc) -> String {
    let mut out = format!(
        "### fleetsim compare: {}\n\nbase {} vs candidate {}, paired on seed {} ({} replications), \
         tolerance {}: **{}**\n\n| metric | base | candidate | difference | paired 95% CI | |\n\
         |---|--:|--:|--:|--:|---|\n",
        text(&d.scenario),
        code(&d.base),
        code(&d.candidate),
        d.seed,
        d.replications,
        d.tolerance,
        if d.regressed { "regressed" } else { "no regression" }
    );
    for r in d.rows.iter().filter(|r| r.guarded) {
        let f = |x| compare_value(&r.metric, &r.stat, x);
        let d = |x| compare_diff(&r.metric, &r.stat, x);
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            cell(&r.label()),
            f(r.base),
            f(r.candidate),
            d(r.candidate.zip(r.base).map(|(c, b)| c - b)),
            r.diff_ci95.map_or(String::new(), |(lo, hi)| format!(
                "[{}, {}]",
                d(Some(lo)),
                d(Some(hi))
            )),
            if r.regressed { "❌ REGRESSED" } else { "✅" }
        ));
    }
    out
}

/// `summary.md` of a chaos campaign: how many schedules broke an expectation, and the worst.
pub fn chaos(d: &super::folder::ChaosDoc) -> String {
    let mut out = format!(
        "### fleetsim chaos: {}\n\n{} fault schedules (campaign seed {}): {} break an expectation\n",
        text(&d.scenario),
        d.campaigns,
        d.campaign_seed,
        d.violations.len()
    );
    if !d.violations.is_empty() {
        out.push_str("\n| campaign | severity | breaks | reproducer |\n|--:|--:|---|---|\n");
        for v in d.violations.iter().take(20) {
            let broken: Vec<String> = v
                .verdicts
                .iter()
                .filter(|x| !x.passed)
                .map(super::table::verdict_label)
                .collect();
            out.push_str(&format!(
                "| {} | {:.3} | {} | {} |\n",
                v.campaign,
                v.severity,
                cell(&broken.join("; ")),
                code(&v.reproducer)
            ));
        }
    }
    out.push_str("\nThe full report is `report.html` in the same folder.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::{code, text};

    /// The headline is a selection of the catalog's metrics, named as the summary stores them.
    #[test]
    fn headline_metrics_are_catalog_metrics() {
        for name in super::HEADLINE {
            assert!(
                crate::scenario::catalog::NUMERIC_METRICS.contains(&name),
                "{name}"
            );
        }
    }

    #[test]
    fn user_text_stays_text() {
        let evil = "a\n# pwned <img src=x onerror=alert(1)> | & \u{1}";
        assert_eq!(
            text(evil),
            "a \\# pwned &lt;img src=x onerror=alert(1)&gt; \\| &amp;  "
        );
        assert_eq!(text("[x](y) *b* `c`"), "\\[x\\](y) \\*b\\* \\`c\\`");
        assert_eq!(code("gate:canary:crash_rate"), "`gate:canary:crash_rate`");
        assert_eq!(code("a|b"), "a\\|b");
    }
}
