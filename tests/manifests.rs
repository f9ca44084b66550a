//! The scale-out manifests agree (issue 15): `docs/k8s-indexed-job.yaml` is an Indexed Job with
//! one completion per shard of `docs/slurm-array.sh`, and every pod runs the Slurm task's command
//! line, argument for argument, with `JOB_COMPLETION_INDEX` (0-based) as shard `K/N` (1-based).
//!
//! The command lines are not re-parsed here but run: each manifest's own shell executes it with
//! a stub `fleetsim` on PATH that writes out its arguments, so quoting, defaults like
//! `${FLEETSIM_REPLICATIONS:-500}` and `$((JOB_COMPLETION_INDEX + 1))` mean what the shell makes
//! of them. `.ci/slurm.sh` runs the Slurm script for real.
#![cfg(unix)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn yaml(rel: &str) -> Value {
    serde_yaml_ng::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The value of `#SBATCH --NAME=VALUE` in the job script.
fn sbatch_directive(script: &str, name: &str) -> String {
    let prefix = format!("#SBATCH --{name}=");
    let mut found = script.lines().filter_map(|l| l.strip_prefix(&prefix));
    let value = found
        .next()
        .unwrap_or_else(|| panic!("no {prefix} in the script"));
    assert!(found.next().is_none(), "{prefix} twice");
    value.trim().to_string()
}

/// A folder with a `fleetsim` that writes its arguments, one per line, to stdout.
fn stub_bin() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let stub = dir.path().join("fleetsim");
    std::fs::write(
        &stub,
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n",
    )
    .unwrap();
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Runs a command with the stub first on PATH and no FLEETSIM_* of the caller's; the
/// arguments fleetsim was given.
fn argv_of(mut cmd: Command, stub: &Path) -> Vec<String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![PathBuf::from(stub)];
    dirs.extend(std::env::split_paths(&path));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FLEETSIM_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .env("PATH", std::env::join_paths(dirs).unwrap())
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn slurm_task_argv(stub: &Path, task: u64, cpus: &str) -> Vec<String> {
    let mut cmd = Command::new("bash");
    cmd.arg("docs/slurm-array.sh")
        .env("SLURM_ARRAY_TASK_ID", task.to_string())
        .env("SLURM_CPUS_PER_TASK", cpus);
    argv_of(cmd, stub)
}

/// The pod's container: its command, args and the resources it asks for.
fn container(job: &Value) -> &Value {
    let containers = job["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("spec.template.spec.containers");
    assert_eq!(containers.len(), 1, "one container");
    &containers[0]
}

fn pod_argv(c: &Value, stub: &Path, index: u64) -> Vec<String> {
    let mut words: Vec<String> = c["command"]
        .as_array()
        .expect("the container has a command")
        .iter()
        .chain(c["args"].as_array().into_iter().flatten())
        .map(|v| v.as_str().expect("command words are strings").to_string())
        .collect();
    let mut cmd = Command::new(words.remove(0));
    cmd.args(words)
        .env("JOB_COMPLETION_INDEX", index.to_string());
    argv_of(cmd, stub)
}

fn value_after<'a>(argv: &'a [String], flag: &str) -> &'a str {
    let i = argv
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("no {flag} in {argv:?}"));
    &argv[i + 1]
}

#[test]
fn the_slurm_array_has_one_task_per_shard() {
    let script = read("docs/slurm-array.sh");
    let array = sbatch_directive(&script, "array");
    assert_eq!(array, "1-16", "tasks are numbered from 1, as shards are");
    assert!(
        script.contains("N=${FLEETSIM_SHARDS:-16}\n"),
        "the script's default shard count is its --array's"
    );
    let stub = stub_bin();
    let argv = slurm_task_argv(stub.path(), 5, "8");
    assert_eq!(argv[0], "tune");
    assert_eq!(value_after(&argv, "--shard"), "5/16");
    assert_eq!(value_after(&argv, "--threads"), "8");
    assert_eq!(value_after(&argv, "--replications"), "500");
    assert_eq!(value_after(&argv, "--out"), "reports/tune-shards/5");
}

#[test]
fn every_pod_of_the_indexed_job_runs_the_slurm_task_of_its_shard() {
    let script = read("docs/slurm-array.sh");
    let cpus = sbatch_directive(&script, "cpus-per-task");
    let job = yaml("docs/k8s-indexed-job.yaml");
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(job["kind"], "Job");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let shards = spec["completions"].as_u64().expect("spec.completions");
    assert_eq!(spec["parallelism"].as_u64(), Some(shards));
    assert_eq!(
        sbatch_directive(&script, "array"),
        format!("1-{shards}"),
        "as many pods as Slurm tasks"
    );
    let c = container(&job);
    assert_eq!(
        c["resources"]["requests"]["cpu"].as_str(),
        Some(cpus.as_str()),
        "a pod asks for the cores a Slurm task gets"
    );

    let stub = stub_bin();
    for index in 0..shards {
        let k = index + 1;
        let pod = pod_argv(c, stub.path(), index);
        let task = slurm_task_argv(stub.path(), k, &cpus);
        assert_eq!(pod, task, "pod {index} and Slurm task {k}");
        assert_eq!(value_after(&pod, "--shard"), format!("{k}/{shards}"));
        assert_eq!(value_after(&pod, "--threads"), cpus);
    }
}

#[test]
fn the_merge_job_reads_the_indexed_jobs_shards_from_the_same_volume() {
    let job = yaml("docs/k8s-indexed-job.yaml");
    let merge = yaml("docs/k8s-merge-job.yaml");
    assert_eq!(merge["kind"], "Job");
    let volumes = |j: &Value| j["spec"]["template"]["spec"]["volumes"].clone();
    assert_eq!(volumes(&merge), volumes(&job));
    let (c, m) = (container(&job), container(&merge));
    assert_eq!(m["volumeMounts"], c["volumeMounts"]);
    assert_eq!(m["workingDir"], c["workingDir"]);
    let stub = stub_bin();
    let shard_out = value_after(&pod_argv(c, stub.path(), 0), "--out").to_string();
    let shard_root = shard_out
        .strip_suffix("/1")
        .expect("shard folders are numbered");
    let args = m["args"][0].as_str().expect("the merge's shell line");
    assert!(
        args.starts_with(&format!("fleetsim merge {shard_root}/* --out ")),
        "{args}"
    );
    // The merge writes where the Slurm script writes when run on one machine.
    let out = args
        .split("--out ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert!(
        read("docs/slurm-array.sh").contains(&format!("${{FLEETSIM_MERGED_OUT:-{out}}}")),
        "{out}"
    );
}

/// Outside Slurm the job script runs the same sweep unsharded, into the merge's folder: what
/// `.ci/slurm.sh` compares the merged shards with.
#[test]
fn outside_slurm_the_job_script_runs_every_point() {
    let stub = stub_bin();
    let sharded = slurm_task_argv(stub.path(), 1, "8");
    let argv = argv_of(
        {
            let mut c = Command::new("bash");
            c.arg("docs/slurm-array.sh")
                .env_remove("SLURM_ARRAY_TASK_ID");
            c
        },
        stub.path(),
    );
    assert!(!argv.iter().any(|a| a == "--shard"), "{argv:?}");
    assert_eq!(value_after(&argv, "--out"), "reports/bad-release-tune");
    let before_threads = |v: &[String]| {
        let i = v.iter().position(|a| a == "--threads").unwrap();
        v[..i].to_vec()
    };
    assert_eq!(before_threads(&argv), before_threads(&sharded));
}
