//! Reading the parity corpus (`tests/fixtures/vader_corpus.tsv`), shared by
//! the parity test, the criterion bench and the throughput example through
//! `#[path]` modules: one escape format, one reader.

#![allow(dead_code)] // each user needs only part of it

/// Undoes make_corpus.py's `escape`; panics on an escape it never writes.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('u') => {
                assert_eq!(chars.next(), Some('{'), "bad escape in {s:?}");
                let hex: String = chars.by_ref().take_while(|&c| c != '}').collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
            }
            other => panic!("bad escape \\{other:?} in {s:?}"),
        }
    }
    out
}

/// The texts of a fixture-format TSV: the last field of each non-comment line.
pub fn texts(tsv: &str) -> Vec<String> {
    tsv.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| unescape(line.rsplit('\t').next().unwrap_or("")))
        .collect()
}

/// One review-like sentence repeated to `words` words (the long text of
/// scripts/bench-vader; the same words as scripts/vader/bench/corpus_io.py).
pub fn long_text(words: usize) -> String {
    const SENTENCE: &str = "The plot was really good and the acting was not bad , but the ending was \
        kind of disappointing and VERY slow :( although the music is great 😀 !";
    let base: Vec<&str> = SENTENCE.split(' ').collect();
    (0..words)
        .map(|i| base[i % base.len()])
        .collect::<Vec<_>>()
        .join(" ")
}
