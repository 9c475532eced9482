//! `/metrics`: the counters of [`PipelineStats`] (and, for `serve`, what the
//! store refresher last read) encoded by `prometheus-client` at scrape time.
//!
//! Nothing is counted twice: a [`Collector`] reads the atomics the pipeline
//! already keeps, so metrics cost the hot path nothing. Names follow
//! Prometheus' conventions and Vector's component spec (`sentiflow_` prefix,
//! `_total` counters, base units, low-cardinality labels); every metric is
//! listed in `docs/metrics.md`.
//!
//! Both text formats are served: OpenMetrics when the scraper asks for it
//! (Prometheus does), else the classic 0.0.4 text format.

use std::fmt::Error;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

use super::Live;
use super::server::Shared;
use crate::record::ReasonCode;
use crate::stats::{BUCKETS, ErrorStage, HistogramSnapshot, PipelineStats};

/// Labels of one series.
type Labels = Vec<(&'static str, String)>;

/// The content types of the two formats.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const PROMETHEUS_TEXT: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The registry: one collector over the shared state.
pub fn registry(shared: Arc<Shared>) -> Registry {
    let mut registry = Registry::with_prefix("sentiflow");
    registry.register_collector(Box::new(Exporter { shared }));
    registry
}

/// Encodes the registry in the format the `Accept` header asks for; returns
/// the body and its content type.
pub fn render(registry: &Registry, accept: &str) -> (String, &'static str) {
    let mut body = String::with_capacity(16 * 1024);
    if accept.contains("application/openmetrics-text") {
        prometheus_client::encoding::text::encode(&mut body, registry)
            .expect("writing to a String cannot fail");
        (body, OPENMETRICS)
    } else {
        prometheus_client::encoding::prometheus_text::encode(&mut body, registry)
            .expect("writing to a String cannot fail");
        (body, PROMETHEUS_TEXT)
    }
}

struct Exporter {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Exporter")
    }
}

impl Collector for Exporter {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), Error> {
        let shared = &self.shared;
        let e = &mut encoder;
        gauge(
            e,
            "build_info",
            "sentiflow's version and the command serving (always 1)",
            None,
            &[(
                vec![
                    ("version", env!("CARGO_PKG_VERSION").to_owned()),
                    ("command", shared.command.to_owned()),
                ],
                1.0,
            )],
        )?;
        gauge(
            e,
            "start_time",
            "When the process started, in seconds since the epoch",
            Some(Unit::Seconds),
            &[(vec![], shared.started_ms as f64 / 1000.0)],
        )?;
        gauge(
            e,
            "ready",
            "1 while /readyz says ready (source connected, sink healthy, probes answering), else 0",
            None,
            &[(
                vec![],
                if shared.ready_reasons().is_empty() {
                    1.0
                } else {
                    0.0
                },
            )],
        )?;
        match &shared.live {
            Live::Pipeline(stats) => encode_pipeline(e, shared, stats)?,
            Live::Producer(stats) => encode_producer(e, stats)?,
            Live::None => {}
        }
        encode_store(e, shared)
    }
}

