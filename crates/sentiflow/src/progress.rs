//! Live progress on a terminal, and the numbers formatted for people.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::pipeline::{PipelineStats, StatsSnapshot};

/// A progress line on stderr, redrawn a few times a second while the pipeline runs.
/// Only on a terminal: logs and pipes get the final summary alone.
pub struct Progress {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// What a progress line says, given the counters and the current rate.
pub type Render = fn(&StatsSnapshot, f64) -> String;

impl Progress {
    /// Redraws `render`'s line on stderr while the work runs.
    pub fn start(stats: Arc<PipelineStats>, quiet: bool, render: Render) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress {
                stop: None,
                task: None,
            };
        }
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            let (mut last_done, mut last_at) = (0u64, Instant::now());
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {}
                }
                let now = stats.snapshot();
                let done = now.written + now.dead_lettered;
                let rate = (done - last_done) as f64 / last_at.elapsed().as_secs_f64().max(1e-3);
                (last_done, last_at) = (done, Instant::now());
                eprint!(
                    "\r\x1b[2K  {}  [{:.0?}]",
                    render(&now, rate),
                    Duration::from_secs(started.elapsed().as_secs())
                );
                let _ = std::io::stderr().flush();
            }
            eprint!("\r\x1b[2K");
        });
        Progress {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops redrawing and clears the line.
    pub async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// The progress line of the pipeline: rows, rate and the share of each label.
pub fn render_rows(now: &StatsSnapshot, rate: f64) -> String {
    let labelled = (now.positive + now.negative + now.neutral).max(1);
    let mut line = format!(
        "{} rows  {} rows/s  positive {:.1}%  negative {:.1}%  neutral {:.1}%",
        thousands(now.written),
        thousands(rate as u64),
        percent(now.positive, labelled),
        percent(now.negative, labelled),
        percent(now.neutral, labelled),
    );
    if now.dead_lettered > 0 {
        line.push_str(&format!("  dead letters {}", thousands(now.dead_lettered)));
    }
    if now.write_retries > 0 {
        line.push_str(&format!(
            "  retried writes {}",
            thousands(now.write_retries)
        ));
    }
    line
}

/// `1234567` -> `"1,234,567"`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `part` as a percentage of `whole`, 0 when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
