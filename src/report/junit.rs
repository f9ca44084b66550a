//! JUnit XML for `fleetsim check --junit FILE`: one test suite per scenario, one test case per
//! expectation, so CI systems render each expectation as a test. A failure names the world the
//! expectation was judged in and the halt reasons of its replications.

use super::table::halt_reasons_list;
use crate::analysis::expect::Verdict;

/// Escapes text for XML 1.0 element content and attribute values. XML 1.0 cannot carry most
/// control characters at all, not even as character references, so they (and the C1 controls,
/// U+FFFE and U+FFFF) become U+FFFD; tab, new line and carriage return are written as
/// references so that an attribute value keeps them instead of turning them into spaces.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
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
                escape(&v.label())
            ));
            if v.passed {
                out.push_str("/>\n");
            } else {
                // The test name stays the raw bound (CI tracks tests by name); the message is
                // in people units.
                let observed = crate::report::table::verdict_observed(v);
                let reasons = if v.halt_reasons.is_empty() {
                    String::new()
                } else {
                    format!("; halt reasons: {}", halt_reasons_list(&v.halt_reasons))
                };
                out.push_str(&format!(
                    ">\n      <failure message=\"{}\">observed {} = {observed} in the {} world{}</failure>\n    </testcase>\n",
                    escape(&format!(
                        "expected {}, observed {observed}{reasons}",
                        crate::report::table::verdict_label(v)
                    )),
                    escape(&format!("{} {}", v.metric, v.stat)),
                    v.world.name(),
                    escape(&reasons)
                ));
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn control_characters_never_reach_the_xml() {
        assert_eq!(
            escape("a\u{1}b\u{7f}\u{FFFF}"),
            "a\u{FFFD}b\u{FFFD}\u{FFFD}"
        );
        assert_eq!(
            escape("<x> & \"y\" 'z'\n"),
            "&lt;x&gt; &amp; &quot;y&quot; &apos;z&apos;&#10;"
        );
    }
}