fn encode_pipeline(
    e: &mut DescriptorEncoder,
    shared: &Shared,
    stats: &PipelineStats,
) -> Result<(), Error> {
    let totals = stats.snapshot();
    let components = stats.components;
    counter(
        e,
        "component_received_events",
        "Records (and undecodable messages) taken from the source",
        None,
        &[(
            vec![("component", components.source.to_owned())],
            totals.received as f64,
        )],
    )?;
    counter(
        e,
        "component_sent_events",
        "Rows and dead letters durably written, by component and output",
        None,
        &[
            (
                vec![
                    ("component", components.sink.to_owned()),
                    ("output", "rows".to_owned()),
                ],
                totals.written as f64,
            ),
            (
                vec![
                    ("component", components.dead_letters.to_owned()),
                    ("output", "dead_letters".to_owned()),
                ],
                totals.dead_lettered as f64,
            ),
        ],
    )?;
    let errors: Vec<(Labels, f64)> = stats
        .errors
        .snapshot()
        .into_iter()
        .map(|(stage, error_type, count)| {
            let component = match stage {
                ErrorStage::Receiving => components.source,
                ErrorStage::Sending if error_type.starts_with("dead_letter") => {
                    components.dead_letters
                }
                ErrorStage::Sending => components.sink,
                ErrorStage::Processing => "pipeline",
            };
            (
                vec![
                    ("component", component.to_owned()),
                    ("stage", stage.as_str().to_owned()),
                    ("error_type", error_type.to_owned()),
                ],
                count as f64,
            )
        })
        .collect();
    counter(
        e,
        "component_errors",
        "Errors, by component, stage (receiving, processing, sending) and type",
        None,
        &errors,
    )?;
    gauge(
        e,
        "component_up",
        "1 while the component works: the source reaches its input, the sink's last write succeeded",
        None,
        &[
            (
                vec![("component", components.source.to_owned())],
                f64::from(u8::from(stats.source.connected.get())),
            ),
            (
                vec![("component", components.sink.to_owned())],
                f64::from(u8::from(stats.sink_healthy.get())),
            ),
        ],
    )?;
    counter(
        e,
        "rows",
        "Rows written, by sentiment label",
        None,
        &[
            (
                vec![("label", "positive".to_owned())],
                totals.positive as f64,
            ),
            (
                vec![("label", "negative".to_owned())],
                totals.negative as f64,
            ),
            (vec![("label", "neutral".to_owned())], totals.neutral as f64),
        ],
    )?;
    let by_reason = stats.dead_letters_by_reason.snapshot();
    let reasons: Vec<(Labels, f64)> = ReasonCode::ALL
        .iter()
        .map(|code| {
            let count = by_reason
                .iter()
                .find(|(c, _)| c == code)
                .map_or(0, |(_, n)| *n);
            (vec![("reason", code.as_str().to_owned())], count as f64)
        })
        .collect();
    counter(
        e,
        "dead_letters",
        "Dead letters written, by reason code",
        None,
        &reasons,
    )?;
    counter(
        e,
        "write_retries",
        "Transient write failures that were retried (rows and dead letters)",
        None,
        &[(vec![], totals.write_retries as f64)],
    )?;
    counter(
        e,
        "pipeline_wait",
        "Time the pipeline waited: on=source (room for a batch, none ready: the source is the bottleneck) or on=sink (every slot busy: scoring or writing is)",
        Some(Unit::Seconds),
        &[
            (
                vec![("on", "source".to_owned())],
                totals.waited_on_source_us as f64 / 1e6,
            ),
            (
                vec![("on", "sink".to_owned())],
                totals.waited_on_sink_us as f64 / 1e6,
            ),
        ],
    )?;
    histogram(
        e,
        "batch_duration",
        "Seconds from taking a batch to having all its rows and dead letters written (scoring included)",
        vec![],
        &stats.batch_seconds.snapshot(),
    )?;
    histogram(
        e,
        "sink_write_duration",
        "Seconds of one successful write of a batch to the sink (for process: the Cassandra write)",
        vec![("component", components.sink.to_owned())],
        &stats.sink_write_seconds.snapshot(),
    )?;
    if let Some(kafka) = &shared.kafka {
        let source = &stats.source;
        let partitions = source.partitions();
        let labels = |partition: i32| -> Labels {
            vec![
                ("group", kafka.group.clone()),
                ("topic", kafka.args.topic.clone()),
                ("partition", partition.to_string()),
            ]
        };
        let lag = |value: fn(&crate::stats::PartitionStats) -> Option<f64>| -> Vec<(Labels, f64)> {
            partitions
                .iter()
                .filter_map(|p| Some((labels(p.partition), value(p)?)))
                .collect()
        };
        encode_offsets(
            e,
            &lag(|p| p.lag_messages.map(|v| v as f64)),
            &lag(|p| p.lag_seconds),
            &lag(|p| p.end_offset.map(|v| v as f64)),
            &lag(|p| p.committed_offset.map(|v| v as f64)),
        )?;
        gauge(
            e,
            "kafka_consumer_assigned_partitions",
            "Partitions assigned to this group member now",
            None,
            &[(
                vec![
                    ("group", kafka.group.clone()),
                    ("topic", kafka.args.topic.clone()),
                ],
                partitions.len() as f64,
            )],
        )?;
        use std::sync::atomic::Ordering::Relaxed;
        counter(
            e,
            "kafka_consumer_rebalances",
            "Rebalances this member took part in (assignments and revocations)",
            None,
            &[(vec![], source.rebalances.load(Relaxed) as f64)],
        )?;
        counter(
            e,
            "kafka_consumer_pauses",
            "Times fetching paused because the pipeline was full",
            None,
            &[(vec![], source.pauses.load(Relaxed) as f64)],
        )?;
        gauge(
            e,
            "kafka_consumer_paused",
            "1 while fetching is paused",
            None,
            &[(vec![], f64::from(u8::from(source.paused.load(Relaxed))))],
        )?;
        counter(
            e,
            "kafka_consumer_offset_resets",
            "Committed offsets the consumer had to reset (lost to retention, or past the end)",
            None,
            &[(vec![], source.offset_resets.load(Relaxed) as f64)],
        )?;
        counter(
            e,
            "kafka_consumer_reset_skipped_messages",
            "Messages skipped by those offset resets",
            None,
            &[(vec![], source.skipped_by_resets.load(Relaxed) as f64)],
        )?;
    }
    Ok(())
}

