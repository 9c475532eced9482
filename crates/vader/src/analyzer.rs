//! The scorer: a single pass over the text per stage, with every rule of
//! `SentimentIntensityAnalyzer.polarity_scores` (vaderSentiment 3.3.2)
//! applied in the reference's order and with the reference's floating-point
//! operations, so that results are bit-identical before rounding.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use crate::Scores;
use crate::lexicon::{BOOST_INC, word};
use crate::round::{round3, round4};
use crate::tokens::{Token, expand_emoji, tokenize};

/// Booster increment (`B_INCR`); dampeners use its negation (`B_DECR`).
const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
/// ALL-CAPS emphasis (`C_INCR`).
const C_INCR: f64 = 0.733;
/// Negation factor (`N_SCALAR`).
const N_SCALAR: f64 = -0.74;

/// Two-token keys of the reference's `SPECIAL_CASES`, by word id.
const SPECIAL_2: [(u8, u8, f64); 6] = [
    (word::THE, word::SHIT, 3.0),
    (word::THE, word::BOMB, 3.0),
    (word::BAD, word::ASS, 1.5),
    (word::BUS, word::STOP, 0.0),
    (word::YEAH, word::RIGHT, -2.0),
    (word::BEATING, word::HEART, 3.5),
];
/// Three-token keys of `SPECIAL_CASES` ("badass" has one token and is never
/// looked up: the reference only looks up space-joined n-grams).
const SPECIAL_3: [(u8, u8, u8, f64); 2] = [
    (word::KISS, word::OF, word::DEATH, -1.5),
    (word::TO, word::DIE, word::FOR, 3.0),
];
/// Two-token keys of `BOOSTER_DICT`, all `B_DECR`.
const BOOSTER_2: [(u8, u8); 3] = [
    (word::KIND, word::OF),
    (word::SORT, word::OF),
    (word::JUST, word::ENOUGH),
];

/// A reusable VADER analyzer: `polarity_scores` keeps its scratch buffers
/// between calls, so scoring allocates nothing once they have grown to the
/// longest text seen.
///
/// ```
/// let mut analyzer = vader::SentimentIntensityAnalyzer::new();
/// let s = analyzer.polarity_scores("VADER is smart, handsome, and funny!");
/// assert_eq!((s.neg, s.neu, s.pos, s.compound), (0.0, 0.248, 0.752, 0.8439));
/// ```
#[derive(Default)]
pub struct SentimentIntensityAnalyzer {
    /// The text with emoji replaced by their descriptions (only when it has one).
    expanded: String,
    /// The text's bytes followed by [`PADDING`] spaces, so that the tokenizer
    /// reads whole words without bounds checks.
    padded: Vec<u8>,
    tokens: Vec<Token>,
    /// Positions of the lexicon tokens (the only ones with a sentiment).
    lex: Vec<u32>,
    /// The sentiments of the lexicon tokens, in order: every other token's is 0.
    sentiments: Vec<f64>,
    but: ButScratch,
}

impl std::fmt::Debug for SentimentIntensityAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentimentIntensityAnalyzer")
            .finish_non_exhaustive()
    }
}

impl SentimentIntensityAnalyzer {
    /// A new analyzer. Cheap: the lexicons are static tables.
    pub fn new() -> Self {
        Self::default()
    }

