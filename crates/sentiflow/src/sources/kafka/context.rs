//! The consumer's context: rebalance callbacks, librdkafka's errors and
//! statistics. Everything here runs on the poll thread, inside `poll`.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use super::Shared;
use crate::kafka;
use crate::record::now_ms;
use crate::stats::{ErrorStage, PartitionStats};

/// Runs the rebalance callbacks and turns librdkafka's reports into logs and stats.
pub(super) struct GroupContext {
    shared: Arc<Shared>,
}

impl GroupContext {
    pub(super) fn new(shared: Arc<Shared>) -> GroupContext {
        GroupContext { shared }
    }
}

impl ClientContext for GroupContext {
    /// Client-wide errors (all brokers down, authentication...): logged once
    /// per kind and period, counted, and reflected in the source's health.
    fn error(&self, error: KafkaError, reason: &str) {
        let shared = &self.shared;
        let kind = error_type(&error);
        shared.stats.errors.add(ErrorStage::Receiving, kind);
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown) {
            shared.stats.source.connected.set(false);
        }
        shared.errors.warn(kind, || {
            format!(
                "Kafka consumer: {} ({reason})",
                kafka::describe_error(&error)
            )
        });
    }

    /// Lag per owned partition, every `statistics.interval.ms`.
    fn stats(&self, statistics: Statistics) {
        let shared = &self.shared;
        if statistics
            .brokers
            .values()
            .any(|broker| broker.state == "UP")
        {
            shared.stats.source.connected.set(true);
        }
        let Some(topic) = statistics.topics.get(&shared.topic) else {
            return;
        };
        let now = now_ms();
        let partitions = shared.partitions();
        let mut seen: Vec<PartitionStats> = topic
            .partitions
            .values()
            .filter(|p| p.partition >= 0 && partitions.get(p.partition).is_some())
            .map(|p| {
                let end_offset = (p.hi_offset >= 0).then_some(p.hi_offset);
                let committed_offset = (p.committed_offset >= 0).then_some(p.committed_offset);
                let lag_messages = end_offset
                    .zip(committed_offset)
                    .map(|(end, committed)| (end - committed).max(0));
                let lag_seconds = match lag_messages {
                    Some(0) => Some(0.0),
                    Some(_) => partitions
                        .acked_timestamp_ms(p.partition)
                        .map(|ts| (now - ts).max(0) as f64 / 1000.0),
                    None => None,
                };
                PartitionStats {
                    partition: p.partition,
                    end_offset,
                    committed_offset,
                    lag_messages,
                    lag_seconds,
                }
            })
            .collect();
        drop(partitions);
        seen.sort_by_key(|p| p.partition);
        *shared
            .stats
            .source
            .partitions
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = seen;
    }
}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let shared = &self.shared;
        shared.rebalances.fetch_add(1, Ordering::SeqCst);
        shared
            .stats
            .source
            .rebalances
            .fetch_add(1, Ordering::Relaxed);
        match rebalance {
            Rebalance::Assign(list) => {
                let assigned = committed_offsets(consumer, list, &shared.topic);
                tracing::info!(
                    partitions = ?assigned.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
                    "partitions assigned"
                );
                shared.partitions().assign(&assigned);
            }
            Rebalance::Revoke(list) => {
                let revoked = partition_numbers(list, &shared.topic);
                tracing::info!(partitions = ?revoked, "partitions revoked: draining in-flight batches, then committing");
                self.drain(&revoked);
                // Offsets were stored as batches were acknowledged: commit them now,
                // while the partitions are still ours.
                if let Err(error) = consumer.commit_consumer_state(CommitMode::Sync)
                    && error.rdkafka_error_code() != Some(RDKafkaErrorCode::NoOffset)
                {
                    tracing::warn!("commit on revoke failed: {error}");
                }
                // From here on, acknowledgements for these partitions are ignored.
                let given_up = shared.partitions().revoke(&revoked);
                if !given_up.is_empty() {
                    let what: Vec<String> = given_up
                        .iter()
                        .map(|g| {
                            format!(
                                "partition {} offsets {}..={} ({} records)",
                                g.partition,
                                g.first,
                                g.last,
                                g.records()
                            )
                        })
                        .collect();
                    tracing::warn!(
                        "gave up {} for the next owner, which reads them again",
                        what.join(", ")
                    );
                }
                let mut stats = shared
                    .stats
                    .source
                    .partitions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                stats.retain(|p| !revoked.contains(&p.partition));
            }
            Rebalance::Error(error) => tracing::warn!("rebalance error: {error}"),
        }
    }
}

impl GroupContext {
    /// Waits until every batch handed over for `revoked` is acknowledged, the
    /// source closes, or `drain_timeout` passes.
    fn drain(&self, revoked: &[i32]) {
        let shared = &self.shared;
        let deadline = Instant::now() + shared.drain_timeout;
        let mut partitions = shared.partitions();
        while !shared.closing.load(Ordering::SeqCst) && !partitions.drained(revoked) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(
                    "in-flight batches of revoked partitions were not written within the drain timeout ({:?}, --drain-timeout)",
                    shared.drain_timeout
                );
                return;
            }
            partitions = shared
                .acknowledged
                .wait_timeout(partitions, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }
}

