//! The real Cassandra write ceiling (issue 13, item 1), and what
//! scripts/bench-vs-spark needs besides the `sentiflow` binary. Against the
//! services on 127.0.0.1 (or `--hosts`):
//!
//! - `methods KEYSPACE ROWS [OPTIONS] METHOD...`: the same ROWS rows (seed 0
//!   sentences of the generator, scored with VADER beforehand, so the bytes
//!   are those the processor writes) written once per METHOD, each into a
//!   fresh table of the keyspace, one method after the other. METHOD is
//!   - `single:C`: prepared single-row inserts, C in flight (today's sink);
//!   - `grouped:S:C`: unlogged batches of S rows whose partitions all have
//!     the same replicas (grouped by token range, then by replica set, as the
//!     spark-cassandra-connector's `batch.grouping.key=replica_set`), C
//!     batches in flight; the driver routes a batch by its first statement's
//!     token, so the coordinator is a replica of every row it gets;
//!   - `ungrouped:S:C`: unlogged batches of S consecutive rows, no grouping
//!     (on a cluster, the coordinator forwards most rows to other nodes).
//!
//!   For each: rows/s, our CPU-µs per row (this process, /proc/self/stat),
//!   Cassandra's CPU-µs per row (the `CassandraDaemon` processes listening on
//!   the nodes' CQL addresses, /proc/PID/stat) while writing and until its
//!   CPU settles after (flushes, compactions), the requests answered with
//!   Cassandra's warnings about batches (over `batch_size_warn_threshold`,
//!   5 KiB; over `unlogged_batch_across_partitions_warn_threshold`, 10
//!   partitions), and those warnings' lines in Cassandra's log (`--log FILE`).
//!   Options: `--shape original|sentiflow` (the original README's 3 columns,
//!   `id int`, default; or sentiflow's 11), `--hosts H:P,...`, `--rf N`
//!   (keyspace replication factor, default 1), `--log FILE` (repeatable),
//!   `--json` (one JSON object per method instead of a table), `--no-settle`.
//! - `noop-process [sentiflow process flags]`: `sentiflow process` with the
//!   real Kafka source, decoding, VADER, the pipeline loop and the dead-letter
//!   topic, into a sink that drops the rows: the processor's own ceiling.
//!   Stopgap until the binary has a no-op sink of its own; prints the same
//!   JSON summary as `process --json`.
//! - `drop KEYSPACE [--hosts H:P,...]`: drops the keyspace (what `methods` made).
//! - `labels KEYSPACE TABLE_A TABLE_B SAMPLE`: reads the rows of every
//!   `SAMPLE`th id of TABLE_A (`id int`, `sentimental_analysis`) and compares
//!   their labels with TABLE_B's.
//!
//! Run through cargo: `cargo bench -p sentiflow --bench ceiling -- methods bench_ks 200000 single:256 grouped:50:16`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::routing::Token;
use scylla::serialize::row::SerializeRow;
use scylla::statement::batch::{Batch, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::{Consistency, Statement};
use scylla::value::CqlTimestamp;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(mode) = args.first() else {
        // `cargo bench` without arguments runs every bench binary: nothing to do here.
        return Ok(());
    };
    let rest = &args[1..];
    let runtime = tokio::runtime::Runtime::new()?;
    match mode.as_str() {
        "methods" => runtime.block_on(methods(MethodsArgs::parse(rest)?)),
        "noop-process" => runtime.block_on(noop_process(rest)),
        "drop" => match rest {
            [keyspace] => runtime.block_on(drop_keyspace(keyspace, &["127.0.0.1:9042".into()])),
            [keyspace, flag, hosts] if flag == "--hosts" => {
                let hosts: Vec<String> = hosts.split(',').map(str::to_owned).collect();
                runtime.block_on(drop_keyspace(keyspace, &hosts))
            }
            _ => anyhow::bail!("usage: ceiling drop KEYSPACE [--hosts H:P,...]"),
        },
        "labels" => match rest {
            [keyspace, a, b, sample] => runtime.block_on(labels(keyspace, a, b, sample.parse()?)),
            _ => anyhow::bail!("usage: ceiling labels KEYSPACE TABLE_A TABLE_B SAMPLE"),
        },
        other => anyhow::bail!(
            "unknown mode {other:?}: methods KEYSPACE ROWS [OPTIONS] METHOD... | noop-process [FLAGS] | drop KEYSPACE | labels KEYSPACE A B SAMPLE"
        ),
    }
}

// ---------------------------------------------------------------------------- methods

/// How the rows are written.
#[derive(Clone, Copy, Debug)]
enum Method {
    Single { in_flight: usize },
    Grouped { size: usize, in_flight: usize },
    Ungrouped { size: usize, in_flight: usize },
}

