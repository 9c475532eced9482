//! What every fault scenario needs: its own clusters (started by
//! `scripts/services` in a run folder of their own, on ports and addresses of
//! their own, beside the shared services), the real `sentiflow` binary, faults
//! (`scripts/services kill|pause ... --node N`), and the independent audit:
//! ids read back with `scripts/audit` (the Python driver), offsets and records
//! read with Kafka's own Java tools.
//!
//! A scenario fails loudly when something is missing; it never skips.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::Value;

use crate::util::*;

/// Scenarios run one at a time: they share the clusters and two CPU cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn cache_dir() -> PathBuf {
    std::env::var_os("SENTIFLOW_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sentiflow")
        })
}

/// A set of services in a run folder of its own (`scripts/services` with
/// SENTIFLOW_RUN and the port/address variables of docs/services.md).
#[derive(Clone, Debug)]
pub struct Cluster {
    pub run: PathBuf,
    pub kafka_port: u16,
    pub controller_port: u16,
    /// Node 1's address; node N is the same + N - 1.
    pub cassandra_address: String,
    pub jmx_port: u16,
    pub kafka_nodes: u8,
    pub cassandra_nodes: u8,
    pub secure: bool,
}

/// Where a cluster lives and listens unless its environment variables say
/// otherwise (`<PREFIX>_RUN`, `<PREFIX>_KAFKA_PORT`, ...).
struct Defaults {
    prefix: &'static str,
    run_folder: &'static str,
    kafka_port: &'static str,
    controller_port: &'static str,
    cassandra_address: &'static str,
    jmx_port: &'static str,
    nodes: u8,
    secure: bool,
}

impl Cluster {
    /// The fault tests' clusters: 3 brokers on 127.0.0.1:29092-29094 and 3
    /// Cassandra nodes on 127.0.1.1-3 (FAULTS_RUN, FAULTS_KAFKA_PORT, ...).
    pub fn three_and_three() -> Cluster {
        Cluster::configured(Defaults {
            prefix: "FAULTS",
            run_folder: "run-faults",
            kafka_port: "29092",
            controller_port: "29192",
            cassandra_address: "127.0.1.1",
            jmx_port: "17199",
            nodes: 3,
            secure: false,
        })
    }

    /// The soak's pair: one broker on 127.0.0.1:29492, one Cassandra node on
    /// 127.0.3.1 (SOAK_RUN, SOAK_KAFKA_PORT, ...): the soak measures
    /// sentiflow, not the replication of a cluster on two cores.
    pub fn soak() -> Cluster {
        Cluster::configured(Defaults {
            prefix: "SOAK",
            run_folder: "run-soak",
            kafka_port: "29492",
            controller_port: "29592",
            cassandra_address: "127.0.3.1",
            jmx_port: "17399",
            nodes: 1,
            secure: false,
        })
    }

    /// The security scenario's pair: `up --secure`, one broker on
    /// 127.0.0.1:29292, one Cassandra node on 127.0.2.1 (FAULTS_SECURE_*).
    pub fn secured() -> Cluster {
        Cluster::configured(Defaults {
            prefix: "FAULTS_SECURE",
            run_folder: "run-secure",
            kafka_port: "29292",
            controller_port: "29392",
            cassandra_address: "127.0.2.1",
            jmx_port: "17299",
            nodes: 1,
            secure: true,
        })
    }

    fn configured(defaults: Defaults) -> Cluster {
        let var =
            |name: &str, default: &str| env_or(&format!("{}_{name}", defaults.prefix), default);
        let port = |name: &str, default: &str| {
            let value = var(name, default);
            value.parse().unwrap_or_else(|_| {
                panic!(
                    "{}_{name} must be a port number, not {value:?}",
                    defaults.prefix
                )
            })
        };
        Cluster {
            run: std::env::var_os(format!("{}_RUN", defaults.prefix))
                .map(PathBuf::from)
                .unwrap_or_else(|| cache_dir().join(defaults.run_folder)),
            kafka_port: port("KAFKA_PORT", defaults.kafka_port),
            controller_port: port("KAFKA_CONTROLLER_PORT", defaults.controller_port),
            cassandra_address: var("CASSANDRA_ADDRESS", defaults.cassandra_address),
            jmx_port: port("CASSANDRA_JMX_PORT", defaults.jmx_port),
            kafka_nodes: defaults.nodes,
            cassandra_nodes: defaults.nodes,
            secure: defaults.secure,
        }
    }

