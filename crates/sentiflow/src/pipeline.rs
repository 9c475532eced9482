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

#[cfg(test)]
mod tests {
    //! The loop's own contracts, with in-memory sources and sinks (the real
    //! ones are tested against real services in `tests/`).

    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::record::Origin;

    /// A batch's ack: its number, and a guard counting batches alive.
    struct Token {
        batch: usize,
        _alive: Alive,
    }

    /// Counts values alive, and the most ever alive at once.
    #[derive(Clone, Default)]
    struct AliveCounter(Arc<(AtomicUsize, AtomicUsize)>);

    struct Alive(AliveCounter);

    impl AliveCounter {
        fn new_guard(&self) -> Alive {
            let now = self.0.0.fetch_add(1, Ordering::SeqCst) + 1;
            self.0.1.fetch_max(now, Ordering::SeqCst);
            Alive(self.clone())
        }

        fn peak(&self) -> usize {
            self.0.1.load(Ordering::SeqCst)
        }
    }

    impl Drop for Alive {
        fn drop(&mut self) {
            self.0.0.0.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Batches of `size` records with ids `batch * 100 + n`, then the end
    /// (or an error, at `fail_at`).
    struct FakeSource {
        batches: usize,
        size: usize,
        next: usize,
        fail_at: Option<usize>,
        acked: Arc<Mutex<Vec<usize>>>,
        closed: Arc<AtomicUsize>,
        alive: AliveCounter,
    }

    impl FakeSource {
        fn new(batches: usize, size: usize) -> FakeSource {
            FakeSource {
                batches,
                size,
                next: 0,
                fail_at: None,
                acked: Arc::default(),
                closed: Arc::default(),
                alive: AliveCounter::default(),
            }
        }
    }

    fn record(id: i64) -> Record {
        Record {
            id,
            sentence: format!("sentence {id} is good").into(),
            produced_at_ms: 1,
            origin: Some(Origin {
                partition: 0,
                offset: id,
            }),
            original: Some(Original {
                key: Some(id.to_string().into()),
                value: Some(format!("raw {id}").into()),
                headers: vec![("h".into(), Some("v".into()))],
            }),
        }
    }

    impl Source for FakeSource {
        type Ack = Token;

        async fn next_batch(&mut self) -> anyhow::Result<Option<Batch<Token>>> {
            if self.fail_at == Some(self.next) {
                anyhow::bail!("the source broke at batch {}", self.next);
            }
            if self.next == self.batches {
                return Ok(None);
            }
            let batch = self.next;
            self.next += 1;
            Ok(Some(Batch {
                records: (0..self.size)
                    .map(|n| record((batch * 100 + n) as i64))
                    .collect(),
                dead_letters: Vec::new(),
                ack: Token {
                    batch,
                    _alive: self.alive.new_guard(),
                },
            }))
        }

        async fn ack(&mut self, ack: Token) -> anyhow::Result<()> {
            self.acked.lock().unwrap().push(ack.batch);
            Ok(())
        }

        async fn close(&mut self) -> anyhow::Result<()> {
            self.closed.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    /// What the fake sink does with the batch whose first id is `batch * 100`.
    #[derive(Clone, Copy)]
    enum Behaviour {
        /// Succeeds after this many milliseconds.
        Delay(u64),
        /// Fails transiently forever.
        Stuck,
        Fatal,
        /// Refuses the row at this index of the batch.
        Reject(usize),
    }

    #[derive(Default)]
    struct FakeSink {
        behaviours: HashMap<usize, Behaviour>,
        written: Mutex<Vec<usize>>,
    }

    impl Sink for FakeSink {
        async fn write<'a>(&'a self, rows: &'a [ScoredRecord]) -> Result<WriteOutcome, WriteError> {
            let batch = (rows[0].record.id / 100) as usize;
            let mut outcome = WriteOutcome::default();
            match self.behaviours.get(&batch).copied() {
                None => {}
                Some(Behaviour::Delay(ms)) => tokio::time::sleep(Duration::from_millis(ms)).await,
                Some(Behaviour::Stuck) => {
                    return Err(WriteError::Transient(anyhow::anyhow!("store away")));
                }
                Some(Behaviour::Fatal) => {
                    return Err(WriteError::Fatal(anyhow::anyhow!("no such table")));
                }
                Some(Behaviour::Reject(index)) => outcome.rejected.push(RejectedRow {
                    index,
                    code: ReasonCode::IdOutOfRange,
                    reason: "too big".into(),
                }),
            }
            self.written.lock().unwrap().push(batch);
            Ok(outcome)
        }
    }

    /// Stores letters; the first attempt fails for the letters at `fail_once`.
    #[derive(Default)]
    struct FakeDeadLetters {
        fail_once: Vec<usize>,
        attempts: AtomicUsize,
        stored: Mutex<Vec<DeadLetter>>,
    }

    impl DeadLetterSink for FakeDeadLetters {
        async fn send<'a>(&'a self, letters: &'a [DeadLetter]) -> Result<(), DeadLetterFailure> {
            let first = self.attempts.fetch_add(1, Ordering::SeqCst) == 0;
            let mut undelivered = Vec::new();
            for (index, letter) in letters.iter().enumerate() {
                if first && self.fail_once.contains(&index) {
                    undelivered.push(index);
                } else {
                    self.stored.lock().unwrap().push(letter.clone());
                }
            }
            if undelivered.is_empty() {
                Ok(())
            } else {
                Err(DeadLetterFailure {
                    undelivered,
                    error: WriteError::Transient(anyhow::anyhow!("broker busy")),
                })
            }
        }
    }

    fn options(max_in_flight: usize) -> PipelineOptions {
        PipelineOptions {
            max_in_flight,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
        }
    }

    async fn run_with(
        source: FakeSource,
        sink: FakeSink,
        dead_letters: FakeDeadLetters,
        max_in_flight: usize,
        shutdown: Shutdown,
    ) -> (
        anyhow::Result<Ending>,
        Arc<FakeSink>,
        Arc<FakeDeadLetters>,
        Arc<PipelineStats>,
    ) {
        let sink = Arc::new(sink);
        let dead_letters = Arc::new(dead_letters);
        let stats = Arc::new(PipelineStats::default());
        let ending = run(
            source,
            Arc::clone(&sink),
            Arc::clone(&dead_letters),
            &options(max_in_flight),
            Arc::clone(&stats),
            shutdown,
        )
        .await;
        (ending, sink, dead_letters, stats)
    }

    #[tokio::test(start_paused = true)]
    async fn acks_are_in_order_when_batches_finish_out_of_order() {
        let source = FakeSource::new(6, 3);
        let acked = Arc::clone(&source.acked);
        // Batch 0 finishes last, batch 3 before batch 2.
        let sink = FakeSink {
            behaviours: HashMap::from([
                (0, Behaviour::Delay(50)),
                (2, Behaviour::Delay(20)),
                (3, Behaviour::Delay(5)),
            ]),
            ..FakeSink::default()
        };
        let (ending, sink, _, stats) = run_with(
            source,
            sink,
            FakeDeadLetters::default(),
            4,
            Shutdown::new().1,
        )
        .await;
        assert_eq!(ending.unwrap(), Ending::Exhausted);
        let written = sink.written.lock().unwrap().clone();
        assert_ne!(written, [0, 1, 2, 3, 4, 5], "the writes must overlap");
        assert_eq!(*acked.lock().unwrap(), [0, 1, 2, 3, 4, 5]);
        assert_eq!(stats.snapshot().written, 18);
        assert_eq!(stats.batch_seconds.snapshot().count, 6);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stuck_batch_at_shutdown_acks_nothing_after_it() {
        let source = FakeSource::new(8, 2);
        let (acked, closed) = (Arc::clone(&source.acked), Arc::clone(&source.closed));
        let sink = FakeSink {
            behaviours: HashMap::from([(2, Behaviour::Stuck)]),
            ..FakeSink::default()
        };
        let (trigger, shutdown) = Shutdown::new();
        // The shutdown comes while batch 2 keeps failing.
        let stop = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            trigger.request();
            trigger
        });
        let (ending, sink, _, stats) =
            run_with(source, sink, FakeDeadLetters::default(), 4, shutdown).await;
        drop(stop.await);
        assert_eq!(ending.unwrap(), Ending::Abandoned);
        // Batches after the stuck one were written, but acknowledging them would skip it.
        assert!(sink.written.lock().unwrap().contains(&3));
        assert_eq!(*acked.lock().unwrap(), [0, 1]);
        // What was acknowledged is committed: the source is closed even so.
        assert_eq!(closed.load(Ordering::SeqCst), 1);
        assert!(stats.snapshot().write_retries > 0);
        assert!(!stats.sink_healthy.get());
    }

