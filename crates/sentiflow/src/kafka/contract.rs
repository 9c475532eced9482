//! The data contract of the `sentences` topic.
//!
//! - Key: the id as decimal text.
//! - Value: `{"id": <i64 >= 0>, "sentence": "<text>", "ts": <epoch ms>}`.
//! - A value whose first non-blank character is not `{` is plain text (what
//!   `kafka-console-producer` sends): it becomes a row whose id is derived
//!   from (topic, partition, offset) (`ids::plain_text_id`), so a replay
//!   writes the same row.
//!
//! Anything else is rejected with a reason and becomes a dead letter.
//!
//! Decoding copies nothing: the sentence is a slice of the message's value
//! (unless its JSON string has escapes), and the id and timestamp are read
//! straight from the JSON text.

use bytestring::ByteString;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::ids;
use crate::record::{Origin, ReasonCode};

pub use crate::record::encode_value;

/// The JSON value as a processor reads it: each field is kept as raw JSON
/// text and typed one by one, so that the reason of a rejection is precise.
#[derive(Deserialize)]
struct IncomingValue<'a> {
    #[serde(borrow)]
    id: &'a RawValue,
    #[serde(borrow)]
    sentence: &'a RawValue,
    #[serde(borrow, default)]
    ts: Option<&'a RawValue>,
}

/// Why a message cannot become a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub code: ReasonCode,
    /// For people: what is wrong, and where.
    pub reason: String,
}

impl Rejection {
    fn new(code: ReasonCode, reason: impl Into<String>) -> Rejection {
        Rejection {
            code,
            reason: reason.into(),
        }
    }
}

/// What a message decodes into.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    pub id: i64,
    pub sentence: ByteString,
    pub produced_at_ms: i64,
}

/// How to decode the messages of one topic.
#[derive(Clone, Debug)]
pub struct Decoder {
    /// Mixed into plain-text ids (`ids::topic_tag`).
    topic_tag: u16,
    /// Longer sentences are rejected.
    max_sentence_bytes: usize,
}

impl Decoder {
    pub fn new(topic: &str, max_sentence_bytes: usize) -> Decoder {
        Decoder {
            topic_tag: ids::topic_tag(topic),
            max_sentence_bytes,
        }
    }

    /// Decodes one message value into a record's fields, or says why it
    /// cannot be one.
    ///
    /// `timestamp_ms` is the message's Kafka timestamp, used as `produced_at`
    /// when the value does not carry `ts`.
    pub fn decode(
        &self,
        value: Option<&bytes::Bytes>,
        origin: Origin,
        timestamp_ms: i64,
    ) -> Result<Decoded, Rejection> {
        let Some(value) = value else {
            return Err(Rejection::new(
                ReasonCode::NullValue,
                "the message has no value (null)",
            ));
        };
        let text = ByteString::try_from(value.clone()).map_err(|error| {
            Rejection::new(
                ReasonCode::InvalidUtf8,
                format!("the value is not valid UTF-8 ({error})"),
            )
        })?;
        let decoded = if text.trim_start().starts_with('{') {
            decode_json(&text, timestamp_ms)?
        } else {
            let Some(id) = ids::plain_text_id(self.topic_tag, origin.partition, origin.offset)
            else {
                return Err(Rejection::new(
                    ReasonCode::NoPlainTextId,
                    format!(
                        "a plain-text message at partition {} offset {} cannot get an id (plain text needs a partition below {} and an offset below {}); send JSON with an id",
                        origin.partition,
                        origin.offset,
                        ids::PLAIN_TEXT_PARTITIONS,
                        ids::PLAIN_TEXT_OFFSETS
                    ),
                ));
            };
            Decoded {
                id,
                sentence: text,
                produced_at_ms: timestamp_ms,
            }
        };
        if decoded.sentence.trim().is_empty() {
            return Err(Rejection::new(
                ReasonCode::EmptySentence,
                "the sentence is empty",
            ));
        }
        if decoded.sentence.len() > self.max_sentence_bytes {
            return Err(Rejection::new(
                ReasonCode::TooLarge,
                format!(
                    "the sentence is {} bytes, over the limit of {} (--max-sentence-bytes)",
                    decoded.sentence.len(),
                    self.max_sentence_bytes
                ),
            ));
        }
        Ok(decoded)
    }
}

