//! What every Kafka client of sentiflow shares: connection settings, the
//! data contract of the messages, and the admin operations behind `setup`
//! and `status`. The pipeline's Kafka source and dead-letter sink live in
//! `sources/kafka.rs` and `sinks/dead_letter_topic.rs`.

pub mod admin;
pub mod contract;

use std::sync::Mutex;
use std::time::Duration;

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, ClientContext};

use crate::cli::KafkaArgs;

/// librdkafka settings for any client: brokers and security, nothing else.
pub fn client_config(args: &KafkaArgs) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &args.brokers);
    // Named in the brokers' logs and in the group's members (kafka-consumer-groups,
    // the dashboard); librdkafka's default is "rdkafka".
    config.set("client.id", "sentiflow");
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

/// The context of the short-lived clients that check the cluster and run
/// admin requests: instead of logging librdkafka's connection errors (a
/// wrong password or CA would print a line per attempt), it keeps the last
/// one, which [`check_reachable`] turns into one line with advice.
#[derive(Default)]
pub struct CheckContext {
    /// From the error callback: a code and librdkafka's text.
    last_error: Mutex<Option<(Option<RDKafkaErrorCode>, String)>>,
    /// The last broker connection failure logged (`FAIL`): the most precise
    /// text there is ("SASL authentication error", "SSL handshake failed").
    last_failure: Mutex<Option<String>>,
}

impl CheckContext {
    /// What went wrong last: the logged connection failure if there is one
    /// (the error callback then often says only "1/1 brokers are down").
    fn last_error(&self) -> Option<(Option<RDKafkaErrorCode>, String)> {
        let error = self
            .last_error
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let failure = self
            .last_failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        match (error, failure) {
            (Some((code, _)), Some(failure)) => Some((code, failure)),
            (None, Some(failure)) => Some((None, failure)),
            (error, None) => error,
        }
    }
}

impl ClientContext for CheckContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        // librdkafka calls this at once from its own threads (errors wait in a
        // queue nobody polls during a metadata request): a broker connection
        // failure ("FAIL": refused, login, TLS) is kept for our own message.
        if facility == "FAIL" {
            *self
                .last_failure
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(message.to_owned());
        }
        tracing::debug!(target: "librdkafka", ?level, "{facility} {message}");
    }

    fn error(&self, error: KafkaError, reason: &str) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) =
            Some((error.rdkafka_error_code(), reason.to_owned()));
    }
}

impl ConsumerContext for CheckContext {}

/// Asks the cluster for its metadata, to fail early and clearly when it is
/// unreachable or refuses us (login, TLS, protocol), with a client of its
/// own. Returns the number of brokers. Blocking: up to [`CONNECT_TIMEOUT`]
/// while nothing answers, a second or two when the brokers refuse us.
pub fn check_reachable(args: &KafkaArgs) -> anyhow::Result<usize> {
    let mut config = client_config(args);
    config
        .set("allow.auto.create.topics", "false")
        // A listener that wants TLS closes a plaintext connection at once:
        // that disconnect is the diagnosis, so it must be reported.
        .set("log.connection.close", "true");
    // Connection failures are logged at info level: let them through to the
    // context (which keeps them quiet), whatever --log says.
    config.set_log_level(RDKafkaLogLevel::Info);
    let consumer: BaseConsumer<CheckContext> = create_with(&config, "metadata client")?;
    let deadline = std::time::Instant::now() + CONNECT_TIMEOUT;
    loop {
        // Attempts of a few seconds, so that a refusal is reported early; a
        // busy cluster gets the whole CONNECT_TIMEOUT all the same.
        let attempt = deadline
            .saturating_duration_since(std::time::Instant::now())
            .clamp(Duration::from_millis(100), Duration::from_secs(3));
        let error = match consumer.fetch_metadata(None, attempt) {
            Ok(metadata) => return Ok(metadata.brokers().len()),
            Err(error) => error,
        };
        // librdkafka queues its logs and errors: serve them into the context.
        while consumer.poll(Duration::ZERO).is_some() {}
        let reported = consumer.context().last_error();
        // A refused login or certificate will not change: say so at once. A
        // hang-up may be a broker going down: keep trying until the deadline.
        let refused = reported.as_ref().is_some_and(|(code, reason)| {
            matches!(
                refusal(*code, reason),
                Some(Refusal::Login | Refusal::Certificate | Refusal::Tls)
            )
        });
        if refused || std::time::Instant::now() >= deadline {
            let (code, reason) = match reported {
                Some((code, reason)) => (code.or(error.rdkafka_error_code()), reason),
                None => (error.rdkafka_error_code(), String::new()),
            };
            return Err(connection_error(args, code, &reason, &error));
        }
    }
}