    #[tokio::test(start_paused = true)]
    async fn a_fatal_write_error_stops_the_loop_and_acks_nothing_after_it() {
        let source = FakeSource::new(6, 2);
        let acked = Arc::clone(&source.acked);
        let sink = FakeSink {
            behaviours: HashMap::from([(0, Behaviour::Delay(10)), (1, Behaviour::Fatal)]),
            ..FakeSink::default()
        };
        let (ending, _, _, stats) = run_with(
            source,
            sink,
            FakeDeadLetters::default(),
            4,
            Shutdown::new().1,
        )
        .await;
        let error = ending.unwrap_err();
        assert!(format!("{error:#}").contains("no such table"), "{error:#}");
        assert!(acked.lock().unwrap().iter().all(|batch| *batch < 1));
        assert_eq!(stats.errors.total(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn batches_alive_never_exceed_max_in_flight() {
        let source = FakeSource::new(40, 5);
        let alive = source.alive.clone();
        let sink = FakeSink {
            behaviours: (0..40)
                .map(|b| (b, Behaviour::Delay(1 + (b % 7) as u64)))
                .collect(),
            ..FakeSink::default()
        };
        let (ending, _, _, _) = run_with(
            source,
            sink,
            FakeDeadLetters::default(),
            3,
            Shutdown::new().1,
        )
        .await;
        assert_eq!(ending.unwrap(), Ending::Exhausted);
        // The batches in flight, plus the one being acknowledged.
        assert!(alive.peak() <= 3 + 1, "{} batches alive", alive.peak());
        assert!(alive.peak() >= 3, "the loop never filled its slots");
    }

    #[tokio::test]
    async fn a_source_error_surfaces() {
        let mut source = FakeSource::new(5, 1);
        source.fail_at = Some(2);
        let (ending, _, _, _) = run_with(
            source,
            FakeSink::default(),
            FakeDeadLetters::default(),
            2,
            Shutdown::new().1,
        )
        .await;
        let error = ending.unwrap_err();
        assert!(
            format!("{error:#}").contains("the source broke at batch 2"),
            "{error:#}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_rejected_row_becomes_a_dead_letter_with_the_original_message() {
        let source = FakeSource::new(1, 3);
        let sink = FakeSink {
            behaviours: HashMap::from([(0, Behaviour::Reject(1))]),
            ..FakeSink::default()
        };
        let (ending, _, dead_letters, stats) = run_with(
            source,
            sink,
            FakeDeadLetters::default(),
            1,
            Shutdown::new().1,
        )
        .await;
        assert_eq!(ending.unwrap(), Ending::Exhausted);
        let stored = dead_letters.stored.lock().unwrap();
        assert_eq!(stored.len(), 1);
        let letter = &stored[0];
        assert_eq!(letter.original, record(1).original.unwrap());
        assert_eq!(letter.stage, Stage::Write);
        assert_eq!(letter.code, ReasonCode::IdOutOfRange);
        let totals = stats.snapshot();
        assert_eq!((totals.written, totals.dead_lettered), (2, 1));
        assert_eq!(totals.positive + totals.negative + totals.neutral, 2);
        assert_eq!(
            stats.dead_letters_by_reason.snapshot(),
            [(ReasonCode::IdOutOfRange, 1)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_dead_letter_retry_sends_only_the_letters_that_failed() {
        let source = FakeSource::new(1, 4);
        let sink = FakeSink {
            behaviours: HashMap::from([(0, Behaviour::Reject(0))]),
            ..FakeSink::default()
        };
        // Two more letters from the source itself, with the rejected row: three in all.
        struct WithLetters(FakeSource);
        impl Source for WithLetters {
            type Ack = Token;
            async fn next_batch(&mut self) -> anyhow::Result<Option<Batch<Token>>> {
                let mut batch = self.0.next_batch().await?;
                if let Some(batch) = &mut batch {
                    for id in [900, 901] {
                        batch.dead_letters.push(DeadLetter {
                            original: record(id).original.unwrap(),
                            code: ReasonCode::InvalidJson,
                            reason: "bad".into(),
                            stage: Stage::Decode,
                            origin: record(id).origin,
                        });
                    }
                }
                Ok(batch)
            }
            async fn ack(&mut self, ack: Token) -> anyhow::Result<()> {
                self.0.ack(ack).await
            }
        }
        let dead_letters = Arc::new(FakeDeadLetters {
            fail_once: vec![1],
            ..FakeDeadLetters::default()
        });
        let stats = Arc::new(PipelineStats::default());
        let ending = run(
            WithLetters(source),
            Arc::new(sink),
            Arc::clone(&dead_letters),
            &options(1),
            Arc::clone(&stats),
            Shutdown::new().1,
        )
        .await;
        assert_eq!(ending.unwrap(), Ending::Exhausted);
        let stored = dead_letters.stored.lock().unwrap();
        let mut keys: Vec<_> = stored.iter().map(|l| l.original.key.clone()).collect();
        keys.sort();
        let expected: Vec<Option<bytes::Bytes>> = ["0", "900", "901"]
            .iter()
            .map(|k| Some(bytes::Bytes::from_static(k.as_bytes())))
            .collect();
        assert_eq!(keys, expected, "each letter exactly once");
        assert_eq!(dead_letters.attempts.load(Ordering::SeqCst), 2);
        assert_eq!(stats.snapshot().dead_lettered, 3);
        assert_eq!(stats.snapshot().write_retries, 1);
    }
}