    /// Scores `text` exactly like vaderSentiment 3.3.2's
    /// `SentimentIntensityAnalyzer().polarity_scores(text)`, rounded the same
    /// way (neg/neu/pos to 3 decimals, compound to 4).
    pub fn polarity_scores(&mut self, text: &str) -> Scores {
        // polarity_scores: emoji code points become their descriptions.
        let text = if !text.is_ascii() && expand_emoji(text, &mut self.expanded) {
            self.expanded.as_str()
        } else {
            text
        };
        self.padded.clear();
        self.padded.extend_from_slice(text.as_bytes());
        self.padded.extend_from_slice(&[b' '; PADDING]);
        // SentiText: split, strip punctuation, look up each token once.
        let (bangs, questions) = tokenize(text, &self.padded, &mut self.tokens);
        let tokens = &self.tokens[..];
        let n = tokens.len();
        if n == 0 {
            // score_valence: no sentiments at all gives 0/0/0/0 (neu 0.0, not 1.0).
            return Scores::default();
        }
        // One pass: ALL-CAPS count, the first "but", the lexicon tokens
        // (gathered without a branch: which tokens are words of the lexicon
        // is as unpredictable as the text).
        let (mut upper, mut m, mut first_but) = (0, 0, usize::MAX);
        self.lex.clear();
        self.lex.resize(n, 0);
        for (i, t) in tokens.iter().enumerate() {
            upper += t.upper as usize;
            self.lex[m] = i as u32;
            m += t.in_lex() as usize;
            if t.is(word::BUT) && first_but == usize::MAX {
                first_but = i;
            }
        }
        let lex = &self.lex[..m];
        // allcap_differential: some but not all tokens are ALL CAPS.
        let is_cap_diff = upper > 0 && upper < n;

        // Every token that is not a lexicon word has sentiment 0
        // (sentiment_valence), so only lexicon tokens are scored.
        let sentiments = &mut self.sentiments;
        sentiments.clear();
        sentiments.extend(
            lex.iter()
                .map(|&i| valence_at(tokens, i as usize, is_cap_diff)),
        );
        if first_but != usize::MAX {
            but_check(sentiments, lex, first_but, &mut self.but);
        }
        score_valence(sentiments, n, bangs, questions)
    }
}

/// Spaces after the text in the tokenizer's buffer (at least the 24 bytes
/// of a key and the 8 of a word).
const PADDING: usize = 32;

/// The sentiment of lexicon token `i`: the main loop of `polarity_scores`,
/// then `sentiment_valence`.
#[inline]
fn valence_at(t: &[Token], i: usize, is_cap_diff: bool) -> f64 {
    let item = &t[i];
    let n = t.len();
    // polarity_scores: boosters, and "kind" before "of", are neutral.
    if item.is_booster() || (i + 1 < n && item.is(word::KIND) && t[i + 1].is(word::OF)) {
        return 0.0;
    }
    if !item.in_lex() {
        return 0.0;
    }
    let mut valence = item.valence;
    // sentiment_valence: "no" before a lexicon word is not itself negative.
    if item.is(word::NO) && i != n - 1 && t[i + 1].in_lex() {
        valence = 0.0;
    }
    // sentiment_valence: "no" 1 or 2 before (or 3 before, with "or"/"nor" right
    // before) resets the valence to lexicon * N_SCALAR, undoing the line above.
    if (i > 0 && t[i - 1].is(word::NO))
        || (i > 1 && t[i - 2].is(word::NO))
        || (i > 2 && t[i - 3].is(word::NO) && (t[i - 1].is(word::OR) || t[i - 1].is(word::NOR)))
    {
        valence = item.valence * N_SCALAR;
    }
    // sentiment_valence: ALL CAPS among mixed case; a zero valence goes down (`else`).
    if item.upper && is_cap_diff {
        if valence > 0.0 {
            valence += C_INCR;
        } else {
            valence -= C_INCR;
        }
    }
    for start_i in 0..3 {
        // sentiment_valence: only preceding tokens that are not lexicon words count.
        if i > start_i && !t[i - (start_i + 1)].in_lex() {
            let mut s = scalar_inc_dec(&t[i - (start_i + 1)], valence, is_cap_diff);
            if start_i == 1 && s != 0.0 {
                s *= 0.95;
            }
            if start_i == 2 && s != 0.0 {
                s *= 0.9;
            }
            valence += s;
            valence = negation_check(valence, t, start_i, i);
            if start_i == 2 {
                valence = special_idioms_check(valence, t, i);
            }
        }
    }
    least_check(valence, t, i)
}

/// The `BOOSTER_DICT` value of a single-token booster (0 for other tokens).
#[inline(always)]
fn booster(t: &Token) -> f64 {
    if !t.is_booster() {
        0.0
    } else if t.flags & BOOST_INC != 0 {
        B_INCR
    } else {
        B_DECR
    }
}

