//! Liveness and readiness.
//!
//! `/healthz` answers 200 while the process serves at all. `/readyz` answers
//! 200 only while progress is possible: the source reaches its input, the
//! sink's last write succeeded, and every probe (e.g. a Cassandra query)
//! answered within its timeout. Probes run in one background task every
//! [`PROBE_EVERY`], never per request, so a scraper cannot load the stores.

use std::sync::Mutex;
use std::time::Duration;

use futures_util::future::join_all;

use super::{Live, Probe};

/// How often the probes run.
pub const PROBE_EVERY: Duration = Duration::from_secs(2);

/// How long a probe may take before it counts as failed.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The latest probe results.
#[derive(Debug, Default)]
pub struct Health {
    /// Why each failing probe failed (empty: all passed). `None` before the first run.
    failures: Mutex<Option<Vec<String>>>,
}

impl Health {
    /// Runs every probe once, concurrently, and keeps the failures.
    pub async fn probe(&self, probes: &[Probe]) {
        let runs = probes.iter().map(|probe| async move {
            match tokio::time::timeout(PROBE_TIMEOUT, (probe.check)()).await {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(format!("{}: {error}", probe.name)),
                Err(_) => Some(format!(
                    "{}: no answer within {PROBE_TIMEOUT:?}",
                    probe.name
                )),
            }
        });
        let failures: Vec<String> = join_all(runs).await.into_iter().flatten().collect();
        *self.failures.lock().unwrap_or_else(|p| p.into_inner()) = Some(failures);
    }

    /// Why the process is not ready; empty when it is.
    pub fn reasons(&self, live: &Live, has_probes: bool) -> Vec<String> {
        let mut reasons = Vec::new();
        if let Live::Pipeline(stats) = live {
            if !stats.source.connected.get() {
                reasons.push(format!(
                    "{}: cannot reach its input",
                    stats.components.source
                ));
            }
            if !stats.sink_healthy.get() {
                reasons.push(format!(
                    "{}: the last write failed (retrying)",
                    stats.components.sink
                ));
            }
        }
        match &*self.failures.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(failures) => reasons.extend(failures.iter().cloned()),
            None if has_probes => reasons.push("starting: first checks not done yet".into()),
            None => {}
        }
        reasons
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::stats::{Components, PipelineStats};

    #[tokio::test]
    async fn ready_needs_the_source_the_sink_and_every_probe() {
        let stats = Arc::new(PipelineStats::new(Components {
            source: "kafka_source",
            sink: "cassandra_sink",
            dead_letters: "dead_letter_topic",
        }));
        let live = Live::Pipeline(Arc::clone(&stats));
        let health = Health::default();
        let ok = Probe::new("ok", || Box::pin(async { Ok(()) }));
        let down = Probe::new("cassandra", || {
            Box::pin(async { Err("refused".to_owned()) })
        });
        assert_eq!(
            health.reasons(&live, true),
            ["starting: first checks not done yet"]
        );
        health.probe(std::slice::from_ref(&ok)).await;
        assert!(health.reasons(&live, true).is_empty());
        stats.sink_healthy.set(false);
        stats.source.connected.set(false);
        health.probe(&[ok, down]).await;
        assert_eq!(
            health.reasons(&live, true),
            [
                "kafka_source: cannot reach its input",
                "cassandra_sink: the last write failed (retrying)",
                "cassandra: refused"
            ]
        );
    }
}
