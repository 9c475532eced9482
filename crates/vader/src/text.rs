//! Python `str` semantics that the reference relies on: `isspace` (used by
//! `split` and `strip`), `isupper`, `lower`, and `string.punctuation`; as
//! byte classes for the ASCII fast path.

/// Python whitespace (ASCII part).
pub(crate) const WS: u8 = 1;
/// In `string.punctuation`.
pub(crate) const PUNCT: u8 = 2;
/// 'A'..='Z'.
pub(crate) const UPPER: u8 = 4;
/// 'a'..='z'.
pub(crate) const LOWER: u8 = 8;
/// '\''.
pub(crate) const APOS: u8 = 16;
/// A byte of a non-ASCII character.
pub(crate) const HIGH: u8 = 32;
/// '!'.
pub(crate) const BANG: u8 = 64;
/// '?'.
pub(crate) const QM: u8 = 128;

/// The class bits of every byte.
pub(crate) static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut k = 0;
        // Python's str.isspace() on ASCII: \t \n \v \f \r, the separators
        // \x1c-\x1f, and space.
        if (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) {
            k |= WS;
        }
        // string.punctuation is exactly the 32 ASCII punctuation characters.
        if c.is_ascii_punctuation() {
            k |= PUNCT;
        }
        if c.is_ascii_uppercase() {
            k |= UPPER;
        }
        if c.is_ascii_lowercase() {
            k |= LOWER;
        }
        if c == b'\'' {
            k |= APOS;
        }
        if c == b'!' {
            k |= BANG;
        }
        if c == b'?' {
            k |= QM;
        }
        if c >= 0x80 {
            k |= HIGH;
        }
        t[b] = k;
        b += 1;
    }
    t
};

/// Length in bytes of the Python whitespace character starting at `b[i]`
/// (a non-ASCII byte), or 0. Non-ASCII whitespace for `str.isspace()`:
/// U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F,
/// U+3000 (not U+200B ZERO WIDTH SPACE, not U+180E, not U+FEFF).
#[inline(always)]
pub(crate) fn non_ascii_space_len(b: &[u8], i: usize) -> usize {
    match b[i] {
        0xC2 => match b.get(i + 1) {
            Some(0x85 | 0xA0) => 2,
            _ => 0,
        },
        0xE1 => (b.get(i + 1) == Some(&0x9A) && b.get(i + 2) == Some(&0x80)) as usize * 3,
        0xE2 => match (b.get(i + 1), b.get(i + 2)) {
            (Some(0x80), Some(0x80..=0x8A | 0xA8 | 0xA9 | 0xAF)) => 3,
            (Some(0x81), Some(0x9F)) => 3,
            _ => 0,
        },
        0xE3 => (b.get(i + 1) == Some(&0x80) && b.get(i + 2) == Some(&0x80)) as usize * 3,
        _ => 0,
    }
}

/// Unicode general category Lt (titlecase letters): Python's `isupper()` is
/// false for a string containing one. Stable since Unicode 3.0.
#[inline]
pub(crate) fn is_titlecase(c: char) -> bool {
    matches!(c as u32,
        0x1C5 | 0x1C8 | 0x1CB | 0x1F2 | 0x1F88..=0x1F8F | 0x1F98..=0x1F9F
        | 0x1FA8..=0x1FAF | 0x1FBC | 0x1FCC | 0x1FFC)
}

/// Case information gathered over a token, for Python's `str.isupper()`:
/// true when the token has at least one upper-case character and no
/// lower-case or title-case one (Unicode `Uppercase`/`Lowercase` properties,
/// which Rust's `char::is_uppercase`/`is_lowercase` implement too).
#[derive(Clone, Copy, Default)]
pub(crate) struct CaseAcc {
    pub has_upper: bool,
    pub has_lower: bool,
}

impl CaseAcc {
    #[inline]
    pub(crate) fn char(&mut self, c: char) {
        if c.is_ascii() {
            let k = CLASS[c as usize];
            self.has_upper |= k & UPPER != 0;
            self.has_lower |= k & LOWER != 0;
        } else if c.is_lowercase() || is_titlecase(c) {
            self.has_lower = true;
        } else if c.is_uppercase() {
            self.has_upper = true;
        }
    }

    #[inline]
    pub(crate) fn is_upper(self) -> bool {
        self.has_upper && !self.has_lower
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Python's `str.isspace()` for one character.
    fn py_space(c: char) -> bool {
        let mut buf = [0u8; 4];
        let s = c.encode_utf8(&mut buf).as_bytes();
        if s.len() == 1 {
            CLASS[s[0] as usize] & WS != 0
        } else {
            non_ascii_space_len(s, 0) == s.len()
        }
    }

    /// Python's `s.isupper()`.
    fn is_upper(s: &str) -> bool {
        let mut acc = CaseAcc::default();
        s.chars().for_each(|c| acc.char(c));
        acc.is_upper()
    }

    #[test]
    fn whitespace_is_pythons() {
        let py: Vec<u32> = [
            0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680,
        ]
        .into_iter()
        .chain(0x2000..=0x200a)
        .chain([0x2028, 0x2029, 0x202f, 0x205f, 0x3000])
        .collect();
        let ours: Vec<u32> = (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .filter(|&c| py_space(c))
            .map(|c| c as u32)
            .collect();
        assert_eq!(ours, py);
    }

    #[test]
    fn isupper_like_python() {
        for (s, up) in [
            ("GOOD", true),
            (":D", true),
            ("I", true),
            ("CAFÉ", true),
            ("GOOD1", true),
            ("Good", false),
            ("!!!", false),
            ("", false),
            ("ǅ", false),
            ("ǄA", true),
            ("ⒶⒷ", true),
            ("ªA", false),
            ("ΣΑΣ", true),
        ] {
            assert_eq!(is_upper(s), up, "{s:?}");
        }
    }
}
