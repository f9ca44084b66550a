//! Population mixes (issue 13, item 1): `model`, `region`, `connectivity` and `power` of a
//! `[[population]]` take a mix as `firmware` does, and `utc_offset` a table by region. Each
//! device draws its values from streams of its own, so the draw is the same under any policy
//! and leaves every other draw (firmware among them) where it was; selectors see the drawn
//! values; bad mixes are refused with exit code 2.

mod common;

use assert_cmd::Command;
use common::{scenario, TWO_RELEASES};
use fleetsim::fleet::device::flag;
use fleetsim::fleet::Fleet;
use fleetsim::replication::{RunLimits, Sim};
use fleetsim::scenario::{load_str, Scenario};
use predicates::str::contains;

/// A fleet of `count` always-online devices on `1.0.0` (`pop` adds keys to the population,
/// `policy` is the body of `[policy]` and its stages), with connectivity profiles `a` and `b`
/// and power profiles `mains` and `cell`.
fn world(count: u64, pop: &str, policy: &str) -> String {
    format!(
        r#"
[simulation]
name = "mixes"
seed = 5
horizon = "2d"
replications = 1

[connectivity.a]
online = {{ dist = "exponential", mean = "1000d" }}
offline = "1s"
check_in = "1m"
bandwidth_kbps = 8000

[connectivity.b]
online = {{ dist = "exponential", mean = "1000d" }}
offline = "1s"
check_in = "5m"
bandwidth_kbps = 8000

[power.cell]
source = "battery"
level = 1.0

[[population]]
name = "fleet"
count = {count}
{pop}

{TWO_RELEASES}

[[release]]
version = "0.9.0"
size_mb = 1

[policy]
target = "2.0.0"
{policy}
"#
    )
}

const ALL: &str =
    "rate = { per_minute = 200 }\n[[policy.stage]]\nname = \"all\"\nselect = {}\npercent = 100\n";

/// The connectivity profile name of every device at the start of replication `rep`.
fn connectivity_of(sc: &Scenario, rep: u64) -> Vec<String> {
    let fleet = Fleet::new(sc, rep).unwrap();
    (fleet.devices().iter())
        .map(|d| {
            let pop = &sc.populations[d.population as usize];
            sc.connectivity[pop.connectivity].name.clone()
        })
        .collect()
}

/// `connectivity = { a = 0.7, b = 0.3 }` over 10 000 devices: each device draws `a` with
/// probability 0.7, so the count on `a` is Binomial(10 000, 0.7): mean 7 000, SD √(10 000 ·
/// 0.7 · 0.3) ≈ 45.8; the tolerance of ±230 is 5 SD (a fixed seed, so the test is
/// deterministic; the bound only says the draw is a fair one). A second replication draws
/// anew (not the same devices), within the same bound.
#[test]
fn a_connectivity_mix_gives_each_profile_its_share() {
    let pop = "firmware = \"1.0.0\"\nconnectivity = { a = 0.7, b = 0.3 }";
    let sc = scenario(&world(10_000, pop, ALL));
    assert_eq!(sc.device_count(), 10_000);
    let rep0 = connectivity_of(&sc, 0);
    let rep1 = connectivity_of(&sc, 1);
    for devices in [&rep0, &rep1] {
        let on_a = devices.iter().filter(|c| *c == "a").count() as f64;
        let on_b = devices.iter().filter(|c| *c == "b").count() as f64;
        assert_eq!(on_a + on_b, 10_000.0);
        eprintln!("devices on `a`: {on_a} of 10 000");
        assert!((on_a - 7_000.0).abs() <= 230.0, "{on_a} devices on `a`");
    }
    let differ = rep0.iter().zip(&rep1).filter(|(x, y)| x != y).count();
    // Two independent draws differ on 2 · 0.7 · 0.3 = 42 % of the devices (SD ≈ 49).
    assert!(
        (differ as f64 - 4_200.0).abs() <= 250.0,
        "{differ} devices differ"
    );
}

