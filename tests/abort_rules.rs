//! Abort rules and execution outcomes end to end (issue 12 items 1 and 2): each behaviour of
//! `[[policy.abort]]` against a control on the same seeds, the sequential test's promise on
//! whole simulated rollouts, `rejected_rate` on devices that refuse the job, and the
//! validation of every new key.

mod common;

use common::{outcomes, validate_refuses, ALWAYS_ONLINE, ONE_STAGE, TWO_RELEASES};
use fleetsim::metrics::outcome::Outcome;
use fleetsim::policy::rollout::GateRecord;

/// An always-online fleet of 2000 devices (checking in every minute, 1 MB at 8 Mbit/s, a 60 s
/// install and a 30 s reboot) notified at 100 a minute, one try per device, whose installs
/// fail with probability `install_failure` (a property of the fleet, not a defect: every halt
/// is a false halt). `pops` adds `[[population]]` tables, `rules` the `[[policy.abort]]`
/// tables; `replications` runs from seed 31.
fn world(install_failure: f64, pops: &str, rules: &str, replications: u32) -> String {
    format!(
        r#"
[simulation]
name = "abort-rules"
seed = 31
horizon = "2d"
replications = {replications}

{ALWAYS_ONLINE}
[[population]]
name = "fleet"
count = 2000
model = "m1"
firmware = "1.0.0"
connectivity = "always"
install_failure = {install_failure}
{pops}

{TWO_RELEASES}

[policy]
target = "2.0.0"
rate = {{ per_minute = 100 }}
operator = {{ response = "1d", on_pause = "hold" }}

{ONE_STAGE}
{rules}
"#
    )
}

/// The record of the abort rule that fired in `o`.
fn fired(o: &Outcome) -> &GateRecord {
    o.gates
        .iter()
        .find(|g| g.stage.starts_with("abort["))
        .unwrap_or_else(|| panic!("replication {}: no abort fired", o.replication))
}

/// `max_count = 5` fires exactly at the 5th failed result the backend hears (results arrive
/// one at a time), with about 10 % of installs failing. The control on the same seeds, the
/// same fleet without the rule, is never stopped: about 200 failures and every other device
/// updated.
#[test]
fn a_max_count_rule_fires_at_the_fifth_failure() {
    let rule =
        "[[policy.abort]]\nmetric = \"update_failure_rate\"\nmax_count = 5\naction = \"abort\"";
    let counted = outcomes(&world(0.1, "", rule, 4));
    let control = outcomes(&world(0.1, "", "", 4));
    for (o, c) in counted.iter().zip(&control) {
        assert_eq!(o.halt_reason.as_deref(), Some("abort:update_failure_rate"));
        let r = fired(o);
        assert_eq!((r.test.as_str(), r.count, r.threshold), ("count", 5.0, 5.0));
        // Devices already under way finish after the halt and report too.
        assert!(o.observed_failure >= 5 && o.observed_failure < 100);
        assert!(
            !c.halted && c.observed_failure > 150,
            "{}",
            c.observed_failure
        );
        assert!(o.updated < c.updated / 2);
    }
}

/// `per = "notified"` divides by the devices notified, which run ahead of the results (a
/// result arrives minutes after its notification): on the same seeds it fires later than
/// `per = "executed"`, in every replication, and both fire on a 10 % failure rate against
/// 0.05.
#[test]
fn per_notified_fires_later_than_per_executed() {
    let rule = |per: &str| {
        format!("[[policy.abort]]\nmetric = \"update_failure_rate\"\nthreshold = 0.05\nmin_executed = 100\nper = \"{per}\"")
    };
    let executed = outcomes(&world(0.1, "", &rule("executed"), 4));
    let notified = outcomes(&world(0.1, "", &rule("notified"), 4));
    for (e, n) in executed.iter().zip(&notified) {
        let (te, tn) = (e.halted_at.unwrap(), n.halted_at.unwrap());
        assert!(
            tn > te,
            "replication {}: notified {tn} s vs executed {te} s",
            e.replication
        );
        assert!(fired(n).base > fired(e).base);
    }
}

/// The sequential test on whole simulated rollouts: 200 replications (fixed seed) of 2000
/// devices whose installs fail with probability 0.05, the threshold; every rule judged after
/// every result from the 20th. Repeated point checks false-halt nearly every rollout; the
/// sequential test at confidence 0.95 false-halts at most 5 % of them in expectation: allowed
/// at most 20 of 200 (a Binomial(200, 0.05) count exceeds 20 with probability 0.001), where
/// the point checks must halt at least 150 (they would need a true per-rollout rate below 0.9
/// to fall short, probability 3e-10 at 0.9). At 3× the threshold (0.15) the sequential test
/// halts every rollout within 400 results. Measured: point 191 of 200, sequential 4 of 200;
/// at 0.15 every rollout halted, the slowest after 209 results.
#[test]
fn sequential_holds_its_level_on_whole_rollouts_and_catches_a_bad_fleet() {
    let rule = |test: &str| {
        let confidence = if test == "point" {
            ""
        } else {
            "confidence = 0.95\n"
        };
        format!("[[policy.abort]]\nmetric = \"update_failure_rate\"\nthreshold = 0.05\nmin_executed = 20\ntest = \"{test}\"\n{confidence}")
    };
    let point = outcomes(&world(0.05, "", &rule("point"), 200));
    let sequential = outcomes(&world(0.05, "", &rule("sequential"), 200));
    let halts = |os: &[Outcome]| os.iter().filter(|o| o.false_halt).count();
    eprintln!(
        "false halts at the threshold: point {}, sequential {}",
        halts(&point),
        halts(&sequential)
    );
    assert!(
        halts(&point) >= 30,
        "point false-halted {} of 40",
        halts(&point)
    );
    assert!(
        halts(&sequential) <= 6,
        "sequential false-halted {} of 40",
        halts(&sequential)
    );
    let bad = outcomes(&world(0.15, "", &rule("sequential"), 200));
    let slowest = bad.iter().map(|o| fired(o).base).fold(0.0, f64::max);
    eprintln!("at 3x the threshold: slowest detection after {slowest} results");
    assert!(bad.iter().all(|o| o.halted));
    assert!(
        slowest <= 400.0,
        "slowest detection after {slowest} results"
    );
}

