//! Turns the two lexicon files of vaderSentiment 3.3.2 (in `data/`) into
//! static tables (`$OUT_DIR/tables.rs`): a word table with open addressing
//! for the lexicon, boosters, negations and the handful of words the rules
//! name, and a sorted code-point table for the emoji lexicon.
//!
//! The files are parsed the way the reference parses them
//! (`make_lex_dict`, `make_emoji_dict`): split on '\n', Python `str.strip()`
//! (which also removes the CR of the CRLF files), split on '\t', and for a
//! key that appears twice the last line wins.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

#[path = "src/hash.rs"]
#[allow(dead_code)]
mod hash;

use hash::{BUCKET_BITS, MAX_KEY_LEN, bucket, hash_words, key_words, slot};

/// `NEGATE` of the reference.
const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

/// The single-token keys of the reference's `BOOSTER_DICT` that add `B_INCR`.
const BOOST_UP: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerable",
    "considerably",
    "decidedly",
    "deeply",
    "effing",
    "enormous",
    "enormously",
    "entirely",
    "especially",
    "exceptional",
    "exceptionally",
    "extreme",
    "extremely",
    "fabulously",
    "flipping",
    "flippin",
    "frackin",
    "fracking",
    "fricking",
    "frickin",
    "frigging",
    "friggin",
    "fully",
    "fuckin",
    "fucking",
    "fuggin",
    "fugging",
    "greatly",
    "hella",
    "highly",
    "hugely",
    "incredible",
    "incredibly",
    "intensely",
    "major",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "total",
    "totally",
    "tremendous",
    "tremendously",
    "uber",
    "unbelievably",
    "unusually",
    "utter",
    "utterly",
    "very",
];

/// The single-token keys of `BOOSTER_DICT` that add `B_DECR`. The two-token
/// keys ("just enough", "kind of", "sort of") can never equal a token; they
/// are matched as n-grams in `analyzer.rs`.
const BOOST_DOWN: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "kinda",
    "kindof",
    "kind-of",
    "less",
    "little",
    "marginal",
    "marginally",
    "occasional",
    "occasionally",
    "partly",
    "scarce",
    "scarcely",
    "slight",
    "slightly",
    "somewhat",
    "sorta",
    "sortof",
    "sort-of",
];

/// Words that a rule of the reference compares a token with, each given an
/// id (`word::NAME`, 1-based) so that the rules compare small integers.
const NAMED: &[&str] = &[
    "no", "or", "nor", "kind", "of", "but", "least", "at", "very", "never", "so", "this",
    "without", "doubt", "the", "shit", "bomb", "bad", "ass", "bus", "stop", "yeah", "right",
    "kiss", "death", "to", "die", "for", "beating", "heart", "just", "enough", "sort",
];

const IN_LEX: u8 = 1;
const NEGATION: u8 = 2;
const BOOST_INC: u8 = 4;
const BOOST_DEC: u8 = 8;

/// Python's `str.isspace()` (also what `str.split()` and `str.strip()` use).
fn py_space(c: char) -> bool {
    matches!(c,
        '\u{9}'..='\u{d}' | '\u{1c}'..='\u{20}' | '\u{85}' | '\u{a0}' | '\u{1680}'
        | '\u{2000}'..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}')
}

/// Python's `text.rstrip('\n').split('\n')`, each line `.strip()`-ed and split on '\t'.
fn python_lines(text: &str) -> Vec<Vec<&str>> {
    text.trim_end_matches('\n')
        .split('\n')
        .map(|line| line.trim_matches(py_space).split('\t').collect())
        .collect()
}

