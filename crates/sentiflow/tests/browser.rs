//! The dashboard in a real headless Chromium, driven over WebDriver
//! (chromedriver, through `fantoccini`) while a real `run` and a real
//! `process` write: the page becomes ready by itself, its numbers match the
//! store and move between two reads, a sentence with `<script>` is shown as
//! text, and a screenshot is saved (`target/test-artifacts/`).
//!
//! Never skipped: without Chromium and chromedriver these tests fail and say
//! how to install them (`scripts/web-test-deps`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::services::*;
use crate::util::*;
use crate::web::Served;

/// How long the page may take to show what the test waits for.
const PAGE_WAIT: Duration = Duration::from_secs(60);

/// `name` on the PATH, or a failure that says how to install it.
fn program(name: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is not installed: the dashboard tests need a real headless Chromium; install it with `scripts/web-test-deps` (Debian packages chromium and chromium-driver)")
        })
}

/// A chromedriver and one headless Chromium session.
struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
}

impl Browser {
    fn start() -> Browser {
        let chromium = program("chromium");
        let chromedriver = program("chromedriver");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start chromedriver");
        let address = format!("127.0.0.1:{port}");
        assert!(
            wait_until(Duration::from_secs(30), || std::net::TcpStream::connect(
                &address
            )
            .is_ok()),
            "chromedriver did not listen on {address}"
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                // As root, Chromium runs only without its sandbox.
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,2200", "--hide-scrollbars"]
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = runtime
            .block_on(
                ClientBuilder::new(connector)
                    .capabilities(capabilities)
                    .connect(&format!("http://{address}")),
            )
            .expect("cannot open a Chromium session through chromedriver");
        Browser {
            runtime,
            client: Some(client),
            driver,
        }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    /// Opens `url` and waits for the marker the page sets after its first live refresh.
    fn open(&self, url: &str) {
        self.runtime.block_on(async {
            self.client()
                .goto(url)
                .await
                .expect("cannot load the dashboard");
            self.client()
                .wait()
                .at_most(PAGE_WAIT)
                .for_element(Locator::Css("body[data-ready='yes']"))
                .await
                .expect("the dashboard never set data-ready=yes");
        });
    }

    fn js(&self, script: &str) -> Value {
        self.runtime
            .block_on(self.client().execute(script, vec![]))
            .unwrap_or_else(|error| panic!("{script}: {error}"))
    }

    /// The number the page shows in element `id`: its text, separators removed.
    fn number(&self, id: &str) -> Option<f64> {
        let text = self.js(&format!(
            "var e = document.getElementById('{id}'); return e ? e.textContent : null;"
        ));
        text.as_str()?
            .replace(',', "")
            .trim_end_matches("/s")
            .parse()
            .ok()
    }

    fn updates(&self) -> u64 {
        self.js("return Number(document.body.dataset.updates);")
            .as_u64()
            .unwrap_or(0)
    }

    /// Waits for the page's next refresh.
    fn next_update(&self) {
        let before = self.updates();
        assert!(
            wait_until(PAGE_WAIT, || self.updates() > before),
            "the page stopped refreshing after {before} updates"
        );
    }

    /// Waits until `condition` holds on a refreshed page.
    fn wait_for(&self, what: &str, mut condition: impl FnMut(&Browser) -> bool) {
        assert!(
            wait_until(PAGE_WAIT, || condition(self)),
            "the page never showed {what}"
        );
    }

    /// Saves a screenshot under `target/test-artifacts/` (and in
    /// `$SENTIFLOW_SCREENSHOT_DIR` when set: that is how the README's is made).
    fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .runtime
            .block_on(self.client().screenshot())
            .expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../test-artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, &png).unwrap();
        if let Some(extra) = std::env::var_os("SENTIFLOW_SCREENSHOT_DIR") {
            std::fs::write(PathBuf::from(extra).join(name), &png).unwrap();
        }
        path
    }

