//! The dead-letter topic: input that cannot become a row, kept byte for byte.
//!
//! Like Kafka Connect's dead-letter queue, each record keeps the original
//! key, value and headers, and headers added after them say why it failed and
//! where it came from:
//!
//! | header | value |
//! |---|---|
//! | `sentiflow.error.reason` | what was wrong, for people |
//! | `sentiflow.error.code` | the same as a fixed code (`invalid_json`, `too_large`, ...) |
//! | `sentiflow.error.stage` | `decode` (not a valid message) or `write` (the table refused it) |
//! | `sentiflow.source.topic` | the topic it was read from |
//! | `sentiflow.source.partition` | its partition, decimal |
//! | `sentiflow.source.offset` | its offset, decimal |
//!
//! A letter that cannot fit the topic's `max.message.bytes` (a huge input
//! value) is cut to fit rather than retried forever: its value keeps its
//! first bytes, and `sentiflow.original.size` (bytes, decimal),
//! `sentiflow.original.sha256` (hex, of the whole original value) and
//! `sentiflow.truncated: true` say so. Errors that retrying cannot fix
//! (authorisation, a missing topic, a fatal producer error) stop the
//! processor with one line instead of wedging it.

use std::borrow::Cow;
use std::time::Duration;

use futures_util::future::join_all;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use sha2::{Digest, Sha256};

use crate::cli::KafkaArgs;
use crate::kafka;
use crate::pipeline::{DeadLetterFailure, DeadLetterSink, WriteError};
use crate::record::DeadLetter;

pub const HEADER_REASON: &str = "sentiflow.error.reason";
pub const HEADER_CODE: &str = "sentiflow.error.code";
pub const HEADER_STAGE: &str = "sentiflow.error.stage";
pub const HEADER_SOURCE_TOPIC: &str = "sentiflow.source.topic";
pub const HEADER_SOURCE_PARTITION: &str = "sentiflow.source.partition";
pub const HEADER_SOURCE_OFFSET: &str = "sentiflow.source.offset";
pub const HEADER_ORIGINAL_SIZE: &str = "sentiflow.original.size";
pub const HEADER_ORIGINAL_SHA256: &str = "sentiflow.original.sha256";
pub const HEADER_TRUNCATED: &str = "sentiflow.truncated";

/// Kafka's record batch header, and a record's own framing with room to spare.
const BATCH_OVERHEAD: usize = 61;
const RECORD_OVERHEAD: usize = 64;
/// Each header's framing (varint lengths), generously.
const HEADER_OVERHEAD: usize = 10;
/// Room for the truncation headers themselves.
const TRUNCATION_HEADERS: usize = 160;

/// Writes dead letters to a Kafka topic, acks=all, uncompressed (so that
/// their size is known before sending).
pub struct DeadLetterTopic {
    producer: FutureProducer,
    topic: String,
    source_topic: String,
    /// The topic's `max.message.bytes`: the largest record batch it takes.
    max_message_bytes: usize,
}

/// Kafka's default `message.max.bytes`, when the topic's cannot be read.
const KAFKA_DEFAULT_MAX_MESSAGE_BYTES: usize = 1_048_588;

impl DeadLetterTopic {
    /// Checks that the topic exists (a one-line error says how to create it
    /// otherwise) and learns its `max.message.bytes`.
    pub async fn open(args: &KafkaArgs, topic: String) -> anyhow::Result<Self> {
        tokio::task::block_in_place(|| {
            kafka::require_named_topic(args, &topic, "dead-letter topic", "--dlq-topic")
        })?;
        let max_message_bytes = kafka::admin::topic_config(args, &topic, "max.message.bytes")
            .await
            .ok()
            .flatten()
            .and_then(|value| value.parse().ok())
            .unwrap_or(KAFKA_DEFAULT_MAX_MESSAGE_BYTES);
        let mut config = kafka::producer_config(args);
        config
            // Fail a delivery after a while and let the pipeline retry with backoff.
            .set("message.timeout.ms", "30000")
            .set("compression.type", "none")
            .set(
                "message.max.bytes",
                (max_message_bytes + 1024).max(1_000_000).to_string(),
            );
        Ok(DeadLetterTopic {
            producer: kafka::create(&config, "dead-letter producer")?,
            topic,
            source_topic: args.topic.clone(),
            max_message_bytes,
        })
    }

