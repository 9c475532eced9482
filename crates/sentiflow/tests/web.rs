//! The web layer from outside: `/metrics` read by the Prometheus org's own
//! parsers after real runs, `/readyz` while Cassandra hangs, `healthcheck`,
//! `serve`, and `status --max-lag`. The dashboard in a browser is in `browser.rs`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::services::*;
use crate::util::*;

/// A sentiflow command serving HTTP, its output collected as it comes.
pub struct Served {
    pub child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    pub url: String,
}

impl Served {
    /// Starts `command` (which must serve on 127.0.0.1:0) and waits for the
    /// address it prints.
    pub fn start(command: &mut Command) -> Served {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start sentiflow");
        let collect = |pipe: Box<dyn std::io::Read + Send>| {
            let text = Arc::new(Mutex::new(String::new()));
            let sink = Arc::clone(&text);
            let reader = std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut all = sink.lock().unwrap();
                    all.push_str(&line);
                    all.push('\n');
                }
            });
            (text, reader)
        };
        let (stdout, out_reader) = collect(Box::new(child.stdout.take().unwrap()));
        let (stderr, err_reader) = collect(Box::new(child.stderr.take().unwrap()));
        let mut served = Served {
            child,
            stdout,
            stderr,
            readers: vec![out_reader, err_reader],
            url: String::new(),
        };
        let found = wait_until(Duration::from_secs(60), || {
            served.stderr().contains("http://") || served.exited()
        });
        let err = served.stderr();
        assert!(
            found && !served.exited(),
            "sentiflow did not start serving:\n{err}"
        );
        // "http://HOST:PORT/..." on the line that names the address.
        let start = err.find("http://").unwrap() + "http://".len();
        let authority: String = err[start..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/' && *c != ',')
            .collect();
        served.url = format!("http://{authority}");
        served
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn exited(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// GET `path`: status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let answer =
            sentiflow::web::client::get(&format!("{}{path}", self.url), Duration::from_secs(10))
                .unwrap_or_else(|error| {
                    panic!("GET {path}: {error:#}\nstderr:\n{}", self.stderr())
                });
        (answer.status, answer.body)
    }

    /// `/metrics` in the classic text format or OpenMetrics.
    pub fn metrics(&self, openmetrics: bool) -> String {
        let url = format!("{}/metrics", self.url);
        let accept = if openmetrics {
            "application/openmetrics-text; version=1.0.0"
        } else {
            "text/plain"
        };
        // The minimal client sends no Accept header: ask by hand.
        let address = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "GET /metrics HTTP/1.1\r\nHost: {address}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut raw = String::new();
        std::io::Read::read_to_string(&mut stream, &mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let expected = if openmetrics {
            "application/openmetrics-text"
        } else {
            "text/plain; version=0.0.4"
        };
        assert!(head.to_ascii_lowercase().contains(expected), "{head}");
        body.to_owned()
    }

    /// Sends `signal` and waits for the end; returns stdout.
    pub fn stop(self, signal: &str) -> String {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.wait()
    }

    /// Waits for the end (a successful one); returns stdout.
    pub fn wait(mut self) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The pipes close with the process: the readers have everything.
                for reader in self.readers.drain(..) {
                    let _ = reader.join();
                }
                assert!(
                    status.success(),
                    "sentiflow exited with {status}\nstderr:\n{}",
                    self.stderr()
                );
                return self.stdout();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "sentiflow did not stop:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One sample, as the Prometheus org's parser read it.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct Sample {
    pub family: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Every sample of a scrape.
#[derive(Debug)]
pub struct Scrape(pub Vec<Sample>);

impl Scrape {
    /// The value of the sample `name` whose labels include `labels`; panics when none or several.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<&Sample> = self.find(name, labels);
        assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
        found[0].value
    }

    pub fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.0
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    pub fn sum(&self, name: &str) -> f64 {
        self.0
            .iter()
            .filter(|s| s.name == name)
            .map(|s| s.value)
            .sum()
    }
}

/// The virtualenv with `prometheus_client` (`scripts/web-test-deps`).
fn parser_python() -> PathBuf {
    let cache = std::env::var_os("SENTIFLOW_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/sentiflow")
        });
    let python = cache.join("venv-prometheus/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: these tests parse /metrics with Python's prometheus_client; install it with `scripts/web-test-deps` (or `make web-test-deps`)",
        python.display()
    );
    python
}

