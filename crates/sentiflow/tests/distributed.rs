//! setup, produce, process, status and verify against the real Kafka and
//! Cassandra started by `scripts/services up`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use futures_util::TryStreamExt;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use crate::services::*;
use crate::util::*;

/// A row as stored, read back with the driver.
#[derive(Debug, Clone, PartialEq)]
struct StoredRow {
    sentence: String,
    label: String,
    scores: (f64, f64, f64, f64),
    source: (Option<i32>, Option<i64>),
}

/// Every row of the scenario's table, by id.
fn stored_rows(keyspace: &str) -> HashMap<i64, StoredRow> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let session = scylla::client::session_builder::SessionBuilder::new()
            .known_node("127.0.0.1:9042")
            .user("cassandra", "cassandra")
            .build()
            .await
            .expect("cannot connect to Cassandra");
        let mut select = scylla::statement::Statement::new(format!(
            "SELECT id, sentence, sentimental_analysis, compound, pos, neu, neg, source_partition, source_offset \
             FROM {keyspace}.sentimental_analysis"
        ));
        select.set_page_size(5000);
        type Row = (i64, String, String, f64, f64, f64, f64, Option<i32>, Option<i64>);
        let mut rows = session
            .query_iter(select, ())
            .await
            .unwrap()
            .rows_stream::<Row>()
            .unwrap();
        let mut all = HashMap::new();
        while let Some((id, sentence, label, compound, pos, neu, neg, partition, offset)) = rows.try_next().await.unwrap() {
            let row = StoredRow {
                sentence,
                label,
                scores: (compound, pos, neu, neg),
                source: (partition, offset),
            };
            assert!(all.insert(id, row).is_none(), "id {id} read twice");
        }
        all
    })
}

