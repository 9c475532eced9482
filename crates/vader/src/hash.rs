//! The key hash shared by `build.rs` (which lays out the static word table)
//! and the lookup in `lexicon.rs`. Both sides must agree bit for bit, so this
//! file is compiled into both.

/// Longest key that can ever match a token, in bytes (the longest lower-case
/// single-token key of `vader_lexicon.txt` has 19 bytes).
pub const MAX_KEY_LEN: usize = 24;

/// Hashes `key` (at most [`MAX_KEY_LEN`] bytes, zero-padded to whole 8-byte
/// words in `padded`). Multiplicative, word at a time: keys are short.
#[inline(always)]
pub fn hash_padded(padded: &[u8; MAX_KEY_LEN], len: usize) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (len as u64).wrapping_mul(K);
    let words = len.div_ceil(8);
    let mut i = 0;
    while i < words {
        let mut w = [0u8; 8];
        w.copy_from_slice(&padded[i * 8..i * 8 + 8]);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K);
        h ^= h >> 29;
        i += 1;
    }
    h.wrapping_mul(K)
}