impl Method {
    fn parse(text: &str) -> anyhow::Result<Method> {
        let parts: Vec<&str> = text.split(':').collect();
        let number = |s: &str| -> anyhow::Result<usize> {
            let n: usize = s.parse()?;
            anyhow::ensure!(n > 0, "{text}: numbers must be positive");
            Ok(n)
        };
        Ok(match parts.as_slice() {
            ["single", c] => Method::Single {
                in_flight: number(c)?,
            },
            ["grouped", s, c] => Method::Grouped {
                size: number(s)?,
                in_flight: number(c)?,
            },
            ["ungrouped", s, c] => Method::Ungrouped {
                size: number(s)?,
                in_flight: number(c)?,
            },
            _ => anyhow::bail!(
                "bad method {text:?}: single:IN_FLIGHT, grouped:ROWS:IN_FLIGHT or ungrouped:ROWS:IN_FLIGHT"
            ),
        })
    }

    fn name(&self) -> String {
        match self {
            Method::Single { in_flight } => format!("single-row inserts, {in_flight} in flight"),
            Method::Grouped { size, in_flight } => {
                format!("batches of {size}, grouped by replica set, {in_flight} in flight")
            }
            Method::Ungrouped { size, in_flight } => {
                format!("batches of {size}, not grouped, {in_flight} in flight")
            }
        }
    }

