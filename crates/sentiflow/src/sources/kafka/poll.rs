//! The poll thread: takes messages out of librdkafka, decodes them, groups
//! them into batches and hands the batches to the pipeline's bounded queue.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::mpsc;

use super::context::{GroupContext, error_type};
use super::partitions::Position;
use super::{KafkaAck, KafkaSourceOptions, Shared};
use crate::kafka;
use crate::kafka::contract::Decoder;
use crate::pipeline::Batch;
use crate::record::{DeadLetter, Origin, Original, Record, Stage, now_ms};
use crate::stats::ErrorStage;

/// Messages are copied out of librdkafka into chunks of this size, shared by
/// the records made from them (one allocation per chunk, not per message).
const ARENA_CHUNK: usize = 256 * 1024;

/// A polled message, decoded, waiting to be put in a batch.
struct Polled {
    position: Position,
    item: Result<Record, DeadLetter>,
}

/// The poll thread's state.
pub(super) struct Poller {
    consumer: Arc<BaseConsumer<GroupContext>>,
    shared: Arc<Shared>,
    sender: mpsc::Sender<Batch<KafkaAck>>,
    options: KafkaSourceOptions,
    decoder: Decoder,
    arena: BytesMut,
}

/// What the loop tracks between iterations.
struct LoopState {
    epochs: HashMap<i32, u64>,
    /// Partitions of the current assignment no message has been read from
    /// yet: their first message may reveal an offset reset.
    unseen: HashSet<i32>,
    seen_rebalances: u64,
    pending: Vec<Polled>,
    first_pending_at: Instant,
    /// Whether fetching is paused (as asked of librdkafka).
    paused: bool,
    /// The last time the pipeline's queue had room: the pipeline is stuck
    /// (its sink slow or down) when this is long ago.
    last_room: Instant,
    last_activity: Instant,
    last_idle_check: Instant,
}

impl Poller {
    pub(super) fn new(
        consumer: Arc<BaseConsumer<GroupContext>>,
        shared: Arc<Shared>,
        sender: mpsc::Sender<Batch<KafkaAck>>,
        options: KafkaSourceOptions,
    ) -> Poller {
        let decoder = Decoder::new(&shared.topic, options.max_sentence_bytes);
        Poller {
            consumer,
            shared,
            sender,
            options,
            decoder,
            arena: BytesMut::new(),
        }
    }

    pub(super) fn run(mut self) {
        if let Err(error) = self.poll_loop() {
            *self
                .shared
                .failure
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(format!("{error:#}"));
        }
    }

    fn poll_loop(&mut self) -> anyhow::Result<()> {
        let mut state = LoopState {
            epochs: HashMap::new(),
            unseen: HashSet::new(),
            seen_rebalances: u64::MAX,
            pending: Vec::with_capacity(self.options.batch_size),
            first_pending_at: Instant::now(),
            paused: false,
            last_room: Instant::now(),
            last_activity: Instant::now(),
            last_idle_check: Instant::now(),
        };
        let batch_size = self.options.batch_size;
        let pause_after = self.options.pause_after;

        while !self.shared.stop.load(Ordering::SeqCst) {
            let batch_ready = state.pending.len() >= batch_size
                || (!state.pending.is_empty()
                    && state.first_pending_at.elapsed() >= self.options.linger);
            let mut queue_full = false;
            if batch_ready {
                match self.sender.try_reserve() {
                    Ok(permit) => {
                        let take = state.pending.len().min(batch_size);
                        let rest = state.pending.split_off(take);
                        let polled = std::mem::replace(&mut state.pending, rest);
                        if let Some((batch, positions)) = self.assemble(polled) {
                            permit.send(batch);
                            self.shared.partitions().mark_sent(&positions);
                        }
                        state.first_pending_at = Instant::now();
                        state.last_room = Instant::now();
                        // The pipeline takes batches again.
                        if state.paused {
                            self.set_paused(&mut state, false);
                        }
                        continue;
                    }
                    Err(mpsc::error::TrySendError::Full(())) => queue_full = true,
                    Err(mpsc::error::TrySendError::Closed(())) => return Ok(()),
                }
            }
            if queue_full {
                // The pipeline is busy: leave messages in librdkafka's bounded
                // prefetch queue rather than in ours, and wait for room. Only a
                // pipeline stuck for `pause_after` pauses fetching: pausing purges
                // the prefetched messages, which a merely busy pipeline needs.
                if !state.paused && state.last_room.elapsed() >= pause_after {
                    self.set_paused(&mut state, true);
                }
                if self.wait_for_room(Duration::from_millis(100)) {
                    state.last_room = Instant::now();
                    continue;
                }
            } else {
                state.last_room = Instant::now();
            }
            // A full queue still needs polls now and then, for rebalances.
            let timeout = if queue_full {
                Duration::ZERO
            } else if state.pending.is_empty() || state.paused {
                Duration::from_millis(100)
            } else {
                self.options
                    .linger
                    .saturating_sub(state.first_pending_at.elapsed())
            };
            let consumer = Arc::clone(&self.consumer);
            match consumer.poll(timeout) {
                Some(Ok(message)) => {
                    // Rebalance callbacks run inside `poll`: refresh before using epochs.
                    self.after_rebalance(&mut state, pause_after);
                    if state.pending.is_empty() {
                        state.first_pending_at = Instant::now();
                    }
                    state.last_activity = Instant::now();
                    self.shared.stats.source.connected.set(true);
                    if state.unseen.remove(&message.partition()) {
                        self.check_reset(&message, &state.epochs);
                    }
                    let polled = self.decode(&message, &state.epochs);
                    state.pending.push(polled);
                }
                Some(Err(error)) => {
                    let kind = error_type(&error);
                    self.shared.stats.errors.add(ErrorStage::Receiving, kind);
                    self.shared.errors.warn(kind, || {
                        format!("Kafka consumer: {}", kafka::describe_error(&error))
                    });
                }
                None => {}
            }
            self.after_rebalance(&mut state, pause_after);

            if let Some(idle) = self.options.exit_when_idle
                && state.pending.is_empty()
                && state.last_activity.elapsed() >= idle
                && state.last_idle_check.elapsed() >= Duration::from_millis(250)
            {
                state.last_idle_check = Instant::now();
                match self.caught_up() {
                    Ok(true) => {
                        tracing::info!("every assigned partition caught up for {idle:?}: finishing");
                        return Ok(());
                    }
                    Ok(false) => {}
                    // An outage is waited out, like a Cassandra outage: the check runs again.
                    Err(error) => self.shared.errors.warn("idle_check", || {
                        format!(
                            "cannot tell whether every partition is caught up, waiting for Kafka: {error:#}"
                        )
                    }),
                }
            }
        }
        Ok(())
    }

