//! Kafka administration behind `setup` (topics) and `status` (offsets and lag).

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use crate::cli::KafkaArgs;
use crate::kafka::{self, CheckContext};

/// The topic settings `setup` asks for.
#[derive(Clone, Debug)]
pub struct TopicSpec {
    pub partitions: i32,
    pub replication_factor: i32,
    pub max_message_bytes: u32,
    pub flush_messages: u64,
    pub min_insync_replicas: i32,
}

impl TopicSpec {
    fn configs(&self) -> [(&'static str, String); 3] {
        [
            ("max.message.bytes", self.max_message_bytes.to_string()),
            ("flush.messages", self.flush_messages.to_string()),
            ("min.insync.replicas", self.min_insync_replicas.to_string()),
        ]
    }
}

const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

fn admin_client(args: &KafkaArgs) -> anyhow::Result<AdminClient<CheckContext>> {
    kafka::create_with(&kafka::client_config(args), "admin client")
}

/// Creates each topic that does not exist, and reports in one line per topic
/// what was created or what already existed and differs from `asked`.
/// Replication is lowered to what the cluster can hold, with a warning line.
pub async fn create_topics(
    args: &KafkaArgs,
    topics: &[&str],
    asked: &TopicSpec,
) -> anyhow::Result<Vec<String>> {
    let admin = admin_client(args)?;
    let brokers = tokio::task::block_in_place(|| kafka::check_reachable(args))?;
    let mut report = Vec::new();
    let mut spec = asked.clone();
    if spec.replication_factor > brokers as i32 {
        report.push(format!(
            "warning: replication factor {} asked but the cluster has {brokers} broker(s): using {brokers}",
            spec.replication_factor
        ));
        spec.replication_factor = brokers as i32;
    }
    if spec.min_insync_replicas > spec.replication_factor {
        report.push(format!(
            "warning: min.insync.replicas {} is more than the replication factor {}: using {} (acks=all would always fail)",
            spec.min_insync_replicas, spec.replication_factor, spec.replication_factor
        ));
        spec.min_insync_replicas = spec.replication_factor;
    }
    report.extend(durability_warning(&spec, brokers));
    let configs = spec.configs();
    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|name| {
            configs.iter().fold(
                NewTopic::new(
                    name,
                    spec.partitions,
                    TopicReplication::Fixed(spec.replication_factor),
                ),
                |topic, (key, value)| topic.set(key, value),
            )
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(ADMIN_TIMEOUT));
    let results = admin
        .create_topics(&new_topics, &options)
        .await
        .map_err(|error| {
            anyhow::anyhow!("cannot create topics: {}", kafka::describe_error(&error))
        })?;
    for result in results {
        match result {
            Ok(name) => report.push(format!(
                "created topic {name}: {} partitions, replication factor {}, {}",
                spec.partitions,
                spec.replication_factor,
                configs
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                report.push(describe_existing(&admin, &name, &spec).await?);
            }
            Err((name, code)) => anyhow::bail!("cannot create topic {name}: {code}"),
        }
    }
    Ok(report)
}

/// A warning when the topics cannot take writes through the loss of one
/// broker: with acks=all, a write needs `min.insync.replicas` replicas in
/// sync, so when that equals the replication factor (the original stack's
/// 2 and 2) every partition with a replica on a stopped broker refuses
/// writes until it returns. A single replica (RF 1) is a choice for a
/// one-broker cluster, not a surprise: no warning.
fn durability_warning(spec: &TopicSpec, brokers: usize) -> Option<String> {
    let (rf, min_isr) = (spec.replication_factor, spec.min_insync_replicas);
    if rf < 2 || min_isr < rf {
        return None;
    }
    let suggested = min_isr + 1;
    let brokers_needed = if (brokers as i32) < suggested {
        format!(" (on a cluster of at least {suggested} brokers; this one has {brokers})")
    } else {
        String::new()
    };
    Some(format!(
        "warning: replication factor {rf} with min.insync.replicas {min_isr} tolerates no broker loss for writes: \
         while any broker holding a replica is down, producers (acks=all) get NOT_ENOUGH_REPLICAS on its partitions; \
         use --replication-factor {suggested} with --min-insync-replicas {min_isr}{brokers_needed} to keep writing through the loss of one broker"
    ))
}

/// "topic X already exists (...)", naming each setting that differs from `asked`.
async fn describe_existing(
    admin: &AdminClient<CheckContext>,
    name: &str,
    asked: &TopicSpec,
) -> anyhow::Result<String> {
    let metadata = tokio::task::block_in_place(|| {
        admin
            .inner()
            .fetch_metadata(Some(name), kafka::CONNECT_TIMEOUT)
    })
    .map_err(|error| {
        anyhow::anyhow!(
            "cannot describe topic {name}: {}",
            kafka::describe_error(&error)
        )
    })?;
    let topic = metadata
        .topics()
        .first()
        .ok_or_else(|| anyhow::anyhow!("topic {name} exists but has no metadata"))?;
    let partitions = topic.partitions().len() as i32;
    let replication = topic
        .partitions()
        .first()
        .map_or(0, |p| p.replicas().len() as i32);
    let mut differences = Vec::new();
    if partitions != asked.partitions {
        differences.push(format!(
            "partitions {partitions} (asked {})",
            asked.partitions
        ));
    }
    if replication != asked.replication_factor {
        differences.push(format!(
            "replication factor {replication} (asked {})",
            asked.replication_factor
        ));
    }
    let described = admin
        .describe_configs(&[ResourceSpecifier::Topic(name)], &AdminOptions::new())
        .await
        .map_err(|error| {
            anyhow::anyhow!(
                "cannot read the configs of topic {name}: {}",
                kafka::describe_error(&error)
            )
        })?;
    if let Some(Ok(resource)) = described.first() {
        for (key, value) in asked.configs() {
            let actual = resource
                .get(key)
                .and_then(|entry| entry.value.clone())
                .unwrap_or_default();
            if actual != value {
                differences.push(format!("{key}={actual} (asked {value})"));
            }
        }
    }
    let summary = format!(
        "topic {name} already exists ({partitions} partitions, replication factor {replication})"
    );
    Ok(if differences.is_empty() {
        format!("{summary}, as asked")
    } else {
        format!(
            "{summary}; differs from what was asked: {}",
            differences.join(", ")
        )
    })
}

/// The value of one config of `topic` (e.g. `max.message.bytes`), as the
/// brokers report it (the broker default when the topic does not override it).
pub async fn topic_config(
    args: &KafkaArgs,
    topic: &str,
    key: &str,
) -> anyhow::Result<Option<String>> {
    let admin = admin_client(args)?;
    let options = AdminOptions::new().request_timeout(Some(kafka::CONNECT_TIMEOUT));
    let described = admin
        .describe_configs(&[ResourceSpecifier::Topic(topic)], &options)
        .await
        .map_err(|error| {
            anyhow::anyhow!(
                "cannot read the configs of topic {topic}: {}",
                kafka::describe_error(&error)
            )
        })?;
    Ok(match described.first() {
        Some(Ok(resource)) => resource.get(key).and_then(|entry| entry.value.clone()),
        _ => None,
    })
}

/// One partition's offsets for `status`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PartitionLag {
    pub partition: i32,
    /// The offset the next message will get.
    pub end_offset: i64,
    /// The group's committed offset (the next one it will read), if any.
    pub committed_offset: Option<i64>,
    /// Messages not yet committed by the group.
    pub lag: i64,
}

/// Offsets and lag of `group` on `topic`, and how many records `dead_letter_topic` holds.
pub struct TopicStatus {
    pub partitions: Vec<PartitionLag>,
    /// `None` when the dead-letter topic does not exist.
    pub dead_letters: Option<i64>,
}

/// Reads offsets for `status`. Blocking.
pub fn topic_status(
    args: &KafkaArgs,
    group: &str,
    dead_letter_topic: &str,
) -> anyhow::Result<TopicStatus> {
    let mut config = kafka::client_config(args);
    config
        .set("group.id", group)
        .set("enable.auto.commit", "false");
    kafka::check_reachable(args)?;
    let consumer: BaseConsumer<CheckContext> = kafka::create_with(&config, "status consumer")?;
    let partitions = partition_ids(&consumer, &args.topic)?.ok_or_else(|| {
        anyhow::anyhow!(
            "topic {} does not exist on {}; run `sentiflow setup`",
            args.topic,
            args.brokers
        )
    })?;

    let mut list = TopicPartitionList::new();
    for partition in &partitions {
        list.add_partition(&args.topic, *partition);
    }
    let committed = consumer
        .committed_offsets(list, kafka::CONNECT_TIMEOUT)
        .map_err(|error| {
            anyhow::anyhow!("cannot read the committed offsets of group {group}: {error}")
        })?;
    let mut lags = Vec::new();
    for partition in partitions {
        let (low, high) =
            consumer.fetch_watermarks(&args.topic, partition, kafka::CONNECT_TIMEOUT)?;
        let committed_offset =
            committed
                .find_partition(&args.topic, partition)
                .and_then(|element| match element.offset() {
                    Offset::Offset(offset) => Some(offset),
                    _ => None,
                });
        lags.push(PartitionLag {
            partition,
            end_offset: high,
            committed_offset,
            lag: high - committed_offset.unwrap_or(low).max(low),
        });
    }

    let dead_letters = match partition_ids(&consumer, dead_letter_topic)? {
        None => None,
        Some(partitions) => {
            let mut total = 0;
            for partition in partitions {
                let (low, high) = consumer.fetch_watermarks(
                    dead_letter_topic,
                    partition,
                    kafka::CONNECT_TIMEOUT,
                )?;
                total += high - low;
            }
            Some(total)
        }
    };
    Ok(TopicStatus {
        partitions: lags,
        dead_letters,
    })
}

/// The partition numbers of `topic`, or `None` if it does not exist.
pub fn partition_ids<C: rdkafka::consumer::ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
) -> anyhow::Result<Option<Vec<i32>>> {
    let metadata = consumer
        .fetch_metadata(Some(topic), kafka::CONNECT_TIMEOUT)
        .map_err(|error| {
            anyhow::anyhow!(
                "cannot describe topic {topic}: {}",
                kafka::describe_error(&error)
            )
        })?;
    let Some(found) = metadata.topics().first() else {
        return Ok(None);
    };
    if found.error().is_some() || found.partitions().is_empty() {
        return Ok(None);
    }
    Ok(Some(found.partitions().iter().map(|p| p.id()).collect()))
}

