//! Helpers for tests against the real Kafka and Cassandra that
//! `scripts/services up` starts (127.0.0.1:9092, 127.0.0.1:9042, cassandra/cassandra).
//!
//! A test that needs a service fails loudly when it is not there: it never skips.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::util::*;

pub const BROKERS: &str = "127.0.0.1:9092";
pub const CASSANDRA: &str = "127.0.0.1";

/// Tests that use the services run one at a time: some stop or freeze
/// Cassandra or Kafka, and all of them share two CPU cores with the services.
static SERVICES: Mutex<()> = Mutex::new(());

/// Exclusive use of the services: within this test binary (a mutex) and
/// across processes (a file lock next to the services' run folder, which
/// other test suites that stop services take too). Released on drop.
pub struct ServicesLock {
    _file: std::fs::File,
    _in_process: MutexGuard<'static, ()>,
}

/// Waits for exclusive use of the services.
pub fn exclusive() -> ServicesLock {
    let in_process = SERVICES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // The same run folder as scripts/services.d/lib.sh picks.
    let run = std::env::var_os("SENTIFLOW_RUN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("SENTIFLOW_CACHE")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                        .join(".cache/sentiflow")
                })
                .join("run")
        });
    std::fs::create_dir_all(&run).expect("cannot create the services' run folder");
    let path = run.join("tests.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|error| panic!("cannot open {}: {error}", path.display()));
    file.lock()
        .unwrap_or_else(|error| panic!("cannot lock {}: {error}", path.display()));
    ServicesLock {
        _file: file,
        _in_process: in_process,
    }
}

/// The repository root, where `scripts/` lives.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Unique topic, group and keyspace names for one test, and the lock that
/// keeps service tests from overlapping.
pub struct Scenario {
    pub topic: String,
    pub group: String,
    pub keyspace: String,
    _exclusive: ServicesLock,
}

impl Scenario {
    /// Checks both services answer and picks fresh names.
    pub fn new(name: &str) -> Scenario {
        let exclusive = exclusive();
        require_service("Kafka", "127.0.0.1:9092");
        require_service("Cassandra", "127.0.0.1:9042");
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let unique = format!(
            "{}_{}_{}",
            name,
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        Scenario {
            topic: format!("t_{unique}"),
            group: format!("g_{unique}"),
            keyspace: format!("k_{unique}").chars().take(48).collect(),
            _exclusive: exclusive,
        }
    }

    /// `sentiflow` with this scenario's topic, group, keyspace and credentials.
    pub fn sentiflow(&self) -> Command {
        let mut command = sentiflow();
        command
            .env("KAFKA_BOOTSTRAP_SERVERS", BROKERS)
            .env("KAFKA_TOPIC", &self.topic)
            .env("KAFKA_GROUP_ID", &self.group)
            .env("CASSANDRA_HOSTS", CASSANDRA)
            .env("CASSANDRA_KEYSPACE", &self.keyspace)
            .env("CASSANDRA_USERNAME", "cassandra")
            .env("CASSANDRA_PASSWORD", "cassandra")
            .env_remove("CASSANDRA_TABLE")
            .env_remove("KAFKA_DLQ_TOPIC");
        command
    }

    /// Topics (RF 1 on the one-broker test cluster), keyspace and table.
    pub fn setup(&self) -> Output {
        let out = output(self.sentiflow().args([
            "setup",
            "--partitions",
            "2",
            "--replication-factor",
            "1",
            "--min-insync-replicas",
            "1",
        ]));
        assert_success(&out);
        out
    }

    /// `sentiflow produce --json <args>` to completion; its summary.
    pub fn produce(&self, args: &[&str]) -> serde_json::Value {
        let out = output(self.sentiflow().args(["produce", "--json"]).args(args));
        assert_success(&out);
        serde_json::from_str(stdout(&out).trim()).expect("produce --json prints one JSON object")
    }

    /// `sentiflow process --json --exit-when-idle <idle>` to completion; its summary.
    pub fn process_until_idle(&self, idle_secs: &str) -> serde_json::Value {
        let out =
            output(
                self.sentiflow()
                    .args(["process", "--json", "--exit-when-idle", idle_secs]),
            );
        assert_success(&out);
        serde_json::from_str(stdout(&out).trim()).expect("process --json prints one JSON object")
    }

    /// A `sentiflow process` running in the background.
    pub fn spawn_process(&self, args: &[&str]) -> Running {
        Running::spawn(self.sentiflow().arg("process").args(args))
    }

    /// `sentiflow status --json`.
    pub fn status(&self) -> serde_json::Value {
        let out = output(self.sentiflow().args(["status", "--json"]));
        assert_success(&out);
        serde_json::from_str(stdout(&out).trim()).unwrap()
    }

    /// The committed offset of each partition (0 when none).
    pub fn committed(&self) -> BTreeMap<i32, i64> {
        self.status()["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["partition"].as_i64().unwrap() as i32,
                    p["committed_offset"].as_i64().unwrap_or(0),
                )
            })
            .collect()
    }

    /// `sentiflow verify`: every id of `seed` below `count` is stored.
    pub fn verify(&self, seed: u64, count: u64) {
        let out = output(self.sentiflow().args([
            "verify",
            "--seed",
            &seed.to_string(),
            "--count",
            &count.to_string(),
        ]));
        assert_success(&out);
    }

    /// The Cassandra table as `qualified` CQL name.
    pub fn table(&self) -> String {
        format!("{}.sentimental_analysis", self.keyspace)
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        // Best effort: leave the test cluster as we found it.
        let _ = cqlsh(&format!("DROP KEYSPACE IF EXISTS {}", self.keyspace));
        let _ = kafka_tool(&["topics", "--delete", "--topic", &self.topic]);
        let _ = kafka_tool(&[
            "topics",
            "--delete",
            "--topic",
            &format!("{}.dlq", self.topic),
        ]);
    }
}

