//! One way to drive a pipeline, shared by `run` and `process`: live progress
//! while it runs, then the summary both print (as text or JSON).

use std::sync::Arc;
use std::time::Instant;

use crate::cli::OutputArgs;
use crate::pipeline::{self, DeadLetterSink, Ending, PipelineOptions, PipelineStats, Sink, Source};
use crate::progress::{Progress, render_rows};
use crate::shutdown::Shutdown;
use crate::web;

/// A pipeline to run: its parts and how to report on it.
pub struct Drive<'a, S, K, D> {
    pub source: S,
    pub sink: Arc<K>,
    pub dead_letters: Arc<D>,
    pub options: PipelineOptions,
    pub stats: Arc<PipelineStats>,
    pub shutdown: Shutdown,
    pub output: &'a OutputArgs,
    /// `/metrics` and health (and the dashboard), served while the pipeline runs.
    pub web: Option<web::Plan>,
    /// Keep serving the dashboard after the source ran out, until Ctrl-C (`run --ui`).
    pub linger: bool,
}

/// What is left to do once the summary is printed: stop serving, or keep
/// the dashboard up until Ctrl-C.
pub struct Finish {
    server: Option<web::Server>,
    linger: bool,
    shutdown: Shutdown,
    command: &'static str,
}

impl Finish {
    pub async fn done(self) {
        let Some(server) = self.server else {
            return;
        };
        if self.linger && !self.shutdown.is_requested() {
            eprintln!(
                "sentiflow {}: finished; the dashboard stays up at http://{}/ until Ctrl-C",
                self.command,
                server.addr()
            );
            self.shutdown.requested().await;
        }
        server.stop().await;
    }
}

/// What every pipeline command reports at the end.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PipelineSummary {
    /// How it ended: `completed`/`idle`, `interrupted` or `abandoned`.
    pub ending: &'static str,
    pub received: u64,
    pub rows_written: u64,
    pub dead_letters: u64,
    pub write_retries: u64,
    pub positive: u64,
    pub negative: u64,
    pub neutral: u64,
    pub waited_on_source_seconds: f64,
    pub waited_on_sink_seconds: f64,
    /// Launch to exit (start-up and any idle wait included).
    pub elapsed_seconds: f64,
    /// First record taken to last row written.
    pub processing_seconds: f64,
    /// Rows per second over `processing_seconds`.
    pub rows_per_second: f64,
}

impl<S, K, D> Drive<'_, S, K, D>
where
    S: Source,
    K: Sink,
    D: DeadLetterSink,
{
    /// Runs the pipeline to its end. `exhausted` names the ending when the
    /// source ran out (`completed` for a count, `idle` for a consumer).
    pub async fn run(self, exhausted: &'static str) -> anyhow::Result<(PipelineSummary, Finish)> {
        let started = Instant::now();
        let command = self.web.as_ref().map_or("", |plan| plan.command);
        let server = match self.web {
            Some(plan) => {
                Some(web::start(plan, web::Live::Pipeline(Arc::clone(&self.stats))).await?)
            }
            None => None,
        };
        let finish = Finish {
            server,
            linger: self.linger,
            shutdown: self.shutdown.clone(),
            command,
        };
        let progress = Progress::start(
            Arc::clone(&self.stats),
            self.output.quiet || self.output.json,
            render_rows,
        );
        let ending = pipeline::run(
            self.source,
            self.sink,
            self.dead_letters,
            &self.options,
            Arc::clone(&self.stats),
            self.shutdown,
        )
        .await;
        progress.finish().await;
        let ending = ending?;
        let elapsed = started.elapsed().as_secs_f64();
        let totals = self.stats.snapshot();
        let processing = totals.processing_seconds().unwrap_or(elapsed).max(1e-9);
        let summary = PipelineSummary {
            ending: match ending {
                Ending::Exhausted => exhausted,
                Ending::Interrupted => "interrupted",
                Ending::Abandoned => "abandoned",
            },
            received: totals.received,
            rows_written: totals.written,
            dead_letters: totals.dead_lettered,
            write_retries: totals.write_retries,
            positive: totals.positive,
            negative: totals.negative,
            neutral: totals.neutral,
            waited_on_source_seconds: totals.waited_on_source_us as f64 / 1e6,
            waited_on_sink_seconds: totals.waited_on_sink_us as f64 / 1e6,
            elapsed_seconds: elapsed,
            processing_seconds: processing,
            rows_per_second: totals.written as f64 / processing,
        };
        Ok((summary, finish))
    }
}

impl PipelineSummary {
    /// The summary and the command's own fields as one JSON object.
    pub fn to_json(&self, extra: serde_json::Value) -> serde_json::Value {
        let mut object = serde_json::to_value(self).expect("a summary serializes");
        if let (Some(object), serde_json::Value::Object(extra)) = (object.as_object_mut(), extra) {
            object.extend(extra);
        }
        object
    }
}
