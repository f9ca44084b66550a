//! `fleetsim import` end to end: an AWS IoT Jobs CreateJob request, a Mender deployment, an
//! Azure Device Update deployment and two hawkBit rollouts (each shaped as its API reference
//! shows it) imported into a fixture give a scenario that validates and runs; bad files are
//! refused with exit 2.

use std::process::{Command, Stdio};

fn fleetsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `fleetsim import SYSTEM DOC --into seed-staged-rollout.toml`, which must succeed: its stdout.
fn import_into(system: &str, doc: &str) -> String {
    let out = fleetsim(&[
        "import",
        system,
        doc,
        "--into",
        "scenarios/seed-staged-rollout.toml",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs scenario `text` for `replications` without a report, which must succeed; the results
/// folder lives as long as the returned guard.
fn run_imported(text: &str, replications: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("imported.toml");
    std::fs::write(&file, text).unwrap();
    let reports = dir.path().join("out");
    let run = fleetsim(&[
        "run",
        file.to_str().unwrap(),
        "--replications",
        replications,
        "--no-report",
        "--quiet",
        "--out",
        reports.to_str().unwrap(),
    ]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    (dir, reports)
}

#[test]
fn an_imported_aws_job_runs_in_the_scenario() {
    let text = import_into("aws-iot-job", "tests/data/import/aws-create-job.json");
    assert!(text.contains("# not mapped: targets"), "{text}");
    assert!(text.contains("every_notified = 1000"));
    let (_dir, reports) = run_imported(&text, "2");
    let summary = std::fs::read_to_string(reports.join("summary.json")).unwrap();
    assert!(summary.contains("\"targeted\""));
}

#[test]
fn without_into_the_policy_is_printed_with_its_target_left_to_name() {
    let out = fleetsim(&[
        "import",
        "aws-iot-job",
        "tests/data/import/aws-create-job.json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[policy]\n# target = "), "{text}");
    assert!(text.contains("[[policy.abort]]\nmetric = \"update_failure_rate\"\nthreshold = 0.1"));
}

#[test]
fn bad_files_exit_2() {
    let out = fleetsim(&[
        "import",
        "hawkbit",
        "tests/data/import/hawkbit-bad-type.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hawkbit-bad-type.json: type"), "{err}");
    let out = fleetsim(&["import", "aws-iot-job", "scenarios/reference.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("scenarios/reference.toml:1:") && err.contains("not valid JSON"),
        "{err}"
    );
    let out = fleetsim(&["import", "aws-iot-job", "no/such/file.json"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A Mender deployment imported into a fixture runs: its phases open at their `start_ts`
/// (6 h, 1 d 6 h and 3 d 6 h after the scenario's start).
#[test]
fn an_imported_mender_deployment_opens_its_phases_on_time() {
    let text = import_into("mender", "tests/data/import/mender-deployment.json");
    let (_dir, reports) = run_imported(&text, "1");
    let rows = std::fs::read_to_string(reports.join("replications.csv")).unwrap();
    assert!(rows.lines().count() == 2, "{rows}");
    assert!(
        text.contains("name = \"phase-3\"\nselect = {}\npercent = 100\nopen_at = \"3d\""),
        "{text}"
    );
}

/// An Azure Device Update deployment imported into a fixture validates (the import checks it
/// before printing; `validate` checks it again) and runs; its rollback policy is there as two
/// rollback rules, and the run reports every halt it made as one of them.
#[test]
fn an_imported_adu_deployment_runs_with_its_rollback_rules() {
    let text = import_into("azure-adu", "tests/data/import/azure-adu-deployment.json");
    for rule in [
        "[[policy.abort]]\nmetric = \"any_failure_rate\"\nthreshold = 0.05\nper = \"notified\"\naction = \"rollback\"",
        "[[policy.abort]]\nmetric = \"any_failure_rate\"\nmax_count = 20\nper = \"notified\"\naction = \"rollback\"",
    ] {
        assert!(text.contains(rule), "{rule}\nnot in:\n{text}");
    }
    assert!(
        text.contains("rollback_to = \"2.3.0\""),
        "the fixture's rollback release is kept"
    );
    assert!(
        text.contains("start = \"6h\""),
        "06:00 on the scenario's start day"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("adu.toml");
    std::fs::write(&file, &text).unwrap();
    let check = fleetsim(&["validate", file.to_str().unwrap()]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let (_dir, reports) = run_imported(&text, "3");
    let rows = std::fs::read_to_string(reports.join("replications.csv")).unwrap();
    assert_eq!(rows.lines().count(), 4, "{rows}");
    let summary = std::fs::read_to_string(reports.join("summary.json")).unwrap();
    assert!(summary.contains("\"targeted\""));
    let out = fleetsim(&["import", "azure-adu", "scenarios/reference.toml"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The documented hawkBit rollout imported into the bad-release fixture runs as five whole-group
/// hawkBit groups; the groups form (a canary group whose PAUSE success action holds the rest
/// for the operator) runs too, and the canary group opens before the rest.
#[test]
fn imported_hawkbit_rollouts_run_as_groups() {
    let out = fleetsim(&[
        "import",
        "hawkbit",
        "tests/data/import/hawkbit-rollout.json",
        "--into",
        "scenarios/bad-release.toml",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[policy.groups]\ncount = 5\n"), "{text}");
    assert!(
        text.contains("action_type = \"timeforced\"\nforce_after = \"2d\""),
        "{text}"
    );
    let (_dir, reports) = run_imported(&text, "2");
    let stages = std::fs::read_to_string(reports.join("summary.json")).unwrap();
    assert!(stages.contains("group-5"), "{stages}");
    let text = import_into("hawkbit", "tests/data/import/hawkbit-rollout-groups.json");
    assert!(text.contains("name = \"Group2\""), "{text}");
    assert!(text.contains("approval = \"operator\""), "{text}");
    let (_dir, reports) = run_imported(&text, "1");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("summary.json")).unwrap())
            .unwrap();
    let opened = &summary["stages"];
    assert!(opened.to_string().contains("Group1"), "{opened}");
}