    fn table(&self, index: usize) -> String {
        match self {
            Method::Single { in_flight } => format!("m{index}_single_{in_flight}"),
            Method::Grouped { size, in_flight } => format!("m{index}_grouped_{size}_{in_flight}"),
            Method::Ungrouped { size, in_flight } => {
                format!("m{index}_ungrouped_{size}_{in_flight}")
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    /// The original stack's table: `id int PRIMARY KEY, sentence text, sentimental_analysis text`.
    Original,
    /// sentiflow's own table (11 columns, `id bigint`).
    Sentiflow,
}

struct MethodsArgs {
    keyspace: String,
    rows: usize,
    shape: Shape,
    hosts: Vec<String>,
    replication_factor: u32,
    logs: Vec<String>,
    json: bool,
    settle: bool,
    methods: Vec<Method>,
}

impl MethodsArgs {
    fn parse(args: &[String]) -> anyhow::Result<MethodsArgs> {
        let usage = "usage: ceiling methods KEYSPACE ROWS [--shape original|sentiflow] [--hosts H:P,...] [--rf N] [--log FILE]... [--json] [--no-settle] METHOD...";
        let mut positional = Vec::new();
        let mut parsed = MethodsArgs {
            keyspace: String::new(),
            rows: 0,
            shape: Shape::Original,
            hosts: vec!["127.0.0.1:9042".into()],
            replication_factor: 1,
            logs: Vec::new(),
            json: false,
            settle: true,
            methods: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .ok_or_else(|| anyhow::anyhow!("{arg} needs a value; {usage}"))
            };
            match arg.as_str() {
                "--shape" => {
                    parsed.shape = match value()?.as_str() {
                        "original" => Shape::Original,
                        "sentiflow" => Shape::Sentiflow,
                        other => anyhow::bail!("--shape {other}: original or sentiflow"),
                    }
                }
                "--hosts" => parsed.hosts = value()?.split(',').map(str::to_owned).collect(),
                "--rf" => parsed.replication_factor = value()?.parse()?,
                "--log" => parsed.logs.push(value()?.clone()),
                "--json" => parsed.json = true,
                "--no-settle" => parsed.settle = false,
                _ => positional.push(arg.clone()),
            }
        }
        anyhow::ensure!(positional.len() >= 3, "{usage}");
        parsed.keyspace = positional[0].clone();
        parsed.rows = positional[1].parse()?;
        parsed.methods = positional[2..]
            .iter()
            .map(|m| Method::parse(m))
            .collect::<anyhow::Result<_>>()?;
        Ok(parsed)
    }
}

/// What one method did.
#[derive(Debug, serde::Serialize)]
struct Outcome {
    method: String,
    table: String,
    rows: usize,
    failed_rows: usize,
    first_error: Option<String>,
    requests: usize,
    /// Bytes of bound values per request (the sentence, the label, the id...).
    value_bytes_per_request: f64,
    seconds: f64,
    rows_per_second: f64,
    client_cpu_us_per_row: f64,
    cassandra_cpu_us_per_row: f64,
    /// Cassandra's CPU after the last write, until it settled (flushes, compactions).
    cassandra_settle_seconds: f64,
    cassandra_cpu_us_per_row_with_settle: f64,
    /// Requests answered with Cassandra's batch size warning (over
    /// `batch_size_warn_threshold`, 5 KiB by default).
    requests_warned_size: usize,
    /// Requests answered with Cassandra's warning about an unlogged batch over
    /// `unlogged_batch_across_partitions_warn_threshold` partitions (10 by default).
    requests_warned_partitions: usize,
    /// Every distinct kind of warning, first text seen.
    warnings: Vec<String>,
    /// Lines of Cassandra's log written during the method: the batch size warning
    /// (one per batch) and the partitions warning (rate-limited by Cassandra).
    log_size_warnings: usize,
    log_partitions_warnings: usize,
}

async fn methods(args: MethodsArgs) -> anyhow::Result<()> {
    let session = session(&args.hosts, &args.keyspace).await?;
    let keyspace = &args.keyspace;
    session
        .query_unpaged(
            format!(
                "CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = \
                 {{'class': 'SimpleStrategy', 'replication_factor': {}}}",
                args.replication_factor
            ),
            (),
        )
        .await?;
    let pids = cassandra_pids(&session);
    if pids.is_empty() {
        eprintln!(
            "warning: no Cassandra process of this cluster runs on this machine: its CPU is not measured"
        );
    } else {
        eprintln!("Cassandra's CPU: processes {pids:?}");
    }
    let started = Instant::now();
    let data = Data::generate(args.rows);
    eprintln!(
        "{} rows generated and scored in {:.1} s ({:.0} bytes of sentence per row on average)",
        args.rows,
        started.elapsed().as_secs_f64(),
        data.sentences.iter().map(String::len).sum::<usize>() as f64 / args.rows.max(1) as f64
    );
    if !args.json {
        println!(
            "{:<52} {:>9} {:>9} {:>8} {:>9} {:>15} {:>15} {:>9}",
            "method",
            "rows/s",
            "client µs",
            "node µs",
            "+after",
            "size warnings",
            "partitions warn",
            "log lines"
        );
    }
    let mut outcomes = Vec::new();
    for (index, method) in args.methods.iter().enumerate() {
        let table = method.table(index + 1);
        let outcome = match args.shape {
            Shape::Original => {
                let rows: Vec<(i32, &str, &str)> = data
                    .ids
                    .iter()
                    .zip(&data.sentences)
                    .zip(&data.labels)
                    .map(|((id, s), l)| Ok((i32::try_from(*id)?, s.as_str(), *l)))
                    .collect::<anyhow::Result<_>>()?;
                let create = format!(
                    "CREATE TABLE IF NOT EXISTS {keyspace}.{table} (id int PRIMARY KEY, sentence text, \
                     sentimental_analysis text)"
                );
                let insert = format!(
                    "INSERT INTO {keyspace}.{table} (id, sentence, sentimental_analysis) VALUES (?, ?, ?)"
                );
                let size = |r: &(i32, &str, &str)| 4 + r.1.len() + r.2.len();
                run_method(
                    &session, &args, &pids, *method, &table, &create, &insert, &rows, size,
                )
                .await?
            }
            Shape::Sentiflow => {
                let now = CqlTimestamp(1_700_000_000_000);
                type Wide<'a> = (
                    i64,
                    &'a str,
                    &'a str,
                    f64,
                    f64,
                    f64,
                    f64,
                    CqlTimestamp,
                    CqlTimestamp,
                    i32,
                    i64,
                );
                let rows: Vec<Wide> = (0..data.ids.len())
                    .map(|i| {
                        let s = data.scores[i];
                        (
                            data.ids[i],
                            data.sentences[i].as_str(),
                            data.labels[i],
                            s.compound,
                            s.pos,
                            s.neu,
                            s.neg,
                            now,
                            now,
                            (i % 2) as i32,
                            (i / 2) as i64,
                        )
                    })
                    .collect();
                let create = format!(
                    "CREATE TABLE IF NOT EXISTS {keyspace}.{table} (id bigint PRIMARY KEY, sentence text, \
                     sentimental_analysis text, compound double, pos double, neu double, neg double, \
                     produced_at timestamp, processed_at timestamp, source_partition int, source_offset bigint)"
                );
                let insert = format!(
                    "INSERT INTO {keyspace}.{table} (id, sentence, sentimental_analysis, compound, pos, neu, neg, \
                     produced_at, processed_at, source_partition, source_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                );
                let size = |r: &Wide| 8 + r.1.len() + r.2.len() + 4 * 8 + 2 * 8 + 4 + 8;
                run_method(
                    &session, &args, &pids, *method, &table, &create, &insert, &rows, size,
                )
                .await?
            }
        };
        if args.json {
            println!("{}", serde_json::to_string(&outcome)?);
        } else {
            println!(
                "{:<52} {:>9.0} {:>9.2} {:>8.1} {:>9.1} {:>15} {:>15} {:>9}",
                outcome.method,
                outcome.rows_per_second,
                outcome.client_cpu_us_per_row,
                outcome.cassandra_cpu_us_per_row,
                outcome.cassandra_cpu_us_per_row_with_settle,
                format!("{}/{}", outcome.requests_warned_size, outcome.requests),
                format!(
                    "{}/{}",
                    outcome.requests_warned_partitions, outcome.requests
                ),
                format!(
                    "{}+{}",
                    outcome.log_size_warnings, outcome.log_partitions_warnings
                ),
            );
            if let Some(error) = &outcome.first_error {
                println!("    {} rows failed, first: {error}", outcome.failed_rows);
            }
        }
        outcomes.push(outcome);
    }
    if !args.json {
        // One example of each kind of warning.
        let mut kinds: Vec<&String> = Vec::new();
        for warning in outcomes.iter().flat_map(|o| &o.warnings) {
            let kind = |w: &str| [SIZE_WARNING, PARTITIONS_WARNING].map(|k| w.contains(k));
            if !kinds.iter().any(|k| kind(k) == kind(warning)) {
                kinds.push(warning);
            }
        }
        println!(
            "client µs: CPU of this process per row; node µs: CPU of Cassandra (the processes of \
             the cluster's nodes) per row while writing; +after: the same until it settled after \
             (flushes, compactions); size / partitions warn: requests answered with Cassandra's \
             batch_size_warn_threshold / unlogged_batch_across_partitions_warn_threshold warning; \
             log lines: of those two warnings in Cassandra's log"
        );
        for kind in kinds {
            println!("  e.g. \"{kind}\"");
        }
        if let Some(best) = outcomes
            .iter()
            .filter(|o| o.failed_rows == 0)
            .max_by(|a, b| a.rows_per_second.total_cmp(&b.rows_per_second))
        {
            println!(
                "best: {} at {:.0} rows/s",
                best.method, best.rows_per_second
            );
        }
    }
    Ok(())
}

/// The rows every method writes: seed 0 of the generator, review style (the
/// processor's input in the benchmarks), scored and labelled beforehand.
struct Data {
    ids: Vec<i64>,
    sentences: Vec<String>,
    scores: Vec<vader::Scores>,
    labels: Vec<&'static str>,
}

impl Data {
    fn generate(rows: usize) -> Data {
        let mut generator =
            sentiflow::generate::SentenceGenerator::new(0, sentiflow::generate::Style::Review);
        let mut data = Data {
            ids: Vec::with_capacity(rows),
            sentences: Vec::with_capacity(rows),
            scores: Vec::with_capacity(rows),
            labels: Vec::with_capacity(rows),
        };
        for _ in 0..rows {
            let (id, sentence) = generator.next_sentence().expect("seed 0 has ids left");
            let scores = vader::polarity_scores(&sentence);
            data.ids.push(id);
            data.labels.push(vader::label(scores.compound).as_str());
            data.scores.push(scores);
            data.sentences.push(sentence);
        }
        data
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_method<V: SerializeRow + Sync>(
    session: &Session,
    args: &MethodsArgs,
    pids: &[u32],
    method: Method,
    table: &str,
    create: &str,
    insert: &str,
    rows: &[V],
    value_bytes: impl Fn(&V) -> usize,
) -> anyhow::Result<Outcome> {
    session.query_unpaged(create, ()).await?;
    session.await_schema_agreement().await?;
    // The token ring and the keyspace's strategy, for grouping.
    session.refresh_metadata().await?;
    let mut insert = session.prepare(insert).await?;
    insert.set_consistency(Consistency::LocalQuorum);
    insert.set_is_idempotent(true);
    let log_offsets: Vec<u64> = args.logs.iter().map(|l| file_len(l)).collect();

    let node_cpu_before = cpu_ticks(pids);
    let client_cpu_before = self_cpu_ticks();
    let started = Instant::now();
    let tally = match method {
        Method::Single { in_flight } => {
            futures_util::stream::iter(rows)
                .map(|row| {
                    let insert = &insert;
                    async move { session.execute_unpaged(insert, row).await.tallied(1) }
                })
                .buffer_unordered(in_flight)
                .fold(Tally::default(), |tally, result| async move {
                    tally.add(result)
                })
                .await
        }
        Method::Grouped { size, in_flight } => {
            let grouper = ReplicaGrouper::new(session, &args.keyspace, table)?;
            let batches = GroupedBatches::new(rows, &insert, grouper, size);
            send_batches(session, &insert, batches, in_flight).await
        }
        Method::Ungrouped { size, in_flight } => {
            let batches = rows
                .chunks(size)
                .map(|chunk| chunk.iter().collect::<Vec<_>>());
            send_batches(session, &insert, batches, in_flight).await
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let client_cpu = (self_cpu_ticks() - client_cpu_before) as f64 / TICKS_PER_SECOND;
    let node_cpu_during = (cpu_ticks(pids) - node_cpu_before) as f64 / TICKS_PER_SECOND;
    let settle_started = Instant::now();
    if args.settle {
        settle(pids).await;
    }
    let settle_seconds = settle_started.elapsed().as_secs_f64();
    let node_cpu_total = (cpu_ticks(pids) - node_cpu_before) as f64 / TICKS_PER_SECOND;
    let (log_size_warnings, log_partitions_warnings) = args
        .logs
        .iter()
        .zip(log_offsets)
        .map(|(log, offset)| batch_warnings_in_log(log, offset))
        .fold((0, 0), |(a, b), (c, d)| (a + c, b + d));

    let rows_count = rows.len();
    let per_row = |cpu: f64| cpu * 1e6 / rows_count.max(1) as f64;
    let total_value_bytes: usize = rows.iter().map(value_bytes).sum();
    Ok(Outcome {
        method: method.name(),
        table: format!("{}.{table}", args.keyspace),
        rows: rows_count,
        failed_rows: tally.failed_rows,
        first_error: tally.first_error,
        requests: tally.requests,
        value_bytes_per_request: total_value_bytes as f64 / tally.requests.max(1) as f64,
        seconds,
        rows_per_second: rows_count as f64 / seconds,
        client_cpu_us_per_row: per_row(client_cpu),
        cassandra_cpu_us_per_row: per_row(node_cpu_during),
        cassandra_settle_seconds: settle_seconds,
        cassandra_cpu_us_per_row_with_settle: per_row(node_cpu_total),
        requests_warned_size: tally.warned_size,
        requests_warned_partitions: tally.warned_partitions,
        warnings: tally.warnings,
        log_size_warnings,
        log_partitions_warnings,
    })
}

/// Requests sent, failed and warned about.
#[derive(Default)]
struct Tally {
    requests: usize,
    failed_rows: usize,
    first_error: Option<String>,
    warned_size: usize,
    warned_partitions: usize,
    /// The first warning of each kind.
    warnings: Vec<String>,
}

impl Tally {
    fn add(
        mut self,
        result: Result<(usize, scylla::response::query_result::QueryResult), (usize, String)>,
    ) -> Tally {
        self.requests += 1;
        match result {
            Ok((_, response)) => {
                for warning in response.warnings() {
                    let kind = if warning.contains(SIZE_WARNING) {
                        self.warned_size += 1;
                        SIZE_WARNING
                    } else if warning.contains(PARTITIONS_WARNING) {
                        self.warned_partitions += 1;
                        PARTITIONS_WARNING
                    } else {
                        warning
                    };
                    if !self.warnings.iter().any(|w| w.contains(kind)) {
                        self.warnings.push(warning.to_owned());
                    }
                }
            }
            Err((rows, error)) => {
                self.failed_rows += rows;
                self.first_error.get_or_insert(error);
            }
        }
        self
    }
}

trait IntoTallied {
    fn tallied(
        self,
        rows: usize,
    ) -> Result<(usize, scylla::response::query_result::QueryResult), (usize, String)>;
}

impl IntoTallied
    for Result<scylla::response::query_result::QueryResult, scylla::errors::ExecutionError>
{
    fn tallied(
        self,
        rows: usize,
    ) -> Result<(usize, scylla::response::query_result::QueryResult), (usize, String)> {
        self.map(|r| (rows, r)).map_err(|e| (rows, e.to_string()))
    }
}

/// Sends each batch of rows (all of the same prepared insert) as one unlogged batch.
async fn send_batches<'a, V: SerializeRow + Sync + 'a>(
    session: &Session,
    insert: &PreparedStatement,
    batches: impl Iterator<Item = Vec<&'a V>>,
    in_flight: usize,
) -> Tally {
    // One batch statement per size, built once: every statement is the same insert.
    let templates = BatchTemplates::new(insert);
    futures_util::stream::iter(batches)
        .map(|rows| {
            let templates = &templates;
            async move {
                let count = rows.len();
                let batch = templates.of(count);
                session.batch(&batch, rows).await.tallied(count)
            }
        })
        .buffer_unordered(in_flight)
        .fold(Tally::default(), |tally, result| async move {
            tally.add(result)
        })
        .await
}

/// Unlogged batch statements of one prepared insert, by number of rows.
struct BatchTemplates {
    insert: PreparedStatement,
    by_len: std::sync::Mutex<HashMap<usize, Arc<Batch>>>,
}

impl BatchTemplates {
    fn new(insert: &PreparedStatement) -> Self {
        Self {
            insert: insert.clone(),
            by_len: std::sync::Mutex::new(HashMap::new()),
        }
    }

    fn of(&self, len: usize) -> Arc<Batch> {
        let mut by_len = self.by_len.lock().expect("not poisoned");
        Arc::clone(by_len.entry(len).or_insert_with(|| {
            let mut batch = Batch::new(BatchType::Unlogged);
            for _ in 0..len {
                batch.append_statement(self.insert.clone());
            }
            batch.set_consistency(Consistency::LocalQuorum);
            batch.set_is_idempotent(true);
            Arc::new(batch)
        }))
    }
}

// ---------------------------------------------------------------------------- grouping

/// Which replica set owns a token: the ring's token ranges, each mapped once
/// to the set of nodes that hold it (for this keyspace's replication), and
/// each distinct set numbered. Two rows with the same number can go in one
/// batch that every replica applies locally, with no coordinator fan-out.
struct ReplicaGrouper {
    /// The ring's tokens, ascending; range `i` is `(tokens[i-1], tokens[i]]`,
    /// and range 0 also holds the wrap-around above the last token.
    tokens: Vec<i64>,
    /// Replica set number of each range.
    set_of_range: Vec<usize>,
    sets: usize,
}

impl ReplicaGrouper {
    fn new(session: &Session, keyspace: &str, table: &str) -> anyhow::Result<Self> {
        let state = session.get_cluster_state();
        let tokens: Vec<i64> = state
            .replica_locator()
            .ring()
            .iter()
            .map(|(token, _)| token.value())
            .collect();
        anyhow::ensure!(!tokens.is_empty(), "the driver knows no token ring");
        let mut numbers: HashMap<Vec<uuid_like::HostId>, usize> = HashMap::new();
        let set_of_range = tokens
            .iter()
            .map(|token| {
                // A range's replicas are those of its upper end.
                let mut replicas: Vec<uuid_like::HostId> = state
                    .get_token_endpoints(keyspace, table, Token::new(*token))
                    .iter()
                    .map(|(node, _)| uuid_like::HostId(node.host_id.as_u128()))
                    .collect();
                replicas.sort_unstable();
                let next = numbers.len();
                *numbers.entry(replicas).or_insert(next)
            })
            .collect();
        Ok(Self {
            tokens,
            set_of_range,
            sets: numbers.len(),
        })
    }

    fn set_of(&self, token: Token) -> usize {
        let range = self.tokens.partition_point(|t| *t < token.value());
        self.set_of_range[if range == self.tokens.len() { 0 } else { range }]
    }
}

mod uuid_like {
    /// A node's host id, as a plain number (no `uuid` dependency here).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct HostId(pub u128);
}

/// Rows in batches of `size` whose partitions all have the same replicas, in
/// the order the batches fill up (then what is left, set by set).
struct GroupedBatches<'a, V> {
    rows: &'a [V],
    insert: &'a PreparedStatement,
    grouper: ReplicaGrouper,
    size: usize,
    next: usize,
    buckets: Vec<Vec<&'a V>>,
}

impl<'a, V: SerializeRow> GroupedBatches<'a, V> {
    fn new(
        rows: &'a [V],
        insert: &'a PreparedStatement,
        grouper: ReplicaGrouper,
        size: usize,
    ) -> Self {
        let buckets = (0..grouper.sets)
            .map(|_| Vec::with_capacity(size))
            .collect();
        Self {
            rows,
            insert,
            grouper,
            size,
            next: 0,
            buckets,
        }
    }
}

impl<'a, V: SerializeRow> Iterator for GroupedBatches<'a, V> {
    type Item = Vec<&'a V>;

    fn next(&mut self) -> Option<Vec<&'a V>> {
        while let Some(row) = self.rows.get(self.next) {
            self.next += 1;
            let token = self
                .insert
                .calculate_token(row)
                .expect("the insert's values serialize")
                .expect("the insert binds the whole partition key");
            let bucket = &mut self.buckets[self.grouper.set_of(token)];
            bucket.push(row);
            if bucket.len() == self.size {
                return Some(std::mem::replace(bucket, Vec::with_capacity(self.size)));
            }
        }
        self.buckets
            .iter_mut()
            .find(|b| !b.is_empty())
            .map(std::mem::take)
    }
}

// ---------------------------------------------------------------------------- CPU, logs

/// Linux reports CPU times in /proc in units of USER_HZ, 100 on every architecture we run on.
const TICKS_PER_SECOND: f64 = 100.0;

/// The processes of the cluster's nodes, on this machine: those listening on
/// the CQL address of a node the driver knows. Other Cassandra processes on
/// the machine (other clusters) are not counted.
fn cassandra_pids(session: &Session) -> Vec<u32> {
    let addresses: Vec<std::net::SocketAddr> = session
        .get_cluster_state()
        .get_nodes_info()
        .iter()
        .map(|node| std::net::SocketAddr::new(node.address.ip(), node.address.port()))
        .collect();
    let inodes = listening_inodes(&addresses);
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.windows(DAEMON.len()).any(|w| w == DAEMON.as_bytes()))
        })
        .filter(|pid| {
            std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
                fds.filter_map(Result::ok).any(|fd| {
                    std::fs::read_link(fd.path()).is_ok_and(|target| {
                        let target = target.to_string_lossy();
                        target
                            .strip_prefix("socket:[")
                            .and_then(|rest| rest.strip_suffix(']'))
                            .and_then(|inode| inode.parse::<u64>().ok())
                            .is_some_and(|inode| inodes.contains(&inode))
                    })
                })
            })
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// Socket inodes of the IPv4 TCP sockets listening on one of `addresses`
/// (or on the wildcard address at one of their ports), from /proc/net/tcp.
fn listening_inodes(addresses: &[std::net::SocketAddr]) -> Vec<u64> {
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return Vec::new();
    };
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local_address is IP (hex, host byte order) : port (hex); state 0A is LISTEN.
            if fields.get(3) != Some(&"0A") {
                return None;
            }
            let (ip, port) = fields.get(1)?.split_once(':')?;
            let ip = std::net::Ipv4Addr::from(u32::from_str_radix(ip, 16).ok()?.swap_bytes());
            let port = u16::from_str_radix(port, 16).ok()?;
            let listens_for = |a: &std::net::SocketAddr| {
                a.port() == port && (a.ip() == ip || ip.is_unspecified())
            };
            addresses
                .iter()
                .any(listens_for)
                .then(|| fields.get(9)?.parse().ok())
                .flatten()
        })
        .collect()
}

