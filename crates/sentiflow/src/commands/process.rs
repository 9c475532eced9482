//! `sentiflow process`: a consumer-group member, Kafka -> VADER -> Cassandra.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::drive::Drive;
use crate::cli::ProcessArgs;
use crate::kafka;
use crate::pipeline::{PipelineOptions, PipelineStats};
use crate::progress::thousands;
use crate::shutdown::Shutdown;
use crate::sinks::cassandra::{self, CassandraSink};
use crate::sinks::dead_letter_topic::DeadLetterTopic;
use crate::sources::kafka::{KafkaSource, KafkaSourceOptions};
use crate::stats::Components;
use crate::web;

/// Batches queued between the poll thread and the pipeline.
const QUEUE_BATCHES: usize = 4;

/// The Kafka source `process` reads with these flags (also what the no-op
/// sink bench, `benches/ceiling.rs`, measures).
pub fn start_source(args: &ProcessArgs, stats: Arc<PipelineStats>) -> anyhow::Result<KafkaSource> {
    KafkaSource::start(
        &args.kafka,
        KafkaSourceOptions {
            group: args.group.group.clone(),
            batch_size: args.batch_size as usize,
            linger: Duration::from_millis(20),
            queue_batches: QUEUE_BATCHES,
            pause_after: args.pause_after,
            exit_when_idle: args.exit_when_idle,
            max_sentence_bytes: args.max_sentence_bytes as usize,
            drain_timeout: args.drain_timeout,
        },
        stats,
    )
}

pub async fn run(args: ProcessArgs) -> anyhow::Result<()> {
    // Fail early, with advice, if a service or a topic is missing.
    tokio::task::block_in_place(|| kafka::require_topic(&args.kafka))?;
    let dead_letter_topic = args.kafka.dead_letter_topic(&args.dead_letters);
    let dead_letters =
        Arc::new(DeadLetterTopic::open(&args.kafka, dead_letter_topic.clone()).await?);
    let cassandra = cassandra::CassandraOptions {
        batch_bytes: args.cassandra_batch_bytes as usize,
        ..super::cassandra_options(
            &args.cassandra,
            args.consistency,
            args.cassandra_concurrency as usize,
        )
    };
    let sink = Arc::new(CassandraSink::open(&cassandra).await?);

    let (trigger, shutdown) = Shutdown::new();
    trigger.on_signals();
    let stats = Arc::new(PipelineStats::new(Components {
        source: "kafka_source",
        sink: "cassandra_sink",
        dead_letters: "dead_letter_topic",
    }));
    let source = start_source(&args, Arc::clone(&stats))?;
    let web = match web::bind_for(&args.web.metrics, true, args.web.ui) {
        Some(bind) => {
            let probed = Arc::clone(&sink);
            Some(web::Plan {
                command: "process",
                bind,
                metrics_bind: None,
                dashboard: args.web.ui,
                store: match args.web.ui {
                    true => Some(web::Store::Cassandra(Arc::new(
                        cassandra::Dashboard::open(&cassandra).await?,
                    ))),
                    false => None,
                },
                kafka: Some(web::KafkaTarget {
                    args: args.kafka.clone(),
                    group: args.group.group.clone(),
                    dead_letter_topic: dead_letter_topic.clone(),
                    read_offsets: false,
                }),
                probes: vec![web::Probe::new("cassandra", move || {
                    let sink = Arc::clone(&probed);
                    Box::pin(
                        async move { cassandra::ping(sink.session(), web::PROBE_TIMEOUT).await },
                    )
                })],
            })
        }
        None => None,
    };
    let (summary, finish) = Drive {
        source,
        sink,
        dead_letters,
        options: PipelineOptions {
            max_in_flight: args.max_in_flight_batches as usize,
            ..PipelineOptions::default()
        },
        stats: Arc::clone(&stats),
        shutdown,
        output: &args.output,
        web,
        linger: false,
    }
    .run("idle")
    .await?;
    let source = &stats.source;
    let offset_resets = source.offset_resets.load(Ordering::Relaxed);
    let skipped = source.skipped_by_resets.load(Ordering::Relaxed);

    let table = format!("{}.{}", args.cassandra.keyspace, args.cassandra.table);
    if args.output.json {
        let extra = serde_json::json!({
            "topic": args.kafka.topic,
            "group": args.group.group,
            "table": table,
            "dead_letter_topic": dead_letter_topic,
            "rebalances": source.rebalances.load(Ordering::Relaxed),
            "offset_resets": offset_resets,
            "messages_skipped_by_resets": skipped,
        });
        println!("{}", summary.to_json(extra));
    } else {
        println!(
            "sentiflow process: {} rows written to {table} and {} dead letters to {dead_letter_topic}; ended: {}",
            thousands(summary.rows_written),
            thousands(summary.dead_letters),
            summary.ending,
        );
        println!(
            "  {} rows/s over {:.2} s of processing; {:.2} s from start to exit",
            thousands(summary.rows_per_second as u64),
            summary.processing_seconds,
            summary.elapsed_seconds,
        );
        println!(
            "  positive {}  negative {}  neutral {}  (group {}, topic {})",
            thousands(summary.positive),
            thousands(summary.negative),
            thousands(summary.neutral),
            args.group.group,
            args.kafka.topic
        );
        if offset_resets > 0 {
            println!(
                "  {} offset resets skipped {} messages (see the log)",
                thousands(offset_resets),
                thousands(skipped)
            );
        }
        if summary.ending == "abandoned" {
            println!(
                "  writes were still failing at shutdown: their offsets were not committed and will be read again"
            );
        }
    }
    finish.done().await;
    Ok(())
}
