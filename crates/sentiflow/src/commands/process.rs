//! `sentiflow process`: a consumer-group member, Kafka -> VADER -> Cassandra.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::ProcessArgs;
use crate::kafka;
use crate::pipeline::{self, Ending, PipelineOptions, PipelineStats};
use crate::progress::{Progress, render_rows, thousands};
use crate::shutdown::Shutdown;
use crate::sinks::cassandra::CassandraSink;
use crate::sinks::dead_letter_topic::DeadLetterTopic;
use crate::sources::kafka::{KafkaSource, KafkaSourceOptions};

pub async fn run(args: ProcessArgs) -> anyhow::Result<()> {
    // Fail early, with advice, if a service or the topic is missing.
    tokio::task::block_in_place(|| kafka::require_topic(&args.kafka))?;
    let cassandra = super::cassandra_options(
        &args.cassandra,
        args.consistency,
        args.cassandra_concurrency as usize,
    );
    let sink = Arc::new(CassandraSink::open(&cassandra).await?);
    let dead_letter_topic = args.kafka.dead_letter_topic(&args.dlq_topic);
    let dead_letters = Arc::new(DeadLetterTopic::new(
        &args.kafka,
        dead_letter_topic.clone(),
    )?);

    let (trigger, shutdown) = Shutdown::new();
    trigger.on_signals();
    let source = KafkaSource::start(
        &args.kafka,
        KafkaSourceOptions {
            group: args.group.clone(),
            batch_size: args.batch_size as usize,
            linger: Duration::from_millis(20),
            queue_batches: 4,
            exit_when_idle: args.exit_when_idle.map(Duration::from_secs_f64),
            max_sentence_bytes: args.max_sentence_bytes,
            drain_timeout: Duration::from_secs(30),
        },
    )?;
    let stats = Arc::new(PipelineStats::default());
    let progress = Progress::start(Arc::clone(&stats), args.quiet || args.json, render_rows);
    let started = Instant::now();
    let options = PipelineOptions {
        max_in_flight: args.max_in_flight_batches as usize,
        ..PipelineOptions::default()
    };
    let ending = pipeline::run(
        source,
        sink,
        dead_letters,
        &options,
        Arc::clone(&stats),
        shutdown,
    )
    .await;
    progress.finish().await;
    let ending = ending?;

    let elapsed = started.elapsed().as_secs_f64();
    let totals = stats.snapshot();
    let ending = match ending {
        Ending::Exhausted => "idle",
        Ending::Interrupted => "interrupted",
        Ending::Abandoned => "abandoned",
    };
    if args.json {
        let summary = serde_json::json!({
            "ending": ending,
            "received": totals.received,
            "rows_written": totals.written,
            "dead_letters": totals.dead_lettered,
            "write_retries": totals.write_retries,
            "waited_on_source_seconds": totals.waited_on_source_us as f64 / 1e6,
            "waited_on_sink_seconds": totals.waited_on_sink_us as f64 / 1e6,
            "positive": totals.positive,
            "negative": totals.negative,
            "neutral": totals.neutral,
            "elapsed_seconds": elapsed,
            "rows_per_second": totals.written as f64 / elapsed.max(1e-9),
            "topic": args.kafka.topic,
            "group": args.group,
            "table": format!("{}.{}", args.cassandra.keyspace, args.cassandra.table),
            "dead_letter_topic": dead_letter_topic,
        });
        println!("{summary}");
    } else {
        println!(
            "sentiflow process: {} rows written to {}.{} and {} dead letters to {} in {:.2} s ({} rows/s); ended: {ending}",
            thousands(totals.written),
            args.cassandra.keyspace,
            args.cassandra.table,
            thousands(totals.dead_lettered),
            dead_letter_topic,
            elapsed,
            thousands((totals.written as f64 / elapsed.max(1e-9)) as u64),
        );
        println!(
            "  positive {}  negative {}  neutral {}  (group {}, topic {})",
            thousands(totals.positive),
            thousands(totals.negative),
            thousands(totals.neutral),
            args.group,
            args.kafka.topic
        );
        if ending == "abandoned" {
            println!(
                "  writes were still failing at shutdown: their offsets were not committed and will be read again"
            );
        }
    }
    Ok(())
}
