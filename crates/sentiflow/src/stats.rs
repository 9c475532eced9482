//! Live counters of a running pipeline: what the progress line, the final
//! summary, `/metrics` and the dashboard read.
//!
//! Everything here is written on the hot path with relaxed atomics (or, for
//! rare events such as errors, a short lock) and read by observers at their
//! own pace. The pipeline, the sources and the sinks write; `progress.rs` and
//! `web/` read. Nothing here knows Kafka, Cassandra or SQLite by name: the
//! command that builds a pipeline says which components it uses
//! ([`Components`]).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::record::{ReasonCode, ScoredRecord};

/// Which components a pipeline is made of, by their metric names
/// (`kafka_source`, `memory_source`, `cassandra_sink`, `sqlite_sink`,
/// `dead_letter_topic`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Components {
    pub source: &'static str,
    pub sink: &'static str,
    pub dead_letters: &'static str,
}

impl Default for Components {
    fn default() -> Self {
        Components {
            source: "source",
            sink: "sink",
            dead_letters: "dead_letters",
        }
    }
}

/// Live counters, shared by the pipeline, its source and sinks, and observers.
#[derive(Debug, Default)]
pub struct PipelineStats {
    /// The components these counters describe.
    pub components: Components,
    /// Records and dead letters taken from the source.
    pub received: AtomicU64,
    /// Rows durably written.
    pub written: AtomicU64,
    /// Dead letters durably written.
    pub dead_lettered: AtomicU64,
    pub positive: AtomicU64,
    pub negative: AtomicU64,
    pub neutral: AtomicU64,
    /// Transient write failures that were retried (rows and dead letters).
    pub write_retries: AtomicU64,
    /// Microseconds the loop had room for a batch but the source had none:
    /// the source is the bottleneck when this grows.
    pub waited_on_source_us: AtomicU64,
    /// Microseconds the loop waited with every in-flight slot taken: the
    /// scorer or the sink is the bottleneck when this grows.
    pub waited_on_sink_us: AtomicU64,
    /// Epoch milliseconds when the first record was taken from the source
    /// and when the latest row was written (0: not yet): the processing rate
    /// without start-up or idle time.
    pub first_received_ms: AtomicU64,
    pub last_written_ms: AtomicU64,
    /// Seconds from taking a batch to having it written (scoring included).
    pub batch_seconds: Histogram,
    /// Seconds of one successful `Sink::write` call (one batch).
    pub sink_write_seconds: Histogram,
    /// Dead letters written, by reason code.
    pub dead_letters_by_reason: ReasonCounts,
    /// Errors, by stage and type.
    pub errors: ErrorCounts,
    /// What the source knows of its input (partitions, lag, rebalances).
    pub source: SourceStats,
    /// Whether the sink's last write succeeded: false from a failed write
    /// until the next success.
    pub sink_healthy: Health,
}

impl PipelineStats {
    pub fn new(components: Components) -> PipelineStats {
        PipelineStats {
            components,
            ..PipelineStats::default()
        }
    }

    /// Counts the labels of `rows` (those written).
    pub fn count_labels<'a>(&self, rows: impl IntoIterator<Item = &'a ScoredRecord>) {
        let (mut pos, mut neg, mut neu) = (0, 0, 0);
        for row in rows {
            match row.label {
                vader::Label::Positive => pos += 1,
                vader::Label::Negative => neg += 1,
                vader::Label::Neutral => neu += 1,
            }
        }
        self.positive.fetch_add(pos, Ordering::Relaxed);
        self.negative.fetch_add(neg, Ordering::Relaxed);
        self.neutral.fetch_add(neu, Ordering::Relaxed);
    }

    /// `count` records were taken from the source at `now_ms`.
    pub fn count_received(&self, count: u64, now_ms: i64) {
        self.received.fetch_add(count, Ordering::Relaxed);
        let _ = self.first_received_ms.compare_exchange(
            0,
            now_ms.max(1) as u64,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// `count` rows were written at `now_ms`.
    pub fn count_written(&self, count: u64, now_ms: i64) {
        if count == 0 {
            return;
        }
        self.written.fetch_add(count, Ordering::Relaxed);
        self.last_written_ms
            .fetch_max(now_ms.max(1) as u64, Ordering::Relaxed);
    }

    /// A consistent-enough copy of the counters.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            received: self.received.load(Ordering::Relaxed),
            written: self.written.load(Ordering::Relaxed),
            dead_lettered: self.dead_lettered.load(Ordering::Relaxed),
            positive: self.positive.load(Ordering::Relaxed),
            negative: self.negative.load(Ordering::Relaxed),
            neutral: self.neutral.load(Ordering::Relaxed),
            write_retries: self.write_retries.load(Ordering::Relaxed),
            waited_on_source_us: self.waited_on_source_us.load(Ordering::Relaxed),
            waited_on_sink_us: self.waited_on_sink_us.load(Ordering::Relaxed),
            first_received_ms: self.first_received_ms.load(Ordering::Relaxed),
            last_written_ms: self.last_written_ms.load(Ordering::Relaxed),
        }
    }
}