/// Lag, end and committed offsets per partition (from the consumer, or for
/// `serve` from the group's committed offsets).
fn encode_offsets(
    e: &mut DescriptorEncoder,
    lag_messages: &[(Labels, f64)],
    lag_seconds: &[(Labels, f64)],
    end: &[(Labels, f64)],
    committed: &[(Labels, f64)],
) -> Result<(), Error> {
    gauge(
        e,
        "kafka_consumer_lag",
        "Messages of the partition not yet written and committed: end offset minus committed offset",
        Some(Unit::Other("messages".into())),
        lag_messages,
    )?;
    gauge(
        e,
        "kafka_consumer_lag",
        "Age of the oldest message not yet written (0 without lag)",
        Some(Unit::Seconds),
        lag_seconds,
    )?;
    gauge(
        e,
        "kafka_partition_end_offset",
        "The partition's end offset (the offset the next message will get)",
        None,
        end,
    )?;
    gauge(
        e,
        "kafka_consumer_committed_offset",
        "The group's committed offset (the next message it will read)",
        None,
        committed,
    )
}

fn encode_producer(e: &mut DescriptorEncoder, stats: &PipelineStats) -> Result<(), Error> {
    let totals = stats.snapshot();
    counter(
        e,
        "component_sent_events",
        "Messages the brokers confirmed",
        None,
        &[(
            vec![
                ("component", "kafka_producer".to_owned()),
                ("output", "messages".to_owned()),
            ],
            totals.written as f64,
        )],
    )?;
    counter(
        e,
        "component_errors",
        "Messages the brokers or the client refused",
        None,
        &[(
            vec![
                ("component", "kafka_producer".to_owned()),
                ("stage", "sending".to_owned()),
                ("error_type", "delivery_failed".to_owned()),
            ],
            totals.dead_lettered as f64,
        )],
    )
}