/// How the brokers refused us, when they did (rather than not answering).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    Login,
    Certificate,
    Tls,
    Protocol,
}

fn refusal(code: Option<RDKafkaErrorCode>, reason: &str) -> Option<Refusal> {
    let code = match code {
        Some(RDKafkaErrorCode::AllBrokersDown | RDKafkaErrorCode::BrokerTransportFailure) => None,
        other => other,
    };
    match code {
        Some(RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed) => {
            Some(Refusal::Login)
        }
        _ if reason.contains("SASL authentication error") => Some(Refusal::Login),
        _ if reason.contains("certificate verify failed") => Some(Refusal::Certificate),
        Some(RDKafkaErrorCode::SSL) => Some(Refusal::Tls),
        _ if reason.contains("SSL handshake failed") => Some(Refusal::Tls),
        // The first request of a connection: a TLS listener hangs up on plaintext.
        _ if reason.contains("Disconnected while requesting ApiVersion")
            || reason.contains("incorrect security.protocol")
            || (reason.contains("Disconnected") && reason.contains("state APIVERSION_QUERY")) =>
        {
            Some(Refusal::Protocol)
        }
        _ => None,
    }
}

/// The one-line error for a cluster that does not answer.
pub fn unreachable(args: &KafkaArgs, error: &KafkaError) -> anyhow::Error {
    connection_error(args, error.rdkafka_error_code(), "", error)
}

/// What failed, in one line, with what to do. `reason` is librdkafka's own
/// report of the last connection error, when there is one.
fn connection_error(
    args: &KafkaArgs,
    code: Option<RDKafkaErrorCode>,
    reason: &str,
    error: &KafkaError,
) -> anyhow::Error {
    let brokers = &args.brokers;
    let why = redact(&clean_reason(reason), args);
    let protocol = args
        .kafka_security_protocol
        .as_deref()
        .unwrap_or("plaintext");
    let message = match refusal(code, reason) {
        Some(Refusal::Login) => format!(
            "Kafka at {brokers} refused the login of user '{}' ({why}); check KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM",
            args.kafka_sasl_username.as_deref().unwrap_or_default()
        ),
        Some(Refusal::Certificate) => format!(
            "the TLS certificate of Kafka at {brokers} is not trusted ({why}); set KAFKA_SSL_CA_LOCATION (--kafka-ssl-ca) to the CA that signed the brokers' certificates"
        ),
        Some(Refusal::Tls) => format!(
            "TLS with Kafka at {brokers} failed ({why}); check that KAFKA_SECURITY_PROTOCOL ({protocol}) matches the brokers' listener"
        ),
        Some(Refusal::Protocol) => format!(
            "Kafka at {brokers} closed the connection during the handshake ({why}); the listener probably needs TLS or SASL: set KAFKA_SECURITY_PROTOCOL (now {protocol}) to ssl, sasl_plaintext or sasl_ssl, with the matching KAFKA_SASL_* and KAFKA_SSL_CA_LOCATION"
        ),
        None => {
            let cause = match (code, why.is_empty()) {
                (_, false) => why,
                (Some(code), true) => code.to_string(),
                (None, true) => describe_error(error),
            };
            format!(
                "cannot reach Kafka at {brokers} ({cause}); start it with `scripts/services up kafka` or set KAFKA_BOOTSTRAP_SERVERS / --brokers"
            )
        }
    };
    anyhow::anyhow!(message)
}