    /// The largest value `letter` may carry with its key and headers.
    fn value_budget(&self, letter: &DeadLetter) -> usize {
        let key = letter.original.key.as_ref().map_or(0, |k| k.len());
        let headers: usize = letter
            .original
            .headers
            .iter()
            .map(|(name, value)| name.len() + value.as_ref().map_or(0, |v| v.len()))
            .chain([
                HEADER_REASON.len() + letter.reason.len(),
                HEADER_CODE.len() + 24,
                HEADER_STAGE.len() + 8,
                HEADER_SOURCE_TOPIC.len() + self.source_topic.len(),
                HEADER_SOURCE_PARTITION.len() + 12,
                HEADER_SOURCE_OFFSET.len() + 20,
            ])
            .map(|size| size + HEADER_OVERHEAD)
            .sum();
        self.max_message_bytes
            .saturating_sub(BATCH_OVERHEAD + RECORD_OVERHEAD + TRUNCATION_HEADERS + key + headers)
    }

    async fn send_one(&self, letter: &DeadLetter) -> Result<(), WriteError> {
        let mut budget = self.value_budget(letter);
        loop {
            let prepared = prepare(letter, &self.source_topic, budget);
            let mut record = FutureRecord::<[u8], [u8]>::to(&self.topic).headers(prepared.headers);
            if let Some(value) = &prepared.value {
                record = record.payload(value.as_ref());
            }
            if let Some(key) = &letter.original.key {
                record = record.key(key.as_ref());
            }
            let error = match self.producer.send(record, Duration::from_secs(0)).await {
                Ok(_) => return Ok(()),
                Err((error, _)) => error,
            };
            match classify(&error) {
                // Our estimate of the framing was short: cut harder, a few times.
                Kind::TooLarge if budget > 1024 => budget /= 2,
                Kind::TooLarge | Kind::Permanent => {
                    return Err(WriteError::Fatal(anyhow::anyhow!(
                        "cannot write to the dead-letter topic {}: {}; check the topic and this client's permissions (--dlq-topic)",
                        self.topic,
                        kafka::describe_error(&error)
                    )));
                }
                Kind::Transient => {
                    return Err(WriteError::Transient(anyhow::anyhow!(
                        "cannot write to the dead-letter topic {}: {}",
                        self.topic,
                        kafka::describe_error(&error)
                    )));
                }
            }
        }
    }
}

impl DeadLetterSink for DeadLetterTopic {
    async fn send<'a>(&'a self, letters: &'a [DeadLetter]) -> Result<(), DeadLetterFailure> {
        let results = join_all(letters.iter().map(|letter| self.send_one(letter))).await;
        let mut undelivered = Vec::new();
        let mut worst: Option<WriteError> = None;
        for (index, result) in results.into_iter().enumerate() {
            if let Err(error) = result {
                undelivered.push(index);
                // A fatal error wins over a transient one: it must stop the processor.
                if !matches!(worst, Some(WriteError::Fatal(_))) {
                    worst = Some(error);
                }
            }
        }
        match worst {
            None => Ok(()),
            Some(error) => Err(DeadLetterFailure { undelivered, error }),
        }
    }
}

/// A dead letter as it goes on the wire.
struct Prepared<'a> {
    value: Option<Cow<'a, [u8]>>,
    headers: OwnedHeaders,
}

/// The record for `letter`: its original headers, ours, and its value cut
/// to `budget` bytes if longer.
fn prepare<'a>(letter: &'a DeadLetter, source_topic: &str, budget: usize) -> Prepared<'a> {
    let original = &letter.original;
    let mut headers = OwnedHeaders::new_with_capacity(original.headers.len() + 9);
    for (name, value) in &original.headers {
        headers = headers.insert(Header {
            key: name.as_str(),
            value: value.as_deref(),
        });
    }
    let partition = letter
        .origin
        .map(|o| o.partition.to_string())
        .unwrap_or_default();
    let offset = letter
        .origin
        .map(|o| o.offset.to_string())
        .unwrap_or_default();
    for (key, value) in [
        (HEADER_REASON, letter.reason.as_str()),
        (HEADER_CODE, letter.code.as_str()),
        (HEADER_STAGE, letter.stage.as_str()),
        (HEADER_SOURCE_TOPIC, source_topic),
        (HEADER_SOURCE_PARTITION, partition.as_str()),
        (HEADER_SOURCE_OFFSET, offset.as_str()),
    ] {
        headers = headers.insert(Header {
            key,
            value: Some(value),
        });
    }
    let value = match &original.value {
        None => None,
        Some(value) if value.len() <= budget => Some(Cow::Borrowed(value.as_ref())),
        Some(value) => {
            let size = value.len().to_string();
            let sha256 = hex(&Sha256::digest(value));
            for (key, header) in [
                (HEADER_ORIGINAL_SIZE, size.as_str()),
                (HEADER_ORIGINAL_SHA256, sha256.as_str()),
                (HEADER_TRUNCATED, "true"),
            ] {
                headers = headers.insert(Header {
                    key,
                    value: Some(header),
                });
            }
            Some(Cow::Borrowed(&value[..budget]))
        }
    };
    Prepared { value, headers }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// What a failed delivery means for the letter.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// The record is bigger than the topic or the client accepts.
    TooLarge,
    /// Retrying cannot help: no permission, no such topic, a broken producer.
    Permanent,
    /// The cluster is unreachable, busy or electing leaders: retry later.
    Transient,
}