/// The draw belongs to the device, not to the policy: another rate, other stages and a gate
/// leave every device's connectivity, model and power as they were; and a mix moves no other
/// draw: the firmware every device starts on is the same with and without the mixes.
#[test]
fn the_draw_is_the_same_under_any_policy_and_moves_no_other_draw() {
    let fw = "firmware = { \"1.0.0\" = 0.6, \"0.9.0\" = 0.4 }";
    let mixed = format!(
        "{fw}\nconnectivity = {{ a = 0.7, b = 0.3 }}\nmodel = {{ m1 = 1, m2 = 3 }}\npower = {{ mains = 0.5, cell = 0.5 }}"
    );
    let other_policy = "rate = { per_minute = 3 }\n[[policy.stage]]\nname = \"canary\"\nselect = { model = \"m2\" }\npercent = 5\nbake = \"1h\"\n[policy.stage.gate]\nmin_devices = 5\n[[policy.stage.gate.check]]\nmetric = \"update_failure_rate\"\nmax = 0.1\n[[policy.stage]]\nname = \"rest\"\nselect = {}\npercent = 100\n";
    let a = scenario(&world(3_000, &mixed, ALL));
    let b = scenario(&world(3_000, &mixed, other_policy));
    let plain = scenario(&world(3_000, &format!("{fw}\nconnectivity = \"a\""), ALL));
    let fa = Fleet::new(&a, 0).unwrap();
    let fb = Fleet::new(&b, 0).unwrap();
    let fp = Fleet::new(&plain, 0).unwrap();
    let attrs = |sc: &Scenario, f: &Fleet| -> Vec<(String, usize, usize, u8)> {
        (f.devices().iter())
            .map(|d| {
                let p = &sc.populations[d.population as usize];
                (p.model.clone(), p.connectivity, p.power, d.version)
            })
            .collect()
    };
    assert_eq!(attrs(&a, &fa), attrs(&b, &fb));
    let versions = |f: &Fleet| f.devices().iter().map(|d| d.version).collect::<Vec<_>>();
    assert_eq!(
        versions(&fa),
        versions(&fp),
        "a mix moved the firmware draw"
    );
    // Every combination is there: 2 models × 2 profiles × 2 power profiles.
    assert_eq!(a.populations.len(), 8);
    let m2 = attrs(&a, &fa).iter().filter(|x| x.0 == "m2").count() as f64;
    // Binomial(3 000, 0.75): SD ≈ 23.7; ±120 is 5 SD.
    assert!((m2 - 2_250.0).abs() <= 120.0, "{m2} devices of m2");
}

/// Selectors see the drawn values: a stage selecting `model = "m2"` targets exactly the
/// devices that drew `m2`, a defect `where = { region = "eu" }` harms exactly the exposed
/// devices that drew `eu` (probability 1, A/B: each is reverted and harmed), and each device
/// keeps its region's offset from the table.
#[test]
fn selectors_by_model_and_region_hit_exactly_the_drawn_devices() {
    let pop = "firmware = \"1.0.0\"\nconnectivity = \"a\"\nmodel = { m1 = 0.5, m2 = 0.5 }\nregion = { eu = 0.5, us = 0.5 }\nutc_offset = { eu = \"+01:00\", us = \"-05:00\" }";
    let policy = "rate = { per_minute = 200 }\n[[policy.stage]]\nname = \"m2\"\nselect = { model = \"m2\" }\npercent = 100\n";
    let text = world(2_000, pop, policy).replace(
        "reboot_time = \"30s\"\n",
        "reboot_time = \"30s\"\n[[release.defect]]\neffect = \"boot-failure\"\nprobability = 1.0\nwhere = { region = \"eu\" }\n",
    );
    let sc = scenario(&text);
    let mut sim = Sim::new(&sc, 0, RunLimits::default()).unwrap();
    sim.run().unwrap();
    let (mut m2, mut eu_m2) = (0, 0);
    for d in sim.world.fleet.devices() {
        let p = &sc.populations[d.population as usize];
        assert_eq!(d.has(flag::TARGETED), p.model == "m2", "{p:?}");
        assert_eq!(d.has(flag::HARMED), p.model == "m2" && p.region == "eu");
        let offset = if p.region == "eu" { 3_600 } else { -18_000 };
        assert_eq!(p.utc_offset_s, offset);
        m2 += (p.model == "m2") as u64;
        eu_m2 += (p.model == "m2" && p.region == "eu") as u64;
    }
    // Both draws are fair (Binomial(2 000, 0.5), SD ≈ 22.4; Binomial(2 000, 0.25), SD ≈ 19.4;
    // 5 SD each), and every m2 device was reached in two days of an always-online fleet.
    eprintln!("m2: {m2} of 2 000 (targeted), eu and m2: {eu_m2} (harmed)");
    assert!((m2 as f64 - 1_000.0).abs() <= 112.0, "{m2}");
    assert!((eu_m2 as f64 - 500.0).abs() <= 97.0, "{eu_m2}");
    let o = sim.outcome();
    assert_eq!((o.targeted, o.harmed), (m2, eu_m2));
}

fn fleetsim() -> Command {
    let mut cmd = Command::cargo_bin("fleetsim").unwrap();
    cmd.timeout(std::time::Duration::from_secs(120));
    cmd
}

/// Runs `fleetsim validate` on the scenario of population keys `pop` and returns the command's
/// assertion.
fn validate(pop: &str) -> assert_cmd::assert::Assert {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mix.toml");
    std::fs::write(&file, world(100, pop, ALL)).unwrap();
    fleetsim().arg("validate").arg(&file).assert()
}