fn decode_json(text: &ByteString, timestamp_ms: i64) -> Result<Decoded, Rejection> {
    let value: IncomingValue<'_> = serde_json::from_str(text).map_err(|error| {
        Rejection::new(
            ReasonCode::InvalidJson,
            format!("the value starts with '{{' but is not a JSON object with \"id\" and \"sentence\" ({error})"),
        )
    })?;
    let id = serde_json::from_str::<i64>(value.id.get())
        .ok()
        .filter(|id| *id >= 0)
        .ok_or_else(|| {
            Rejection::new(
                ReasonCode::InvalidId,
                format!(
                    "\"id\" must be a non-negative integer that fits 64 bits, found {}",
                    describe(value.id)
                ),
            )
        })?;
    let raw_sentence = value.sentence.get();
    // A string without escapes is a slice of the value itself: no copy.
    let sentence = match serde_json::from_str::<&str>(raw_sentence) {
        Ok(borrowed) => text.slice_ref(borrowed),
        Err(_) => match serde_json::from_str::<String>(raw_sentence) {
            Ok(unescaped) => ByteString::from(unescaped),
            Err(_) => {
                return Err(Rejection::new(
                    ReasonCode::InvalidSentence,
                    format!(
                        "\"sentence\" must be a string, found {}",
                        describe(value.sentence)
                    ),
                ));
            }
        },
    };
    let produced_at_ms = match value.ts {
        None => timestamp_ms,
        Some(ts) if ts.get() == "null" => timestamp_ms,
        Some(ts) => serde_json::from_str::<i64>(ts.get()).map_err(|_| {
            Rejection::new(
                ReasonCode::InvalidTimestamp,
                format!(
                    "\"ts\" must be epoch milliseconds as an integer, found {}",
                    describe(ts)
                ),
            )
        })?,
    };
    Ok(Decoded {
        id,
        sentence,
        produced_at_ms,
    })
}

