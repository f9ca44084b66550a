//! JUnit XML through quick-junit, for CI systems that render each expectation (`fleetsim check
//! --junit FILE`) or each guarded metric (`fleetsim compare --junit FILE`) as a test.
//!
//! - One test suite per scenario, one test case per expectation; a scenario that fails to load
//!   is a suite with one `error` test case carrying the error, so a CI page shows it rather
//!   than nothing.
//! - Suite names are the scenario names, made distinct with the file when two files share a
//!   `simulation.name` (CI systems merge suites of the same name).
//! - quick-junit escapes every name and drops what XML 1.0 cannot carry (control characters),
//!   so any scenario name or message gives valid XML.
//! - `timestamp` is when the command started (`$SOURCE_DATE_EPOCH` when set, for reproducible
//!   files) and `time` the seconds spent, per suite where known (a merge of shards does not know
//!   how long the shards took and leaves it out).

use super::table::halt_reasons_list;
use crate::analysis::compare::Row;
use crate::analysis::expect::{fmt, Verdict};
use crate::error::{Error, Result};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::time::{Duration, SystemTime};

/// One scenario of `check`: its verdicts, or the error that stopped it from loading.
pub struct CheckSuite {
    pub name: String,
    pub file: String,
    pub outcome: std::result::Result<Vec<Verdict>, String>,
    /// Time spent loading and simulating it, when known.
    pub time: Option<Duration>,
}

/// The moment a report is stamped with: `$SOURCE_DATE_EPOCH` (seconds) when set, else now.
pub fn timestamp() -> SystemTime {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or_else(SystemTime::now, |secs| {
            SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
        })
}

fn stamp(at: SystemTime) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::<chrono::Utc>::from(at).fixed_offset()
}

/// Suite names: the scenario name, or `name (file)` when another suite has the same name, and
/// a `#k` suffix for what is still the same (one file given twice).
fn distinct_names(names_files: &[(&str, &str)]) -> Vec<String> {
    let count = |n: &str| names_files.iter().filter(|(m, _)| *m == n).count();
    let mut names: Vec<String> = names_files
        .iter()
        .map(|(n, f)| match count(n) {
            1 => n.to_string(),
            _ => format!("{n} ({f})"),
        })
        .collect();
    for i in 0..names.len() {
        let same = names[..i].iter().filter(|m| **m == names[i]).count();
        if same > 0 {
            names[i] = format!("{} #{}", names[i], same + 1);
        }
    }
    names
}

fn verdict_case(suite: &str, v: &Verdict) -> TestCase {
    let status = if v.passed {
        TestCaseStatus::success()
    } else {
        // The test name stays the raw bound (CI tracks tests by name); the message is in
        // people units.
        let observed = super::table::verdict_observed(v);
        let reasons = if v.halt_reasons.is_empty() {
            String::new()
        } else {
            format!("; halt reasons: {}", halt_reasons_list(&v.halt_reasons))
        };
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
        s.set_message(format!(
            "expected {}, observed {observed}{reasons}",
            super::table::verdict_label(v)
        ));
        s.set_description(format!(
            "observed {} {} = {observed} in the {} world{reasons}",
            v.metric,
            v.stat,
            v.world.name()
        ));
        s
    };
    let mut case = TestCase::new(v.label(), status);
    case.set_classname(suite);
    case
}

/// The JUnit XML of a `check` run that started at `started`; `total` sums the suites' known
/// times (`None` when none is known).
pub fn render_check(
    suites: &[CheckSuite],
    started: SystemTime,
    total: Option<Duration>,
) -> Result<String> {
    let pairs: Vec<(&str, &str)> = suites
        .iter()
        .map(|s| (s.name.as_str(), s.file.as_str()))
        .collect();
    let names = distinct_names(&pairs);
    let mut report = Report::new("fleetsim check");
    report.set_timestamp(stamp(started));
    if let Some(t) = total {
        report.set_time(t);
    }
    for (s, name) in suites.iter().zip(&names) {
        let mut suite = TestSuite::new(name.as_str());
        suite.set_timestamp(stamp(started));
        suite.extra.insert("file".into(), s.file.as_str().into());
        if let Some(t) = s.time {
            suite.set_time(t);
        }
        match &s.outcome {
            Ok(verdicts) => {
                suite.add_test_cases(verdicts.iter().map(|v| verdict_case(name, v)));
            }
            Err(message) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status
                    .set_message(message.lines().next().unwrap_or_default())
                    .set_type("fleetsim::scenario")
                    .set_description(message.as_str());
                let mut case = TestCase::new("the scenario loads", status);
                case.set_classname(name.as_str());
                suite.add_test_case(case);
            }
        }
        report.add_test_suite(suite);
    }
    serialize(&report)
}

/// The JUnit XML of a `compare`: one suite for the scenario, one test case per guarded row.
pub fn render_compare(
    scenario: &str,
    file: &str,
    rows: &[Row],
    tolerance: f64,
    started: SystemTime,
    total: Duration,
) -> Result<String> {
    let mut report = Report::new("fleetsim compare");
    report.set_timestamp(stamp(started)).set_time(total);
    let mut suite = TestSuite::new(scenario);
    suite
        .set_timestamp(stamp(started))
        .set_time(total)
        .extra
        .insert("file".into(), file.into());
    for r in rows.iter().filter(|r| r.guarded) {
        let status = if r.regressed {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(compare_message(r, tolerance));
            s
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(r.label(), status);
        case.set_classname(scenario);
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);
    serialize(&report)
}

/// `harmed p95 regressed: base 377.4, candidate 420 (paired diff +42.6; tolerance 0.05)`.
pub fn compare_message(r: &Row, tolerance: f64) -> String {
    let v = |x: Option<f64>| x.map_or("no value".to_string(), fmt);
    let diff = r
        .paired_diff
        .map_or(String::new(), |d| format!("paired diff {d:+.4}; "));
    format!(
        "{} regressed: base {}, candidate {} ({diff}tolerance {tolerance})",
        r.label(),
        v(r.base),
        v(r.candidate)
    )
}

fn serialize(report: &Report) -> Result<String> {
    report.to_string().map_err(|e| {
        Error::io(
            "cannot write the JUnit XML",
            std::io::Error::other(e.to_string()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_sharing_a_name_are_told_apart_by_file() {
        assert_eq!(
            distinct_names(&[("a", "x.toml"), ("a", "y.toml"), ("b", "z.toml")]),
            ["a (x.toml)", "a (y.toml)", "b"]
        );
        assert_eq!(
            distinct_names(&[("a", "x.toml"), ("a", "x.toml")]),
            ["a (x.toml)", "a (x.toml) #2"]
        );
    }

    #[test]
    fn control_characters_never_reach_the_xml() {
        let suite = CheckSuite {
            name: "a\u{1}b\u{7f}<&>\"'".into(),
            file: "f\u{0}.toml".into(),
            outcome: Err("bad\u{1b}[31m\nsecond line".into()),
            time: None,
        };
        let xml = render_check(&[suite], SystemTime::UNIX_EPOCH, None).unwrap();
        // XML 1.0 has no C0 control but tab, new line and carriage return (DEL is legal).
        assert!(
            !xml.chars().any(|c| c < ' ' && !"\n\r\t".contains(c)),
            "{xml}"
        );
        let doc = roxmltree::Document::parse(&xml).expect("valid XML");
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        assert!(suite.attribute("name").unwrap().contains("<&>\"'"));
        assert!(xml.contains("timestamp=\"1970-01-01T00:00:00"), "{xml}");
    }
}