/// One member of a consumer group and the partitions it owns.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct GroupMember {
    /// The member id the coordinator gave it.
    pub member_id: String,
    /// The client's `client.id` and the host it connects from.
    pub client_id: String,
    pub host: String,
    /// Partitions of each topic assigned to it, sorted.
    pub assignment: Vec<(String, Vec<i32>)>,
}

/// A consumer group as its coordinator describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct GroupDescription {
    /// `Stable`, `PreparingRebalance`, `CompletingRebalance`, `Empty` or `Dead`.
    pub state: String,
    pub members: Vec<GroupMember>,
}

/// The members of `group` and their partitions, from the group coordinator
/// (DescribeGroups, classic protocol). Blocking.
pub fn describe_group(args: &KafkaArgs, group: &str) -> anyhow::Result<GroupDescription> {
    let consumer: BaseConsumer = kafka::create(&kafka::client_config(args), "admin consumer")?;
    let list = consumer
        .fetch_group_list(Some(group), kafka::CONNECT_TIMEOUT)
        .map_err(|error| {
            anyhow::anyhow!(
                "cannot describe consumer group {group}: {}",
                kafka::describe_error(&error)
            )
        })?;
    let Some(info) = list.groups().iter().find(|info| info.name() == group) else {
        return Ok(GroupDescription::default());
    };
    let mut members: Vec<GroupMember> = info
        .members()
        .iter()
        .map(|member| GroupMember {
            member_id: member.id().to_owned(),
            client_id: member.client_id().to_owned(),
            host: member.client_host().to_owned(),
            assignment: member
                .assignment()
                .and_then(decode_assignment)
                .unwrap_or_default(),
        })
        .collect();
    members.sort_by(|a, b| {
        a.assignment
            .cmp(&b.assignment)
            .then(a.member_id.cmp(&b.member_id))
    });
    Ok(GroupDescription {
        state: info.state().to_owned(),
        members,
    })
}