const PARSE: &str = r#"
import json, sys
if sys.argv[1] == "openmetrics":
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
else:
    from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append({"family": family.name, "type": family.type, "name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
"#;

/// Parses a scrape with `prometheus_client`'s strict parsers (OpenMetrics or the 0.0.4 text format).
pub fn parse(text: &str, openmetrics: bool) -> Scrape {
    let mut child = Command::new(parser_python())
        .args([
            "-c",
            PARSE,
            if openmetrics { "openmetrics" } else { "text" },
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused the scrape:\n{}\n---\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    Scrape(serde_json::from_slice(&out.stdout).unwrap())
}

/// Both formats, parsed; they must say the same.
pub fn scrape(served: &Served) -> Scrape {
    let openmetrics = parse(&served.metrics(true), true);
    let text = parse(&served.metrics(false), false);
    // The formats spell bucket bounds differently ("1.0" and "1"): compare them as numbers.
    let key = |s: &Sample| {
        let mut labels = s.labels.clone();
        if let Some(le) = labels.get_mut("le") {
            *le = le
                .parse::<f64>()
                .map_or_else(|_| le.clone(), |v| v.to_string());
        }
        (s.name.clone(), labels)
    };
    let values = |scrape: &Scrape| -> BTreeMap<_, f64> {
        scrape
            .0
            .iter()
            .filter(|s| !s.name.ends_with("_created"))
            .map(|s| (key(s), s.value))
            .collect()
    };
    // Conventions: counters end in _total, histograms are in seconds, all under sentiflow_.
    for sample in &openmetrics.0 {
        assert!(sample.name.starts_with("sentiflow_"), "{sample:?}");
        if sample.name.ends_with("_total") {
            assert_eq!(sample.kind, "counter", "{sample:?}");
            assert_eq!(format!("{}_total", sample.family), sample.name);
        }
        if sample.kind == "histogram" {
            assert!(sample.family.ends_with("_seconds"), "{sample:?}");
        }
    }
    let (a, b) = (values(&openmetrics), values(&text));
    // Both were scraped a moment apart: the same series, and for a finished pipeline the same values.
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    openmetrics
}

fn as_f64(summary: &serde_json::Value, field: &str) -> f64 {
    summary[field]
        .as_f64()
        .unwrap_or_else(|| panic!("no {field} in {summary}"))
}

/// The counters a pipeline's summary states, as `/metrics` must state them.
fn assert_counters_match_summary(
    metrics: &Scrape,
    summary: &serde_json::Value,
    source: &str,
    sink: &str,
    dead: &str,
) {
    assert_eq!(
        metrics.value(
            "sentiflow_component_received_events_total",
            &[("component", source)]
        ),
        as_f64(summary, "received")
    );
    assert_eq!(
        metrics.value(
            "sentiflow_component_sent_events_total",
            &[("component", sink), ("output", "rows")]
        ),
        as_f64(summary, "rows_written")
    );
    assert_eq!(
        metrics.value(
            "sentiflow_component_sent_events_total",
            &[("component", dead), ("output", "dead_letters")]
        ),
        as_f64(summary, "dead_letters")
    );
    for label in ["positive", "negative", "neutral"] {
        assert_eq!(
            metrics.value("sentiflow_rows_total", &[("label", label)]),
            as_f64(summary, label),
            "{label}"
        );
    }
    assert_eq!(
        metrics.sum("sentiflow_dead_letters_total"),
        as_f64(summary, "dead_letters")
    );
    assert_eq!(
        metrics.value("sentiflow_write_retries_total", &[]),
        as_f64(summary, "write_retries")
    );
    let waited = metrics.value("sentiflow_pipeline_wait_seconds_total", &[("on", "source")]);
    assert!(
        (waited - as_f64(summary, "waited_on_source_seconds")).abs() < 1e-3,
        "{waited}"
    );
    // Every batch written was timed.
    assert!(metrics.value("sentiflow_batch_duration_seconds_count", &[]) > 0.0);
    assert_eq!(
        metrics.value("sentiflow_batch_duration_seconds_bucket", &[("le", "+Inf")]),
        metrics.value("sentiflow_batch_duration_seconds_count", &[])
    );
    assert_eq!(metrics.value("sentiflow_ready", &[]), 1.0);
    assert_eq!(
        metrics
            .find(
                "sentiflow_build_info",
                &[("version", env!("CARGO_PKG_VERSION"))]
            )
            .len(),
        1
    );
}

#[test]
fn metrics_after_a_real_run_equal_its_summary_and_the_database() {
    let dir = temp_dir();
    let db = db_path(dir.path());
    let served = Served::start(sentiflow().arg("run").arg("--db").arg(&db).args([
        "--count",
        "5000",
        "--json",
        "--quiet",
        "--ui",
        "--metrics-addr",
        "127.0.0.1:0",
    ]));
    // With --ui the dashboard stays up after the run: its summary comes first.
    assert!(
        wait_until(Duration::from_secs(120), || served.stdout().contains('}')),
        "{}",
        served.stderr()
    );
    let summary: serde_json::Value = serde_json::from_str(served.stdout().trim()).unwrap();
    assert_eq!(summary["rows_written"], 5000);
    let metrics = scrape(&served);
    assert_counters_match_summary(
        &metrics,
        &summary,
        "memory_source",
        "sqlite_sink",
        "sqlite_sink",
    );
    assert_eq!(count_rows(&db), 5000);
    // No Kafka here: no lag series at all.
    assert!(
        metrics
            .find("sentiflow_kafka_consumer_lag_messages", &[])
            .is_empty()
    );
    assert_eq!(served.get("/healthz"), (200, "ok\n".to_owned()));
    assert_eq!(served.get("/readyz").0, 200);
    served.stop("TERM");
}

#[test]
fn metrics_of_a_real_process_equal_its_summary_and_lag_gauges_match_status() {
    let scenario = Scenario::new("metrics");
    scenario.setup();
    scenario.produce(&["--count", "4000", "--seed", "3"]);
    console_produce(
        &scenario.topic,
        &["{\"id\": 1, \"sentence\": 7}", "{not json"],
    );
    let served = Served::start(scenario.sentiflow().args([
        "process",
        "--json",
        "--quiet",
        "--metrics-addr",
        "127.0.0.1:0",
    ]));
    // Everything written, and the consumer's own view of the offsets caught up with the group's.
    let caught_up = wait_until(Duration::from_secs(120), || {
        let metrics = parse(&served.metrics(false), false);
        let done = metrics.sum("sentiflow_component_sent_events_total") >= 4002.0;
        let status = scenario.status();
        done && status["partitions"].as_array().unwrap().iter().all(|p| {
            let partition = p["partition"].to_string();
            let labels = [("partition", partition.as_str())];
            let gauge = |name: &str| metrics.find(name, &labels).first().map(|s| s.value);
            gauge("sentiflow_kafka_partition_end_offset") == p["end_offset"].as_f64()
                && gauge("sentiflow_kafka_consumer_committed_offset")
                    == p["committed_offset"].as_f64()
                && gauge("sentiflow_kafka_consumer_lag_messages") == p["lag"].as_f64()
        })
    });
    assert!(
        caught_up,
        "the lag gauges never matched `status`:\n{}",
        served.metrics(false)
    );
    let metrics = scrape(&served);
    let status = scenario.status();
    assert_eq!(status["lag"], 0);
    for partition in status["partitions"].as_array().unwrap() {
        let p = partition["partition"].to_string();
        let labels = [
            ("partition", p.as_str()),
            ("topic", scenario.topic.as_str()),
            ("group", scenario.group.as_str()),
        ];
        assert_eq!(
            metrics.value("sentiflow_kafka_consumer_lag_messages", &labels),
            0.0
        );
        assert_eq!(
            metrics.value("sentiflow_kafka_consumer_lag_seconds", &labels),
            0.0
        );
        assert_eq!(
            Some(metrics.value("sentiflow_kafka_partition_end_offset", &labels)),
            partition["end_offset"].as_f64()
        );
    }
    assert_eq!(
        metrics.value("sentiflow_kafka_consumer_assigned_partitions", &[]),
        2.0
    );
    assert!(metrics.value("sentiflow_kafka_consumer_rebalances_total", &[]) >= 1.0);
    assert_eq!(
        metrics.value(
            "sentiflow_dead_letters_total",
            &[("reason", "invalid_json")]
        ),
        1.0
    );
    assert_eq!(
        metrics.value(
            "sentiflow_dead_letters_total",
            &[("reason", "invalid_sentence")]
        ),
        1.0
    );
    assert_eq!(
        metrics.value("sentiflow_component_up", &[("component", "cassandra_sink")]),
        1.0
    );
    assert!(
        metrics.value(
            "sentiflow_sink_write_duration_seconds_count",
            &[("component", "cassandra_sink")]
        ) > 0.0
    );
    let stdout = served.stop("TERM");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_counters_match_summary(
        &metrics,
        &summary,
        "kafka_source",
        "cassandra_sink",
        "dead_letter_topic",
    );
    assert_eq!(summary["rows_written"], 4000);
}

/// Resumes a paused service when dropped, whatever happens in the test.
struct Paused(&'static str);

impl Paused {
    fn pause(service: &'static str) -> Paused {
        services(&["pause", service]);
        Paused(service)
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        let _ = script("services", &["resume", self.0]);
    }
}

#[test]
fn readyz_is_unready_while_cassandra_is_paused_and_ready_once_it_is_back() {
    let scenario = Scenario::new("readyz");
    scenario.setup();
    let served = Served::start(scenario.sentiflow().args([
        "process",
        "--quiet",
        "--metrics-addr",
        "127.0.0.1:0",
    ]));
    assert!(
        wait_until(Duration::from_secs(60), || served.get("/readyz").0 == 200),
        "never ready: {:?}",
        served.get("/readyz")
    );
    {
        let _paused = Paused::pause("cassandra");
        let unready = wait_until(Duration::from_secs(30), || served.get("/readyz").0 == 503);
        let (_, body) = served.get("/readyz");
        assert!(unready, "still ready with Cassandra paused: {body}");
        assert!(body.starts_with("not ready: cassandra"), "{body}");
        // Alive all along: a hung dependency is not a reason to restart the processor.
        assert_eq!(served.get("/healthz").0, 200);
        let metrics = parse(&served.metrics(false), false);
        assert_eq!(metrics.value("sentiflow_ready", &[]), 0.0);
    }
    assert!(
        wait_until(Duration::from_secs(90), || served.get("/readyz").0 == 200),
        "not ready again after Cassandra resumed: {:?}",
        served.get("/readyz")
    );
    served.stop("TERM");
}

#[test]
fn status_max_lag_exits_3_while_the_lag_is_over_it() {
    let scenario = Scenario::new("maxlag");
    scenario.setup();
    // `produce --rate` serves metrics too, while it runs.
    let producer = Served::start(scenario.sentiflow().args([
        "produce",
        "--count",
        "3000",
        "--rate",
        "100",
        "--json",
        "--metrics-addr",
        "127.0.0.1:0",
    ]));
    let sent = |metrics: &Scrape| {
        metrics.value(
            "sentiflow_component_sent_events_total",
            &[("component", "kafka_producer"), ("output", "messages")],
        )
    };
    // (Deliveries are counted as `produce` confirms them, in bulk: the value may still be 0.)
    let metrics = scrape(&producer);
    assert!(sent(&metrics) <= 3000.0);
    assert_eq!(
        metrics
            .find("sentiflow_build_info", &[("command", "produce")])
            .len(),
        1
    );
    let summary: serde_json::Value = serde_json::from_str(producer.wait().trim()).unwrap();
    assert_eq!(summary["sent"], 3000);
    let over = output(scenario.sentiflow().args(["status", "--max-lag", "2999"]));
    assert_eq!(over.status.code(), Some(3), "{}", stderr(&over));
    assert_eq!(
        stderr(&over).trim(),
        "total lag 3,000 is over --max-lag 2,999"
    );
    assert!(
        stdout(&over).contains("total lag 3,000"),
        "{}",
        stdout(&over)
    );
    let json = output(
        scenario
            .sentiflow()
            .args(["status", "--json", "--max-lag", "0"]),
    );
    assert_eq!(json.status.code(), Some(3));
    let status: serde_json::Value = serde_json::from_str(stdout(&json).trim()).unwrap();
    assert_eq!(status["lag_exceeded"], true);
    assert_eq!(status["max_lag"], 0);
    assert_success(&output(scenario.sentiflow().args([
        "status",
        "--max-lag",
        "3000",
    ])));
    scenario.process_until_idle("2");
    let caught_up = output(
        scenario
            .sentiflow()
            .args(["status", "--json", "--max-lag", "0"]),
    );
    assert_success(&caught_up);
    let status: serde_json::Value = serde_json::from_str(stdout(&caught_up).trim()).unwrap();
    assert_eq!(status["lag_exceeded"], false);
}

#[test]
fn healthcheck_says_healthy_while_a_server_answers_and_one_line_when_not() {
    let dir = temp_dir();
    let db = db_path(dir.path());
    let served = Served::start(sentiflow().arg("run").arg("--db").arg(&db).args([
        "--rate",
        "100",
        "--quiet",
        "--metrics-addr",
        "127.0.0.1:0",
    ]));
    let url = format!("{}/healthz", served.url);
    let healthy = output(sentiflow().args(["healthcheck", "--url", &url]));
    assert_success(&healthy);
    assert_eq!(
        stdout(&healthy).trim(),
        format!("healthy: {url} answered 200")
    );
    // The environment variable Docker's HEALTHCHECK sets.
    assert_success(&output(
        sentiflow()
            .arg("healthcheck")
            .env("SENTIFLOW_HEALTHCHECK_URL", &url),
    ));
    // Without --ui, no dashboard.
    assert_eq!(served.get("/").0, 404);
    served.stop("TERM");
    let down = output(sentiflow().args(["healthcheck", "--url", &url]));
    let line = one_line_error(&down, 1);
    assert!(line.contains("unhealthy") && line.contains(&url), "{line}");
}

#[test]
fn serve_shows_a_sqlite_file_and_two_servers_take_two_ports() {
    let dir = temp_dir();
    let db = db_path(dir.path());
    run_embedded(&db, &["--count", "300"]);
    // Both ask for the default port; the second takes the next one.
    let first = Served::start(sentiflow().arg("serve").arg("--db").arg(&db));
    let second = Served::start(sentiflow().arg("serve").arg("--db").arg(&db));
    assert_ne!(first.url, second.url);
    for served in [&first, &second] {
        assert!(wait_until(Duration::from_secs(30), || served
            .get("/readyz")
            .0
            == 200));
        let (status, page) = served.get("/");
        assert_eq!(status, 200);
        assert!(page.contains("id=\"v-store-positive\""), "{page}");
        let metrics = parse(&served.metrics(false), false);
        assert_eq!(metrics.sum("sentiflow_store_rows"), 300.0);
    }
    // As in a container: the dashboard on one address, metrics and health on another.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let split = Served::start(
        sentiflow()
            .arg("serve")
            .arg("--db")
            .arg(&db)
            .env("SENTIFLOW_LISTEN", "127.0.0.1:0")
            .env("SENTIFLOW_METRICS_ADDR", format!("127.0.0.1:{port}")),
    );
    assert_ne!(split.url, format!("http://127.0.0.1:{port}"));
    assert_eq!(split.get("/").0, 200);
    let other = |path: &str| {
        sentiflow::web::client::get(
            &format!("http://127.0.0.1:{port}{path}"),
            Duration::from_secs(10),
        )
        .unwrap()
        .status
    };
    assert_eq!(other("/healthz"), 200);
    assert_eq!(other("/metrics"), 200);
    assert_eq!(other("/"), 404, "only metrics and health there");
    split.stop("TERM");
    let missing = output(
        sentiflow()
            .args(["serve", "--db"])
            .arg(dir.path().join("nope.db")),
    );
    let line = one_line_error(&missing, 1);
    assert!(
        line.contains("nope.db") && line.contains("sentiflow run"),
        "{line}"
    );
    first.stop("TERM");
    second.stop("TERM");
}

/// Rows per label in the companion table over the last hour, through the dashboard's read path.
fn companion_counts(keyspace: &str) -> [u64; 3] {
    use sentiflow::sinks::cassandra::{CassandraOptions, Dashboard};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let options = CassandraOptions {
            hosts: vec![CASSANDRA.to_owned()],
            username: Some("cassandra".into()),
            password: Some("cassandra".into()),
            keyspace: keyspace.to_owned(),
            ..CassandraOptions::default()
        };
        let dashboard = Dashboard::open(&options).await.unwrap();
        assert!(dashboard.companion().is_some());
        let now = sentiflow::sinks::view::minute_of(sentiflow::record::now_ms());
        let mut counts = [0; 3];
        for back in 0..60 {
            let mix = dashboard.minute(now - back * 60_000).await.unwrap();
            counts[0] += mix.positive;
            counts[1] += mix.negative;
            counts[2] += mix.neutral;
        }
        counts
    })
}

#[test]
fn the_companion_table_counts_each_sentence_once_across_replays_and_older_tables_still_work() {
    let scenario = Scenario::new("companion");
    scenario.setup();
    // A table made before the companion table existed.
    let companion = format!("{}.sentimental_analysis_by_minute", scenario.keyspace);
    assert_success(&cqlsh(&format!("DROP TABLE {companion}")));
    scenario.produce(&["--count", "500", "--seed", "8"]);
    let without = output(scenario.sentiflow().args([
        "process",
        "--json",
        "--exit-when-idle",
        "2",
        "--log",
        "sentiflow=info",
    ]));
    assert_success(&without);
    assert!(
        stderr(&without).contains(&format!("table {companion} does not exist")),
        "{}",
        stderr(&without)
    );
    scenario.verify(8, 500);

    // `setup` adds it; two replays of the topic (fresh groups) write the same cells.
    let setup = stdout(&scenario.setup());
    assert!(
        setup.contains(&format!("created table {companion}")),
        "{setup}"
    );
    for group in ["replay_1", "replay_2"] {
        let replay = output(scenario.sentiflow().env("KAFKA_GROUP_ID", group).args([
            "process",
            "--json",
            "--exit-when-idle",
            "2",
        ]));
        assert_success(&replay);
    }
    let counts = companion_counts(&scenario.keyspace);
    assert_eq!(counts.iter().sum::<u64>(), 500, "{counts:?}");
    let status = scenario.status();
    assert_eq!(status["rows"], 500);
}
