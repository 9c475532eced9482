//! From text to tokens: the emoji replacement at the top of the reference's
//! `polarity_scores`, then `SentiText._words_and_emoticons` (split on Python
//! whitespace, `_strip_punc_if_word`), with each token looked up once.

use crate::hash::{KeyWords, MAX_KEY_LEN, key_words};
use crate::lexicon::{self, BOOST_DEC, BOOST_INC, IN_LEX, NEGATION, WordInfo};
use crate::text::{self, CLASS, CaseAcc, PUNCT, WS};

/// What the rules need to know about one token of `words_and_emoticons`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Token {
    /// Valence in the lexicon (if `flags & IN_LEX`).
    pub valence: f64,
    /// `IN_LEX`, `NEGATION` (in NEGATE or contains "n't"), `BOOST_INC`, `BOOST_DEC`.
    pub flags: u8,
    /// `word::*` id of the lower-cased token, or 0.
    pub word: u8,
    /// Python's `token.isupper()`.
    pub upper: bool,
}

impl Token {
    #[inline(always)]
    pub(crate) fn in_lex(&self) -> bool {
        self.flags & IN_LEX != 0
    }
    #[inline(always)]
    pub(crate) fn is_booster(&self) -> bool {
        self.flags & (BOOST_INC | BOOST_DEC) != 0
    }
    #[inline(always)]
    pub(crate) fn negates(&self) -> bool {
        self.flags & NEGATION != 0
    }
    #[inline(always)]
    pub(crate) fn is(&self, w: u8) -> bool {
        self.word == w
    }
}

/// Writes into `out` the text with every code point of the emoji lexicon
/// replaced by its description, as `polarity_scores` does: a space goes
/// before the description unless the previous character was U+0020 (or it
/// is the first character), none after it. Returns false, leaving `out`
/// alone, when the text has no such code point.
pub(crate) fn expand_emoji(text: &str, out: &mut String) -> bool {
    let b = text.as_bytes();
    let (mut i, mut copied, mut found) = (0, 0, false);
    // End of the last replaced emoji (the character before `i` was one).
    let mut last_end = usize::MAX;
    while i < b.len() {
        // Skip ASCII eight bytes at a time.
        if i + 8 <= b.len() {
            let high = load_u64(b, i) & HIGHS;
            if high == 0 {
                i += 8;
                continue;
            }
            i += high.trailing_zeros() as usize / 8;
        }
        let lead = b[i];
        // Emoji keys are U+00A9, U+00AE, U+2000..U+3FFF and U+1F000..U+1FFFF:
        // their UTF-8 starts with C2, E2, E3 or F0.
        let width = match lead {
            0xC2 => 2,
            0xE2 | 0xE3 => 3,
            0xF0 => 4,
            _ => {
                i += utf8_width(lead);
                continue;
            }
        };
        let c = text[i..i + width].chars().next().unwrap_or('\0');
        if let Some(desc) = lexicon::emoji_description(c) {
            if !found {
                out.clear();
                found = true;
            }
            out.push_str(&text[copied..i]);
            // polarity_scores: prev_space starts true and is true only after ' '.
            let prev_space = i == 0 || (i != last_end && b[i - 1] == b' ');
            if !prev_space {
                out.push(' ');
            }
            out.push_str(desc);
            copied = i + width;
            last_end = copied;
        }
        i += width;
    }
    if found {
        out.push_str(&text[copied..]);
    }
    found
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = ONES * 0x80;

/// Eight bytes at `b[i..]`, little-endian (`i + 8 <= b.len()`).
#[inline(always)]
fn load_u64(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().unwrap())
}

/// Length of the UTF-8 sequence that starts with `lead` (1 for ASCII and,
/// defensively, for a continuation byte).
#[inline(always)]
fn utf8_width(lead: u8) -> usize {
    match lead {
        0..0xC0 => 1,
        0xC0..0xE0 => 2,
        0xE0..0xF0 => 3,
        _ => 4,
    }
}