/// Decodes a consumer-protocol `Assignment` (version, then topics with their
/// partitions, then user data); `None` when it is not one.
fn decode_assignment(bytes: &[u8]) -> Option<Vec<(String, Vec<i32>)>> {
    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if bytes.len() < n {
            return None;
        }
        let (head, tail) = bytes.split_at(n);
        *bytes = tail;
        Some(head)
    }
    fn int16(bytes: &mut &[u8]) -> Option<i16> {
        Some(i16::from_be_bytes(take(bytes, 2)?.try_into().ok()?))
    }
    fn int32(bytes: &mut &[u8]) -> Option<i32> {
        Some(i32::from_be_bytes(take(bytes, 4)?.try_into().ok()?))
    }
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let mut rest = bytes;
    let _version = int16(&mut rest)?;
    let topics = int32(&mut rest)?;
    let mut assignment = Vec::new();
    for _ in 0..topics.max(0) {
        let length = usize::try_from(int16(&mut rest)?).ok()?;
        let topic = String::from_utf8(take(&mut rest, length)?.to_vec()).ok()?;
        let count = int32(&mut rest)?;
        let mut partitions = Vec::new();
        for _ in 0..count.max(0) {
            partitions.push(int32(&mut rest)?);
        }
        partitions.sort_unstable();
        assignment.push((topic, partitions));
    }
    Some(assignment)
}

