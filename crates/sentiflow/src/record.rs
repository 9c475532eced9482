//! The data that flows through the pipeline: records in, scored rows and dead
//! letters out.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use bytestring::ByteString;

/// A sentence to score, as a source delivers it.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The row key: given by the producer, or derived from where the record came from.
    pub id: i64,
    /// The text to score. From Kafka it shares the original message's bytes
    /// (no copy) unless the JSON string had escapes.
    pub sentence: ByteString,
    /// When the sentence was produced, in epoch milliseconds.
    pub produced_at_ms: i64,
    /// Where the record came from, when the source has positions (Kafka).
    pub origin: Option<Origin>,
    /// The message as it arrived, when there was one (Kafka): what a dead
    /// letter carries if the sink refuses the row. Shared bytes, not a copy.
    pub original: Option<Original>,
}

/// A message exactly as it arrived: key, value and headers, byte for byte.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Original {
    pub key: Option<Bytes>,
    /// `None` for a message without a value (a tombstone).
    pub value: Option<Bytes>,
    /// Header names and values, in order.
    pub headers: Vec<(String, Option<Bytes>)>,
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
    /// The message as it arrived (for a row the sink refused, the message
    /// the row came from), byte for byte.
    pub original: Original,
    /// Why it was rejected, for machines: a fixed code (metrics, headers).
    pub code: ReasonCode,
    /// Why it was rejected, for people.
    pub reason: String,
    /// Which stage rejected it.
    pub stage: Stage,
    /// Where it came from, when the source has positions.
    pub origin: Option<Origin>,
}

/// Why input became a dead letter, as a fixed, low-cardinality code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The message has no value (null).
    NullValue,
    /// The value is not UTF-8.
    InvalidUtf8,
    /// The value starts like JSON but is not an object with `id` and `sentence`.
    InvalidJson,
    /// `id` is not a non-negative 64-bit integer.
    InvalidId,
    /// `sentence` is not a string.
    InvalidSentence,
    /// `ts` is not epoch milliseconds.
    InvalidTimestamp,
    /// The sentence is empty or blank.
    EmptySentence,
    /// The sentence is over `--max-sentence-bytes`.
    TooLarge,
    /// A plain-text message whose position cannot be turned into an id.
    NoPlainTextId,
    /// The table cannot store the id (the original stack's `int` column).
    IdOutOfRange,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 10] = [
        ReasonCode::NullValue,
        ReasonCode::InvalidUtf8,
        ReasonCode::InvalidJson,
        ReasonCode::InvalidId,
        ReasonCode::InvalidSentence,
        ReasonCode::InvalidTimestamp,
        ReasonCode::EmptySentence,
        ReasonCode::TooLarge,
        ReasonCode::NoPlainTextId,
        ReasonCode::IdOutOfRange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::NullValue => "null_value",
            ReasonCode::InvalidUtf8 => "invalid_utf8",
            ReasonCode::InvalidJson => "invalid_json",
            ReasonCode::InvalidId => "invalid_id",
            ReasonCode::InvalidSentence => "invalid_sentence",
            ReasonCode::InvalidTimestamp => "invalid_timestamp",
            ReasonCode::EmptySentence => "empty_sentence",
            ReasonCode::TooLarge => "too_large",
            ReasonCode::NoPlainTextId => "no_plain_text_id",
            ReasonCode::IdOutOfRange => "id_out_of_range",
        }
    }
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

/// The JSON value of a message in the data contract, as producers write it:
/// `{"id": <i64>, "sentence": "<text>", "ts": <epoch ms>}`.
#[derive(serde::Serialize)]
struct ContractValue<'a> {
    id: i64,
    sentence: &'a str,
    ts: i64,
}

/// Writes the data contract's JSON value for one sentence into `out` (cleared first).
pub fn encode_value(out: &mut Vec<u8>, id: i64, sentence: &str, ts: i64) {
    out.clear();
    serde_json::to_writer(&mut *out, &ContractValue { id, sentence, ts })
        .expect("writing JSON to a Vec cannot fail");
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