/// The assigned partitions of `topic` with the group's committed offsets
/// (unknown when the broker does not answer in time: no reset is then detected).
fn committed_offsets(
    consumer: &BaseConsumer<GroupContext>,
    list: &TopicPartitionList,
    topic: &str,
) -> Vec<(i32, Option<i64>)> {
    let partitions = partition_numbers(list, topic);
    let mut wanted = TopicPartitionList::new();
    for partition in &partitions {
        wanted.add_partition(topic, *partition);
    }
    let committed: HashMap<i32, i64> = consumer
        .committed_offsets(wanted, kafka::CONNECT_TIMEOUT)
        .map(|list| {
            list.elements_for_topic(topic)
                .iter()
                .filter_map(|e| match e.offset() {
                    Offset::Offset(offset) => Some((e.partition(), offset)),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    partitions
        .into_iter()
        .map(|p| (p, committed.get(&p).copied()))
        .collect()
}

pub(super) fn partition_numbers(list: &TopicPartitionList, topic: &str) -> Vec<i32> {
    list.elements_for_topic(topic)
        .iter()
        .map(|e| e.partition())
        .collect()
}

/// A low-cardinality name for a Kafka error, for metrics and rate limits.
pub(super) fn error_type(error: &KafkaError) -> &'static str {
    match error.rdkafka_error_code() {
        Some(RDKafkaErrorCode::AllBrokersDown) => "all_brokers_down",
        Some(RDKafkaErrorCode::BrokerTransportFailure) => "broker_transport_failure",
        Some(RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed) => {
            "authentication"
        }
        Some(
            RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::GroupAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed,
        ) => "authorization",
        Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic) => {
            "unknown_topic"
        }
        Some(RDKafkaErrorCode::OffsetOutOfRange) => "offset_out_of_range",
        Some(RDKafkaErrorCode::MessageTimedOut | RDKafkaErrorCode::RequestTimedOut) => "timeout",
        Some(RDKafkaErrorCode::SSL) => "tls",
        Some(RDKafkaErrorCode::Resolve) => "resolve",
        _ => "kafka_error",
    }
}

/// Logs a repeated error once per kind and period, saying how many were not shown.
#[derive(Debug, Default)]
pub(super) struct ErrorLog {
    kinds: Mutex<HashMap<&'static str, (Instant, u64)>>,
}

/// The shortest time between two log lines of the same kind.
const ERROR_LOG_PERIOD: Duration = Duration::from_secs(30);

impl ErrorLog {
    pub(super) fn warn(&self, kind: &'static str, message: impl FnOnce() -> String) {
        if let Some(suppressed) = self.admit(kind, Instant::now()) {
            if suppressed > 0 {
                tracing::warn!(
                    "{} ({suppressed} more like it since the last report)",
                    message()
                );
            } else {
                tracing::warn!("{}", message());
            }
        }
    }

    /// `Some(suppressed since the last report)` when `kind` may be logged at `now`.
    fn admit(&self, kind: &'static str, now: Instant) -> Option<u64> {
        let mut kinds = self.kinds.lock().unwrap_or_else(|p| p.into_inner());
        match kinds.get_mut(kind) {
            Some((last, suppressed)) if now.duration_since(*last) < ERROR_LOG_PERIOD => {
                *suppressed += 1;
                None
            }
            Some((last, suppressed)) => {
                let count = *suppressed;
                (*last, *suppressed) = (now, 0);
                Some(count)
            }
            None => {
                kinds.insert(kind, (now, 0));
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_error_is_limited_on_its_own() {
        let log = ErrorLog::default();
        let start = Instant::now();
        assert_eq!(log.admit("all_brokers_down", start), Some(0));
        assert_eq!(log.admit("all_brokers_down", start), None);
        assert_eq!(log.admit("all_brokers_down", start), None);
        // Another kind is not hidden behind the first.
        assert_eq!(log.admit("authentication", start), Some(0));
        // After the period, the next report says how many were not shown.
        assert_eq!(
            log.admit("all_brokers_down", start + ERROR_LOG_PERIOD),
            Some(2)
        );
        assert_eq!(
            log.admit("all_brokers_down", start + ERROR_LOG_PERIOD * 2),
            Some(0)
        );
    }

    #[test]
    fn kafka_errors_have_fixed_names() {
        let down = KafkaError::Global(RDKafkaErrorCode::AllBrokersDown);
        assert_eq!(error_type(&down), "all_brokers_down");
        let other = KafkaError::Global(RDKafkaErrorCode::InvalidReplicationFactor);
        assert_eq!(error_type(&other), "kafka_error");
    }
}
