//! What every Kafka client of sentiflow shares: connection settings, the
//! data contract of the messages, and the admin operations behind `setup`
//! and `status`. The pipeline's Kafka source and dead-letter sink live in
//! `sources/kafka.rs` and `sinks/dead_letter_topic.rs`.

pub mod admin;
pub mod contract;

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::client::Client;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;

use crate::cli::KafkaArgs;

/// librdkafka settings for any client: brokers and security, nothing else.
pub fn client_config(args: &KafkaArgs) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &args.brokers);
    // The first connection error is reported by our own check, with advice; no need to repeat it.
    config.set("log.connection.close", "false");
    if let Some(protocol) = &args.kafka_security_protocol {
        config.set("security.protocol", protocol);
    }
    if let Some(mechanism) = &args.kafka_sasl_mechanism {
        config.set("sasl.mechanism", mechanism);
    }
    if let Some(user) = &args.kafka_sasl_username {
        config.set("sasl.username", user);
    }
    if let Some(password) = &args.kafka_sasl_password {
        config.set("sasl.password", password);
    }
    if let Some(ca) = &args.kafka_ssl_ca {
        config.set("ssl.ca.location", ca.display().to_string());
    }
    config
}

/// Settings for a producer: idempotent, acks=all, batches that fit the topic.
pub fn producer_config(args: &KafkaArgs) -> ClientConfig {
    let mut config = client_config(args);
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        // A produced batch must fit the topic's max.message.bytes (64000 in the
        // original stack), or the broker refuses the whole batch.
        .set("batch.size", "60000");
    config
}

/// Creates a client, with an error that never quotes a setting's value
/// (librdkafka's own message would, and the value may be a password).
pub fn create<T>(config: &ClientConfig, what: &str) -> anyhow::Result<T>
where
    T: rdkafka::config::FromClientConfig,
{
    config.create::<T>().map_err(|error| {
        anyhow::anyhow!("cannot create the Kafka {what}: {}", describe_error(&error))
    })
}

/// How long to wait for the brokers to answer a first metadata request.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Asks the cluster for its metadata, to fail early and clearly when it is
/// unreachable. Returns the number of brokers. Blocking.
pub fn check_reachable(
    client: &Client<impl rdkafka::ClientContext>,
    args: &KafkaArgs,
) -> anyhow::Result<usize> {
    client
        .fetch_metadata(None, CONNECT_TIMEOUT)
        .map(|metadata| metadata.brokers().len())
        .map_err(|error| unreachable(args, &error))
}

/// The one-line error for a cluster that does not answer.
pub fn unreachable(args: &KafkaArgs, error: &KafkaError) -> anyhow::Error {
    let cause = match error.rdkafka_error_code() {
        Some(code) => code.to_string(),
        None => error.to_string(),
    };
    anyhow::anyhow!(
        "cannot reach Kafka at {} ({cause}); start it with `scripts/services up kafka` or set KAFKA_BOOTSTRAP_SERVERS / --brokers",
        args.brokers
    )
}

/// Fails clearly when the cluster is unreachable or `args.topic` does not
/// exist; returns the topic's partition numbers. Blocking.
pub fn require_topic(args: &KafkaArgs) -> anyhow::Result<Vec<i32>> {
    require_named_topic(args, &args.topic, "topic", "--topic")
}

/// Like [`require_topic`] for another topic: `what` names it in the error
/// (e.g. "dead-letter topic") and `flag` is the flag that chooses it. Blocking.
pub fn require_named_topic(
    args: &KafkaArgs,
    topic: &str,
    what: &str,
    flag: &str,
) -> anyhow::Result<Vec<i32>> {
    let mut config = client_config(args);
    // Asking for a missing topic's metadata must not create it with broker defaults.
    config.set("allow.auto.create.topics", "false");
    let consumer: BaseConsumer = create(&config, "metadata client")?;
    check_reachable(consumer.client(), args)?;
    admin::partition_ids(&consumer, topic)?.ok_or_else(|| {
        anyhow::anyhow!(
            "{what} {topic} does not exist on {}; create it with `sentiflow setup` (with the same {flag}), or pass another {flag}",
            args.brokers
        )
    })
}

/// A Kafka error for people: never quotes a setting's value, which may be a password.
pub fn describe_error(error: &KafkaError) -> String {
    match error {
        KafkaError::ClientConfig(_, description, key, _) => {
            format!("invalid setting {key}: {description}")
        }
        other => other.to_string(),
    }
}
