//! Main of the throwaway comparison project that scripts/bench-vader
//! generates under the cache dir (never part of the product): times this
//! repository's `vader` crate and the crates.io crate `vader_sentiment`
//! 0.1.1, single-threaded, on the same texts, in the same process.
//!
//! Usage: compare CORPUS.tsv [--seconds S] [--long WORDS,...]
//! Prints lines `IMPL corpus TEXTS SECONDS` and `IMPL long WORDS REPEATS SECONDS`,
//! then `agree TEXTS_WITH_SAME_ROUNDED_SCORES TEXTS`.
//!
//! Or: compare CORPUS.tsv --only ours|vader_sentiment --rounds N [--every K]
//! scores every K-th text N times and prints nothing: scripts/bench-vader
//! runs it under cachegrind to count instructions per text.

use std::hint::black_box;
use std::time::Instant;

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

/// Same words as corpus_io.py's long_text.
fn long_text(words: usize) -> String {
    const SENTENCE: &str = "The plot was really good and the acting was not bad , but the ending was kind of \
        disappointing and VERY slow :( although the music is great 😀 !";
    let base: Vec<&str> = SENTENCE.split(' ').collect();
    (0..words).map(|i| base[i % base.len()]).collect::<Vec<_>>().join(" ")
}

fn time_corpus(name: &str, texts: &[String], seconds: f64, mut f: impl FnMut(&str) -> f64) {
    for t in texts {
        black_box(f(t));
    }
    let start = Instant::now();
    let mut n = 0usize;
    loop {
        for t in texts {
            black_box(f(black_box(t)));
        }
        n += texts.len();
        if start.elapsed().as_secs_f64() >= seconds {
            break;
        }
    }
    println!("{name} corpus {n} {:.6}", start.elapsed().as_secs_f64());
}

fn time_long(name: &str, words: usize, mut f: impl FnMut(&str) -> f64) {
    let text = long_text(words);
    let start = Instant::now();
    let mut reps = 0;
    loop {
        black_box(f(black_box(&text)));
        reps += 1;
        let e = start.elapsed().as_secs_f64();
        if e >= 1.0 || reps >= 100_000 {
            println!("{name} long {words} {reps} {e:.6}");
            break;
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: compare CORPUS.tsv [--seconds S] [--long W,...]");
    let (mut seconds, mut long) = (5.0, String::new());
    let (mut only, mut rounds, mut every) = (None, 1usize, 1usize);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--seconds" => seconds = value().parse().expect("--seconds S"),
            "--long" => long = value(),
            "--only" => only = Some(value()),
            "--rounds" => rounds = value().parse().expect("--rounds N"),
            "--every" => every = value().parse().expect("--every K"),
            other => panic!("unknown argument {other}"),
        }
    }
    let data = std::fs::read_to_string(&path).expect("read corpus");
    let texts: Vec<String> = data
        .lines()
        .filter(|l| !l.starts_with('#'))
        .step_by(every)
        .map(|l| unescape(l.splitn(6, '\t').nth(5).unwrap_or("")))
        .collect();

    let mut ours = vader::SentimentIntensityAnalyzer::new();
    let theirs = vader_sentiment::SentimentIntensityAnalyzer::new();
    if let Some(only) = only {
        // Warm both (lazy statics, buffers), then `rounds` passes.
        black_box(ours.polarity_scores("warm up"));
        black_box(theirs.polarity_scores("warm up"));
        for _ in 0..rounds {
            for t in &texts {
                match only.as_str() {
                    "ours" => black_box(ours.polarity_scores(black_box(t)).compound),
                    "vader_sentiment" => black_box(theirs.polarity_scores(black_box(t))["compound"]),
                    other => panic!("--only ours|vader_sentiment, not {other}"),
                };
            }
        }
        return;
    }
    let longs: Vec<usize> = long.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();

    // Interleave the two so that a change in machine load hits both.
    time_corpus("vader_sentiment", &texts, seconds / 2.0, |t| theirs.polarity_scores(t)["compound"]);
    time_corpus("ours", &texts, seconds / 2.0, |t| ours.polarity_scores(t).compound);
    time_corpus("vader_sentiment", &texts, seconds / 2.0, |t| theirs.polarity_scores(t)["compound"]);
    time_corpus("ours", &texts, seconds / 2.0, |t| ours.polarity_scores(t).compound);
    for &w in &longs {
        time_long("vader_sentiment", w, |t| theirs.polarity_scores(t)["compound"]);
        time_long("ours", w, |t| ours.polarity_scores(t).compound);
    }
    // How often vader_sentiment's scores equal the reference's (= ours, by the parity test).
    let agree = texts
        .iter()
        .filter(|t| {
            let a = ours.polarity_scores(t);
            let b = theirs.polarity_scores(t);
            let r = |x: f64, p: f64| (x * p).round();
            r(a.neg, 1e3) == r(b["neg"], 1e3)
                && r(a.neu, 1e3) == r(b["neu"], 1e3)
                && r(a.pos, 1e3) == r(b["pos"], 1e3)
                && r(a.compound, 1e4) == r(b["compound"], 1e4)
        })
        .count();
    println!("agree {agree} {}", texts.len());
}
