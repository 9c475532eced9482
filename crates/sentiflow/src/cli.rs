//! The command line: every subcommand, flag, environment variable and default.
//! `sentiflow --help` and `sentiflow <command> --help` are generated from here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::generate::{MAX_SEED, Style};

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
    #[arg(long, env = "SENTIFLOW_LOG", default_value = "warn", global = true)]
    pub log: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole pipeline embedded: generator -> bounded queue -> VADER -> SQLite file. No services needed.
    Run(RunArgs),
    /// Score texts with VADER and print one JSON object per text.
    Score(ScoreArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Stop after this many sentences. Without it, run until Ctrl-C or SIGTERM, then finish cleanly.
    #[arg(long, env = "SENTIFLOW_COUNT", value_name = "N")]
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

    /// Print the final summary as one JSON object instead of text.
    #[arg(long, env = "SENTIFLOW_JSON")]
    pub json: bool,

    /// No live progress line, even on a terminal.
    #[arg(long, short, env = "SENTIFLOW_QUIET")]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Texts to score, one per argument. Without any, each line of stdin is one text.
    #[arg(value_name = "TEXT")]
    pub texts: Vec<String>,

    /// Read stdin as JSON lines with `id` and `sentence`; the `id` is echoed in the output.
    #[arg(long, env = "SENTIFLOW_JSONL", conflicts_with = "texts")]
    pub jsonl: bool,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err("expected a positive number of sentences per second, e.g. 5000".into()),
    }
}
