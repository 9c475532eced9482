//! The command line: every subcommand, flag, environment variable and default.
//! `sentiflow --help` and `sentiflow <command> --help` are generated from here.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};

use crate::generate::Style;
use crate::ids::{IDS_PER_SEED, MAX_SEED};

const ABOUT: &str =
    "Streaming sentiment analysis: realistic fake sentences, scored with VADER, stored as rows.";

const AFTER_HELP: &str = "\
Settings: a flag wins over its environment variable, which wins over secrets.env, then .env
(read from the current directory when present), which win over the defaults shown here.

First try:  sentiflow run --count 1000000";

#[derive(Debug, Parser)]
#[command(name = "sentiflow", version, about = ABOUT, after_help = AFTER_HELP, arg_required_else_help = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Log filter for stderr, e.g. `info` or `sentiflow=debug`.
    /// The Cassandra driver's own logs are off by default: sentiflow reports
    /// connection problems itself, once, with advice.
    #[arg(
        long,
        env = "SENTIFLOW_LOG",
        default_value = "warn,scylla=off",
        global = true
    )]
    pub log: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole pipeline embedded: generator -> bounded queue -> VADER -> SQLite file. No services needed.
    Run(RunArgs),
    /// Score texts with VADER and print one JSON object per text.
    Score(ScoreArgs),
    /// Create the Kafka topics and the Cassandra keyspace and table (idempotent).
    Setup(SetupArgs),
    /// Produce sentences to Kafka (idempotent producer, acks=all).
    Produce(ProduceArgs),
    /// Consume sentences from Kafka as a consumer-group member, score them, write them to Cassandra.
    Process(ProcessArgs),
    /// Show per-partition offsets and lag, dead letters and rows stored.
    Status(StatusArgs),
    /// Check that every sentence produced with a seed and count is stored in Cassandra exactly once.
    Verify(VerifyArgs),
    /// Serve the live dashboard, /metrics, /healthz and /readyz for a SQLite file (--db) or for Kafka + Cassandra.
    Serve(ServeArgs),
    /// Exit 0 when a sentiflow server answers its health check, 1 otherwise (for Docker's HEALTHCHECK).
    Healthcheck(HealthcheckArgs),
}

/// How to reach Kafka.
#[derive(Clone, Debug, Args)]
pub struct KafkaArgs {
    /// Kafka bootstrap servers, comma-separated.
    #[arg(
        long,
        env = "KAFKA_BOOTSTRAP_SERVERS",
        value_name = "HOST:PORT,...",
        default_value = "127.0.0.1:9092"
    )]
    pub brokers: String,

    /// The topic sentences are produced to and consumed from.
    #[arg(long, env = "KAFKA_TOPIC", default_value = "sentences", value_parser = parse_topic)]
    pub topic: String,

    /// Kafka security.protocol: plaintext, ssl, sasl_plaintext or sasl_ssl.
    #[arg(long, env = "KAFKA_SECURITY_PROTOCOL", value_name = "PROTOCOL")]
    pub kafka_security_protocol: Option<String>,

    /// Kafka sasl.mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
    #[arg(long, env = "KAFKA_SASL_MECHANISM", value_name = "MECHANISM")]
    pub kafka_sasl_mechanism: Option<String>,

    /// Kafka SASL user name.
    #[arg(long, env = "KAFKA_SASL_USERNAME", value_name = "USER")]
    pub kafka_sasl_username: Option<String>,

    /// Kafka SASL password (never printed).
    #[arg(
        long,
        env = "KAFKA_SASL_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub kafka_sasl_password: Option<String>,

    /// CA certificate file to verify the brokers' TLS certificates.
    #[arg(long, env = "KAFKA_SSL_CA_LOCATION", value_name = "PATH")]
    pub kafka_ssl_ca: Option<PathBuf>,
}

