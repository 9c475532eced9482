//! From text to tokens: the emoji replacement at the top of the reference's
//! `polarity_scores`, then `SentiText._words_and_emoticons` (split on Python
//! whitespace, `_strip_punc_if_word`), with each token looked up once.

use crate::hash::{KeyWords, MAX_KEY_LEN, key_words};
use crate::lexicon::{self, BOOST_DEC, BOOST_INC, IN_LEX, NEGATION, WordInfo};
use crate::text::{self, APOS, BANG, CLASS, CaseAcc, HIGH, PUNCT, QM, UPPER, WS};

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
        let lead = b[i];
        // Emoji keys are U+00A9, U+00AE, U+2000..U+3FFF and U+1F000..U+1FFFF:
        // their UTF-8 starts with C2, E2, E3 or F0.
        let width = match lead {
            0xC2 => 2,
            0xE2 | 0xE3 => 3,
            0xF0 => 4,
            0..0xC0 => {
                i += 1;
                continue;
            }
            0xC0..0xE0 => {
                i += 2;
                continue;
            }
            0xE0..0xF0 => {
                i += 3;
                continue;
            }
            _ => {
                i += 4;
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

/// Splits `text` like Python's `str.split()` and analyses each token into
/// `tokens`. Returns the number of '!' and of '?' in the text (for
/// `_amplify_ep`/`_amplify_qm`; whitespace holds neither).
pub(crate) fn tokenize(text: &str, tokens: &mut Vec<Token>) -> (usize, usize) {
    tokens.clear();
    let b = text.as_bytes();
    let n = b.len();
    let (mut bangs, mut questions) = (0, 0);
    let mut i = 0;
    loop {
        // Skip whitespace.
        while i < n {
            let c = CLASS[b[i] as usize];
            if c & WS != 0 {
                i += 1;
            } else if c & HIGH != 0 {
                let w = text::non_ascii_space_len(b, i);
                if w == 0 {
                    break;
                }
                i += w;
            } else {
                break;
            }
        }
        if i >= n {
            break;
        }
        let start = i;
        let mut acc = 0u8;
        while i < n {
            let c = CLASS[b[i] as usize];
            if c & (WS | HIGH) != 0 && (c & WS != 0 || text::non_ascii_space_len(b, i) != 0) {
                break;
            }
            acc |= c;
            i += 1;
        }
        if acc & (BANG | QM) != 0 {
            for &c in &b[start..i] {
                bangs += (c == b'!') as usize;
                questions += (c == b'?') as usize;
            }
        }
        tokens.push(analyze_token(b, start, i, acc));
    }
    (bangs, questions)
}

/// `_strip_punc_if_word` (strip `string.punctuation` from both ends, keep
/// the original if 2 code points or fewer remain), then what the rules ask
/// of the token: `token.lower()` looked up, `token.isupper()`, negation.
/// `acc` is the union of the class bits of the token's bytes.
#[inline(always)]
fn analyze_token(b: &[u8], start: usize, end: usize, acc: u8) -> Token {
    let (mut s, mut e) = (start, end);
    if acc & PUNCT != 0 {
        while s < e && CLASS[b[s] as usize] & PUNCT != 0 {
            s += 1;
        }
        while e > s && CLASS[b[e - 1] as usize] & PUNCT != 0 {
            e -= 1;
        }
        if (s, e) != (start, end) {
            // len() counts code points: count the bytes that start one.
            let chars = if acc & HIGH != 0 {
                b[s..e].iter().filter(|&&c| (c as i8) >= -0x40).count()
            } else {
                e - s
            };
            if chars <= 2 {
                (s, e) = (start, end);
            }
        }
    }
    let len = e - s;
    let (info, upper) = if acc & HIGH == 0 {
        let upper = acc & UPPER != 0 && acc & text::LOWER == 0;
        let info = if len <= MAX_KEY_LEN {
            let mut w = load_words(b, s, len);
            if acc & UPPER != 0 {
                w = w.map(text::lower_ascii_word);
            }
            lexicon::lookup(&w, len)
        } else {
            WordInfo::default()
        };
        (info, upper)
    } else {
        analyze_non_ascii(&b[s..e])
    };
    let mut flags = info.flags;
    // negated: a token negates if it is in NEGATE or contains "n't" once
    // lower-cased; 'n', '\'' and 't' only come from ASCII characters.
    if acc & APOS != 0 && flags & NEGATION == 0 && contains_nt(&b[s..e]) {
        flags |= NEGATION;
    }
    Token {
        valence: info.valence,
        flags,
        word: info.word,
        upper,
    }
}

/// The `len` bytes at `b[pos..]` as zero-padded words (`len <= MAX_KEY_LEN`).
#[inline(always)]
fn load_words(b: &[u8], pos: usize, len: usize) -> KeyWords {
    if pos + MAX_KEY_LEN > b.len() {
        return key_words(&b[pos..pos + len]);
    }
    let mut w = [0u64; 3];
    for (k, word) in w.iter_mut().enumerate() {
        let v = u64::from_le_bytes(b[pos + 8 * k..pos + 8 * k + 8].try_into().unwrap());
        let valid = len.saturating_sub(8 * k);
        *word = if valid >= 8 {
            v
        } else {
            v & ((1u64 << (valid * 8)) - 1)
        };
    }
    w
}

/// The lookup and `isupper()` of a token with non-ASCII characters. Only two
/// non-ASCII characters lower-case to something with ASCII: U+212A KELVIN
/// SIGN to 'k', and U+0130 to "i\u{307}" (which keeps a non-ASCII mark).
/// Every key is ASCII, so any other non-ASCII character means no match.
#[cold]
fn analyze_non_ascii(word: &[u8]) -> (WordInfo, bool) {
    let word = std::str::from_utf8(word).unwrap_or("");
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
    (info, case.is_upper())
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
        let (bangs, qms) = tokenize("GOOD!!! :) \u{1c}not\u{200b}bad ?? ok", &mut toks);
        assert_eq!((bangs, qms), (3, 2));
        assert_eq!(toks.len(), 5);
        assert!(toks[0].in_lex() && toks[0].upper);
        assert!(toks[1].in_lex()); // ":)" kept whole
        assert!(!toks[2].in_lex()); // "not\u{200b}bad": ZWSP does not split
        assert!(toks[4].in_lex()); // "ok"
    }

    #[test]
    fn kelvin_sign_lowers_to_k() {
        let mut toks = Vec::new();
        tokenize("\u{212A}ind \u{212A}IND", &mut toks);
        assert!(toks[0].in_lex() && !toks[0].upper);
        assert!(toks[1].in_lex() && toks[1].upper);
    }
}
