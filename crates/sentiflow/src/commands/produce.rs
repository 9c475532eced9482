//! `sentiflow produce`: sentences -> Kafka, with an idempotent producer and acks=all.
//!
//! The summary accounts for every message: sent (the broker confirmed it),
//! failed (the broker or the client refused it, with the first reasons),
//! unknown (never confirmed either way, e.g. the producer was stopped), and,
//! for a file, lines skipped because they are not UTF-8.

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::error::KafkaError;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;

use crate::cli::ProduceArgs;
use crate::generate::SentenceGenerator;
use crate::ids::{self, MAX_FILE_SEED};
use crate::kafka::{self, contract};
use crate::pipeline::{PipelineStats, StatsSnapshot};
use crate::progress::{Progress, thousands};
use crate::record::now_ms;
use crate::shutdown::Shutdown;
use crate::web;

/// Messages sent but not yet confirmed; bounds memory and keeps the pipe full.
const MAX_UNCONFIRMED: usize = 20_000;

/// Reasons of failed deliveries kept for the summary.
const FAILURES_KEPT: usize = 10;

/// Where the sentences come from.
enum Sentences {
    Generated(SentenceGenerator),
    File {
        reader: std::io::BufReader<std::fs::File>,
        path: PathBuf,
        /// The next line's number, from 0.
        line: u64,
        seed: u64,
        /// Lines that are not UTF-8, skipped.
        skipped: u64,
        bytes: Vec<u8>,
    },
}

impl Sentences {
    fn open(args: &ProduceArgs) -> anyhow::Result<Sentences> {
        Ok(match &args.from_file {
            Some(path) => {
                anyhow::ensure!(
                    args.seed <= MAX_FILE_SEED,
                    "--seed with --from-file can be at most {MAX_FILE_SEED} (lines have ids of their own); use a smaller seed"
                );
                let file = std::fs::File::open(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                Sentences::File {
                    reader: std::io::BufReader::new(file),
                    path: path.clone(),
                    line: 0,
                    seed: args.seed,
                    skipped: 0,
                    bytes: Vec::with_capacity(256),
                }
            }
            None => Sentences::Generated(SentenceGenerator::new(args.seed, args.style)),
        })
    }

    /// Writes the next sentence into `out` and returns its id, or `None` at
    /// the end of a file.
    fn next_into(&mut self, out: &mut String) -> anyhow::Result<Option<i64>> {
        match self {
            Sentences::Generated(generator) => match generator.next_into(out) {
                Some(id) => Ok(Some(id)),
                None => anyhow::bail!(
                    "seed {} has no ids left (10,000,000,000 sentences); go on with --seed {}",
                    generator.seed(),
                    generator.seed() + 1
                ),
            },
            Sentences::File {
                reader,
                path,
                line,
                seed,
                skipped,
                bytes,
            } => loop {
                bytes.clear();
                if reader
                    .read_until(b'\n', bytes)
                    .with_context(|| format!("cannot read {}", path.display()))?
                    == 0
                {
                    return Ok(None);
                }
                let number = *line;
                *line += 1;
                while matches!(bytes.last(), Some(b'\n' | b'\r')) {
                    bytes.pop();
                }
                let Ok(text) = std::str::from_utf8(bytes) else {
                    *skipped += 1;
                    tracing::warn!(
                        "{} line {} is not valid UTF-8: skipped",
                        path.display(),
                        number + 1
                    );
                    continue;
                };
                if text.trim().is_empty() {
                    continue;
                }
                out.clear();
                out.push_str(text);
                // The line number is the id's index: the same file gives the same ids.
                let id = ids::file_line_id(*seed, number).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{} has more lines than ids ({})",
                        path.display(),
                        ids::IDS_PER_SEED
                    )
                })?;
                return Ok(Some(id));
            },
        }
    }

    fn skipped(&self) -> u64 {
        match self {
            Sentences::Generated(_) => 0,
            Sentences::File { skipped, .. } => *skipped,
        }
    }
}