/// How to reach Cassandra and which table to use.
#[derive(Clone, Debug, Args)]
pub struct CassandraArgs {
    /// Cassandra contact points, comma-separated (host or host:port).
    #[arg(
        long = "cassandra",
        env = "CASSANDRA_HOSTS",
        value_name = "HOST,...",
        default_value = "127.0.0.1"
    )]
    pub cassandra_hosts: String,

    /// Cassandra native protocol port, for contact points without one.
    #[arg(
        long,
        env = "CASSANDRA_PORT",
        value_name = "PORT",
        default_value_t = 9042,
        value_parser = clap::value_parser!(u16).range(1..)
    )]
    pub cassandra_port: u16,

    /// Cassandra user name (PasswordAuthenticator).
    #[arg(long, env = "CASSANDRA_USERNAME", value_name = "USER")]
    pub cassandra_username: Option<String>,

    /// Cassandra password (never printed).
    #[arg(
        long,
        env = "CASSANDRA_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub cassandra_password: Option<String>,

    /// Connect to Cassandra over TLS (client-to-node encryption), verifying the
    /// nodes' certificates against the system's CAs or --cassandra-ssl-ca.
    #[arg(long, env = "CASSANDRA_SSL", value_parser = BoolishValueParser::new())]
    pub cassandra_ssl: bool,

    /// CA certificate file (PEM) to verify the Cassandra nodes' TLS
    /// certificates; implies --cassandra-ssl.
    #[arg(long, env = "CASSANDRA_SSL_CA_LOCATION", value_name = "PATH")]
    pub cassandra_ssl_ca: Option<PathBuf>,

    /// The keyspace holding the table.
    #[arg(long, env = "CASSANDRA_KEYSPACE", default_value = "spark_streaming")]
    pub keyspace: String,

    /// The table rows are written to.
    #[arg(long, env = "CASSANDRA_TABLE", default_value = "sentimental_analysis")]
    pub table: String,
}

/// The dead-letter topic, for the commands that create, write or count it.
#[derive(Clone, Debug, Args)]
pub struct DeadLetterArgs {
    /// Dead-letter topic [default: <topic>.dlq].
    #[arg(long, env = "KAFKA_DLQ_TOPIC", value_name = "TOPIC", value_parser = parse_topic)]
    pub dlq_topic: Option<String>,
}

/// The consumer group of the processors.
#[derive(Clone, Debug, Args)]
pub struct GroupArgs {
    /// Consumer group: processors in the same group share the partitions.
    #[arg(long, env = "KAFKA_GROUP_ID", default_value = "sentiflow", value_parser = parse_group)]
    pub group: String,
}

/// How a long-running command reports: a summary as text or JSON, live progress.
#[derive(Clone, Debug, Args)]
pub struct OutputArgs {
    /// Print the final summary as one JSON object instead of text.
    #[arg(long, env = "SENTIFLOW_JSON", value_parser = BoolishValueParser::new())]
    pub json: bool,

    /// No live progress line, even on a terminal.
    #[arg(long, short, env = "SENTIFLOW_QUIET", value_parser = BoolishValueParser::new())]
    pub quiet: bool,
}

/// Where a long-running command serves `/metrics`, `/healthz` and `/readyz`.
#[derive(Clone, Debug, Args)]
pub struct MetricsArgs {
    /// Serve /metrics (Prometheus), /healthz and /readyz on HOST:PORT (`:PORT` is
    /// 127.0.0.1:PORT, port 0 any free port), or `off`. The address chosen is printed on
    /// stderr [default: off for run and produce; for process 127.0.0.1:9464, or the next
    /// free port up to 9479].
    #[arg(long, env = "SENTIFLOW_METRICS_ADDR", value_name = "ADDR|off", value_parser = parse_listen)]
    pub metrics_addr: Option<Listen>,
}

/// The web layer of the pipeline commands: metrics and, on request, the dashboard.
#[derive(Clone, Debug, Args)]
pub struct WebArgs {
    #[command(flatten)]
    pub metrics: MetricsArgs,

    /// Also serve the live dashboard at / (on --metrics-addr, or 127.0.0.1:9464 or the next
    /// free port when that is off). After `run --count` ends, the dashboard stays up until Ctrl-C.
    #[arg(long, env = "SENTIFLOW_UI")]
    pub ui: bool,
}

