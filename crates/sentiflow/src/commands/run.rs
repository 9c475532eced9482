//! `sentiflow run`: the whole pipeline embedded, generator -> VADER -> SQLite.

use std::sync::Arc;
use std::time::Instant;

use crate::cli::RunArgs;
use crate::pipeline::{self, Ending, PipelineOptions, PipelineStats};
use crate::progress::{Progress, percent, render_rows, thousands};
use crate::shutdown::Shutdown;
use crate::sinks::sqlite::{SqliteSink, TABLE};
use crate::sources::memory::{GeneratorOptions, MemorySource};

/// Batches waiting between the generator and the scorers.
const QUEUE_BATCHES: usize = 4;

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let sink = Arc::new(SqliteSink::open(&args.db)?);
    let (trigger, shutdown) = Shutdown::new();
    trigger.on_signals();

    let source = MemorySource::start(GeneratorOptions {
        seed: args.seed,
        style: args.style,
        count: args.count,
        rate: args.rate,
        batch_size: args.batch_size as usize,
        queue_batches: QUEUE_BATCHES,
    });
    let stats = Arc::new(PipelineStats::default());
    let progress = Progress::start(Arc::clone(&stats), args.quiet || args.json, render_rows);
    let started = Instant::now();
    let ending = pipeline::run(
        source,
        Arc::clone(&sink),
        Arc::clone(&sink),
        &PipelineOptions::default(),
        Arc::clone(&stats),
        shutdown,
    )
    .await;
    progress.finish().await;
    let ending = ending?;
    let elapsed = started.elapsed().as_secs_f64();
    let totals = stats.snapshot();
    let summary = Summary {
        ending: match ending {
            Ending::Exhausted => "completed",
            Ending::Interrupted => "interrupted",
            Ending::Abandoned => "abandoned",
        },
        rows_written: totals.written,
        dead_letters: totals.dead_lettered,
        elapsed_seconds: elapsed,
        rows_per_second: totals.written as f64 / elapsed.max(1e-9),
        positive: totals.positive,
        negative: totals.negative,
        neutral: totals.neutral,
        db: sink.path().display().to_string(),
        table: TABLE,
        seed: args.seed,
    };
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        summary.print();
    }
    Ok(())
}

/// What `run` prints at the end, as text or JSON.
#[derive(serde::Serialize)]
struct Summary {
    ending: &'static str,
    rows_written: u64,
    dead_letters: u64,
    elapsed_seconds: f64,
    rows_per_second: f64,
    positive: u64,
    negative: u64,
    neutral: u64,
    db: String,
    table: &'static str,
    seed: u64,
}

impl Summary {
    fn print(&self) {
        let how = match self.ending {
            "interrupted" => " (interrupted: every row present is complete)",
            "abandoned" => " (stopped while writes were failing)",
            _ => "",
        };
        println!(
            "sentiflow run: {} rows written in {:.2} s ({} rows/s){how}",
            thousands(self.rows_written),
            self.elapsed_seconds,
            thousands(self.rows_per_second as u64)
        );
        for (label, count) in [
            ("positive", self.positive),
            ("negative", self.negative),
            ("neutral", self.neutral),
        ] {
            println!(
                "  {label:<9} {:>12} ({:.1}%)",
                thousands(count),
                percent(count, self.rows_written)
            );
        }
        if self.dead_letters > 0 {
            println!(
                "  dead letters {} (table dead_letters)",
                thousands(self.dead_letters)
            );
        }
        println!(
            "  database  {} (table {}, seed {})",
            self.db, self.table, self.seed
        );
        println!(
            "  look:     sqlite3 {} \"SELECT sentimental_analysis, count(*), round(avg(compound), 3) FROM {} GROUP BY 1\"",
            self.db, self.table
        );
    }
}
