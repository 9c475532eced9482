//! The Cassandra sink against a real Cassandra (`scripts/services up cassandra`,
//! 127.0.0.1:9042, cassandra/cassandra). Each test works in its own keyspace,
//! dropped at the end, so the tests run in parallel. A test that cannot reach
//! Cassandra fails and says why; none is skipped.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use scylla::client::session::Session;
use scylla::value::CqlTimestamp;
use sentiflow::pipeline::{RejectedRow, Sink, WriteError};
use sentiflow::record::{Origin, ReasonCode, Record, ScoredRecord};
use sentiflow::sinks::cassandra::{
    CassandraOptions, CassandraSink, Creation, connect, count_rows, setup, stored_ids,
};

const HOST: &str = "127.0.0.1:9042";

/// Options for a keyspace no other test uses.
fn options_for(tag: &str) -> CassandraOptions {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    CassandraOptions {
        hosts: vec![HOST.to_owned()],
        username: Some("cassandra".to_owned()),
        password: Some("cassandra".to_owned()),
        keyspace: format!("sf_{tag}_{}_{n}", std::process::id()),
        table: "sentimental_analysis".to_owned(),
        max_in_flight: 64,
        ..Default::default()
    }
}

async fn session(options: &CassandraOptions) -> Session {
    connect(options).await.unwrap_or_else(|error| {
        panic!("this test needs Cassandra at {HOST}, user cassandra/cassandra: {error:#}")
    })
}

/// Runs one prepared statement (tests too keep to prepared statements).
async fn cql(session: &Session, statement: &str) {
    let mut prepared = session
        .prepare(statement)
        .await
        .unwrap_or_else(|error| panic!("preparing {statement}: {error}"));
    // Schema changes on a busy machine (or just after a restart) outlast the default 10 s.
    prepared.set_request_timeout(Some(Duration::from_secs(60)));
    session
        .execute_unpaged(&prepared, ())
        .await
        .unwrap_or_else(|error| panic!("running {statement}: {error}"));
}