/// An address to serve on, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listen {
    Off,
    At(SocketAddr),
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub dead_letters: DeadLetterArgs,
    #[command(flatten)]
    pub cassandra: CassandraArgs,

    /// Partitions of the topic: the most processors that can share the work.
    #[arg(long, env = "KAFKA_PARTITIONS", default_value_t = 2,
          value_parser = clap::value_parser!(i32).range(1..=100_000))]
    pub partitions: i32,

    /// Replication factor of the topics; lowered, with a warning, to the number of brokers.
    #[arg(long, env = "KAFKA_REPLICATION_FACTOR", default_value_t = 2,
          value_parser = clap::value_parser!(i32).range(1..=1000))]
    pub replication_factor: i32,

    /// Topic max.message.bytes.
    #[arg(long, env = "KAFKA_MAX_MESSAGE_BYTES", default_value_t = 64000,
          value_parser = clap::value_parser!(u32).range(1024..))]
    pub max_message_bytes: u32,

    /// Topic flush.messages (1: the broker fsyncs every message, as the original stack does).
    #[arg(long, env = "KAFKA_FLUSH_MESSAGES", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub flush_messages: u64,

    /// Topic min.insync.replicas; lowered, with a warning, to the replication factor.
    #[arg(long, env = "KAFKA_MIN_INSYNC_REPLICAS", default_value_t = 2,
          value_parser = clap::value_parser!(i32).range(1..=1000))]
    pub min_insync_replicas: i32,

    /// Replication factor of the keyspace (SimpleStrategy).
    #[arg(long, env = "CASSANDRA_REPLICATION_FACTOR", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub cassandra_rf: u32,

    /// Set up only one side.
    #[arg(long, value_enum)]
    pub only: Option<SetupPart>,
}

/// One side of `setup`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SetupPart {
    Kafka,
    Cassandra,
}

#[derive(Debug, Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,

    /// How many sentences to produce (with --from-file: at most this many lines) [default: 1000, or the whole file].
    #[arg(long, env = "SENTIFLOW_COUNT", value_name = "N",
          value_parser = clap::value_parser!(u64).range(0..=IDS_PER_SEED))]
    pub count: Option<u64>,

    /// Sentences per second [default: as fast as Kafka takes them].
    #[arg(long, env = "SENTIFLOW_RATE", value_name = "R", value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// How long a message the brokers do not take (down, or too few in-sync
    /// replicas for acks=all) is retried before it counts as failed; 0 retries forever.
    #[arg(long, env = "SENTIFLOW_DELIVERY_TIMEOUT", value_name = "SECS", default_value = "120",
          value_parser = parse_delivery_timeout)]
    pub delivery_timeout: Duration,

    /// Same seed, same sentences and ids (ids are seed * 10^10 + n; with
    /// --from-file, lines have ids of their own: (900,000,000 + seed) * 10^10 + line).
    #[arg(long, env = "SENTIFLOW_SEED", value_name = "S", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=MAX_SEED))]
    pub seed: u64,

    /// What kind of sentences to generate.
    #[arg(long, env = "SENTIFLOW_STYLE", value_enum, default_value_t = Style::Review)]
    pub style: Style,

    /// Send each line of this text file instead of generated sentences (empty
    /// lines are skipped; a line that is not UTF-8 is reported with its number and skipped).
    #[arg(long, env = "SENTIFLOW_FROM_FILE", value_name = "PATH")]
    pub from_file: Option<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub metrics: MetricsArgs,
}

