//! Regression tests for the defects a review of the processor found (stalls,
//! wedges, lost logs), each named after the bug it pins, against the real
//! Kafka and Cassandra. Faults are real too: `scripts/services pause` freezes
//! a server with SIGSTOP, as a hung node would be.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::services::*;
use crate::util::*;

fn as_u64(value: &serde_json::Value, field: &str) -> u64 {
    value[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no {field} in {value}"))
}

/// True once a member's log says it was given at least one partition.
fn assigned_some(stderr: &str) -> bool {
    stderr
        .lines()
        .any(|line| line.contains("partitions assigned") && !line.contains("partitions=[]"))
}

/// Waits until something was committed for the scenario's group.
fn wait_for_progress(scenario: &Scenario, running: &Running) {
    let progressed = wait_until(Duration::from_secs(120), || {
        scenario.committed().values().any(|offset| *offset > 0)
    });
    assert!(
        progressed,
        "nothing was committed within 120 s:\n{}",
        running.stderr()
    );
}

#[test]
fn a_rebalance_while_paused_fetches_every_partition_again() {
    let scenario = Scenario::new("paused");
    scenario.setup();
    scenario.produce(&["--count", "40000", "--seed", "21"]);
    let member = [
        "--json",
        "--exit-when-idle",
        "4",
        "--batch-size",
        "100",
        "--pause-after",
        "1",
        "--drain-timeout",
        "3",
        "--log",
        "info",
        // A slow sink (one row per request, 8 in flight): a backlog is left when Cassandra hangs.
        "--cassandra-batch-bytes",
        "0",
        "--cassandra-concurrency",
        "8",
    ];
    let a = scenario.spawn_process(&member);
    let b = scenario.spawn_process(&member);
    let both = wait_until(Duration::from_secs(120), || {
        assigned_some(&a.stderr()) && assigned_some(&b.stderr())
    });
    assert!(both, "A:\n{}\nB:\n{}", a.stderr(), b.stderr());
    wait_for_progress(&scenario, &a);
    // Cassandra hangs: A's pipeline stops taking batches and A pauses fetching.
    let frozen = Frozen::freeze("cassandra");
    let logged = a.stderr().len();
    let paused = wait_until(Duration::from_secs(60), || {
        a.stderr()[logged..].contains("pausing fetching")
    });
    assert!(paused, "A never paused:\n{}", a.stderr());
    // B dies: after its session times out, the group gives every partition to
    // A, while A is paused.
    b.signal("KILL");
    let _ = b.finish(Duration::from_secs(30));
    let logged = a.stderr().len();
    let reassigned = wait_until(Duration::from_secs(120), || {
        a.stderr()[logged..].contains("partitions assigned partitions=[0, 1]")
    });
    assert!(reassigned, "A never got both partitions:\n{}", a.stderr());
    assert!(
        a.stderr()
            .contains("for the next owner, which reads them again"),
        "A did not say what it gave up at the drain timeout:\n{}",
        a.stderr()
    );
    drop(frozen);
    // A must fetch both partitions to their end: before the fix, a partition
    // it had paused was never fetched again after the reassignment.
    let (status, out, err) = a.finish(Duration::from_secs(300));
    assert!(status.success(), "{err}");
    let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(summary["ending"], "idle", "{summary}");
    scenario.verify(21, 40000);
    let status = scenario.status();
    assert_eq!(status["lag"], 0, "{status}");
}

#[test]
fn sigterm_while_a_revoke_drains_ends_well_before_the_drain_timeout() {
    let scenario = Scenario::new("termdrain");
    scenario.setup();
    scenario.produce(&["--count", "40000", "--seed", "22"]);
    // A slow sink (one insert at a time) with deep queues: a revoke has a lot to drain.
    let a = scenario.spawn_process(&[
        "--json",
        "--batch-size",
        "1000",
        "--cassandra-concurrency",
        "1",
        "--drain-timeout",
        "90",
        "--log",
        "info",
    ]);
    wait_for_progress(&scenario, &a);
    let b = scenario.spawn_process(&["--json", "--exit-when-idle", "3"]);
    let draining = wait_until(Duration::from_secs(60), || {
        a.stderr().contains("partitions revoked")
    });
    assert!(
        draining,
        "A was never asked to give partitions up:\n{}",
        a.stderr()
    );
    let signalled = Instant::now();
    a.signal("TERM");
    let (status_a, out_a, err_a) = a.finish(Duration::from_secs(120));
    let took = signalled.elapsed();
    assert!(status_a.success(), "{err_a}");
    // A generous bound that only catches the hang: waiting out the 90 s drain.
    assert!(
        took < Duration::from_secs(60),
        "A took {took:?} to stop during a revoke:\n{err_a}"
    );
    let a: serde_json::Value = serde_json::from_str(out_a.trim()).unwrap();
    let (status_b, out_b, err_b) = b.finish(Duration::from_secs(300));
    assert!(status_b.success(), "{err_b}");
    let b: serde_json::Value = serde_json::from_str(out_b.trim()).unwrap();
    // What A wrote it committed, and nothing more: B wrote exactly the rest.
    assert_eq!(
        as_u64(&a, "rows_written") + as_u64(&b, "rows_written"),
        40_000,
        "{a}\n{b}"
    );
    scenario.verify(22, 40_000);
}

#[test]
fn a_short_kafka_outage_is_waited_out_by_exit_when_idle() {
    let scenario = Scenario::new("kafkaout");
    scenario.setup();
    scenario.produce(&["--count", "5000", "--seed", "23"]);
    let a = scenario.spawn_process(&["--json", "--exit-when-idle", "6", "--log", "info"]);
    let caught_up = wait_until(Duration::from_secs(120), || scenario.status()["lag"] == 0);
    assert!(caught_up, "{}", a.stderr());
    // Kafka hangs while A checks whether it is idle.
    let frozen = Frozen::freeze("kafka");
    let noticed = wait_until(Duration::from_secs(90), || {
        a.stderr()
            .contains("cannot tell whether every partition is caught up")
    });
    assert!(noticed, "A never hit the outage:\n{}", a.stderr());
    drop(frozen);
    let (status, out, err) = a.finish(Duration::from_secs(180));
    assert!(status.success(), "{err}");
    let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(as_u64(&summary, "rows_written"), 5000, "{summary}");
    assert_eq!(summary["ending"], "idle");
}

#[test]
fn a_dead_letter_too_large_for_its_topic_is_cut_to_fit_and_the_partition_moves_on() {
    let scenario = Scenario::new("bigletter");
    scenario.setup();
    let dir = temp_dir();
    let file = dir.path().join("lines.txt");
    // lz4 lets the producer send this line to a 64000-byte topic; uncompressed
    // and with headers, its dead letter cannot fit.
    let huge = "great phone ".repeat(9_000);
    std::fs::write(
        &file,
        format!("before the big one\n{huge}\nafter the big one\n"),
    )
    .unwrap();
    let produced = scenario.produce(&["--from-file", file.to_str().unwrap()]);
    assert_eq!(as_u64(&produced, "sent"), 3, "{produced}");

    let processed = scenario.process_until_idle("3");
    assert_eq!(as_u64(&processed, "rows_written"), 2, "{processed}");
    assert_eq!(as_u64(&processed, "dead_letters"), 1, "{processed}");
    assert_eq!(scenario.status()["lag"], 0);

    let original = read_records(&scenario.topic, 3)
        .into_iter()
        .find(|record| record.value.len() > 100_000)
        .expect("the big message is in the topic");
    let letter = read_records(&format!("{}.dlq", scenario.topic), 1).remove(0);
    assert!(letter.value.len() < 64_000, "{} bytes", letter.value.len());
    assert!(original.value.starts_with(&letter.value), "not a prefix");
    assert_eq!(letter.key, original.key);
    assert_eq!(letter.header("sentiflow.truncated"), Some("true".into()));
    assert_eq!(
        letter.header("sentiflow.original.size"),
        Some(original.value.len().to_string())
    );
    let sha: String = Sha256::digest(&original.value)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(letter.header("sentiflow.original.sha256"), Some(sha));
    assert_eq!(
        letter.header("sentiflow.error.code"),
        Some("too_large".into())
    );
}

#[test]
fn a_missing_dead_letter_topic_is_a_one_line_error_at_start() {
    let scenario = Scenario::new("nodlq");
    scenario.setup();
    let out = output(scenario.sentiflow().args([
        "process",
        "--exit-when-idle",
        "1",
        "--dlq-topic",
        "no_such_dead_letters",
    ]));
    let err = one_line_error(&out, 1);
    assert!(
        err.contains("dead-letter topic no_such_dead_letters does not exist")
            && err.contains("sentiflow setup"),
        "{err}"
    );
}

#[test]
fn setup_creates_the_dead_letter_topic_process_writes_to() {
    let scenario = Scenario::new("dlqname");
    let dlq = format!("{}_letters", scenario.topic);
    let out = output(scenario.sentiflow().args([
        "setup",
        "--replication-factor",
        "1",
        "--min-insync-replicas",
        "1",
        "--dlq-topic",
        &dlq,
    ]));
    assert_success(&out);
    assert!(
        stdout(&out).contains(&format!("created topic {dlq}")),
        "{}",
        stdout(&out)
    );
    console_produce(&scenario.topic, &[r#"{"id": "x", "sentence": "bad id"}"#]);
    let out = output(scenario.sentiflow().args([
        "process",
        "--json",
        "--exit-when-idle",
        "2",
        "--dlq-topic",
        &dlq,
    ]));
    assert_success(&out);
    assert_eq!(read_records(&dlq, 1).len(), 1);
    let _ = kafka_tool(&["topics", "--delete", "--topic", &dlq]);
}

#[test]
fn an_offset_lost_to_retention_is_logged_and_counted() {
    let scenario = Scenario::new("reset");
    assert_success(&output(scenario.sentiflow().args([
        "setup",
        "--partitions",
        "1",
        "--replication-factor",
        "1",
        "--min-insync-replicas",
        "1",
    ])));
    scenario.produce(&["--count", "1000", "--seed", "24"]);
    scenario.process_until_idle("2");
    scenario.produce(&["--count", "1000", "--seed", "25"]);
    // Records 1000..1500 disappear before the group reads them (as retention would do).
    let dir = temp_dir();
    let plan = dir.path().join("delete.json");
    std::fs::write(
        &plan,
        serde_json::json!({"version": 1, "partitions": [{"topic": scenario.topic, "partition": 0, "offset": 1500}]})
            .to_string(),
    )
    .unwrap();
    let deleted = kafka_tool(&[
        "delete-records",
        "--offset-json-file",
        plan.to_str().unwrap(),
    ]);
    assert_success(&deleted);

    let out = output(scenario.sentiflow().args([
        "process",
        "--json",
        "--exit-when-idle",
        "2",
        "--log",
        "info",
    ]));
    assert_success(&out);
    let summary: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(as_u64(&summary, "rows_written"), 500, "{summary}");
    assert_eq!(as_u64(&summary, "offset_resets"), 1, "{summary}");
    assert_eq!(
        as_u64(&summary, "messages_skipped_by_resets"),
        500,
        "{summary}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("offset reset on partition 0")
            && err.contains("committed offset 1000")
            && err.contains("reading from 1500: 500 messages skipped"),
        "{err}"
    );
}

#[test]
fn a_file_line_that_is_not_utf8_is_reported_with_its_number_and_skipped() {
    let scenario = Scenario::new("badline");
    scenario.setup();
    let dir = temp_dir();
    let file = dir.path().join("lines.txt");
    std::fs::write(
        &file,
        b"first line is fine\nsecond \xff\xfe is not\nthird is fine\n",
    )
    .unwrap();
    let out = output(scenario.sentiflow().args([
        "produce",
        "--json",
        "--from-file",
        file.to_str().unwrap(),
    ]));
    assert_success(&out);
    let summary: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(
        (
            as_u64(&summary, "sent"),
            as_u64(&summary, "failed"),
            as_u64(&summary, "unknown"),
            as_u64(&summary, "skipped_lines")
        ),
        (2, 0, 0, 1),
        "{summary}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("lines.txt line 2 is not valid UTF-8: skipped"),
        "{err}"
    );
    // Logs to a pipe carry no colour codes.
    assert!(!err.contains('\u{1b}'), "colour codes in a pipe: {err:?}");
}
