//! Regression tests of issue 10 items 2 and 5: no input aborts or panics — limits are checked
//! before anything is allocated (shard counts, arrivals, the memory a run needs), files are
//! read only when they are regular files and never past a size cap — and no error quotes the
//! contents of a file that is not the scenario (empirical values, inventories, shard and
//! results files). No test here allocates more than a few megabytes: the refusals come from
//! the up-front checks.

use assert_cmd::Command;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use std::path::Path;
use std::time::Duration;

fn fleetsim() -> Command {
    let mut c = Command::cargo_bin("fleetsim").unwrap();
    c.timeout(Duration::from_secs(20));
    c
}

const SECRET: &str = "root:x:0:0:SECRET";

/// A small scenario; `install_time` and `fleet` are spliced in.
fn scenario(install_time: &str, fleet: &str) -> String {
    format!(
        r#"[simulation]
name = "limits"
seed = 1
horizon = "2d"
replications = 2

[connectivity.lan]
online = {{ dist = "exponential", mean = "10d" }}
offline = {{ dist = "exponential", mean = "10m" }}
check_in = "10m"
bandwidth_kbps = 4000

[[release]]
version = "1.0.0"
size_mb = 20

[[release]]
version = "1.1.0"
size_mb = 20
install_time = {install_time}

[policy]
target = "1.1.0"

[[policy.stage]]
name = "all"
select = {{}}
percent = 100

{fleet}
"#
    )
}

fn population(count: u64) -> String {
    format!(
        "[[population]]\nname = \"plant\"\ncount = {count}\nfirmware = \"1.0.0\"\nconnectivity = \"lan\"\n"
    )
}

const INVENTORY_FLEET: &str = "[fleet]\ninventory = \"devices.csv\"\n\n[[population]]\nname = \"plant\"\nconnectivity = \"lan\"\nfirmware = \"1.0.0\"\n";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

#[test]
fn shard_n_of_u64_max_is_refused_at_the_cli_not_a_capacity_overflow_in_merge() {
    fleetsim()
        .args([
            "run",
            "tests/data/fragile.toml",
            "--shard",
            "1/18446744073709551615",
        ])
        .assert()
        .code(2)
        .stderr(contains("more than the 1000000 replications").and(contains("panicked").not()));
    fleetsim()
        .args([
            "sweep",
            "tests/data/fragile.toml",
            "--param",
            "policy.rate.per_minute=1,2",
        ])
        .args(["--shard", "1/20000"])
        .assert()
        .code(2)
        .stderr(contains("more than the 10000 points"));
    // A shard file that claims N = u64::MAX (hand-edited, or from a fleetsim before the CLI
    // bound) names the missing shard instead of allocating a table of N entries.
    let dir = tempfile::tempdir().unwrap();
    let shard = dir.path().join("s1");
    fleetsim()
        .args([
            "run",
            "tests/data/fragile.toml",
            "--quiet",
            "--shard",
            "1/2",
            "--out",
        ])
        .arg(&shard)
        .assert()
        .success();
    let file = shard.join("shard.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    json["shard"] = serde_json::json!([1u64, u64::MAX]);
    std::fs::write(&file, json.to_string()).unwrap();
    fleetsim()
        .arg("merge")
        .arg(&shard)
        .arg("--out")
        .arg(dir.path().join("m"))
        .assert()
        .code(2)
        .stderr(
            contains("shard 2/18446744073709551615 is missing").and(contains("panicked").not()),
        );
}

#[test]
fn more_shards_than_replications_or_points_are_refused_with_a_message() {
    fleetsim()
        .args(["run", "tests/data/fragile.toml", "--shard", "3/3"])
        .assert()
        .code(2)
        .stderr(contains(
            "has 2 replications, fewer than the 3 shards; N must be at most 2",
        ));
    fleetsim()
        .args(["check", "tests/data/fragile.toml", "--shard", "1/5"])
        .assert()
        .code(2)
        .stderr(contains("fewer than the 5 shards"));
    fleetsim()
        .args([
            "tune",
            "scenarios/bad-release.toml",
            "--param",
            "policy.rate.per_minute=10,20",
        ])
        .args(["--shard", "1/3"])
        .assert()
        .code(2)
        .stderr(contains("the grid has 2 points, fewer than the 3 shards"));
}

#[test]
fn arrivals_per_day_of_1e19_is_a_device_limit_error_not_a_wrapped_sum() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario(
        "\"2m\"",
        &format!("{}arrivals_per_day = 1e19\n", population(100)),
    );
    let file = write(dir.path(), "arrivals.toml", &text);
    let out = dir.path().join("r").display().to_string();
    for args in [vec!["validate"], vec!["run", "--no-report", "--out", &out]] {
        fleetsim().args(args).arg(&file).assert().code(2).stderr(
            contains("the fleet has 3e19 devices")
                .and(contains("population `plant` alone brings 3e19"))
                .and(contains("the limit is 20000000")),
        );
    }
    // Just under the limit with arrivals counted: 100 present + 1.5 × 5e6 × 2 + 10 ≈ 15 M fits,
    // 7e6 a day (≈ 21 M) does not.
    let ok = scenario(
        "\"2m\"",
        &format!("{}arrivals_per_day = 5e6\n", population(100)),
    );
    fleetsim()
        .arg("validate")
        .arg(write(dir.path(), "ok.toml", &ok))
        .assert()
        .success();
    let over = scenario(
        "\"2m\"",
        &format!("{}arrivals_per_day = 7e6\n", population(100)),
    );
    fleetsim()
        .arg("validate")
        .arg(write(dir.path(), "over.toml", &over))
        .assert()
        .code(2)
        .stderr(contains("the fleet has 21000110 devices"));
}