const DAEMON: &str = "org.apache.cassandra.service.CassandraDaemon";

/// utime + stime of a process, in ticks.
fn process_ticks(stat_path: &str) -> u64 {
    let Ok(stat) = std::fs::read_to_string(stat_path) else {
        return 0;
    };
    // The command name is in parentheses and may hold spaces: count fields after it.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of the line; 3 is the first after the name.
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    field(14).unwrap_or(0) + field(15).unwrap_or(0)
}

fn cpu_ticks(pids: &[u32]) -> u64 {
    pids.iter()
        .map(|pid| process_ticks(&format!("/proc/{pid}/stat")))
        .sum()
}

fn self_cpu_ticks() -> u64 {
    process_ticks("/proc/self/stat")
}

/// Waits until Cassandra uses less than 15% of a core over half a second
/// (its flushes and compactions after the writes are done), at most 20 s: on a
/// node others use too, it may never settle.
async fn settle(pids: &[u32]) {
    if pids.is_empty() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = cpu_ticks(pids);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = cpu_ticks(pids);
        let busy = (now - last) as f64 / TICKS_PER_SECOND / 0.5;
        last = now;
        if busy < 0.15 {
            return;
        }
    }
}

fn file_len(path: &str) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Cassandra's batch size warning: "Batch for [ks.t] is of size 7.6KiB, exceeding
/// specified threshold of 5.0KiB by 2.6KiB." (`batch_size_warn_threshold`).
const SIZE_WARNING: &str = "exceeding specified threshold";
/// Cassandra's warning about unlogged batches over
/// `unlogged_batch_across_partitions_warn_threshold` partitions: "Unlogged batch
/// covering 25 partitions detected against table [ks.t]. ..."
const PARTITIONS_WARNING: &str = "Unlogged batch covering";

