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
//! Threads: a dedicated poll thread owns the consumer's event loop (messages,
//! heartbeats, rebalance callbacks) and feeds a bounded queue; the pipeline
//! acknowledges from its own task. Rebalances run on the poll thread: on a
//! revoke it waits until every batch already handed over for those partitions
//! is acknowledged (bounded by `drain_timeout`), commits, and forgets the
//! partitions, so that nothing is ever committed for them after the revoke.
//! When the queue is full the poll thread stops taking messages out of
//! librdkafka (whose prefetch is bounded by `queued.max.messages.kbytes`);
//! if the pipeline stays full for long (its sink is down), the assigned
//! partitions are paused too. Memory stays bounded however far behind the
//! processor is.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tokio::sync::mpsc;

use crate::cli::KafkaArgs;
use crate::kafka;
use crate::kafka::contract;
use crate::pipeline::{Batch, Source};
use crate::record::{DeadLetter, Origin, Stage, now_ms};

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
    /// End once every assigned partition has been caught up this long.
    pub exit_when_idle: Option<Duration>,
    /// Longer sentences become dead letters.
    pub max_sentence_bytes: usize,
    /// How long a revoke waits for in-flight batches before giving them up
    /// (they are then read again by the partitions' next owner).
    pub drain_timeout: Duration,
}

/// Acknowledges a batch: for each partition in it, the last offset and the
/// assignment it was read under.
#[derive(Debug, Default)]
pub struct KafkaAck {
    positions: Vec<Position>,
}

#[derive(Clone, Copy, Debug)]
struct Position {
    partition: i32,
    /// Which assignment of the partition the message was read under.
    epoch: u64,
    offset: i64,
}

/// Sentences read from a Kafka topic by a consumer-group member.
pub struct KafkaSource {
    receiver: mpsc::Receiver<Batch<KafkaAck>>,
    consumer: Arc<BaseConsumer<GroupContext>>,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    poll_thread: Option<JoinHandle<()>>,
}

/// State shared by the poll thread, the rebalance callbacks and the pipeline.
struct Shared {
    topic: String,
    progress: Mutex<Progress>,
    /// Signalled whenever an acknowledgement arrives.
    acknowledged: Condvar,
    /// Bumped by every rebalance, so the poll thread knows to refresh its epochs.
    rebalances: AtomicU64,
    /// Why the poll thread stopped, when it was not asked to.
    failure: Mutex<Option<String>>,
    /// Set when the source is going away: a revoke then has nothing to wait for.
    closing: AtomicBool,
    /// Batches taken by the pipeline; with `room`, wakes a poll thread waiting for room.
    taken: Mutex<u64>,
    room: Condvar,
    drain_timeout: Duration,
}

/// What the source knows of each partition it owns.
#[derive(Default)]
struct Progress {
    partitions: HashMap<i32, PartitionProgress>,
    next_epoch: u64,
    /// True once the group has given this member an assignment (even an empty one).
    assigned_once: bool,
}

#[derive(Clone, Copy, Debug)]
struct PartitionProgress {
    epoch: u64,
    /// Highest offset handed to the pipeline.
    sent: Option<i64>,
    /// Highest offset acknowledged (durably written).
    acked: Option<i64>,
}

impl PartitionProgress {
    fn drained(&self) -> bool {
        self.sent <= self.acked
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Progress> {
        self.progress
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The consumer's context: runs the rebalance callbacks on the poll thread.
struct GroupContext {
    shared: Arc<Shared>,
}

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let shared = &self.shared;
        shared.rebalances.fetch_add(1, Ordering::SeqCst);
        match rebalance {
            Rebalance::Assign(partitions) => {
                let mut progress = shared.lock();
                progress.assigned_once = true;
                for element in partitions.elements_for_topic(&shared.topic) {
                    let epoch = progress.next_epoch;
                    progress.next_epoch += 1;
                    let fresh = PartitionProgress {
                        epoch,
                        sent: None,
                        acked: None,
                    };
                    progress.partitions.insert(element.partition(), fresh);
                }
                tracing::info!(partitions = ?partition_numbers(partitions, &shared.topic), "partitions assigned");
            }
            Rebalance::Revoke(partitions) => {
                let revoked = partition_numbers(partitions, &shared.topic);
                tracing::info!(partitions = ?revoked, "partitions revoked: draining in-flight batches, then committing");
                let mut progress = shared.lock();
                let deadline = Instant::now() + shared.drain_timeout;
                while !shared.closing.load(Ordering::SeqCst)
                    && revoked.iter().any(|p| {
                        progress
                            .partitions
                            .get(p)
                            .is_some_and(|state| !state.drained())
                    })
                {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        tracing::warn!(
                            "gave up waiting for in-flight batches of revoked partitions after {:?}; their next owner reads them again",
                            shared.drain_timeout
                        );
                        break;
                    }
                    progress = shared
                        .acknowledged
                        .wait_timeout(progress, left)
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .0;
                }
                // Offsets were stored as batches were acknowledged: commit them now,
                // while the partitions are still ours.
                if let Err(error) = consumer.commit_consumer_state(CommitMode::Sync)
                    && error.rdkafka_error_code()
                        != Some(rdkafka::types::RDKafkaErrorCode::NoOffset)
                {
                    tracing::warn!("commit on revoke failed: {error}");
                }
                // From here on, acknowledgements for these partitions are ignored.
                for partition in &revoked {
                    progress.partitions.remove(partition);
                }
            }
            Rebalance::Error(error) => tracing::warn!("rebalance error: {error}"),
        }
    }
}

