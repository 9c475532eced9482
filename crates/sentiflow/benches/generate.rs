//! The generator must never be the bottleneck: >= 1M sentences/s on one thread.
//! Run with `cargo bench -p sentiflow --bench generate`; criterion prints elements/s.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sentiflow::generate::{SentenceGenerator, Style};

const SENTENCES: u64 = 100_000;

fn generate(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate");
    group.throughput(Throughput::Elements(SENTENCES));
    for (name, style) in [("review", Style::Review), ("lorem", Style::Lorem)] {
        group.bench_function(name, |b| {
            let mut generator = SentenceGenerator::new(1, style);
            let mut sentence = String::with_capacity(128);
            b.iter(|| {
                let mut bytes = 0usize;
                for _ in 0..SENTENCES {
                    generator.next_into(&mut sentence);
                    bytes += sentence.len();
                }
                bytes
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = generate
}
criterion_main!(benches);
