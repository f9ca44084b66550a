//! What becomes of an execution that does not succeed at once: retry budgets per failure type
//! (AWS `jobExecutionsRetryConfig`, SPEC §1.5b), rejected executions never retried, and what
//! the window's close does to executions still open (`end_behavior`, AWS `endBehavior`). Every
//! test compares runs on the same seeds (common random numbers); the statistical assertions
//! state their tolerance and why.

mod common;

use common::{
    outcomes, population, simulation, validate_refuses, ALWAYS_ONLINE, ONE_STAGE as ALL,
    TWO_RELEASES,
};
use fleetsim::metrics::outcome::Outcome;

/// Two populations of 1000 always-online devices polling every minute, notified at 100 a
/// minute, with a 1 h in-progress time-out: `fast` downloads the 1 MB target in 1 s and fails
/// its install with probability 0.3 per try (an independent draw per install); `slow` gets
/// 1 kbit/s, so its 8000-second download always outlasts the time-out. `retry` is the policy's
/// `retry` line.
fn two_kinds(retry: &str) -> String {
    let (sim, fast, slow) = (
        simulation("retries", 41, "3d"),
        population("fast", 1000, "always"),
        population("slow", 1000, "trickle"),
    );
    format!(
        r#"
{sim}
{ALWAYS_ONLINE}
[connectivity.trickle]
online = {{ dist = "exponential", mean = "1000d" }}
offline = "1s"
check_in = "1m"
bandwidth_kbps = 1

{fast}install_failure = 0.3

{slow}
{TWO_RELEASES}

[policy]
target = "2.0.0"
rate = {{ per_minute = 100 }}
timeout = "1h"
{retry}

{ALL}
"#
    )
}

fn failures(o: &Outcome, reason: &str) -> u64 {
    o.failures_by_reason[reason]
}

fn exhausted(o: &Outcome) -> u64 {
    o.stranded_by_reason["retries_exhausted"]
}

/// Each failure type spends its own budget. With `failed` 3 tries and `timed_out` 2, every
/// slow device times out exactly twice (2000 time-outs) and gives up; with one budget of 3
/// tries for both it times out three times (3000). The fast devices never time out, so their
/// installs, failures and successes are the same draws in both runs, to the device. With the
/// time-outs' budget alone, failed installs are not retried: about 30 % of the fast devices
/// give up (Binomial(1000, 0.3): mean 300, SD 14.5; tolerance 60, four SDs), against 2.7 %
/// (0.3³) with three tries.
#[test]
fn each_failure_type_spends_its_own_budget() {
    let by_type = outcomes(&two_kinds(
        r#"retry = [{ on = "failed", attempts = 3 }, { on = "timed_out", attempts = 2, backoff = "1h" }]"#,
    ));
    let shared = outcomes(&two_kinds("retry = { attempts = 3, backoff = \"1h\" }"));
    let timeouts_only = outcomes(&two_kinds(
        r#"retry = [{ on = "timed_out", attempts = 2, backoff = "1h" }]"#,
    ));
    for ((t, s), o) in by_type.iter().zip(&shared).zip(&timeouts_only) {
        assert_eq!(failures(t, "timeout"), 2000);
        assert_eq!(failures(s, "timeout"), 3000);
        assert_eq!(failures(o, "timeout"), 2000);
        assert_eq!(failures(t, "install_failed"), failures(s, "install_failed"));
        assert_eq!(t.updated, s.updated, "the fast devices draw alike");
        // Every slow device gives up; the fast ones after three failed installs.
        assert_eq!(t.updated + exhausted(t), 2000);
        let fast_gave_up = exhausted(t) - 1000;
        assert!(fast_gave_up <= 60, "{fast_gave_up} of 1000 (expected 27)");
        let fast_gave_up = exhausted(o) - 1000;
        assert!(
            (fast_gave_up as f64 - 300.0).abs() < 60.0,
            "{fast_gave_up} of 1000 (expected 300)"
        );
        assert_eq!(failures(o, "install_failed"), fast_gave_up);
    }
}

/// `on = "all"` in the list is the table form, to the byte: one budget for every type.
#[test]
fn on_all_is_the_table_form() {
    let list = outcomes(&two_kinds(
        r#"retry = [{ on = "all", attempts = 3, backoff = "1h" }]"#,
    ));
    let table = outcomes(&two_kinds("retry = { attempts = 3, backoff = \"1h\" }"));
    assert_eq!(
        serde_json::to_string(&list).unwrap(),
        serde_json::to_string(&table).unwrap()
    );
}