    /// After a rebalance: new epochs, messages read under a revoked
    /// assignment dropped (their next owner reads them), and the new
    /// assignment put explicitly in the state the pipeline asks for (paused
    /// only while it is stuck): an application's pause survives a
    /// reassignment in librdkafka, so a partition given back while paused
    /// would otherwise never be fetched again.
    fn after_rebalance(&self, state: &mut LoopState, pause_after: Duration) {
        let now = self.shared.rebalances.load(Ordering::SeqCst);
        if now == state.seen_rebalances {
            return;
        }
        state.seen_rebalances = now;
        let partitions = self.shared.partitions();
        state.epochs = partitions.epochs();
        state.unseen = state.epochs.keys().copied().collect();
        state
            .pending
            .retain(|polled| partitions.is_current(&polled.position));
        drop(partitions);
        let stuck = self.sender.capacity() == 0 && state.last_room.elapsed() >= pause_after;
        self.apply_pause(state, stuck);
    }

    /// A message as a record, or as a dead letter with the reason.
    fn decode(&mut self, message: &BorrowedMessage<'_>, epochs: &HashMap<i32, u64>) -> Polled {
        let origin = Origin {
            partition: message.partition(),
            offset: message.offset(),
        };
        let timestamp_ms = message.timestamp().to_millis().unwrap_or_else(now_ms);
        let position = Position {
            partition: origin.partition,
            // A partition not (or no longer) assigned: its message is dropped at assembly.
            epoch: epochs.get(&origin.partition).copied().unwrap_or(u64::MAX),
            offset: origin.offset,
            timestamp_ms,
        };
        let original = Original {
            key: message.key().map(|key| self.copy(key)),
            value: message.payload().map(|value| self.copy(value)),
            headers: match message.headers() {
                None => Vec::new(),
                Some(headers) => headers
                    .iter()
                    .map(|h| (h.key.to_owned(), h.value.map(|v| self.copy(v))))
                    .collect(),
            },
        };
        let item = match self
            .decoder
            .decode(original.value.as_ref(), origin, timestamp_ms)
        {
            Ok(decoded) => Ok(Record {
                id: decoded.id,
                sentence: decoded.sentence,
                produced_at_ms: decoded.produced_at_ms,
                origin: Some(origin),
                original: Some(original),
            }),
            Err(rejection) => Err(DeadLetter {
                original,
                code: rejection.code,
                reason: rejection.reason,
                stage: Stage::Decode,
                origin: Some(origin),
            }),
        };
        Polled { position, item }
    }