/// Lines from `offset` on that are Cassandra's batch size warning, and its
/// unlogged batch partitions warning.
fn batch_warnings_in_log(path: &str, offset: u64) -> (usize, usize) {
    use std::io::{Read, Seek, SeekFrom};
    let mut text = String::new();
    let Ok(mut file) = std::fs::File::open(path) else {
        return (0, 0);
    };
    if file.seek(SeekFrom::Start(offset)).is_err() || file.read_to_string(&mut text).is_err() {
        return (0, 0);
    }
    let count = |what: &str| text.lines().filter(|l| l.contains(what)).count();
    (count(SIZE_WARNING), count(PARTITIONS_WARNING))
}

async fn session(hosts: &[String], keyspace: &str) -> anyhow::Result<Session> {
    let profile = ExecutionProfile::builder()
        .consistency(Consistency::LocalQuorum)
        .request_timeout(Some(Duration::from_secs(30)))
        .build();
    let user = std::env::var("CASSANDRA_USERNAME").unwrap_or_else(|_| "cassandra".into());
    let password = std::env::var("CASSANDRA_PASSWORD").unwrap_or_else(|_| "cassandra".into());
    Ok(SessionBuilder::new()
        .known_nodes(hosts)
        .user(user, password)
        .default_execution_profile_handle(profile.into_handle())
        .keyspaces_to_fetch([keyspace.to_owned()])
        .build()
        .await?)
}

