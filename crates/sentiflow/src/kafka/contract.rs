//! The data contract of the `sentences` topic.
//!
//! - Key: the id as decimal text.
//! - Value: `{"id": <i64>, "sentence": "<text>", "ts": <epoch ms>}`.
//! - A value whose first non-blank character is not `{` is plain text (what
//!   `kafka-console-producer` sends): it becomes a row whose id is derived
//!   from (partition, offset), so a replay writes the same row.
//!
//! Anything else is rejected with a reason and becomes a dead letter.

use serde::{Deserialize, Serialize};

use crate::record::{Origin, Record};

/// Plain-text ids are `-(offset * PLAIN_TEXT_PARTITIONS + partition + 1)`:
/// negative, so they never collide with producer ids (which are >= 0), and
/// small enough for an `int` column until offset 2,097,151.
pub const PLAIN_TEXT_PARTITIONS: i64 = 1024;

/// The JSON value of a message, as the producer writes it.
#[derive(Serialize)]
pub struct OutgoingValue<'a> {
    pub id: i64,
    pub sentence: &'a str,
    pub ts: i64,
}

/// The JSON value as a processor reads it: types are checked field by field
/// so that the reason of a rejection is precise.
#[derive(Deserialize)]
struct IncomingValue {
    id: serde_json::Value,
    sentence: serde_json::Value,
    #[serde(default)]
    ts: Option<serde_json::Value>,
}

/// Writes the message value for one sentence into `out` (cleared first).
pub fn encode_value(out: &mut Vec<u8>, id: i64, sentence: &str, ts: i64) {
    out.clear();
    serde_json::to_writer(&mut *out, &OutgoingValue { id, sentence, ts })
        .expect("writing JSON to a Vec cannot fail");
}

/// The id a plain-text message at `origin` gets; `None` when the partition is too large.
pub fn plain_text_id(origin: Origin) -> Option<i64> {
    let partition = i64::from(origin.partition);
    if !(0..PLAIN_TEXT_PARTITIONS).contains(&partition) {
        return None;
    }
    origin
        .offset
        .checked_mul(PLAIN_TEXT_PARTITIONS)
        .and_then(|scaled| scaled.checked_add(partition + 1))
        .map(|positive| -positive)
}

/// Decodes one message into a record, or says why it cannot be one.
///
/// `timestamp_ms` is the message's Kafka timestamp, used as `produced_at`
/// when the value does not carry `ts`.
pub fn decode(
    value: Option<&[u8]>,
    origin: Origin,
    timestamp_ms: i64,
    max_sentence_bytes: usize,
) -> Result<Record, String> {
    let Some(value) = value else {
        return Err("the message has no value (null)".into());
    };
    let text = std::str::from_utf8(value)
        .map_err(|error| format!("the value is not valid UTF-8 ({error})"))?;
    let record = if text.trim_start().starts_with('{') {
        decode_json(text, origin, timestamp_ms)?
    } else {
        let Some(id) = plain_text_id(origin) else {
            return Err(format!(
                "a plain-text message in partition {} cannot get an id (partitions above {} need JSON values with an id)",
                origin.partition,
                PLAIN_TEXT_PARTITIONS - 1
            ));
        };
        Record {
            id,
            sentence: text.to_owned(),
            produced_at_ms: timestamp_ms,
            origin: Some(origin),
        }
    };
    if record.sentence.trim().is_empty() {
        return Err("the sentence is empty".into());
    }
    if record.sentence.len() > max_sentence_bytes {
        return Err(format!(
            "the sentence is {} bytes, over the limit of {max_sentence_bytes} (--max-sentence-bytes)",
            record.sentence.len()
        ));
    }
    Ok(record)
}