/// The high bit of each byte of `w` (ASCII bytes only) that lies in `lo..=hi`.
#[inline(always)]
fn bytes_in(w: u64, lo: u8, hi: u8) -> u64 {
    let ge_lo = w.wrapping_add(ONES * (0x80 - lo as u64));
    let gt_hi = w.wrapping_add(ONES * (0x7F - hi as u64));
    ge_lo & !gt_hi & HIGHS
}

/// Splits `text` like Python's `str.split()` and analyses each token into
/// `tokens`. `padded` is the text's bytes followed by at least 32 spaces.
/// Returns the number of '!' and of '?' in the text (for
/// `_amplify_ep`/`_amplify_qm`).
pub(crate) fn tokenize(text: &str, padded: &[u8], tokens: &mut Vec<Token>) -> (usize, usize) {
    tokens.clear();
    let n = text.len();
    debug_assert!(padded.len() >= n + 32 && padded[n..].iter().all(|&c| c == b' '));
    let b = padded;
    let mut i = 0;
    loop {
        // Skip whitespace.
        while i < n {
            let c = b[i];
            if c < 0x80 {
                if CLASS[c as usize] & WS == 0 {
                    break;
                }
                i += 1;
            } else {
                let w = text::non_ascii_space_len(b, i);
                if w == 0 {
                    break;
                }
                i += w;
            }
        }
        if i >= n {
            break;
        }
        let start = i;
        i = token_end(b, i);
        tokens.push(analyze_token(text, b, start, i));
    }
    count_bangs_and_questions(&b[..n])
}

/// The number of '!' and of '?' in `b`, eight bytes at a time.
fn count_bangs_and_questions(b: &[u8]) -> (usize, usize) {
    // One bit (the low bit of each byte) per byte of `w` equal to `c`.
    let eq = |w: u64, c: u8| {
        let x = w ^ (ONES * c as u64);
        // Exact per byte: the high bit is set iff the byte of x is zero.
        !(((x & !HIGHS) + !HIGHS) | x) & HIGHS
    };
    // Sums the eight byte lanes of `lanes` (each below 256).
    let sum = |lanes: u64| {
        let pairs = (lanes & 0x00FF_00FF_00FF_00FF) + ((lanes >> 8) & 0x00FF_00FF_00FF_00FF);
        (pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48) as usize
    };
    let (mut bangs, mut questions) = (0, 0);
    let mut chunks = b.chunks_exact(8);
    loop {
        // Byte lanes count up to 255 before they are summed.
        let (mut lb, mut lq) = (0u64, 0u64);
        let mut rounds = 0;
        for c in chunks.by_ref() {
            let w = u64::from_le_bytes(c.try_into().unwrap());
            lb += eq(w, b'!') >> 7;
            lq += eq(w, b'?') >> 7;
            rounds += 1;
            if rounds == 255 {
                break;
            }
        }
        bangs += sum(lb);
        questions += sum(lq);
        if rounds < 255 {
            break;
        }
    }
    for &c in chunks.remainder() {
        bangs += (c == b'!') as usize;
        questions += (c == b'?') as usize;
    }
    (bangs, questions)
}

/// The end of the token that starts at `b[i]`: the next Python whitespace
/// (the padding guarantees one within the buffer).
#[inline(always)]
fn token_end(b: &[u8], mut i: usize) -> usize {
    loop {
        // Eight bytes at a time: stop at a byte below 0x21 or a non-ASCII one
        // (the lowest flagged byte is exact).
        let w = load_u64(b, i);
        let stop = (w.wrapping_sub(ONES * 0x21) & !w & HIGHS) | (w & HIGHS);
        if stop == 0 {
            i += 8;
            continue;
        }
        i += stop.trailing_zeros() as usize / 8;
        let c = b[i];
        if c < 0x80 {
            if CLASS[c as usize] & WS != 0 {
                return i;
            }
            i += 1;
        } else {
            if text::non_ascii_space_len(b, i) != 0 {
                return i;
            }
            i += utf8_width(c);
        }
    }
}

