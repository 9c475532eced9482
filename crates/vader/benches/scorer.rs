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

/// The texts of the parity corpus (see tests/parity.rs for the format).
fn corpus() -> Vec<String> {
    FIXTURES
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| unescape(l.splitn(6, '\t').nth(5).unwrap_or("")))
        .collect()
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('u') => {
                chars.next();
                let hex: String = chars.by_ref().take_while(|&c| c != '}').collect();
                out.extend(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32));
            }
            Some(c) => out.push(c),
            None => {}
        }
    }
    out
}

/// One review-like sentence repeated to `words` words (the long text of
/// scripts/bench-vader).
fn long_text(words: usize) -> String {
    const SENTENCE: &str = "The plot was really good and the acting was not bad , but the ending was \
        kind of disappointing and VERY slow :( although the music is great 😀 !";
    let base: Vec<&str> = SENTENCE.split(' ').collect();
    (0..words)
        .map(|i| base[i % base.len()])
        .collect::<Vec<_>>()
        .join(" ")
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
