//! What the behaviour test files share: a scenario from text, its replications run with the
//! simulator's invariants checked once a simulated day too (CI runs the suites in release
//! builds, where they are otherwise checked only at the end), the always-online connectivity
//! most of them build on, and `fleetsim validate` refusing a bad file.
//!
//! Each test file compiles this module on its own and uses part of it.
#![allow(dead_code)]

use assert_cmd::Command;
use fleetsim::analysis::run::{run, RunOptions};
use fleetsim::metrics::outcome::Outcome;
use fleetsim::replication::TraceRow;
use fleetsim::scenario::{load_str, Scenario};
use std::path::Path;

/// `[connectivity.always]`: online sessions of ~1000 days with 1 s gaps, a check-in a minute,
/// 8 Mbit/s — a fleet whose connectivity never decides anything.
pub const ALWAYS_ONLINE: &str = r#"[connectivity.always]
online = { dist = "exponential", mean = "1000d" }
offline = "1s"
check_in = "1m"
bandwidth_kbps = 8000
"#;

/// The two releases most behaviour tests roll between: 1.0.0 to 2.0.0, 1 MB each, a 60 s
/// install and a 30 s reboot.
pub const TWO_RELEASES: &str = r#"[[release]]
version = "1.0.0"
size_mb = 1

[[release]]
version = "2.0.0"
size_mb = 1
install_time = "60s"
reboot_time = "30s"
"#;

/// `[connectivity.never]`: online one second at the start, then offline for 1000 days — devices
/// the backend never hears from.
pub const NEVER_ONLINE: &str = r#"[connectivity.never]
online = "1s"
offline = "1000d"
check_in = "1m"
bandwidth_kbps = 8000
"#;

/// `[simulation]` with `name`, `seed` and `horizon`, and two replications.
pub fn simulation(name: &str, seed: u64, horizon: &str) -> String {
    format!("[simulation]\nname = \"{name}\"\nseed = {seed}\nhorizon = \"{horizon}\"\nreplications = 2\n")
}

/// A `[[population]]` of `count` devices of model `m1` on 1.0.0 named `name`, on
/// `connectivity`; the population's further keys may follow.
pub fn population(name: &str, count: u32, connectivity: &str) -> String {
    format!("[[population]]\nname = \"{name}\"\ncount = {count}\nmodel = \"m1\"\nfirmware = \"1.0.0\"\nconnectivity = \"{connectivity}\"\n")
}

/// One stage over the whole fleet, without a gate.
pub const ONE_STAGE: &str = "[[policy.stage]]\nname = \"all\"\nselect = {}\npercent = 100\n";

/// The scenario of `text` (a test's own text: an error is a bug of the test).
pub fn scenario(text: &str) -> Scenario {
    load_str(text, "test.toml", Path::new("."), &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// Every replication of `sc`, invariants checked daily.
pub fn outcomes_of(sc: &Scenario) -> Vec<Outcome> {
    let options = RunOptions {
        daily_invariants: true,
        ..RunOptions::default()
    };
    run(sc, 0..sc.replications, &options).unwrap().outcomes
}

/// Every replication of the scenario of `text`, invariants checked daily.
pub fn outcomes(text: &str) -> Vec<Outcome> {
    outcomes_of(&scenario(text))
}

/// Replication 0's events of the scenario of `text` (all of them: it must have fewer than
/// 100 000), invariants checked daily.
pub fn trace(text: &str) -> Vec<TraceRow> {
    let sc = scenario(text);
    let options = RunOptions {
        trace_rows: 100_000,
        daily_invariants: true,
        ..RunOptions::default()
    };
    let rows = run(&sc, 0..sc.replications, &options).unwrap().trace;
    assert!(rows.len() < 100_000, "the trace was cut short");
    rows
}

/// Writes `text` to a temporary `name` and runs `fleetsim validate` on it: it must refuse the
/// file with exit code 2. Returns what it printed on stderr.
pub fn validate_refuses(text: &str, name: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let out = Command::cargo_bin("fleetsim")
        .unwrap()
        .arg("validate")
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
    stderr
}
