//! `sentiflow status`: per-partition offsets and lag, dead letters, rows stored.

use crate::cli::{ConsistencyArg, StatusArgs};
use crate::kafka::admin;
use crate::progress::thousands;
use crate::sinks::cassandra;

/// The exit code of `status --max-lag N` while the lag is over N.
pub const LAG_EXCEEDED_EXIT: u8 = 3;

/// `status --max-lag`: the total lag is over the maximum (exit code 3).
#[derive(Debug, thiserror::Error)]
#[error("total lag {} is over --max-lag {}", thousands(*.lag), thousands(*.max))]
pub struct LagExceeded {
    pub lag: u64,
    pub max: u64,
}

pub async fn run(args: StatusArgs) -> anyhow::Result<()> {
    let dead_letter_topic = args.kafka.dead_letter_topic(&args.dead_letters);
    let topic = tokio::task::block_in_place(|| {
        admin::topic_status(&args.kafka, &args.group.group, &dead_letter_topic)
    })?;
    let options = super::cassandra_options(&args.cassandra, ConsistencyArg::One, 1);
    let rows = cassandra::count_rows(&options).await?;
    let total_lag: i64 = topic.partitions.iter().map(|p| p.lag).sum();

    if args.json {
        let summary = serde_json::json!({
            "topic": args.kafka.topic,
            "group": args.group.group,
            "partitions": topic.partitions,
            "lag": total_lag,
            "dead_letter_topic": dead_letter_topic,
            "dead_letters": topic.dead_letters,
            "table": format!("{}.{}", args.cassandra.keyspace, args.cassandra.table),
            "rows": rows.rows,
            "rows_exact": rows.exact,
            "max_lag": args.max_lag,
            "lag_exceeded": lag_exceeded(total_lag, args.max_lag).is_some(),
        });
        println!("{summary}");
        return lag_exceeded(total_lag, args.max_lag).map_or(Ok(()), |e| Err(e.into()));
    }
    println!(
        "topic {} (group {}) at {}",
        args.kafka.topic, args.group.group, args.kafka.brokers
    );
    println!(
        "  {:>9}  {:>14}  {:>14}  {:>12}",
        "partition", "end offset", "committed", "lag"
    );
    for p in &topic.partitions {
        let committed = p
            .committed_offset
            .map_or_else(|| "-".to_string(), |c| thousands(c as u64));
        println!(
            "  {:>9}  {:>14}  {:>14}  {:>12}",
            p.partition,
            thousands(p.end_offset as u64),
            committed,
            thousands(p.lag as u64)
        );
    }
    println!("  total lag {}", thousands(total_lag as u64));
    match topic.dead_letters {
        Some(count) => println!(
            "dead letters: {} in {dead_letter_topic}",
            thousands(count as u64)
        ),
        None => println!(
            "dead letters: topic {dead_letter_topic} does not exist (run `sentiflow setup`)"
        ),
    }
    println!(
        "rows: {}{} in {}.{}",
        if rows.exact { "" } else { "about " },
        thousands(rows.rows),
        args.cassandra.keyspace,
        args.cassandra.table
    );
    lag_exceeded(total_lag, args.max_lag).map_or(Ok(()), |e| Err(e.into()))
}

fn lag_exceeded(total_lag: i64, max_lag: Option<u64>) -> Option<LagExceeded> {
    let lag = total_lag.max(0) as u64;
    let max = max_lag?;
    (lag > max).then_some(LagExceeded { lag, max })
}
