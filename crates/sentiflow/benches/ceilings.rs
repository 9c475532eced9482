//! The ceilings `sentiflow process` is measured against (scripts/bench-distributed):
//!
//! - `cassandra KEYSPACE ROWS CONCURRENCY`: raw prepared single-row inserts
//!   with the scylla driver and bounded concurrency, no Kafka, no scoring;
//! - `kafka TOPIC`: raw consumption of a whole topic with librdkafka, no
//!   processing, no commits.
//!
//! Each prints one JSON object. Run through cargo:
//! `cargo bench -p sentiflow --bench ceilings -- cassandra bench_ks 200000 256`.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["cassandra", keyspace, rows, concurrency] => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(cassandra_ceiling(
                keyspace,
                rows.parse()?,
                concurrency.parse()?,
            ))
        }
        ["kafka", topic] => kafka_ceiling(topic),
        // `cargo bench` without arguments runs every bench binary: nothing to do here.
        [] => Ok(()),
        other => anyhow::bail!(
            "usage: ceilings cassandra KEYSPACE ROWS CONCURRENCY | ceilings kafka TOPIC (got {other:?})"
        ),
    }
}

async fn cassandra_ceiling(keyspace: &str, rows: i64, concurrency: usize) -> anyhow::Result<()> {
    let session = scylla::client::session_builder::SessionBuilder::new()
        .known_node("127.0.0.1:9042")
        .user("cassandra", "cassandra")
        .build()
        .await?;
    let create_keyspace = format!(
        "CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
    );
    session.query_unpaged(create_keyspace, ()).await?;
    // The same columns as sentiflow's table, so each insert costs Cassandra the same.
    let create_table = format!(
        "CREATE TABLE IF NOT EXISTS {keyspace}.ceiling (id bigint PRIMARY KEY, sentence text, sentimental_analysis text, \
         compound double, pos double, neu double, neg double, produced_at timestamp, processed_at timestamp, \
         source_partition int, source_offset bigint)"
    );
    session.query_unpaged(create_table, ()).await?;
    let mut insert = session
        .prepare(format!(
            "INSERT INTO {keyspace}.ceiling (id, sentence, sentimental_analysis, compound, pos, neu, neg, produced_at, \
             processed_at, source_partition, source_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .await?;
    insert.set_consistency(scylla::statement::Consistency::LocalQuorum);
    let sentence = "The battery life is absolutely fantastic, would buy again!";
    let now = scylla::value::CqlTimestamp(1_700_000_000_000);
    let started = Instant::now();
    let results = futures_util::stream::iter(0..rows)
        .map(|id| {
            let insert = &insert;
            let session = &session;
            async move {
                let values = (
                    id, sentence, "positive", 0.6, 0.4, 0.6, 0.0, now, now, 0i32, id,
                );
                session.execute_unpaged(insert, values).await
            }
        })
        .buffer_unordered(concurrency)
        .fold(0u64, |failed, result| async move {
            failed + u64::from(result.is_err())
        })
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"ceiling": "cassandra", "rows": rows, "failed": results, "concurrency": concurrency,
                           "elapsed_seconds": elapsed, "rows_per_second": rows as f64 / elapsed})
    );
    Ok(())
}

fn kafka_ceiling(topic: &str) -> anyhow::Result<()> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", "127.0.0.1:9092")
        .set("group.id", "sentiflow-bench-ceiling")
        .set("enable.auto.commit", "false")
        .create()?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let partitions: Vec<i32> = metadata.topics()[0]
        .partitions()
        .iter()
        .map(|p| p.id())
        .collect();
    let mut assignment = TopicPartitionList::new();
    let mut total = 0i64;
    for partition in &partitions {
        let (low, high) = consumer.fetch_watermarks(topic, *partition, Duration::from_secs(10))?;
        total += high - low;
        assignment.add_partition_offset(topic, *partition, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    let started = Instant::now();
    let (mut read, mut bytes) = (0i64, 0usize);
    while read < total {
        match consumer.poll(Duration::from_secs(10)) {
            Some(Ok(message)) => {
                read += 1;
                bytes += message.payload_len();
            }
            Some(Err(error)) => anyhow::bail!("consume failed: {error}"),
            None => anyhow::bail!("no message for 10 s after {read} of {total}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"ceiling": "kafka", "messages": read, "bytes": bytes,
                           "elapsed_seconds": elapsed, "messages_per_second": read as f64 / elapsed})
    );
    Ok(())
}