#[derive(Debug, Args)]
pub struct ProcessArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub cassandra: CassandraArgs,
    #[command(flatten)]
    pub group: GroupArgs,
    #[command(flatten)]
    pub dead_letters: DeadLetterArgs,

    /// Exit 0 once every assigned partition has been caught up for this many seconds.
    #[arg(long, env = "SENTIFLOW_EXIT_WHEN_IDLE", value_name = "SECS", value_parser = parse_seconds)]
    pub exit_when_idle: Option<Duration>,

    /// How long a rebalance waits for the batches in flight of the partitions
    /// taken away before giving them up to their next owner (which reads
    /// them again). Keep it under your orchestrator's grace period.
    #[arg(long, env = "SENTIFLOW_DRAIN_TIMEOUT", value_name = "SECS", default_value = "30",
          value_parser = parse_seconds)]
    pub drain_timeout: Duration,

    /// How long the pipeline may take no batch (Cassandra slow or down)
    /// before the source pauses fetching; it resumes when the pipeline takes
    /// one again. Memory is bounded either way; a pause also stops fetch
    /// requests and frees librdkafka's prefetched messages.
    #[arg(long, env = "SENTIFLOW_PAUSE_AFTER", value_name = "SECS", default_value = "5",
          value_parser = parse_seconds)]
    pub pause_after: Duration,

    /// Messages per batch.
    #[arg(long, env = "SENTIFLOW_BATCH_SIZE", value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch_size: u64,

    /// Batches being scored and written at once (Cassandra is latency-bound: keep several in flight).
    #[arg(long, env = "SENTIFLOW_MAX_IN_FLIGHT_BATCHES", value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u64).range(1..=64))]
    pub max_in_flight_batches: u64,

    /// Cassandra requests in flight at once (each a batch of rows, or one
    /// row with --cassandra-batch-bytes 0), across all the pipeline's batches.
    #[arg(long, env = "CASSANDRA_CONCURRENCY", value_name = "N",
          default_value_t = crate::sinks::cassandra::default_max_in_flight() as u64,
          value_parser = clap::value_parser!(u64).range(1..=8192))]
    pub cassandra_concurrency: u64,

    /// Rows owned by the same Cassandra replicas go in one unlogged batch (at
    /// most 10 rows) of up to this many bytes as Cassandra counts them (kept
    /// under its 5 KiB batch_size_warn_threshold); 0 sends every row on its own.
    #[arg(long, env = "CASSANDRA_BATCH_BYTES", value_name = "BYTES",
          default_value_t = crate::sinks::cassandra::default_batch_bytes() as u64,
          value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub cassandra_batch_bytes: u64,

    /// Consistency level of the inserts (`any` is refused: a row acknowledged
    /// by a hint alone would have its offset committed, and be lost with the hint).
    #[arg(long, env = "CASSANDRA_CONSISTENCY", value_name = "LEVEL",
          default_value = "local-quorum", value_parser = parse_write_consistency)]
    pub consistency: ConsistencyArg,

    /// Longest sentence accepted, in bytes; longer ones go to the dead-letter topic.
    #[arg(
        long,
        env = "SENTIFLOW_MAX_SENTENCE_BYTES",
        value_name = "BYTES",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(1..=100_000_000)
    )]
    pub max_sentence_bytes: u64,

    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub web: WebArgs,
}

/// Cassandra consistency levels that make sense for writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ConsistencyArg {
    Any,
    One,
    Two,
    Three,
    Quorum,
    All,
    LocalQuorum,
    EachQuorum,
    LocalOne,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub cassandra: CassandraArgs,
    #[command(flatten)]
    pub group: GroupArgs,
    #[command(flatten)]
    pub dead_letters: DeadLetterArgs,

    /// Print one JSON object instead of text.
    #[arg(long, env = "SENTIFLOW_JSON", value_parser = BoolishValueParser::new())]
    pub json: bool,

    /// Exit with code 3 (after printing the status) while the total lag is over N
    /// messages, for a scheduler or a shell loop waiting for "processed".
    #[arg(long, env = "SENTIFLOW_MAX_LAG", value_name = "N")]
    pub max_lag: Option<u64>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub cassandra: CassandraArgs,

    /// The seed the sentences were produced with.
    #[arg(long, env = "SENTIFLOW_SEED", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=MAX_SEED))]
    pub seed: u64,

    /// How many sentences were produced with that seed.
    #[arg(long, env = "SENTIFLOW_COUNT", value_name = "N",
          value_parser = clap::value_parser!(u64).range(0..=IDS_PER_SEED))]
    pub count: u64,

    /// Print one JSON object instead of text.
    #[arg(long, env = "SENTIFLOW_JSON", value_parser = BoolishValueParser::new())]
    pub json: bool,
}