fn decode_json(text: &str, origin: Origin, timestamp_ms: i64) -> Result<Record, String> {
    let value: IncomingValue = serde_json::from_str(text).map_err(|error| {
        format!("the value starts with '{{' but is not a JSON object with \"id\" and \"sentence\" ({error})")
    })?;
    let id = value.id.as_i64().ok_or_else(|| {
        format!(
            "\"id\" must be an integer that fits 64 bits, found {}",
            describe(&value.id)
        )
    })?;
    let serde_json::Value::String(sentence) = value.sentence else {
        return Err(format!(
            "\"sentence\" must be a string, found {}",
            describe(&value.sentence)
        ));
    };
    let produced_at_ms = match value.ts {
        None | Some(serde_json::Value::Null) => timestamp_ms,
        Some(ts) => ts.as_i64().ok_or_else(|| {
            format!(
                "\"ts\" must be epoch milliseconds as an integer, found {}",
                describe(&ts)
            )
        })?,
    };
    Ok(Record {
        id,
        sentence,
        produced_at_ms,
        origin: Some(origin),
    })
}

/// A short description of a JSON value for error messages.
fn describe(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "null".into(),
        serde_json::Value::Bool(_) => "a boolean".into(),
        serde_json::Value::Number(n) => format!("the number {n}"),
        serde_json::Value::String(_) => "a string".into(),
        serde_json::Value::Array(_) => "an array".into(),
        serde_json::Value::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: Origin = Origin {
        partition: 1,
        offset: 41,
    };

    fn reject(value: &[u8]) -> String {
        decode(Some(value), AT, 5, 100).unwrap_err()
    }

    #[test]
    fn json_value_round_trips() {
        let mut value = Vec::new();
        encode_value(&mut value, 42, "I \"love\" it ✨", 1_700_000_000_000);
        let record = decode(Some(&value), AT, 5, 100).unwrap();
        assert_eq!(record.id, 42);
        assert_eq!(record.sentence, "I \"love\" it ✨");
        assert_eq!(record.produced_at_ms, 1_700_000_000_000);
        assert_eq!(record.origin, Some(AT));
    }

    #[test]
    fn plain_text_gets_a_negative_id_from_its_position() {
        let record = decode(Some(b"hello world"), AT, 5, 100).unwrap();
        assert_eq!(record.id, -(41 * 1024 + 1 + 1));
        assert_eq!(record.produced_at_ms, 5);
        let other = decode(
            Some(b"hello world"),
            Origin {
                partition: 0,
                offset: 42,
            },
            5,
            100,
        )
        .unwrap();
        assert_ne!(record.id, other.id);
    }

    #[test]
    fn missing_ts_takes_the_message_timestamp() {
        let record = decode(Some(br#"{"id": 1, "sentence": "ok"}"#), AT, 77, 100).unwrap();
        assert_eq!(record.produced_at_ms, 77);
    }

    #[test]
    fn each_kind_of_bad_input_has_its_own_reason() {
        assert!(decode(None, AT, 0, 100).unwrap_err().contains("no value"));
        assert!(reject(b"\xff\xfe").contains("not valid UTF-8"));
        assert!(reject(b"{\"id\": 1,").contains("not a JSON object"));
        assert!(reject(br#"{"sentence": "x"}"#).contains("not a JSON object"));
        assert!(reject(br#"{"id": "7", "sentence": "x"}"#).contains("\"id\" must be an integer"));
        assert!(reject(br#"{"id": 1.5, "sentence": "x"}"#).contains("\"id\" must be an integer"));
        assert!(reject(br#"{"id": 1, "sentence": 3}"#).contains("\"sentence\" must be a string"));
        assert!(reject(br#"{"id": 1, "sentence": "x", "ts": "now"}"#).contains("\"ts\""));
        assert!(reject(br#"{"id": 1, "sentence": "  "}"#).contains("empty"));
        assert!(reject(b"   ").contains("empty"));
        assert!(reject(&[b'a'; 101]).contains("over the limit of 100"));
    }

    #[test]
    fn plain_text_ids_need_a_small_partition() {
        assert_eq!(
            plain_text_id(Origin {
                partition: 1024,
                offset: 0
            }),
            None
        );
        assert_eq!(
            plain_text_id(Origin {
                partition: 1023,
                offset: 0
            }),
            Some(-1024)
        );
        assert_eq!(
            plain_text_id(Origin {
                partition: 0,
                offset: 0
            }),
            Some(-1)
        );
    }
}