#[test]
fn an_inventory_of_dev_zero_a_fifo_a_directory_or_over_1_gib_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let run = |inventory: &str| {
        let fleet = INVENTORY_FLEET.replace("devices.csv", inventory);
        let file = write(dir.path(), "inv.toml", &scenario("\"2m\"", &fleet));
        fleetsim().arg("validate").arg(file).assert().code(2)
    };
    run("/dev/zero").stderr(contains(
        "/dev/zero: is a device, not a file; an inventory must be a regular file",
    ));
    std::fs::create_dir(dir.path().join("folder")).unwrap();
    run("folder").stderr(contains("folder: is a directory"));
    let fifo = dir.path().join("pipe.csv");
    mkfifo(&fifo);
    run("pipe.csv").stderr(contains("pipe.csv: is a named pipe (FIFO)"));
    // A sparse file: 1 GiB + 1 byte long, no disk or memory behind it.
    let big = std::fs::File::create(dir.path().join("big.csv")).unwrap();
    big.set_len((1 << 30) + 1).unwrap();
    run("big.csv").stderr(contains(
        "big.csv: 1073741825 bytes is more than the 1 GiB limit for an inventory",
    ));
}

#[test]
fn an_empirical_file_of_dev_zero_a_fifo_a_directory_or_over_64_mib_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let run = |file: &str| {
        let install = format!("{{ dist = \"empirical\", file = {file:?} }}");
        let sc = write(dir.path(), "emp.toml", &scenario(&install, &population(10)));
        fleetsim().arg("validate").arg(sc).assert().code(2)
    };
    run("/dev/zero").stderr(contains(
        "/dev/zero: is a device, not a file; an empirical values file must be a regular file",
    ));
    run(".").stderr(contains(".: is a directory"));
    let fifo = dir.path().join("pipe.txt");
    mkfifo(&fifo);
    run("pipe.txt").stderr(contains("is a named pipe (FIFO)"));
    let big = std::fs::File::create(dir.path().join("big.txt")).unwrap();
    big.set_len((64 << 20) + 1).unwrap();
    run("big.txt").stderr(contains(
        "big.txt: 67108865 bytes is more than the 64 MiB limit for an empirical values file",
    ));
}

#[test]
fn twenty_million_devices_on_two_threads_are_refused_up_front_under_4_gib() {
    let dir = tempfile::tempdir().unwrap();
    let big = scenario("\"2m\"", &population(20_000_000));
    let file = write(dir.path(), "big.toml", &big);
    let out = dir.path().join("r");
    let expect = |a: assert_cmd::assert::Assert, source: &str| {
        a.code(2).stderr(
            contains("limit exceeded: this run needs about 9.6 GiB of memory")
                .and(contains(
                    "20000000 devices × 256 bytes × 2 replications running at once",
                ))
                .and(contains(source))
                .and(contains("--threads 1"))
                .and(contains("panicked").not()),
        );
    };
    let run = |extra: &[&str]| {
        let mut c = fleetsim();
        c.args(["run", "--threads", "2", "--quiet", "--out"])
            .arg(&out)
            .arg(&file)
            .args(extra);
        c
    };
    expect(
        run(&["--max-memory", "4GiB"]).assert(),
        "the limit of 4 GiB (--max-memory)",
    );
    expect(
        run(&[]).env("FLEETSIM_MAX_MEMORY", "4G").assert(),
        "(FLEETSIM_MAX_MEMORY)",
    );
    // Without a flag, the address-space limit counts: under `ulimit -v 4 GiB` this aborted in
    // the allocator before.
    let script = format!(
        "ulimit -v 4194304 && exec {} run --threads 2 --quiet --out \"$1\" \"$2\"",
        assert_cmd::cargo::cargo_bin("fleetsim").display()
    );
    let a = Command::new("sh")
        .args(["-c", &script, "sh"])
        .arg(&out)
        .arg(&file)
        .env_remove("FLEETSIM_MAX_MEMORY")
        .timeout(Duration::from_secs(20))
        .assert();
    // The smallest of the machine's limits is named: the 4 GiB of `ulimit -v`, unless this
    // machine has even less memory available.
    let stderr = stderr_of(&a);
    let source = if stderr.contains("MemAvailable") {
        "MemAvailable"
    } else {
        "ulimit -v"
    };
    expect(a, source);
    fleetsim()
        .args(["run", "--max-memory", "lots", "tests/data/fragile.toml"])
        .assert()
        .code(2)
        .stderr(contains("--max-memory `lots`: write a size such as"));
    assert!(!out.exists(), "a refused run leaves no report folder");
}

