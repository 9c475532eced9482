//! Hostile input: whatever bytes arrive, the decoder and the scorer never
//! panic, memory stays bounded by the message itself, and every message
//! becomes either a row or a dead letter (property tests, then the same
//! through the real Kafka and Cassandra). Names that could break out of a
//! CQL statement or a Kafka request are refused or quoted safely.

use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rdkafka::ClientContext;
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer};
use sentiflow::kafka::contract::{Decoded, Decoder, Rejection};
use sentiflow::record::{Origin, ReasonCode};
use serde_json::{Value, json};

use crate::services::*;
use crate::util::*;

const MAX_SENTENCE: usize = 10_000;

fn decode(value: &[u8]) -> Result<Decoded, Rejection> {
    let origin = Origin {
        partition: 1,
        offset: 7,
    };
    Decoder::new("sentences", MAX_SENTENCE).decode(Some(&Bytes::copy_from_slice(value)), origin, 5)
}

/// What a row or a dead letter must satisfy, whatever came in.
fn check_outcome(value: &[u8], outcome: &Result<Decoded, Rejection>) {
    match outcome {
        Ok(row) => {
            assert!(
                !row.sentence.trim().is_empty(),
                "an empty sentence became a row"
            );
            assert!(
                row.sentence.len() <= MAX_SENTENCE,
                "an oversized sentence became a row"
            );
            // The scorer takes any text the decoder lets through.
            let scores = vader::polarity_scores(&row.sentence);
            for part in [scores.neg, scores.neu, scores.pos] {
                assert!((0.0..=1.0).contains(&part), "{scores:?}");
            }
            assert!((-1.0..=1.0).contains(&scores.compound), "{scores:?}");
        }
        Err(rejection) => {
            assert!(!rejection.reason.is_empty());
            assert!(
                !rejection.reason.contains('\n'),
                "a dead letter's reason must be one line: {:?}",
                rejection.reason
            );
            // The reason describes the input; it never echoes a large part of it.
            assert!(
                rejection.reason.len() < 400,
                "reason of {} bytes for a {}-byte input",
                rejection.reason.len(),
                value.len()
            );
        }
    }
}

/// Any JSON value, nested a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// The contract's own fields, each sometimes right and sometimes anything.
fn field(right: impl Strategy<Value = Value> + 'static) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        2 => right.prop_map(Some),
        1 => any_json().prop_map(Some),
        1 => Just(None),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_become_a_row_or_a_dead_letter(value in prop::collection::vec(any::<u8>(), 0..2048)) {
        let outcome = decode(&value);
        check_outcome(&value, &outcome);
    }

    #[test]
    fn arbitrary_text_becomes_a_row_or_a_dead_letter(text in "\\PC{0,600}") {
        let outcome = decode(text.as_bytes());
        check_outcome(text.as_bytes(), &outcome);
    }

    /// JSON objects with the contract's fields of any type: exactly the
    /// valid ones become rows, with the sentence and id that were sent.
    #[test]
    fn json_objects_become_rows_exactly_when_they_follow_the_contract(
        id in field((0..=i64::MAX).prop_map(Value::from)),
        sentence in field("\\PC{0,80}".prop_map(Value::String)),
        ts in field(any::<i64>().prop_map(Value::from)),
        extra in prop::option::of(any_json()),
    ) {
        let mut object = serde_json::Map::new();
        for (name, value) in [("id", &id), ("sentence", &sentence), ("ts", &ts), ("extra", &extra)] {
            if let Some(value) = value {
                object.insert(name.to_owned(), value.clone());
            }
        }
        let value = Value::Object(object).to_string();
        let outcome = decode(value.as_bytes());
        check_outcome(value.as_bytes(), &outcome);
        let valid_id = id.as_ref().and_then(Value::as_i64).filter(|id| *id >= 0);
        let valid_sentence = sentence
            .as_ref()
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty() && s.len() <= MAX_SENTENCE);
        let valid_ts = match &ts {
            None | Some(Value::Null) => true,
            Some(ts) => ts.as_i64().is_some(),
        };
        match (valid_id, valid_sentence, valid_ts) {
            (Some(id), Some(sentence), true) => {
                let row = outcome.unwrap_or_else(|r| panic!("a valid message was refused: {r:?}\n{value}"));
                prop_assert_eq!(row.id, id);
                prop_assert_eq!(&*row.sentence, sentence);
            }
            _ => prop_assert!(outcome.is_err(), "an invalid message became a row: {}", value),
        }
    }

    /// The scorer alone, on any text at all.
    #[test]
    fn the_scorer_takes_any_text(text in "\\PC{0,2000}") {
        let scores = vader::polarity_scores(&text);
        prop_assert!((-1.0..=1.0).contains(&scores.compound), "{:?}", scores);
        prop_assert!(scores.neg >= 0.0 && scores.neu >= 0.0 && scores.pos >= 0.0, "{:?}", scores);
    }
}

