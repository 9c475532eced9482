//! `sentiflow produce`: sentences -> Kafka, with an idempotent producer and acks=all.

use std::collections::VecDeque;
use std::io::BufRead;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};

use crate::cli::ProduceArgs;
use crate::generate::{IDS_PER_SEED, SentenceGenerator, sentence_id};
use crate::kafka::{self, contract};
use crate::pipeline::{PipelineStats, StatsSnapshot};
use crate::progress::{Progress, thousands};
use crate::record::now_ms;
use crate::shutdown::Shutdown;

/// Messages sent but not yet confirmed; bounds memory and keeps the pipe full.
const MAX_UNCONFIRMED: usize = 20_000;

/// Where the sentences come from.
enum Sentences {
    Generated(SentenceGenerator),
    File(std::io::BufReader<std::fs::File>, u64),
}

impl Sentences {
    /// Writes the next sentence into `out` and returns its id, or `None` at the end of a file.
    fn next_into(&mut self, seed: u64, out: &mut String) -> anyhow::Result<Option<i64>> {
        match self {
            Sentences::Generated(generator) => Ok(Some(generator.next_into(out))),
            Sentences::File(reader, line) => loop {
                out.clear();
                if reader.read_line(out)? == 0 {
                    return Ok(None);
                }
                let index = *line;
                *line += 1;
                let trimmed = out.trim_end_matches(['\n', '\r']).len();
                out.truncate(trimmed);
                if !out.trim().is_empty() {
                    // The line number is the id's index: the same file gives the same ids.
                    anyhow::ensure!(
                        (index as i64) < IDS_PER_SEED,
                        "the file has more than {IDS_PER_SEED} lines"
                    );
                    return Ok(Some(sentence_id(seed, index)));
                }
            },
        }
    }
}