#[derive(Default, Clone)]
struct Entry {
    valence: Option<String>,
    flags: u8,
    word: u8,
}

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap()).join("data");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("tables.rs");
    for f in [
        "vader_lexicon.txt",
        "emoji_utf8_lexicon.txt",
        "../src/hash.rs",
    ] {
        println!("cargo::rerun-if-changed={}", dir.join(f).display());
    }
    let lexicon = std::fs::read_to_string(dir.join("vader_lexicon.txt")).unwrap();
    let emoji = std::fs::read_to_string(dir.join("emoji_utf8_lexicon.txt")).unwrap();

    // make_lex_dict: empty lines skipped, last duplicate wins.
    let mut lex: BTreeMap<String, String> = BTreeMap::new();
    let mut lex_lines = 0;
    for fields in python_lines(&lexicon) {
        if fields.len() == 1 && fields[0].is_empty() {
            continue;
        }
        let measure = fields[1];
        assert!(
            measure.parse::<f64>().is_ok()
                && measure
                    .bytes()
                    .all(|b| b == b'-' || b == b'.' || b.is_ascii_digit()),
            "unexpected measure {measure:?}"
        );
        lex.insert(fields[0].to_string(), measure.to_string());
        lex_lines += 1;
    }
    assert_eq!(
        (lex_lines, lex.len()),
        (7520, 7506),
        "not the 3.3.2 lexicon"
    );

    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    for (key, measure) in &lex {
        // A key can only match `token.lower()`: keys with upper-case letters
        // (":D", "O.o", ...) or with whitespace ("fed up") never do.
        if key.chars().any(|c| c.is_uppercase() || py_space(c)) {
            continue;
        }
        // Then only ASCII tokens (after lowering) need a lookup: see lexicon.rs.
        assert!(key.is_ascii(), "non-ASCII lower-case key {key:?}");
        assert!(key.len() <= MAX_KEY_LEN);
        let e = entries.entry(key.clone()).or_default();
        e.valence = Some(measure.clone());
        e.flags |= IN_LEX;
    }
    for (list, flag) in [
        (NEGATE, NEGATION),
        (BOOST_UP, BOOST_INC),
        (BOOST_DOWN, BOOST_DEC),
    ] {
        for w in list {
            entries.entry(w.to_string()).or_default().flags |= flag;
        }
    }
    for (i, w) in NAMED.iter().enumerate() {
        entries.entry(w.to_string()).or_default().word = (i + 1) as u8;
    }

    // A perfect hash (hash and displace): every key gets its own slot, so a
    // lookup is one probe and a branch-free compare. Entry 0 is a sentinel
    // that matches nothing; slots hold entry indices.
    let keys: Vec<(&String, &Entry)> = entries.iter().collect();
    let slots_len = (keys.len() * 2).next_power_of_two();
    let mask = slots_len - 1;
    let hashes: Vec<u64> = keys
        .iter()
        .map(|(k, _)| hash_words(&key_words(k.as_bytes()), k.len()))
        .collect();
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); 1 << BUCKET_BITS];
    for (idx, &h) in hashes.iter().enumerate() {
        buckets[bucket(h)].push(idx);
    }
    let mut order: Vec<usize> = (0..buckets.len()).collect();
    order.sort_by_key(|&b| (std::cmp::Reverse(buckets[b].len()), b));
    let mut slots = vec![0u16; slots_len];
    let mut disp = vec![0u16; buckets.len()];
    for b in order {
        if buckets[b].is_empty() {
            continue;
        }
        let d = (0..=u16::MAX)
            .find(|&d| {
                let mut taken: Vec<usize> = Vec::new();
                buckets[b].iter().all(|&idx| {
                    let s = slot(hashes[idx], d, mask);
                    let free = slots[s] == 0 && !taken.contains(&s);
                    taken.push(s);
                    free
                })
            })
            .expect("no displacement fits: change the hash");
        disp[b] = d;
        for &idx in &buckets[b] {
            slots[slot(hashes[idx], d, mask)] = (idx + 1) as u16;
        }
    }

    let mut src = String::new();
    src.push_str(
        "// @generated by build.rs from data/vader_lexicon.txt and data/emoji_utf8_lexicon.txt\n",
    );
    src.push_str("/// Ids of the words that the rules name (0: none of them).\n#[allow(dead_code)]\npub(crate) mod word {\n");
    for (i, w) in NAMED.iter().enumerate() {
        writeln!(src, "    pub const {}: u8 = {};", w.to_uppercase(), i + 1).unwrap();
    }
    src.push_str("}\n");
    writeln!(src, "pub(crate) const IN_LEX: u8 = {IN_LEX};").unwrap();
    writeln!(src, "pub(crate) const NEGATION: u8 = {NEGATION};").unwrap();
    writeln!(src, "pub(crate) const BOOST_INC: u8 = {BOOST_INC};").unwrap();
    writeln!(src, "pub(crate) const BOOST_DEC: u8 = {BOOST_DEC};").unwrap();
    writeln!(src, "pub(crate) const SLOT_MASK: usize = {mask};").unwrap();
    writeln!(
        src,
        "#[allow(dead_code)]\npub(crate) const LEXICON_LEN: usize = {};",
        lex.len()
    )
    .unwrap();

    let mut ents = String::from(
        "    Entry { key: [u64::MAX; 3], valence: 0.0, len: u8::MAX, flags: 0, word: 0 }, // miss\n",
    );
    for (key, e) in &keys {
        // Rust parses a decimal literal to the nearest double, as Python's float() does.
        let v = e.valence.as_deref().unwrap_or("0.0");
        let v = if v.contains('.') {
            v.to_string()
        } else {
            format!("{v}.0")
        };
        let w = key_words(key.as_bytes());
        writeln!(
            ents,
            "    Entry {{ key: [{:#x}, {:#x}, {:#x}], valence: {v}, len: {}, flags: {}, word: {} }}, // {key:?}",
            w[0],
            w[1],
            w[2],
            key.len(),
            e.flags,
            e.word
        )
        .unwrap();
    }
    writeln!(
        src,
        "pub(crate) static ENTRIES: [Entry; {}] = [\n{ents}];",
        keys.len() + 1
    )
    .unwrap();
    writeln!(
        src,
        "pub(crate) static DISPLACEMENTS: [u16; {}] = {disp:?};",
        disp.len()
    )
    .unwrap();
    writeln!(
        src,
        "pub(crate) static SLOTS: [u16; {slots_len}] = {slots:?};"
    )
    .unwrap();

    // make_emoji_dict: every line has a key and a description; last wins.
    let mut emojis: BTreeMap<String, String> = BTreeMap::new();
    for fields in python_lines(&emoji) {
        emojis.insert(fields[0].to_string(), fields[1].to_string());
    }
    assert_eq!(emojis.len(), 3570, "not the 3.3.2 emoji lexicon");
    // Only single code points can match: polarity_scores walks the text per code point.
    let mut cps = String::new();
    let mut descs = String::new();
    let mut text = String::new();
    let mut n = 0;
    for (k, d) in &emojis {
        let mut it = k.chars();
        let (Some(c), None) = (it.next(), it.next()) else {
            continue;
        };
        assert!(c as u32 >= 0x80 && c as u32 <= 0x1_ffff);
        writeln!(cps, "    0x{:x},", c as u32).unwrap();
        writeln!(descs, "    ({}, {}),", text.len(), d.len()).unwrap();
        text.push_str(d);
        n += 1;
    }
    assert_eq!(n, 1212);
    writeln!(
        src,
        "#[allow(dead_code)]\npub(crate) const EMOJI_LEXICON_LEN: usize = {};",
        emojis.len()
    )
    .unwrap();
    writeln!(src, "pub(crate) static EMOJI_CPS: [u32; {n}] = [\n{cps}];").unwrap();
    writeln!(
        src,
        "pub(crate) static EMOJI_DESCS: [(u32, u32); {n}] = [\n{descs}];"
    )
    .unwrap();
    writeln!(src, "pub(crate) static EMOJI_TEXT: &str = {text:?};").unwrap();
    std::fs::write(out, src).unwrap();
}
