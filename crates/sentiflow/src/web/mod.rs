//! The web layer: `/metrics` (Prometheus), `/healthz`, `/readyz` and the live
//! dashboard, served with axum from inside `run`, `process`, `produce` and
//! `serve`.
//!
//! **Architecture Invariant:** the web layer only reads. It reads
//! [`PipelineStats`] (atomics the pipeline writes anyway: nothing is added to
//! the hot path) and the stores' read paths (`sinks::sqlite::DashboardReader`,
//! `sinks::cassandra::Dashboard`, `kafka::admin`); the pipeline, the sources
//! and the sinks never import it. Metrics are computed at scrape time from
//! those counters; store reads run in one background task, only while someone
//! looks at the dashboard (or always, for `serve`), at most every few seconds
//! and never more than a tenth of the time.
//!
//! - `bind.rs`: the address: exact when given, else the first free port of a range.
//! - `metrics.rs`: the Prometheus collector over the counters.
//! - `health.rs`: liveness and readiness (source connected, sink healthy, probes).
//! - `history.rs`: rates and lag over the last minutes, sampled every 2 s.
//! - `refresh.rs`: the background reads of the store and of Kafka.
//! - `page.rs`: the HTML, rendered on the server (first paint and live fragments).
//! - `server.rs`: the routes.
//! - `client.rs`: a minimal HTTP GET, for `sentiflow healthcheck`.
//! - `assets/`: the vendored chart library (uPlot, MIT) and the page's script and style.

mod bind;
pub mod client;
mod health;
mod history;
mod metrics;
mod page;
mod refresh;
mod server;

use std::sync::Arc;

use futures_util::future::BoxFuture;

pub use bind::{Bind, bind_for};
pub use health::PROBE_TIMEOUT;
pub use server::{Server, start};

use crate::cli::KafkaArgs;
use crate::pipeline::PipelineStats;
use crate::sinks::cassandra::Dashboard as CassandraDashboard;
use crate::sinks::sqlite::DashboardReader;

/// What to serve, decided by the command.
pub struct Plan {
    /// The command serving: `run`, `process`, `produce` or `serve`.
    pub command: &'static str,
    pub bind: Bind,
    /// A second address serving only `/metrics`, `/healthz` and `/readyz` (`serve` in a
    /// container: the dashboard on one port, metrics and health on the usual one).
    pub metrics_bind: Option<Bind>,
    /// Serve the dashboard (`/`, `/api/...`) as well as the metrics.
    pub dashboard: bool,
    /// The store the dashboard reads.
    pub store: Option<Store>,
    /// The Kafka topic and group the dashboard describes.
    pub kafka: Option<KafkaTarget>,
    /// Checks that must pass for `/readyz` (besides the pipeline's own flags).
    pub probes: Vec<Probe>,
}

/// A store's read path.
#[derive(Clone)]
pub enum Store {
    Sqlite(Arc<DashboardReader>),
    Cassandra(Arc<CassandraDashboard>),
}

/// The Kafka side of the distributed pipeline.
#[derive(Clone, Debug)]
pub struct KafkaTarget {
    pub args: KafkaArgs,
    pub group: String,
    pub dead_letter_topic: String,
    /// Read offsets and lag from Kafka itself (`serve`, which has no
    /// consumer of its own to ask).
    pub read_offsets: bool,
}

/// A named readiness check: `Ok` when the dependency answers.
#[derive(Clone)]
pub struct Probe {
    pub name: &'static str,
    pub check: Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>,
}

impl Probe {
    pub fn new<F>(name: &'static str, check: F) -> Probe
    where
        F: Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync + 'static,
    {
        Probe {
            name,
            check: Arc::new(check),
        }
    }
}

/// The live counters behind the metrics, if the command has any.
#[derive(Clone)]
pub enum Live {
    /// `serve`: everything comes from the stores.
    None,
    /// `run` and `process`: a pipeline's counters.
    Pipeline(Arc<PipelineStats>),
    /// `produce`: `written` counts confirmed deliveries, `dead_lettered` failed ones.
    Producer(Arc<PipelineStats>),
}