/// Bad mixes are input errors (exit 2) naming the key and what is valid: a negative share, a
/// mix without a positive share, an unknown profile (with a did-you-mean), a region of the mix
/// without an offset, an offset for a region the population does not have, a mix that is
/// neither a name nor a table.
#[test]
fn bad_mixes_are_refused_with_the_key_and_what_is_valid() {
    let fw = "firmware = \"1.0.0\"\n";
    let cases = [
        (
            "connectivity = { a = 0.7, b = -0.3 }",
            "population[0].connectivity.b: a connectivity mix maps names to shares ≥ 0",
        ),
        (
            "connectivity = \"a\"\nmodel = { m1 = 0, m2 = 0 }",
            "population[0].model: the model mix has no positive share",
        ),
        (
            "connectivity = { a = 0.5, bb = 0.5 }",
            "population[0].connectivity.bb: no connectivity profile named `bb` (did you mean `b`?)",
        ),
        (
            "connectivity = \"a\"\npower = { mains = 0.5, cel = 0.5 }",
            "population[0].power.cel: no power profile named `cel` (did you mean `cell`?)",
        ),
        (
            "connectivity = \"a\"\nregion = { eu = 0.5, us = 0.5 }\nutc_offset = { eu = \"+01:00\" }",
            "population[0].utc_offset: no offset for region `us`",
        ),
        (
            "connectivity = \"a\"\nregion = { eu = 0.5, us = 0.5 }\nutc_offset = { eu = \"+01:00\", us = \"-05:00\", uss = \"Z\" }",
            "population[0].utc_offset.uss: `uss` is not a region of this population (did you mean `us`?)",
        ),
        (
            "connectivity = \"a\"\nregion = { eu = 0.5, us = 0.5 }\nutc_offset = { eu = \"+01:00\", us = \"5 hours\" }",
            "population[0].utc_offset.us: `5 hours` is not a UTC offset",
        ),
        (
            "connectivity = \"a\"\nmodel = [\"m1\", \"m2\"]",
            "population[0].model: write a name or a mix of names and shares",
        ),
    ];
    for (pop, message) in cases {
        validate(&format!("{fw}{pop}"))
            .code(2)
            .stderr(contains(message));
    }
    // A region mix with one offset for every region, or none (UTC), is valid.
    validate(&format!(
        "{fw}connectivity = \"a\"\nregion = {{ eu = 0.5, us = 0.5 }}\nutc_offset = \"+01:00\""
    ))
    .success();
}

/// The report's data keep one row per population as written: `summary.json`'s glance shows the
/// mixes as written (largest share first) and `breakdown.csv` has a row per population, model,
/// region and stage, variants that differ only in connectivity merged.
#[test]
fn outputs_show_a_mixed_population_once_with_its_mixes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mix.toml");
    let pop = "firmware = \"1.0.0\"\nconnectivity = { a = 0.7, b = 0.3 }\nmodel = { m1 = 0.25, m2 = 0.75 }";
    std::fs::write(&file, world(500, pop, ALL)).unwrap();
    let out = dir.path().join("out");
    fleetsim()
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--no-report", "--out"])
        .arg(&out)
        .assert()
        .success();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let rows = summary["glance"]["populations"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["count"], 500);
    assert_eq!(rows[0]["connectivity"], "a 70%, b 30%");
    assert_eq!(rows[0]["model"], "m2 75%, m1 25%");
    let csv = std::fs::read_to_string(out.join("breakdown.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(lines.len(), 2, "{csv}");
    let devices: f64 = lines
        .iter()
        .map(|l| l.split(',').nth(4).unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(devices, 500.0);
}

/// An inventory row inherits its template's mixes for the columns it leaves empty and keeps
/// its own value where it names one: a row naming region `us` takes `us`'s offset from the
/// template's table (the table's other regions are no error there), a row without a region
/// draws from the template's region mix.
#[test]
fn inventory_rows_inherit_a_templates_mixes() {
    let dir = tempfile::tempdir().unwrap();
    let pop = "firmware = \"1.0.0\"\nconnectivity = \"a\"\nregion = { eu = 0.5, us = 0.5 }\nutc_offset = { eu = \"+01:00\", us = \"-05:00\" }";
    let text = world(0, pop, ALL).replace("count = 0\n", "").replace(
        "[policy]",
        "[fleet]\ninventory = \"devices.csv\"\n\n[policy]",
    );
    let mut csv = String::from("id,population,region\n");
    for i in 0..400 {
        csv.push_str(&format!("d{i},fleet,{}\n", if i < 100 { "us" } else { "" }));
    }
    std::fs::write(dir.path().join("devices.csv"), csv).unwrap();
    let sc = load_str(&text, "inv.toml", dir.path(), &[]).unwrap_or_else(|e| panic!("{e}"));
    let fleet = Fleet::new(&sc, 0).unwrap();
    let (mut us, mut eu) = (0, 0);
    for (i, d) in fleet.devices().iter().enumerate() {
        let p = &sc.populations[d.population as usize];
        let offset = if p.region == "eu" { 3_600 } else { -18_000 };
        assert_eq!(p.utc_offset_s, offset, "device {i}: {p:?}");
        us += (p.region == "us") as u64;
        eu += (p.region == "eu") as u64;
    }
    assert_eq!(us + eu, 400);
    // The 100 `us` rows, and half of the 300 rows that draw: Binomial(300, 0.5), SD ≈ 8.7;
    // ±45 is about 5 SD.
    eprintln!("inventory: {us} devices in us, {eu} in eu");
    assert!((eu as f64 - 150.0).abs() <= 45.0, "{eu}");
}