impl KafkaArgs {
    /// The dead-letter topic for `topic`, unless one is given.
    pub fn dead_letter_topic(&self, dead_letters: &DeadLetterArgs) -> String {
        dead_letters
            .dlq_topic
            .clone()
            .unwrap_or_else(|| format!("{}.dlq", self.topic))
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Stop after this many sentences. Without it, run until Ctrl-C or SIGTERM, then finish cleanly.
    #[arg(long, env = "SENTIFLOW_COUNT", value_name = "N",
          value_parser = clap::value_parser!(u64).range(0..=IDS_PER_SEED))]
    pub count: Option<u64>,

    /// The SQLite database file to write (created when missing).
    #[arg(
        long,
        env = "SENTIFLOW_DB",
        value_name = "PATH",
        default_value = "sentiflow.db"
    )]
    pub db: PathBuf,

    /// Same seed, same sentences and ids; another seed adds rows with ids that never collide.
    #[arg(long, env = "SENTIFLOW_SEED", value_name = "S", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=MAX_SEED))]
    pub seed: u64,

    /// Sentences per second [default: as fast as possible].
    #[arg(long, env = "SENTIFLOW_RATE", value_name = "R", value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// What kind of sentences to generate.
    #[arg(long, env = "SENTIFLOW_STYLE", value_enum, default_value_t = Style::Review)]
    pub style: Style,

    /// Sentences per batch: one SQLite transaction each.
    #[arg(long, env = "SENTIFLOW_BATCH_SIZE", value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch_size: u64,

    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub web: WebArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to serve the dashboard (and /metrics, /healthz, /readyz): HOST:PORT (`:PORT` is
    /// 127.0.0.1:PORT, port 0 any free port) [default: 127.0.0.1:9464, or the next free
    /// port up to 9479].
    #[arg(long, env = "SENTIFLOW_LISTEN", value_name = "ADDR", value_parser = parse_address)]
    pub listen: Option<SocketAddr>,

    /// Also serve /metrics, /healthz and /readyz on this address (e.g. 0.0.0.0:9464 in a
    /// container, where the dashboard has a port of its own), or `off` [default: only on --listen].
    #[arg(long, env = "SENTIFLOW_METRICS_ADDR", value_name = "ADDR|off", value_parser = parse_listen)]
    pub metrics_addr: Option<Listen>,

    /// Show this SQLite file (written by `sentiflow run`), read-only. Without it, the
    /// dashboard shows the distributed pipeline: Kafka (topic, group, dead letters) and Cassandra.
    #[arg(long, env = "SENTIFLOW_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub cassandra: CassandraArgs,
    #[command(flatten)]
    pub group: GroupArgs,
    #[command(flatten)]
    pub dead_letters: DeadLetterArgs,
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The health endpoint to ask (plain http).
    #[arg(
        long,
        env = "SENTIFLOW_HEALTHCHECK_URL",
        value_name = "URL",
        default_value = "http://127.0.0.1:9464/healthz"
    )]
    pub url: String,

    /// How long to wait for the answer.
    #[arg(long, env = "SENTIFLOW_HEALTHCHECK_TIMEOUT", value_name = "SECS", default_value = "3",
          value_parser = parse_seconds)]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Texts to score, one per argument. Without any, each line of stdin is one text.
    #[arg(value_name = "TEXT")]
    pub texts: Vec<String>,

    /// Read stdin as JSON lines with `id` and `sentence`; the `id` is echoed in the output.
    #[arg(long, env = "SENTIFLOW_JSONL", value_parser = BoolishValueParser::new(), conflicts_with = "texts")]
    pub jsonl: bool,
}

/// The longest duration a flag accepts: a year.
const MAX_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

