//! Where every row's id comes from. Ids are the table's primary key (`bigint`):
//! two sentences with the same id are one row, so the layout below is what
//! keeps one source of sentences from overwriting another's.
//!
//! | ids | given to | layout |
//! |---|---|---|
//! | `0 ..= 8_999_999_999_999_999_999` | generated sentences (`run`, `produce`) | `seed * 10^10 + n`, seed `0..=899_999_999`, `n < 10^10` |
//! | `9 * 10^18 ..= 9_223_372_029_999_999_999` | lines of a file (`produce --from-file`) | `(900_000_000 + seed) * 10^10 + line`, seed `0..=22_337_202` |
//! | negative | plain-text Kafka messages (no id of their own) | `-1 - (topic_tag << 47 \| partition << 39 \| offset)` |
//!
//! JSON messages from other producers bring their own ids, which must be
//! non-negative (the data contract); choosing them is that producer's business.
//!
//! Every function here checks its range in release builds too: an id that
//! would leave its range is refused (`None`), never wrapped into another's.
//! With the default seed 0, generated ids fit the original stack's `int`
//! column for the first 2,147,483,648 sentences.

/// How many ids each seed owns: ids of seed `s` are `s * IDS_PER_SEED ..`.
pub const IDS_PER_SEED: u64 = 10_000_000_000;

/// The largest seed of generated sentences.
pub const MAX_SEED: u64 = 899_999_999;

/// Files use the seeds above the generator's.
const FILE_SEED_BASE: u64 = MAX_SEED + 1;

/// The largest seed of `produce --from-file`: its ids still fit an `i64`.
pub const MAX_FILE_SEED: u64 = (i64::MAX as u64 / IDS_PER_SEED) - 1 - FILE_SEED_BASE;

/// Partitions whose plain-text messages can get an id.
pub const PLAIN_TEXT_PARTITIONS: i32 = 1 << 8;

/// Offsets of a partition whose plain-text messages can get an id (2^39,
/// about 550 billion: 64 days at 100,000 messages a second).
pub const PLAIN_TEXT_OFFSETS: i64 = 1 << 39;

/// The id of the `index`-th sentence generated with `seed`; `None` when the
/// seed is out of range or has no ids left.
pub fn sentence_id(seed: u64, index: u64) -> Option<i64> {
    (seed <= MAX_SEED).then_some(())?;
    in_namespace(seed, index)
}

/// The id of line `line` (0-based) of a file sent with `seed`.
pub fn file_line_id(seed: u64, line: u64) -> Option<i64> {
    (seed <= MAX_FILE_SEED).then_some(())?;
    in_namespace(FILE_SEED_BASE + seed, line)
}

fn in_namespace(namespace: u64, index: u64) -> Option<i64> {
    (index < IDS_PER_SEED).then_some(())?;
    let id = namespace.checked_mul(IDS_PER_SEED)?.checked_add(index)?;
    i64::try_from(id).ok()
}

/// A 16-bit tag of a topic name (FNV-1a folded), mixed into plain-text ids
/// so that two topics written into one table do not overwrite each other's
/// rows. Two topics share a tag with a chance of 1 in 65,536.
pub fn topic_tag(topic: &str) -> u16 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in topic.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash ^ (hash >> 16) ^ (hash >> 32) ^ (hash >> 48)) as u16
}

/// The id of a plain-text message at `partition`/`offset` of the topic with
/// `tag`; `None` when the position is out of range.
pub fn plain_text_id(tag: u16, partition: i32, offset: i64) -> Option<i64> {
    if !(0..PLAIN_TEXT_PARTITIONS).contains(&partition)
        || !(0..PLAIN_TEXT_OFFSETS).contains(&offset)
    {
        return None;
    }
    let position = (i64::from(tag) << 47) | (i64::from(partition) << 39) | offset;
    Some(-1 - position)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_seed_times_ten_billion_plus_index() {
        assert_eq!(sentence_id(0, 0), Some(0));
        assert_eq!(sentence_id(5, 7), Some(50_000_000_007));
        assert_eq!(
            sentence_id(MAX_SEED, IDS_PER_SEED - 1),
            Some(8_999_999_999_999_999_999)
        );
    }

    #[test]
    fn no_id_leaves_its_range() {
        // The next seed's first id is never reached from this seed.
        assert_eq!(sentence_id(3, IDS_PER_SEED), None);
        assert_eq!(sentence_id(MAX_SEED + 1, 0), None);
        assert_eq!(file_line_id(0, IDS_PER_SEED), None);
        assert_eq!(file_line_id(MAX_FILE_SEED + 1, 0), None);
        assert_eq!(sentence_id(u64::MAX, u64::MAX), None);
    }

    #[test]
    fn file_ids_have_a_range_of_their_own() {
        let first = file_line_id(0, 0).unwrap();
        assert_eq!(first, 9_000_000_000_000_000_000);
        assert!(first > sentence_id(MAX_SEED, IDS_PER_SEED - 1).unwrap());
        let last = file_line_id(MAX_FILE_SEED, IDS_PER_SEED - 1).unwrap();
        assert_eq!(MAX_FILE_SEED, 22_337_202);
        assert_eq!(last, 9_223_372_029_999_999_999);
    }

    #[test]
    fn plain_text_ids_are_negative_and_depend_on_topic_and_position() {
        let tag = topic_tag("sentences");
        let a = plain_text_id(tag, 0, 0).unwrap();
        assert!(a < 0);
        assert_ne!(a, plain_text_id(tag, 1, 0).unwrap());
        assert_ne!(a, plain_text_id(tag, 0, 1).unwrap());
        assert_ne!(a, plain_text_id(topic_tag("other"), 0, 0).unwrap());
        assert_eq!(topic_tag("sentences"), tag, "stable across calls");
        // The extremes stay negative and distinct.
        let last = plain_text_id(u16::MAX, PLAIN_TEXT_PARTITIONS - 1, PLAIN_TEXT_OFFSETS - 1);
        assert_eq!(last, Some(i64::MIN));
        assert_eq!(plain_text_id(0, 0, 0), Some(-1));
        assert_eq!(plain_text_id(tag, PLAIN_TEXT_PARTITIONS, 0), None);
        assert_eq!(plain_text_id(tag, 0, PLAIN_TEXT_OFFSETS), None);
        assert_eq!(plain_text_id(tag, -1, 0), None);
    }
}
