//! Scenario 3, Cassandra node loss: 3 nodes, keyspace RF 3, LOCAL_QUORUM.
//! One node killed mid-run: writes go on. A second one killed: no quorum, the
//! processor waits with bounded memory and pauses fetching (the backlog stays
//! in Kafka). One node back: it resumes by itself. Nothing is lost.

use std::time::{Duration, Instant};

use crate::harness::*;

const COUNT: u64 = 60_000;
const RATE: &str = "400";
const SEED: u64 = 45;

#[test]
fn losing_one_then_two_cassandra_nodes_waits_with_bounded_memory_and_resumes() {
    let mut scenario = Scenario::new("cassandra_loss", Cluster::three_and_three());
    scenario.setup(&[
        "--partitions",
        "2",
        "--replication-factor",
        "3",
        "--min-insync-replicas",
        "2",
        "--cassandra-rf",
        "3",
    ]);
    let observer = scenario.observer();
    let mut processor = scenario.spawn(
        "process",
        &[
            "process",
            "--json",
            "--log",
            "info",
            "--consistency",
            "local-quorum",
            "--pause-after",
            "2",
        ],
    );
    processor.wait_for_log("partitions assigned", Duration::from_secs(120));
    let producer = scenario.spawn_producer(COUNT, RATE, SEED);
    observer.wait_while_running(
        "the processor at work",
        Duration::from_secs(120),
        &mut processor,
        |_, c| c >= 2000,
    );

    // One node of three down: a quorum (2) is still there.
    let (_, committed) = observer.totals().expect("offsets");
    let retries_before = processor.count("retrying in");
    scenario
        .cluster
        .services(&["kill", "cassandra", "--node", "3"]);
    let one_down = Instant::now();
    let went_on = observer.wait_while_running(
        "writes with one node down",
        Duration::from_secs(120),
        &mut processor,
        |_, c| c >= committed + 4000,
    );
    let retries_one_down = processor.count("retrying in") - retries_before;
    processor.assert_running("with one Cassandra node down");
    scenario
        .figures
        .add(
            "node 3 killed: 4,000 more rows committed in (s)",
            secs(went_on),
        )
        .add("write retries with one node down", retries_one_down);
    assert!(
        retries_one_down <= 20,
        "{retries_one_down} retries with one node of three down (a handful expected):\n{}",
        processor.stderr()
    );

    // Two of three down: LOCAL_QUORUM cannot be met. The pipeline stops
    // taking batches, the source pauses fetching, memory stays flat while
    // the producer keeps adding to the backlog in Kafka.
    let logged = processor.stderr().len();
    scenario
        .cluster
        .services(&["kill", "cassandra", "--node", "2"]);
    let two_down = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !processor.stderr()[logged..].contains("pausing fetching") {
        assert!(
            Instant::now() < deadline,
            "the processor never paused fetching:\n{}",
            processor.stderr()
        );
        processor.assert_running("with two Cassandra nodes down");
        std::thread::sleep(Duration::from_millis(100));
    }
    let paused_after = two_down.elapsed();
    let (end_at_pause, committed_at_pause) = observer.totals().expect("offsets");
    let rss_at_pause = processor.rss_mib();
    let mut rss_max = rss_at_pause;
    let watch = Instant::now();
    while watch.elapsed() < Duration::from_secs(20) {
        rss_max = rss_max.max(processor.rss_mib());
        processor.assert_running("while waiting for a quorum");
        std::thread::sleep(Duration::from_millis(500));
    }
    let (end_later, committed_later) = observer.totals().expect("offsets");
    scenario
        .figures
        .add(
            "node 2 killed: paused fetching after (s)",
            secs(paused_after),
        )
        .add(
            "backlog grown in Kafka while paused (messages)",
            end_later - end_at_pause,
        )
        .add(
            "processor RSS while paused: at pause / max over 20 s (MiB)",
            format!("{rss_at_pause:.0} / {rss_max:.0}"),
        );
    assert_eq!(
        committed_later, committed_at_pause,
        "offsets were committed without a quorum"
    );
    assert!(end_later > end_at_pause + 2000, "the producer stopped?");
    assert!(
        rss_max <= rss_at_pause + 64.0,
        "memory grew from {rss_at_pause:.0} to {rss_max:.0} MiB while paused"
    );
    // No quorum: the processor is alive but not ready.
    let unready = wait_for_readyz(&processor, 503, Duration::from_secs(30));
    assert!(
        unready,
        "/readyz did not answer 503 without a quorum:\n{}",
        processor.stderr()
    );

    // One node back: a quorum again; the processor resumes by itself.
    let logged = processor.stderr().len();
    let restart = Instant::now();
    let up = scenario
        .cluster
        .services(&["up", "cassandra", "--node", "2"]);
    let resumed = observer.wait_while_running(
        "processing after node 2 came back",
        Duration::from_secs(180),
        &mut processor,
        |_, c| c > committed_later,
    );
    assert!(
        processor.stderr()[logged..].contains("fetching"),
        "no resume in the log:\n{}",
        &processor.stderr()[logged..]
    );
    processor.assert_running("after the quorum came back");
    let ready = wait_for_readyz(&processor, 200, Duration::from_secs(60));
    assert!(
        ready,
        "/readyz did not answer 200 after the quorum came back:\n{}",
        processor.stderr()
    );
    let quorum_back = restart + up;
    scenario
        .figures
        .add("no quorum for (s)", secs(quorum_back - two_down))
        .add("node 2 restart: services up (s)", secs(up))
        .add(
            "node 2 answering to next commit (time to recover, s)",
            secs(resumed),
        );
    scenario
        .cluster
        .services(&["up", "cassandra", "--node", "3"]);
    scenario
        .figures
        .add("node 3 down for (s)", secs(one_down.elapsed()));

    let (status, out, err) = producer.finish(Duration::from_secs(600));
    assert!(status.success(), "produce failed:\n{out}\n{err}");
    observer.wait_while_running(
        "caught up",
        Duration::from_secs(600),
        &mut processor,
        |end, committed| end == COUNT as i64 && committed == end,
    );
    let retries_in_log = processor.count("retrying in");
    let summary = processor.stop(Duration::from_secs(60));
    scenario
        .figures
        .add("messages", COUNT)
        .add("rows written by the processor", &summary["rows_written"])
        .add("write retries in all", &summary["write_retries"])
        .add("retry lines in the log", retries_in_log);
    scenario.audit(&[seed_ids(SEED, COUNT)], &[], 0);
}

/// Whether the processor's `/readyz` (on the metrics address it printed)
/// answers `status` within `timeout`.
fn wait_for_readyz(processor: &Running, status: u16, timeout: Duration) -> bool {
    let url = format!("http://{}/readyz", processor.served_address());
    let deadline = Instant::now() + timeout;
    loop {
        let answered = sentiflow::web::client::get(&url, Duration::from_secs(5))
            .map(|answer| answer.status)
            .ok();
        if answered == Some(status) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