/// Whether the token is "so" or "this" (`_negation_check`).
#[inline(always)]
fn so_or_this(t: &Token) -> bool {
    t.is(word::SO) || t.is(word::THIS)
}

/// `scalar_inc_dec`: the booster's sign follows `valence < 0`, but its caps
/// emphasis follows `valence > 0`, so a zero valence gets +0.293 - 0.733.
#[inline]
fn scalar_inc_dec(w: &Token, valence: f64, is_cap_diff: bool) -> f64 {
    let mut scalar = booster(w);
    if scalar != 0.0 {
        if valence < 0.0 {
            scalar *= -1.0;
        }
        if w.upper && is_cap_diff {
            if valence > 0.0 {
                scalar += C_INCR;
            } else {
                scalar -= C_INCR;
            }
        }
    }
    scalar
}

/// `_negation_check` for the token `start_i + 1` before `i`.
#[inline]
fn negation_check(valence: f64, t: &[Token], start_i: usize, i: usize) -> f64 {
    let negates = |k: usize| t[k].negates();
    match start_i {
        0 => {
            if negates(i - 1) {
                return valence * N_SCALAR;
            }
        }
        1 => {
            if t[i - 2].is(word::NEVER) && so_or_this(&t[i - 1]) {
                return valence * 1.25;
            } else if t[i - 2].is(word::WITHOUT) && t[i - 1].is(word::DOUBT) {
                return valence;
            } else if negates(i - 2) {
                return valence * N_SCALAR;
            }
        }
        _ => {
            // _negation_check: `a and b or c` parses as `(a and b) or c`, so "so"
            // or "this" right before the word gives x1.25 even without "never".
            if (t[i - 3].is(word::NEVER) && so_or_this(&t[i - 2])) || so_or_this(&t[i - 1]) {
                return valence * 1.25;
            } else if t[i - 3].is(word::WITHOUT)
                && (t[i - 2].is(word::DOUBT) || t[i - 1].is(word::DOUBT))
            {
                return valence;
            } else if negates(i - 3) {
                return valence * N_SCALAR;
            }
        }
    }
    valence
}

/// `_special_idioms_check`, reached only with i >= 3 and a non-lexicon token
/// at i-3 (the `start_i == 2` iteration of `sentiment_valence`).
#[inline]
fn special_idioms_check(mut valence: f64, t: &[Token], i: usize) -> f64 {
    let w = |k: usize| t[k].word;
    let pair = |a: u8, b: u8| {
        if a == 0 || b == 0 {
            return None;
        }
        SPECIAL_2.iter().find(|s| s.0 == a && s.1 == b).map(|s| s.2)
    };
    let triple = |a: u8, b: u8, c: u8| {
        if a == 0 || b == 0 || c == 0 {
            return None;
        }
        SPECIAL_3
            .iter()
            .find(|s| s.0 == a && s.1 == b && s.2 == c)
            .map(|s| s.3)
    };
    // _special_idioms_check: the first of onezero, twoonezero, twoone,
    // threetwoone, threetwo found in SPECIAL_CASES replaces the valence.
    if let Some(v) = pair(w(i - 1), w(i))
        .or_else(|| triple(w(i - 2), w(i - 1), w(i)))
        .or_else(|| pair(w(i - 2), w(i - 1)))
        .or_else(|| triple(w(i - 3), w(i - 2), w(i - 1)))
        .or_else(|| pair(w(i - 3), w(i - 2)))
    {
        valence = v;
    }
    // _special_idioms_check: then zeroone and zeroonetwo override it.
    let zeroone = if t.len() - 1 > i {
        pair(w(i), w(i + 1))
    } else {
        None
    };
    let zeroonetwo = if t.len() - 1 > i + 1 {
        triple(w(i), w(i + 1), w(i + 2))
    } else {
        None
    };
    if let Some(v) = zeroone {
        valence = v;
    }
    if let Some(v) = zeroonetwo {
        valence = v;
    }
    // _special_idioms_check: bigram dampeners ("kind of", ...) as threetwo and
    // twoone (the threetwoone trigram can never equal a two-word key).
    for (a, b) in [(w(i - 3), w(i - 2)), (w(i - 2), w(i - 1))] {
        if BOOSTER_2.iter().any(|&(x, y)| x == a && y == b) {
            valence += B_DECR;
        }
    }
    valence
}

