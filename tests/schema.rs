//! `fleetsim schema`: every fixture validates against the JSON Schema, the schema refuses what
//! the parser refuses (an unknown key, a wrong type), editors' `$schema` key and `#:schema`
//! comment are accepted, and the committed schema and reference are what the generator writes.

use assert_cmd::Command;
use std::path::PathBuf;

fn fleetsim() -> Command {
    Command::cargo_bin("fleetsim").unwrap()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn schema() -> serde_json::Value {
    let out = fleetsim().arg("schema").output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn as_json(text: &str) -> serde_json::Value {
    let value: toml::Value = toml::from_str(text).unwrap();
    serde_json::to_value(value).unwrap()
}

/// The messages of every schema violation of a scenario text.
fn violations(validator: &jsonschema::Validator, text: &str) -> Vec<String> {
    validator
        .iter_errors(&as_json(text))
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn fixtures() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["scenarios", "tests/data"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_fixture_validates_against_the_schema() {
    let validator = jsonschema::draft7::new(&schema()).unwrap();
    let mut texts: Vec<(String, String)> = fixtures()
        .iter()
        .map(|p| (p.display().to_string(), std::fs::read_to_string(p).unwrap()))
        .collect();
    for devices in ["1000", "5000", "2000000"] {
        let out = fleetsim()
            .args(["init", "-", "--devices", devices])
            .output()
            .unwrap();
        texts.push((
            format!("init --devices {devices}"),
            String::from_utf8(out.stdout).unwrap(),
        ));
    }
    assert!(texts.len() >= 10, "{} fixtures", texts.len());
    for (name, text) in &texts {
        // Each is a scenario fleetsim accepts, so the schema must accept it too.
        fleetsim()
            .arg("validate")
            .arg("-")
            .write_stdin(text.as_str())
            .assert()
            .success();
        let errors = violations(&validator, text);
        assert!(errors.is_empty(), "{name}:\n{}", errors.join("\n"));
    }
}

/// The schema is not a rubber stamp: what the parser refuses, an editor flags too.
#[test]
fn the_schema_refuses_unknown_keys_wrong_types_and_values_out_of_range() {
    let validator = jsonschema::draft7::new(&schema()).unwrap();
    let base = std::fs::read_to_string(root().join("scenarios/bad-release.toml")).unwrap();
    for (from, to, why) in [
        ("bake = \"24h\"", "bakee = \"24h\"", "unknown key"),
        ("percent = 2\n", "percent = \"two\"\n", "wrong type"),
        ("percent = 2\n", "percent = 200\n", "above 100"),
        (
            "probability = 0.03",
            "probability = 3",
            "a probability above 1",
        ),
        (
            "effect = \"boot-failure\"",
            "effect = \"boot-fail\"",
            "unknown effect",
        ),
        (
            "metric = \"silent_rate\"",
            "metric = \"silence\"",
            "unknown metric",
        ),
        (
            "horizon = ",
            "horizon = \"2 fortnights and a bit\"\n#",
            "not a duration",
        ),
    ] {
        assert!(base.contains(from), "{from}");
        let text = base.replacen(from, to, 1);
        assert!(!violations(&validator, &text).is_empty(), "{why}: accepted");
        fleetsim()
            .arg("validate")
            .arg("-")
            .write_stdin(text)
            .assert()
            .code(2);
    }
}

/// Even Better TOML / taplo find the schema by a `#:schema` comment or a `$schema` key; both are
/// accepted by fleetsim (and the key by the schema).
#[test]
fn schema_comment_and_key_are_accepted() {
    let validator = jsonschema::draft7::new(&schema()).unwrap();
    let base = std::fs::read_to_string(root().join("scenarios/bad-release.toml")).unwrap();
    let text = format!(
        "#:schema ../docs/scenario.schema.json\n\"$schema\" = \"../docs/scenario.schema.json\"\n{base}"
    );
    assert!(violations(&validator, &text).is_empty());
    fleetsim()
        .arg("validate")
        .arg("-")
        .write_stdin(text)
        .assert()
        .success();
}

/// `docs/scenario.schema.json` and `docs/scenario-reference.md` are what `fleetsim schema`
/// prints; `FLEETSIM_UPDATE_DOCS=1` rewrites them.
#[test]
fn committed_schema_and_reference_are_up_to_date() {
    for (file, args) in [
        ("docs/scenario.schema.json", &["schema"][..]),
        ("docs/scenario-reference.md", &["schema", "--markdown"][..]),
    ] {
        let out = fleetsim().args(args).output().unwrap();
        assert!(out.status.success());
        let path = root().join(file);
        if std::env::var_os("FLEETSIM_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &out.stdout).unwrap();
            continue;
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == out.stdout,
            "{file} differs from `fleetsim {}`: regenerate it with FLEETSIM_UPDATE_DOCS=1 cargo test --release --test schema",
            args.join(" ")
        );
    }
}

#[test]
fn reference_documents_every_key_with_unit_and_example() {
    let md = std::fs::read_to_string(root().join("docs/scenario-reference.md")).unwrap();
    for needle in [
        "| `crash_rate` | number | crashes per device-day |",
        "| `approval` |",
        "## Inventory CSV",
        "| `silent_rate` |",
        "| `time_to_95` | seconds |",
    ] {
        assert!(md.contains(needle), "{needle} missing from the reference");
    }
    // The README points at the reference, not at a document outside the repository.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains("docs/scenario-reference.md"));
    for outside in ["SPEC.md", "SPEC §"] {
        assert!(
            !readme.contains(outside),
            "the README points at `{outside}`, outside the repository"
        );
    }
}

/// The README's description of the outputs is written by hand; it names every outcome metric,
/// failure reason and stranding reason of the catalog, so that a name added there is also
/// explained here.
#[test]
fn readme_names_every_catalog_name() {
    use fleetsim::metrics::outcome::ROLLBACK_STRANDED_REASONS;
    use fleetsim::metrics::reasons::{FAILURES, REASONS};
    use fleetsim::scenario::catalog::{FAULT_KINDS, OUTCOME_METRICS};
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let names = OUTCOME_METRICS
        .iter()
        .chain(FAULT_KINDS.iter())
        .copied()
        .chain(FAILURES.iter().map(|f| f.0))
        .chain(REASONS.iter().map(|r| r.0))
        .chain(ROLLBACK_STRANDED_REASONS.iter().copied());
    let missing: Vec<&str> = names
        .filter(|n| !readme.contains(&format!("`{n}`")))
        .collect();
    assert!(missing.is_empty(), "not in README.md: {missing:?}");
}