#[test]
fn an_empirical_file_never_echoes_its_contents() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "secret.txt",
        &format!("header-line\n30\n{SECRET}\n"),
    );
    for (file, line) in [
        ("secret.txt", "line 3"),
        ("/etc/passwd", "line 2"),
        ("/proc/self/status", "line 2"),
    ] {
        let install = format!("{{ dist = \"empirical\", file = {file:?} }}");
        let sc = write(dir.path(), "emp.toml", &scenario(&install, &population(10)));
        let a = fleetsim().arg("validate").arg(sc).assert().code(2);
        let stderr = stderr_of(&a);
        assert!(
            stderr.contains(&format!("{file}: {line}: expected a duration")),
            "{stderr}"
        );
        for leak in ["SECRET", "root:", "Name:", "header-line"] {
            assert!(!stderr.contains(leak), "{file}: `{leak}` in {stderr}");
        }
    }
}

#[test]
fn inventory_parse_errors_name_line_and_column_but_never_a_cell() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "inv.toml", &scenario("\"2m\"", INVENTORY_FLEET));
    let cases = [
        (
            format!("population,crash_rate\nplant,0.1\nplant,{SECRET}\n"),
            "line 3: column `crash_rate`: expected a number",
        ),
        (
            format!("population,model\n{SECRET},m1\n"),
            "line 2: column `population`: no [[population]] of that name to inherit from; defined: plant",
        ),
        (
            format!("{SECRET}\nroot:x:0:0:SECRET:/root:/bin/sh\n"),
            "line 1: the header has neither a `population` nor a `connectivity` column",
        ),
        (
            format!("population,ab_slots\nplant,{SECRET}\n"),
            "line 2: column `ab_slots`: expected true or false",
        ),
    ];
    for (csv, message) in cases {
        write(dir.path(), "devices.csv", &csv);
        let a = fleetsim().arg("validate").arg(&sc).assert().code(2);
        let stderr = stderr_of(&a);
        assert!(stderr.contains(message), "{stderr}");
        assert!(!stderr.contains("SECRET"), "{stderr}");
    }
}

#[test]
fn merge_and_report_never_echo_a_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("f");
    std::fs::create_dir(&folder).unwrap();
    for text in [
        format!("{{\"fleetsim_version\": \"{SECRET}\"}}"),
        format!("{{\"fleetsim_version\": 5, \"x\": \"{SECRET}\"}}"),
        format!("{SECRET}\n"),
    ] {
        write(&folder, "shard.json", &text);
        let a = fleetsim().arg("merge").arg(&folder).assert().code(2);
        let stderr = stderr_of(&a);
        assert!(
            stderr.contains("not a fleetsim shard file: line 1"),
            "{stderr}"
        );
        assert!(!stderr.contains("SECRET"), "{stderr}");
    }
    // A version string that is not a version is not repeated either.
    let dir2 = tempfile::tempdir().unwrap();
    let shard = dir2.path().join("s");
    fleetsim()
        .args([
            "run",
            "tests/data/fragile.toml",
            "--quiet",
            "--shard",
            "1/1",
            "--out",
        ])
        .arg(&shard)
        .assert()
        .success();
    let file = shard.join("shard.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    json["fleetsim_version"] = SECRET.into();
    std::fs::write(&file, json.to_string()).unwrap();
    let a = fleetsim().arg("merge").arg(&shard).assert().code(2);
    let stderr = stderr_of(&a);
    assert!(
        stderr.contains("written by another version of fleetsim"),
        "{stderr}"
    );
    assert!(!stderr.contains("SECRET"), "{stderr}");
    // `report DIR` reading a results file that is not one.
    std::fs::remove_file(folder.join("shard.json")).unwrap();
    write(
        &folder,
        "summary.json",
        &format!("{{\"scenario\": [\"{SECRET}\"]}}"),
    );
    let a = fleetsim().arg("report").arg(&folder).assert().code(2);
    let stderr = stderr_of(&a);
    assert!(
        stderr.contains("summary.json: not a fleetsim results file"),
        "{stderr}"
    );
    assert!(!stderr.contains("SECRET"), "{stderr}");
}

#[test]
fn merge_refuses_a_shard_json_that_is_a_device_or_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("f");
    std::fs::create_dir(&folder).unwrap();
    std::os::unix::fs::symlink("/dev/zero", folder.join("shard.json")).unwrap();
    fleetsim()
        .arg("merge")
        .arg(&folder)
        .assert()
        .code(2)
        .stderr(contains("shard.json: is a device, not a file"));
    std::fs::remove_file(folder.join("shard.json")).unwrap();
    mkfifo(&folder.join("shard.json"));
    fleetsim()
        .arg("merge")
        .arg(&folder)
        .assert()
        .code(2)
        .stderr(contains("shard.json: is a named pipe (FIFO)"));
}

/// Makes a named pipe at `path` (nothing ever writes to it: a reader would block for ever).
fn mkfifo(path: &std::path::Path) {
    assert!(std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success());
}