/// A short description of a raw JSON value for error messages.
fn describe(value: &RawValue) -> String {
    let text = value.get();
    match text.as_bytes().first() {
        Some(b'n') => "null".into(),
        Some(b't' | b'f') => "a boolean".into(),
        Some(b'"') => "a string".into(),
        Some(b'[') => "an array".into(),
        Some(b'{') => "an object".into(),
        _ if text.len() <= 32 => format!("the number {text}"),
        _ => format!("a number of {} digits", text.len()),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    const AT: Origin = Origin {
        partition: 1,
        offset: 41,
    };

    fn decoder() -> Decoder {
        Decoder::new("sentences", 100)
    }

    fn decode(value: &[u8]) -> Result<Decoded, Rejection> {
        decoder().decode(Some(&Bytes::copy_from_slice(value)), AT, 5)
    }

    fn reject(value: &[u8]) -> Rejection {
        decode(value).unwrap_err()
    }

    #[test]
    fn json_value_round_trips() {
        let mut value = Vec::new();
        encode_value(&mut value, 42, "I \"love\" it ✨", 1_700_000_000_000);
        let record = decode(&value).unwrap();
        assert_eq!(record.id, 42);
        assert_eq!(&*record.sentence, "I \"love\" it ✨");
        assert_eq!(record.produced_at_ms, 1_700_000_000_000);
    }

    #[test]
    fn a_sentence_without_escapes_shares_the_message_bytes() {
        let value = Bytes::from_static(br#"{"id": 7, "sentence": "no escapes here"}"#);
        let record = decoder().decode(Some(&value), AT, 5).unwrap();
        let inside = value.as_ptr_range();
        assert!(inside.contains(&record.sentence.as_ptr()), "copied");
    }

    #[test]
    fn plain_text_gets_a_negative_id_from_topic_and_position() {
        let record = decode(b"hello world").unwrap();
        let tag = ids::topic_tag("sentences");
        assert_eq!(Some(record.id), ids::plain_text_id(tag, 1, 41));
        assert!(record.id < 0);
        assert_eq!(record.produced_at_ms, 5);
        let elsewhere = Origin {
            partition: 0,
            offset: 42,
        };
        let other = decoder()
            .decode(Some(&Bytes::from_static(b"hello world")), elsewhere, 5)
            .unwrap();
        assert_ne!(record.id, other.id);
        let other_topic = Decoder::new("reviews", 100)
            .decode(Some(&Bytes::from_static(b"hello world")), AT, 5)
            .unwrap();
        assert_ne!(record.id, other_topic.id, "the topic is part of the id");
    }

    #[test]
    fn missing_or_null_ts_takes_the_message_timestamp() {
        let record = decoder()
            .decode(
                Some(&Bytes::from_static(br#"{"id": 1, "sentence": "ok"}"#)),
                AT,
                77,
            )
            .unwrap();
        assert_eq!(record.produced_at_ms, 77);
        let record = decode(br#"{"id": 1, "sentence": "ok", "ts": null}"#).unwrap();
        assert_eq!(record.produced_at_ms, 5);
    }

    #[test]
    fn each_kind_of_bad_input_has_its_own_code_and_reason() {
        let null = decoder().decode(None, AT, 0).unwrap_err();
        assert_eq!(null.code, ReasonCode::NullValue);
        let cases: &[(&[u8], ReasonCode, &str)] = &[
            (b"\xff\xfe", ReasonCode::InvalidUtf8, "not valid UTF-8"),
            (b"{\"id\": 1,", ReasonCode::InvalidJson, "not a JSON object"),
            (
                br#"{"sentence": "x"}"#,
                ReasonCode::InvalidJson,
                "not a JSON object",
            ),
            (
                br#"{"id": "7", "sentence": "x"}"#,
                ReasonCode::InvalidId,
                "a string",
            ),
            (
                br#"{"id": 1.5, "sentence": "x"}"#,
                ReasonCode::InvalidId,
                "the number 1.5",
            ),
            (
                br#"{"id": -2, "sentence": "x"}"#,
                ReasonCode::InvalidId,
                "non-negative",
            ),
            (
                br#"{"id": 99999999999999999999, "sentence": "x"}"#,
                ReasonCode::InvalidId,
                "fits 64 bits",
            ),
            (
                br#"{"id": 1, "sentence": 3}"#,
                ReasonCode::InvalidSentence,
                "must be a string",
            ),
            (
                br#"{"id": 1, "sentence": "x", "ts": "now"}"#,
                ReasonCode::InvalidTimestamp,
                "\"ts\"",
            ),
            (
                br#"{"id": 1, "sentence": "  "}"#,
                ReasonCode::EmptySentence,
                "empty",
            ),
            (b"   ", ReasonCode::EmptySentence, "empty"),
            (&[b'a'; 101], ReasonCode::TooLarge, "over the limit of 100"),
        ];
        for (value, code, words) in cases {
            let rejection = reject(value);
            assert_eq!(rejection.code, *code, "{}", String::from_utf8_lossy(value));
            assert!(rejection.reason.contains(words), "{rejection:?}");
        }
    }

    #[test]
    fn escaped_sentences_are_unescaped() {
        let record = decode(br#"{"id": 3, "sentence": "tab\there \u00e9"}"#).unwrap();
        assert_eq!(&*record.sentence, "tab\there é");
    }

    #[test]
    fn plain_text_far_into_a_partition_has_no_id() {
        let far = Origin {
            partition: 0,
            offset: ids::PLAIN_TEXT_OFFSETS,
        };
        let rejection = decoder()
            .decode(Some(&Bytes::from_static(b"text")), far, 0)
            .unwrap_err();
        assert_eq!(rejection.code, ReasonCode::NoPlainTextId);
    }
}
