//! `sentiflow run`: the whole pipeline embedded, generator -> VADER -> SQLite.

use std::sync::Arc;

use super::drive::{Drive, PipelineSummary};
use crate::cli::RunArgs;
use crate::pipeline::{PipelineOptions, PipelineStats};
use crate::progress::{percent, thousands};
use crate::shutdown::Shutdown;
use crate::sinks::sqlite::{DashboardReader, SqliteSink, TABLE};
use crate::sources::memory::{GeneratorOptions, MemorySource};
use crate::stats::Components;
use crate::web;

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
    let stats = Arc::new(PipelineStats::new(Components {
        source: "memory_source",
        sink: "sqlite_sink",
        dead_letters: "sqlite_sink",
    }));
    let web = match web::bind_for(&args.web.metrics, false, args.web.ui) {
        Some(bind) => Some(web::Plan {
            command: "run",
            bind,
            metrics_bind: None,
            dashboard: args.web.ui,
            store: match args.web.ui {
                true => Some(web::Store::Sqlite(Arc::new(DashboardReader::open(
                    &args.db,
                )?))),
                false => None,
            },
            kafka: None,
            probes: Vec::new(),
        }),
        None => None,
    };
    let (summary, finish) = Drive {
        source,
        sink: Arc::clone(&sink),
        dead_letters: Arc::clone(&sink),
        options: PipelineOptions::default(),
        stats,
        shutdown,
        output: &args.output,
        web,
        linger: args.web.ui,
    }
    .run("completed")
    .await?;
    let db = sink.path().display().to_string();
    if args.output.json {
        let extra = serde_json::json!({"db": db, "table": TABLE, "seed": args.seed});
        println!("{}", summary.to_json(extra));
    } else {
        print_summary(&summary, &db, args.seed);
    }
    finish.done().await;
    Ok(())
}

fn print_summary(summary: &PipelineSummary, db: &str, seed: u64) {
    let how = match summary.ending {
        "interrupted" => " (interrupted: every row present is complete)",
        "abandoned" => " (stopped while writes were failing)",
        _ => "",
    };
    println!(
        "sentiflow run: {} rows written in {:.2} s ({} rows/s){how}",
        thousands(summary.rows_written),
        summary.elapsed_seconds,
        thousands(summary.rows_per_second as u64)
    );
    for (label, count) in [
        ("positive", summary.positive),
        ("negative", summary.negative),
        ("neutral", summary.neutral),
    ] {
        println!(
            "  {label:<9} {:>12} ({:.1}%)",
            thousands(count),
            percent(count, summary.rows_written)
        );
    }
    if summary.dead_letters > 0 {
        println!(
            "  dead letters {} (table dead_letters)",
            thousands(summary.dead_letters)
        );
    }
    println!("  database  {db} (table {TABLE}, seed {seed})");
    println!(
        "  look:     sqlite3 {db} \"SELECT sentimental_analysis, count(*), round(avg(compound), 3) FROM {TABLE} GROUP BY 1\""
    );
}