/// `_least_check`: "least" right before negates, unless "at least"/"very least".
#[inline]
fn least_check(valence: f64, t: &[Token], i: usize) -> f64 {
    if i > 1 && !t[i - 1].in_lex() && t[i - 1].is(word::LEAST) {
        if !t[i - 2].is(word::AT) && !t[i - 2].is(word::VERY) {
            return valence * N_SCALAR;
        }
    } else if i > 0 && !t[i - 1].in_lex() && t[i - 1].is(word::LEAST) {
        return valence * N_SCALAR;
    }
    valence
}

/// Scratch space for [`but_check`] on texts with many sentiments.
#[derive(Default)]
struct ButScratch {
    /// Sentiment value (bits) to class index.
    classes: HashMap<u64, u32, BuildHasherDefault<BitsHasher>>,
    /// Per class, the positions currently holding that value (min-heap).
    heaps: Vec<BinaryHeap<Reverse<u32>>>,
    used: usize,
}

/// Hasher for f64 bit patterns (one `write_u64` per key).
#[derive(Default)]
struct BitsHasher(u64);

impl Hasher for BitsHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (v ^ (v >> 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Below this many nonzero sentiments, [`but_check`] simulates the reference
/// literally; above, it uses per-value heaps to stay O(n log n).
const BUT_LITERAL_MAX: usize = 48;

/// `_but_check`: with a "but" (the first one, at token `bi`), sentiments
/// before it are x0.5 and after it x1.5. The reference loops over the list
/// while rewriting it and finds each position with `sentiments.index(value)`,
/// so a value equal to an earlier one (possibly already rescaled) rescales
/// that earlier position instead. Zeros stay zero whatever happens, so only
/// the lexicon tokens' sentiments `s` (at token positions `pos`) matter; the
/// "but" token is not one of them.
fn but_check(s: &mut [f64], pos: &[u32], bi: usize, scratch: &mut ButScratch) {
    if s.len() <= BUT_LITERAL_MAX {
        but_check_literal(s, pos, bi);
    } else {
        but_check_heaps(s, pos, bi, scratch);
    }
}

/// The reference's loop, verbatim in effect (quadratic: for short texts).
fn but_check_literal(s: &mut [f64], pos: &[u32], bi: usize) {
    for j in 0..s.len() {
        let v = s[j];
        if v == 0.0 {
            continue;
        }
        // `sentiments.index(sentiment)`: the first equal value, at or before j.
        let si = s[..=j].iter().position(|&x| x == v).unwrap_or(j);
        if (pos[si] as usize) < bi {
            s[si] = v * 0.5;
        } else if pos[si] as usize > bi {
            s[si] = v * 1.5;
        }
    }
}

/// The same result in O(n log n): for each distinct value, a min-heap of the
/// indices (up to j) that currently hold it. Index j is unmodified when
/// reached, the first index of its value is the heap's minimum, and a
/// rescaled index moves to the heap of its new value.
fn but_check_heaps(s: &mut [f64], pos: &[u32], bi: usize, scratch: &mut ButScratch) {
    scratch.classes.clear();
    scratch.used = 0;
    let key = |v: f64| v.to_bits(); // values here are nonzero and never NaN
    let class = |scratch: &mut ButScratch, v: f64| -> usize {
        let next = scratch.used as u32;
        let c = *scratch.classes.entry(key(v)).or_insert(next) as usize;
        if c == scratch.used {
            if scratch.heaps.len() == c {
                scratch.heaps.push(BinaryHeap::new());
            }
            scratch.heaps[c].clear();
            scratch.used += 1;
        }
        c
    };
    for j in 0..s.len() {
        let v = s[j];
        if v == 0.0 {
            continue;
        }
        let c = class(scratch, v);
        scratch.heaps[c].push(Reverse(j as u32));
        let Reverse(si) = scratch.heaps[c].pop().expect("j was just pushed");
        let si = si as usize;
        let nv = if (pos[si] as usize) < bi {
            v * 0.5
        } else {
            v * 1.5
        };
        s[si] = nv;
        let c2 = class(scratch, nv);
        scratch.heaps[c2].push(Reverse(si as u32));
    }
}

/// `score_valence` and `_sift_sentiment_scores`, over the sentiments of the
/// lexicon tokens (`n` tokens in all: the others count as neutral), with the
/// reference's operation order: a plain left-to-right sum, as CPython 3.11's
/// `sum()` (skipping zeros changes no bit: the sum is never -0.0).
fn score_valence(sentiments: &[f64], n: usize, bangs: usize, questions: usize) -> Scores {
    let (mut sum_s, mut pos_sum, mut neg_sum, mut nonzero) = (0.0, 0.0, 0.0, 0usize);
    for &v in sentiments {
        sum_s += v;
        // Without branches: adding 0.0 leaves these sums as they are.
        pos_sum += if v > 0.0 { v + 1.0 } else { 0.0 };
        neg_sum += if v < 0.0 { v - 1.0 } else { 0.0 };
        nonzero += (v != 0.0) as usize;
    }
    let neu_count = n - nonzero;
    // _punctuation_emphasis: up to 4 '!' at 0.292 each; '?' counts from 2.
    let ep_amplifier = bangs.min(4) as f64 * 0.292;
    let qm_amplifier = if questions > 1 {
        if questions <= 3 {
            questions as f64 * 0.18
        } else {
            0.96
        }
    } else {
        0.0
    };
    let punct = ep_amplifier + qm_amplifier;
    // score_valence: emphasis is added away from zero, and not to a zero sum.
    if sum_s > 0.0 {
        sum_s += punct;
    } else if sum_s < 0.0 {
        sum_s -= punct;
    }
    // normalize (alpha = 15), clamped to [-1, 1].
    let compound = (sum_s / (sum_s * sum_s + 15.0).sqrt()).clamp(-1.0, 1.0);

    // score_valence: the emphasis goes to the larger side, to neither on a tie.
    if pos_sum > neg_sum.abs() {
        pos_sum += punct;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= punct;
    }
    let total = pos_sum + neg_sum.abs() + neu_count as f64;
    Scores {
        neg: round3((neg_sum / total).abs()),
        neu: round3((neu_count as f64 / total).abs()),
        pos: round3((pos_sum / total).abs()),
        compound: round4(compound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic generator for the property test.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    #[test]
    fn but_check_heaps_equals_the_literal_loop() {
        let mut rng = Lcg(7);
        let mut scratch = ButScratch::default();
        let palette = [
            0.0, 0.0, 1.9, -1.9, 0.95, 3.8, 2.85, -0.95, 1.425, 0.475, 2.1375, -2.5, 1.2,
        ];
        for _ in 0..20_000 {
            let n = 1 + (rng.next() % 40) as usize;
            let v: Vec<f64> = (0..n)
                .map(|_| palette[(rng.next() % palette.len() as u64) as usize])
                .collect();
            let bi = (rng.next() % n as u64) as usize;
            let mut v = v;
            v[bi] = 0.0;
            let pos: Vec<u32> = (0..n as u32).collect();
            let mut a = v.clone();
            let mut b = v.clone();
            but_check_literal(&mut a, &pos, bi);
            but_check_heaps(&mut b, &pos, bi, &mut scratch);
            assert_eq!(
                a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                b.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                "{v:?} bi={bi}"
            );
        }
    }

    #[test]
    fn but_rescales_the_first_equal_value() {
        // [1.9, 0.95, but, 1.9]: 1.9 becomes 0.95 at 0, so the 0.95 at 1
        // finds position 0 first and halves it again, and stays unscaled.
        let mut s = [1.9, 0.95, 0.0, 1.9];
        but_check_literal(&mut s, &[0, 1, 2, 3], 2);
        assert_eq!(s, [1.9 * 0.5 * 0.5, 0.95, 0.0, 1.9 * 1.5]);
    }
}