fn partition_numbers(list: &TopicPartitionList, topic: &str) -> Vec<i32> {
    list.elements_for_topic(topic)
        .iter()
        .map(|e| e.partition())
        .collect()
}

impl KafkaSource {
    /// Joins the consumer group on `args.topic` and starts the poll thread.
    pub fn start(args: &KafkaArgs, options: KafkaSourceOptions) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared {
            topic: args.topic.clone(),
            progress: Mutex::new(Progress::default()),
            acknowledged: Condvar::new(),
            rebalances: AtomicU64::new(0),
            failure: Mutex::new(None),
            closing: AtomicBool::new(false),
            taken: Mutex::new(0),
            room: Condvar::new(),
            drain_timeout: options.drain_timeout,
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
            .set("heartbeat.interval.ms", "1000");
        let context = GroupContext {
            shared: Arc::clone(&shared),
        };
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
        let stop = Arc::new(AtomicBool::new(false));
        let poller = Poller {
            consumer: Arc::clone(&consumer),
            shared: Arc::clone(&shared),
            stop: Arc::clone(&stop),
            sender,
            options,
        };
        let poll_thread = std::thread::Builder::new()
            .name("kafka-poll".into())
            .spawn(move || poller.run())
            .map_err(|error| anyhow::anyhow!("cannot start the Kafka poll thread: {error}"))?;
        Ok(KafkaSource {
            receiver,
            consumer,
            shared,
            stop,
            poll_thread: Some(poll_thread),
        })
    }

    /// Stops the poll thread and commits what was acknowledged. Blocking.
    fn shut_down(&mut self) -> anyhow::Result<()> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.poll_thread.take() {
            thread
                .join()
                .map_err(|_| anyhow::anyhow!("the Kafka poll thread panicked"))?;
        }
        let committed = match self.consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(()) => Ok(()),
            Err(error)
                if error.rdkafka_error_code()
                    == Some(rdkafka::types::RDKafkaErrorCode::NoOffset) =>
            {
                Ok(())
            }
            Err(error) => Err(anyhow::anyhow!("final offset commit failed: {error}")),
        };
        // Leaving the group revokes everything: batches still queued were never
        // taken, so there is nothing to wait for.
        self.shared.closing.store(true, Ordering::SeqCst);
        committed
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
        let mut progress = self.shared.lock();
        for position in ack.positions {
            // A partition revoked (or revoked and assigned again) since the batch was
            // read is not ours to commit any more: its next owner reads it again.
            let Some(state) = progress.partitions.get_mut(&position.partition) else {
                continue;
            };
            if state.epoch != position.epoch {
                continue;
            }
            state.acked = Some(position.offset);
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
        drop(progress);
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
        self.stop.store(true, Ordering::SeqCst);
        self.shared.closing.store(true, Ordering::SeqCst);
        self.receiver.close();
    }
}

/// A polled message, decoded, waiting to be put in a batch.
struct Polled {
    position: Position,
    item: Result<crate::record::Record, DeadLetter>,
}

/// The poll thread's state.
struct Poller {
    consumer: Arc<BaseConsumer<GroupContext>>,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    sender: mpsc::Sender<Batch<KafkaAck>>,
    options: KafkaSourceOptions,
}

impl Poller {
    fn run(self) {
        if let Err(error) = self.poll_loop() {
            *self
                .shared
                .failure
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(format!("{error:#}"));
        }
    }

