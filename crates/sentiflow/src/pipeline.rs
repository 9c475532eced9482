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

use crate::record::{DeadLetter, Original, ReasonCode, Record, ScoredRecord, Stage, now_ms};
use crate::shutdown::Shutdown;
use crate::stats::ErrorStage;
pub use crate::stats::{PipelineStats, StatsSnapshot};

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
    /// Rows the sink can never store. The pipeline turns them into dead letters.
    pub rejected: Vec<RejectedRow>,
}

/// A row a sink can never store, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedRow {
    /// Its index in the batch.
    pub index: usize,
    pub code: ReasonCode,
    /// For people.
    pub reason: String,
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
    /// Durably stores `letters`. On failure, says which were not stored:
    /// only those are sent again, so a retry never duplicates a letter.
    fn send<'a>(
        &'a self,
        letters: &'a [DeadLetter],
    ) -> impl Future<Output = Result<(), DeadLetterFailure>> + Send + 'a;
}

/// Some dead letters were not stored.
#[derive(Debug)]
pub struct DeadLetterFailure {
    /// Indexes (in the slice given to `send`) of the letters not stored.
    pub undelivered: Vec<usize>,
    pub error: WriteError,
}

impl DeadLetterFailure {
    /// Every one of `count` letters failed with `error`.
    pub fn all(count: usize, error: WriteError) -> DeadLetterFailure {
        DeadLetterFailure {
            undelivered: (0..count).collect(),
            error,
        }
    }
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
    let context = Arc::new(BatchContext {
        options: options.clone(),
        stats: Arc::clone(&stats),
        shutdown: shutdown.clone(),
    });
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
                        stats.count_received(taken, now_ms());
                        in_flight.push_back(tokio::spawn(process_batch(
                            batch,
                            Arc::clone(&sink),
                            Arc::clone(&dead_letters),
                            Arc::clone(&context),
                        )));
                    }
                }
            }
        }
        if abandoned {
            break;
        }
    }
    // Everything acknowledged so far is written, in order: commit it, whatever the ending.
    source.close().await?;
    Ok(if abandoned {
        Ending::Abandoned
    } else if exhausted {
        Ending::Exhausted
    } else {
        Ending::Interrupted
    })
}

/// What every batch task shares.
struct BatchContext {
    options: PipelineOptions,
    stats: Arc<PipelineStats>,
    shutdown: Shutdown,
}

#[derive(Debug)]
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
    context: Arc<BatchContext>,
) -> Result<A, BatchFailure>
where
    K: Sink,
    D: DeadLetterSink,
{
    let started = Instant::now();
    let stats = &context.stats;
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

    if !rows.is_empty() {
        let outcome = write_rows(&*sink, &rows, &context).await?;
        let mut rejected = vec![false; rows.len()];
        for rejection in outcome.rejected {
            rejected[rejection.index] = true;
            dead_letters.push(rejected_row(&rows[rejection.index], rejection));
        }
        let kept = rows
            .iter()
            .zip(&rejected)
            .filter(|(_, rejected)| !**rejected)
            .map(|(row, _)| row);
        stats.count_labels(kept);
        let written = rejected.iter().filter(|rejected| !**rejected).count();
        stats.count_written(written as u64, now_ms());
    }
    if !dead_letters.is_empty() {
        send_dead_letters(&*dead_letter_sink, dead_letters, &context).await?;
    }
    stats.batch_seconds.observe(started.elapsed());
    Ok(ack)
}

