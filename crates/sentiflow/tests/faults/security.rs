//! Scenario 6, security: Kafka with SASL_SSL (SCRAM-SHA-512) and Cassandra
//! with client TLS and PasswordAuthenticator (`scripts/services up --secure`).
//! Every command works over them; a wrong Kafka password, a wrong Cassandra
//! password, an unknown CA and plaintext against a TLS port each end in one
//! line naming what failed and what to do, quickly, never with a password;
//! no output or log holds a password; sentiflow listens on nothing but
//! 127.0.0.1.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::*;
use crate::util::*;

const COUNT: u64 = 2_000;
const SEED: u64 = 47;

/// Runs a command that must fail: exit 1, one line, quickly.
fn refused(scenario: &Scenario, what: &str, command: &mut Command) -> (String, Duration) {
    let started = Instant::now();
    let out = scenario.run(what, command);
    let took = started.elapsed();
    let line = one_line_error(&out, 1);
    assert!(
        took < Duration::from_secs(30),
        "{what}: {took:?} to give up (a hang?): {line}"
    );
    (line.trim().to_owned(), took)
}

#[test]
fn everything_works_over_sasl_ssl_and_tls_and_every_mistake_is_one_clear_line() {
    let mut scenario = Scenario::new("security", Cluster::secured());
    let passwords = scenario.cluster.passwords();
    assert!(passwords.len() >= 4, "no generated passwords");
    let wrong_kafka = format!("wrong-kafka-{}", std::process::id());
    let wrong_cassandra = format!("wrong-cassandra-{}", std::process::id());

    // Plaintext listeners are off: the only Kafka listener speaks SASL_SSL,
    // and Cassandra's CQL port wants TLS.
    let properties = std::fs::read_to_string(
        scenario
            .cluster
            .run
            .join("kafka/1node-secure/node1/server.properties"),
    )
    .unwrap();
    let listeners = properties
        .lines()
        .find(|l| l.starts_with("listeners="))
        .unwrap();
    assert!(
        listeners.contains("SASL_SSL://") && !listeners.contains("PLAINTEXT://"),
        "{listeners}"
    );

    // Everything works over the secured connections.
    let out = scenario.setup(&["--replication-factor", "1", "--min-insync-replicas", "1"]);
    assert!(stdout(&out).contains("created table"), "{}", stdout(&out));
    let (out, produced) =
        scenario.produce(&["--count", &COUNT.to_string(), "--seed", &SEED.to_string()]);
    assert_success(&out);
    assert_eq!(produced["sent"], COUNT, "{produced}");
    let out = scenario.run(
        "process",
        scenario.sentiflow().args([
            "process",
            "--json",
            "--exit-when-idle",
            "3",
            "--log",
            "debug",
        ]),
    );
    assert_success(&out);
    let summary: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(summary["rows_written"], COUNT, "{summary}");
    let out = scenario.run("status", scenario.sentiflow().args(["status", "--json"]));
    assert_success(&out);
    let status: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(status["lag"], 0, "{status}");
    let out = scenario.run(
        "verify",
        scenario.sentiflow().args([
            "verify",
            "--json",
            "--seed",
            &SEED.to_string(),
            "--count",
            &COUNT.to_string(),
        ]),
    );
    assert_success(&out);
    scenario.figures.add(
        "setup, produce, process, status, verify over SASL_SSL + TLS",
        format!("ok, {COUNT} rows"),
    );

    // The sockets a running processor listens on (metrics, health and the
    // dashboard): all on 127.0.0.1.
    let mut processor = scenario.spawn("process-listening", &["process", "--log", "info", "--ui"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    // Working, and serving: the address line comes once its server listens.
    while !(processor.stderr().contains("partitions assigned")
        && processor.stderr().contains("http://"))
    {
        assert!(Instant::now() < deadline, "{}", processor.stderr());
        processor.assert_running("over SASL_SSL");
        std::thread::sleep(Duration::from_millis(100));
    }
    let sockets = listening_sockets(processor.pid());
    assert!(
        sockets.iter().all(|s| s.starts_with("127.0.0.1:")),
        "sentiflow listens beyond 127.0.0.1: {sockets:?}"
    );
    scenario.figures.add(
        "listening sockets of a processor (ss -ltnp)",
        format!("{sockets:?}"),
    );
    // What it serves goes with the logs, searched for passwords below.
    let address = processor.served_address();
    for (path, file) in [
        ("/metrics", "served-metrics.txt"),
        ("/", "served-dashboard.html"),
        ("/api/snapshot", "served-snapshot.json"),
    ] {
        let answer = sentiflow::web::client::get(
            &format!("http://{address}{path}"),
            Duration::from_secs(10),
        )
        .unwrap_or_else(|error| panic!("GET {path} from the processor: {error:#}"));
        assert_eq!(answer.status, 200, "GET {path}: {}", answer.body);
        std::fs::write(scenario.logs.join(file), &answer.body).unwrap();
    }
    processor.signal("TERM");
    let (status, _, err) = processor.finish(Duration::from_secs(60));
    assert!(status.success(), "{err}");

    // Mistakes: one line each, what failed and what to do.
    let mut lines = Vec::new();
    let kafka_commands: [(&str, &[&str]); 4] = [
        ("produce", &["produce", "--count", "1"]),
        ("process", &["process", "--exit-when-idle", "1"]),
        ("status", &["status"]),
        ("setup", &["setup", "--only", "kafka"]),
    ];
    for (what, args) in kafka_commands {
        let (line, took) = refused(
            &scenario,
            &format!("{what}-wrong-kafka-password"),
            scenario
                .sentiflow()
                .args(args)
                .env("KAFKA_SASL_PASSWORD", &wrong_kafka),
        );
        assert!(
            line.contains("refused the login of user 'sentiflow'")
                && line.contains("KAFKA_SASL_PASSWORD"),
            "{what}: {line}"
        );
        lines.push((format!("{what}, wrong Kafka password"), line, took));
    }
    let cassandra_commands: [(&str, &[&str]); 4] = [
        ("process", &["process", "--exit-when-idle", "1"]),
        ("status", &["status"]),
        ("verify", &["verify", "--count", "1"]),
        ("setup", &["setup", "--only", "cassandra"]),
    ];
    for (what, args) in cassandra_commands {
        let (line, took) = refused(
            &scenario,
            &format!("{what}-wrong-cassandra-password"),
            scenario
                .sentiflow()
                .args(args)
                .env("CASSANDRA_PASSWORD", &wrong_cassandra),
        );
        assert!(
            line.contains("refused the login of user 'sentiflow'")
                && line.contains("CASSANDRA_PASSWORD"),
            "{what}: {line}"
        );
        lines.push((format!("{what}, wrong Cassandra password"), line, took));
    }

    // A CA that did not sign the servers' certificates.
    let dir = temp_dir();
    let other_ca = dir.path().join("other-ca.pem");
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=not the sentiflow CA", "-keyout"])
        .arg(dir.path().join("other-ca.key"))
        .arg("-out")
        .arg(&other_ca)
        .output()
        .expect("openssl");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let (line, took) = refused(
        &scenario,
        "status-unknown-kafka-ca",
        scenario
            .sentiflow()
            .arg("status")
            .env("KAFKA_SSL_CA_LOCATION", &other_ca),
    );
    assert!(
        line.contains("certificate of Kafka")
            && line.contains("not trusted")
            && line.contains("KAFKA_SSL_CA_LOCATION"),
        "{line}"
    );
    lines.push(("status, unknown CA for Kafka".into(), line, took));
    let (line, took) = refused(
        &scenario,
        "verify-unknown-cassandra-ca",
        scenario
            .sentiflow()
            .args(["verify", "--count", "1"])
            .env("CASSANDRA_SSL_CA_LOCATION", &other_ca),
    );
    assert!(
        line.contains("certificate of Cassandra")
            && line.contains("not trusted")
            && line.contains("CASSANDRA_SSL_CA_LOCATION"),
        "{line}"
    );
    lines.push(("verify, unknown CA for Cassandra".into(), line, took));

    // Plaintext against the TLS ports: a client that was not told.
    let (line, took) = refused(
        &scenario,
        "status-plaintext-kafka",
        scenario
            .sentiflow()
            .arg("status")
            .env_remove("KAFKA_SECURITY_PROTOCOL")
            .env_remove("KAFKA_SASL_MECHANISM")
            .env_remove("KAFKA_SASL_USERNAME")
            .env_remove("KAFKA_SASL_PASSWORD")
            .env_remove("KAFKA_SSL_CA_LOCATION"),
    );
    assert!(
        line.contains("closed the connection during the handshake")
            && line.contains("KAFKA_SECURITY_PROTOCOL"),
        "{line}"
    );
    lines.push((
        "status, plaintext against Kafka's SASL_SSL port".into(),
        line,
        took,
    ));
    let (line, took) = refused(
        &scenario,
        "verify-plaintext-cassandra",
        scenario
            .sentiflow()
            .args(["verify", "--count", "1"])
            .env_remove("CASSANDRA_SSL_CA_LOCATION"),
    );
    assert!(line.contains("CASSANDRA_SSL"), "{line}");
    lines.push((
        "verify, plaintext against Cassandra's TLS port".into(),
        line,
        took,
    ));
    for (case, line, took) in &lines {
        scenario
            .figures
            .add(&format!("{case} ({:.1} s)", took.as_secs_f64()), line);
    }

    // No password anywhere: every output and log of this scenario, and the
    // servers' own logs.
    let mut secrets = passwords.clone();
    secrets.extend([wrong_kafka, wrong_cassandra]);
    let mut files = Vec::new();
    collect_files(&scenario.logs, &mut files);
    for server_log in [
        "kafka/1node-secure/node1/logs/server.log",
        "cassandra/1node-secure/node1/logs/system.log",
    ] {
        files.push(scenario.cluster.run.join(server_log));
    }
    let mut bytes = 0;
    for file in &files {
        let text = std::fs::read(file).unwrap_or_default();
        bytes += text.len();
        let text = String::from_utf8_lossy(&text);
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a password is in {}",
                file.display()
            );
        }
    }
    scenario.figures.add(
        "passwords found in outputs and logs",
        format!("0 (in {} files, {} KiB)", files.len(), bytes / 1024),
    );
    scenario.audit(&[seed_ids(SEED, COUNT)], &[], 0);
}

fn collect_files(dir: &std::path::Path, into: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, into);
        } else {
            into.push(path);
        }
    }
}
