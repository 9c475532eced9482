//! Scores a corpus single-threaded and prints the throughput.
//!
//! ```text
//! cargo run --release -p vader --example throughput -- [CORPUS.tsv] [--seconds S] [--long WORDS]
//! ```
//!
//! With `--long WORDS`, scores one review-like text of WORDS words instead
//! (the text that scripts/bench-vader uses for its long-text measurement).
//!
//! CORPUS is a fixture-format TSV (default: the parity corpus,
//! `crates/vader/tests/fixtures/vader_corpus.tsv`): the last tab-separated
//! field of each non-comment line is the escaped text.

use std::time::{Duration, Instant};

#[path = "../tests/support/corpus.rs"]
mod corpus;
use corpus::long_text;

fn main() {
    let mut path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/vader_corpus.tsv"
    )
    .to_string();
    let mut seconds = 3.0;
    let mut long: Option<usize> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--seconds S")
            }
            "--long" => {
                long = Some(
                    args.next()
                        .and_then(|s| s.parse().ok())
                        .expect("--long WORDS"),
                )
            }
            _ => path = a,
        }
    }
    let texts: Vec<String> = match long {
        Some(words) => vec![long_text(words)],
        None => {
            let data = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
            corpus::texts(&data)
        }
    };
    let bytes: usize = texts.iter().map(String::len).sum();

    let mut analyzer = vader::SentimentIntensityAnalyzer::new();
    let mut checksum = 0.0;
    // Warm-up: one pass.
    for t in &texts {
        checksum += analyzer.polarity_scores(t).compound;
    }
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut rounds = 0u32;
    while start.elapsed() < budget {
        for t in &texts {
            checksum +=
                std::hint::black_box(analyzer.polarity_scores(std::hint::black_box(t))).compound;
        }
        rounds += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let n = texts.len() as f64 * rounds as f64;
    println!(
        "vader (this crate): {} texts x {rounds} rounds in {secs:.2} s: {:.0} texts/s, {:.1} MB/s, \
         {:.0} ns/text (checksum {checksum:.4})",
        texts.len(),
        n / secs,
        bytes as f64 * rounds as f64 / secs / 1e6,
        secs / n * 1e9
    );
}
