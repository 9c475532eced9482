//! `sentiflow setup`: topics, keyspace and table, idempotently.

use crate::cli::{ConsistencyArg, SetupArgs, SetupPart};
use crate::kafka::admin::{self, TopicSpec};
use crate::sinks::cassandra;

pub async fn run(args: SetupArgs) -> anyhow::Result<()> {
    if args.only != Some(SetupPart::Cassandra) {
        let spec = TopicSpec {
            partitions: args.partitions,
            replication_factor: args.replication_factor,
            max_message_bytes: args.max_message_bytes,
            flush_messages: args.flush_messages,
            min_insync_replicas: args.min_insync_replicas,
        };
        let dead_letter_topic = args.kafka.dead_letter_topic(&args.dead_letters);
        let topics = [args.kafka.topic.as_str(), dead_letter_topic.as_str()];
        for line in admin::create_topics(&args.kafka, &topics, &spec).await? {
            println!("kafka: {line}");
        }
    }
    if args.only != Some(SetupPart::Kafka) {
        let options = super::cassandra_options(&args.cassandra, ConsistencyArg::LocalQuorum, 1);
        let report = cassandra::setup(&options, args.cassandra_rf).await?;
        for line in report.lines() {
            println!("cassandra: {line}");
        }
        if !report.problems.is_empty() {
            anyhow::bail!(
                "table {} exists but `sentiflow process` cannot write to it: {}",
                report.table,
                report.problems.join("; ")
            );
        }
    }
    Ok(())
}
