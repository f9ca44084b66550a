//! TOML syntax as the parser (toml 1.x, TOML 1.1) sees it: a syntax error names the file, line
//! and column of the mistake, and the TOML 1.1 forms (an inline table over several lines, with a
//! trailing comma) describe the same scenario as their one-line spelling.

use assert_cmd::Command;
use std::path::Path;
use std::time::Duration;

fn fleetsim() -> Command {
    let mut cmd = Command::cargo_bin("fleetsim").unwrap();
    cmd.timeout(Duration::from_secs(120));
    cmd
}

/// `validate`'s stderr and exit code for `text` written as `name` in `dir`.
fn validate(dir: &Path, name: &str, text: &str) -> (Option<i32>, String) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let out = fleetsim().arg("validate").arg(&path).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Each syntax error: (text replaced in bad-release.toml, replacement, the line of the mistake
/// in the edited file is the line of the replaced text plus this, the column, a needle).
const SYNTAX_ERRORS: &[(&str, &str, usize, usize, &str)] = &[
    ("horizon = \"21d\"", "horizon = 21d", 0, 11, "quoted"),
    ("horizon = \"21d\"", "horizon = ", 0, 11, ""),
    (
        "horizon = \"21d\"",
        "horizon = \"21d\"\nhorizon = \"3d\"",
        1,
        1,
        "duplicate key",
    ),
    ("percent = 20\n", "percent = 20,\n", 0, 13, ""),
];

#[test]
fn syntax_errors_name_the_file_line_and_column() {
    let base = std::fs::read_to_string("scenarios/bad-release.toml").unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (i, (from, to, below, column, needle)) in SYNTAX_ERRORS.iter().enumerate() {
        let at = base
            .find(from)
            .unwrap_or_else(|| panic!("case {i}: `{from}` not in fixture"));
        let line = base[..at].matches('\n').count() + 1 + below;
        let name = format!("syntax-{i}.toml");
        let (code, stderr) = validate(dir.path(), &name, &base.replacen(from, to, 1));
        assert_eq!(code, Some(2), "case {i}: {stderr}");
        let position = format!("{name}:{line}:{column}: ");
        assert!(
            stderr.contains(&position),
            "case {i}: expected `{position}` in:\n{stderr}"
        );
        assert!(
            stderr.contains(needle),
            "case {i}: no `{needle}` in:\n{stderr}"
        );
        assert_eq!(stderr.matches("error:").count(), 1, "case {i}: {stderr}");
    }
}

/// TOML 1.1 lets an inline table span lines and end with a comma; toml 0.8 refused both.
#[test]
fn multi_line_inline_tables_describe_the_same_scenario() {
    let base = std::fs::read_to_string("scenarios/seed-staged-rollout.toml").unwrap();
    let one_line = "online = { dist = \"exponential\", mean = \"2d\" }";
    assert!(base.contains(one_line));
    let multi = base.replacen(
        one_line,
        "online = {\n  dist = \"exponential\",\n  mean = \"2d\", # TOML 1.1\n}",
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    // The same relative path from two folders: summary.json records the path as given.
    for (folder, text) in [("one", &base), ("multi", &multi)] {
        std::fs::create_dir(dir.path().join(folder)).unwrap();
        std::fs::write(dir.path().join(folder).join("s.toml"), text).unwrap();
        let out = dir.path().join(folder).join("out");
        fleetsim()
            .current_dir(dir.path().join(folder))
            .args([
                "run",
                "s.toml",
                "--replications",
                "1",
                "--quiet",
                "--no-report",
            ])
            .args(["--out", "out"])
            .assert()
            .success();
        let files = [
            "summary.json",
            "replications.csv",
            "stages.csv",
            "timeseries.csv",
        ];
        outputs.push(files.map(|f| std::fs::read(out.join(f)).unwrap()));
    }
    assert!(
        outputs[0] == outputs[1],
        "the two spellings ran differently"
    );
}
