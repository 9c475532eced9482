//! The Kafka source: a consumer-group member that hands batches to the
//! pipeline and commits, per partition, only offsets whose rows (or dead
//! letters) are durably written.
//!
//! Guarantee: at-least-once. Offsets are stored (`enable.auto.offset.store`
//! is off) only when the pipeline acknowledges a batch, and acknowledgements
//! arrive in order, so the committed offset of a partition never passes an
//! unwritten message. Caveat: after a crash, batches written but not yet
//! committed are read and written again; rows are upserts keyed by id, so the
//! table still holds each sentence once.
//!
//! - `poll.rs`: the poll thread. It owns librdkafka's event loop (messages,
//!   heartbeats, rebalance callbacks), decodes messages into records or dead
//!   letters without copying them twice, and feeds a bounded queue. When the
//!   pipeline stays full it pauses fetching; after every rebalance it puts
//!   the new assignment explicitly in the state the backlog asks for
//!   (librdkafka keeps an application's pause across a reassignment).
//! - `context.rs`: the rebalance callbacks (on a revoke: wait until every
//!   batch handed over for those partitions is acknowledged, at most
//!   `drain_timeout`, commit, forget the partitions), librdkafka's logs and
//!   errors, and its statistics (lag per partition).
//! - `partitions.rs`: the bookkeeping those rules are written in, unit-tested.
//!
//! Memory stays bounded however far behind the processor is: the queue holds
//! `queue_batches` batches, the poll thread takes at most one more message
//! per wait while the queue is full, librdkafka's prefetch is capped
//! (`queued.max.messages.kbytes`), and a pipeline stuck for `pause_after`
//! pauses fetching altogether.

mod context;
mod partitions;
mod poll;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use tokio::sync::mpsc;

use crate::cli::KafkaArgs;
use crate::kafka;
use crate::pipeline::{Batch, Source};
use crate::stats::PipelineStats;
use context::{ErrorLog, GroupContext};
use partitions::{Partitions, Position};
use poll::Poller;

/// How the source reads.
#[derive(Clone, Debug)]
pub struct KafkaSourceOptions {
    pub group: String,
    /// Messages per batch.
    pub batch_size: usize,
    /// The longest a partly filled batch waits for more messages.
    pub linger: Duration,
    /// Batches queued between the poll thread and the pipeline.
    pub queue_batches: usize,
    /// How long the pipeline may take no batch (its sink is slow or down)
    /// before fetching pauses; it resumes when the pipeline takes one again.
    pub pause_after: Duration,
    /// End once every assigned partition has been caught up this long.
    pub exit_when_idle: Option<Duration>,
    /// Longer sentences become dead letters.
    pub max_sentence_bytes: usize,
    /// How long a revoke waits for in-flight batches before giving them up
    /// (they are then read again by the partitions' next owner).
    pub drain_timeout: Duration,
}

/// Acknowledges a batch: for each partition in it, the last message's place.
#[derive(Debug, Default)]
pub struct KafkaAck {
    positions: Vec<Position>,
}

/// Sentences read from a Kafka topic by a consumer-group member.
pub struct KafkaSource {
    receiver: mpsc::Receiver<Batch<KafkaAck>>,
    consumer: Arc<BaseConsumer<GroupContext>>,
    shared: Arc<Shared>,
    poll_thread: Option<JoinHandle<()>>,
}

/// State shared by the poll thread, the rebalance callbacks and the pipeline.
struct Shared {
    topic: String,
    partitions: Mutex<Partitions>,
    /// Signalled whenever an acknowledgement arrives, and when closing.
    acknowledged: Condvar,
    /// Bumped by every rebalance, so the poll thread knows to refresh its epochs.
    rebalances: AtomicU64,
    /// Why the poll thread stopped, when it was not asked to.
    failure: Mutex<Option<String>>,
    /// Set when the poll thread must stop.
    stop: AtomicBool,
    /// Set when the source is going away: a revoke then has nothing to wait for.
    closing: AtomicBool,
    /// Batches taken by the pipeline; with `room`, wakes a poll thread waiting for room.
    taken: Mutex<u64>,
    room: Condvar,
    drain_timeout: Duration,
    stats: Arc<PipelineStats>,
    /// Repeated errors are logged once per kind and period.
    errors: ErrorLog,
}

impl Shared {
    fn partitions(&self) -> MutexGuard<'_, Partitions> {
        self.partitions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Ends every wait of the poll thread: a revoke stops draining.
    fn close(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.closing.store(true, Ordering::SeqCst);
        // Taken under the lock the revoke waits with, so the wake-up is not missed.
        drop(self.partitions());
        self.acknowledged.notify_all();
        drop(self.taken.lock().unwrap_or_else(|p| p.into_inner()));
        self.room.notify_all();
    }
}