/// Runs `body` with fresh options, then drops their keyspace whatever happened.
async fn with_keyspace<F, Fut>(tag: &str, body: F)
where
    F: FnOnce(CassandraOptions) -> Fut,
    Fut: Future<Output = ()>,
{
    // The same lock as the tests that stop or freeze Cassandra.
    let _exclusive = crate::services::exclusive();
    let options = options_for(tag);
    let outcome = AssertUnwindSafe(body(options.clone())).catch_unwind().await;
    let session = session(&options).await;
    cql(
        &session,
        &format!("DROP KEYSPACE IF EXISTS {}", options.keyspace),
    )
    .await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn scored(ids: impl IntoIterator<Item = i64>) -> Vec<ScoredRecord> {
    ids.into_iter()
        .map(|id| {
            let record = Record {
                id,
                sentence: format!("Sentence {id} is a great and wonderful thing").into(),
                produced_at_ms: 1_700_000_000_000 + id,
                origin: Some(Origin {
                    partition: (id % 2) as i32,
                    offset: id,
                }),
                original: None,
            };
            ScoredRecord::score(record, 1_700_000_009_000)
        })
        .collect()
}

async fn write_ok(sink: &CassandraSink, rows: &[ScoredRecord]) {
    match sink.write(rows).await {
        Ok(outcome) => assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected),
        Err(error) => panic!("write failed: {error}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_creates_keyspace_and_table_and_a_second_run_says_they_exist() {
    with_keyspace("setup", |options| async move {
        let first = setup(&options, 1).await.expect("first setup");
        assert_eq!(first.keyspace_creation, Creation::Created, "{first}");
        assert_eq!(first.table_creation, Creation::Created, "{first}");
        assert!(first.problems.is_empty(), "{first}");

        let second = setup(&options, 1).await.expect("second setup");
        let text = second.to_string();
        assert_eq!(second.keyspace_creation, Creation::AlreadyExisted, "{text}");
        assert_eq!(second.table_creation, Creation::AlreadyExisted, "{text}");
        assert!(
            text.contains(&format!("keyspace {} already exists", options.keyspace)),
            "{text}"
        );
        assert!(
            text.contains("sentimental_analysis already exists"),
            "{text}"
        );
        assert!(second.differences.is_empty(), "{text}");

        let other_rf = setup(&options, 3).await.expect("setup asking another RF");
        let text = other_rf.to_string();
        assert!(
            text.contains(
                "replication_factor 1, not SimpleStrategy with replication_factor 3 as asked"
            ),
            "{text}"
        );

        let count = count_rows(&options).await.expect("count");
        assert_eq!((count.rows, count.exact), (0, true));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewriting_the_same_ids_leaves_one_row_per_id() {
    with_keyspace("upsert", |options| async move {
        setup(&options, 1).await.expect("setup");
        let sink = Arc::new(CassandraSink::open(&options).await.expect("open"));
        assert!(!sink.id_is_int());
        assert_eq!(sink.columns().len(), 11);

        let rows = scored(1..=3000);
        // Several batches at once, as the pipeline writes them, sharing the bound.
        let writes = rows.chunks(500).map(|batch| {
            let sink = Arc::clone(&sink);
            let batch = batch.to_vec();
            tokio::spawn(async move { write_ok(&sink, &batch).await })
        });
        for write in writes.collect::<Vec<_>>() {
            write.await.expect("write task");
        }
        // A replay of the same ids (in other batches) is an upsert.
        write_ok(&sink, &rows[1000..2500]).await;
        write_ok(&sink, &rows).await;

        let ids = stored_ids(&options).await.expect("ids");
        assert_eq!(ids, (1..=3000).collect::<Vec<i64>>());
        let count = count_rows(&options).await.expect("count");
        assert_eq!((count.rows, count.exact), (3000, true));

        // Every column holds what the record said.
        let session = session(&options).await;
        let select = session
            .prepare(format!(
                "SELECT sentence, sentimental_analysis, compound, pos, neu, neg, produced_at, processed_at, source_partition, source_offset FROM {}.sentimental_analysis WHERE id = ?",
                options.keyspace
            ))
            .await
            .unwrap();
        let expected = &rows[41];
        let id = expected.record.id;
        type Row = (String, String, f64, f64, f64, f64, CqlTimestamp, CqlTimestamp, i32, i64);
        let row: Row = session
            .execute_unpaged(&select, (id,))
            .await
            .unwrap()
            .into_rows_result()
            .unwrap()
            .single_row()
            .unwrap();
        assert_eq!(row.0, &*expected.record.sentence);
        assert_eq!(row.1, expected.label.as_str());
        let scores = &expected.scores;
        assert_eq!((row.2, row.3, row.4, row.5), (scores.compound, scores.pos, scores.neu, scores.neg));
        assert_eq!((row.6.0, row.7.0), (1_700_000_000_000 + id, 1_700_000_009_000));
        assert_eq!((row.8, row.9), ((id % 2) as i32, id));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_and_single_row_writes_store_the_same_rows() {
    with_keyspace("batching", |options| async move {
        setup(&options, 1).await.expect("setup");
        // Sentences of every size: short ones share a batch, one over the
        // byte budget goes alone.
        let mut rows = scored(1..=400);
        for (n, row) in rows.iter_mut().enumerate() {
            row.record.sentence = "good ".repeat(1 + n * 7 % 200).into();
        }
        rows[7].record.sentence = "a long and lovely sentence ".repeat(400).into();
        let batched = CassandraSink::open(&options).await.expect("open");
        write_ok(&batched, &rows).await;
        let single = CassandraSink::open(&CassandraOptions {
            batch_bytes: 0,
            ..options.clone()
        })
        .await
        .expect("open");
        // The same rows again, one request each: an upsert of identical cells.
        write_ok(&single, &rows).await;
        let ids = stored_ids(&options).await.expect("ids");
        assert_eq!(ids, (1..=400).collect::<Vec<i64>>());
        let session = session(&options).await;
        let select = session
            .prepare(format!(
                "SELECT sentence FROM {}.sentimental_analysis WHERE id = ?",
                options.keyspace
            ))
            .await
            .unwrap();
        for index in [0, 7, 399] {
            let (sentence,): (String,) = session
                .execute_unpaged(&select, (rows[index].record.id,))
                .await
                .unwrap()
                .into_rows_result()
                .unwrap()
                .single_row()
                .unwrap();
            assert_eq!(sentence, &*rows[index].record.sentence);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_original_readme_table_works_and_an_oversize_id_is_rejected() {
    with_keyspace("readme", |options| async move {
        let session = session(&options).await;
        let keyspace = &options.keyspace;
        // The original stack's README, statement for statement (in our keyspace).
        cql(&session, &format!("CREATE KEYSPACE {keyspace} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}")).await;
        cql(&session, &format!("CREATE TABLE {keyspace}.sentimental_analysis (id int primary key, sentence text, sentimental_analysis text)")).await;

        let report = setup(&options, 1).await.expect("setup on the README table");
        let text = report.to_string();
        assert_eq!(report.table_creation, Creation::AlreadyExisted, "{text}");
        assert!(report.problems.is_empty(), "{text}");
        assert!(text.contains("id is int, not bigint"), "{text}");
        assert!(text.contains("lacks the columns compound, pos, neu, neg, produced_at, processed_at, source_partition, source_offset"), "{text}");

        let sink = CassandraSink::open(&options).await.expect("open");
        assert!(sink.id_is_int());
        assert_eq!(sink.columns(), ["id", "sentence", "sentimental_analysis"]);

        let rows = scored([1, 2, 30_000_000_001, -5, i64::from(i32::MAX)]);
        let outcome = sink.write(&rows).await.expect("write");
        assert_eq!(
            outcome.rejected,
            [RejectedRow {
                index: 2,
                code: ReasonCode::IdOutOfRange,
                reason: format!("id 30000000001 does not fit the int column {keyspace}.sentimental_analysis.id")
            }]
        );
        let ids = stored_ids(&options).await.expect("ids");
        assert_eq!(ids, [-5, 1, 2, i64::from(i32::MAX)]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_keyspace_or_table_says_to_run_setup() {
    with_keyspace("missing", |options| async move {
        let keyspace = &options.keyspace;
        let error = CassandraSink::open(&options).await.err().expect("no keyspace yet");
        assert_eq!(
            format!("{error:#}"),
            format!("keyspace {keyspace} does not exist; run `sentiflow setup` (or set --keyspace)")
        );

        let session = session(&options).await;
        cql(&session, &format!("CREATE KEYSPACE {keyspace} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}")).await;
        let expected = format!(
            "table {keyspace}.sentimental_analysis does not exist; run `sentiflow setup` (or set --table)"
        );
        let error = CassandraSink::open(&options).await.err().expect("no table yet");
        assert_eq!(format!("{error:#}"), expected);
        let error = stored_ids(&options).await.expect_err("no table to scan");
        assert_eq!(format!("{error:#}"), expected);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_one_line_that_never_shows_it() {
    let secret = "not-the-Password-4711";
    let options = CassandraOptions {
        password: Some(secret.to_owned()),
        ..options_for("password")
    };
    let error = CassandraSink::open(&options)
        .await
        .err()
        .expect("the login must fail");
    let text = format!("{error:#}");
    assert_eq!(
        text,
        format!(
            "Cassandra at {HOST} refused the login of user 'cassandra' (bad credentials); check CASSANDRA_USERNAME / CASSANDRA_PASSWORD"
        )
    );
    assert!(!format!("{error:?}").contains(secret));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_host_is_one_line_naming_it() {
    let options = CassandraOptions {
        hosts: vec!["127.0.0.1:1".to_owned()],
        ..options_for("unreachable")
    };
    let started = Instant::now();
    let error = connect(&options)
        .await
        .expect_err("nothing listens on port 1");
    assert_eq!(
        format!("{error:#}"),
        "cannot reach Cassandra at 127.0.0.1:1 (connection refused); start it with `scripts/services up cassandra` or set CASSANDRA_HOSTS"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// A TCP relay in front of Cassandra that can be cut and restored, to take the
/// node away from one client without stopping the Cassandra the other tests use.
/// (The driver reaches a node at its `rpc_address` with the contact point's port,
/// so every connection goes through the relay.)
struct Relay {
    port: u16,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    connections: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(port: u16) -> Relay {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("cannot bind the relay");
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(std::sync::Mutex::new(Vec::new()));
        let accepted = Arc::clone(&connections);
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let relay = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(HOST).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                accepted.lock().unwrap().push(relay);
            }
        });
        Relay {
            port,
            tasks: vec![accept],
            connections,
        }
    }

    /// Refuses new connections and closes the open ones, like a node going
    /// down; returns once every socket is closed.
    async fn cut(self) -> u16 {
        // First stop accepting, then close what was accepted.
        for task in self.tasks {
            task.abort();
            let _ = task.await;
        }
        let connections: Vec<_> = self.connections.lock().unwrap().drain(..).collect();
        for task in connections {
            task.abort();
            // An aborted task has dropped its sockets once it is joined.
            let _ = task.await;
        }
        self.port
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_fail_as_transient_while_cassandra_is_away_and_resume_when_it_is_back() {
    with_keyspace("outage", |options| async move {
        setup(&options, 1).await.expect("setup");
        let relay = Relay::start(0).await;
        let through_relay = CassandraOptions {
            hosts: vec![format!("127.0.0.1:{}", relay.port)],
            request_timeout: Duration::from_secs(2),
            ..options.clone()
        };
        let sink = CassandraSink::open(&through_relay)
            .await
            .expect("open through the relay");
        write_ok(&sink, &scored(1..=100)).await;

        let port = relay.cut().await;
        let during = scored(101..=200);
        match sink.write(&during).await {
            Err(WriteError::Transient(error)) => {
                let text = format!("{error:#}");
                assert!(text.starts_with("writing to Cassandra table"), "{text}");
            }
            Err(WriteError::Fatal(error)) => panic!("an outage must be transient: {error:#}"),
            Ok(_) => panic!("a write cannot succeed while Cassandra is unreachable"),
        }

        let relay = Relay::start(port).await;
        // What the pipeline does: retry the same batch until it goes through.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match sink.write(&during).await {
                Ok(outcome) => {
                    assert!(outcome.rejected.is_empty());
                    break;
                }
                Err(WriteError::Transient(_)) if Instant::now() < deadline => {
                    // The pipeline's backoff between attempts, not a synchronisation.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => panic!("the sink did not resume within 60 s: {error}"),
            }
        }
        relay.cut().await;
        let ids = stored_ids(&options).await.expect("ids");
        assert_eq!(ids, (1..=200).collect::<Vec<i64>>());
    })
    .await;
}
