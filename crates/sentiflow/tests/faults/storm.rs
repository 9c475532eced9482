//! Scenario 4, a rebalance storm: a 6-partition topic, a steady producer, and
//! for two minutes processors started and stopped at random (SIGTERM or
//! SIGKILL, 1 to 4 alive). Every id lands exactly once; the figures say how
//! many rows were written twice (idempotent re-writes after a kill or a
//! drain timeout) and the longest stall.

use std::time::{Duration, Instant};

use crate::harness::*;

const COUNT: u64 = 150_000;
const RATE: &str = "1000";
const SEED: u64 = 46;
const STORM: Duration = Duration::from_secs(120);

/// xorshift64*: the storm is the same for the same FAULTS_SEED.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn processors_started_and_killed_at_random_for_two_minutes_lose_nothing() {
    let mut scenario = Scenario::new("storm", Cluster::three_and_three());
    scenario.setup(&[
        "--partitions",
        "6",
        "--replication-factor",
        "3",
        "--min-insync-replicas",
        "2",
        "--cassandra-rf",
        "1",
    ]);
    let seed = std::env::var("FAULTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    scenario.figures.add("dice (FAULTS_SEED to replay)", seed);
    let mut dice = Dice(seed);
    let observer = scenario.observer();
    let producer = scenario.spawn_producer(COUNT, RATE, SEED);
    let member = [
        "process",
        "--json",
        "--log",
        "info",
        "--drain-timeout",
        "10",
    ];
    let mut alive: Vec<Running> = Vec::new();
    // Members stopped with SIGTERM, and when: each must exit 0 after its drain.
    let mut terminating: Vec<(Running, Instant)> = Vec::new();
    let mut killed: Vec<Running> = Vec::new();
    let mut started = 0;
    let (mut terms, mut kills, mut most) = (0, 0, 0);
    let mut samples = Vec::new();
    let storm = Instant::now();
    let mut next_action = Instant::now();
    while storm.elapsed() < STORM {
        if Instant::now() >= next_action {
            let start = match alive.len() {
                0 => true,
                4 => false,
                _ => dice.below(2) == 0,
            };
            if start {
                started += 1;
                alive.push(scenario.spawn(&format!("process-{started}"), &member));
            } else {
                let victim = alive.remove(dice.below(alive.len() as u64) as usize);
                if dice.below(2) == 0 {
                    victim.signal("TERM");
                    terms += 1;
                    terminating.push((victim, Instant::now()));
                } else {
                    victim.signal("KILL");
                    kills += 1;
                    killed.push(victim);
                }
            }
            most = most.max(alive.len());
            next_action = Instant::now() + Duration::from_millis(2000 + dice.below(4000));
        }
        if let Some((end, committed)) = observer.totals() {
            samples.push((Instant::now(), committed, end));
        }
        reap(&mut terminating);
        std::thread::sleep(Duration::from_millis(250));
    }
    scenario
        .figures
        .add("processors started", started)
        .add(
            "stopped with SIGTERM / SIGKILL",
            format!("{terms} / {kills}"),
        )
        .add("most alive at once", most);

    // The producer ends; the members still alive finish the work.
    let (status, out, err) = producer.finish(Duration::from_secs(600));
    assert!(status.success(), "produce failed:\n{out}\n{err}");
    if alive.is_empty() {
        alive.push(scenario.spawn("process-last", &member));
    }
    observer.wait_for("caught up", Duration::from_secs(600), |end, committed| {
        end == COUNT as i64 && committed == end
    });
    for member in &mut alive {
        member.assert_running("at the end of the storm");
    }
    for member in alive {
        member.stop(Duration::from_secs(60));
    }
    while !terminating.is_empty() {
        reap(&mut terminating);
        std::thread::sleep(Duration::from_millis(100));
    }
    for member in killed {
        let (status, _, _) = member.finish(Duration::from_secs(10));
        assert!(!status.success(), "a member killed with SIGKILL exited 0");
    }

    let stall = longest_stall(&samples);
    let writes = scenario
        .cluster
        .local_writes(&scenario.keyspace, "sentimental_analysis");
    scenario
        .figures
        .add("messages", COUNT)
        .add("inserts Cassandra took (nodetool, RF 1)", writes)
        .add(
            "rows written twice (idempotent re-writes)",
            writes.saturating_sub(COUNT),
        )
        .add("longest stall: no commit while lag > 0 (s)", secs(stall));
    assert!(writes >= COUNT, "fewer inserts ({writes}) than rows");
    scenario.audit(&[seed_ids(SEED, COUNT)], &[], 0);
}

/// Members stopped with SIGTERM that have exited must have exited 0, and
/// within their drain timeout (10 s) plus a generous margin.
fn reap(terminating: &mut Vec<(Running, Instant)>) {
    let mut i = 0;
    while i < terminating.len() {
        let (member, since) = &mut terminating[i];
        if member.is_running() {
            assert!(
                since.elapsed() < Duration::from_secs(60),
                "a member still runs 60 s after SIGTERM:\n{}",
                member.stderr()
            );
            i += 1;
            continue;
        }
        let (member, _) = terminating.remove(i);
        let (status, _, err) = member.finish(Duration::from_secs(1));
        assert!(
            status.success(),
            "a member stopped with SIGTERM exited {status}:\n{err}"
        );
    }
}