/// What `serve` knows only from the stores.
fn encode_store(e: &mut DescriptorEncoder, shared: &Shared) -> Result<(), Error> {
    if !matches!(shared.live, Live::None) {
        return Ok(());
    }
    let view = shared.view();
    gauge(
        e,
        "store_up",
        "1 when the last read of the store (and Kafka) succeeded",
        None,
        &[(
            vec![],
            if view.error.is_none() && view.at_ms > 0 {
                1.0
            } else {
                0.0
            },
        )],
    )?;
    if let Some(labels) = &view.label_totals {
        gauge(
            e,
            "store_rows",
            "Rows in the table, by sentiment label",
            None,
            &[
                (vec![("label", "positive".to_owned())], labels[0] as f64),
                (vec![("label", "negative".to_owned())], labels[1] as f64),
                (vec![("label", "neutral".to_owned())], labels[2] as f64),
            ],
        )?;
    }
    if let Some(dead) = &view.dead_letters {
        gauge(
            e,
            "store_dead_letters",
            "Dead letters held by the store (SQLite table or dead-letter topic)",
            None,
            &[(vec![], dead.total as f64)],
        )?;
    }
    if let (Some(kafka), Some(offsets)) = (&shared.kafka, &view.offsets) {
        let labels = |partition: i32| -> Labels {
            vec![
                ("group", kafka.group.clone()),
                ("topic", kafka.args.topic.clone()),
                ("partition", partition.to_string()),
            ]
        };
        let lag_seconds: Vec<(Labels, f64)> = offsets
            .iter()
            .filter_map(|p| Some((labels(p.partition), view.lag_seconds(p)?)))
            .collect();
        encode_offsets(
            e,
            &offsets
                .iter()
                .map(|p| (labels(p.partition), p.lag as f64))
                .collect::<Vec<_>>(),
            &lag_seconds,
            &offsets
                .iter()
                .map(|p| (labels(p.partition), p.end_offset as f64))
                .collect::<Vec<_>>(),
            &offsets
                .iter()
                .filter_map(|p| Some((labels(p.partition), p.committed_offset? as f64)))
                .collect::<Vec<_>>(),
        )?;
    }
    Ok(())
}

fn counter(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    series: &[(Labels, f64)],
) -> Result<(), Error> {
    family(e, name, help, unit, MetricType::Counter, series)
}

fn gauge(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    series: &[(Labels, f64)],
) -> Result<(), Error> {
    family(e, name, help, unit, MetricType::Gauge, series)
}

/// One metric family and its series. Whole numbers are written as integers.
fn family(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    metric_type: MetricType,
    series: &[(Labels, f64)],
) -> Result<(), Error> {
    let mut family = e.encode_descriptor(name, help, unit.as_ref(), metric_type)?;
    for (labels, value) in series {
        let encoder = family.encode_family(labels)?;
        let whole = value.fract() == 0.0 && *value >= 0.0 && *value < 9e15;
        match (metric_type, whole) {
            (MetricType::Counter, true) => ConstCounter::new(*value as u64).encode(encoder)?,
            (MetricType::Counter, false) => ConstCounter::new(*value).encode(encoder)?,
            (_, true) => ConstGauge::new(*value as i64).encode(encoder)?,
            (_, false) => ConstGauge::new(*value).encode(encoder)?,
        }
    }
    Ok(())
}

/// A histogram of [`BUCKETS`] from its snapshot.
fn histogram(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    labels: Labels,
    snapshot: &HistogramSnapshot,
) -> Result<(), Error> {
    let mut family =
        e.encode_descriptor(name, help, Some(&Unit::Seconds), MetricType::Histogram)?;
    let mut encoder = family.encode_family(&labels)?;
    // prometheus-client wants per-bucket counts; it makes them cumulative again.
    let mut below = 0;
    let buckets: Vec<(f64, u64)> = snapshot
        .cumulative
        .iter()
        .enumerate()
        .map(|(index, cumulative)| {
            let bound = BUCKETS.get(index).copied().unwrap_or(f64::INFINITY);
            let count = cumulative - below;
            below = *cumulative;
            (bound, count)
        })
        .collect();
    encoder.encode_histogram::<NoLabelSet>(snapshot.sum_seconds, snapshot.count, &buckets, None)
}
