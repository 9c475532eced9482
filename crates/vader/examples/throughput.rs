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

/// Same words as scripts/vader/bench/corpus_io.py's long_text.
fn long_text(words: usize) -> String {
    const SENTENCE: &str = "The plot was really good and the acting was not bad , but the ending was \
        kind of disappointing and VERY slow :( although the music is great 😀 !";
    let base: Vec<&str> = SENTENCE.split(' ').collect();
    (0..words)
        .map(|i| base[i % base.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

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
            data.lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| unescape(l.rsplit('\t').next().unwrap_or("")))
                .collect()
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
