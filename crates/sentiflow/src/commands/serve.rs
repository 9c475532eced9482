//! `sentiflow serve`: the dashboard, /metrics, /healthz and /readyz for a
//! SQLite file (`--db`) or for the distributed pipeline (Kafka + Cassandra),
//! read-only, until Ctrl-C or SIGTERM.

use std::sync::Arc;

use crate::cli::{ConsistencyArg, Listen, ServeArgs};
use crate::shutdown::Shutdown;
use crate::sinks::cassandra::Dashboard;
use crate::sinks::sqlite::DashboardReader;
use crate::web::{self, Bind, KafkaTarget, Live, Plan, Probe, Store};

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let bind = args.listen.map_or(Bind::default_range(), Bind::Exact);
    // Metrics and health also on --metrics-addr, unless it is the same address.
    let metrics_bind = match args.metrics_addr {
        Some(Listen::At(addr)) if Some(addr) != args.listen => Some(Bind::Exact(addr)),
        _ => None,
    };
    let plan = match &args.db {
        Some(db) => Plan {
            command: "serve",
            bind,
            metrics_bind,
            dashboard: true,
            store: Some(Store::Sqlite(Arc::new(DashboardReader::open(db)?))),
            kafka: None,
            probes: Vec::new(),
        },
        None => {
            // Fail early, with advice, when a service or the topic is missing.
            tokio::task::block_in_place(|| crate::kafka::require_topic(&args.kafka))?;
            let options = super::cassandra_options(&args.cassandra, ConsistencyArg::One, 1);
            let dashboard = Arc::new(Dashboard::open(&options).await?);
            let probed = Arc::clone(&dashboard);
            Plan {
                command: "serve",
                bind,
                metrics_bind,
                dashboard: true,
                store: Some(Store::Cassandra(dashboard)),
                kafka: Some(KafkaTarget {
                    args: args.kafka.clone(),
                    group: args.group.group.clone(),
                    dead_letter_topic: args.kafka.dead_letter_topic(&args.dead_letters),
                    read_offsets: true,
                }),
                probes: vec![Probe::new("cassandra", move || {
                    let dashboard = Arc::clone(&probed);
                    Box::pin(async move { dashboard.ping(web::PROBE_TIMEOUT).await })
                })],
            }
        }
    };
    let (trigger, shutdown) = Shutdown::new();
    trigger.on_signals();
    let server = web::start(plan, Live::None).await?;
    shutdown.requested().await;
    server.stop().await;
    Ok(())
}