/// A copy of the plain counters of [`PipelineStats`] at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatsSnapshot {
    pub received: u64,
    pub written: u64,
    pub dead_lettered: u64,
    pub positive: u64,
    pub negative: u64,
    pub neutral: u64,
    pub write_retries: u64,
    pub waited_on_source_us: u64,
    pub waited_on_sink_us: u64,
    pub first_received_ms: u64,
    pub last_written_ms: u64,
}

impl StatsSnapshot {
    /// Seconds from the first record taken to the last row written: the
    /// time spent processing, without start-up or idle time.
    pub fn processing_seconds(&self) -> Option<f64> {
        if self.first_received_ms == 0 || self.last_written_ms == 0 {
            return None;
        }
        let span_ms = self.last_written_ms.checked_sub(self.first_received_ms)?;
        Some(span_ms.max(1) as f64 / 1000.0)
    }

    /// Rows per second over [`processing_seconds`](Self::processing_seconds).
    pub fn processing_rate(&self) -> Option<f64> {
        Some(self.written as f64 / self.processing_seconds()?)
    }
}

/// A flag with a default of "healthy".
#[derive(Debug)]
pub struct Health(AtomicBool);

impl Default for Health {
    fn default() -> Self {
        Health(AtomicBool::new(true))
    }
}