async fn drop_keyspace(keyspace: &str, hosts: &[String]) -> anyhow::Result<()> {
    let session = session(hosts, keyspace).await?;
    session
        .query_unpaged(format!("DROP KEYSPACE IF EXISTS {keyspace}"), ())
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------- noop-process

/// `sentiflow process` as in `commands/process.rs`, with a sink that drops every row.
async fn noop_process(flags: &[String]) -> anyhow::Result<()> {
    use sentiflow::cli::{Cli, Command};
    use sentiflow::commands::drive::Drive;
    use sentiflow::pipeline::{PipelineOptions, PipelineStats};
    use sentiflow::shutdown::Shutdown;
    use sentiflow::sinks::dead_letter_topic::DeadLetterTopic;
    use sentiflow::stats::Components;

    let argv = ["sentiflow", "process"]
        .into_iter()
        .map(str::to_owned)
        .chain(flags.iter().cloned());
    let Command::Process(args) = <Cli as clap::Parser>::try_parse_from(argv)?.command else {
        unreachable!("parsed as process");
    };
    sentiflow::kafka::require_topic(&args.kafka)?;
    let dead_letter_topic = args.kafka.dead_letter_topic(&args.dead_letters);
    let dead_letters =
        Arc::new(DeadLetterTopic::open(&args.kafka, dead_letter_topic.clone()).await?);
    let (trigger, shutdown) = Shutdown::new();
    trigger.on_signals();
    let stats = Arc::new(PipelineStats::new(Components {
        source: "kafka_source",
        sink: "noop_sink",
        dead_letters: "dead_letter_topic",
    }));
    let source = sentiflow::commands::process::start_source(&args, Arc::clone(&stats))?;
    let (summary, _finish) = Drive {
        source,
        sink: Arc::new(NoopSink),
        dead_letters,
        options: PipelineOptions {
            max_in_flight: args.max_in_flight_batches as usize,
            ..PipelineOptions::default()
        },
        stats,
        shutdown,
        output: &args.output,
        web: None,
        linger: false,
    }
    .run("idle")
    .await?;
    println!(
        "{}",
        summary.to_json(serde_json::json!({"topic": args.kafka.topic, "group": args.group.group, "sink": "noop"}))
    );
    Ok(())
}

/// Drops every row: what is left is the processor's own work.
struct NoopSink;

impl sentiflow::pipeline::Sink for NoopSink {
    async fn write<'a>(
        &'a self,
        rows: &'a [sentiflow::record::ScoredRecord],
    ) -> Result<sentiflow::pipeline::WriteOutcome, sentiflow::pipeline::WriteError> {
        std::hint::black_box(rows);
        Ok(sentiflow::pipeline::WriteOutcome::default())
    }
}

