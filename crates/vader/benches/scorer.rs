//! Criterion benchmarks of the scorer, single-threaded.
//!
//! `cargo bench -p vader --bench scorer` (criterion prints texts/s as elem/s):
//!
//! - `corpus/*`: every text of the parity corpus (37k varied texts:
//!   reviews, tweets, news, rules, emoji, non-ASCII, 300+ word texts), with
//!   the reusable analyzer and with the thread-local free function;
//! - `short/*`: one tweet-like text and one plain sentence;
//! - `long/N`: one review-like text of N words (throughput in words/s: flat
//!   across N because the cost is linear in the length).
//!
//! The comparison with the Python reference and the `vader_sentiment` crate
//! is scripts/bench-vader.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use vader::SentimentIntensityAnalyzer;

const FIXTURES: &str = include_str!("../tests/fixtures/vader_corpus.tsv");

#[path = "../tests/support/corpus.rs"]
mod corpus;
use corpus::long_text;

/// The texts of the parity corpus.
fn corpus() -> Vec<String> {
    corpus::texts(FIXTURES)
}

fn bench_corpus(c: &mut Criterion) {
    let texts = corpus();
    let mut group = c.benchmark_group("corpus");
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.bench_function("analyzer", |b| {
        let mut analyzer = SentimentIntensityAnalyzer::new();
        b.iter(|| {
            for t in &texts {
                black_box(analyzer.polarity_scores(black_box(t)));
            }
        })
    });
    group.bench_function("free_function", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(vader::polarity_scores(black_box(t)));
            }
        })
    });
    group.finish();
}

fn bench_short(c: &mut Criterion) {
    let mut group = c.benchmark_group("short");
    group.throughput(Throughput::Elements(1));
    for (name, text) in [
        (
            "tweet",
            "@amy22 OMG the new album is SO good!!! not bad at all 😍😍 #blessed http://t.co/x",
        ),
        (
            "sentence",
            "The plot was good, but the characters are uncompelling and the dialog is not great.",
        ),
    ] {
        group.bench_function(name, |b| {
            let mut analyzer = SentimentIntensityAnalyzer::new();
            b.iter(|| black_box(analyzer.polarity_scores(black_box(text))))
        });
    }
    group.finish();
}

fn bench_long(c: &mut Criterion) {
    let mut group = c.benchmark_group("long");
    for words in [100, 1_000, 10_000, 100_000] {
        let text = long_text(words);
        group.throughput(Throughput::Elements(words as u64));
        group.bench_with_input(BenchmarkId::from_parameter(words), &text, |b, text| {
            let mut analyzer = SentimentIntensityAnalyzer::new();
            b.iter(|| black_box(analyzer.polarity_scores(black_box(text))))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_corpus, bench_short, bench_long);
criterion_main!(benches);
