//! The one task that reads the stores and Kafka for the dashboard.
//!
//! HTTP handlers never query a store: they render the last [`StoreView`].
//! This task refreshes it every [`REFRESH_EVERY`], or later when a refresh
//! took long (it waits ten times as long as the last refresh took, so reads
//! use at most a tenth of the time). Inside `run` and `process` it reads only
//! while someone looked at the dashboard in the last minute; for `serve` it
//! always reads (its history of offsets is the lag trend).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::history::Sample;
use super::server::Shared;
use super::{Live, Store};
use crate::kafka::admin::{self, GroupDescription, PartitionLag};
use crate::record::now_ms;
use crate::sinks::view::{DeadLettersView, MinuteMix, RowView, minute_of};

/// The usual pause between two refreshes.
pub const REFRESH_EVERY: Duration = Duration::from_secs(4);

/// Minutes of sentiment shown.
pub const WINDOW_MINUTES: i64 = 60;

/// Rows in the "latest rows" table, and dead letters in theirs.
pub const LATEST: usize = 20;

/// A dashboard stays "looked at" this long after its last request.
const VIEWED_FOR_MS: i64 = 60_000;

/// What the last refresh read.
#[derive(Clone, Debug, Default)]
pub struct StoreView {
    /// When it was read (0: never).
    pub at_ms: i64,
    pub took: Duration,
    /// Why the last refresh failed, if it did (the rest is from the one before).
    pub error: Option<String>,
    /// Rows per minute of the last hour (only minutes that have rows).
    pub minutes: Vec<MinuteMix>,
    /// Why the sentiment panels are empty, when the store cannot have them.
    pub sentiment_note: Option<String>,
    /// Rows in the store by label (positive, negative, neutral), when the store can count them cheaply.
    pub label_totals: Option<[u64; 3]>,
    pub latest: Vec<RowView>,
    pub latest_by_label: Vec<(String, Vec<RowView>)>,
    pub dead_letters: Option<DeadLettersView>,
    pub group: Option<GroupDescription>,
    /// `serve`: the group's offsets and lag, from Kafka.
    pub offsets: Option<Vec<PartitionLag>>,
    /// `serve`: timestamp of the oldest unprocessed message per partition.
    pub oldest_unprocessed_ms: Vec<(i32, i64)>,
}

impl StoreView {
    /// Lag in seconds of a partition read by `serve`.
    pub fn lag_seconds(&self, partition: &PartitionLag) -> Option<f64> {
        if partition.lag == 0 {
            return Some(0.0);
        }
        let (_, oldest) = self
            .oldest_unprocessed_ms
            .iter()
            .find(|(p, _)| *p == partition.partition)?;
        Some((self.at_ms - oldest).max(0) as f64 / 1000.0)
    }
}

/// Refreshes `shared`'s view until the process ends.
pub async fn run(shared: Arc<Shared>) {
    let always = matches!(shared.live, Live::None);
    let mut pause = Duration::ZERO;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shared.refresh_now.notified() => {}
        }
        if !always && now_ms() - shared.viewed_ms() > VIEWED_FOR_MS {
            pause = REFRESH_EVERY;
            continue;
        }
        let started = Instant::now();
        let view = read(&shared).await;
        let took = started.elapsed();
        if always {
            shared.history().push(sample_of(&view));
        }
        shared.set_view(StoreView { took, ..view });
        pause = REFRESH_EVERY.max(took * 10);
    }
}

/// One refresh: everything the dashboard shows from outside the process.
async fn read(shared: &Shared) -> StoreView {
    let previous = shared.view();
    let mut view = StoreView {
        at_ms: now_ms(),
        ..StoreView::default()
    };
    let mut errors = Vec::new();
    match &shared.store {
        Some(Store::Sqlite(reader)) => {
            let reader = Arc::clone(reader);
            let since = minute_of(view.at_ms) - (WINDOW_MINUTES - 1) * 60_000;
            // A running pipeline counts its rows itself: no need to scan the table for them.
            let totals = matches!(shared.live, Live::None);
            match tokio::task::spawn_blocking(move || reader.read(since, LATEST, totals)).await {
                Ok(Ok(db)) => {
                    view.minutes = db.minutes;
                    view.label_totals =
                        db.counted.then_some([db.positive, db.negative, db.neutral]);
                    view.latest = db.latest;
                    view.latest_by_label = db.latest_by_label;
                    view.dead_letters = Some(db.dead_letters);
                }
                Ok(Err(error)) => errors.push(format!("{error:#}")),
                Err(error) => errors.push(format!("the SQLite read failed: {error}")),
            }
        }
        Some(Store::Cassandra(dashboard)) => {
            if let Err(error) = read_cassandra(dashboard, &mut view).await {
                errors.push(format!("{error:#}"));
            }
        }
        None => {}
    }
    if let Some(kafka) = &shared.kafka {
        let target = kafka.clone();
        let read_offsets = kafka.read_offsets;
        let known_dead = previous.dead_letters.clone();
        let kafka_view = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let group = admin::describe_group(&target.args, &target.group)?;
            let mut offsets = None;
            let mut oldest = Vec::new();
            if read_offsets {
                let status =
                    admin::topic_status(&target.args, &target.group, &target.dead_letter_topic)?;
                oldest = admin::oldest_unprocessed_ms(&target.args, &status.partitions)?;
                offsets = Some(status.partitions);
            }
            let dead = admin::latest_dead_letters(&target.args, &target.dead_letter_topic, LATEST)
                .map(Some)
                .unwrap_or(known_dead);
            Ok((group, offsets, oldest, dead))
        })
        .await;
        match kafka_view {
            Ok(Ok((group, offsets, oldest, dead))) => {
                view.group = Some(group);
                view.offsets = offsets;
                view.oldest_unprocessed_ms = oldest;
                view.dead_letters = dead;
            }
            Ok(Err(error)) => errors.push(format!("{error:#}")),
            Err(error) => errors.push(format!("the Kafka read failed: {error}")),
        }
    }
    if !errors.is_empty() {
        // Keep what was shown, say why it is stale.
        return StoreView {
            at_ms: view.at_ms,
            error: Some(errors.join("; ")),
            ..(*previous).clone()
        };
    }
    view
}