// ---------------------------------------------------------------------------- labels

/// Compares the labels of every `sample`th id of table `a` with table `b`'s.
async fn labels(keyspace: &str, a: &str, b: &str, sample: i32) -> anyhow::Result<()> {
    anyhow::ensure!(sample > 0, "SAMPLE must be positive");
    let session = session(&["127.0.0.1:9042".to_owned()], keyspace).await?;
    let mut select = Statement::new(format!(
        "SELECT id, sentimental_analysis FROM {keyspace}.{a}"
    ));
    select.set_page_size(5000);
    let mut stream = session
        .query_iter(select, ())
        .await?
        .rows_stream::<(i32, Option<String>)>()?;
    let lookup = session
        .prepare(format!(
            "SELECT sentimental_analysis FROM {keyspace}.{b} WHERE id = ?"
        ))
        .await?;
    let (mut compared, mut agreed, mut missing) = (0u64, 0u64, 0u64);
    let mut first_disagreement = None;
    while let Some((id, label)) = futures_util::TryStreamExt::try_next(&mut stream).await? {
        if id % sample != 0 {
            continue;
        }
        let other = session
            .execute_unpaged(&lookup, (id,))
            .await?
            .into_rows_result()?
            .maybe_first_row::<(Option<String>,)>()?;
        match other {
            None => missing += 1,
            Some((other,)) => {
                compared += 1;
                if other == label {
                    agreed += 1;
                } else {
                    first_disagreement.get_or_insert((id, label, other));
                }
            }
        }
    }
    println!(
        "{}",
        serde_json::json!({"compared": compared, "agreed": agreed, "missing_in_b": missing,
                           "first_disagreement": first_disagreement.map(|(id, a, b)| serde_json::json!({"id": id, "a": a, "b": b}))})
    );
    Ok(())
}
