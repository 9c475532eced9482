//! The key layout and hash shared by `build.rs` (which lays out the static
//! word table) and the lookup in `lexicon.rs`. Both sides must agree bit for
//! bit, so this file is compiled into both.

/// Longest token looked up, in bytes: keys are loaded as three
/// little-endian u64 words, zero-padded (the longest key that can match a
/// token has 19 bytes).
pub const MAX_KEY_LEN: usize = 24;

/// A key as three zero-padded little-endian words.
pub type KeyWords = [u64; 3];

/// Packs `key` (at most [`MAX_KEY_LEN`] bytes) into words.
pub fn key_words(key: &[u8]) -> KeyWords {
    let mut padded = [0u8; MAX_KEY_LEN];
    padded[..key.len()].copy_from_slice(key);
    let mut w = [0u64; 3];
    for (k, word) in w.iter_mut().enumerate() {
        *word = u64::from_le_bytes(padded[k * 8..k * 8 + 8].try_into().unwrap());
    }
    w
}

/// Hashes a key given as words (multiply-xorshift; keys are short).
#[inline(always)]
pub fn hash_words(w: &KeyWords, len: usize) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (len as u64 ^ w[0]).wrapping_mul(K);
    // Most tokens fit in one word: one multiply.
    if len > 8 {
        h = (h ^ (h >> 29) ^ w[1]).wrapping_mul(K);
        h = (h ^ (h >> 29) ^ w[2]).wrapping_mul(K);
    }
    h ^ (h >> 32)
}

/// log2 of the number of displacement buckets of the perfect hash.
pub const BUCKET_BITS: u32 = 12;

/// The displacement bucket of hash `h`.
#[inline(always)]
pub fn bucket(h: u64) -> usize {
    (h >> (64 - BUCKET_BITS)) as usize
}

/// The slot of hash `h` given its bucket's displacement `d` (hash and
/// displace: each key moves by `d` steps of its own odd stride).
#[inline(always)]
pub fn slot(h: u64, d: u16, mask: usize) -> usize {
    let step = (h >> 32) | 1;
    (h & 0xFFFF_FFFF).wrapping_add((d as u64).wrapping_mul(step)) as usize & mask
}