#[test]
fn deeply_nested_json_is_a_dead_letter_not_a_stack_overflow() {
    for depth in [200, 10_000, 1_000_000] {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let nested = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            // Where the contract wants a number or a string: a dead letter.
            for value in [
                format!(r#"{{"id": {nested}, "sentence": "ok"}}"#),
                format!(r#"{{"id": 1, "sentence": {nested}}}"#),
                format!(r#"{{"id": 1, "sentence": "ok", "ts": {nested}}}"#),
            ] {
                let outcome = decode(value.as_bytes());
                check_outcome(value.as_bytes(), &outcome);
                assert!(outcome.is_err(), "depth {depth}: a row");
            }
            // In a field the contract ignores, or as plain text: whatever the
            // verdict, it comes back (no stack overflow, which would abort).
            for value in [
                format!(r#"{{"id": 1, "sentence": "ok", "extra": {nested}}}"#),
                nested.clone(),
            ] {
                let outcome = decode(value.as_bytes());
                check_outcome(value.as_bytes(), &outcome);
            }
        }
    }
}

#[test]
fn huge_values_are_dead_letters_with_a_short_reason() {
    let big = "a".repeat(20 << 20);
    let escaped = "\\u00e9".repeat(4 << 20);
    let digits = "9".repeat(1 << 20);
    let cases: [(String, ReasonCode); 5] = [
        (big.clone(), ReasonCode::TooLarge),
        (
            format!(r#"{{"id": 1, "sentence": "{big}"}}"#),
            ReasonCode::TooLarge,
        ),
        (
            format!(r#"{{"id": 1, "sentence": "{escaped}"}}"#),
            ReasonCode::TooLarge,
        ),
        (
            format!(r#"{{"id": {digits}, "sentence": "ok"}}"#),
            ReasonCode::InvalidId,
        ),
        (
            format!(r#"{{"id": 1, "sentence": "ok", "ts": {digits}}}"#),
            ReasonCode::InvalidTimestamp,
        ),
    ];
    for (value, code) in cases {
        let outcome = decode(value.as_bytes());
        check_outcome(value.as_bytes(), &outcome);
        assert_eq!(outcome.err().map(|r| r.code), Some(code));
    }
    // A sentence at the limit is a row; one byte over is not.
    let at_limit = "b".repeat(MAX_SENTENCE);
    assert!(decode(at_limit.as_bytes()).is_ok());
    assert!(decode(format!("{at_limit}b").as_bytes()).is_err());
}

#[test]
fn the_scorer_takes_huge_and_repetitive_text() {
    for text in [
        "!".repeat(1 << 20),
        "😀".repeat(100_000),
        "not ".repeat(200_000),
        "GREAT but ".repeat(100_000),
        "\u{0}\u{200b}\u{feff}".repeat(100_000),
    ] {
        let scores = vader::polarity_scores(&text);
        assert!((-1.0..=1.0).contains(&scores.compound), "{scores:?}");
    }
}

// ----------------------------------------------------------------------------- names

#[test]
fn cassandra_names_with_quotes_spaces_or_statements_are_refused_before_any_connection() {
    for (flag, bad) in [
        ("--keyspace", "spark\"streaming"),
        ("--keyspace", "spark streaming"),
        ("--keyspace", "k; DROP KEYSPACE system_auth"),
        ("--table", "t\" (id int PRIMARY KEY); --"),
        ("--table", "it's"),
        ("--table", "a.b"),
    ] {
        // Nothing listens on port 1: a name that got through would say so instead.
        let out = output(sentiflow().args([
            "setup",
            "--only",
            "cassandra",
            "--cassandra",
            "127.0.0.1:1",
            flag,
            bad,
        ]));
        let err = one_line_error(&out, 1);
        let what = if flag == "--keyspace" {
            "keyspace"
        } else {
            "table"
        };
        assert!(
            err.contains(&format!("invalid Cassandra {what} name")) && err.contains(flag),
            "{flag} {bad:?}: {err}"
        );
    }
}

#[test]
fn kafka_topic_names_kafka_would_refuse_are_usage_errors() {
    for (command, flag, bad) in [
        ("setup", "--topic", "with space"),
        ("produce", "--topic", "quo\"te"),
        ("process", "--topic", "semi;colon"),
        ("status", "--dlq-topic", "it's"),
        ("setup", "--dlq-topic", ".."),
    ] {
        let out = output(sentiflow().args([command, flag, bad]));
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{command} {flag} {bad:?}: {err}"
        );
        assert!(
            err.contains(flag) && err.contains("a Kafka topic name is 1 to 249 ASCII letters"),
            "{command} {flag} {bad:?}: {err}"
        );
    }
}

#[test]
fn keyword_names_and_a_hostile_group_work_end_to_end() {
    let scenario = Scenario::new("names");
    // Reserved words as keyspace and table: quoted in every statement.
    let keyspace = "table";
    let table = "select";
    let group = "g \"quoted\" it's; DROP TABLE x --";
    let _ = cqlsh(&format!("DROP KEYSPACE IF EXISTS \"{keyspace}\""));
    let with_names = |command: &mut std::process::Command| {
        command
            .env("CASSANDRA_KEYSPACE", keyspace)
            .env("CASSANDRA_TABLE", table)
            .env("KAFKA_GROUP_ID", group);
    };
    let mut setup = scenario.sentiflow();
    with_names(&mut setup);
    assert_success(&output(setup.args([
        "setup",
        "--replication-factor",
        "1",
        "--min-insync-replicas",
        "1",
    ])));
    scenario.produce(&["--count", "300", "--seed", "31"]);
    let mut process = scenario.sentiflow();
    with_names(&mut process);
    let out = output(process.args(["process", "--json", "--exit-when-idle", "2"]));
    assert_success(&out);
    let mut verify = scenario.sentiflow();
    with_names(&mut verify);
    assert_success(&output(
        verify.args(["verify", "--seed", "31", "--count", "300"]),
    ));
    let mut status = scenario.sentiflow();
    with_names(&mut status);
    let out = output(status.args(["status", "--json"]));
    assert_success(&out);
    let status: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(status["lag"], 0, "{status}");
    // The independent client sees the rows under the quoted names.
    let counted = cqlsh(&format!("SELECT count(*) FROM \"{keyspace}\".\"{table}\""));
    assert!(stdout(&counted).contains(" 300"), "{}", stdout(&counted));
    let dropped = cqlsh(&format!("DROP KEYSPACE \"{keyspace}\""));
    assert_success(&dropped);
}

// ----------------------------------------------------------------------------- end to end

/// Hostile messages, each a row or a dead letter, through the real services.
#[test]
fn every_hostile_message_becomes_a_row_or_a_dead_letter() {
    let scenario = Scenario::new("hostile");
    scenario.setup();
    let mut values: Vec<Option<Vec<u8>>> = vec![
        None,
        Some(b"".to_vec()),
        Some(b"\xff\xfe\x00binary".to_vec()),
        Some(b"{".to_vec()),
        Some(b"{\"id\": -1, \"sentence\": \"negative\"}".to_vec()),
        Some(format!("{{\"id\": {}, \"sentence\": \"deep\"}}", "[".repeat(50_000)).into_bytes()),
        Some(format!("{{\"id\": 7, \"sentence\": \"ok\", \"x\": {}1{}}}", "[".repeat(5000), "]".repeat(5000)).into_bytes()),
        Some("x".repeat(50_000).into_bytes()),
        Some("plain text is a row".as_bytes().to_vec()),
        Some(json!({"id": 3_100_000_000_000_000_000i64, "sentence": "a valid row"}).to_string().into_bytes()),
        Some(json!({"id": 3_100_000_000_000_000_001i64, "sentence": "\u{0}\u{feff}😀 emoji and NUL"}).to_string().into_bytes()),
    ];
    // And pseudo-random bytes, the same every run.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for n in 0..300 {
        let len = (n * 37) % 700;
        let bytes = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        values.push(Some(bytes));
    }
    let producer: ThreadedProducer<Deliveries> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", BROKERS)
        .set("compression.type", "lz4")
        .set("enable.idempotence", "true")
        // A produced batch must fit the topic's max.message.bytes (64000).
        .set("batch.size", "60000")
        .create_with_context(Deliveries::default())
        .expect("a test producer");
    for value in &values {
        let mut record = BaseRecord::<[u8], [u8]>::to(&scenario.topic).key(b"k".as_slice());
        if let Some(value) = value {
            record = record.payload(value.as_slice());
        }
        producer
            .send(record)
            .map_err(|(error, _)| error)
            .expect("queued");
    }
    producer
        .flush(Duration::from_secs(30))
        .expect("every hostile message delivered");
    let delivered = producer.context().delivered.load(Ordering::SeqCst);
    let failures = producer.context().failures.lock().unwrap().clone();
    assert_eq!(
        delivered,
        values.len(),
        "{} failed deliveries, the first: {:?}",
        failures.len(),
        failures.first()
    );

    let summary = scenario.process_until_idle("3");
    let rows = summary["rows_written"].as_u64().unwrap();
    let letters = summary["dead_letters"].as_u64().unwrap();
    assert_eq!(rows + letters, values.len() as u64, "{summary}");
    let expected_rows = values
        .iter()
        .filter(|value| {
            let bytes = value.as_deref().unwrap_or_default();
            value.is_some() && check_row(bytes)
        })
        .count() as u64;
    assert_eq!(rows, expected_rows, "{summary}");
    let status = scenario.status();
    assert_eq!(status["lag"], 0, "{status}");
    assert_eq!(status["dead_letters"].as_u64(), Some(letters), "{status}");
    // The independent client counts the same rows.
    let counted = cqlsh(&format!("SELECT count(*) FROM {}", scenario.table()));
    assert!(
        stdout(&counted).contains(&format!(" {rows}\n")),
        "cqlsh counted:\n{}",
        stdout(&counted)
    );
}

/// The decoder's verdict, which the processor must follow.
fn check_row(value: &[u8]) -> bool {
    decode(value).is_ok()
}

/// Counts what the test producer's deliveries became.
#[derive(Default)]
struct Deliveries {
    delivered: AtomicUsize,
    failures: Mutex<Vec<String>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::SeqCst);
            }
            Err((error, _)) => self.failures.lock().unwrap().push(error.to_string()),
        }
    }
}
