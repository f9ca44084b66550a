//! JUnit XML for `fleetsim check --junit FILE`: one test suite per scenario, one test case per
//! expectation, so CI systems render each expectation as a test.

use crate::analysis::expect::{fmt, Verdict};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// `suites`: (scenario name, file, verdicts).
pub fn render(suites: &[(String, String, Vec<Verdict>)]) -> String {
    let tests: usize = suites.iter().map(|s| s.2.len()).sum();
    let failures: usize = suites
        .iter()
        .map(|s| s.2.iter().filter(|v| !v.passed).count())
        .sum();
    let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"fleetsim check\" tests=\"{tests}\" failures=\"{failures}\">\n");
    for (name, file, verdicts) in suites {
        let f = verdicts.iter().filter(|v| !v.passed).count();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"0\" file=\"{}\">\n",
            escape(name),
            verdicts.len(),
            escape(file)
        ));
        for v in verdicts {
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                escape(name),
                escape(&v.bound_text())
            ));
            if v.passed {
                out.push_str("/>\n");
            } else {
                let observed = v.observed.map_or("no value".to_string(), fmt);
                out.push_str(&format!(
                    ">\n      <failure message=\"{}\">observed {} = {observed}</failure>\n    </testcase>\n",
                    escape(&format!("expected {}, observed {observed}", v.bound_text())),
                    escape(&format!("{} {}", v.metric, v.stat))
                ));
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
