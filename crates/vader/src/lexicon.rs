//! The embedded lexicons of vaderSentiment 3.3.2, as static tables generated
//! by `build.rs` from `data/vader_lexicon.txt` and `data/emoji_utf8_lexicon.txt`.

use crate::hash::{KeyWords, bucket, hash_words, slot};
#[cfg(test)]
use crate::hash::{MAX_KEY_LEN, key_words};

/// One key of the word table, with what the rules need to know about it.
pub(crate) struct Entry {
    /// The key as zero-padded little-endian words.
    pub key: KeyWords,
    /// Lexicon valence (0.0 when not [`IN_LEX`]).
    pub valence: f64,
    /// Key length in bytes.
    pub len: u8,
    /// [`IN_LEX`], [`NEGATION`], [`BOOST_INC`], [`BOOST_DEC`].
    pub flags: u8,
    /// A `word::*` id, or 0.
    pub word: u8,
}

include!(concat!(env!("OUT_DIR"), "/tables.rs"));

/// What the word table knows about a lower-cased token.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct WordInfo {
    /// Lexicon valence (0.0 when not [`IN_LEX`]).
    pub valence: f64,
    /// [`IN_LEX`], [`NEGATION`], [`BOOST_INC`], [`BOOST_DEC`].
    pub flags: u8,
    /// A `word::*` id, or 0.
    pub word: u8,
}

/// Looks up a lower-cased key of `len` bytes given as words: one probe of
/// the perfect hash, and a compare without branches (whether a token is a
/// lexicon word is as unpredictable as text).
#[inline(always)]
pub(crate) fn lookup(w: &KeyWords, len: usize) -> WordInfo {
    let h = hash_words(w, len);
    let s = slot(h, DISPLACEMENTS[bucket(h)], SLOT_MASK);
    let idx = SLOTS[s] as usize;
    let e = &ENTRIES[idx];
    let diff =
        (e.key[0] ^ w[0]) | (e.key[1] ^ w[1]) | (e.key[2] ^ w[2]) | (e.len as u64 ^ len as u64);
    // A miss reads the sentinel entry 0 (all zero): an index, not a branch.
    let e = &ENTRIES[idx & ((diff == 0) as usize).wrapping_neg()];
    WordInfo {
        valence: e.valence,
        flags: e.flags,
        word: e.word,
    }
}

/// Looks up a key given as a string.
#[cfg(test)]
pub(crate) fn lookup_str(key: &str) -> WordInfo {
    if key.len() > MAX_KEY_LEN {
        return WordInfo::default();
    }
    lookup(&key_words(key.as_bytes()), key.len())
}

/// One bit per code point below U+20000: set for the single code points of
/// the emoji lexicon (no key lies above U+1FFFF; build.rs checks).
static EMOJI_BITS: [u64; 0x20000 / 64] = {
    let mut bits = [0u64; 0x20000 / 64];
    let mut i = 0;
    while i < EMOJI_CPS.len() {
        let cp = EMOJI_CPS[i] as usize;
        bits[cp / 64] |= 1 << (cp % 64);
        i += 1;
    }
    bits
};

/// The description that replaces code point `c`, if `c` is a key of the emoji lexicon.
#[inline]
pub(crate) fn emoji_description(c: char) -> Option<&'static str> {
    let cp = c as u32;
    if cp >= 0x20000 || EMOJI_BITS[cp as usize / 64] & (1 << (cp % 64)) == 0 {
        return None;
    }
    let i = EMOJI_CPS.binary_search(&cp).ok()?;
    let (off, len) = EMOJI_DESCS[i];
    Some(&EMOJI_TEXT[off as usize..(off + len) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_take_the_last_line() {
        for (k, v) in [
            ("lol", 1.8),
            ("ok", 1.2),
            ("xd", 2.8),
            ("sob", -1.0),
            (":-p", 1.5),
            ("fav", 2.0),
        ] {
            assert_eq!(lookup_str(k).valence, v, "{k}");
            assert_eq!(lookup_str(k).flags & IN_LEX, IN_LEX);
        }
        assert_eq!(LEXICON_LEN, 7506);
        assert_eq!(EMOJI_LEXICON_LEN, 3570);
    }

    #[test]
    fn upper_case_keys_are_unreachable() {
        assert_eq!(lookup_str(":d").valence, 2.3);
        assert_eq!(lookup_str(":p").valence, 1.0);
        assert_eq!(lookup_str(":D").flags, 0);
        assert_eq!(lookup_str("fed up").flags, 0);
    }

    #[test]
    fn every_table_key_is_found() {
        for e in ENTRIES.iter().skip(1) {
            let bytes: Vec<u8> = e
                .key
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .take(e.len as usize)
                .collect();
            let info = lookup_str(std::str::from_utf8(&bytes).unwrap());
            let want = (e.flags, e.word, e.valence.to_bits());
            assert_eq!((info.flags, info.word, info.valence.to_bits()), want);
        }
    }

    #[test]
    fn emoji_single_code_points_only() {
        assert_eq!(emoji_description('😀'), Some("grinning face"));
        assert_eq!(emoji_description('❤'), Some("red heart"));
        assert_eq!(emoji_description('\u{fe0f}'), None);
        assert_eq!(emoji_description('a'), None);
        assert_eq!(
            EMOJI_CPS
                .iter()
                .filter(|&&c| emoji_description(char::from_u32(c).unwrap()).is_some())
                .count(),
            1212
        );
    }
}