impl KafkaSource {
    /// Joins the consumer group on `args.topic` and starts the poll thread.
    pub fn start(
        args: &KafkaArgs,
        options: KafkaSourceOptions,
        stats: Arc<PipelineStats>,
    ) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared {
            topic: args.topic.clone(),
            partitions: Mutex::new(Partitions::default()),
            acknowledged: Condvar::new(),
            rebalances: AtomicU64::new(0),
            failure: Mutex::new(None),
            stop: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            taken: Mutex::new(0),
            room: Condvar::new(),
            drain_timeout: options.drain_timeout,
            stats,
            errors: ErrorLog::default(),
        });
        let mut config = kafka::client_config(args);
        config
            .set("group.id", &options.group)
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "1000")
            // Offsets are stored by `ack`, never by librdkafka on delivery to us.
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            // Bound what librdkafka prefetches: memory must not grow with lag.
            .set("queued.max.messages.kbytes", "8192")
            .set("queued.min.messages", "20000")
            // Past those thresholds librdkafka postpones the next fetch, by a whole
            // second by default: the pipeline would starve after each pause.
            .set("fetch.queue.backoff.ms", "20")
            .set("fetch.max.bytes", "8388608")
            .set("max.partition.fetch.bytes", "1048576")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000")
            // Also the timeout of a JoinGroup request: a request lost by a
            // coordinator that moved mid-join would stall the member for the
            // default 5 minutes.
            .set(
                "max.poll.interval.ms",
                max_poll_interval_ms(options.drain_timeout).to_string(),
            )
            // Lag per partition for the metrics, from librdkafka's own view.
            .set("statistics.interval.ms", "2000");
        let context = GroupContext::new(Arc::clone(&shared));
        let consumer: BaseConsumer<GroupContext> =
            config.create_with_context(context).map_err(|error| {
                anyhow::anyhow!(
                    "cannot create the Kafka consumer: {}",
                    kafka::describe_error(&error)
                )
            })?;
        consumer.subscribe(&[&args.topic]).map_err(|error| {
            anyhow::anyhow!("cannot subscribe to topic {}: {error}", args.topic)
        })?;
        let consumer = Arc::new(consumer);

        let (sender, receiver) = mpsc::channel(options.queue_batches.max(1));
        let poller = Poller::new(Arc::clone(&consumer), Arc::clone(&shared), sender, options);
        let poll_thread = std::thread::Builder::new()
            .name("kafka-poll".into())
            .spawn(move || poller.run())
            .map_err(|error| anyhow::anyhow!("cannot start the Kafka poll thread: {error}"))?;
        Ok(KafkaSource {
            receiver,
            consumer,
            shared,
            poll_thread: Some(poll_thread),
        })
    }

    /// Stops the poll thread and commits what was acknowledged. Blocking.
    fn shut_down(&mut self) -> anyhow::Result<()> {
        // First wake every wait of the poll thread (a revoke may be draining
        // batches the pipeline will never finish), then join it.
        self.shared.close();
        if let Some(thread) = self.poll_thread.take() {
            thread
                .join()
                .map_err(|_| anyhow::anyhow!("the Kafka poll thread panicked"))?;
        }
        match self.consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(()) => Ok(()),
            Err(error)
                if error.rdkafka_error_code()
                    == Some(rdkafka::types::RDKafkaErrorCode::NoOffset) =>
            {
                Ok(())
            }
            Err(error) => Err(anyhow::anyhow!("final offset commit failed: {error}")),
        }
    }
}

impl Source for KafkaSource {
    type Ack = KafkaAck;

    async fn next_batch(&mut self) -> anyhow::Result<Option<Batch<KafkaAck>>> {
        // `recv` is cancel-safe: a batch is either returned or stays queued.
        match self.receiver.recv().await {
            Some(batch) => {
                *self.shared.taken.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                self.shared.room.notify_one();
                Ok(Some(batch))
            }
            None => match self
                .shared
                .failure
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
            {
                Some(failure) => Err(anyhow::anyhow!(failure)),
                None => Ok(None),
            },
        }
    }

    async fn ack(&mut self, ack: KafkaAck) -> anyhow::Result<()> {
        let mut partitions = self.shared.partitions();
        // A partition revoked (or revoked and assigned again) since the batch was
        // read is not ours to commit any more: its next owner reads it again.
        for position in partitions.ack(&ack.positions) {
            // librdkafka stores offset + 1 (the next one to read) from the offset given.
            self.consumer
                .store_offset(&self.shared.topic, position.partition, position.offset)
                .map_err(|error| {
                    anyhow::anyhow!(
                        "cannot store offset of partition {}: {error}",
                        position.partition
                    )
                })?;
        }
        drop(partitions);
        self.shared.acknowledged.notify_all();
        Ok(())
    }

    async fn close(&mut self) -> anyhow::Result<()> {
        tokio::task::block_in_place(|| self.shut_down())
    }
}

impl Drop for KafkaSource {
    fn drop(&mut self) {
        // An error path that never reached `close`: stop polling, commit nothing more.
        self.shared.close();
        self.receiver.close();
    }
}

/// librdkafka's `max.poll.interval.ms`: the longest the poll thread stays
/// away from `poll` (a revoke's drain, at most `drain_timeout`, or an idle
/// check against a slow broker) plus a margin, within librdkafka's bounds.
/// It is also how long the broker waits for members to rejoin a rebalance,
/// and the timeout of a JoinGroup request.
fn max_poll_interval_ms(drain_timeout: Duration) -> u64 {
    const MARGIN: Duration = Duration::from_secs(60);
    // At least the session timeout (librdkafka refuses less), at most a day.
    const BOUNDS: (u64, u64) = (10_000, 86_400_000);
    let wanted = drain_timeout.saturating_add(MARGIN).as_millis();
    u64::try_from(wanted)
        .unwrap_or(u64::MAX)
        .clamp(BOUNDS.0, BOUNDS.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_interval_covers_a_drain_and_stays_within_librdkafkas_bounds() {
        assert_eq!(max_poll_interval_ms(Duration::from_secs(30)), 90_000);
        assert_eq!(max_poll_interval_ms(Duration::ZERO), 60_000);
        assert_eq!(max_poll_interval_ms(Duration::MAX), 86_400_000);
    }
}