fn classify(error: &KafkaError) -> Kind {
    use RDKafkaErrorCode as Code;
    match error.rdkafka_error_code() {
        Some(Code::MessageSizeTooLarge | Code::MessageBatchTooLarge) => Kind::TooLarge,
        Some(
            Code::TopicAuthorizationFailed
            | Code::ClusterAuthorizationFailed
            | Code::TransactionalIdAuthorizationFailed
            | Code::SaslAuthenticationFailed
            | Code::Authentication
            | Code::Fatal
            | Code::UnknownTopic
            | Code::InvalidRecord
            | Code::InvalidRequiredAcks
            | Code::PolicyViolation
            | Code::UnsupportedForMessageFormat
            | Code::InvalidTopic,
        ) => Kind::Permanent,
        _ => Kind::Transient,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use rdkafka::message::Headers;

    use super::*;
    use crate::record::{Origin, Original, ReasonCode, Stage};

    fn letter(value: &[u8]) -> DeadLetter {
        DeadLetter {
            original: Original {
                key: Some(Bytes::from_static(b"k1")),
                value: Some(Bytes::copy_from_slice(value)),
                headers: vec![("trace".into(), Some(Bytes::from_static(b"abc")))],
            },
            code: ReasonCode::TooLarge,
            reason: "too big".into(),
            stage: Stage::Decode,
            origin: Some(Origin {
                partition: 1,
                offset: 99,
            }),
        }
    }

    fn header(headers: &OwnedHeaders, name: &str) -> Option<String> {
        headers
            .iter()
            .find(|h| h.key == name)
            .and_then(|h| h.value)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    #[test]
    fn a_letter_keeps_the_original_headers_first_then_ours() {
        let letter = letter(b"{\"id\": 1}");
        let prepared = prepare(&letter, "sentences", 1000);
        assert_eq!(prepared.value.as_deref(), Some(&b"{\"id\": 1}"[..]));
        let names: Vec<&str> = prepared.headers.iter().map(|h| h.key).collect();
        assert_eq!(
            names,
            [
                "trace",
                HEADER_REASON,
                HEADER_CODE,
                HEADER_STAGE,
                HEADER_SOURCE_TOPIC,
                HEADER_SOURCE_PARTITION,
                HEADER_SOURCE_OFFSET
            ]
        );
        assert_eq!(header(&prepared.headers, "trace").as_deref(), Some("abc"));
        assert_eq!(
            header(&prepared.headers, HEADER_CODE).as_deref(),
            Some("too_large")
        );
        assert_eq!(
            header(&prepared.headers, HEADER_SOURCE_OFFSET).as_deref(),
            Some("99")
        );
        assert_eq!(header(&prepared.headers, HEADER_TRUNCATED), None);
    }

    #[test]
    fn a_letter_over_the_budget_is_cut_and_says_what_it_was() {
        let value: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let letter = letter(&value);
        let prepared = prepare(&letter, "sentences", 1200);
        assert_eq!(prepared.value.as_deref(), Some(&value[..1200]));
        assert_eq!(
            header(&prepared.headers, HEADER_ORIGINAL_SIZE).as_deref(),
            Some("5000")
        );
        assert_eq!(
            header(&prepared.headers, HEADER_ORIGINAL_SHA256),
            Some(hex(&Sha256::digest(&value)))
        );
        assert_eq!(
            header(&prepared.headers, HEADER_TRUNCATED).as_deref(),
            Some("true")
        );
    }

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn permanent_errors_are_not_retried_forever() {
        use RDKafkaErrorCode as Code;
        let delivery = |code| KafkaError::MessageProduction(code);
        assert_eq!(
            classify(&delivery(Code::MessageSizeTooLarge)),
            Kind::TooLarge
        );
        for code in [
            Code::TopicAuthorizationFailed,
            Code::ClusterAuthorizationFailed,
            Code::UnknownTopic,
            Code::Fatal,
        ] {
            assert_eq!(classify(&delivery(code)), Kind::Permanent, "{code:?}");
        }
        for code in [
            Code::MessageTimedOut,
            Code::NotEnoughReplicas,
            Code::LeaderNotAvailable,
            Code::QueueFull,
            Code::AllBrokersDown,
        ] {
            assert_eq!(classify(&delivery(code)), Kind::Transient, "{code:?}");
        }
    }
}