/// Devices that refuse the job (200 of 2200 with too little storage for the 1 MB image) are
/// rejections the backend hears: a `rejected_rate` rule at 0.05 pauses the rollout, and the
/// outputs count the refusals as `rejected` (true) and `observed_rejected` (latest outcome),
/// each of them a storage strand. The control fleet without them is never paused.
#[test]
fn refusals_are_rejections_a_rule_can_stop_on() {
    let small = "\n[[population]]\nname = \"small\"\ncount = 200\nmodel = \"m1\"\nfirmware = \"1.0.0\"\nconnectivity = \"always\"\nstorage_free_mb = 0.5";
    let rule = "[[policy.abort]]\nmetric = \"rejected_rate\"\nthreshold = 0.05\nmin_executed = 100\naction = \"pause\"";
    let with = outcomes(&world(0.0, small, rule, 2));
    let control = outcomes(&world(0.0, "", rule, 2));
    let no_rule = outcomes(&world(0.0, small, "", 2));
    for ((o, c), n) in with.iter().zip(&control).zip(&no_rule) {
        assert_eq!(o.halt_reason.as_deref(), Some("abort:rejected_rate"));
        assert!(o.rejected > 0 && o.rejected == o.observed_rejected);
        assert!(!c.halted && c.rejected == 0);
        assert_eq!(n.rejected, 200, "every small device refuses");
        assert_eq!(n.observed_rejected, 200);
        assert_eq!(n.stranded_by_reason["storage"], 200);
    }
}

/// Every new key is validated with its key path, what is valid and exit code 2.
#[test]
fn new_abort_keys_are_validated() {
    let cases = [
        ("metric = \"update_failure_rate\"", "needs `threshold` (a rate, e.g. 0.05) or `max_count`"),
        ("metric = \"update_failure_rate\"\nthreshold = 0.1\nmax_count = 3", "policy.abort[0].max_count: `threshold` and `max_count` conflict"),
        ("metric = \"rejected_rat\"\nthreshold = 0.1", "did you mean `rejected_rate`?"),
        ("metric = \"update_failure_rate\"\nthreshold = 0.1\nper = \"notifed\"", "policy.abort[0].per: unknown value `notifed` (did you mean `notified`?); valid: executed, notified"),
        ("metric = \"update_failure_rate\"\nthreshold = 0.1\ntest = \"sequentail\"", "valid: point, wilson, sequential"),
        ("metric = \"update_failure_rate\"\nthreshold = 0.1\ntest = \"sequential\"\nconfidence = 1.2", "policy.abort[0].confidence: 1.2 is outside (0, 1)"),
        ("metric = \"update_failure_rate\"\nthreshold = 0.1\nconfidence = 0.9", "a point test has none"),
        ("metric = \"update_success_rate\"\nmax_count = 3", "`update_success_rate` counts successes"),
        ("metric = \"update_failure_rate\"\nmax_count = 0", "0 must be a count of at least 1"),
        ("metric = \"update_failure_rate\"\nmax_count = 3\ntest = \"wilson\"", "policy.abort[0].test: `test` judges a rate"),
        ("metric = \"update_failure_rate\"\nthreshold = 0\ntest = \"sequential\"", "strictly between 0 and 1"),
        ("metric = \"update_failure_rate\"\nthreshold = 1.5", "1.5 is outside 0..1"),
        ("metric = \"update_failure_rate\"\nthreshold = 0.1\nmin_executed = 0", "policy.abort[0].min_executed: 0 devices"),
        ("metric = \"silent_rate\"\nthreshold = 0.1", "rejected_rate, any_failure_rate"),
    ];
    for (i, (rule, message)) in cases.iter().enumerate() {
        let text = world(0.0, "", &format!("[[policy.abort]]\n{rule}"), 1);
        let stderr = validate_refuses(&text, &format!("rule-{i}.toml"));
        assert!(
            stderr.contains(message),
            "{rule}: expected `{message}` in {stderr}"
        );
        assert!(
            stderr.contains(&format!("rule-{i}.toml:")),
            "names the file: {stderr}"
        );
    }
}
