//! The pipeline loop: take a batch from a source, score it, write it to a
//! sink, and only then acknowledge it to the source.
//!
//! The loop knows nothing about Kafka, SQLite or Cassandra: it sees the
//! [`Source`] and [`Sink`] traits. Batches are processed concurrently (scoring
//! runs on the runtime's worker threads, writes overlap), but acknowledgements
//! are handed back to the source strictly in the order the batches were taken,
//! so a source that commits positions never commits past an unwritten record.
//!
//! Memory is bounded by `max_in_flight` batches of at most the source's batch
//! size, whatever the total count.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::task::JoinHandle;

use crate::record::{DeadLetter, Record, ScoredRecord, Stage, now_ms};
use crate::shutdown::Shutdown;

/// A batch of input and the token that acknowledges it.
pub struct Batch<A> {
    /// Records to score and write.
    pub records: Vec<Record>,
    /// Input the source could not decode; written to the dead-letter sink.
    pub dead_letters: Vec<DeadLetter>,
    /// Handed back to [`Source::ack`] once everything above is durably written.
    pub ack: A,
}

/// Where records come from.
pub trait Source: Send {
    /// What the source needs back to acknowledge a batch (Kafka: offsets).
    type Ack: Send + 'static;

    /// The next batch, or `None` when the source is exhausted.
    ///
    /// Must be cancel-safe: the loop may drop the future when a shutdown
    /// arrives, and no record may be lost because of that.
    fn next_batch(
        &mut self,
    ) -> impl Future<Output = anyhow::Result<Option<Batch<Self::Ack>>>> + Send;

    /// Every record and dead letter of the batch is durably written.
    /// Called in the order the batches were returned by `next_batch`.
    fn ack(&mut self, ack: Self::Ack) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// The loop is ending and every written batch has been acknowledged: a
    /// last chance to commit.
    fn close(&mut self) -> impl Future<Output = anyhow::Result<()>> + Send {
        async { Ok(()) }
    }
}

/// What a sink did with a batch of rows.
#[derive(Debug, Default)]
pub struct WriteOutcome {
    /// Rows the sink can never store, by index in the batch, with the reason.
    /// The pipeline turns them into dead letters.
    pub rejected: Vec<(usize, String)>,
}

/// Why a write failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Worth retrying: the store is unreachable or overloaded.
    #[error("{0:#}")]
    Transient(anyhow::Error),
    /// Retrying cannot help (for example the table does not exist): stop.
    #[error("{0:#}")]
    Fatal(anyhow::Error),
}

/// Where scored rows go. Writes must be idempotent upserts keyed by id, since
/// a batch can be written again after a failure or a restart.
pub trait Sink: Send + Sync + 'static {
    /// Durably writes `rows`, all or nothing as far as the caller knows.
    fn write<'a>(
        &'a self,
        rows: &'a [ScoredRecord],
    ) -> impl Future<Output = Result<WriteOutcome, WriteError>> + Send + 'a;
}

/// Where dead letters go.
pub trait DeadLetterSink: Send + Sync + 'static {
    /// Durably stores `letters`.
    fn send<'a>(
        &'a self,
        letters: &'a [DeadLetter],
    ) -> impl Future<Output = Result<(), WriteError>> + Send + 'a;
}

/// Tuning knobs of the loop.
#[derive(Clone, Debug)]
pub struct PipelineOptions {
    /// Batches being scored or written at once.
    pub max_in_flight: usize,
    /// First pause after a transient write error; doubles up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        Self {
            max_in_flight: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// Live counters, shared with progress reporting and metrics.
#[derive(Debug, Default)]
pub struct PipelineStats {
    /// Records and dead letters taken from the source.
    pub received: AtomicU64,
    /// Rows durably written.
    pub written: AtomicU64,
    /// Dead letters durably written.
    pub dead_lettered: AtomicU64,
    pub positive: AtomicU64,
    pub negative: AtomicU64,
    pub neutral: AtomicU64,
    /// Transient write failures that were retried.
    pub write_retries: AtomicU64,
    /// Microseconds the loop had room for a batch but the source had none:
    /// the source is the bottleneck when this grows.
    pub waited_on_source_us: AtomicU64,
    /// Microseconds the loop waited with every in-flight slot taken: the
    /// scorer or the sink is the bottleneck when this grows.
    pub waited_on_sink_us: AtomicU64,
}

impl PipelineStats {
    fn count_labels(&self, rows: &[ScoredRecord]) {
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
        }
    }
}

/// A copy of [`PipelineStats`] at one moment.
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
}

/// How the loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The source ran out of records and everything was written.
    Exhausted,
    /// A shutdown was requested; everything taken was written and acknowledged.
    Interrupted,
    /// A shutdown arrived while writes were still failing: the unwritten
    /// batches were not acknowledged, so they will be read again next time.
    Abandoned,
}