fn as_u64(value: &serde_json::Value, field: &str) -> u64 {
    value[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no {field} in {value}"))
}

#[test]
fn setup_is_idempotent_and_says_what_already_exists() {
    let scenario = Scenario::new("setup");
    let first = stdout(&scenario.setup());
    assert!(
        first.contains(&format!("created topic {}", scenario.topic)),
        "{first}"
    );
    assert!(
        first.contains(&format!("created topic {}.dlq", scenario.topic)),
        "{first}"
    );
    let second = stdout(&scenario.setup());
    assert!(
        second.contains(&format!("topic {} already exists", scenario.topic)),
        "{second}"
    );
    assert!(second.to_lowercase().contains("already exist"), "{second}");
    // The original stack's defaults cannot fit a one-broker cluster: setup says so and adapts.
    let out = output(scenario.sentiflow().args([
        "setup",
        "--only",
        "kafka",
        "--topic",
        &format!("{}_rf", scenario.topic),
    ]));
    assert_success(&out);
    assert!(
        stdout(&out).contains("warning: replication factor 2 asked"),
        "{}",
        stdout(&out)
    );
    let _ = kafka_tool(&[
        "topics",
        "--delete",
        "--topic",
        &format!("{}_rf", scenario.topic),
    ]);
    let _ = kafka_tool(&[
        "topics",
        "--delete",
        "--topic",
        &format!("{}_rf.dlq", scenario.topic),
    ]);
}

#[test]
fn produce_100k_then_process_gives_exactly_100k_rows_scored_like_score() {
    let scenario = Scenario::new("e2e");
    scenario.setup();
    let produced = scenario.produce(&["--count", "100000", "--seed", "5"]);
    assert_eq!(as_u64(&produced, "sent"), 100_000);
    assert_eq!(as_u64(&produced, "failed"), 0);

    let processed = scenario.process_until_idle("3");
    assert_eq!(as_u64(&processed, "rows_written"), 100_000, "{processed}");
    assert_eq!(as_u64(&processed, "dead_letters"), 0);
    // The rate is over the processing alone; the wall time also holds start-up and the idle
    // wait (3 s counted from the last message received, which may overlap the last writes).
    let processing = processed["processing_seconds"].as_f64().unwrap();
    let elapsed = processed["elapsed_seconds"].as_f64().unwrap();
    assert!(processing < elapsed && elapsed >= 3.0, "{processed}");
    let rate = processed["rows_per_second"].as_f64().unwrap();
    assert!((rate * processing - 100_000.0).abs() < 1.0, "{processed}");

    let rows = stored_rows(&scenario.keyspace);
    assert_eq!(rows.len(), 100_000);
    let first = 5 * 10_000_000_000i64;
    assert!(rows.keys().all(|id| (first..first + 100_000).contains(id)));

    // The same sentences through `sentiflow score --jsonl` give the same scores and labels.
    let mut input = String::new();
    let ids: Vec<i64> = rows.keys().copied().collect();
    for id in &ids {
        input.push_str(&serde_json::json!({"id": id, "sentence": rows[id].sentence}).to_string());
        input.push('\n');
    }
    let mut child = sentiflow()
        .args(["score", "--jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert_success(&out);
    let mut compared = 0;
    for line in stdout(&out).lines() {
        let scored: serde_json::Value = serde_json::from_str(line).unwrap();
        let row = &rows[&scored["id"].as_i64().unwrap()];
        let expected = (
            scored["compound"].as_f64().unwrap(),
            scored["pos"].as_f64().unwrap(),
            scored["neu"].as_f64().unwrap(),
            scored["neg"].as_f64().unwrap(),
        );
        assert_eq!(row.scores, expected, "{}", row.sentence);
        assert_eq!(row.label, scored["label"].as_str().unwrap());
        compared += 1;
    }
    assert_eq!(compared, 100_000);

    // status agrees: nothing left to read, every row counted.
    let status = scenario.status();
    assert_eq!(status["lag"], 0, "{status}");
    assert_eq!(status["dead_letters"], 0);
    scenario.verify(5, 100000);
}

#[test]
fn two_processors_in_one_group_split_the_partitions_and_write_every_row_once() {
    let scenario = Scenario::new("group");
    scenario.setup();
    scenario.produce(&["--count", "60000", "--seed", "6"]);
    // A slow first member (one insert at a time) has batches in flight when
    // the second one joins: the revoke must drain them before handing over.
    let slow = [
        "--json",
        "--exit-when-idle",
        "5",
        "--batch-size",
        "500",
        "--cassandra-concurrency",
        "1",
        "--log",
        "info",
    ];
    let a = scenario.spawn_process(&slow);
    let started = wait_until(Duration::from_secs(120), || {
        scenario.committed().values().any(|offset| *offset > 0)
    });
    assert!(started, "{}", a.stderr());
    let b = scenario.spawn_process(&slow);
    let (status_a, out_a, err_a) = a.finish(Duration::from_secs(400));
    let (status_b, out_b, err_b) = b.finish(Duration::from_secs(400));
    assert!(status_a.success(), "{err_a}");
    assert!(status_b.success(), "{err_b}");
    assert!(
        err_a.contains("partitions revoked"),
        "A was never asked to hand partitions over:\n{err_a}"
    );
    let a: serde_json::Value = serde_json::from_str(out_a.trim()).unwrap();
    let b: serde_json::Value = serde_json::from_str(out_b.trim()).unwrap();
    let (written_a, written_b) = (as_u64(&a, "rows_written"), as_u64(&b, "rows_written"));
    assert!(
        written_a > 0 && written_b > 0,
        "both members must get a partition: {written_a} and {written_b}"
    );
    // Revokes drain and commit before handing over: no sentence is written twice.
    assert_eq!(written_a + written_b, 60_000, "{a}\n{b}");
    assert_eq!(stored_rows(&scenario.keyspace).len(), 60_000);
}

#[test]
fn kill_9_mid_run_commits_no_offset_past_an_unwritten_row_and_a_restart_loses_nothing() {
    let scenario = Scenario::new("kill");
    scenario.setup();
    scenario.produce(&["--count", "200000", "--seed", "7"]);
    // A slow sink (one row per request, 4 in flight) so that the kill lands
    // mid-run even when checking the committed offsets takes seconds.
    let running = scenario.spawn_process(&[
        "--batch-size",
        "500",
        "--cassandra-batch-bytes",
        "0",
        "--cassandra-concurrency",
        "4",
    ]);
    let started = wait_until(Duration::from_secs(120), || {
        let status = scenario.status();
        let committed: i64 = status["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["committed_offset"].as_i64().unwrap_or(0))
            .sum();
        committed >= 30_000
    });
    assert!(
        started,
        "nothing was committed within 120 s:\n{}",
        running.stderr()
    );
    running.signal("KILL");
    let (status, _, _) = running.finish(Duration::from_secs(10));
    assert!(!status.success());

    // Every offset below a partition's committed offset has its row.
    let committed: BTreeMap<i32, i64> = scenario.status()["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["partition"].as_i64().unwrap() as i32,
                p["committed_offset"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    let rows = stored_rows(&scenario.keyspace);
    assert!(
        rows.len() < 200_000,
        "the kill came too late to prove anything"
    );
    let written: HashSet<(i32, i64)> = rows
        .values()
        .map(|row| (row.source.0.unwrap(), row.source.1.unwrap()))
        .collect();
    for (partition, committed) in &committed {
        for offset in 0..*committed {
            assert!(
                written.contains(&(*partition, offset)),
                "partition {partition} committed {committed} but offset {offset} has no row"
            );
        }
    }

    let resumed = scenario.process_until_idle("3");
    assert_eq!(as_u64(&resumed, "dead_letters"), 0);
    scenario.verify(7, 200_000);
    assert_eq!(stored_rows(&scenario.keyspace).len(), 200_000);
}

#[test]
fn sigterm_mid_run_drains_commits_everything_written_and_exits_cleanly() {
    let scenario = Scenario::new("term");
    scenario.setup();
    scenario.produce(&["--count", "150000", "--seed", "9"]);
    // A slow sink (one row per request, 8 in flight) so that the signal lands mid-run.
    let running = scenario.spawn_process(&[
        "--json",
        "--cassandra-batch-bytes",
        "0",
        "--cassandra-concurrency",
        "8",
    ]);
    let started = wait_until(Duration::from_secs(120), || {
        scenario.status()["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["committed_offset"].as_i64().unwrap_or(0) > 10_000)
    });
    assert!(
        started,
        "nothing was committed within 120 s:\n{}",
        running.stderr()
    );
    running.signal("TERM");
    let (status, out, err) = running.finish(Duration::from_secs(60));
    assert!(status.success(), "{err}");
    let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(summary["ending"], "interrupted", "{summary}");

    // Everything written was committed, and nothing past it: the restart
    // starts exactly where this run stopped.
    let rows = stored_rows(&scenario.keyspace);
    assert_eq!(
        as_u64(&summary, "rows_written"),
        rows.len() as u64,
        "{summary}"
    );
    assert!(
        rows.len() < 150_000,
        "the signal came too late to prove anything"
    );
    let mut written_through: BTreeMap<i32, i64> = BTreeMap::new();
    for row in rows.values() {
        let (partition, offset) = (row.source.0.unwrap(), row.source.1.unwrap());
        let highest = written_through.entry(partition).or_insert(-1);
        *highest = (*highest).max(offset);
    }
    for p in scenario.status()["partitions"].as_array().unwrap() {
        let partition = p["partition"].as_i64().unwrap() as i32;
        let committed = p["committed_offset"].as_i64().unwrap_or(0);
        assert_eq!(
            committed,
            written_through.get(&partition).map_or(0, |last| last + 1),
            "partition {partition}: committed offset and rows written disagree"
        );
    }
    let resumed = scenario.process_until_idle("3");
    assert_eq!(
        as_u64(&resumed, "rows_written") + rows.len() as u64,
        150_000,
        "{resumed}"
    );
    scenario.verify(9, 150_000);
}

#[test]
fn produce_from_file_sends_each_nonblank_line_with_an_id_from_its_line_number() {
    let scenario = Scenario::new("file");
    scenario.setup();
    let dir = temp_dir();
    let file = dir.path().join("reviews.txt");
    std::fs::write(
        &file,
        "Great phone, love it!\n\nTerrible battery.\r\nThe box is blue.\n",
    )
    .unwrap();
    let produced = scenario.produce(&["--from-file", file.to_str().unwrap(), "--seed", "3"]);
    assert_eq!(as_u64(&produced, "sent"), 3, "{produced}");
    scenario.process_until_idle("2");
    let rows = stored_rows(&scenario.keyspace);
    // Lines have ids of their own, apart from generated sentences.
    let base = sentiflow::ids::file_line_id(3, 0).unwrap();
    let by_id = |line: i64| {
        rows.get(&(base + line))
            .map(|row| (row.sentence.as_str(), row.label.as_str()))
    };
    assert_eq!(rows.len(), 3);
    assert_eq!(by_id(0), Some(("Great phone, love it!", "positive")));
    assert_eq!(by_id(2), Some(("Terrible battery.", "negative")));
    assert_eq!(by_id(3), Some(("The box is blue.", "neutral")));
}

#[test]
fn cassandra_stopped_mid_run_the_processor_waits_with_bounded_memory_and_resumes() {
    let scenario = Scenario::new("outage");
    scenario.setup();
    scenario.produce(&["--count", "150000", "--seed", "8"]);
    let running = scenario.spawn_process(&[
        "--json",
        "--exit-when-idle",
        "5",
        "--pause-after",
        "1",
        "--log",
        "info",
        // A slow sink (one row per request, 8 in flight): work is left when Cassandra stops.
        "--cassandra-batch-bytes",
        "0",
        "--cassandra-concurrency",
        "8",
    ]);
    let rows_before = wait_until(Duration::from_secs(120), || {
        scenario.status()["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["committed_offset"].as_i64().unwrap_or(0) > 5_000)
    });
    assert!(
        rows_before,
        "no progress before the outage:\n{}",
        running.stderr()
    );

    let stopped = Stopped::stop("cassandra");
    let waiting = wait_until(Duration::from_secs(60), || {
        running.stderr().contains("retrying")
    });
    assert!(
        waiting,
        "the processor never said it was retrying:\n{}",
        running.stderr()
    );
    // While Cassandra is down the backlog stays in Kafka, not in memory.
    let mut peak: f64 = 0.0;
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < until {
        peak = peak.max(running.rss_mib());
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        peak > 0.0 && peak < 150.0,
        "resident memory reached {peak:.0} MiB during the outage"
    );
    // The backlog stayed in Kafka because the source paused fetching.
    assert!(
        running.stderr().contains("pausing fetching"),
        "the source never paused:\n{}",
        running.stderr()
    );

    stopped.start();
    let (status, out, err) = running.finish(Duration::from_secs(600));
    assert!(status.success(), "{err}");
    let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(as_u64(&summary, "write_retries") > 0, "{summary}");
    scenario.verify(8, 150000);
}

#[test]
fn malformed_messages_go_to_the_dead_letter_topic_with_their_reason() {
    let scenario = Scenario::new("dlq");
    scenario.setup();
    // Kafka's own console producer: plain text, bad JSON shapes and types, an empty sentence.
    console_produce(
        &scenario.topic,
        &[
            "a plain line from the console, rather good",
            r#"{"id": 1, "sentence": "valid JSON, a wonderful day", "ts": 1700000000000}"#,
            r#"{"id": 2, "sentence": "#,
            r#"{"id": "three", "sentence": "id is a string"}"#,
            r#"{"id": 4, "sentence": 4}"#,
            r#"{"id": 5, "sentence": "   "}"#,
            r#"{"sentence": "no id"}"#,
            r#"{"id": -2, "sentence": "a negative id would collide with plain-text ids"}"#,
        ],
    );
    // Another independent client (librdkafka) for what a console cannot type:
    // bytes that are not UTF-8, a long value, no value, and headers.
    let producer: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", BROKERS)
        .create()
        .unwrap();
    let long = "x".repeat(20_000);
    let headers = rdkafka::message::OwnedHeaders::new().insert(rdkafka::message::Header {
        key: "trace-id",
        value: Some(&b"\x00\x01 binary"[..]),
    });
    for value in [&b"invalid \xff\xfe utf-8"[..], long.as_bytes()] {
        producer
            .send(
                BaseRecord::<[u8], [u8]>::to(&scenario.topic)
                    .key(&b"k\xffey"[..])
                    .payload(value)
                    .headers(headers.clone()),
            )
            .map_err(|(e, _)| e)
            .unwrap();
    }
    producer
        .send(BaseRecord::<[u8], [u8]>::to(&scenario.topic).key(&b"null"[..]))
        .map_err(|(e, _)| e)
        .unwrap();
    producer.flush(Duration::from_secs(30)).unwrap();

    let processed = scenario.process_until_idle("3");
    let messages_in = 11;
    assert_eq!(as_u64(&processed, "rows_written"), 2, "{processed}");
    assert_eq!(as_u64(&processed, "dead_letters"), 9, "{processed}");
    assert_eq!(
        as_u64(&processed, "rows_written") + as_u64(&processed, "dead_letters"),
        messages_in
    );

    // Each dead letter is its original message byte for byte (key, value,
    // headers), followed by headers saying why and where from.
    let originals = read_records(&scenario.topic, messages_in as usize);
    let letters = read_records(&format!("{}.dlq", scenario.topic), 9);
    let mut reasons = String::new();
    for letter in &letters {
        let partition: i32 = letter
            .header("sentiflow.source.partition")
            .unwrap()
            .parse()
            .unwrap();
        let offset: i64 = letter
            .header("sentiflow.source.offset")
            .unwrap()
            .parse()
            .unwrap();
        let original = originals
            .iter()
            .find(|o| (o.partition, o.offset) == (partition, offset))
            .expect("a dead letter names a message that exists");
        assert_eq!(letter.key, original.key);
        assert_eq!(letter.value, original.value);
        assert_eq!(
            letter.headers[..original.headers.len()],
            original.headers[..],
            "the original headers come first, unchanged"
        );
        assert_eq!(
            letter.header("sentiflow.source.topic").as_deref(),
            Some(scenario.topic.as_str())
        );
        assert_eq!(
            letter.header("sentiflow.error.stage").as_deref(),
            Some("decode")
        );
        reasons.push_str(&letter.header("sentiflow.error.reason").unwrap());
        reasons.push('\n');
    }
    for reason in [
        "not a JSON object",
        "\"id\" must be a non-negative integer",
        "\"sentence\" must be a string",
        "the sentence is empty",
        "not valid UTF-8",
        "over the limit",
        "no value",
    ] {
        assert!(
            reasons.contains(reason),
            "no dead letter says {reason:?}:\n{reasons}"
        );
    }
    assert_eq!(
        reasons.matches("must be a non-negative integer").count(),
        2,
        "{reasons}"
    );
    assert_eq!(scenario.status()["dead_letters"], 9);
}

#[test]
fn plain_text_rows_get_ids_from_topic_partition_and_offset() {
    let scenario = Scenario::new("plain");
    scenario.setup();
    console_produce(
        &scenario.topic,
        &[
            "I absolutely love this plain text line",
            "and this one is awful",
        ],
    );
    let processed = scenario.process_until_idle("3");
    assert_eq!(as_u64(&processed, "rows_written"), 2, "{processed}");
    let tag = sentiflow::ids::topic_tag(&scenario.topic);
    for (id, row) in stored_rows(&scenario.keyspace) {
        let (partition, offset) = (row.source.0.unwrap(), row.source.1.unwrap());
        assert_eq!(
            Some(id),
            sentiflow::ids::plain_text_id(tag, partition, offset),
            "{}",
            row.sentence
        );
        assert!(id < 0, "plain-text ids are negative");
    }
}

#[test]
fn the_original_readme_table_works_and_a_row_it_cannot_hold_is_a_dead_letter_byte_for_byte() {
    let scenario = Scenario::new("readme");
    // The original stack's README creates the keyspace and table by hand, like this.
    let created = cqlsh(&format!(
        "CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}; \
         CREATE TABLE {ks}.sentimental_analysis (id int primary key, sentence text, sentimental_analysis text);",
        ks = scenario.keyspace
    ));
    assert_success(&created);
    assert_success(&output(scenario.sentiflow().args([
        "setup",
        "--only",
        "kafka",
        "--replication-factor",
        "1",
        "--min-insync-replicas",
        "1",
    ])));
    console_produce(
        &scenario.topic,
        &[r#"{"id": 42, "sentence": "a terrible, horrible JSON line"}"#],
    );
    let producer: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", BROKERS)
        .create()
        .unwrap();
    let too_big = br#"{"id": 30000000001, "sentence": "an id too big for int"}"#;
    producer
        .send(
            BaseRecord::<[u8], [u8]>::to(&scenario.topic)
                .key(&b"30000000001"[..])
                .payload(&too_big[..])
                .headers(
                    rdkafka::message::OwnedHeaders::new().insert(rdkafka::message::Header {
                        key: "origin",
                        value: Some(&b"web"[..]),
                    }),
                ),
        )
        .map_err(|(e, _)| e)
        .unwrap();
    producer.flush(Duration::from_secs(30)).unwrap();

    // The default log level: the original table is a supported layout, not a fault.
    let out = output(
        scenario
            .sentiflow()
            .args(["process", "--json", "--exit-when-idle", "3"]),
    );
    assert_success(&out);
    assert!(!stderr(&out).contains("WARN"), "{}", stderr(&out));
    let processed: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(as_u64(&processed, "rows_written"), 1, "{processed}");
    assert_eq!(as_u64(&processed, "dead_letters"), 1, "{processed}");

    let selected = cqlsh(&format!(
        "SELECT id, sentence, sentimental_analysis FROM {}",
        scenario.table()
    ));
    assert_success(&selected);
    let table = stdout(&selected);
    assert!(
        table.contains(" 42 ") && table.contains("negative"),
        "{table}"
    );
    assert!(table.contains("(1 rows)"), "{table}");

    // The write stage's dead letter is the message as it came, not a re-encoding.
    let letter = read_records(&format!("{}.dlq", scenario.topic), 1).remove(0);
    assert_eq!(letter.value, too_big);
    assert_eq!(letter.key.as_deref(), Some(&b"30000000001"[..]));
    assert_eq!(
        letter.headers[0],
        ("origin".to_owned(), Some(b"web".to_vec()))
    );
    assert_eq!(
        letter.header("sentiflow.error.stage").as_deref(),
        Some("write")
    );
    assert_eq!(
        letter.header("sentiflow.error.code").as_deref(),
        Some("id_out_of_range")
    );
    assert!(
        letter
            .header("sentiflow.error.reason")
            .unwrap()
            .contains("does not fit"),
        "{letter:?}"
    );
}

#[test]
fn a_wrong_cassandra_password_is_one_line_without_the_password() {
    let scenario = Scenario::new("auth");
    scenario.setup();
    let out = output(
        scenario
            .sentiflow()
            .env("CASSANDRA_PASSWORD", "not-the-Secret-42")
            .args(["process", "--exit-when-idle", "1"]),
    );
    let err = one_line_error(&out, 1);
    assert!(
        err.contains("Cassandra") && err.contains("CASSANDRA_PASSWORD"),
        "{err}"
    );
    assert!(
        !err.contains("not-the-Secret-42"),
        "the password leaked: {err}"
    );
}

#[test]
fn an_unreachable_broker_is_one_line_naming_it_and_what_to_do() {
    let out = output(sentiflow().args(["produce", "--count", "1", "--brokers", "127.0.0.1:1"]));
    let err = one_line_error(&out, 1);
    assert!(
        err.contains("127.0.0.1:1") && err.contains("scripts/services up kafka"),
        "{err}"
    );

    let out = output(sentiflow().args(["process", "--brokers", "127.0.0.1:1"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot reach Kafka at 127.0.0.1:1"),
        "{}",
        stderr(&out)
    );
}