    /// Copies `bytes` out of librdkafka's buffer into the arena.
    fn copy(&mut self, bytes: &[u8]) -> Bytes {
        if self.arena.capacity() - self.arena.len() < bytes.len() {
            self.arena.reserve(bytes.len().max(ARENA_CHUNK));
        }
        self.arena.extend_from_slice(bytes);
        self.arena.split().freeze()
    }

    /// Logs and counts an offset reset revealed by the first message of an assignment.
    fn check_reset(&self, message: &BorrowedMessage<'_>, epochs: &HashMap<i32, u64>) {
        let Some(&epoch) = epochs.get(&message.partition()) else {
            return;
        };
        let position = Position {
            partition: message.partition(),
            epoch,
            offset: message.offset(),
            timestamp_ms: 0,
        };
        let Some(reset) = self.shared.partitions().first_message(&position) else {
            return;
        };
        let source = &self.shared.stats.source;
        source.offset_resets.fetch_add(1, Ordering::Relaxed);
        source
            .skipped_by_resets
            .fetch_add(reset.skipped(), Ordering::Relaxed);
        if reset.first_read > reset.committed {
            tracing::warn!(
                "offset reset on partition {}: the group's committed offset {} is no longer in the log (retention or deleted records); reading from {}: {} messages skipped",
                reset.partition,
                reset.committed,
                reset.first_read,
                reset.skipped()
            );
        } else {
            tracing::warn!(
                "offset reset on partition {}: the group's committed offset {} is beyond the end of the log (topic recreated?); reading again from {}",
                reset.partition,
                reset.committed,
                reset.first_read
            );
        }
    }

    /// Waits until the pipeline takes a batch or `timeout` passes; true if there is room.
    fn wait_for_room(&self, timeout: Duration) -> bool {
        let taken = self.shared.taken.lock().unwrap_or_else(|p| p.into_inner());
        // Checked under the lock that `next_batch` takes to notify: no wake-up is missed.
        if self.sender.capacity() > 0 || self.shared.stop.load(Ordering::SeqCst) {
            return true;
        }
        let _ = self.shared.room.wait_timeout(taken, timeout);
        self.sender.capacity() > 0
    }

    /// Turns polled messages into a batch, dropping those read under an
    /// assignment that has since been revoked (their next owner reads them).
    fn assemble(&self, polled: Vec<Polled>) -> Option<(Batch<KafkaAck>, Vec<Position>)> {
        let partitions = self.shared.partitions();
        let mut records = Vec::with_capacity(polled.len());
        let mut dead_letters = Vec::new();
        let mut last: HashMap<i32, Position> = HashMap::new();
        for Polled { position, item } in polled {
            if !partitions.is_current(&position) {
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

    /// Pauses or resumes fetching, unless it already is.
    fn set_paused(&self, state: &mut LoopState, pause: bool) {
        if state.paused != pause {
            self.apply_pause(state, pause);
        }
    }

    /// Pauses or resumes fetching of the whole assignment, whatever the
    /// current state. A failure is logged, not fatal: the next rebalance or
    /// batch tries again.
    fn apply_pause(&self, state: &mut LoopState, pause: bool) {
        let result = self.consumer.assignment().and_then(|assignment| {
            if assignment.count() == 0 {
                return Ok(assignment);
            }
            if pause {
                self.consumer.pause(&assignment)?;
            } else {
                self.consumer.resume(&assignment)?;
            }
            Ok(assignment)
        });
        match result {
            Ok(assignment) => {
                state.paused = pause;
                let source = &self.shared.stats.source;
                source.paused.store(pause, Ordering::Relaxed);
                let partitions = super::context::partition_numbers(&assignment, &self.shared.topic);
                if pause {
                    source.pauses.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        ?partitions,
                        "the pipeline has taken nothing for {:?} (its sink is slow or down): pausing fetching",
                        state.last_room.elapsed()
                    );
                } else {
                    tracing::info!(?partitions, "fetching");
                }
            }
            Err(error) => tracing::warn!(
                "cannot {} partitions: {error}",
                if pause { "pause" } else { "resume" }
            ),
        }
    }

    /// True when this member has an assignment, everything handed over is
    /// acknowledged, and every assigned partition is read to its end.
    fn caught_up(&self) -> anyhow::Result<bool> {
        let topic = &self.shared.topic;
        {
            let partitions = self.shared.partitions();
            if !partitions.settled() || !partitions.all_drained() {
                return Ok(false);
            }
        }
        let positions = self.consumer.position()?;
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
                    let mut list = TopicPartitionList::new();
                    list.add_partition(topic, element.partition());
                    let committed = self
                        .consumer
                        .committed_offsets(list, kafka::CONNECT_TIMEOUT)?;
                    let at_end = committed
                        .elements_for_topic(topic)
                        .first()
                        .is_some_and(|c| matches!(c.offset(), Offset::Offset(o) if o >= high));
                    if !at_end {
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }
}
