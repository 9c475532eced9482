//! What the dashboard reads from a store: plain data, no I/O. The SQLite
//! sink and the Cassandra folder fill these in their own read paths
//! (`sqlite::DashboardReader`, `cassandra::Dashboard`); `web/` renders them.

/// Width of the compound-score histogram buckets: 0.1, from -1 to 1.
pub const COMPOUND_BUCKETS: usize = 21;

/// The histogram bucket of a compound score: 0 for -1.0 .. -0.9, 10 for 0.0 .. 0.1,
/// 20 for exactly 1.0.
pub fn compound_bucket(compound: f64) -> usize {
    let bucket = ((compound + 1.0) * 10.0).floor();
    if bucket.is_nan() {
        return 10;
    }
    bucket.clamp(0.0, (COMPOUND_BUCKETS - 1) as f64) as usize
}

/// The minute (epoch milliseconds, floored) a timestamp falls in.
pub fn minute_of(epoch_ms: i64) -> i64 {
    epoch_ms.div_euclid(60_000) * 60_000
}

/// Rows of one minute, by label and compound bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MinuteMix {
    /// The minute's start, epoch milliseconds.
    pub minute_ms: i64,
    pub positive: u64,
    pub negative: u64,
    pub neutral: u64,
    /// Rows per compound bucket ([`compound_bucket`]).
    pub compound: Vec<u64>,
}

impl MinuteMix {
    pub fn new(minute_ms: i64) -> MinuteMix {
        MinuteMix {
            minute_ms,
            compound: vec![0; COMPOUND_BUCKETS],
            ..MinuteMix::default()
        }
    }

    /// Adds `count` rows of `label` in `bucket`.
    pub fn add(&mut self, label: &str, bucket: usize, count: u64) {
        match label {
            "positive" => self.positive += count,
            "negative" => self.negative += count,
            _ => self.neutral += count,
        }
        if let Some(slot) = self.compound.get_mut(bucket.min(COMPOUND_BUCKETS - 1)) {
            *slot += count;
        }
    }

    pub fn total(&self) -> u64 {
        self.positive + self.negative + self.neutral
    }
}

/// One stored row, as the "latest rows" table shows it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RowView {
    pub id: i64,
    /// The sentence as stored (user input: escape it before showing it).
    pub sentence: Option<String>,
    pub label: String,
    pub compound: Option<f64>,
    pub produced_at_ms: Option<i64>,
}

/// One dead letter, as the dashboard shows it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DeadLetterView {
    /// When it was recorded (SQLite) or appended to the topic (Kafka), epoch ms.
    pub at_ms: Option<i64>,
    /// The fixed reason code (`invalid_json`, ...), when recorded.
    pub code: Option<String>,
    /// The reason, for people.
    pub reason: String,
    /// `decode` or `write`.
    pub stage: Option<String>,
    /// Where it came from: `topic/partition@offset`, when known.
    pub origin: Option<String>,
    /// The start of the original value, lossily decoded (user input: escape it).
    pub value_preview: String,
}

/// Dead letters in a store: how many, by code, and the latest ones.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct DeadLettersView {
    pub total: u64,
    /// Count per reason code, when the store knows it (SQLite).
    pub by_code: Vec<(String, u64)>,
    pub latest: Vec<DeadLetterView>,
}

/// Preview length of a dead letter's value, in bytes.
pub const PREVIEW_BYTES: usize = 160;

/// The first [`PREVIEW_BYTES`] of `value`, as text.
pub fn preview(value: &[u8]) -> String {
    let cut = &value[..value.len().min(PREVIEW_BYTES)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if value.len() > PREVIEW_BYTES {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compound_buckets_cover_minus_one_to_one() {
        assert_eq!(compound_bucket(-1.0), 0);
        assert_eq!(compound_bucket(-0.95), 0);
        assert_eq!(compound_bucket(-0.05), 9);
        assert_eq!(compound_bucket(0.0), 10);
        assert_eq!(compound_bucket(0.05), 10);
        assert_eq!(compound_bucket(0.9999), 19);
        assert_eq!(compound_bucket(1.0), 20);
        assert_eq!(compound_bucket(f64::NAN), 10);
    }

    #[test]
    fn minutes_floor_also_before_the_epoch() {
        assert_eq!(minute_of(125_000), 120_000);
        assert_eq!(minute_of(-1), -60_000);
    }

    #[test]
    fn previews_are_cut_and_lossy() {
        assert_eq!(preview(b"abc"), "abc");
        let long = vec![b'x'; PREVIEW_BYTES + 5];
        assert!(preview(&long).ends_with('…'));
        assert_eq!(preview(&[0xff, b'a']), "\u{fffd}a");
    }
}