    fn env(&self, command: &mut Command) {
        command
            .env("SENTIFLOW_RUN", &self.run)
            .env("SENTIFLOW_KAFKA_PORT", self.kafka_port.to_string())
            .env(
                "SENTIFLOW_KAFKA_CONTROLLER_PORT",
                self.controller_port.to_string(),
            )
            .env("SENTIFLOW_CASSANDRA_ADDRESS", &self.cassandra_address)
            .env("SENTIFLOW_CASSANDRA_JMX_PORT", self.jmx_port.to_string())
            .env("SENTIFLOW_KAFKA_BOOTSTRAP", self.brokers())
            .env_remove("SENTIFLOW_KAFKA_NODES")
            .env_remove("SENTIFLOW_CASSANDRA_NODES")
            .env_remove("CQLSH_HOST")
            .env_remove("CQLSH_PORT");
    }

    /// `scripts/<name> <args>` against this cluster, to the end.
    pub fn script(&self, name: &str, args: &[&str]) -> Output {
        let mut command = Command::new(repo_root().join("scripts").join(name));
        self.env(&mut command);
        command
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|error| panic!("cannot run scripts/{name}: {error}"))
    }

    /// `scripts/services <args>`, which must succeed; returns how long it took.
    pub fn services(&self, args: &[&str]) -> Duration {
        let started = Instant::now();
        let out = self.script("services", args);
        assert!(
            out.status.success(),
            "scripts/services {args:?} failed:\n{}\n{}",
            stdout(&out),
            stderr(&out)
        );
        started.elapsed()
    }

    /// Starts what is missing (a node killed by an earlier scenario
    /// included) and returns when every node answers.
    pub fn up(&self) -> Duration {
        let kafka = self.kafka_nodes.to_string();
        let cassandra = self.cassandra_nodes.to_string();
        let mut args = vec![
            "up",
            "--kafka-nodes",
            kafka.as_str(),
            "--cassandra-nodes",
            cassandra.as_str(),
        ];
        if self.secure {
            args.push("--secure");
        }
        let took = self.services(&args);
        eprintln!(
            "[harness] services up in {}: {} in {:.0} s",
            self.run.display(),
            self.describe(),
            took.as_secs_f64()
        );
        took
    }

    pub fn describe(&self) -> String {
        format!(
            "{} Kafka broker(s) at {}, {} Cassandra node(s) at {}{}",
            self.kafka_nodes,
            self.brokers(),
            self.cassandra_nodes,
            self.cassandra_hosts(),
            if self.secure { " (SASL_SSL + TLS)" } else { "" }
        )
    }

    pub fn brokers(&self) -> String {
        (0..self.kafka_nodes)
            .map(|i| format!("127.0.0.1:{}", self.kafka_port + u16::from(i)))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn cassandra_address(&self, node: u8) -> String {
        let (prefix, last) = self.cassandra_address.rsplit_once('.').unwrap();
        format!("{prefix}.{}", last.parse::<u8>().unwrap() + node - 1)
    }

    pub fn cassandra_hosts(&self) -> String {
        (1..=self.cassandra_nodes)
            .map(|node| self.cassandra_address(node))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The settings `up --secure` wrote for clients (credentials.env).
    pub fn credentials(&self) -> BTreeMap<String, String> {
        let path = self.run.join("secure/credentials.env");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// Every password `up --secure` generated (for the leak checks).
    pub fn passwords(&self) -> Vec<String> {
        let path = self.run.join("secure/passwords.env");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once('='))
            .map(|(_, v)| v.to_owned())
            .collect()
    }

    /// Kafka's own CLI (Java), logged in when the cluster is secured.
    pub fn kafka_tool(&self, args: &[&str]) -> Output {
        self.script("kafka", args)
    }

    /// Leader, replicas and in-sync replicas of each partition, from
    /// `kafka-topics --describe`.
    pub fn partitions(&self, topic: &str) -> Vec<PartitionState> {
        let out = self.kafka_tool(&["topics", "--describe", "--topic", topic]);
        assert_success(&out);
        stdout(&out)
            .lines()
            .filter(|line| line.contains("Partition:"))
            .map(|line| {
                let field = |name: &str| {
                    line.split('\t')
                        .find_map(|part| part.trim().strip_prefix(name))
                        .map(str::trim)
                        .unwrap_or_default()
                        .to_owned()
                };
                let list = |name: &str| -> Vec<i32> {
                    field(name)
                        .split(',')
                        .filter_map(|n| n.trim().parse().ok())
                        .collect()
                };
                PartitionState {
                    partition: field("Partition:").parse().unwrap(),
                    leader: field("Leader:").parse().unwrap_or(-1),
                    replicas: list("Replicas:"),
                    isr: list("Isr:"),
                }
            })
            .collect()
    }

    /// Sum of the end offsets of a topic, from `kafka-get-offsets`.
    pub fn records_in(&self, topic: &str) -> i64 {
        let out = self.kafka_tool(&["get-offsets", "--topic", topic]);
        assert_success(&out);
        stdout(&out)
            .lines()
            .filter_map(|line| line.rsplit(':').next())
            .filter_map(|n| n.trim().parse::<i64>().ok())
            .sum()
    }

    /// (partition, committed, end) of `group` on `topic`, from
    /// `kafka-consumer-groups --describe`.
    pub fn group_offsets(&self, group: &str, topic: &str) -> Vec<(i32, Option<i64>, i64)> {
        let out = self.kafka_tool(&["consumer-groups", "--describe", "--group", group]);
        assert_success(&out);
        stdout(&out)
            .lines()
            .filter_map(|line| {
                let columns: Vec<&str> = line.split_whitespace().collect();
                let at = columns.iter().position(|c| *c == topic)?;
                Some((
                    columns.get(at + 1)?.parse().ok()?,
                    columns.get(at + 2)?.parse().ok(),
                    columns.get(at + 3)?.parse().ok()?,
                ))
            })
            .collect()
    }

    /// Every key of `topic` (our ids), read with Kafka's console consumer.
    pub fn keys_in(&self, topic: &str) -> Vec<i64> {
        let expected = self.records_in(topic);
        if expected == 0 {
            return Vec::new();
        }
        let out = self.kafka_tool(&[
            "console-consumer",
            "--topic",
            topic,
            "--from-beginning",
            "--formatter-property",
            "print.key=true",
            "--formatter-property",
            "print.value=false",
            "--max-messages",
            &expected.to_string(),
            "--timeout-ms",
            "60000",
        ]);
        assert_success(&out);
        let keys: Vec<i64> = stdout(&out)
            .lines()
            .map(|line| {
                line.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{topic} holds a key that is not an id: {line:?}"))
            })
            .collect();
        assert_eq!(
            keys.len() as i64,
            expected,
            "the console consumer read fewer records than {topic} holds"
        );
        keys
    }

    /// `scripts/nodetool --node N <args>`.
    pub fn nodetool(&self, node: u8, args: &[&str]) -> Output {
        let node = node.to_string();
        let mut all = vec!["--node", node.as_str()];
        all.extend_from_slice(args);
        self.script("nodetool", &all)
    }

    /// How many writes the table took on every node (nodetool tablestats'
    /// "Local write count"), summed. With RF 1 it is every insert the
    /// processors made, re-writes included.
    pub fn local_writes(&self, keyspace: &str, table: &str) -> u64 {
        (1..=self.cassandra_nodes)
            .map(|node| {
                let out = self.nodetool(node, &["tablestats", &format!("{keyspace}.{table}")]);
                assert_success(&out);
                stdout(&out)
                    .lines()
                    .find_map(|line| line.trim().strip_prefix("Local write count:"))
                    .and_then(|n| n.trim().parse::<u64>().ok())
                    .unwrap_or_else(|| panic!("no write count in:\n{}", stdout(&out)))
            })
            .sum()
    }

    /// The independent audit (`scripts/audit ids`): every expected id once,
    /// nothing else, read at `consistency`.
    pub fn audit_ids(
        &self,
        credentials: &BTreeMap<String, String>,
        keyspace: &str,
        expect: &[String],
        expect_files: &[PathBuf],
        consistency: &str,
    ) -> Value {
        let mut args = vec![
            "ids".to_owned(),
            "--keyspace".into(),
            keyspace.into(),
            "--consistency".into(),
            consistency.into(),
        ];
        for spec in expect {
            args.extend(["--expect".into(), spec.clone()]);
        }
        for file in expect_files {
            args.extend(["--expect-file".into(), file.display().to_string()]);
        }
        let mut command = Command::new(repo_root().join("scripts/audit"));
        self.env(&mut command);
        command
            .args(&args)
            .envs(credentials)
            .env("CASSANDRA_HOSTS", self.cassandra_hosts())
            .stdin(Stdio::null());
        let out = command.output().expect("cannot run scripts/audit");
        assert_success(&out);
        serde_json::from_str(stdout(&out).trim()).expect("scripts/audit prints one JSON object")
    }

    /// `scripts/audit latency` over a sample of the ids of `expect`.
    pub fn audit_latency(
        &self,
        credentials: &BTreeMap<String, String>,
        keyspace: &str,
        expect: &str,
        every: u64,
    ) -> Value {
        let mut command = Command::new(repo_root().join("scripts/audit"));
        self.env(&mut command);
        command
            .args([
                "latency",
                "--keyspace",
                keyspace,
                "--expect",
                expect,
                "--every",
                &every.to_string(),
                "--consistency",
                "one",
            ])
            .envs(credentials)
            .env("CASSANDRA_HOSTS", self.cassandra_hosts())
            .stdin(Stdio::null());
        let out = command.output().expect("cannot run scripts/audit");
        assert_success(&out);
        serde_json::from_str(stdout(&out).trim()).expect("scripts/audit prints one JSON object")
    }
}

#[derive(Clone, Debug)]
pub struct PartitionState {
    pub partition: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

/// One scenario's names, settings and figures.
pub struct Scenario {
    pub cluster: Cluster,
    pub topic: String,
    pub group: String,
    pub keyspace: String,
    /// Extra environment for every `sentiflow` (credentials of a secured cluster).
    pub env: BTreeMap<String, String>,
    pub figures: Figures,
    pub logs: PathBuf,
    started: Instant,
    _one_at_a_time: MutexGuard<'static, ()>,
}

impl Scenario {
    /// Brings the cluster up (whatever an earlier scenario left stopped) and
    /// picks fresh names.
    pub fn new(name: &'static str, cluster: Cluster) -> Scenario {
        let guard = one_at_a_time();
        let started = Instant::now();
        eprintln!("\n===== {name}: {}", cluster.describe());
        let up = cluster.up();
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let unique = format!(
            "{name}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let env = if cluster.secure {
            cluster.credentials()
        } else {
            BTreeMap::new()
        };
        let logs = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("faults")
            .join(&unique);
        std::fs::create_dir_all(&logs).unwrap();
        let mut figures = Figures::new(name);
        figures.add("services up (s)", format!("{:.0}", up.as_secs_f64()));
        Scenario {
            topic: format!("t_{unique}"),
            group: format!("g_{unique}"),
            keyspace: format!("k_{unique}").chars().take(48).collect(),
            cluster,
            env,
            figures,
            logs,
            started,
            _one_at_a_time: guard,
        }
    }

    /// `sentiflow` with this scenario's cluster, names and credentials.
    pub fn sentiflow(&self) -> Command {
        let mut command = sentiflow();
        command
            .env("KAFKA_BOOTSTRAP_SERVERS", self.cluster.brokers())
            .env("KAFKA_TOPIC", &self.topic)
            .env("KAFKA_GROUP_ID", &self.group)
            .env("CASSANDRA_HOSTS", self.cluster.cassandra_hosts())
            .env("CASSANDRA_KEYSPACE", &self.keyspace)
            .env("CASSANDRA_USERNAME", "cassandra")
            .env("CASSANDRA_PASSWORD", "cassandra")
            .env_remove("CASSANDRA_TABLE")
            .env_remove("KAFKA_DLQ_TOPIC")
            .envs(&self.env);
        command
    }

    /// Runs a `sentiflow` command to the end, keeping its output in the logs.
    pub fn run(&self, what: &str, command: &mut Command) -> Output {
        let out = output(command);
        self.keep(what, &out);
        out
    }

    /// Saves stdout and stderr of a command in the scenario's log folder.
    pub fn keep(&self, what: &str, out: &Output) {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        std::fs::write(self.logs.join(format!("{n:03}-{what}.out")), &out.stdout).unwrap();
        std::fs::write(self.logs.join(format!("{n:03}-{what}.err")), &out.stderr).unwrap();
    }

    pub fn setup(&self, args: &[&str]) -> Output {
        let out = self.run("setup", self.sentiflow().arg("setup").args(args));
        assert_success(&out);
        out
    }

    /// `produce --json` to the end; its summary (it may have failed).
    pub fn produce(&self, args: &[&str]) -> (Output, Value) {
        let out = self.run(
            "produce",
            self.sentiflow().args(["produce", "--json"]).args(args),
        );
        let summary = serde_json::from_str(stdout(&out).trim()).unwrap_or_else(|_| {
            panic!(
                "produce printed no summary:\n{}\n{}",
                stdout(&out),
                stderr(&out)
            )
        });
        (out, summary)
    }

    /// `sentiflow produce --json` of `count` sentences of `seed` at `rate`
    /// per second, in the background (logs named `produce`).
    pub fn spawn_producer(&self, count: u64, rate: &str, seed: u64) -> Running {
        self.spawn(
            "produce",
            &[
                "produce",
                "--json",
                "--count",
                &count.to_string(),
                "--rate",
                rate,
                "--seed",
                &seed.to_string(),
            ],
        )
    }

    /// A `sentiflow <args>` in the background.
    pub fn spawn(&self, what: &str, args: &[&str]) -> Running {
        Running::spawn(
            self.sentiflow().args(args),
            self.logs.join(format!("{what}.err")),
        )
    }

    /// A client that reads offsets for this scenario's group and topic
    /// (measurement only: the audit uses Kafka's own tools).
    pub fn observer(&self) -> Observer {
        let mut config = rdkafka::ClientConfig::new();
        config
            .set("bootstrap.servers", self.cluster.brokers())
            .set("group.id", &self.group)
            .set("enable.auto.commit", "false");
        for (key, setting) in [
            ("KAFKA_SECURITY_PROTOCOL", "security.protocol"),
            ("KAFKA_SASL_MECHANISM", "sasl.mechanism"),
            ("KAFKA_SASL_USERNAME", "sasl.username"),
            ("KAFKA_SASL_PASSWORD", "sasl.password"),
            ("KAFKA_SSL_CA_LOCATION", "ssl.ca.location"),
        ] {
            if let Some(value) = self.env.get(key) {
                config.set(setting, value);
            }
        }
        Observer {
            consumer: Mutex::new(None),
            config,
            topic: self.topic.clone(),
            cluster: self.cluster.clone(),
        }
    }

    /// The audit every scenario ends with: every id of `expect` exactly once
    /// in Cassandra and nothing else, `dead_letters` in the dead-letter
    /// topic, committed = end offsets for the group. Adds the figures.
    pub fn audit(&mut self, expect: &[String], files: &[PathBuf], dead_letters: i64) -> Value {
        let report = self
            .cluster
            .audit_ids(&self.env, &self.keyspace, expect, files, "quorum");
        eprintln!("[audit] {report}");
        self.figures
            .add("rows in Cassandra", &report["distinct_ids"])
            .add("expected ids", &report["expected"])
            .add("duplicates by id", &report["duplicates_by_id"])
            .add("lost (expected, not stored)", &report["missing"])
            .add("unexpected rows", &report["unexpected"]);
        assert_eq!(report["missing"], 0, "ids lost: {report}");
        assert_eq!(report["unexpected"], 0, "rows nobody produced: {report}");
        assert_eq!(report["duplicates_by_id"], 0, "{report}");
        assert_eq!(report["distinct_ids"], report["expected"], "{report}");
        let letters = self.cluster.records_in(&format!("{}.dlq", self.topic));
        self.figures.add("dead letters", letters);
        assert_eq!(letters, dead_letters, "dead letters");
        let offsets = self.cluster.group_offsets(&self.group, &self.topic);
        assert!(
            !offsets.is_empty(),
            "no committed offsets for {}",
            self.group
        );
        for (partition, committed, end) in &offsets {
            assert_eq!(
                *committed,
                Some(*end),
                "partition {partition}: committed {committed:?}, end {end}"
            );
        }
        self.figures.add(
            "committed = end offsets",
            format!("{} partitions", offsets.len()),
        );
        report
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        self.figures.add(
            "scenario duration (s)",
            format!("{:.0}", self.started.elapsed().as_secs_f64()),
        );
        self.figures.print_and_save(std::thread::panicking());
        if !std::thread::panicking() {
            // Best effort: leave the clusters clean for the next scenario.
            let _ = self.cluster.script(
                "cqlsh",
                &["-e", &format!("DROP KEYSPACE IF EXISTS {}", self.keyspace)],
            );
            for topic in [self.topic.clone(), format!("{}.dlq", self.topic)] {
                let _ = self
                    .cluster
                    .kafka_tool(&["topics", "--delete", "--topic", &topic]);
            }
        }
    }
}

/// The figures a scenario reports: printed at its end, and saved as JSON
/// under target/tmp/faults/figures/ for docs/faults.md.
pub struct Figures {
    name: &'static str,
    rows: Vec<(String, String)>,
}

impl Figures {
    pub fn new(name: &'static str) -> Figures {
        Figures {
            name,
            rows: Vec::new(),
        }
    }

    pub fn add(&mut self, what: &str, value: impl ToString) -> &mut Figures {
        let value = value.to_string();
        eprintln!("[{}] {what}: {value}", self.name);
        self.rows.push((what.to_owned(), value));
        self
    }

    fn print_and_save(&self, failed: bool) {
        let mut text = format!(
            "\n----- figures of {}{}\n",
            self.name,
            if failed { " (FAILED)" } else { "" }
        );
        for (what, value) in &self.rows {
            let _ = writeln!(text, "  {what:<48} {value}");
        }
        eprintln!("{text}");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("faults/figures");
        let _ = std::fs::create_dir_all(&dir);
        let object: serde_json::Map<String, Value> = self
            .rows
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let _ = std::fs::write(
            dir.join(format!("{}.json", self.name)),
            serde_json::to_string_pretty(&serde_json::json!({
                "scenario": self.name,
                "failed": failed,
                "figures": object,
            }))
            .unwrap(),
        );
    }
}

/// Offsets read with librdkafka, for polling conditions and measuring stalls.
/// After a failed read the client is made anew: one that cached a dead
/// broker as a partition's leader can keep asking it.
pub struct Observer {
    consumer: Mutex<Option<BaseConsumer>>,
    config: rdkafka::ClientConfig,
    topic: String,
    cluster: Cluster,
}

impl Observer {
    fn with<T>(&self, read: impl FnOnce(&BaseConsumer) -> Option<T>) -> Option<T> {
        let mut consumer = self.consumer.lock().unwrap();
        if consumer.is_none() {
            *consumer = Some(self.config.create().expect("an observer consumer"));
        }
        let result = read(consumer.as_ref().unwrap());
        if result.is_none() {
            *consumer = None;
        }
        result
    }

    /// The end offset of each partition (None when the brokers did not
    /// answer). librdkafka first; when it cannot tell (right after a broker
    /// died, it may keep asking the dead leader for a while), Kafka's own
    /// `kafka-get-offsets`.
    pub fn ends(&self) -> Option<Vec<i64>> {
        self.ends_librdkafka().or_else(|| self.ends_java())
    }

    fn ends_java(&self) -> Option<Vec<i64>> {
        let out = self
            .cluster
            .kafka_tool(&["get-offsets", "--topic", &self.topic]);
        if !out.status.success() {
            return None;
        }
        let mut ends: Vec<(i32, i64)> = stdout(&out)
            .lines()
            .filter_map(|line| {
                let mut parts = line.rsplitn(3, ':');
                let end = parts.next()?.trim().parse().ok()?;
                let partition = parts.next()?.trim().parse().ok()?;
                Some((partition, end))
            })
            .collect();
        ends.sort();
        (!ends.is_empty()).then(|| ends.into_iter().map(|(_, end)| end).collect())
    }

    fn ends_librdkafka(&self) -> Option<Vec<i64>> {
        self.with(|consumer| {
            let metadata = consumer
                .fetch_metadata(Some(&self.topic), Duration::from_secs(5))
                .ok()?;
            let partitions = metadata.topics().first()?.partitions().len() as i32;
            (0..partitions)
                .map(|p| {
                    consumer
                        .fetch_watermarks(&self.topic, p, Duration::from_secs(5))
                        .ok()
                        .map(|(_, high)| high)
                })
                .collect()
        })
    }

    /// The group's committed offset of each partition (0 when none).
    pub fn committed(&self, partitions: usize) -> Option<Vec<i64>> {
        self.with(|consumer| {
            let mut list = TopicPartitionList::new();
            for p in 0..partitions as i32 {
                list.add_partition(&self.topic, p);
            }
            let committed = consumer
                .committed_offsets(list, Duration::from_secs(5))
                .ok()?;
            Some(
                (0..partitions as i32)
                    .map(
                        |p| match committed.find_partition(&self.topic, p).map(|e| e.offset()) {
                            Some(Offset::Offset(offset)) => offset,
                            _ => 0,
                        },
                    )
                    .collect(),
            )
        })
    }

    /// Total end offsets and total committed offsets, when both answered.
    pub fn totals(&self) -> Option<(i64, i64)> {
        let ends = self.ends()?;
        let committed = self.committed(ends.len())?;
        Some((ends.iter().sum(), committed.iter().sum()))
    }

    /// Like [`Observer::wait_for`], and `process` must keep running meanwhile.
    pub fn wait_while_running(
        &self,
        what: &str,
        timeout: Duration,
        process: &mut Running,
        condition: impl FnMut(i64, i64) -> bool,
    ) -> Duration {
        self.poll(what, timeout, Some(process), condition)
    }

    /// Waits until `condition(end, committed)` holds; panics after `timeout`.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        condition: impl FnMut(i64, i64) -> bool,
    ) -> Duration {
        self.poll(what, timeout, None, condition)
    }

    /// Polls the offsets until `condition` holds, checking that `process`
    /// (if any) still runs; panics after `timeout`, with its stderr.
    fn poll(
        &self,
        what: &str,
        timeout: Duration,
        mut process: Option<&mut Running>,
        mut condition: impl FnMut(i64, i64) -> bool,
    ) -> Duration {
        let started = Instant::now();
        let mut last = None;
        while started.elapsed() < timeout {
            if let Some(process) = process.as_deref_mut() {
                process.assert_running(&format!("while waiting for: {what}"));
            }
            if let Some((end, committed)) = self.totals() {
                last = Some((end, committed));
                if condition(end, committed) {
                    return started.elapsed();
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let stderr = process
            .map(|process| format!("; stderr:\n{}", process.stderr()))
            .unwrap_or_default();
        panic!("{what}: not within {timeout:?} (last end/committed: {last:?}){stderr}");
    }
}

/// A process in the background; its stderr is collected as it comes and
/// written to a log file.
pub struct Running {
    pub child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn spawn(command: &mut Command, log: PathBuf) -> Running {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start sentiflow");
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            let mut file = std::fs::File::create(&log).ok();
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(file) = file.as_mut() {
                    use std::io::Write;
                    let _ = writeln!(file, "{line}");
                }
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        Running {
            child,
            stderr,
            reader: Some(reader),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The `host:port` of the web server the process printed (metrics,
    /// health and, with `--ui`, the dashboard).
    pub fn served_address(&self) -> String {
        let stderr = self.stderr();
        stderr
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("the process printed no http:// address:\n{stderr}"))
            .to_owned()
    }

    /// Lines of stderr containing `text`.
    pub fn count(&self, text: &str) -> usize {
        self.stderr().lines().filter(|l| l.contains(text)).count()
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits until the stderr holds `text` (the process must keep running).
    pub fn wait_for_log(&mut self, text: &str, timeout: Duration) -> Duration {
        let started = Instant::now();
        while !self.stderr().contains(text) {
            self.assert_running(&format!("while waiting for {text:?} in its log"));
            assert!(
                started.elapsed() < timeout,
                "no {text:?} in the log within {timeout:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        started.elapsed()
    }

    /// Panics (with the log) unless the process still runs.
    pub fn assert_running(&mut self, when: &str) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "the processor stopped ({status}) {when}; stderr:\n{}",
                self.stderr()
            );
        }
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(
            status.success(),
            "kill -{signal} {} failed",
            self.child.id()
        );
    }

    /// Resident memory now, in MiB (0 once gone).
    pub fn rss_mib(&self) -> f64 {
        proc_status_kib(self.child.id(), "VmRSS:") / 1024.0
    }

    /// CPU time used so far (user + system), in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())) else {
            return 0.0;
        };
        // Fields after the command name (which may hold spaces): utime is the
        // 14th field of the line, stime the 15th.
        let after = stat.rsplit_once(") ").map(|(_, rest)| rest).unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: f64 = fields
            .get(11..13)
            .map(|f| f.iter().filter_map(|t| t.parse::<f64>().ok()).sum())
            .unwrap_or(0.0);
        ticks / clock_ticks()
    }

    /// Waits for the end (killing it after `timeout`): status, stdout, stderr.
    pub fn finish(mut self, timeout: Duration) -> (ExitStatus, String, String) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut out = String::new();
                if let Some(mut pipe) = self.child.stdout.take() {
                    let _ = pipe.read_to_string(&mut out);
                }
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                return (status, out, self.stderr());
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

    /// SIGTERM, then the JSON summary of a `--json` command.
    pub fn stop(self, timeout: Duration) -> Value {
        self.signal("TERM");
        let (status, out, err) = self.finish(timeout);
        assert!(status.success(), "exit {status}; stderr:\n{err}");
        serde_json::from_str(out.trim())
            .unwrap_or_else(|_| panic!("no JSON summary: {out}\nstderr:\n{err}"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failing scenario must not leave processors behind.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn clock_ticks() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output();
    out.ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

fn proc_status_kib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0)
}

/// The listening TCP sockets of `pid`, from `ss -ltnp`: local addresses.
pub fn listening_sockets(pid: u32) -> Vec<String> {
    let out = Command::new("ss")
        .args(["-Hltnp"])
        .output()
        .expect("cannot run ss");
    assert!(out.status.success(), "ss -ltnp failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| line.contains(&format!("pid={pid},")))
        .filter_map(|line| line.split_whitespace().nth(3).map(str::to_owned))
        .collect()
}

/// Writes ids one per line (for `scripts/audit --expect-file`).
pub fn write_ids(path: &Path, ids: &BTreeSet<i64>) {
    let text: String = ids.iter().map(|id| format!("{id}\n")).collect();
    std::fs::write(path, text).unwrap();
}

/// sentiflow's ids of generated sentences: seed * 10^10 + n.
pub fn seed_ids(seed: u64, count: u64) -> String {
    format!("{seed}:0:{count}")
}

/// Seconds, one decimal.
pub fn secs(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64())
}

/// The longest time `samples` (time, committed, end) show no progress while
/// something is left to process.
pub fn longest_stall(samples: &[(Instant, i64, i64)]) -> Duration {
    let mut longest = Duration::ZERO;
    let mut since: Option<(Instant, i64)> = None;
    for &(at, committed, end) in samples {
        match since {
            Some((start, value)) if committed == value && end > committed => {
                longest = longest.max(at - start);
            }
            _ => since = Some((at, committed)),
        }
        if end <= committed {
            since = None;
        }
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stall_is_time_without_progress_while_work_is_left() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let samples = [
            (at(0), 0, 100),
            (at(1), 10, 100),
            (at(2), 10, 100),
            (at(5), 10, 100),
            (at(6), 50, 100),
            (at(7), 100, 100),
            (at(20), 100, 100),
            (at(21), 100, 120),
            (at(23), 120, 120),
        ];
        assert_eq!(longest_stall(&samples), Duration::from_secs(4));
    }
}
