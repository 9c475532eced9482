//! Scenario 1, broker loss: 3 brokers, topic RF 3 with min.insync.replicas 2.
//! The leader of a partition is killed with SIGKILL while `produce --rate`
//! and `process` run, and restarted later. Nothing is lost or duplicated, the
//! producer accounts for every message, the processor never stops.

use std::time::{Duration, Instant};

use crate::harness::*;
use crate::util::*;

const COUNT: u64 = 40_000;
const RATE: &str = "1000";
const SEED: u64 = 41;

#[test]
fn killing_a_partition_leader_mid_run_loses_and_duplicates_nothing() {
    let mut scenario = Scenario::new("broker_loss", Cluster::three_and_three());
    let out = scenario.setup(&[
        "--partitions",
        "2",
        "--replication-factor",
        "3",
        "--min-insync-replicas",
        "2",
        "--cassandra-rf",
        "1",
    ]);
    assert!(
        !stdout(&out).contains("tolerates no broker loss"),
        "RF 3 / min ISR 2 needs no warning:\n{}",
        stdout(&out)
    );
    let observer = scenario.observer();
    let mut processor = scenario.spawn(
        "process",
        &[
            "process",
            "--json",
            "--log",
            "info",
            "--drain-timeout",
            "10",
        ],
    );
    // The producer starts once the processor has its partitions: the leader
    // must die while both are at work.
    processor.wait_for_log("partitions assigned", Duration::from_secs(120));
    let producer = scenario.spawn_producer(COUNT, RATE, SEED);

    // A third of the way in, the leader of partition 0 dies.
    observer.wait_for("a third produced", Duration::from_secs(120), |end, _| {
        end >= COUNT as i64 / 3
    });
    observer.wait_while_running(
        "the processor at work",
        Duration::from_secs(120),
        &mut processor,
        |_, c| c > 0,
    );
    let (end, _) = observer.totals().expect("offsets before the kill");
    assert!(
        end < COUNT as i64 * 3 / 4,
        "the producer is nearly done ({end} of {COUNT}) before the processor committed anything: the kill would not be mid-run (machine too loaded?)"
    );
    let before = scenario.cluster.partitions(&scenario.topic);
    let leader = before[0].leader;
    assert!(leader >= 1, "partition 0 has no leader: {before:?}");
    let ends_at_kill = observer.ends().expect("end offsets before the kill");
    let committed_at_kill = observer.committed(2).expect("committed before the kill");
    let killed = Instant::now();
    scenario
        .cluster
        .services(&["kill", "kafka", "--node", &leader.to_string()]);
    scenario.figures.add(
        "killed (SIGKILL)",
        format!("broker {leader}, leader of partition 0"),
    );

    // Writes to partition 0 resume once a new leader is elected (the two
    // other replicas are in sync: min.insync.replicas 2 still holds).
    let mut partition0_writes = None;
    let mut processing = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut said = Instant::now();
    while (partition0_writes.is_none() || processing.is_none()) && Instant::now() < deadline {
        let ends = observer.ends();
        let committed = observer.committed(2);
        if said.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "[broker_loss] {:.0} s after the kill: end offsets {ends:?} (at the kill {ends_at_kill:?}), committed {committed:?}",
                killed.elapsed().as_secs_f64()
            );
            said = Instant::now();
        }
        if let Some(ends) = ends
            && partition0_writes.is_none()
            && ends[0] > ends_at_kill[0] + 100
        {
            partition0_writes = Some(killed.elapsed());
        }
        if let Some(committed) = committed
            && processing.is_none()
            && committed[0] > committed_at_kill[0] + 100
        {
            processing = Some(killed.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    processor.assert_running("after the broker was killed");
    let partition0_writes = partition0_writes.expect("writes to partition 0 never resumed");
    let processing = processing.expect("the processor never committed partition 0 again");
    scenario
        .figures
        .add(
            "writes to partition 0 resumed after (s)",
            secs(partition0_writes),
        )
        .add("commits on partition 0 resumed after (s)", secs(processing));
    let after = scenario.cluster.partitions(&scenario.topic);
    assert_ne!(after[0].leader, leader, "no new leader: {after:?}");

    // The producer finishes without the dead broker and accounts for all.
    let (status, out, err) = producer.finish(Duration::from_secs(300));
    let produced: serde_json::Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|_| panic!("produce printed no summary ({status}):\n{err}"));
    assert!(status.success(), "produce failed: {produced}\n{err}");
    assert_eq!(produced["sent"], COUNT, "{produced}");
    assert_eq!(produced["failed"], 0, "{produced}");
    assert_eq!(produced["unknown"], 0, "{produced}");
    scenario
        .figures
        .add("produced (sent/failed/unknown)", format!("{}/0/0", COUNT));

    // The broker comes back and catches up.
    let restarted = Instant::now();
    let up = scenario.cluster.services(&["up", "kafka"]);
    let isr_deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let state = scenario.cluster.partitions(&scenario.topic);
        if state.iter().all(|p| p.isr.len() == 3) {
            break;
        }
        assert!(
            Instant::now() < isr_deadline,
            "the restarted broker never rejoined every ISR: {state:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    scenario
        .figures
        .add("broker restart: services up (s)", secs(up))
        .add("broker restart to full ISR (s)", secs(restarted.elapsed()));

    let caught_up = observer.wait_while_running(
        "caught up",
        Duration::from_secs(300),
        &mut processor,
        |end, committed| end == COUNT as i64 && committed == end,
    );
    processor.assert_running("at the end of the run");
    scenario
        .figures
        .add("time from restart to lag 0 (s)", secs(restarted.elapsed()))
        .add("drained the backlog in (s)", secs(caught_up));
    let retries_in_log = processor.count("retrying in");
    let summary = processor.stop(Duration::from_secs(60));
    scenario
        .figures
        .add("messages", COUNT)
        .add("rows written by the processor", &summary["rows_written"])
        .add("write retries", &summary["write_retries"])
        .add("retry lines in the log", retries_in_log)
        .add("rebalances", &summary["rebalances"]);
    assert_eq!(summary["dead_letters"], 0, "{summary}");

    // No record was appended twice (the idempotent producer's retries).
    let records = scenario.cluster.records_in(&scenario.topic);
    scenario.figures.add("records in the topic", records);
    assert_eq!(records, COUNT as i64, "duplicate or missing appends");
    scenario.audit(&[seed_ids(SEED, COUNT)], &[], 0);
}