/// librdkafka's connection report without the broker prefix (we name the
/// brokers ourselves) and the timing suffix: `127.0.0.1:9092/bootstrap:
/// SSL handshake failed: ... (after 5ms in state SSL_HANDSHAKE)`.
fn clean_reason(reason: &str) -> String {
    let reason = reason.trim();
    let reason = match reason.split_once("/bootstrap: ") {
        Some((_, rest)) => rest,
        None => match reason.split_once(": ") {
            Some((prefix, rest)) if prefix.contains(':') && !prefix.contains(' ') => rest,
            _ => reason,
        },
    };
    let reason = match reason.rfind(" (after ") {
        Some(at) if reason.ends_with(')') => &reason[..at],
        _ => reason,
    };
    reason.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Belt and braces: a message never carries the password, even if a
/// library quoted it.
fn redact(text: &str, args: &KafkaArgs) -> String {
    match args.kafka_sasl_password.as_deref() {
        Some(password) if !password.is_empty() => text.replace(password, "<redacted>"),
        _ => text.to_owned(),
    }
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
    check_reachable(args)?;
    let consumer: BaseConsumer<CheckContext> = create_with(&config, "metadata client")?;
    admin::partition_ids(&consumer, topic)?.ok_or_else(|| {
        anyhow::anyhow!(
            "{what} {topic} does not exist on {}; create it with `sentiflow setup` (with the same {flag}), or pass another {flag}",
            args.brokers
        )
    })
}

/// Like [`create`], for a client with the quiet [`CheckContext`].
pub fn create_with<T>(config: &ClientConfig, what: &str) -> anyhow::Result<T>
where
    T: rdkafka::config::FromClientConfigAndContext<CheckContext>,
{
    config
        .create_with_context::<CheckContext, T>(CheckContext::default())
        .map_err(|error| {
            anyhow::anyhow!("cannot create the Kafka {what}: {}", describe_error(&error))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn librdkafka_reports_lose_the_broker_prefix_and_the_timing() {
        assert_eq!(
            clean_reason(
                "sasl_ssl://127.0.0.1:29292/bootstrap: SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512 (after 312ms in state AUTH_REQ)"
            ),
            "SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"
        );
        assert_eq!(clean_reason("1/1 brokers are down"), "1/1 brokers are down");
        assert_eq!(
            clean_reason(
                "127.0.0.1:9092: Connect to ipv4#127.0.0.1:9092 failed: Connection refused (after 0ms in state CONNECT)"
            ),
            "Connect to ipv4#127.0.0.1:9092 failed: Connection refused"
        );
    }

    #[test]
    fn refusals_are_told_apart_by_librdkafkas_own_words() {
        let cases = [
            (
                "sasl_ssl://h:1/bootstrap: SASL authentication error: Authentication failed (after 3ms in state AUTH_REQ)",
                Some(Refusal::Login),
            ),
            (
                "ssl://h:1/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified",
                Some(Refusal::Certificate),
            ),
            (
                "ssl://h:1/bootstrap: SSL handshake failed: Disconnected: SSL connection closed by peer: connecting to a PLAINTEXT broker listener?",
                Some(Refusal::Tls),
            ),
            (
                "h:1/bootstrap: Disconnected: connection closed by peer: receive 0 after POLLIN (after 24ms in state APIVERSION_QUERY)",
                Some(Refusal::Protocol),
            ),
            (
                "h:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after 0ms in state CONNECT)",
                None,
            ),
            (
                "h:1/bootstrap: Disconnected (after 5000ms in state UP)",
                None,
            ),
        ];
        for (reason, expected) in cases {
            assert_eq!(refusal(None, reason), expected, "{reason}");
        }
        assert_eq!(
            refusal(Some(RDKafkaErrorCode::Authentication), ""),
            Some(Refusal::Login)
        );
        assert_eq!(
            refusal(
                Some(RDKafkaErrorCode::AllBrokersDown),
                "1/1 brokers are down"
            ),
            None
        );
    }

    #[test]
    fn messages_never_carry_the_password() {
        let args = KafkaArgs {
            brokers: "127.0.0.1:9092".into(),
            topic: "t".into(),
            kafka_security_protocol: Some("sasl_ssl".into()),
            kafka_sasl_mechanism: Some("SCRAM-SHA-512".into()),
            kafka_sasl_username: Some("user".into()),
            kafka_sasl_password: Some("hunter2-secret".into()),
            kafka_ssl_ca: None,
        };
        let error = connection_error(
            &args,
            None,
            "h:1/bootstrap: SASL authentication error: user user with password hunter2-secret",
            &KafkaError::Canceled,
        )
        .to_string();
        assert!(!error.contains("hunter2-secret"), "{error}");
        assert!(error.contains("KAFKA_SASL_PASSWORD"), "{error}");
    }
}
