//! Engine benchmarks (criterion): one replication of `bad-release.toml` (20 100 devices) and of
//! `scale-1m.toml` (1 000 000 devices, 30 days, defective release), single-threaded.
//!
//! `cargo bench --bench engine`; the README's performance section records the figures.

use criterion::{criterion_group, criterion_main, Criterion};
use fleetsim::replication::{RunLimits, Sim};
use fleetsim::scenario::load_file;
use std::path::Path;

fn one_replication(c: &mut Criterion, file: &str, samples: usize) {
    let sc = load_file(Path::new(file), &[]).expect("scenario loads");
    let mut group = c.benchmark_group("engine");
    group.sample_size(samples);
    group.bench_function(
        Path::new(file)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string(),
        |b| {
            let mut rep = 0;
            b.iter(|| {
                let mut sim = Sim::new(&sc, rep, RunLimits::default()).unwrap();
                sim.run().unwrap();
                rep += 1;
                sim.world.agenda.popped()
            })
        },
    );
    group.finish();
}

fn benches(c: &mut Criterion) {
    one_replication(c, "scenarios/bad-release.toml", 50);
    one_replication(c, "scenarios/scale-1m.toml", 10);
}

criterion_group!(engine, benches);
criterion_main!(engine);
