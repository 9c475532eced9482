//! The dead-letter topic: input that cannot become a row, kept byte for byte.
//!
//! Like Kafka Connect's dead-letter queue, each record keeps the original key
//! and value, and headers say why it failed and where it came from:
//!
//! | header | value |
//! |---|---|
//! | `sentiflow.error.reason` | what was wrong, for people |
//! | `sentiflow.error.stage` | `decode` (not a valid message) or `write` (the table refused it) |
//! | `sentiflow.source.topic` | the topic it was read from |
//! | `sentiflow.source.partition` | its partition, decimal |
//! | `sentiflow.source.offset` | its offset, decimal |

use std::time::Duration;

use futures_util::future::join_all;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::cli::KafkaArgs;
use crate::kafka;
use crate::pipeline::{DeadLetterSink, WriteError};
use crate::record::DeadLetter;

pub const HEADER_REASON: &str = "sentiflow.error.reason";
pub const HEADER_STAGE: &str = "sentiflow.error.stage";
pub const HEADER_SOURCE_TOPIC: &str = "sentiflow.source.topic";
pub const HEADER_SOURCE_PARTITION: &str = "sentiflow.source.partition";
pub const HEADER_SOURCE_OFFSET: &str = "sentiflow.source.offset";

/// Writes dead letters to a Kafka topic, acks=all.
pub struct DeadLetterTopic {
    producer: FutureProducer,
    topic: String,
    source_topic: String,
}

impl DeadLetterTopic {
    pub fn new(args: &KafkaArgs, topic: String) -> anyhow::Result<Self> {
        let mut config = kafka::producer_config(args);
        config
            // Fail a delivery after a while and let the pipeline retry with backoff.
            .set("message.timeout.ms", "30000");
        Ok(DeadLetterTopic {
            producer: kafka::create(&config, "dead-letter producer")?,
            topic,
            source_topic: args.topic.clone(),
        })
    }
}

impl DeadLetterSink for DeadLetterTopic {
    async fn send<'a>(&'a self, letters: &'a [DeadLetter]) -> Result<(), WriteError> {
        let deliveries = letters.iter().map(|letter| {
            let partition = letter
                .origin
                .map(|o| o.partition.to_string())
                .unwrap_or_default();
            let offset = letter
                .origin
                .map(|o| o.offset.to_string())
                .unwrap_or_default();
            let headers = OwnedHeaders::new()
                .insert(Header {
                    key: HEADER_REASON,
                    value: Some(letter.reason.as_str()),
                })
                .insert(Header {
                    key: HEADER_STAGE,
                    value: Some(letter.stage.as_str()),
                })
                .insert(Header {
                    key: HEADER_SOURCE_TOPIC,
                    value: Some(self.source_topic.as_str()),
                })
                .insert(Header {
                    key: HEADER_SOURCE_PARTITION,
                    value: Some(partition.as_str()),
                })
                .insert(Header {
                    key: HEADER_SOURCE_OFFSET,
                    value: Some(offset.as_str()),
                });
            let mut record = FutureRecord::<[u8], [u8]>::to(&self.topic)
                .payload(&letter.payload)
                .headers(headers);
            if let Some(key) = &letter.key {
                record = record.key(key);
            }
            self.producer.send(record, Duration::from_secs(0))
        });
        for delivery in join_all(deliveries).await {
            if let Err((error, _)) = delivery {
                return Err(WriteError::Transient(anyhow::anyhow!(
                    "cannot write to the dead-letter topic {}: {}",
                    self.topic,
                    kafka::describe_error(&error)
                )));
            }
        }
        Ok(())
    }
}
