//! Limits (issue 10, reliability items 1 and 6): inputs at or past a limit are refused up
//! front with the bound in the message, or run to an end in bounded time; none hangs, panics
//! or silently gives another input's result. The inputs that once broke fleetsim are also in
//! `tests/data/corpus/` (see `tests/corpus.rs`).

use assert_cmd::Command;
use predicates::str::contains;
use std::time::Duration;

fn fleetsim() -> Command {
    let mut cmd = Command::cargo_bin("fleetsim").unwrap();
    // A regression to a hang fails here instead of hanging CI.
    cmd.timeout(Duration::from_secs(60));
    cmd
}

const CORPUS: &str = "tests/data/corpus";

/// Regression: more than 65 536 populations (here from an inventory of 65 537 distinct rows)
/// wrapped the `u16` population index, and devices took other populations' settings.
#[test]
fn more_populations_than_the_index_holds_are_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let fragile = std::fs::read_to_string("tests/data/fragile.toml")
        .unwrap()
        .replace("count = 600\n", "");
    let scenario = dir.path().join("inventory.toml");
    std::fs::write(
        &scenario,
        format!("{fragile}\n[fleet]\ninventory = \"devices.csv\"\n"),
    )
    .unwrap();
    let mut csv = String::from("id,population,model\n");
    for i in 0..65_537 {
        csv.push_str(&format!("{i},plant-a,m-{i}\n"));
    }
    std::fs::write(dir.path().join("devices.csv"), csv).unwrap();
    fleetsim()
        .arg("validate")
        .arg(&scenario)
        .assert()
        .code(2)
        .stderr(contains("65537 populations"))
        .stderr(contains("the limit is 65536"));
}

/// Regression: `--shard 18446744073710/18446744073710` overflowed `k · total` and ran nothing.
/// A shard count past the work to share is now refused up front with the bound (exit 2), and
/// the block arithmetic itself is overflow-free (`shard_range`'s unit test); `merge` of a
/// hand-edited shard claiming such an N is `tests/input_limits.rs`'s business.
#[test]
fn a_huge_shard_count_is_refused_with_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let n = "18446744073710";
    fleetsim()
        .args([
            "run",
            "tests/data/fragile.toml",
            "--replications",
            "3",
            "--quiet",
        ])
        .args(["--shard", &format!("{n}/{n}"), "--out"])
        .arg(dir.path().join("shard"))
        .assert()
        .code(2)
        .stderr(contains("N must be at most the work to share"));
}

/// Regression: values whose effect cannot be represented (a `check_in` of 1e308 s, a backoff
/// of 10^15 s, an API change in 10 000 years, a crash rate of 10^9 a day, a lognormal `mu`
/// written as a duration, arrivals of 10^300 a day) are refused with the bound, exit 2.
#[test]
fn unrepresentable_values_are_refused_with_the_bound_in_the_message() {
    for (file, key, message) in [
        ("rel6-check-in-1e308", "connectivity.net.check_in", "36600d"),
        ("rel1-retry-backoff-1e15", "policy.retry.backoff", "36600d"),
        ("rel1-outage-duration-1e15", "fault[0].duration", "36600d"),
        (
            "rel1-api-change-10000y",
            "backend.api_changes[0].at",
            "36600d",
        ),
        (
            "rel1-crash-rate-1e9",
            "population[0].crash_rate",
            "0..86400",
        ),
        (
            "rel1-lognormal-mu-duration-string",
            "connectivity.net.offline",
            "log-scale",
        ),
        ("rel1-arrivals-huge", "population", "the limit is 20000000"),
    ] {
        fleetsim()
            .args([
                "run",
                &format!("{CORPUS}/{file}.toml"),
                "--quiet",
                "--no-report",
            ])
            .assert()
            .code(2)
            .stderr(contains(key))
            .stderr(contains(message));
    }
}

/// Regression: times far past the horizon (a retry backoff, an outage, a recharge, an API
/// change, each 36 000 days away) walked every affected device's timeline up to them; heavy
/// lognormal tails saturated periods to `u64::MAX`. Each now runs in well under a second, and
/// the devices end where the model says: stranded for the reason that held them back.
#[test]
fn times_past_the_horizon_end_the_run_with_the_devices_stranded() {
    for (file, stranded) in [
        ("rel1-recharge-past-horizon", "stranded_battery"),
        ("rel1-api-change-past-horizon", "stranded_incompatible_api"),
        ("rel1-outage-duration-past-horizon", "stranded_offline"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        fleetsim()
            .args([
                "run",
                &format!("{CORPUS}/{file}.toml"),
                "--quiet",
                "--no-report",
            ])
            .arg("--out")
            .arg(dir.path())
            .assert()
            .success();
        let csv = std::fs::read_to_string(dir.path().join("replications.csv")).unwrap();
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let row: Vec<&str> = lines.next().unwrap().split(',').collect();
        let i = header.iter().position(|h| *h == stranded).unwrap();
        assert!(row[i].parse::<f64>().unwrap() > 0.0, "{file}: {stranded}");
    }
    for file in [
        "rel1-retry-backoff-past-horizon",
        "rel1-lognormal-offline-heavy-tail",
        "rel1-lognormal-period-saturates-u64",
        "rel1-normal-min-equals-max",
        "rel1-crash-rate-at-the-limit",
    ] {
        fleetsim()
            .args([
                "run",
                &format!("{CORPUS}/{file}.toml"),
                "--quiet",
                "--no-report",
            ])
            .arg("--out")
            .arg(tempfile::tempdir().unwrap().path())
            .assert()
            .success();
    }
}

/// Regression: `fleetsim report DIR` never ended when one `harmed` cell of `replications.csv`
/// was `inf` or `1e309`, or every one was `NaN` (the histogram's axis got non-finite bounds).
/// A non-finite cell is now no value, and axes are clamped to drawable ranges.
#[test]
fn report_of_non_finite_cells_renders() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    fleetsim()
        .args([
            "run",
            "tests/data/fragile.toml",
            "--replications",
            "3",
            "--quiet",
            "--out",
        ])
        .arg(&run)
        .assert()
        .success();
    let csv = std::fs::read_to_string(run.join("replications.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let harmed = header.iter().position(|h| *h == "harmed").unwrap();
    for (bad, all_rows) in [
        ("inf", false),
        ("1e309", false),
        ("NaN", true),
        ("1e308", false),
    ] {
        let edited: String = csv
            .lines()
            .enumerate()
            .map(|(i, line)| {
                if i == 0 || (!all_rows && i != 1) {
                    return format!("{line}\n");
                }
                let mut cells: Vec<&str> = line.split(',').collect();
                cells[harmed] = bad;
                format!("{}\n", cells.join(","))
            })
            .collect();
        std::fs::write(run.join("replications.csv"), edited).unwrap();
        fleetsim()
            .arg("report")
            .arg(&run)
            .assert()
            .success()
            .stdout(contains("report.html"));
    }
}