/// A message read back for the dashboard.
struct ReadBack {
    partition: i32,
    offset: i64,
    timestamp_ms: Option<i64>,
    headers: Vec<(String, Vec<u8>)>,
    value: Vec<u8>,
}

/// Reads messages of `topic` from the given (partition, start, end) ranges
/// (end exclusive) with a consumer outside any group, within `timeout`. Blocking.
fn read_ranges(
    args: &KafkaArgs,
    topic: &str,
    ranges: &[(i32, i64, i64)],
    timeout: Duration,
) -> anyhow::Result<Vec<ReadBack>> {
    use rdkafka::Message;
    use rdkafka::message::Headers;
    let ranges: Vec<(i32, i64, i64)> = ranges.iter().copied().filter(|(_, s, e)| s < e).collect();
    if ranges.is_empty() {
        return Ok(Vec::new());
    }
    let mut config = kafka::client_config(args);
    config
        .set("group.id", "sentiflow-dashboard")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    let consumer: BaseConsumer = kafka::create(&config, "dashboard reader")?;
    let mut list = TopicPartitionList::new();
    for (partition, start, _) in &ranges {
        list.add_partition_offset(topic, *partition, Offset::Offset(*start))?;
    }
    consumer.assign(&list)?;
    let mut remaining: std::collections::HashMap<i32, i64> =
        ranges.iter().map(|(p, _, end)| (*p, *end)).collect();
    let mut read = Vec::new();
    let deadline = std::time::Instant::now() + timeout;
    while !remaining.is_empty() && std::time::Instant::now() < deadline {
        let Some(message) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let Ok(message) = message else { continue };
        let partition = message.partition();
        let Some(end) = remaining.get(&partition).copied() else {
            continue;
        };
        if message.offset() + 1 >= end {
            remaining.remove(&partition);
        }
        if message.offset() >= end {
            continue;
        }
        let headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
                    .collect()
            })
            .unwrap_or_default();
        read.push(ReadBack {
            partition,
            offset: message.offset(),
            timestamp_ms: message.timestamp().to_millis(),
            headers,
            value: message.payload().unwrap_or_default().to_vec(),
        });
    }
    Ok(read)
}

/// The timestamp of the first message each group member has not processed
/// yet (the one at its committed offset), for partitions with lag: the age of
/// the oldest unprocessed record is the lag in seconds. Blocking.
pub fn oldest_unprocessed_ms(
    args: &KafkaArgs,
    lags: &[PartitionLag],
) -> anyhow::Result<Vec<(i32, i64)>> {
    let ranges: Vec<(i32, i64, i64)> = lags
        .iter()
        .filter(|p| p.lag > 0)
        .map(|p| {
            let next = p.end_offset - p.lag;
            (p.partition, next, next + 1)
        })
        .collect();
    Ok(
        read_ranges(args, &args.topic, &ranges, Duration::from_secs(2))?
            .into_iter()
            .filter_map(|m| Some((m.partition, m.timestamp_ms?)))
            .collect(),
    )
}