    /// Asserts the row holding `marker` shows the sentence as text: no script
    /// ran, no element was made from it.
    fn assert_shown_as_text(&self, marker: &str) {
        let found = self.js(&format!(
            "var cells = Array.from(document.querySelectorAll('#f-rows td.sentence'));\
             var cell = cells.find(function (c) {{ return c.textContent.indexOf('{marker}') >= 0; }});\
             return cell ? [cell.textContent, cell.children.length, typeof window.__sentiflow_pwned] : null;"
        ));
        let found = found.as_array().expect("the <script> row is on the page");
        let text = found[0].as_str().unwrap();
        assert!(
            text.contains("<script>window.__sentiflow_pwned = 1</script>"),
            "{text}"
        );
        assert_eq!(found[1], 0, "the sentence made elements");
        assert_eq!(found[2], "undefined", "the sentence's script ran");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The sentence that must stay text.
fn script_sentence(marker: &str) -> String {
    format!(
        "{marker} <script>window.__sentiflow_pwned = 1</script><img src=x onerror=\"window.__sentiflow_pwned = 2\"> awful"
    )
}

#[test]
fn dashboard_in_chromium_during_a_real_run_is_live_matches_the_database_and_escapes_sentences() {
    let browser = Browser::start();
    let dir = temp_dir();
    let db = db_path(dir.path());
    let served = Served::start(sentiflow().arg("run").arg("--db").arg(&db).args([
        "--count",
        "6000",
        "--rate",
        "500",
        "--json",
        "--quiet",
        "--ui",
        "--metrics-addr",
        "127.0.0.1:0",
    ]));
    browser.open(&served.url);
    // Live: the number of rows moves between two reads while the run writes.
    let first = browser
        .number("v-written")
        .expect("rows written on the page");
    browser.wait_for("more rows written", |b| {
        b.number("v-written").is_some_and(|n| n > first)
    });
    assert!(browser.number("v-written-rate").is_some_and(|r| r > 0.0));

    // Once the run is over, the page agrees with its summary and with the file.
    assert!(
        wait_until(Duration::from_secs(120), || served.stdout().contains('}')),
        "{}",
        served.stderr()
    );
    let summary: Value = serde_json::from_str(served.stdout().trim()).unwrap();
    let connection = rusqlite::Connection::open(&db).unwrap();
    let by_label = |label: &str| -> f64 {
        connection
            .query_row(
                "SELECT count(*) FROM sentimental_analysis WHERE sentimental_analysis = ?1",
                [label],
                |row| row.get::<_, i64>(0),
            )
            .unwrap() as f64
    };
    browser.wait_for("the final counts", |b| {
        b.next_update();
        b.number("v-written") == Some(6000.0) && b.number("v-window-rows") == Some(6000.0)
    });
    assert_eq!(summary["rows_written"], 6000);
    for label in ["positive", "negative", "neutral"] {
        assert_eq!(
            browser.number(&format!("v-window-{label}")),
            Some(by_label(label)),
            "{label}"
        );
        assert_eq!(
            browser.number(&format!("v-window-{label}")),
            summary[label].as_f64(),
            "{label}"
        );
    }

    // Another writer adds a sentence with markup: it shows as the latest row, as text.
    let marker = "run-xss-check";
    connection
        .execute(
            "INSERT INTO sentimental_analysis VALUES (?1, ?2, 'negative', -0.5, 0, 0.5, 0.5, ?3, ?3)",
            rusqlite::params![-42, script_sentence(marker), chrono_ms() + 1000],
        )
        .unwrap_or_else(|error| panic!("cannot add the <script> row: {error}"));
    browser.wait_for("the <script> row", |b| {
        b.next_update();
        b.js("return document.getElementById('f-rows').textContent")
            .as_str()
            .is_some_and(|t| t.contains(marker))
    });
    browser.assert_shown_as_text(marker);
    let shot = browser.screenshot("dashboard-run.png");
    assert!(std::fs::metadata(shot).unwrap().len() > 10_000);
    served.stop("TERM");
}

/// Now, in epoch milliseconds.
fn chrono_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Rows per label in the scenario's table, read with the driver.
fn cassandra_labels(keyspace: &str) -> std::collections::BTreeMap<String, f64> {
    use futures_util::TryStreamExt;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let session = scylla::client::session_builder::SessionBuilder::new()
            .known_node("127.0.0.1:9042")
            .user("cassandra", "cassandra")
            .build()
            .await
            .expect("cannot connect to Cassandra");
        let mut select = scylla::statement::Statement::new(format!(
            "SELECT sentimental_analysis FROM {keyspace}.sentimental_analysis"
        ));
        select.set_page_size(5000);
        let mut rows = session
            .query_iter(select, ())
            .await
            .unwrap()
            .rows_stream::<(String,)>()
            .unwrap();
        let mut counts = std::collections::BTreeMap::new();
        while let Some((label,)) = rows.try_next().await.unwrap() {
            *counts.entry(label).or_insert(0.0) += 1.0;
        }
        counts
    })
}

