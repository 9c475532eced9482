//! The last minutes of the pipeline, for the dashboard's time series:
//! produced, processed and written per second on one time axis, and the lag
//! of each partition in messages and in seconds.
//!
//! A sample holds running totals; rates are differences between consecutive
//! samples, computed when the series is read. A total that is unknown at one
//! end of an interval gives no rate (`null`, shown as a gap and `n/a`), never 0.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

/// How often the pipeline is sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(2);

/// Samples kept: ten minutes at one every two seconds.
pub const KEPT: usize = 300;

/// Running totals at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    pub at_ms: i64,
    /// End offset of each partition (messages produced to it so far).
    pub end_offsets: BTreeMap<i32, i64>,
    /// Generated sentences (`run`: the generator is the producer).
    pub generated: Option<u64>,
    /// Records taken by the pipeline, or committed by the group (`serve`).
    pub processed: Option<u64>,
    pub written: Option<u64>,
    pub dead_letters: Option<u64>,
    /// Per partition: lag in messages and in seconds, when known.
    pub lag: BTreeMap<i32, (Option<i64>, Option<f64>)>,
    /// Microseconds the pipeline waited on its source and on its sink so far.
    pub waited_us: Option<(u64, u64)>,
}

/// The series the charts draw: one time axis, one value (or null) per point.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Series {
    /// Seconds since the epoch.
    pub t: Vec<f64>,
    pub produced: Vec<Option<f64>>,
    pub processed: Vec<Option<f64>>,
    pub written: Vec<Option<f64>>,
    pub dead_letters: Vec<Option<f64>>,
    /// Partition numbers, and for each its lag series.
    pub partitions: Vec<i32>,
    pub lag_messages: Vec<Vec<Option<f64>>>,
    pub lag_seconds: Vec<Vec<Option<f64>>>,
}

impl Series {
    /// The latest value of a rate series.
    pub fn last(values: &[Option<f64>]) -> Option<f64> {
        values.last().copied().flatten()
    }
}

/// The samples of the last minutes.
#[derive(Debug, Default)]
pub struct History {
    samples: VecDeque<Sample>,
}

impl History {
    pub fn push(&mut self, sample: Sample) {
        if self.samples.len() == KEPT {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
    }

    /// Shares of the last `over` the pipeline spent waiting on its source and
    /// on its sink, from the samples that span it.
    pub fn waiting_shares(&self, over: std::time::Duration) -> Option<(f64, f64)> {
        let last = self.samples.back()?;
        let since = last.at_ms - over.as_millis() as i64;
        let first = self
            .samples
            .iter()
            .find(|s| s.at_ms >= since && s.waited_us.is_some())?;
        let ((source0, sink0), (source1, sink1)) = (first.waited_us?, last.waited_us?);
        let span_us = ((last.at_ms - first.at_ms) * 1000) as f64;
        if span_us <= 0.0 {
            return None;
        }
        Some((
            (source1.saturating_sub(source0) as f64 / span_us).min(1.0),
            (sink1.saturating_sub(sink0) as f64 / span_us).min(1.0),
        ))
    }

    /// Rates between consecutive samples, and the lag at each sample.
    pub fn series(&self) -> Series {
        let mut series = Series::default();
        let partitions: BTreeSet<i32> = self
            .samples
            .iter()
            .flat_map(|s| s.lag.keys().copied())
            .collect();
        series.partitions = partitions.iter().copied().collect();
        series.lag_messages = vec![Vec::new(); partitions.len()];
        series.lag_seconds = vec![Vec::new(); partitions.len()];
        let mut previous: Option<&Sample> = None;
        for sample in &self.samples {
            series.t.push(sample.at_ms as f64 / 1000.0);
            let rate = |now: Option<u64>, before: Option<u64>, seconds: f64| match (now, before) {
                (Some(now), Some(before)) if seconds > 0.0 && now >= before => {
                    Some((now - before) as f64 / seconds)
                }
                _ => None,
            };
            match previous {
                Some(before) => {
                    let seconds = (sample.at_ms - before.at_ms) as f64 / 1000.0;
                    series
                        .produced
                        .push(match (sample.generated, before.generated) {
                            (Some(now), Some(then)) => rate(Some(now), Some(then), seconds),
                            _ => produced_rate(before, sample, seconds),
                        });
                    series
                        .processed
                        .push(rate(sample.processed, before.processed, seconds));
                    series
                        .written
                        .push(rate(sample.written, before.written, seconds));
                    series.dead_letters.push(rate(
                        sample.dead_letters,
                        before.dead_letters,
                        seconds,
                    ));
                }
                None => {
                    series.produced.push(None);
                    series.processed.push(None);
                    series.written.push(None);
                    series.dead_letters.push(None);
                }
            }
            for (index, partition) in partitions.iter().enumerate() {
                let (messages, seconds) = sample.lag.get(partition).copied().unwrap_or_default();
                series.lag_messages[index].push(messages.map(|m| m as f64));
                series.lag_seconds[index].push(seconds);
            }
            previous = Some(sample);
        }
        series
    }
}

/// Messages produced per second: growth of the end offsets of the partitions
/// known at both ends of the interval (an assignment change adds no jump).
fn produced_rate(before: &Sample, now: &Sample, seconds: f64) -> Option<f64> {
    if seconds <= 0.0 || now.end_offsets.is_empty() {
        return None;
    }
    let mut grown = 0i64;
    let mut common = false;
    for (partition, end) in &now.end_offsets {
        if let Some(then) = before.end_offsets.get(partition) {
            grown += (end - then).max(0);
            common = true;
        }
    }
    common.then(|| grown as f64 / seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_ms: i64, written: Option<u64>, ends: &[(i32, i64)]) -> Sample {
        Sample {
            at_ms,
            written,
            processed: written,
            end_offsets: ends.iter().copied().collect(),
            lag: ends
                .iter()
                .map(|(p, _)| (*p, (Some(5), Some(0.5))))
                .collect(),
            ..Sample::default()
        }
    }

    #[test]
    fn rates_are_differences_and_unknowns_stay_unknown() {
        let mut history = History::default();
        history.push(sample(0, Some(0), &[(0, 100)]));
        history.push(sample(2000, Some(1000), &[(0, 700), (1, 50)]));
        history.push(sample(4000, None, &[(0, 700), (1, 250)]));
        let series = history.series();
        assert_eq!(series.t, [0.0, 2.0, 4.0]);
        assert_eq!(series.written, [None, Some(500.0), None]);
        // Partition 1 appeared in the second sample: only partition 0 counts there.
        assert_eq!(series.produced, [None, Some(300.0), Some(100.0)]);
        assert_eq!(series.partitions, [0, 1]);
        assert_eq!(series.lag_messages[1], [None, Some(5.0), Some(5.0)]);
        assert_eq!(Series::last(&series.produced), Some(100.0));
    }

    #[test]
    fn only_the_last_ten_minutes_are_kept() {
        let mut history = History::default();
        for i in 0..(KEPT as i64 + 10) {
            history.push(sample(i * 2000, Some(i as u64), &[]));
        }
        let series = history.series();
        assert_eq!(series.t.len(), KEPT);
        assert_eq!(series.t[0], 20.0);
    }
}
