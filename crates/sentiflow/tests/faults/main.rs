//! The fault tests (`make test-faults`): sentiflow against real clusters with
//! real failures, each scenario ending with an independent audit and printing
//! its figures. They start their own clusters with `scripts/services` in run
//! folders of their own (see `harness.rs`), beside the shared services, and
//! leave them running for the next scenario (`make test-faults` stops them).
//! See docs/faults.md for what each scenario proves and what it does not.
//!
//! Not part of `cargo test`: this target has `test = false`; run it with
//! `cargo test -p sentiflow --test faults -- --test-threads 1 --nocapture`.

// Helpers shared with the integration tests: running the binary, outputs.
#[path = "../util.rs"]
#[allow(dead_code)]
mod util;

// Clusters, the audit, background processes, figures (some for the soak only).
#[allow(dead_code)]
mod harness;

// 1. A partition leader killed mid-run (RF 3, min.insync.replicas 2).
mod broker_loss;

// 2. The original stack's settings (RF 2, min.insync.replicas 2) losing a broker.
mod original_settings;

// 3. Cassandra nodes lost (RF 3, LOCAL_QUORUM): one, then two, then back.
mod cassandra_loss;

// 4. Two minutes of processors started and stopped at random.
mod storm;

// 6. Everything over SASL_SSL and Cassandra TLS; wrong credentials, unknown CA.
mod security;