#[test]
fn dashboard_in_chromium_during_a_real_process_is_live_matches_cassandra_and_escapes_sentences() {
    let browser = Browser::start();
    let scenario = Scenario::new("browser");
    scenario.setup();
    let served = Served::start(scenario.sentiflow().args([
        "process",
        "--quiet",
        "--ui",
        "--metrics-addr",
        "127.0.0.1:0",
    ]));
    let producer = scenario
        .sentiflow()
        .args([
            "produce", "--count", "4000", "--rate", "400", "--seed", "5", "--quiet",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    browser.open(&served.url);
    let first = browser
        .number("v-written")
        .expect("rows written on the page");
    browser.wait_for("more rows written", |b| {
        b.number("v-written").is_some_and(|n| n > first)
    });
    browser.wait_for("the processor in the group", |b| {
        b.js("return document.getElementById('f-group').textContent")
            .as_str()
            .is_some_and(|t| t.contains("0, 1"))
    });
    // The member shows our client.id, and the broker named it after that id.
    let member = browser.js(
        "const cell = document.querySelector('#f-group table.members td'); return [cell.textContent, cell.title]",
    );
    assert_eq!(member[0], "sentiflow", "{member}");
    assert!(
        member[1]
            .as_str()
            .is_some_and(|id| id.starts_with("sentiflow-")),
        "{member}"
    );
    let produced = producer.wait_with_output().unwrap();
    assert!(
        produced.status.success(),
        "{}",
        String::from_utf8_lossy(&produced.stderr)
    );

    // Markup in a plain-text sentence and in a dead letter: shown, never run.
    let marker = "process-xss-check";
    console_produce(
        &scenario.topic,
        &[
            &script_sentence(marker),
            "{\"id\": \"<img src=x onerror=window.__sentiflow_pwned=3>\"",
        ],
    );
    browser.wait_for("every row and the dead letter", |b| {
        b.next_update();
        b.number("v-written") == Some(4001.0)
            && b.number("v-dead-total") == Some(1.0)
            && b.number("v-lag-total") == Some(0.0)
    });
    // The page's sentiment panel (the companion table) agrees with the table itself.
    let stored = cassandra_labels(&scenario.keyspace);
    assert_eq!(stored.values().sum::<f64>(), 4001.0);
    browser.wait_for("the sentiment counts of the store", |b| {
        b.next_update();
        ["positive", "negative", "neutral"].iter().all(|label| {
            b.number(&format!("v-window-{label}")) == stored.get(*label).copied().or(Some(0.0))
        })
    });
    browser.wait_for("the <script> row", |b| {
        b.js("return document.getElementById('f-rows').textContent")
            .as_str()
            .is_some_and(|t| t.contains(marker))
    });
    browser.assert_shown_as_text(marker);
    let dead = browser.js(
        "var cell = document.querySelector('#f-dead td.payload'); return cell ? [cell.textContent, cell.children.length] : null;",
    );
    assert!(dead[0].as_str().unwrap().contains("<img src=x"), "{dead}");
    assert_eq!(dead[1], 0);
    assert_eq!(
        browser.js("return typeof window.__sentiflow_pwned"),
        "undefined"
    );
    browser.screenshot("dashboard-process.png");
    served.stop("TERM");
}