/// The retry list is validated as AWS validates `criteriaList`: each type once, `all` alone,
/// 1 to 11 tries per type (0 to 10 retries), at most 10 retries in all; an unknown key or
/// failure type names what is valid.
#[test]
fn bad_retry_lists_are_refused_with_the_key_and_what_is_valid() {
    let cases = [
        (
            r#"retry = [{ on = "failed", attempts = 2 }, { on = "failed", attempts = 3 }]"#,
            "policy.retry[1].on",
            "given twice",
        ),
        (
            r#"retry = [{ on = "all", attempts = 2 }, { on = "failed", attempts = 3 }]"#,
            "policy.retry[1].on",
            "give it alone",
        ),
        (
            r#"retry = [{ on = "failed", attempts = 12 }]"#,
            "policy.retry[0].attempts",
            "1 to 11",
        ),
        (
            r#"retry = [{ on = "failed", attempts = 0 }]"#,
            "policy.retry[0].attempts",
            "1 to 11",
        ),
        (
            r#"retry = [{ on = "failed", attempts = 7 }, { on = "timed_out", attempts = 6 }]"#,
            "policy.retry",
            "at most 10",
        ),
        ("retry = []", "policy.retry", "an empty list"),
        (
            r#"retry = [{ on = "rejected", attempts = 2 }]"#,
            "policy.retry[0].on",
            "failed",
        ),
        (
            r#"retry = [{ on = "failed", atempts = 2 }]"#,
            "policy.retry[0].atempts",
            "did you mean `attempts`",
        ),
    ];
    for (i, (retry, key, says)) in cases.iter().enumerate() {
        let stderr = validate_refuses(&two_kinds(retry), &format!("retry-{i}.toml"));
        assert!(stderr.contains(key), "{retry}: {stderr}");
        assert!(stderr.contains(says), "{retry}: {stderr}");
    }
}

/// 2000 always-online devices notified at 100 a minute, at most 25 in flight, downloading the
/// 1 MB target at 80 kbit/s (100 s), then a 60 s install and a 30 s reboot; the window closes
/// after 30 minutes. A device holds its in-flight place about 220 s (100 + 60 + 30 and half a
/// minute's poll for the report), so about 25 × 1800 / 220 ≈ 200 devices finish before the
/// close and 25 are in flight at it. The controller notifies while there is room in flight, so
/// some notified devices are queued at the close, waiting for the limit, and most of the fleet
/// was never notified.
fn closing_window(end_behavior: &str) -> String {
    let (sim, fleet) = (
        simulation("window-end", 43, "3d"),
        population("fleet", 2000, "slowish"),
    );
    format!(
        r#"
{sim}
[connectivity.slowish]
online = {{ dist = "exponential", mean = "1000d" }}
offline = "1s"
check_in = "1m"
bandwidth_kbps = 80

{fleet}
{TWO_RELEASES}

[policy]
target = "2.0.0"
rate = {{ per_minute = 100 }}
max_in_flight = 25
window = "30m"
{end_behavior}

{ALL}
"#
    )
}

fn stranded(o: &Outcome) -> u64 {
    o.stranded_by_reason.values().sum()
}

/// `cancel` (the default) cancels the queued executions at the close: about 225 devices update
/// (tolerance: 150 to 300), the queued ones are stranded (waiting for the in-flight limit, or
/// `offline`: notified but not yet polled) and the devices never notified are `cancelled`. `stop` lets the queued ones go on: each of them
/// updates within the horizon, and only the never-notified stay stranded. `force-cancel` also
/// cancels the in-progress executions whose install has not begun, so exactly the devices it
/// moves to `cancelled` are missing from `updated`: more than none and fewer than the 25 in
/// flight, since those installing complete. (The in-flight devices move nearly in step, having
/// started together, so how many are downloading at the close depends on where the close falls
/// in their cycle: on these seeds 22 of 25 are, and 3 are installing.)
#[test]
fn end_behavior_decides_what_the_close_cancels() {
    let default = outcomes(&closing_window(""));
    let cancel = outcomes(&closing_window("end_behavior = \"cancel\""));
    let stop = outcomes(&closing_window("end_behavior = \"stop\""));
    let force = outcomes(&closing_window("end_behavior = \"force-cancel\""));
    assert_eq!(
        serde_json::to_string(&default).unwrap(),
        serde_json::to_string(&cancel).unwrap(),
        "cancel is the default"
    );
    for ((c, s), f) in cancel.iter().zip(&stop).zip(&force) {
        // Queued: waiting for the limit, or notified and not yet polled (`offline`).
        let never_notified = c.stranded_by_reason["cancelled"];
        let queued = stranded(c) - never_notified;
        assert!((150..=300).contains(&c.updated), "cancel: {}", c.updated);
        assert!(c.stranded_by_reason["in_flight_limit"] > 0, "{c:?}");
        assert_eq!(c.updated + stranded(c), 2000);
        assert_eq!(s.updated, c.updated + queued, "stop: queued devices go on");
        assert_eq!(s.stranded_by_reason["cancelled"], never_notified);
        assert_eq!(stranded(s), never_notified);
        let moved = f.stranded_by_reason["cancelled"] - never_notified;
        assert_eq!(c.updated - f.updated, moved);
        assert!((1..25).contains(&moved), "force-cancel cancelled {moved}");
        assert_eq!(f.updated + stranded(f), 2000);
    }
}

/// `end_behavior` acts at the window's close: without a `window` it is refused, as AWS
/// applies `endBehavior` only to a job with an `endTime`.
#[test]
fn end_behavior_needs_a_window() {
    let text = closing_window("end_behavior = \"stop\"").replace("window = \"30m\"\n", "");
    let stderr = validate_refuses(&text, "no-window.toml");
    assert!(stderr.contains("policy.end_behavior"), "{stderr}");
    assert!(stderr.contains("no `window`"), "{stderr}");
}