pub async fn run(args: ProduceArgs) -> anyhow::Result<()> {
    let kafka_args = &args.kafka;
    tokio::task::block_in_place(|| kafka::require_topic(kafka_args))?;
    let mut config = kafka::producer_config(kafka_args);
    config
        .set("linger.ms", "10")
        .set("compression.type", "lz4")
        .set("message.timeout.ms", "120000");
    let producer: FutureProducer = kafka::create(&config, "producer")?;
    // Connect and learn the topic's partitions now, so the first sentences are
    // not held back behind the producer's own start-up.
    tokio::task::block_in_place(|| {
        producer
            .client()
            .fetch_metadata(Some(&kafka_args.topic), kafka::CONNECT_TIMEOUT)
    })
    .map_err(|error| kafka::unreachable(kafka_args, &error))?;

    let (mut sentences, count) = match &args.from_file {
        Some(path) => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            (
                Sentences::File(std::io::BufReader::new(file), 0),
                args.count.unwrap_or(u64::MAX),
            )
        }
        None => (
            Sentences::Generated(SentenceGenerator::new(args.seed, args.style)),
            args.count.unwrap_or(1000),
        ),
    };

    let (trigger, shutdown) = Shutdown::new();
    trigger.on_signals();
    // The pipeline's counters, reused: `written` counts confirmed deliveries, `dead_lettered` failed ones.
    let stats = Arc::new(PipelineStats::default());
    let progress = Progress::start(Arc::clone(&stats), args.quiet || args.json, render_sent);
    let started = Instant::now();

    let mut unconfirmed: VecDeque<DeliveryFuture> = VecDeque::with_capacity(MAX_UNCONFIRMED);
    let mut sentence = String::with_capacity(256);
    let mut value = Vec::with_capacity(256);
    let mut key = String::with_capacity(24);
    let (mut first_id, mut last_id) = (None, None);
    let mut failures: Vec<String> = Vec::new();
    let mut sent = 0u64;
    while sent < count && !shutdown.is_requested() {
        let Some(id) = sentences.next_into(args.seed, &mut sentence)? else {
            break;
        };
        if let Some(rate) = args.rate {
            let due = started + Duration::from_secs_f64(sent as f64 / rate);
            if due > Instant::now() + Duration::from_millis(1) {
                tokio::time::sleep_until(due.into()).await;
            }
        }
        contract::encode_value(&mut value, id, &sentence, now_ms());
        key.clear();
        key.push_str(&id.to_string());
        loop {
            let record = FutureRecord::to(&kafka_args.topic)
                .key(key.as_str())
                .payload(value.as_slice());
            match producer.send_result(record) {
                Ok(delivery) => {
                    unconfirmed.push_back(delivery);
                    break;
                }
                Err((error, _)) if is_queue_full(&error) => {
                    // librdkafka's queue is full: wait for the oldest delivery, then retry.
                    match unconfirmed.pop_front() {
                        Some(oldest) => confirm(oldest, &stats, &mut failures).await,
                        None => tokio::time::sleep(Duration::from_millis(10)).await,
                    }
                }
                Err((error, _)) => anyhow::bail!(
                    "cannot send to {}: {}",
                    kafka_args.topic,
                    kafka::describe_error(&error)
                ),
            }
        }
        first_id.get_or_insert(id);
        last_id = Some(id);
        sent += 1;
        if unconfirmed.len() >= MAX_UNCONFIRMED {
            let oldest = unconfirmed.pop_front().expect("not empty");
            confirm(oldest, &stats, &mut failures).await;
        }
    }
    for delivery in unconfirmed {
        confirm(delivery, &stats, &mut failures).await;
    }
    let _ = tokio::task::block_in_place(|| producer.flush(Duration::from_secs(30)));
    progress.finish().await;

    let elapsed = started.elapsed().as_secs_f64();
    let totals = stats.snapshot();
    let summary = serde_json::json!({
        "sent": totals.written,
        "failed": totals.dead_lettered,
        "elapsed_seconds": elapsed,
        "messages_per_second": totals.written as f64 / elapsed.max(1e-9),
        "topic": kafka_args.topic,
        "brokers": kafka_args.brokers,
        "seed": args.seed,
        "first_id": first_id,
        "last_id": last_id,
        "interrupted": shutdown.is_requested(),
    });
    if args.json {
        println!("{summary}");
    } else {
        println!(
            "sentiflow produce: {} sentences sent to topic {} at {} in {:.2} s ({}/s), {} failed{}",
            thousands(totals.written),
            kafka_args.topic,
            kafka_args.brokers,
            elapsed,
            thousands((totals.written as f64 / elapsed.max(1e-9)) as u64),
            thousands(totals.dead_lettered),
            if shutdown.is_requested() {
                " (interrupted)"
            } else {
                ""
            }
        );
        if let (Some(first), Some(last)) = (first_id, last_id) {
            println!("  ids       {first} .. {last} (seed {})", args.seed);
        }
    }
    if let Some(first) = failures.first() {
        anyhow::bail!(
            "{} of {} messages were not delivered; first error: {first}",
            totals.dead_lettered,
            totals.written + totals.dead_lettered
        );
    }
    Ok(())
}

fn is_queue_full(error: &rdkafka::error::KafkaError) -> bool {
    error.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::QueueFull)
}

/// Waits for one delivery report and counts it.
async fn confirm(delivery: DeliveryFuture, stats: &PipelineStats, failures: &mut Vec<String>) {
    match delivery.await {
        Ok(Ok(_)) => {
            stats.written.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Err((error, _))) => {
            stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
            if failures.len() < 10 {
                failures.push(kafka::describe_error(&error));
            }
        }
        Err(_) => {
            stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
            if failures.len() < 10 {
                failures.push("the producer went away before confirming delivery".into());
            }
        }
    }
}

fn render_sent(now: &StatsSnapshot, rate: f64) -> String {
    format!(
        "{} sent  {}/s  {} failed",
        thousands(now.written),
        thousands(rate as u64),
        thousands(now.dead_lettered)
    )
}
