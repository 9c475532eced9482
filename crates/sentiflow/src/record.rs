//! The data that flows through the pipeline: records in, scored rows and dead
//! letters out.

use std::time::{SystemTime, UNIX_EPOCH};

/// A sentence to score, as a source delivers it.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The row key: given by the producer, or derived from where the record came from.
    pub id: i64,
    pub sentence: String,
    /// When the sentence was produced, in epoch milliseconds.
    pub produced_at_ms: i64,
    /// Where the record came from, when the source has positions (Kafka).
    pub origin: Option<Origin>,
}

/// A position in a partitioned log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    pub partition: i32,
    pub offset: i64,
}

/// A record with its VADER scores, ready for a sink.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredRecord {
    pub record: Record,
    pub scores: vader::Scores,
    pub label: vader::Label,
    /// When the record was scored, in epoch milliseconds.
    pub processed_at_ms: i64,
}

impl ScoredRecord {
    pub fn score(record: Record, processed_at_ms: i64) -> Self {
        let scores = vader::polarity_scores(&record.sentence);
        ScoredRecord {
            label: vader::label(scores.compound),
            scores,
            record,
            processed_at_ms,
        }
    }
}

/// Input that cannot become a row. It is kept byte for byte with the reason,
/// so that nothing is ever dropped silently.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadLetter {
    /// The original message key, if any.
    pub key: Option<Vec<u8>>,
    /// The original message value, untouched.
    pub payload: Vec<u8>,
    /// Why it was rejected, for people.
    pub reason: String,
    /// Which stage rejected it.
    pub stage: Stage,
    /// Where it came from, when the source has positions.
    pub origin: Option<Origin>,
}

/// The pipeline stage that turned input into a dead letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The value could not be decoded into a record.
    Decode,
    /// The sink could not store the row (for example an id too large for its column).
    Write,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Decode => "decode",
            Stage::Write => "write",
        }
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