/// A duration in seconds: finite, not negative, at most a year.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && (0.0..=MAX_SECONDS).contains(&seconds) => {
            Ok(Duration::from_secs_f64(seconds))
        }
        _ => Err(format!(
            "expected a number of seconds from 0 to {MAX_SECONDS}, e.g. 2.5"
        )),
    }
}

/// 0 (forever), or at least a second (librdkafka wants more than `linger.ms`).
fn parse_delivery_timeout(text: &str) -> Result<Duration, String> {
    match parse_seconds(text) {
        Ok(timeout) if timeout.is_zero() || timeout >= Duration::from_secs(1) => Ok(timeout),
        _ => Err(format!(
            "expected 0 (retry forever) or a number of seconds from 1 to {MAX_SECONDS}, e.g. 120"
        )),
    }
}

/// A write consistency level; `any` is refused with the reason.
fn parse_write_consistency(text: &str) -> Result<ConsistencyArg, String> {
    use clap::ValueEnum;
    let level = ConsistencyArg::from_str(text, true).map_err(|_| {
        let names: Vec<String> = ConsistencyArg::value_variants()
            .iter()
            .filter(|level| **level != ConsistencyArg::Any)
            .filter_map(|level| level.to_possible_value())
            .map(|value| value.get_name().to_string())
            .collect();
        format!("expected one of {}", names.join(", "))
    })?;
    if level == ConsistencyArg::Any {
        return Err("consistency `any` is refused for writes: a row acknowledged by a hint alone would have its offset committed and be lost if the hint is; use one, quorum or local-quorum".into());
    }
    Ok(level)
}

/// Kafka's rule for topic names (`org.apache.kafka.common.internals.Topic`):
/// 1 to 249 ASCII letters, digits, `.`, `_` or `-`, and not `.` or `..`.
/// Checked here so that a bad name is a usage error naming the flag, not a
/// broker error halfway through `setup`.
fn parse_topic(text: &str) -> Result<String, String> {
    let legal = (1..=249).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && text != "."
        && text != "..";
    if legal {
        Ok(text.to_owned())
    } else {
        Err("a Kafka topic name is 1 to 249 ASCII letters, digits, '.', '_' or '-' (and not '.' or '..')".into())
    }
}

/// Any non-empty text is a valid group id for Kafka; it never reaches CQL.
fn parse_group(text: &str) -> Result<String, String> {
    if text.is_empty() {
        Err("the consumer group id cannot be empty".into())
    } else {
        Ok(text.to_owned())
    }
}

/// `off`, or an address to serve on.
fn parse_listen(text: &str) -> Result<Listen, String> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(Listen::Off);
    }
    parse_address(text).map(Listen::At)
}

/// HOST:PORT, `:PORT` (127.0.0.1), or `localhost:PORT`.
fn parse_address(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    let expanded = match text.strip_prefix(':') {
        Some(port) => format!("127.0.0.1:{port}"),
        None => match text.strip_prefix("localhost:") {
            Some(port) => format!("127.0.0.1:{port}"),
            None => text.to_owned(),
        },
    };
    expanded.parse().map_err(|_| {
        "expected HOST:PORT with an IP address (e.g. 127.0.0.1:9464, 0.0.0.0:9464 or :0)".to_owned()
    })
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err("expected a positive number of sentences per second, e.g. 5000".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_kafkas_rules() {
        for good in ["sentences", "a.b_c-D9", ".hidden", &"t".repeat(249)] {
            assert_eq!(parse_topic(good).as_deref(), Ok(good));
        }
        for bad in [
            "",
            ".",
            "..",
            "with space",
            "quote\"d",
            "it's",
            "semi;colon",
            "slash/ed",
            "é",
            &"t".repeat(250),
        ] {
            assert!(parse_topic(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn group_ids_may_hold_anything_but_nothing() {
        assert!(parse_group("").is_err());
        for group in ["g", "with space", "quote\"d it's", "select * from t; --"] {
            assert_eq!(parse_group(group).as_deref(), Ok(group));
        }
    }
}