/// The last hour per minute (every minute that may hold rows), then the
/// latest rows from the newest minutes.
async fn read_cassandra(
    dashboard: &crate::sinks::cassandra::Dashboard,
    view: &mut StoreView,
) -> anyhow::Result<()> {
    if dashboard.companion().is_none() {
        view.sentiment_note = Some(
            "no companion table (made before sentiflow had one, or by the original stack): run `sentiflow setup` to create it".into(),
        );
        return Ok(());
    }
    let newest = minute_of(view.at_ms);
    let minutes: Vec<i64> = (0..WINDOW_MINUTES)
        .map(|back| newest - back * 60_000)
        .collect();
    let counted =
        futures_util::future::join_all(minutes.iter().map(|m| dashboard.minute(*m))).await;
    let mut mixes = Vec::new();
    for mix in counted {
        let mix = mix?;
        if mix.total() > 0 {
            mixes.push(mix);
        }
    }
    mixes.sort_by_key(|m| m.minute_ms);
    // Newest rows: from the newest minutes that have any, until there are enough.
    for label in ["positive", "negative", "neutral"] {
        let mut rows = Vec::new();
        for mix in mixes.iter().rev() {
            if rows.len() >= LATEST {
                break;
            }
            let has = match label {
                "positive" => mix.positive,
                "negative" => mix.negative,
                _ => mix.neutral,
            };
            if has > 0 {
                rows.extend(
                    dashboard
                        .latest(mix.minute_ms, label, LATEST - rows.len())
                        .await?,
                );
            }
        }
        view.latest_by_label.push((label.to_owned(), rows));
    }
    let mut latest: Vec<RowView> = view
        .latest_by_label
        .iter()
        .flat_map(|(_, rows)| rows.iter().cloned())
        .collect();
    latest.sort_by(|a, b| {
        b.produced_at_ms
            .cmp(&a.produced_at_ms)
            .then(b.id.cmp(&a.id))
    });
    latest.truncate(LATEST);
    view.latest = latest;
    view.minutes = mixes;
    Ok(())
}

/// A history sample from what `serve` read.
fn sample_of(view: &StoreView) -> Sample {
    let mut sample = Sample {
        at_ms: view.at_ms,
        ..Sample::default()
    };
    if let Some(offsets) = &view.offsets {
        sample.end_offsets = offsets
            .iter()
            .map(|p| (p.partition, p.end_offset))
            .collect();
        sample.processed = Some(
            offsets
                .iter()
                .map(|p| p.committed_offset.unwrap_or(0).max(0) as u64)
                .sum(),
        );
        sample.lag = offsets
            .iter()
            .map(|p| (p.partition, (Some(p.lag), view.lag_seconds(p))))
            .collect();
    }
    if let Some(labels) = view.label_totals {
        sample.written = Some(labels.iter().sum());
    }
    if let Some(dead) = &view.dead_letters {
        sample.dead_letters = Some(dead.total);
    }
    sample
}

/// A history sample of a running pipeline's counters.
pub fn sample_live(shared: &Shared) -> Option<Sample> {
    let (stats, producer) = match &shared.live {
        Live::Pipeline(stats) => (stats, false),
        Live::Producer(stats) => (stats, true),
        Live::None => return None,
    };
    let totals = stats.snapshot();
    let mut sample = Sample {
        at_ms: now_ms(),
        ..Sample::default()
    };
    if producer {
        sample.generated = Some(totals.written + totals.dead_lettered);
        sample.written = Some(totals.written);
        return Some(sample);
    }
    let partitions = stats.source.partitions();
    if shared.kafka.is_some() {
        sample.end_offsets = partitions
            .iter()
            .filter_map(|p| Some((p.partition, p.end_offset?)))
            .collect();
    } else {
        // The generator is the producer: what it made is what the pipeline took.
        sample.generated = Some(totals.received);
    }
    sample.processed = Some(totals.received);
    sample.written = Some(totals.written);
    sample.dead_letters = Some(totals.dead_lettered);
    sample.waited_us = Some((totals.waited_on_source_us, totals.waited_on_sink_us));
    sample.lag = partitions
        .iter()
        .map(|p| (p.partition, (p.lag_messages, p.lag_seconds)))
        .collect();
    Some(sample)
}
