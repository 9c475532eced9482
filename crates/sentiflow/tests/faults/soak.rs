//! The soak (`make soak`, not in CI): a steady 5,000 messages/s for 10
//! minutes or more (SOAK_MINUTES, SOAK_RATE) through one processor, with its
//! resident memory, CPU and end-to-end p99 latency (processed_at -
//! produced_at of a sample of rows, read back with `scripts/audit latency`)
//! sampled every 10 s. Passes when all three are flat (the slope of a
//! least-squares fit after the first minute, reported) and nothing is lost.
//!
//! Run it from a release build: `cargo test --release -p sentiflow --test
//! soak -- --nocapture`.

#![allow(dead_code)]

#[path = "../util.rs"]
mod util;

#[path = "harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::*;

const SEED: u64 = 48;
const SAMPLE_EVERY: Duration = Duration::from_secs(10);

fn env_number(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Least-squares slope of `points` (x, y), per unit of x.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (num, den) = points.iter().fold((0.0, 0.0), |(num, den), (x, y)| {
        (num + (x - mx) * (y - my), den + (x - mx) * (x - mx))
    });
    if den == 0.0 { 0.0 } else { num / den }
}

#[test]
fn a_steady_load_for_ten_minutes_keeps_memory_cpu_and_latency_flat() {
    let minutes = env_number("SOAK_MINUTES", 10.0);
    let rate = env_number("SOAK_RATE", 5000.0);
    let count = (minutes * 60.0 * rate) as u64;
    let mut scenario = Scenario::new("soak", Cluster::soak());
    scenario.setup(&[
        "--partitions",
        "2",
        "--replication-factor",
        "1",
        "--min-insync-replicas",
        "1",
    ]);
    let observer = scenario.observer();
    // With the dashboard served (its queries run while the soak does, when a browser polls).
    let mut processor = scenario.spawn("process", &["process", "--json", "--log", "info", "--ui"]);
    let producer = scenario.spawn_producer(count, &rate.to_string(), SEED);
    let started = Instant::now();
    let mut last_cpu = (Instant::now(), processor.cpu_seconds());
    // (minute, rss MiB, cpu %, p99 ms, lag)
    let mut samples: Vec<(f64, f64, f64, f64, i64)> = Vec::new();
    let mut next = started + SAMPLE_EVERY;
    eprintln!("[soak] minute   rss MiB   cpu %   p99 ms   p50 ms   lag");
    while started.elapsed().as_secs_f64() < minutes * 60.0 {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        next += SAMPLE_EVERY;
        processor.assert_running("during the soak");
        let now = Instant::now();
        let cpu = processor.cpu_seconds();
        let cpu_percent = (cpu - last_cpu.1) / (now - last_cpu.0).as_secs_f64() * 100.0;
        last_cpu = (now, cpu);
        let rss = processor.rss_mib();
        // The rows produced between 20 s and 10 s ago: processed by now.
        let t = started.elapsed().as_secs_f64();
        let window = if t > 20.0 {
            let first = ((t - 20.0) * rate) as u64;
            Some(scenario.cluster.audit_latency(
                &scenario.env,
                &scenario.keyspace,
                &format!("{SEED}:{first}:{}", (10.0 * rate) as u64),
                (rate / 50.0).max(1.0) as u64,
            ))
        } else {
            None
        };
        let (p99, p50) = window
            .as_ref()
            .map(|w| {
                (
                    w["p99_ms"].as_f64().unwrap_or(f64::NAN),
                    w["p50_ms"].as_f64().unwrap_or(f64::NAN),
                )
            })
            .unwrap_or((f64::NAN, f64::NAN));
        let lag = observer
            .totals()
            .map_or(-1, |(end, committed)| end - committed);
        eprintln!(
            "[soak] {:6.2}   {rss:7.1}   {cpu_percent:5.1}   {p99:6.0}   {p50:6.0}   {lag}",
            t / 60.0
        );
        samples.push((t / 60.0, rss, cpu_percent, p99, lag));
    }
    let (status, out, err) = producer.finish(Duration::from_secs(600));
    assert!(status.success(), "produce failed:\n{out}\n{err}");
    let produced: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    observer.wait_while_running(
        "caught up",
        Duration::from_secs(600),
        &mut processor,
        |end, committed| end == count as i64 && committed == end,
    );
    let summary = processor.stop(Duration::from_secs(60));

    // Flat: the slope after the first minute (JIT, caches and pools warm up).
    let steady: Vec<_> = samples.iter().filter(|s| s.0 >= 1.0).collect();
    assert!(steady.len() >= 6, "too few samples: {samples:?}");
    let fit = |f: fn(&(f64, f64, f64, f64, i64)) -> f64| {
        let points: Vec<(f64, f64)> = steady
            .iter()
            .map(|s| (s.0, f(s)))
            .filter(|(_, y)| y.is_finite())
            .collect();
        slope(&points)
    };
    let rss_slope = fit(|s| s.1);
    let cpu_slope = fit(|s| s.2);
    let p99_slope = fit(|s| s.3);
    let mean = |f: fn(&(f64, f64, f64, f64, i64)) -> f64| {
        steady
            .iter()
            .map(|s| f(s))
            .filter(|y| y.is_finite())
            .sum::<f64>()
            / steady.len() as f64
    };
    scenario
        .figures
        .add(
            "minutes, target rate (messages/s)",
            format!("{minutes}, {rate}"),
        )
        .add("messages", count)
        .add(
            "producer rate achieved (messages/s)",
            format!(
                "{:.0}",
                produced["messages_per_second"].as_f64().unwrap_or(0.0)
            ),
        )
        .add(
            "processor rows/s",
            format!("{:.0}", summary["rows_per_second"].as_f64().unwrap_or(0.0)),
        )
        .add(
            "RSS mean (MiB), slope (MiB/min)",
            format!("{:.1}, {rss_slope:+.2}", mean(|s| s.1)),
        )
        .add(
            "CPU mean (%), slope (points/min)",
            format!("{:.1}, {cpu_slope:+.2}", mean(|s| s.2)),
        )
        .add(
            "p99 latency mean (ms), slope (ms/min)",
            format!("{:.0}, {p99_slope:+.1}", mean(|s| s.3)),
        )
        .add(
            "max lag (messages)",
            steady.iter().map(|s| s.4).max().unwrap_or(0),
        );
    // Bounds that only catch a leak or a drift, not noise on a shared machine.
    assert!(rss_slope < 2.0, "RSS grows {rss_slope:.2} MiB/min");
    assert!(
        cpu_slope.abs() < 5.0,
        "CPU drifts {cpu_slope:.2} points/min"
    );
    assert!(p99_slope < 200.0, "p99 latency grows {p99_slope:.0} ms/min");
    scenario.audit(&[seed_ids(SEED, count)], &[], 0);
}
