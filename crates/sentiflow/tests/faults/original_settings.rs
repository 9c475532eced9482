//! Scenario 2, the original stack's settings: replication factor 2 with
//! min.insync.replicas 2 on 3 brokers, one broker killed. Writes to the
//! partitions with a replica on it stop (acks=all cannot be met): `setup` has
//! warned, `produce` reports the failures clearly and loses nothing it claims
//! sent; once the broker is back, everything completes.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::harness::*;
use crate::util::*;

const COUNT: u64 = 5_000;
const BEFORE: u64 = 42;
const DURING: u64 = 43;
const AFTER: u64 = 44;
const IDS_PER_SEED: i64 = 10_000_000_000;

#[test]
fn rf_2_with_min_isr_2_stops_writes_on_a_broker_loss_and_says_so() {
    let mut scenario = Scenario::new("original_settings", Cluster::three_and_three());
    let out = scenario.setup(&[
        "--partitions",
        "2",
        "--replication-factor",
        "2",
        "--min-insync-replicas",
        "2",
        "--cassandra-rf",
        "1",
    ]);
    let text = stdout(&out);
    assert!(
        text.contains(
            "warning: replication factor 2 with min.insync.replicas 2 tolerates no broker loss for writes"
        ) && text.contains("--replication-factor 3"),
        "setup did not warn:\n{text}"
    );
    scenario
        .figures
        .add("setup warned", "yes (suggests --replication-factor 3)");

    let (out, before) =
        scenario.produce(&["--count", &COUNT.to_string(), "--seed", &BEFORE.to_string()]);
    assert_success(&out);
    assert_eq!(before["sent"], COUNT, "{before}");
    let observer = scenario.observer();
    let mut processor = scenario.spawn("process", &["process", "--json", "--log", "info"]);

    // The broker holding the most replicas of the topic dies.
    let state = scenario.cluster.partitions(&scenario.topic);
    let victim = (1..=3)
        .max_by_key(|b| state.iter().filter(|p| p.replicas.contains(b)).count())
        .unwrap();
    let stopped: Vec<i32> = state
        .iter()
        .filter(|p| p.replicas.contains(&victim))
        .map(|p| p.partition)
        .collect();
    scenario
        .cluster
        .services(&["kill", "kafka", "--node", &victim.to_string()]);
    let killed = Instant::now();
    scenario.figures.add(
        "killed (SIGKILL)",
        format!("broker {victim}, a replica of partitions {stopped:?}"),
    );

    // While it is down: the messages of those partitions are not taken.
    let records_before = scenario.cluster.records_in(&scenario.topic);
    let (out, during) = scenario.produce(&[
        "--count",
        &COUNT.to_string(),
        "--seed",
        &DURING.to_string(),
        "--delivery-timeout",
        "15",
    ]);
    let err = stderr(&out);
    let (sent, failed, unknown) = (
        during["sent"].as_u64().unwrap(),
        during["failed"].as_u64().unwrap(),
        during["unknown"].as_u64().unwrap(),
    );
    assert_eq!(
        sent + failed + unknown,
        COUNT,
        "unaccounted messages: {during}"
    );
    assert!(
        failed + unknown > 0,
        "nothing failed with a broker down: {during}"
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "produce must fail: {during}\n{err}"
    );
    let last = err.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: ")
            && last.contains(&format!(
                "were not confirmed ({sent} sent, {failed} failed, {unknown} unknown)"
            ))
            && last.contains("--delivery-timeout")
            && last.contains("min.insync.replicas"),
        "unclear failure report: {last}"
    );
    scenario
        .figures
        .add(
            "produce during the loss (sent/failed/unknown)",
            format!("{sent}/{failed}/{unknown}"),
        )
        .add("its error", last.trim_start_matches("error: "));

    // Nothing it claimed sent is missing from the topic, nothing is there twice.
    let dir = temp_dir();
    let appended = scenario.cluster.records_in(&scenario.topic) - records_before;
    let keys = scenario.cluster.keys_in(&scenario.topic);
    let during_keys: Vec<i64> = keys
        .iter()
        .copied()
        .filter(|id| id / IDS_PER_SEED == DURING as i64)
        .collect();
    let distinct: BTreeSet<i64> = during_keys.iter().copied().collect();
    assert_eq!(
        during_keys.len() as i64,
        appended,
        "keys of other seeds appended"
    );
    assert_eq!(
        distinct.len(),
        during_keys.len(),
        "a record was appended twice"
    );
    assert!(
        appended >= sent as i64 && appended <= COUNT as i64,
        "{appended} records appended for {sent} claimed sent"
    );
    scenario.figures.add(
        "records of the failed run in the topic",
        format!("{appended} (claimed sent: {sent})"),
    );
    processor.assert_running("with a broker down");

    // The broker comes back; a run with the same settings completes, and the
    // failed run's seed is produced again, as its error message advises.
    let restarted = Instant::now();
    scenario.cluster.services(&["up", "kafka"]);
    let deadline = Instant::now() + Duration::from_secs(180);
    while !scenario
        .cluster
        .partitions(&scenario.topic)
        .iter()
        .all(|p| p.isr.len() == 2)
    {
        assert!(
            Instant::now() < deadline,
            "the broker never rejoined the ISRs"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    scenario
        .figures
        .add("broker down for (s)", secs(killed.elapsed()))
        .add("restart to full ISR (s)", secs(restarted.elapsed()));
    for seed in [AFTER, DURING] {
        let (out, summary) =
            scenario.produce(&["--count", &COUNT.to_string(), "--seed", &seed.to_string()]);
        assert_success(&out);
        assert_eq!(summary["sent"], COUNT, "{summary}");
    }
    let total = scenario.cluster.records_in(&scenario.topic);
    observer.wait_while_running(
        "caught up",
        Duration::from_secs(300),
        &mut processor,
        |end, committed| end == total && committed == end,
    );
    processor.assert_running("at the end");
    let summary = processor.stop(Duration::from_secs(60));
    scenario
        .figures
        .add("messages (records in the topic)", total)
        .add("rows written by the processor", &summary["rows_written"])
        .add("write retries", &summary["write_retries"]);
    let file = dir.path().join("during.ids");
    write_ids(&file, &distinct);
    scenario.audit(
        &[
            seed_ids(BEFORE, COUNT),
            seed_ids(AFTER, COUNT),
            seed_ids(DURING, COUNT),
        ],
        &[file],
        0,
    );
}
