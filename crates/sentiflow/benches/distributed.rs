//! Measurements for scripts/bench-distributed, against the services on 127.0.0.1:
//!
//! - `cassandra KEYSPACE ROWS CONCURRENCY`: the ceiling of raw prepared
//!   single-row inserts with the scylla driver and bounded concurrency, no
//!   Kafka, no scoring;
//! - `kafka TOPIC`: the ceiling of raw consumption of a whole topic with
//!   librdkafka, no processing, no commits;
//! - `rows KEYSPACE`: over the rows of `KEYSPACE.sentimental_analysis`,
//!   percentiles of `processed_at - produced_at` and the steady rate (rows
//!   divided by the time from the first to the last `processed_at`).
//!
//! Each prints one JSON object. Run through cargo:
//! `cargo bench -p sentiflow --bench distributed -- cassandra bench_ks 200000 256`.

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
        ["pipeline", keyspace, rows, batches] => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(pipeline_without_kafka(
                keyspace,
                rows.parse()?,
                batches.parse()?,
            ))
        }
        ["rows", keyspace] => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(rows(keyspace))
        }
        // `cargo bench` without arguments runs every bench binary: nothing to do here.
        [] => Ok(()),
        other => anyhow::bail!(
            "usage: distributed cassandra KEYSPACE ROWS CONCURRENCY | kafka TOPIC | rows KEYSPACE (got {other:?})"
        ),
    }
}

async fn session() -> anyhow::Result<scylla::client::session::Session> {
    Ok(scylla::client::session_builder::SessionBuilder::new()
        .known_node("127.0.0.1:9042")
        .user("cassandra", "cassandra")
        .build()
        .await?)
}

async fn rows(keyspace: &str) -> anyhow::Result<()> {
    let session = session().await?;
    let mut select = scylla::statement::Statement::new(format!(
        "SELECT produced_at, processed_at FROM {keyspace}.sentimental_analysis"
    ));
    select.set_page_size(5000);
    let mut rows = session
        .query_iter(select, ())
        .await?
        .rows_stream::<(scylla::value::CqlTimestamp, scylla::value::CqlTimestamp)>()?;
    let mut latencies = Vec::new();
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    while let Some((produced, processed)) = futures_util::TryStreamExt::try_next(&mut rows).await? {
        latencies.push(processed.0 - produced.0);
        (first, last) = (first.min(processed.0), last.max(processed.0));
    }
    anyhow::ensure!(
        !latencies.is_empty(),
        "no rows in {keyspace}.sentimental_analysis"
    );
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!(
        "{}",
        serde_json::json!({"latency_ms": {"rows": latencies.len(), "p50": at(0.5), "p90": at(0.9),
                           "p99": at(0.99), "max": latencies[latencies.len() - 1]},
                           "steady_rows_per_second": latencies.len() as f64 / ((last - first).max(1) as f64 / 1000.0)})
    );
    Ok(())
}

/// sentiflow's pipeline loop and Cassandra sink fed by the generator: the
/// processor without Kafka (the keyspace must have been set up).
async fn pipeline_without_kafka(keyspace: &str, rows: u64, batches: usize) -> anyhow::Result<()> {
    use sentiflow::pipeline::{self, PipelineOptions, PipelineStats};
    use sentiflow::sinks::cassandra::{CassandraOptions, CassandraSink};
    use sentiflow::sources::memory::{GeneratorOptions, MemorySource};
    use std::sync::Arc;
    let options = CassandraOptions {
        hosts: vec!["127.0.0.1".into()],
        port: 9042,
        username: Some("cassandra".into()),
        password: Some("cassandra".into()),
        keyspace: keyspace.into(),
        table: "sentimental_analysis".into(),
        consistency: scylla::statement::Consistency::LocalQuorum,
        ..CassandraOptions::default()
    };
    let sink = Arc::new(CassandraSink::open(&options).await?);
    let source = MemorySource::start(GeneratorOptions {
        seed: 1,
        style: sentiflow::generate::Style::Review,
        count: Some(rows),
        rate: None,
        batch_size: 1000,
        queue_batches: 4,
    });
    let stats = Arc::new(PipelineStats::default());
    let (_trigger, shutdown) = sentiflow::shutdown::Shutdown::new();
    let pipeline_options = PipelineOptions {
        max_in_flight: batches,
        ..PipelineOptions::default()
    };
    let started = Instant::now();
    pipeline::run(
        source,
        sink,
        Arc::new(NoDeadLetters),
        &pipeline_options,
        Arc::clone(&stats),
        shutdown,
    )
    .await?;
    let elapsed = started.elapsed().as_secs_f64();
    let written = stats.snapshot().written;
    println!(
        "{}",
        serde_json::json!({"pipeline": "generator -> cassandra", "rows": written, "batches_in_flight": batches,
                           "elapsed_seconds": elapsed, "rows_per_second": written as f64 / elapsed})
    );
    Ok(())
}

/// Generated sentences never become dead letters; if one did, the bench is wrong.
struct NoDeadLetters;

impl sentiflow::pipeline::DeadLetterSink for NoDeadLetters {
    async fn send<'a>(
        &'a self,
        letters: &'a [sentiflow::record::DeadLetter],
    ) -> Result<(), sentiflow::pipeline::DeadLetterFailure> {
        Err(sentiflow::pipeline::DeadLetterFailure::all(
            letters.len(),
            sentiflow::pipeline::WriteError::Fatal(anyhow::anyhow!(
                "unexpected dead letters: {letters:?}"
            )),
        ))
    }
}

async fn cassandra_ceiling(keyspace: &str, rows: i64, concurrency: usize) -> anyhow::Result<()> {
    let session = session().await?;
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