impl Health {
    pub fn set(&self, healthy: bool) {
        self.0.store(healthy, Ordering::Relaxed);
    }

    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Upper bounds, in seconds, of the histogram buckets (Prometheus' `le`),
/// from half a millisecond to a minute; the last bucket is `+Inf`.
pub const BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// A lock-free histogram of durations with the fixed [`BUCKETS`].
#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations per bucket (not cumulative); the last one is `+Inf`.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_ns: AtomicU64,
}

/// A copy of a [`Histogram`].
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct HistogramSnapshot {
    /// Cumulative counts per bucket of [`BUCKETS`], then `+Inf` (= `count`).
    pub cumulative: Vec<u64>,
    pub count: u64,
    pub sum_seconds: f64,
}

impl Histogram {
    pub fn observe(&self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(
            u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut running = 0;
        let cumulative: Vec<u64> = self
            .counts
            .iter()
            .map(|count| {
                running += count.load(Ordering::Relaxed);
                running
            })
            .collect();
        HistogramSnapshot {
            count: running,
            cumulative,
            sum_seconds: self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

impl HistogramSnapshot {
    /// The `q` quantile (0..=1), interpolated within its bucket as Prometheus'
    /// `histogram_quantile` does; `None` without observations.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = q * self.count as f64;
        let bucket = self.cumulative.iter().position(|c| *c as f64 >= rank)?;
        if bucket == BUCKETS.len() {
            // In +Inf: the best answer is the highest finite bound.
            return Some(BUCKETS[BUCKETS.len() - 1]);
        }
        let (lower, below) = if bucket == 0 {
            (0.0, 0)
        } else {
            (BUCKETS[bucket - 1], self.cumulative[bucket - 1])
        };
        let in_bucket = (self.cumulative[bucket] - below).max(1) as f64;
        Some(lower + (BUCKETS[bucket] - lower) * (rank - below as f64) / in_bucket)
    }
}

/// Dead letters by reason code.
#[derive(Debug, Default)]
pub struct ReasonCounts(Mutex<BTreeMap<ReasonCode, u64>>);

impl ReasonCounts {
    pub fn add(&self, code: ReasonCode, count: u64) {
        *lock(&self.0).entry(code).or_default() += count;
    }

    pub fn snapshot(&self) -> Vec<(ReasonCode, u64)> {
        lock(&self.0).iter().map(|(k, v)| (*k, *v)).collect()
    }
}

/// Where in the pipeline an error happened (Vector's `stage` tag).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorStage {
    /// Reading input (Kafka consumer errors, offset resets).
    Receiving,
    /// Decoding or scoring.
    Processing,
    /// Writing rows or dead letters.
    Sending,
}

impl ErrorStage {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorStage::Receiving => "receiving",
            ErrorStage::Processing => "processing",
            ErrorStage::Sending => "sending",
        }
    }
}

/// Errors by stage and a low-cardinality type (a fixed word such as
/// `write_transient`, `dead_letter_transient`, or a Kafka error code name).
#[derive(Debug, Default)]
pub struct ErrorCounts(Mutex<BTreeMap<(ErrorStage, &'static str), u64>>);

impl ErrorCounts {
    pub fn add(&self, stage: ErrorStage, error_type: &'static str) {
        *lock(&self.0).entry((stage, error_type)).or_default() += 1;
    }

    pub fn snapshot(&self) -> Vec<(ErrorStage, &'static str, u64)> {
        lock(&self.0)
            .iter()
            .map(|((stage, kind), count)| (*stage, *kind, *count))
            .collect()
    }

    pub fn total(&self) -> u64 {
        lock(&self.0).values().sum()
    }
}

/// What a partitioned source (Kafka) knows of its input. A source without
/// partitions leaves it empty.
#[derive(Debug, Default)]
pub struct SourceStats {
    /// Rebalances this member took part in (assignments and revocations).
    pub rebalances: AtomicU64,
    /// Times the source paused fetching because the pipeline was full.
    pub pauses: AtomicU64,
    /// True while fetching is paused.
    pub paused: AtomicBool,
    /// Offsets reset by the consumer (committed offset lost to retention, or
    /// beyond the end), and the messages skipped by those resets.
    pub offset_resets: AtomicU64,
    pub skipped_by_resets: AtomicU64,
    /// False while the source cannot reach its input (all brokers down).
    pub connected: Health,
    /// The partitions assigned now.
    pub partitions: Mutex<Vec<PartitionStats>>,
}

impl SourceStats {
    pub fn partitions(&self) -> Vec<PartitionStats> {
        lock(&self.partitions).clone()
    }
}

/// One assigned partition, as last seen.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct PartitionStats {
    pub partition: i32,
    /// The partition's end offset (high watermark), when known.
    pub end_offset: Option<i64>,
    /// The next offset to commit (everything before it is written).
    pub committed_offset: Option<i64>,
    /// Messages not yet written: end offset minus committed offset.
    pub lag_messages: Option<i64>,
    /// Now minus the timestamp of the last written message, while there is
    /// lag; 0 without lag.
    pub lag_seconds: Option<f64>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_cumulatively_and_interpolates_quantiles() {
        let histogram = Histogram::default();
        assert_eq!(histogram.snapshot().quantile(0.5), None);
        for _ in 0..90 {
            histogram.observe(Duration::from_micros(800)); // bucket le=0.001
        }
        for _ in 0..10 {
            histogram.observe(Duration::from_millis(40)); // bucket le=0.05
        }
        histogram.observe(Duration::from_secs(600)); // +Inf
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.count, 101);
        assert_eq!(snapshot.cumulative.len(), BUCKETS.len() + 1);
        assert_eq!(snapshot.cumulative[1], 90);
        assert_eq!(snapshot.cumulative[6], 100);
        assert_eq!(*snapshot.cumulative.last().unwrap(), 101);
        let p50 = snapshot.quantile(0.5).unwrap();
        assert!((0.0005..=0.001).contains(&p50), "{p50}");
        let p95 = snapshot.quantile(0.95).unwrap();
        assert!((0.025..=0.05).contains(&p95), "{p95}");
        assert_eq!(snapshot.quantile(1.0), Some(60.0));
        assert!((snapshot.sum_seconds - (0.072 + 0.4 + 600.0)).abs() < 1e-6);
    }

    #[test]
    fn processing_rate_spans_first_record_to_last_row() {
        let stats = PipelineStats::default();
        assert_eq!(stats.snapshot().processing_rate(), None);
        stats.count_received(2000, 10_000);
        stats.count_received(1000, 11_000);
        stats.count_written(1000, 11_000);
        stats.count_written(1000, 12_000);
        // Idle time afterwards does not count.
        stats.count_written(0, 99_000);
        assert_eq!(stats.snapshot().processing_seconds(), Some(2.0));
        assert_eq!(stats.snapshot().processing_rate(), Some(1000.0));
    }

    #[test]
    fn errors_and_reasons_are_counted_by_label() {
        let stats = PipelineStats::default();
        stats.errors.add(ErrorStage::Sending, "write_transient");
        stats.errors.add(ErrorStage::Sending, "write_transient");
        stats.errors.add(ErrorStage::Receiving, "all_brokers_down");
        assert_eq!(stats.errors.total(), 3);
        assert!(
            stats
                .errors
                .snapshot()
                .contains(&(ErrorStage::Sending, "write_transient", 2))
        );
        stats.dead_letters_by_reason.add(ReasonCode::InvalidJson, 2);
        stats.dead_letters_by_reason.add(ReasonCode::TooLarge, 1);
        assert_eq!(
            stats.dead_letters_by_reason.snapshot(),
            vec![(ReasonCode::InvalidJson, 2), (ReasonCode::TooLarge, 1)]
        );
    }
}