    fn poll_loop(&self) -> anyhow::Result<()> {
        let topic = self.shared.topic.clone();
        let mut epochs: HashMap<i32, u64> = HashMap::new();
        let mut seen_rebalances = u64::MAX;
        let mut pending: Vec<Polled> = Vec::with_capacity(self.options.batch_size);
        let mut first_pending_at = Instant::now();
        let mut paused = false;
        // Past this many polled messages waiting (the pipeline has been full for
        // a while: its sink is slow or down), stop fetching until they are taken.
        let high_water = self.options.batch_size * 4;
        let mut last_activity = Instant::now();
        let mut last_idle_check = Instant::now();
        let mut last_error_log: Option<Instant> = None;

        while !self.stop.load(Ordering::SeqCst) {
            let batch_ready = pending.len() >= self.options.batch_size
                || (!pending.is_empty() && first_pending_at.elapsed() >= self.options.linger);
            let mut queue_full = false;
            if batch_ready {
                match self.sender.try_reserve() {
                    Ok(permit) => {
                        let take = pending.len().min(self.options.batch_size);
                        let rest = pending.split_off(take);
                        if let Some((batch, positions)) =
                            self.assemble(std::mem::replace(&mut pending, rest))
                        {
                            permit.send(batch);
                            self.mark_sent(&positions);
                        }
                        first_pending_at = Instant::now();
                        // Resume only once the backlog is small again: pausing purges
                        // librdkafka's prefetched messages, so it must not flap.
                        if paused && pending.len() < self.options.batch_size {
                            self.set_paused(false)?;
                            paused = false;
                        }
                        continue;
                    }
                    Err(mpsc::error::TrySendError::Full(())) => queue_full = true,
                    Err(mpsc::error::TrySendError::Closed(())) => return Ok(()),
                }
            }
            if queue_full {
                // The pipeline is busy: leave messages in librdkafka's bounded
                // prefetch queue rather than in ours, and wait for room.
                if !paused && pending.len() >= high_water {
                    self.set_paused(true)?;
                    paused = true;
                }
                if self.wait_for_room(Duration::from_millis(100)) {
                    continue;
                }
            }
            // A full queue still needs polls now and then, for rebalances.
            let timeout = if queue_full {
                Duration::ZERO
            } else if pending.is_empty() || paused {
                Duration::from_millis(100)
            } else {
                self.options
                    .linger
                    .saturating_sub(first_pending_at.elapsed())
            };
            match self.consumer.poll(timeout) {
                Some(Ok(message)) => {
                    if pending.is_empty() {
                        first_pending_at = Instant::now();
                    }
                    last_activity = Instant::now();
                    // Rebalance callbacks run inside `poll`: refresh before using epochs.
                    self.refresh_epochs(&mut epochs, &mut seen_rebalances, &mut paused);
                    pending.push(self.decode(&message, &epochs));
                }
                // Transport errors are retried by librdkafka itself; say so now and then.
                Some(Err(error))
                    if last_error_log.is_none_or(|at| at.elapsed() > Duration::from_secs(10)) =>
                {
                    tracing::warn!("Kafka consumer: {}", kafka::describe_error(&error));
                    last_error_log = Some(Instant::now());
                }
                Some(Err(_)) | None => {}
            }
            self.refresh_epochs(&mut epochs, &mut seen_rebalances, &mut paused);

            if let Some(idle) = self.options.exit_when_idle
                && pending.is_empty()
                && last_activity.elapsed() >= idle
                && last_idle_check.elapsed() >= Duration::from_millis(250)
            {
                last_idle_check = Instant::now();
                if self.caught_up(&topic)? {
                    tracing::info!("every assigned partition caught up for {idle:?}: finishing");
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// A message as a record, or as a dead letter with the reason.
    fn decode(&self, message: &BorrowedMessage<'_>, epochs: &HashMap<i32, u64>) -> Polled {
        let origin = Origin {
            partition: message.partition(),
            offset: message.offset(),
        };
        let timestamp = message.timestamp().to_millis().unwrap_or_else(now_ms);
        let item = contract::decode(
            message.payload(),
            origin,
            timestamp,
            self.options.max_sentence_bytes,
        )
        .map_err(|reason| DeadLetter {
            key: message.key().map(<[u8]>::to_vec),
            payload: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
            reason,
            stage: Stage::Decode,
            origin: Some(origin),
        });
        Polled {
            position: Position {
                partition: origin.partition,
                // A partition not (or no longer) assigned: its message is dropped at assembly.
                epoch: epochs.get(&origin.partition).copied().unwrap_or(u64::MAX),
                offset: origin.offset,
            },
            item,
        }
    }

    /// Waits until the pipeline takes a batch or `timeout` passes; true if there is room.
    fn wait_for_room(&self, timeout: Duration) -> bool {
        let taken = self.shared.taken.lock().unwrap_or_else(|p| p.into_inner());
        // Checked under the lock that `next_batch` takes to notify: no wake-up is missed.
        if self.sender.capacity() > 0 {
            return true;
        }
        let _ = self.shared.room.wait_timeout(taken, timeout);
        self.sender.capacity() > 0
    }

    /// After a rebalance: new epochs, and the new assignment starts unpaused.
    fn refresh_epochs(&self, epochs: &mut HashMap<i32, u64>, seen: &mut u64, paused: &mut bool) {
        let now = self.shared.rebalances.load(Ordering::SeqCst);
        if now == *seen {
            return;
        }
        *seen = now;
        *paused = false;
        let progress = self.shared.lock();
        epochs.clear();
        epochs.extend(
            progress
                .partitions
                .iter()
                .map(|(p, state)| (*p, state.epoch)),
        );
    }

    /// Turns polled messages into a batch, dropping those read under an
    /// assignment that has since been revoked (their next owner reads them).
    fn assemble(&self, polled: Vec<Polled>) -> Option<(Batch<KafkaAck>, Vec<Position>)> {
        let progress = self.shared.lock();
        let mut records = Vec::with_capacity(polled.len());
        let mut dead_letters = Vec::new();
        let mut last: HashMap<i32, Position> = HashMap::new();
        for Polled { position, item } in polled {
            let current = progress
                .partitions
                .get(&position.partition)
                .map(|state| state.epoch);
            if current != Some(position.epoch) {
                continue;
            }
            last.insert(position.partition, position);
            match item {
                Ok(record) => records.push(record),
                Err(letter) => dead_letters.push(letter),
            }
        }
        if last.is_empty() {
            return None;
        }
        let positions: Vec<Position> = last.into_values().collect();
        let ack = KafkaAck {
            positions: positions.clone(),
        };
        Some((
            Batch {
                records,
                dead_letters,
                ack,
            },
            positions,
        ))
    }

    fn mark_sent(&self, positions: &[Position]) {
        let mut progress = self.shared.lock();
        for position in positions {
            if let Some(state) = progress.partitions.get_mut(&position.partition)
                && state.epoch == position.epoch
            {
                state.sent = Some(position.offset);
            }
        }
    }

    fn set_paused(&self, pause: bool) -> anyhow::Result<()> {
        let assignment = self.consumer.assignment()?;
        if assignment.count() == 0 {
            return Ok(());
        }
        let result = if pause {
            self.consumer.pause(&assignment)
        } else {
            self.consumer.resume(&assignment)
        };
        result.map_err(|error| {
            anyhow::anyhow!(
                "cannot {} partitions: {error}",
                if pause { "pause" } else { "resume" }
            )
        })
    }

    /// True when this member has an assignment, everything handed over is
    /// acknowledged, and every assigned partition is read to its end.
    fn caught_up(&self, topic: &str) -> anyhow::Result<bool> {
        let (assigned, drained) = {
            let progress = self.shared.lock();
            let drained = progress.partitions.values().all(PartitionProgress::drained);
            (progress.assigned_once, drained)
        };
        if !assigned || !drained {
            return Ok(false);
        }
        let positions = self.consumer.position()?;
        let mut unknown = TopicPartitionList::new();
        for element in positions.elements_for_topic(topic) {
            let (low, high) = self.consumer.fetch_watermarks(
                topic,
                element.partition(),
                kafka::CONNECT_TIMEOUT,
            )?;
            match element.offset() {
                Offset::Offset(position) if position >= high => {}
                Offset::Offset(_) => return Ok(false),
                // Nothing read from it yet: caught up if it is empty or the group's
                // committed offset is already at its end.
                _ if low == high => {}
                _ => {
                    unknown.add_partition(topic, element.partition());
                    let committed = self
                        .consumer
                        .committed_offsets(unknown.clone(), kafka::CONNECT_TIMEOUT)?;
                    let at_end = committed
                        .elements_for_topic(topic)
                        .first()
                        .is_some_and(|c| matches!(c.offset(), Offset::Offset(o) if o >= high));
                    if !at_end {
                        return Ok(false);
                    }
                    unknown = TopicPartitionList::new();
                }
            }
        }
        Ok(true)
    }
}