/// The last `count` records of the dead-letter topic (newest first), with
/// their reasons and where they came from, and how many it holds. Blocking.
pub fn latest_dead_letters(
    args: &KafkaArgs,
    dead_letter_topic: &str,
    count: usize,
) -> anyhow::Result<crate::sinks::view::DeadLettersView> {
    use crate::sinks::dead_letter_topic as dlq;
    use crate::sinks::view::{DeadLetterView, DeadLettersView, preview};
    let mut config = kafka::client_config(args);
    config.set("allow.auto.create.topics", "false");
    let consumer: BaseConsumer = kafka::create(&config, "metadata client")?;
    let Some(partitions) = partition_ids(&consumer, dead_letter_topic)? else {
        return Ok(DeadLettersView::default());
    };
    let mut total = 0u64;
    let mut ranges = Vec::new();
    for partition in partitions {
        let (low, high) =
            consumer.fetch_watermarks(dead_letter_topic, partition, kafka::CONNECT_TIMEOUT)?;
        total += (high - low).max(0) as u64;
        ranges.push((partition, (high - count as i64).max(low), high));
    }
    let mut read = read_ranges(args, dead_letter_topic, &ranges, Duration::from_secs(3))?;
    read.sort_by(|a, b| {
        b.timestamp_ms
            .cmp(&a.timestamp_ms)
            .then(b.offset.cmp(&a.offset))
    });
    read.truncate(count);
    let latest = read
        .into_iter()
        .map(|message| {
            let header = |name: &str| {
                message
                    .headers
                    .iter()
                    .rev()
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
            };
            let origin = match (
                header(dlq::HEADER_SOURCE_TOPIC),
                header(dlq::HEADER_SOURCE_PARTITION),
                header(dlq::HEADER_SOURCE_OFFSET),
            ) {
                (Some(topic), Some(partition), Some(offset)) => {
                    Some(format!("{topic}/{partition}@{offset}"))
                }
                _ => None,
            };
            DeadLetterView {
                at_ms: message.timestamp_ms,
                code: header(dlq::HEADER_CODE),
                reason: header(dlq::HEADER_REASON).unwrap_or_else(|| "(no reason header)".into()),
                stage: header(dlq::HEADER_STAGE),
                origin,
                value_preview: preview(&message.value),
            }
        })
        .collect();
    Ok(DeadLettersView {
        total,
        by_code: Vec::new(),
        latest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(replication_factor: i32, min_insync_replicas: i32) -> TopicSpec {
        TopicSpec {
            partitions: 2,
            replication_factor,
            max_message_bytes: 64_000,
            flush_messages: 1,
            min_insync_replicas,
        }
    }

    #[test]
    fn the_original_settings_warn_that_they_tolerate_no_broker_loss_and_suggest_rf_3() {
        let warning = durability_warning(&spec(2, 2), 3).expect("a warning for RF 2, min ISR 2");
        assert!(
            warning.starts_with("warning: replication factor 2 with min.insync.replicas 2 tolerates no broker loss for writes"),
            "{warning}"
        );
        assert!(
            warning.contains("--replication-factor 3 with --min-insync-replicas 2"),
            "{warning}"
        );
        assert!(
            !warning.contains("at least"),
            "3 brokers are enough: {warning}"
        );
        let small = durability_warning(&spec(2, 2), 2).unwrap();
        assert!(
            small.contains("on a cluster of at least 3 brokers; this one has 2"),
            "{small}"
        );
        let all = durability_warning(&spec(3, 3), 5).unwrap();
        assert!(all.contains("--replication-factor 4"), "{all}");
    }

    #[test]
    fn settings_that_survive_a_broker_loss_or_have_one_replica_do_not_warn() {
        assert_eq!(durability_warning(&spec(3, 2), 3), None);
        assert_eq!(durability_warning(&spec(2, 1), 3), None);
        assert_eq!(durability_warning(&spec(1, 1), 1), None);
    }

    #[test]
    fn consumer_protocol_assignments_decode_to_topics_and_partitions() {
        // version 3, one topic "sentences" with partitions 1 and 0, empty user data
        let mut bytes = vec![0, 3, 0, 0, 0, 1, 0, 9];
        bytes.extend_from_slice(b"sentences");
        bytes.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0]);
        bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            decode_assignment(&bytes),
            Some(vec![("sentences".to_owned(), vec![0, 1])])
        );
        assert_eq!(decode_assignment(&[]), Some(vec![]));
        assert_eq!(decode_assignment(&[0, 3, 0, 0, 0, 1, 0, 9, b's']), None);
    }
}