/// What happened to the messages.
#[derive(Default)]
struct Deliveries {
    /// Confirmed by the broker.
    sent: AtomicU64,
    /// Refused, by the broker or the client.
    failed: AtomicU64,
    /// Never confirmed either way.
    unknown: AtomicU64,
    failures: std::sync::Mutex<Vec<String>>,
}

impl Deliveries {
    fn fail(&self, reason: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() < FAILURES_KEPT && !failures.contains(&reason) {
            failures.push(reason);
        }
    }
}

pub async fn run(args: ProduceArgs) -> anyhow::Result<()> {
    let kafka_args = &args.kafka;
    let mut sentences = Sentences::open(&args)?;
    tokio::task::block_in_place(|| kafka::require_topic(kafka_args))?;
    let mut config = kafka::producer_config(kafka_args);
    config
        .set("linger.ms", "10")
        .set("compression.type", "lz4")
        .set(
            "message.timeout.ms",
            args.delivery_timeout
                .as_millis()
                .min(i32::MAX as u128)
                .to_string(),
        );
    let producer: FutureProducer = kafka::create(&config, "producer")?;
    // Connect and learn the topic's partitions now, so the first sentences are
    // not held back behind the producer's own start-up.
    tokio::task::block_in_place(|| {
        producer
            .client()
            .fetch_metadata(Some(&kafka_args.topic), kafka::CONNECT_TIMEOUT)
    })
    .map_err(|error| kafka::unreachable(kafka_args, &error))?;
    let count = args.count.unwrap_or(match args.from_file {
        Some(_) => u64::MAX,
        None => 1000,
    });

    let (trigger, shutdown) = Shutdown::new();
    trigger.on_signals();
    // The pipeline's counters drive the progress line: `written` counts
    // confirmed deliveries, `dead_lettered` failed ones.
    let stats = Arc::new(PipelineStats::default());
    let server = match web::bind_for(&args.metrics, false, false) {
        Some(bind) => {
            let plan = web::Plan {
                command: "produce",
                bind,
                metrics_bind: None,
                dashboard: false,
                store: None,
                kafka: None,
                probes: Vec::new(),
            };
            Some(web::start(plan, web::Live::Producer(Arc::clone(&stats))).await?)
        }
        None => None,
    };
    let progress = Progress::start(
        Arc::clone(&stats),
        args.output.quiet || args.output.json,
        render_sent,
    );
    let deliveries = Deliveries::default();
    let started = Instant::now();

    let mut unconfirmed: VecDeque<DeliveryFuture> = VecDeque::with_capacity(MAX_UNCONFIRMED);
    let mut sentence = String::with_capacity(256);
    let mut value = Vec::with_capacity(256);
    let mut key = String::with_capacity(24);
    let (mut first_id, mut last_id) = (None, None);
    let mut attempted = 0u64;
    let mut stopped: Option<String> = None;
    while attempted < count && !shutdown.is_requested() {
        let id = match sentences.next_into(&mut sentence) {
            Ok(Some(id)) => id,
            Ok(None) => break,
            Err(error) => {
                stopped = Some(format!("{error:#}"));
                break;
            }
        };
        if let Some(rate) = args.rate {
            let due = started + Duration::from_secs_f64(attempted as f64 / rate);
            if due > Instant::now() + Duration::from_millis(1) {
                tokio::time::sleep_until(due.into()).await;
            }
        }
        contract::encode_value(&mut value, id, &sentence, now_ms());
        key.clear();
        key.push_str(&id.to_string());
        attempted += 1;
        first_id.get_or_insert(id);
        last_id = Some(id);
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
                        Some(oldest) => confirm(oldest, &stats, &deliveries).await,
                        None => tokio::time::sleep(Duration::from_millis(10)).await,
                    }
                }
                Err((error, _)) => {
                    deliveries.fail(kafka::describe_error(&error));
                    stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
                    if stops_producing(&error) {
                        stopped = Some(format!(
                            "cannot send to {}: {}",
                            kafka_args.topic,
                            kafka::describe_error(&error)
                        ));
                    }
                    break;
                }
            }
        }
        if stopped.is_some() {
            break;
        }
        if unconfirmed.len() >= MAX_UNCONFIRMED {
            let oldest = unconfirmed.pop_front().expect("not empty");
            confirm(oldest, &stats, &deliveries).await;
        }
    }
    for delivery in unconfirmed {
        confirm(delivery, &stats, &deliveries).await;
    }
    let _ = tokio::task::block_in_place(|| producer.flush(Duration::from_secs(30)));
    progress.finish().await;
    if let Some(server) = server {
        server.stop().await;
    }

    let elapsed = started.elapsed().as_secs_f64();
    let sent = deliveries.sent.load(Ordering::Relaxed);
    let failed = deliveries.failed.load(Ordering::Relaxed);
    let unknown = deliveries.unknown.load(Ordering::Relaxed);
    let skipped = sentences.skipped();
    let failures = deliveries
        .failures
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if args.output.json {
        let summary = serde_json::json!({
            "sent": sent,
            "failed": failed,
            "unknown": unknown,
            "skipped_lines": skipped,
            "elapsed_seconds": elapsed,
            "messages_per_second": sent as f64 / elapsed.max(1e-9),
            "topic": kafka_args.topic,
            "brokers": kafka_args.brokers,
            "seed": args.seed,
            "first_id": first_id,
            "last_id": last_id,
            "interrupted": shutdown.is_requested(),
            "failures": failures,
        });
        println!("{summary}");
    } else {
        println!(
            "sentiflow produce: {} sentences sent to topic {} at {} in {:.2} s ({}/s), {} failed, {} unknown{}",
            thousands(sent),
            kafka_args.topic,
            kafka_args.brokers,
            elapsed,
            thousands((sent as f64 / elapsed.max(1e-9)) as u64),
            thousands(failed),
            thousands(unknown),
            if shutdown.is_requested() {
                " (interrupted)"
            } else {
                ""
            }
        );
        if let (Some(first), Some(last)) = (first_id, last_id) {
            println!("  ids       {first} .. {last} (seed {})", args.seed);
        }
        if skipped > 0 {
            println!(
                "  skipped   {} lines that are not UTF-8 (each named in the log)",
                thousands(skipped)
            );
        }
    }
    if let Some(reason) = stopped {
        anyhow::bail!("{reason}; {sent} sent, {failed} failed, {unknown} unknown before stopping");
    }
    if failed + unknown > 0 {
        let timed_out = failures.iter().any(|failure| failure.contains("timed out"));
        anyhow::bail!(
            "{} of {} messages were not confirmed ({sent} sent, {failed} failed, {unknown} unknown); first error: {}{}",
            failed + unknown,
            sent + failed + unknown,
            failures.first().map_or("none reported", String::as_str),
            if timed_out {
                format!(
                    "; the brokers did not take them within --delivery-timeout ({:?}): some are down, or a partition has fewer in-sync replicas than the topic's min.insync.replicas; produce the same seed again once `scripts/services status` (or your cluster) is healthy: ids already stored are overwritten, not duplicated",
                    args.delivery_timeout
                )
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

fn is_queue_full(error: &KafkaError) -> bool {
    error.rdkafka_error_code() == Some(RDKafkaErrorCode::QueueFull)
}

/// A send error that every following message would get too.
fn stops_producing(error: &KafkaError) -> bool {
    use RDKafkaErrorCode as Code;
    matches!(
        error.rdkafka_error_code(),
        Some(
            Code::Fatal
                | Code::UnknownTopic
                | Code::TopicAuthorizationFailed
                | Code::ClusterAuthorizationFailed
        )
    )
}

/// Waits for one delivery report and counts it.
async fn confirm(delivery: DeliveryFuture, stats: &PipelineStats, deliveries: &Deliveries) {
    match delivery.await {
        Ok(Ok(_)) => {
            deliveries.sent.fetch_add(1, Ordering::Relaxed);
            stats.written.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Err((error, _))) => {
            deliveries.fail(kafka::describe_error(&error));
            stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
        }
        Err(_) => {
            deliveries.unknown.fetch_add(1, Ordering::Relaxed);
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