/// Runs the loop until the source is exhausted or `shutdown` fires.
pub async fn run<S, K, D>(
    mut source: S,
    sink: Arc<K>,
    dead_letters: Arc<D>,
    options: &PipelineOptions,
    stats: Arc<PipelineStats>,
    shutdown: Shutdown,
) -> anyhow::Result<Ending>
where
    S: Source,
    K: Sink,
    D: DeadLetterSink,
{
    let mut in_flight: VecDeque<JoinHandle<Result<S::Ack, BatchFailure>>> = VecDeque::new();
    let mut exhausted = false;
    let mut abandoned = false;
    loop {
        let stopping = exhausted || shutdown.is_requested();
        if stopping && in_flight.is_empty() {
            break;
        }
        let room = in_flight.len() < options.max_in_flight.max(1);
        let waiting_since = Instant::now();
        let waited = |counter: &AtomicU64| {
            counter.fetch_add(
                waiting_since.elapsed().as_micros() as u64,
                Ordering::Relaxed,
            );
        };
        tokio::select! {
            // Finishing work comes first: it frees room and lets the source commit.
            biased;
            joined = async { in_flight.front_mut().expect("guarded by is_empty").await }, if !in_flight.is_empty() => {
                if !room {
                    waited(&stats.waited_on_sink_us);
                }
                in_flight.pop_front();
                match joined.context("a batch task panicked")? {
                    Ok(ack) => source.ack(ack).await?,
                    Err(BatchFailure::GaveUp) => {
                        // Later batches may have been written, but acknowledging them
                        // would skip this one: stop acknowledging, stop reading.
                        abandoned = true;
                        for task in in_flight.drain(..) {
                            task.abort();
                        }
                    }
                    Err(BatchFailure::Fatal(error)) => {
                        for task in in_flight.drain(..) {
                            task.abort();
                        }
                        return Err(error);
                    }
                }
            }
            _ = shutdown.requested(), if !stopping => {}
            batch = source.next_batch(), if !stopping && room => {
                waited(&stats.waited_on_source_us);
                match batch? {
                    None => exhausted = true,
                    Some(batch) => {
                        let taken = (batch.records.len() + batch.dead_letters.len()) as u64;
                        stats.received.fetch_add(taken, Ordering::Relaxed);
                        in_flight.push_back(tokio::spawn(process_batch(
                            batch,
                            Arc::clone(&sink),
                            Arc::clone(&dead_letters),
                            options.clone(),
                            Arc::clone(&stats),
                            shutdown.clone(),
                        )));
                    }
                }
            }
        }
        if abandoned {
            break;
        }
    }
    if abandoned {
        return Ok(Ending::Abandoned);
    }
    source.close().await?;
    Ok(if exhausted {
        Ending::Exhausted
    } else {
        Ending::Interrupted
    })
}

enum BatchFailure {
    /// Writes kept failing until a shutdown was requested.
    GaveUp,
    Fatal(anyhow::Error),
}

/// Scores one batch and writes its rows and dead letters, retrying transient
/// failures with backoff until they succeed or a shutdown is requested.
async fn process_batch<A, K, D>(
    batch: Batch<A>,
    sink: Arc<K>,
    dead_letter_sink: Arc<D>,
    options: PipelineOptions,
    stats: Arc<PipelineStats>,
    shutdown: Shutdown,
) -> Result<A, BatchFailure>
where
    K: Sink,
    D: DeadLetterSink,
{
    let Batch {
        records,
        mut dead_letters,
        ack,
    } = batch;
    let processed_at_ms = now_ms();
    let rows: Vec<ScoredRecord> = records
        .into_iter()
        .map(|record| ScoredRecord::score(record, processed_at_ms))
        .collect();

    let outcome = with_retries(&options, &stats, &shutdown, || sink.write(&rows)).await?;
    let written = rows.len() - outcome.rejected.len();
    if outcome.rejected.is_empty() {
        stats.count_labels(&rows);
    } else {
        let mut rejected = vec![false; rows.len()];
        for (index, reason) in outcome.rejected {
            rejected[index] = true;
            dead_letters.push(rejected_row(&rows[index], reason));
        }
        let kept: Vec<ScoredRecord> = rows
            .iter()
            .zip(&rejected)
            .filter(|(_, rejected)| !**rejected)
            .map(|(row, _)| row.clone())
            .collect();
        stats.count_labels(&kept);
    }
    stats.written.fetch_add(written as u64, Ordering::Relaxed);

    if !dead_letters.is_empty() {
        with_retries(&options, &stats, &shutdown, || {
            dead_letter_sink.send(&dead_letters)
        })
        .await?;
        stats
            .dead_lettered
            .fetch_add(dead_letters.len() as u64, Ordering::Relaxed);
    }
    Ok(ack)
}

/// A row the sink refused, as a dead letter in the data contract's shape.
fn rejected_row(row: &ScoredRecord, reason: String) -> DeadLetter {
    let record = &row.record;
    let payload = serde_json::json!({
        "id": record.id,
        "sentence": record.sentence,
        "ts": record.produced_at_ms,
    });
    DeadLetter {
        key: Some(record.id.to_string().into_bytes()),
        payload: payload.to_string().into_bytes(),
        reason,
        stage: Stage::Write,
        origin: record.origin,
    }
}

async fn with_retries<'a, T, F, Fut>(
    options: &PipelineOptions,
    stats: &PipelineStats,
    shutdown: &Shutdown,
    mut attempt: F,
) -> Result<T, BatchFailure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, WriteError>> + 'a,
{
    let mut backoff = options.initial_backoff;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(WriteError::Fatal(error)) => return Err(BatchFailure::Fatal(error)),
            Err(WriteError::Transient(error)) => {
                stats.write_retries.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("write failed, retrying in {backoff:?}: {error:#}");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.requested() => return Err(BatchFailure::GaveUp),
                }
                backoff = (backoff * 2).min(options.max_backoff);
            }
        }
    }
}