/// Writes `rows`, retrying transient failures.
async fn write_rows<K: Sink>(
    sink: &K,
    rows: &[ScoredRecord],
    context: &BatchContext,
) -> Result<WriteOutcome, BatchFailure> {
    let stats = &context.stats;
    let mut backoff = context.options.initial_backoff;
    loop {
        let attempt = Instant::now();
        match sink.write(rows).await {
            Ok(outcome) => {
                stats.sink_write_seconds.observe(attempt.elapsed());
                stats.sink_healthy.set(true);
                return Ok(outcome);
            }
            Err(WriteError::Fatal(error)) => {
                stats.errors.add(ErrorStage::Sending, "write_fatal");
                return Err(BatchFailure::Fatal(error));
            }
            Err(WriteError::Transient(error)) => {
                stats.errors.add(ErrorStage::Sending, "write_transient");
                stats.sink_healthy.set(false);
                back_off(context, &mut backoff, "write failed", &error).await?;
            }
        }
    }
}

/// Sends `letters`, retrying only those not yet stored.
async fn send_dead_letters<D: DeadLetterSink>(
    sink: &D,
    mut letters: Vec<DeadLetter>,
    context: &BatchContext,
) -> Result<(), BatchFailure> {
    let stats = &context.stats;
    let mut backoff = context.options.initial_backoff;
    loop {
        let (delivered, failure) = match sink.send(&letters).await {
            Ok(()) => (std::mem::take(&mut letters), None),
            Err(failure) => {
                let mut undelivered = vec![false; letters.len()];
                for index in &failure.undelivered {
                    if let Some(slot) = undelivered.get_mut(*index) {
                        *slot = true;
                    }
                }
                let (kept, delivered): (Vec<_>, Vec<_>) = letters
                    .into_iter()
                    .zip(undelivered)
                    .partition(|(_, undelivered)| *undelivered);
                letters = kept.into_iter().map(|(letter, _)| letter).collect();
                (
                    delivered.into_iter().map(|(letter, _)| letter).collect(),
                    Some(failure.error),
                )
            }
        };
        stats
            .dead_lettered
            .fetch_add(delivered.len() as u64, Ordering::Relaxed);
        for letter in &delivered {
            stats.dead_letters_by_reason.add(letter.code, 1);
        }
        match failure {
            None => return Ok(()),
            Some(WriteError::Fatal(error)) => {
                stats.errors.add(ErrorStage::Sending, "dead_letter_fatal");
                return Err(BatchFailure::Fatal(error));
            }
            Some(WriteError::Transient(error)) => {
                stats
                    .errors
                    .add(ErrorStage::Sending, "dead_letter_transient");
                if letters.is_empty() {
                    return Ok(());
                }
                back_off(context, &mut backoff, "dead-letter write failed", &error).await?;
            }
        }
    }
}

/// Waits `backoff` (doubled for next time) before a retry; gives up when a
/// shutdown is requested meanwhile.
async fn back_off(
    context: &BatchContext,
    backoff: &mut Duration,
    what: &str,
    error: &anyhow::Error,
) -> Result<(), BatchFailure> {
    context.stats.write_retries.fetch_add(1, Ordering::Relaxed);
    tracing::warn!("{what}, retrying in {backoff:?}: {error:#}");
    tokio::select! {
        _ = tokio::time::sleep(*backoff) => {}
        _ = context.shutdown.requested() => return Err(BatchFailure::GaveUp),
    }
    *backoff = (*backoff * 2).min(context.options.max_backoff);
    Ok(())
}

/// A row the sink refused, as a dead letter: the message it came from byte
/// for byte, or (from a source without messages) the row in the data
/// contract's shape.
fn rejected_row(row: &ScoredRecord, rejection: RejectedRow) -> DeadLetter {
    let record = &row.record;
    let original = record.original.clone().unwrap_or_else(|| {
        let mut value = Vec::new();
        crate::record::encode_value(
            &mut value,
            record.id,
            &record.sentence,
            record.produced_at_ms,
        );
        Original {
            key: Some(record.id.to_string().into()),
            value: Some(value.into()),
            headers: Vec::new(),
        }
    });
    DeadLetter {
        original,
        code: rejection.code,
        reason: rejection.reason,
        stage: Stage::Write,
        origin: record.origin,
    }
}
