//! The report's table of `by_cohort`: harmed and bricked devices, failures and stranded devices
//! (with their leading reasons) per model, region and stage, as means per replication from
//! `summary.json`, in the HTML page and in `summary.md`.

use super::html::{num, text, Page};
use super::summary::SummaryFile;
use super::table::count_text;
use crate::stats::Aggregate;
use std::collections::BTreeMap;

/// One cohort's means per replication.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub name: String,
    pub harmed: f64,
    pub bricked: f64,
    pub failures: f64,
    /// The leading failure reasons with their means, largest first: `timeout 34, bricked 33`.
    pub failure_reasons: String,
    pub stranded: f64,
    pub stranded_reasons: String,
}

impl Row {
    /// Whether anything happened to the cohort.
    pub fn any(&self) -> bool {
        self.harmed > 0.0 || self.bricked > 0.0 || self.failures > 0.0 || self.stranded > 0.0
    }
}

/// The dimensions with their headings.
pub const DIMENSIONS: [(&str, &str); 3] = [
    ("model", "By model"),
    ("region", "By region"),
    ("stage", "By stage"),
];

/// The cohorts of dimension `dim` (stages in plan order, `not targeted` last; models and
/// regions by name). Empty for a summary without `by_cohort` (an older version's).
pub fn rows(s: &SummaryFile, dim: &str) -> Vec<Row> {
    let Some(cohorts) = s.summary.by_cohort.get(dim) else {
        return Vec::new();
    };
    let mean = |a: &Aggregate| a.mean.unwrap_or(0.0);
    let mut out: Vec<Row> = (cohorts.iter())
        .map(|(name, c)| {
            let (failures, failure_reasons) = reasons(&c.failures_by_reason);
            let (stranded, stranded_reasons) = reasons(&c.stranded_by_reason);
            Row {
                name: name.clone(),
                harmed: mean(&c.harmed),
                bricked: mean(&c.bricked),
                failures,
                failure_reasons,
                stranded,
                stranded_reasons,
            }
        })
        .collect();
    if dim == "stage" {
        let at = |name: &str| s.glance.stages.iter().position(|st| st.name == name);
        out.sort_by_key(|r| at(&r.name).unwrap_or(usize::MAX));
    }
    out
}

/// The mean total of a reason map (means add up) and its three largest reasons.
fn reasons(map: &BTreeMap<String, Aggregate>) -> (f64, String) {
    let mut by: Vec<(&str, f64)> = (map.iter())
        .map(|(k, a)| (k.as_str(), a.mean.unwrap_or(0.0)))
        .filter(|(_, m)| *m > 0.0)
        .collect();
    by.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let total = by.iter().map(|x| x.1).sum();
    let top: Vec<String> = (by.iter().take(3))
        .map(|(k, m)| format!("{k} {}", count_text(*m)))
        .collect();
    (total, top.join(", "))
}

/// The HTML section: one table per dimension. Nothing for a summary without `by_cohort`.
pub fn html(p: &mut Page, s: &SummaryFile) {
    if s.summary.by_cohort.is_empty() {
        return;
    }
    p.section(
        "by-cohort",
        "Failures and stranded devices by model, region and stage",
    );
    p.note(
        "Mean per replication (summary.json by_cohort). Failures are events (a device can fail \
         several times); stranded devices are the targeted devices not updated when the window \
         closed. Each dimension sums to the run's totals.",
    );
    for (dim, title) in DIMENSIONS {
        p.h3(title);
        let c = |x: f64| num(count_text(x));
        let table = (rows(s, dim).into_iter())
            .map(|r| {
                (
                    r.harmed > 0.0,
                    vec![
                        text(r.name.clone()),
                        c(r.harmed),
                        c(r.bricked),
                        c(r.failures),
                        text(r.failure_reasons.clone()),
                        c(r.stranded),
                        text(r.stranded_reasons.clone()),
                    ],
                )
            })
            .collect();
        p.table(
            &[
                dim,
                "harmed",
                "bricked",
                "failures",
                "leading failure reasons",
                "stranded",
                "leading stranded reasons",
            ],
            &[1, 2, 3, 5],
            table,
        );
    }
}
