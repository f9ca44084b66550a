//! Engine benchmarks (criterion): one replication of `bad-release.toml` (20 100 devices), of
//! `scale-1m.toml` (1 000 000 devices, 30 days, defective release: the gates halt it early) and
//! of the same fleet with both defects removed (`scale-1m-healthy`: the full rollout runs),
//! single-threaded.
//!
//! `cargo bench --bench engine -- --save-baseline NAME` keeps a baseline and
//! `-- --baseline NAME` compares with it; the README's performance section records the figures.

use criterion::{criterion_group, criterion_main, Criterion};
use fleetsim::replication::{RunLimits, Sim};
use fleetsim::scenario::load_file;
use std::path::Path;

fn one_replication(c: &mut Criterion, file: &str, name: &str, set: &[&str], samples: usize) {
    let overrides: Vec<(String, String)> = set
        .iter()
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    let sc = load_file(Path::new(file), &overrides).expect("scenario loads");
    let mut group = c.benchmark_group("engine");
    group.sample_size(samples);
    group.bench_function(name, |b| {
        let mut rep = 0;
        b.iter(|| {
            let mut sim = Sim::new(&sc, rep, RunLimits::default()).unwrap();
            sim.run().unwrap();
            rep += 1;
            sim.world.agenda.popped()
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    one_replication(c, "scenarios/bad-release.toml", "bad-release", &[], 50);
    one_replication(c, "scenarios/scale-1m.toml", "scale-1m", &[], 10);
    let healthy = [
        "release[2].defect[0].probability=0",
        "release[2].defect[1].probability=0",
    ];
    one_replication(
        c,
        "scenarios/scale-1m.toml",
        "scale-1m-healthy",
        &healthy,
        10,
    );
}

criterion_group!(engine, benches);
criterion_main!(engine);