/// `_strip_punc_if_word` (strip `string.punctuation` from both ends, keep
/// the original if 2 code points or fewer remain), then what the rules ask
/// of the token `text[start..end]`: `token.lower()` looked up,
/// `token.isupper()`, negation. `b` is the padded text.
#[inline(always)]
fn analyze_token(text: &str, b: &[u8], start: usize, end: usize) -> Token {
    let (mut s, mut e) = (start, end);
    let punct = |c: u8| CLASS[c as usize] & PUNCT != 0;
    if punct(b[s]) || punct(b[e - 1]) {
        while s < e && punct(b[s]) {
            s += 1;
        }
        while e > s && punct(b[e - 1]) {
            e -= 1;
        }
        // len() counts code points: count the bytes that start one.
        if b[s..e].iter().filter(|&&c| (c as i8) >= -0x40).count() <= 2 {
            (s, e) = (start, end);
        }
    }
    let len = e - s;
    if len > MAX_KEY_LEN {
        return analyze_general(&text[s..e]);
    }
    let w = load_words(b, s, len);
    if (w[0] | w[1] | w[2]) & HIGHS != 0 {
        return analyze_general(&text[s..e]);
    }
    // ASCII: isupper() is "some A-Z and no a-z"; lower() is A-Z to a-z.
    let (has_upper, has_lower, has_apos, key) = if len <= 8 {
        // Most tokens: one word.
        let upper = bytes_in(w[0], b'A', b'Z');
        let lower = bytes_in(w[0], b'a', b'z') != 0;
        let apos = bytes_in(w[0], b'\'', b'\'') != 0;
        (upper != 0, lower, apos, [w[0] | (upper >> 2), 0, 0])
    } else {
        let upper = w.map(|x| bytes_in(x, b'A', b'Z'));
        let lower = w.iter().any(|&x| bytes_in(x, b'a', b'z') != 0);
        let apos = w.iter().any(|&x| bytes_in(x, b'\'', b'\'') != 0);
        let key = [
            w[0] | (upper[0] >> 2),
            w[1] | (upper[1] >> 2),
            w[2] | (upper[2] >> 2),
        ];
        (upper != [0; 3], lower, apos, key)
    };
    let info = lexicon::lookup(&key, len);
    let mut flags = info.flags;
    // negated: a token negates if it is in NEGATE or contains "n't".
    if has_apos && flags & NEGATION == 0 && contains_nt(&b[s..e]) {
        flags |= NEGATION;
    }
    Token {
        valence: info.valence,
        flags,
        word: info.word,
        upper: has_upper && !has_lower,
    }
}

/// The `len` bytes at `b[pos..]` as zero-padded words (`len <= MAX_KEY_LEN`;
/// `b` holds at least `MAX_KEY_LEN` bytes from `pos`).
#[inline(always)]
fn load_words(b: &[u8], pos: usize, len: usize) -> KeyWords {
    let m = &KEY_MASKS[len];
    // One bounds check for the three words.
    let c: &[u8; MAX_KEY_LEN] = b[pos..pos + MAX_KEY_LEN].try_into().unwrap();
    let word = |k: usize| u64::from_le_bytes(c[8 * k..8 * k + 8].try_into().unwrap());
    [word(0) & m[0], word(1) & m[1], word(2) & m[2]]
}

/// For each key length, the masks that keep its bytes in the three words.
static KEY_MASKS: [KeyWords; MAX_KEY_LEN + 1] = {
    let mut t = [[0u64; 3]; MAX_KEY_LEN + 1];
    let mut len = 0;
    while len <= MAX_KEY_LEN {
        let mut k = 0;
        while k < 3 {
            let valid = len.saturating_sub(8 * k);
            t[len][k] = if valid >= 8 {
                !0
            } else {
                (1u64 << (valid * 8)) - 1
            };
            k += 1;
        }
        len += 1;
    }
    t
};