/// A service frozen with SIGSTOP (`scripts/services pause`): it keeps its
/// sockets open and answers nothing, like a hung node. Thawed on drop, even
/// when the test fails.
pub struct Frozen(&'static str);

impl Frozen {
    pub fn freeze(service: &'static str) -> Frozen {
        services(&["pause", service]);
        Frozen(service)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = script("services", &["resume", self.0]);
    }
}

/// A service stopped (`scripts/services down`), started again by `start`, or
/// on drop when the test fails first: the next tests need it.
pub struct Stopped(Option<&'static str>);

impl Stopped {
    pub fn stop(service: &'static str) -> Stopped {
        services(&["down", service]);
        Stopped(Some(service))
    }

    pub fn start(mut self) {
        if let Some(service) = self.0.take() {
            services(&["up", service]);
        }
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        if let Some(service) = self.0.take() {
            let _ = script("services", &["up", service]);
        }
    }
}

/// Panics with advice when nothing listens at `address`.
pub fn require_service(name: &str, address: &str) {
    let reachable =
        std::net::TcpStream::connect_timeout(&address.parse().unwrap(), Duration::from_secs(3))
            .is_ok();
    assert!(
        reachable,
        "{name} is not running at {address}: these tests need the real services; start them with `scripts/services up`"
    );
}

/// Runs a repository script (`scripts/<name>`) to completion.
pub fn script(name: &str, args: &[&str]) -> Output {
    Command::new(repo_root().join("scripts").join(name))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run scripts/{name}: {error}"))
}

/// Runs `scripts/services <args>` and insists it succeeds.
pub fn services(args: &[&str]) {
    let out = script("services", args);
    assert!(
        out.status.success(),
        "scripts/services {args:?} failed:\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
}

/// Kafka's own CLI from the same jars as the broker.
pub fn kafka_tool(args: &[&str]) -> Output {
    script("kafka", args)
}

/// A record as it is in a topic, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaRecord {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl KafkaRecord {
    /// The first header called `name`, as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .and_then(|(_, value)| value.as_ref())
            .map(|value| String::from_utf8_lossy(value).into_owned())
    }
}

/// The first `count` records of `topic` (all partitions, from the start),
/// read with a plain librdkafka consumer outside any group.
pub fn read_records(topic: &str, count: usize) -> Vec<KafkaRecord> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::{Headers, Message};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", BROKERS)
        .set("group.id", "sentiflow-tests-reader")
        .set("enable.auto.commit", "false")
        .create()
        .expect("cannot create a test consumer");
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("cannot read the topic's metadata");
    let mut assignment = rdkafka::TopicPartitionList::new();
    for partition in metadata.topics()[0].partitions() {
        assignment
            .add_partition_offset(topic, partition.id(), rdkafka::Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&assignment).unwrap();
    let mut records = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while records.len() < count && Instant::now() < deadline {
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let message = message.expect("consumer error");
        records.push(KafkaRecord {
            partition: message.partition(),
            offset: message.offset(),
            key: message.key().map(<[u8]>::to_vec),
            value: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
            headers: message
                .headers()
                .map(|headers| {
                    headers
                        .iter()
                        .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    assert_eq!(
        records.len(),
        count,
        "{topic} holds fewer records than expected"
    );
    records
}

/// Runs CQL with cqlsh (the independent client) and returns its output.
pub fn cqlsh(cql: &str) -> Output {
    script("cqlsh", &["-e", cql])
}

/// Sends each line with Kafka's console producer, keys and all as typed.
pub fn console_produce(topic: &str, lines: &[&str]) {
    let mut child = Command::new(repo_root().join("scripts/kafka"))
        .args(["console-producer", "--topic", topic])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start the console producer");
    {
        let mut stdin = child.stdin.take().unwrap();
        for line in lines {
            writeln!(stdin, "{line}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert_success(&out);
}

/// A process in the background whose stderr is collected as it comes.
pub struct Running {
    pub child: Child,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn spawn(command: &mut Command) -> Running {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start sentiflow");
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        Running {
            child,
            stderr,
            stderr_reader: Some(reader),
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Resident memory now, from the kernel, in MiB.
    pub fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .map_or(0.0, |kib| kib / 1024.0)
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the end and returns the exit status, stdout and the collected stderr.
    pub fn finish(mut self, timeout: Duration) -> (std::process::ExitStatus, String, String) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stdout = String::new();
                self.child
                    .stdout
                    .take()
                    .unwrap()
                    .read_to_string(&mut stdout)
                    .unwrap();
                // The pipe closes when the process ends: the reader gets everything.
                if let Some(reader) = self.stderr_reader.take() {
                    let _ = reader.join();
                }
                return (status, stdout, self.stderr());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "sentiflow did not finish within {timeout:?}; stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
