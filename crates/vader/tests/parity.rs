//! Exact parity with the reference, vaderSentiment 3.3.2, on every row of
//! `fixtures/vader_corpus.tsv` (built and scored by `scripts/vader/regenerate`;
//! `scripts/vader/check-fixtures` proves the file is what the script makes).
//!
//! For a bigger differential run, point `VADER_FIXTURES` at another corpus:
//! `python scripts/vader/make_corpus.py --seed 7 --scale 10 --out /tmp/c.tsv`
//! (in the venv of scripts/vader/venv.sh), then
//! `VADER_FIXTURES=/tmp/c.tsv cargo test -p vader --release --test parity`.

use std::fmt::Write as _;

use vader::{Scores, SentimentIntensityAnalyzer};

#[path = "support/corpus.rs"]
mod corpus;
use corpus::unescape;

const FIXTURES: &str = include_str!("fixtures/vader_corpus.tsv");

struct Row<'a> {
    line: usize,
    category: &'a str,
    want: Scores,
    text: String,
}

fn rows() -> Vec<Row<'static>> {
    let fixtures: &'static str = match std::env::var_os("VADER_FIXTURES") {
        Some(path) => std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("VADER_FIXTURES={path:?}: {e}"))
            .leak(),
        None => FIXTURES,
    };
    fixtures
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#'))
        .map(|(i, l)| {
            let f: Vec<&str> = l.splitn(6, '\t').collect();
            assert_eq!(f.len(), 6, "line {}: {l:?}", i + 1);
            let num = |s: &str| -> f64 {
                s.parse()
                    .unwrap_or_else(|_| panic!("line {}: bad number {s:?}", i + 1))
            };
            Row {
                line: i + 1,
                category: f[0],
                want: Scores {
                    neg: num(f[1]),
                    neu: num(f[2]),
                    pos: num(f[3]),
                    compound: num(f[4]),
                },
                text: unescape(f[5]),
            }
        })
        .collect()
}

/// Bit equality, so that 0.0 and -0.0 differ as they do in the reference's output.
fn same(a: Scores, b: Scores) -> bool {
    [
        (a.neg, b.neg),
        (a.neu, b.neu),
        (a.pos, b.pos),
        (a.compound, b.compound),
    ]
    .iter()
    .all(|(x, y)| x.to_bits() == y.to_bits())
}

fn check(name: &str, mut score: impl FnMut(&str) -> Scores) {
    let rows = rows();
    assert!(
        rows.len() >= 10_000,
        "the corpus has only {} rows",
        rows.len()
    );
    let mut failures = Vec::new();
    for row in &rows {
        let got = score(&row.text);
        if !same(got, row.want) {
            failures.push((row, got));
        }
    }
    if failures.is_empty() {
        return;
    }
    let mut msg = format!(
        "{name}: {} of {} fixture rows differ from vaderSentiment 3.3.2\n",
        failures.len(),
        rows.len()
    );
    for (row, got) in failures.iter().take(20) {
        let text: String = row.text.chars().take(160).collect();
        writeln!(
            msg,
            "\nline {} [{}] {:?}\n  want neg={:?} neu={:?} pos={:?} compound={:?}\n  got  neg={:?} neu={:?} pos={:?} compound={:?}",
            row.line,
            row.category,
            text,
            row.want.neg,
            row.want.neu,
            row.want.pos,
            row.want.compound,
            got.neg,
            got.neu,
            got.pos,
            got.compound
        )
        .unwrap();
    }
    panic!("{msg}");
}

#[test]
fn every_fixture_row_matches_the_reference_with_a_reused_analyzer() {
    let mut analyzer = SentimentIntensityAnalyzer::new();
    check("reused analyzer", |t| analyzer.polarity_scores(t));
}

#[test]
fn every_fixture_row_matches_the_reference_with_the_free_function() {
    // Longest texts first, so that every later text runs on dirty, oversized buffers.
    let mut texts: Vec<(usize, String)> =
        rows().into_iter().map(|r| (r.text.len(), r.text)).collect();
    texts.sort_by_key(|t| std::cmp::Reverse(t.0));
    for (_, t) in texts.iter().take(50) {
        vader::polarity_scores(t);
    }
    check("free function", vader::polarity_scores);
}

#[test]
fn the_corpus_covers_every_category() {
    let rows = rows();
    for c in [
        "lexicon",
        "emoji",
        "review",
        "tweet",
        "news",
        "rules-distance",
        "rules-but",
        "rules-idioms",
        "rules-least",
        "rules-no",
        "rules-kindof",
        "caps",
        "punct",
        "edge",
        "unicode",
        "whitespace",
        "long",
        "fuzz",
        "sum",
        "chars",
        "rules-nt",
        "rules-caps",
        "rules-but-quirk",
        "rules-pairs",
        "unicode-words",
        "lexicon-bare",
    ] {
        assert!(rows.iter().any(|r| r.category == c), "no {c} rows");
    }
    assert!(rows.iter().any(|r| r.text.is_empty()));
    // Every key of both lexicon files is a text on its own.
    let texts: std::collections::HashSet<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    for file in [
        include_str!("../data/vader_lexicon.txt"),
        include_str!("../data/emoji_utf8_lexicon.txt"),
    ] {
        for line in file.lines() {
            let key = line.split('\t').next().unwrap().trim();
            assert!(texts.contains(key), "no text is the lexicon key {key:?}");
        }
    }
    assert!(
        rows.iter()
            .any(|r| r.text.split_whitespace().count() >= 300)
    );
    assert!(
        rows.iter()
            .any(|r| r.want.compound.to_bits() == (-0.0f64).to_bits())
    );
}
