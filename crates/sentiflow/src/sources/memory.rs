//! The embedded source: a generator thread feeding a bounded in-process queue.
//!
//! The generator runs on its own OS thread so that it never competes with the
//! async runtime, and blocks when the queue is full: memory stays bounded by
//! `queue_batches * batch_size` sentences whatever the count.

use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::generate::{SentenceGenerator, Style};
use crate::pipeline::{Batch, Source};
use crate::record::{Record, now_ms};

/// What to generate and how fast.
#[derive(Clone, Debug)]
pub struct GeneratorOptions {
    pub seed: u64,
    pub style: Style,
    /// Stop after this many sentences; `None` runs until shutdown.
    pub count: Option<u64>,
    /// Sentences per second; `None` is as fast as the pipeline takes them.
    pub rate: Option<f64>,
    /// Sentences per batch (smaller batches are sent when a rate is set).
    pub batch_size: usize,
    /// Batches the queue holds before the generator waits.
    pub queue_batches: usize,
}

/// Acknowledges the generated sentences `first..first + count` (by index).
#[derive(Debug)]
pub struct GeneratedRange {
    pub first: u64,
    pub count: u64,
}

/// Generated sentences, taken from the bounded queue.
pub struct MemorySource {
    receiver: mpsc::Receiver<Batch<GeneratedRange>>,
    acknowledged: u64,
}

impl MemorySource {
    /// Starts the generator thread.
    pub fn start(options: GeneratorOptions) -> Self {
        let (sender, receiver) = mpsc::channel(options.queue_batches.max(1));
        thread::Builder::new()
            .name("generator".into())
            .spawn(move || generate(options, sender))
            .expect("cannot start the generator thread");
        MemorySource {
            receiver,
            acknowledged: 0,
        }
    }

    /// Sentences acknowledged as durably written so far.
    pub fn acknowledged(&self) -> u64 {
        self.acknowledged
    }
}

impl Source for MemorySource {
    type Ack = GeneratedRange;

    async fn next_batch(&mut self) -> anyhow::Result<Option<Batch<GeneratedRange>>> {
        // `recv` is cancel-safe: a batch is either returned or left in the queue.
        Ok(self.receiver.recv().await)
    }

    async fn ack(&mut self, range: GeneratedRange) -> anyhow::Result<()> {
        debug_assert_eq!(range.first, self.acknowledged, "acks must arrive in order");
        self.acknowledged = range.first + range.count;
        Ok(())
    }
}

/// The generator thread: fills batches until the count is reached or the
/// pipeline drops the receiver.
fn generate(options: GeneratorOptions, sender: mpsc::Sender<Batch<GeneratedRange>>) {
    let mut generator = SentenceGenerator::new(options.seed, options.style);
    let batch_size = match options.rate {
        // Send about ten batches a second when paced, so rows show up promptly.
        Some(rate) => ((rate / 10.0) as usize).clamp(1, options.batch_size),
        None => options.batch_size,
    };
    let started = Instant::now();
    let mut index: u64 = 0;
    loop {
        let remaining = options.count.map_or(u64::MAX, |count| count - index);
        if remaining == 0 {
            return;
        }
        let size = (batch_size as u64).min(remaining) as usize;
        if let Some(rate) = options.rate {
            // Release a batch when its last sentence is due, measured from the start
            // (not from the previous batch) so that errors do not add up.
            let due = started + Duration::from_secs_f64((index + size as u64) as f64 / rate);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                thread::sleep(wait);
            }
        }
        let produced_at_ms = now_ms();
        let mut records = Vec::with_capacity(size);
        for _ in 0..size {
            let Some((id, sentence)) = generator.next_sentence() else {
                break;
            };
            records.push(Record {
                id,
                sentence: sentence.into(),
                produced_at_ms,
                origin: None,
                original: None,
            });
        }
        if records.is_empty() {
            tracing::warn!(
                "seed {} has no ids left after {} sentences: stopping (go on with --seed {})",
                options.seed,
                index,
                options.seed + 1
            );
            return;
        }
        let size = records.len();
        let batch = Batch {
            records,
            dead_letters: Vec::new(),
            ack: GeneratedRange {
                first: index,
                count: size as u64,
            },
        };
        index += size as u64;
        if sender.blocking_send(batch).is_err() {
            return; // The pipeline stopped reading: shutdown.
        }
    }
}