/// The lookup, `isupper()` and negation of any token (non-ASCII, or longer
/// than any key). Only two non-ASCII characters lower-case to something with
/// ASCII: U+212A KELVIN SIGN to 'k', and U+0130 to "i\u{307}" (which keeps a
/// non-ASCII mark). Every key is ASCII, so any other non-ASCII character
/// means no match.
#[cold]
fn analyze_general(word: &str) -> Token {
    let mut key = [0u8; MAX_KEY_LEN];
    let mut len = 0;
    let mut matchable = true;
    let mut case = CaseAcc::default();
    for c in word.chars() {
        case.char(c);
        let lower = match c {
            '\u{212A}' => b'k',
            c if c.is_ascii() => (c as u8).to_ascii_lowercase(),
            _ => {
                matchable = false;
                continue;
            }
        };
        if len < MAX_KEY_LEN {
            key[len] = lower;
        }
        len += 1;
    }
    let info = if matchable && len <= MAX_KEY_LEN {
        lexicon::lookup(&key_words(&key[..len]), len)
    } else {
        WordInfo::default()
    };
    let mut flags = info.flags;
    // negated: 'n', '\'' and 't' of "n't" only come from ASCII characters.
    if flags & NEGATION == 0 && contains_nt(word.as_bytes()) {
        flags |= NEGATION;
    }
    Token {
        valence: info.valence,
        flags,
        word: info.word,
        upper: case.is_upper(),
    }
}

/// Whether `w.lower()` contains "n't".
#[inline]
fn contains_nt(w: &[u8]) -> bool {
    w.windows(3)
        .any(|x| x[1] == b'\'' && (x[0] | 0x20) == b'n' && (x[2] | 0x20) == b't')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(t: &str, toks: &mut Vec<Token>) -> (usize, usize) {
        let mut padded = t.as_bytes().to_vec();
        padded.extend_from_slice(&[b' '; 32]);
        tokenize(t, &padded, toks)
    }

    fn expand(t: &str) -> String {
        let mut out = String::new();
        if expand_emoji(t, &mut out) {
            out
        } else {
            t.to_string()
        }
    }

    #[test]
    fn emoji_become_descriptions_with_a_space_before_only() {
        assert_eq!(expand("😀good"), "grinning facegood");
        assert_eq!(expand("good😀"), "good grinning face");
        assert_eq!(expand("good 😀"), "good grinning face");
        assert_eq!(expand("😀😀"), "grinning face grinning face");
        assert_eq!(expand("a\t😀"), "a\t grinning face");
        assert_eq!(expand("❤️"), "red heart\u{fe0f}");
        assert_eq!(expand("café"), "café");
    }

    #[test]
    fn tokens_follow_split_and_strip_punc_if_word() {
        let mut toks = Vec::new();
        let (bangs, qms) = tokens("GOOD!!! :) \u{1c}not\u{200b}bad ?? ok", &mut toks);
        assert_eq!((bangs, qms), (3, 2));
        assert_eq!(toks.len(), 5);
        assert!(toks[0].in_lex() && toks[0].upper);
        assert!(toks[1].in_lex()); // ":)" kept whole
        assert!(!toks[2].in_lex()); // "not\u{200b}bad": ZWSP does not split
        assert!(toks[4].in_lex()); // "ok"
    }

    #[test]
    fn bangs_and_questions_are_counted_exactly() {
        for n in [0, 1, 7, 8, 9, 255 * 8, 255 * 8 + 1, 5000] {
            let text: String = (0..n)
                .map(|i| ['!', '?', 'a', '!', ' ', 'é'][i % 6])
                .collect();
            let b = text.as_bytes();
            let want = (
                b.iter().filter(|&&c| c == b'!').count(),
                b.iter().filter(|&&c| c == b'?').count(),
            );
            assert_eq!(count_bangs_and_questions(b), want, "{n}");
        }
        assert_eq!(count_bangs_and_questions(&[b'!'; 4000]), (4000, 0));
    }

    #[test]
    fn kelvin_sign_lowers_to_k() {
        let mut toks = Vec::new();
        tokens("\u{212A}ind \u{212A}IND", &mut toks);
        assert!(toks[0].in_lex() && !toks[0].upper);
        assert!(toks[1].in_lex() && toks[1].upper);
    }
}
